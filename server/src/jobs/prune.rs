//! Pruning: apalis's job rows (a tick a minute per job would otherwise grow the job table
//! forever) and, when retention is configured, old predictions and candles. Every delete runs in
//! batches of [`BATCH`] rows (short write locks: the API and the jobs keep going between two), at
//! most [`MAX_BATCHES`] per table and run; what is left goes with the next run.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};

use crate::clock::{DAY_S, HOUR_S};
use crate::config::RetentionSettings;

/// Rows deleted by one statement.
pub const BATCH: i64 = 5_000;
/// Statements per table and run (so one run is bounded: at most `BATCH * MAX_BATCHES` rows).
pub const MAX_BATCHES: u32 = 200;

/// How long stream events are kept: a resume replays at most the newest 1,000 events anyway
/// (`http::events::MAX_RESUME`, a few hours at the default cadences); older ones only tell a
/// resuming client what it skipped.
pub const EVENTS_KEEP_S: i64 = 2 * DAY_S;

/// What one pruning run deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Job rows finished (`Done`) before their bound.
    pub done_jobs: u64,
    /// Job rows in any other state (`Failed`, `Killed`, or never finished) older than theirs.
    pub other_jobs: u64,
    pub predictions: u64,
    pub candles: u64,
    /// Stream events older than [`EVENTS_KEEP_S`].
    pub events: u64,
}

/// Applies every bound of `retention` at `now`: job rows always, predictions and candles when
/// their retention is set (days > 0).
pub async fn run(
    db: &impl ConnectionTrait,
    retention: &RetentionSettings,
    now: i64,
) -> Result<Pruned, DbErr> {
    let mut pruned = Pruned::default();
    let done_cutoff = now - retention.done_jobs_hours.max(0) * HOUR_S;
    let other_cutoff = now - retention.failed_jobs_days.max(0) * DAY_S;
    // The job tables are apalis's: their names and time columns differ by backend; the status is
    // apalis's own `Status`, stored as its `Display`.
    let done_status = apalis::prelude::Status::Done;
    let (done, other) = match db.get_database_backend() {
        DbBackend::Sqlite => (
            format!("status = '{done_status}' AND done_at < {done_cutoff}"),
            format!("status <> '{done_status}' AND COALESCE(done_at, run_at) < {other_cutoff}"),
        ),
        DbBackend::Postgres => (
            format!("status = '{done_status}' AND done_at < to_timestamp({done_cutoff})"),
            format!("status <> '{done_status}' AND COALESCE(done_at, run_at) < to_timestamp({other_cutoff})"),
        ),
        _ => return Ok(pruned),
    };
    let jobs = match db.get_database_backend() {
        DbBackend::Postgres => "apalis.jobs",
        _ => "Jobs",
    };
    if table_exists(db, jobs).await? {
        pruned.done_jobs = batched(db, jobs, "id", "id", &done).await?;
        pruned.other_jobs = batched(db, jobs, "id", "id", &other).await?;
    }
    if retention.predictions_days > 0 {
        let cutoff = now - retention.predictions_days * DAY_S;
        let filter = format!("made_at < {cutoff}");
        pruned.predictions = batched(db, "predictions", "id", "id", &filter).await?;
    }
    let filter = format!("at < {}", now - EVENTS_KEEP_S);
    pruned.events = batched(db, "events", "id", "id", &filter).await?;
    if retention.candles_days > 0 {
        let cutoff = now - retention.candles_days * DAY_S;
        let key = "(coin, interval_s, ts)";
        let filter = format!("ts < {cutoff}");
        pruned.candles = batched(db, "candles", key, "coin, interval_s, ts", &filter).await?;
    }
    Ok(pruned)
}

/// Deletes the rows of `table` matching `filter`, `BATCH` at a time (by `key`, selected as
/// `select`), until none is left or `MAX_BATCHES` statements ran; returns how many went.
async fn batched(
    db: &impl ConnectionTrait,
    table: &str,
    key: &str,
    select: &str,
    filter: &str,
) -> Result<u64, DbErr> {
    let sql = format!(
        "DELETE FROM {table} WHERE {key} IN (SELECT {select} FROM {table} WHERE {filter} LIMIT {BATCH})"
    );
    let mut deleted = 0;
    for _ in 0..MAX_BATCHES {
        let n = db.execute_unprepared(&sql).await?.rows_affected();
        deleted += n;
        if n < BATCH.unsigned_abs() {
            break;
        }
        tokio::task::yield_now().await;
    }
    Ok(deleted)
}

/// Whether apalis has created its job table yet (it does when the jobs start).
async fn table_exists(db: &impl ConnectionTrait, table: &str) -> Result<bool, DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => format!("SELECT to_regclass('{table}') IS NOT NULL"),
        _ => format!("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{table}')"),
    };
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<bool>(0)?,
        None => false,
    })
}
