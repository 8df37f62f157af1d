//! An index for live accuracy read across coins: the scored live (or backfilled) rows of one
//! horizon in a `made_at` range, grouped by coin, version and block
//! (`db::predictions::scored_sums_by_block`, what the published state's `LiveAccuracy` loads and
//! re-reads). Without it the planner takes (outcome, target_at) and walks every scored row of
//! every horizon for each of a rebuild's 36 window reads.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_predictions_horizon_accuracy";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(Predictions::Table)
                    .if_not_exists()
                    .col(Predictions::Horizon)
                    .col(Predictions::Backfilled)
                    .col(Predictions::Outcome)
                    .col(Predictions::MadeAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(Predictions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Predictions {
    Table,
    Horizon,
    Backfilled,
    Outcome,
    MadeAt,
}
