//! Indexes for every filter and order the API and the jobs use on `predictions`, so no request
//! scans the table. Already there from the initial schema: (coin, horizon, made_at), unique (the
//! newest prediction, `made_since`, history pages of one coin and horizon) and (outcome,
//! target_at) (scoring: pending rows whose target has passed). Candles are read through their
//! primary key (coin, interval_s, ts).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, columns) of each index this migration adds.
const INDEXES: [(&str, &[Predictions]); 3] = [
    // Live accuracy: the scored live (or backfilled) rows of a coin and horizon since a time.
    (
        "idx_predictions_accuracy",
        &[
            Predictions::Coin,
            Predictions::Horizon,
            Predictions::Backfilled,
            Predictions::Outcome,
            Predictions::MadeAt,
        ],
    ),
    // The event stream: rows scored after a (scored_at, id) cursor, in that order; the newest score.
    (
        "idx_predictions_scored_at_id",
        &[Predictions::ScoredAt, Predictions::Id],
    ),
    // History pages over every coin and horizon (or one coin): made_at ranges, newest first.
    ("idx_predictions_made_at", &[Predictions::MadeAt]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, columns) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(Predictions::Table).if_not_exists();
            for c in columns {
                index.col(*c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Predictions::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Predictions {
    Table,
    Coin,
    Horizon,
    Backfilled,
    Outcome,
    MadeAt,
    ScoredAt,
    Id,
}
