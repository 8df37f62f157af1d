//! What a prediction told a trader when it was made: the model's confidence threshold
//! (`signal_threshold`: LONG/SHORT at or above it, FLAT below) and the walk-forward accuracy of
//! predictions at least as confident (`band_accuracy`). Both come from the model's card and are
//! recorded with the prediction, so a later model (or a new threshold) never rewrites what was
//! published. Absent for rows stored before.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for column in [Predictions::SignalThreshold, Predictions::BandAccuracy] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Predictions::Table)
                        .add_column(double_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Predictions::BandAccuracy, Predictions::SignalThreshold] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Predictions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Predictions {
    Table,
    SignalThreshold,
    BandAccuracy,
}
