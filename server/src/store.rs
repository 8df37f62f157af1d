//! Writing what collectors fetched and how they fared: idempotent upserts of series points, the
//! per-source health rows behind `GET /api/sources`, and small named values (`app_meta`).

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use crate::collectors::Point;
use crate::entities::{app_meta, series_point, source_status};

/// Upserts points of one series: re-fetching the same timestamp overwrites it (never duplicates).
pub async fn upsert_series(
    db: &impl ConnectionTrait,
    series: &str,
    source: &str,
    points: &[Point],
) -> Result<(), DbErr> {
    let fetched_at = Utc::now().timestamp();
    for chunk in points.chunks(1000) {
        let rows = chunk.iter().map(|p| series_point::ActiveModel {
            series: Set(series.to_owned()),
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
    series: &str,
    from: i64,
    to: i64,
) -> Result<Vec<models::series::Observation>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    Ok(series_point::Entity::find()
        .filter(series_point::Column::Series.eq(series))
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

/// Records a successful collection; `latest_data_at` is the newest data point it stored (kept
/// when the run brought nothing newer).
pub async fn record_success(
    db: &impl ConnectionTrait,
    source: &str,
    latest_data_at: Option<i64>,
) -> Result<(), DbErr> {
    let now = Utc::now().timestamp();
    let previous = source_status::Entity::find_by_id(source.to_owned())
        .one(db)
        .await?;
    let latest = match (previous.as_ref().and_then(|p| p.latest_data_at), latest_data_at) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let row = source_status::ActiveModel {
        source: Set(source.to_owned()),
        last_success_at: Set(Some(now)),
        last_error_at: Set(previous.as_ref().and_then(|p| p.last_error_at)),
        last_error: Set(previous.and_then(|p| p.last_error)),
        consecutive_failures: Set(0),
        latest_data_at: Set(latest),
        updated_at: Set(now),
    };
    upsert_status(db, row).await
}

/// Records a failed collection: the message, and one more consecutive failure.
pub async fn record_failure(db: &impl ConnectionTrait, source: &str, error: &str) -> Result<(), DbErr> {
    let now = Utc::now().timestamp();
    let previous = source_status::Entity::find_by_id(source.to_owned())
        .one(db)
        .await?;
    let row = source_status::ActiveModel {
        source: Set(source.to_owned()),
        last_success_at: Set(previous.as_ref().and_then(|p| p.last_success_at)),
        last_error_at: Set(Some(now)),
        last_error: Set(Some(error.chars().take(500).collect())),
        consecutive_failures: Set(previous
            .as_ref()
            .map_or(0, |p| p.consecutive_failures)
            .saturating_add(1)),
        latest_data_at: Set(previous.and_then(|p| p.latest_data_at)),
        updated_at: Set(now),
    };
    upsert_status(db, row).await
}

async fn upsert_status(db: &impl ConnectionTrait, row: source_status::ActiveModel) -> Result<(), DbErr> {
    source_status::Entity::insert(row)
        .on_conflict(
            OnConflict::column(source_status::Column::Source)
                .update_columns([
                    source_status::Column::LastSuccessAt,
                    source_status::Column::LastErrorAt,
                    source_status::Column::LastError,
                    source_status::Column::ConsecutiveFailures,
                    source_status::Column::LatestDataAt,
                    source_status::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Every stored source status row.
pub async fn all_statuses(db: &impl ConnectionTrait) -> Result<Vec<source_status::Model>, DbErr> {
    source_status::Entity::find().all(db).await
}

/// A named value, if set.
pub async fn meta_get(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, DbErr> {
    Ok(app_meta::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .map(|m| m.value))
}

/// Sets a named value.
pub async fn meta_set(db: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), DbErr> {
    let row = app_meta::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
        updated_at: Set(Utc::now().timestamp()),
    };
    app_meta::Entity::insert(row)
        .on_conflict(
            OnConflict::column(app_meta::Column::Key)
                .update_columns([app_meta::Column::Value, app_meta::Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
