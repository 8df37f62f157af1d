//! The event stream's one sequence, and when each prediction was published.
//!
//! `events`: one row per event the stream sends (a new prediction, a score, a coin's newest
//! minute), numbered by one auto-increment id on both SQLite and PostgreSQL. The writer records
//! them when it commits, so an event has the same id before and after a client's resume, whichever
//! process serves the stream; `subject` is the prediction's id (for `prediction` and `score`) or
//! the minute's open time (for `price`), unique per kind and coin, so recording twice is a no-op.
//! `predictions.published_at`: when the row was stored (absent for older rows).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Predictions::Table)
                    .add_column(big_integer_null(Predictions::PublishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .if_not_exists()
                    .col(big_integer(Events::Id).auto_increment().primary_key())
                    .col(string_len(Events::Kind, 16))
                    .col(string_len(Events::Coin, 8))
                    .col(string_len_null(Events::Horizon, 8))
                    .col(big_integer(Events::Subject))
                    .col(double_null(Events::Price))
                    .col(big_integer(Events::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_events_subject")
                    .table(Events::Table)
                    .col(Events::Kind)
                    .col(Events::Coin)
                    .col(Events::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Pruning by age.
        manager
            .create_index(
                Index::create()
                    .name("idx_events_at")
                    .table(Events::Table)
                    .col(Events::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Events::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Predictions::Table)
                    .drop_column(Predictions::PublishedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Predictions {
    Table,
    PublishedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    Kind,
    Coin,
    Horizon,
    Subject,
    Price,
    At,
}
