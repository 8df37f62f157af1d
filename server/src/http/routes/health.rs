//! `GET /api/health`: is the service up, and can it reach its database?

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, ResponseError, get, web};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use shared::{ApiErrorBody, DatabaseHealth, HealthResponse, HealthStatus, SourceState};
use utoipa::IntoParams;

use crate::collect::sources;
use crate::db;
use crate::http::state::AppState;
use crate::jobs;

/// The response header of `/api/health` that says how this process hears other processes'
/// changes.
pub const CHANGES_HEADER: &str = "coincast-changes";

/// Query of `GET /api/health`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HealthQuery {
    /// `true` (or `1`): check the database now (a readiness probe); by default the answer reuses a check at
    /// most a second old, so health under load costs no database work.
    #[param(value_type = Option<bool>)]
    pub deep: Option<String>,
}

/// Published answers older than this are stale: every process rebuilds them at least once a
/// minute (after each job run where the jobs run, `published::FULL_REFRESH` in a watcher), so a
/// snapshot three minutes old means the rebuilds stopped (a watcher that died, a database that
/// stopped answering) and the process serves answers that no longer update.
pub const PUBLISHED_STALE_AFTER_S: i64 = 180;

/// Whether answers built at `built_at` (none yet: `None`) are stale at `now`.
pub fn published_stale(built_at: Option<i64>, now: i64) -> bool {
    built_at.is_none_or(|b| now - b > PUBLISHED_STALE_AFTER_S)
}

