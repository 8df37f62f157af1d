//! Pruning of apalis's job rows: a tick a minute would otherwise grow the job table forever.

use sea_orm::{ConnectionTrait, DbBackend};

use crate::clock::DAY_S;

/// Finished job rows are kept this long (for inspection), seconds.
pub const KEEP_FINISHED_S: i64 = DAY_S;

/// Deletes job rows finished more than [`KEEP_FINISHED_S`] before `now`. Failed jobs stay for
/// inspection. A failure here is only logged.
pub async fn finished_jobs(db: &impl ConnectionTrait, now: i64) {
    let cutoff = now - KEEP_FINISHED_S;
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => format!("DELETE FROM Jobs WHERE status = 'Done' AND done_at < {cutoff}"),
        DbBackend::Postgres => {
            format!("DELETE FROM apalis.jobs WHERE status = 'Done' AND done_at < to_timestamp({cutoff})")
        }
        _ => return,
    };
    match db.execute_unprepared(&sql).await {
        Ok(r) => tracing::debug!(deleted = r.rows_affected(), "pruned finished jobs"),
        Err(e) => tracing::warn!(error = %e, "could not prune finished jobs"),
    }
}
