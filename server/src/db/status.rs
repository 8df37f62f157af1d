//! The per-source health rows behind `GET /api/sources` (and the prediction attempts' rows):
//! how each source (`SourceId`) fared on its last runs.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use crate::db::entities::source_status;
use crate::ids::SourceId;

/// Records a successful collection; `latest_data_at` is the newest data point it stored (kept
/// when the run brought nothing newer). One upsert, no read first: two processes recording at
/// once (on PostgreSQL) cannot undo each other's newer data time or error.
pub async fn record_success(
    db: &impl ConnectionTrait,
    source: SourceId,
    latest_data_at: Option<i64>,
    now: i64,
) -> Result<(), DbErr> {
    record_successes_at(db, &[source], latest_data_at, now).await
}

/// The newer of the stored `latest_data_at` and the one being written (a NULL on either side
/// keeps the other), in SQL both backends run (no `GREATEST`/`MAX(a, b)`, which differ).
fn newer_data_time() -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::cust(
        "CASE WHEN excluded.latest_data_at IS NULL THEN source_status.latest_data_at \
         WHEN source_status.latest_data_at IS NULL \
           OR source_status.latest_data_at < excluded.latest_data_at THEN excluded.latest_data_at \
         ELSE source_status.latest_data_at END",
    )
}

/// Records, in one statement, a success of each source: failures reset, the newest data time
/// kept (see [`newer_data_time`]), the last error kept.
async fn record_successes_at(
    db: &impl ConnectionTrait,
    sources: &[SourceId],
    latest_data_at: Option<i64>,
    now: i64,
) -> Result<(), DbErr> {
    if sources.is_empty() {
        return Ok(());
    }
    let rows = sources.iter().map(|s| source_status::ActiveModel {
        source: Set(s.to_string()),
        last_success_at: Set(Some(now)),
        last_error_at: Set(None),
        last_error: Set(None),
        consecutive_failures: Set(0),
        latest_data_at: Set(latest_data_at),
        updated_at: Set(now),
    });
    source_status::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(source_status::Column::Source)
                .update_columns([
                    source_status::Column::LastSuccessAt,
                    source_status::Column::ConsecutiveFailures,
                    source_status::Column::UpdatedAt,
                ])
                .value(source_status::Column::LatestDataAt, newer_data_time())
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Records a failed collection: the message, and one more consecutive failure (one upsert, no
/// read first: see [`record_failures`]).
pub async fn record_failure(
    db: &impl ConnectionTrait,
    source: SourceId,
    error: &str,
    now: i64,
) -> Result<(), DbErr> {
    record_failures(db, &[(source, error.to_owned())], now).await
}

/// Every stored status row.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<source_status::Model>, DbErr> {
    source_status::Entity::find().all(db).await
}

/// The status row of one source, if it has one.
pub async fn get(db: &impl ConnectionTrait, source: SourceId) -> Result<Option<source_status::Model>, DbErr> {
    source_status::Entity::find_by_id(source.to_string())
        .one(db)
        .await
}

/// Records, in one statement, a success of each source at `now` whose newest data time is `at`,
/// keeping each row's last error: what a prediction tick writes for the models that predicted.
pub async fn record_successes(
    db: &impl ConnectionTrait,
    sources: &[SourceId],
    at: i64,
    now: i64,
) -> Result<(), DbErr> {
    record_successes_at(db, sources, Some(at), now).await
}

/// Records, in one statement, a failure of each source with its message (one more consecutive
/// failure each, success times kept): what a prediction tick writes for the models that did not.
pub async fn record_failures(
    db: &impl ConnectionTrait,
    failures: &[(SourceId, String)],
    now: i64,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    if failures.is_empty() {
        return Ok(());
    }
    let rows = failures.iter().map(|(s, error)| source_status::ActiveModel {
        source: Set(s.to_string()),
        last_success_at: Set(None),
        last_error_at: Set(Some(now)),
        last_error: Set(Some(error.chars().take(500).collect())),
        consecutive_failures: Set(1),
        latest_data_at: Set(None),
        updated_at: Set(now),
    });
    source_status::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(source_status::Column::Source)
                .update_columns([
                    source_status::Column::LastErrorAt,
                    source_status::Column::LastError,
                    source_status::Column::UpdatedAt,
                ])
                .value(
                    source_status::Column::ConsecutiveFailures,
                    Expr::col((source_status::Entity, source_status::Column::ConsecutiveFailures)).add(1),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// When any status row last changed (a cheap "did a collector run" check).
pub async fn last_update(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    use sea_orm::{
        QuerySelect,
        sea_query::{Expr, Func},
    };
    source_status::Entity::find()
        .select_only()
        .expr(Func::max(Expr::col(source_status::Column::UpdatedAt)))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await
        .map(Option::flatten)
}