/// Service health: version, database reachability, uptime, data mode, failing sources and the
/// scheduled jobs' last runs.
///
/// Returns 200 when everything answers and 503 (with the same body, `status: degraded`) when the
/// database does not, when this process runs the jobs and the candles or predict job has had
/// no successful run for longer than `jobs.stall_after_s`, or when the answers this process
/// serves have not been rebuilt for three minutes (`published_age_seconds`): a liveness probe can
/// restart it. The database figures come from a check at most a second old (`?deep=1`: one made
/// now).
#[utoipa::path(
    tag = "health",
    params(HealthQuery),
    responses(
        (status = 200, description = "The service and its database answer", body = HealthResponse),
        (status = 503, description = "The database does not answer, or collection or prediction has stalled", body = HealthResponse),
        (status = 500, description = "Unexpected failure", body = ApiErrorBody),
    )
)]
#[get("/api/health")]
pub async fn get_health(state: web::Data<AppState>, query: web::Query<HealthQuery>) -> HttpResponse {
    let deep = match crate::http::routes::params::parse_flag("deep", query.deep.as_deref(), false) {
        Ok(deep) => deep,
        Err(e) => return e.error_response(),
    };
    let checked = state.health.checked(&state, deep).await;
    let Checked {
        reachable,
        known,
        latency_ms,
        migrations_applied,
        failing_sources,
        jobs,
        mode,
    } = (*checked).clone();
    let now = state.clock.now();
    let built_at = state.published.snapshot().map(|s| s.built_at);
    let stale = published_stale(built_at, now);
    if stale {
        tracing::warn!(built_at, "health: the published answers stopped updating");
    }
    let ok = known && !jobs.iter().any(|j| j.stalled) && !stale;
    let body = HealthResponse {
        status: if ok {
            HealthStatus::Ok
        } else {
            HealthStatus::Degraded
        },
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database: DatabaseHealth {
            reachable,
            backend: db::backend_name(&state.db).to_owned(),
            latency_ms,
            migrations_applied: u32::try_from(migrations_applied).unwrap_or(u32::MAX),
            unreadable_prediction_rows: db::predictions::unreadable_rows(),
        },
        started_at: state.started_at,
        uptime_seconds: state.started.elapsed().as_secs(),
        mode,
        failing_sources,
        jobs,
        published_age_seconds: built_at.map(|b| (now - b).max(0)),
    };
    let mut res = if ok {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    // How this process learns of other processes' commits (`listen` on PostgreSQL; `poll` on
    // SQLite without jobs, or while the listener is down; `local` when it writes them itself).
    res.insert_header((CHANGES_HEADER, state.changes_mode()));
    res.insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// What `/api/health` reads from the database.
#[derive(Debug, Clone)]
pub struct Checked {
    reachable: bool,
    known: bool,
    latency_ms: f64,
    migrations_applied: usize,
    failing_sources: Vec<String>,
    jobs: Vec<shared::JobHealth>,
    mode: shared::DataMode,
}

/// The last database check of `/api/health`, reused for [`CHECK_EVERY`]: health answers at
/// memory speed however often it is asked, and at most one check a second reaches the database.
#[derive(Default)]
pub struct HealthCache {
    last: tokio::sync::Mutex<Option<(Instant, Arc<Checked>)>>,
}

/// How long one database check answers `/api/health` (`?deep=1` checks every time).
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

impl HealthCache {
    /// The last check when it is recent (and `deep` is off), else a new one (one at a time: the
    /// requests that arrive meanwhile get its result).
    pub async fn checked(&self, state: &AppState, deep: bool) -> Arc<Checked> {
        let asked = Instant::now();
        let mut last = self.last.lock().await;
        if let Some((at, checked)) = last.as_ref() {
            // Fresh, or made while this request waited for the lock.
            if (!deep && at.elapsed() < CHECK_EVERY) || *at >= asked {
                return checked.clone();
            }
        }
        let checked = Arc::new(check(state).await);
        *last = Some((Instant::now(), checked.clone()));
        checked
    }
}

/// Reads the database's health: reachability, migrations, failing sources, the jobs, the mode.
async fn check(state: &AppState) -> Checked {
    let started = Instant::now();
    let ping = state.db.execute_unprepared("SELECT 1").await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Err(e) = &ping {
        tracing::warn!(error = %e, "health: the database does not answer");
    }
    let mut reachable = ping.is_ok();
    // Every figure below is read only when the database answers; a read that fails makes the
    // answer `degraded` rather than a guess ("no failing sources", "live").
    let mut known = reachable;
    let migrations_applied = if reachable {
        match db::applied_migrations(&state.db).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "health: could not read the migrations");
                known = false;
                0
            }
        }
    } else {
        0
    };
    let failing_sources = if reachable {
        match sources::health(&state.db, &state.sources, state.clock.now()).await {
            Ok(all) => all
                .into_iter()
                .filter(|s| matches!(s.state, SourceState::Failing | SourceState::Stale))
                .map(|s| s.source)
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "health: could not read the sources");
                known = false;
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let jobs = if reachable {
        let since = state.started_at.timestamp();
        match jobs::health(
            &state.db,
            &state.jobs_expected,
            state.jobs_enabled,
            state.stall_after_s,
            since,
            state.clock.now(),
        )
        .await
        {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "health: could not read the jobs");
                known = false;
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let stalled: Vec<&str> = jobs
        .iter()
        .filter(|j| j.stalled)
        .map(|j| j.job.as_str())
        .collect();
    if !stalled.is_empty() {
        tracing::warn!(jobs = ?stalled, "health: jobs have stalled");
    }
    let mode = match state.mode().await {
        Ok(mode) => mode,
        Err(e) => {
            tracing::warn!(error = %e, "health: could not read the data mode");
            reachable &= !matches!(e, sea_orm::DbErr::Conn(_) | sea_orm::DbErr::ConnectionAcquire(_));
            known = false;
            state.mode_without_db()
        }
    };
    Checked {
        reachable,
        known,
        latency_ms,
        migrations_applied,
        failing_sources,
        jobs,
        mode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_not_rebuilt_for_three_minutes_are_stale() {
        let now = 1_800_000_000;
        assert!(!published_stale(Some(now - 59), now));
        assert!(!published_stale(Some(now - PUBLISHED_STALE_AFTER_S), now));
        assert!(published_stale(Some(now - PUBLISHED_STALE_AFTER_S - 1), now));
        assert!(published_stale(None, now), "never built: nothing to serve");
    }
}
