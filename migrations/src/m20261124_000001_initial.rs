//! The initial schema: market data (candles, series points), source health and predictions.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // OHLCV bars exactly as a source reported them. Gaps stay gaps: they are filled (and flagged)
        // at read time, never in storage. `interval_s` is the bar size (60 for live minute candles,
        // 3600 for imported hourly history), part of the key so different bar sizes never collide.
        manager
            .create_table(
                Table::create()
                    .table(Candles::Table)
                    .if_not_exists()
                    .col(string_len(Candles::Coin, 8))
                    .col(integer(Candles::IntervalS))
                    .col(big_integer(Candles::Ts))
                    .col(double(Candles::Open))
                    .col(double(Candles::High))
                    .col(double(Candles::Low))
                    .col(double(Candles::Close))
                    .col(double(Candles::Volume))
                    .col(string_len(Candles::Source, 64))
                    .col(big_integer(Candles::FetchedAt))
                    .primary_key(
                        Index::create()
                            .col(Candles::Coin)
                            .col(Candles::IntervalS)
                            .col(Candles::Ts),
                    )
                    .to_owned(),
            )
            .await?;

        // Any other time series (mempool size, transactions per second, tweets, gold, S&P 500, ...),
        // one value per (series, timestamp).
        manager
            .create_table(
                Table::create()
                    .table(SeriesPoints::Table)
                    .if_not_exists()
                    .col(string_len(SeriesPoints::Series, 64))
                    .col(big_integer(SeriesPoints::Ts))
                    .col(double(SeriesPoints::Value))
                    .col(string_len(SeriesPoints::Source, 64))
                    .col(big_integer(SeriesPoints::FetchedAt))
                    .primary_key(Index::create().col(SeriesPoints::Series).col(SeriesPoints::Ts))
                    .to_owned(),
            )
            .await?;

        // Health of each upstream source, updated by every collector run.
        manager
            .create_table(
                Table::create()
                    .table(SourceStatus::Table)
                    .if_not_exists()
                    .col(string_len(SourceStatus::Source, 64).primary_key())
                    .col(big_integer_null(SourceStatus::LastSuccessAt))
                    .col(big_integer_null(SourceStatus::LastErrorAt))
                    .col(text_null(SourceStatus::LastError))
                    .col(integer(SourceStatus::ConsecutiveFailures).default(0))
                    .col(big_integer_null(SourceStatus::LatestDataAt))
                    .col(big_integer(SourceStatus::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        // Every prediction made, and its outcome once its horizon has passed.
        manager
            .create_table(
                Table::create()
                    .table(Predictions::Table)
                    .if_not_exists()
                    .col(big_integer(Predictions::Id).auto_increment().primary_key())
                    .col(string_len(Predictions::Coin, 8))
                    .col(string_len(Predictions::Horizon, 8))
                    .col(big_integer(Predictions::MadeAt))
                    .col(big_integer(Predictions::TargetAt))
                    .col(double(Predictions::PUp))
                    .col(double(Predictions::ReferencePrice))
                    .col(string_len(Predictions::ModelId, 128))
                    .col(boolean(Predictions::Backfilled).default(false))
                    .col(string_len(Predictions::Outcome, 16).default("pending"))
                    .col(double_null(Predictions::RealizedPrice))
                    .col(double_null(Predictions::RealizedReturn))
                    .col(boolean_null(Predictions::Correct))
                    .col(big_integer_null(Predictions::ScoredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_predictions_coin_horizon_made_at")
                    .table(Predictions::Table)
                    .col(Predictions::Coin)
                    .col(Predictions::Horizon)
                    .col(Predictions::MadeAt)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_predictions_outcome_target_at")
                    .table(Predictions::Table)
                    .col(Predictions::Outcome)
                    .col(Predictions::TargetAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Predictions::Table.into_iden(),
            SourceStatus::Table.into_iden(),
            SeriesPoints::Table.into_iden(),
            Candles::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Candles {
    Table,
    Coin,
    IntervalS,
    Ts,
    Open,
    High,
    Low,
    Close,
    Volume,
    Source,
    FetchedAt,
}

#[derive(DeriveIden)]
enum SeriesPoints {
    Table,
    Series,
    Ts,
    Value,
    Source,
    FetchedAt,
}

#[derive(DeriveIden)]
enum SourceStatus {
    Table,
    Source,
    LastSuccessAt,
    LastErrorAt,
    LastError,
    ConsecutiveFailures,
    LatestDataAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Predictions {
    Table,
    Id,
    Coin,
    Horizon,
    MadeAt,
    TargetAt,
    PUp,
    ReferencePrice,
    ModelId,
    Backfilled,
    Outcome,
    RealizedPrice,
    RealizedReturn,
    Correct,
    ScoredAt,
}
