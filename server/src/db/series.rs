//! Series points (mempool, TPS, tweets, markets): idempotent upserts and reads.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::db::entities::series_point;
use crate::ids::Point;
use crate::ids::SeriesId;

/// Upserts points of one series fetched at `fetched_at`: re-fetching the same timestamp overwrites
/// it (never duplicates).
pub async fn upsert_series(
    db: &impl ConnectionTrait,
    series: SeriesId,
    source: &str,
    points: &[Point],
    fetched_at: i64,
) -> Result<(), DbErr> {
    for chunk in points.chunks(1000) {
        let rows = chunk.iter().map(|p| series_point::ActiveModel {
            series: Set(series.as_str().to_owned()),
            ts: Set(p.ts),
            value: Set(p.value),
            source: Set(source.to_owned()),
            fetched_at: Set(fetched_at),
        });
        series_point::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([series_point::Column::Series, series_point::Column::Ts])
                    .update_columns([
                        series_point::Column::Value,
                        series_point::Column::Source,
                        series_point::Column::FetchedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The stored points of a series within `[from, to]`, oldest first, as the feature pipeline takes them.
pub async fn read_series(
    db: &impl ConnectionTrait,
    series: SeriesId,
    from: i64,
    to: i64,
) -> Result<Vec<models::series::Observation>, DbErr> {
    Ok(series_point::Entity::find()
        .filter(series_point::Column::Series.eq(series.as_str()))
        .filter(series_point::Column::Ts.gte(from))
        .filter(series_point::Column::Ts.lte(to))
        .order_by_asc(series_point::Column::Ts)
        .all(db)
        .await?
        .into_iter()
        .map(|r| models::series::Observation {
            ts: r.ts,
            value: r.value,
        })
        .collect())
}
