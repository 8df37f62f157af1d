//! The apalis workers: one per job, a cron schedule piped into the job table, each tick handled
//! by [`handle_tick`] (with retries), supervised so a worker that stops is started again.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::task::JoinHandle;

use crate::config::JobsSettings;
use crate::jobs::{BACKFILL_STEP_S, Job, Runner, retry};
use crate::predict;

/// The running workers; dropping it stops them (and releases the SQLite job lock).
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
    /// Held while this process runs the jobs on a SQLite file (see [`take_over_registrations`]).
    _lock: Option<std::fs::File>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        for h in &self.handles {
            h.abort();
        }
    }
}

/// What a worker's handler gets with each tick.
#[derive(Clone)]
pub struct JobCtx {
    pub runner: Arc<Runner>,
    pub job: Job,
    pub retries: usize,
    pub backoff: Duration,
}

/// One cron tick of a job: runs it, retrying a failed run up to `retries` times after a backoff
/// that doubles (with jitter, at most a minute). When every attempt failed the task ends as
/// aborted (apalis does not run it again: the next tick will), and the failure is in the sources'
/// health. Tests call this directly rather than waiting for a cron to fire.
pub async fn handle_tick(tick: Tick, ctx: Data<JobCtx>) -> Result<(), BoxDynError> {
    let job = ctx.job.name();
    tracing::debug!(job, tick = tick.get_timestamp(), "job run");
    let result = retry::with_backoff(job, ctx.retries, ctx.backoff, || ctx.runner.run(ctx.job)).await;
    ctx.runner.record(ctx.job, &result).await;
    result.map_err(|e| -> BoxDynError {
        tracing::warn!(job, error = %e, "job run failed; giving up until the next tick");
        Box::new(AbortError::new(e))
    })
}

/// Creates the job tables (apalis's own migrations) and starts the jobs. With
/// `jobs.run_at_start`, the minute candles are caught up first (and the minute they complete is
/// predicted at once, as every stored minute is), and only then do the cron workers start: no
/// tick ever runs on the stale window a restart leaves, and bots get a fresh prediction as soon
/// as the catch-up has committed. Then every other job runs once, and predictions are
/// backfilled over `backfill_hours` of stored history.
pub async fn start(
    runner: Arc<Runner>,
    settings: &JobsSettings,
    backfill_hours: i64,
) -> anyhow::Result<Workers> {
    let db = runner.db().clone();
    // While replaying, only candles are collected (the other sources would mix today's series
    // with recorded prices): their sources show as `disabled`. Maintenance runs in every mode.
    let replaying = runner.collectors.replay().is_some();
    let jobs: Vec<Job> = Job::ALL
        .into_iter()
        .filter(|j| j.runs(replaying, runner.registry.is_some()))
        .filter(|&j| j != Job::Retrain || runner.retrain.enabled)
        .collect();
    let mut scheduled = Vec::new();
    for &job in &jobs {
        let cron = match job {
            Job::Candles => &settings.candles_cron,
            Job::Predict => &settings.predict_cron,
            Job::Retrain => &runner.retrain.cron,
            _ => &settings.slow_cron,
        };
        let schedule = cron::Schedule::from_str(cron)
            .with_context(|| format!("jobs: bad cron {cron:?} for {}", job.name()))?;
        let ctx = JobCtx {
            runner: runner.clone(),
            job,
            retries: settings.retries,
            backoff: Duration::from_millis(settings.backoff_ms.max(1)),
        };
        scheduled.push((job, schedule, ctx));
    }
    setup(&db).await?;
    let lock = take_over_registrations(&db, &jobs).await;
    let run_at_start = settings.run_at_start;
    let startup = tokio::spawn(async move {
        // Owns the workers it starts: aborting this task (dropping `Workers`) stops them all.
        let mut workers = Workers {
            handles: Vec::new(),
            _lock: None,
        };
        if run_at_start {
            // Catch up the candles before any tick: a stored minute starts its predictions.
            if let Err(e) = runner.run_recorded(Job::Candles).await {
                tracing::warn!(error = %e, "catching up the candles at start failed");
            }
        }
        for (job, schedule, ctx) in scheduled {
            match spawn_worker(&db, job, schedule, ctx) {
                Ok(handle) => workers.handles.push(handle),
                Err(e) => {
                    tracing::error!(job = job.name(), error = %format!("{e:#}"), "job worker not started")
                }
            }
        }
        tracing::info!(jobs = workers.handles.len(), "collectors scheduled");
        if run_at_start {
            // A retrain waits for its schedule: it is hours of CPU, not what a fresh server needs.
            for &job in jobs.iter().filter(|&&j| j != Job::Candles && j != Job::Retrain) {
                let first = runner.clone();
                workers.handles.push(tokio::spawn(async move {
                    if let Err(e) = first.run_recorded(job).await {
                        tracing::warn!(job = job.name(), error = %e, "first run failed");
                    }
                }));
            }
            if let (Some(registry), true) = (runner.registry.clone(), backfill_hours > 0) {
                backfill(&runner, &registry, backfill_hours).await;
            }
        }
        std::future::pending::<()>().await;
    });
    Ok(Workers {
        handles: vec![startup],
        _lock: lock,
    })
}

/// Backfills predictions over the last `hours` of stored history, then publishes them.
async fn backfill(runner: &Runner, registry: &predict::registry::Registry, hours: i64) {
    let started = std::time::Instant::now();
    match predict::tick::backfill(
        runner.db(),
        registry,
        runner.collectors.base_s(),
        runner.clock().now(),
        hours,
        BACKFILL_STEP_S,
    )
    .await
    {
        Ok(made) => {
            tracing::info!(
                made,
                hours,
                ms = started.elapsed().as_millis() as u64,
                "predictions backfilled"
            );
            if let Some(notify) = &runner.notify {
                notify.changed().await;
            }
        }
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "prediction backfill failed"),
    }
}

/// The name an apalis worker of `job` registers under.
fn worker_name(job: Job) -> String {
    format!("coincast-{}", job.name())
}

/// On SQLite, frees the registrations of this installation's job workers left by a process that
/// has stopped, so a restart starts its workers at once. apalis refuses to register a worker
/// whose name was seen within its heartbeat (`WORKER_ALREADY_EXISTS`: about 15 s of failing
/// workers and missed ticks after every restart). Only one process may run the jobs on a SQLite
/// file: it takes an exclusive lock on `<file>.jobs.lock` first, and only the holder clears the
/// old registrations (it returns the lock, held until the workers stop). When another live
/// process holds it, nothing is cleared and the workers wait for the registrations to lapse, as
/// before. PostgreSQL needs none of this: apalis ties a registration to its session's advisory
/// lock, which ends with the process.
async fn take_over_registrations(db: &DatabaseConnection, jobs: &[Job]) -> Option<std::fs::File> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let file = match sqlite_main_file(db).await {
        Ok(Some(file)) => file,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "could not find the SQLite file to lock for the jobs");
            return None;
        }
    };
    let path = PathBuf::from(format!("{file}.jobs.lock"));
    let lock = match std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "could not open the jobs lock file");
            return None;
        }
    };
    if let Err(e) = lock.try_lock() {
        tracing::warn!(
            path = %path.display(),
            error = %e,
            "another process runs the jobs on this database: its workers' registrations are left alone"
        );
        return None;
    }
    for &job in jobs {
        let cleared = db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "UPDATE Workers SET last_seen = 0 WHERE id = ?",
                [worker_name(job).into()],
            ))
            .await;
        if let Err(e) = cleared {
            tracing::warn!(job = job.name(), error = %e, "could not clear the job worker's old registration");
        }
    }
    Some(lock)
}

/// The path of the main SQLite database file (`None` for an in-memory one).
async fn sqlite_main_file(db: &DatabaseConnection) -> Result<Option<String>, sea_orm::DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA database_list"))
        .await?;
    for row in rows {
        let name: String = row.try_get_by_index(1)?;
        let file: String = row.try_get_by_index(2)?;
        if name == "main" && !file.is_empty() {
            return Ok(Some(file));
        }
    }
    Ok(None)
}

/// Creates the job tables (apalis's own migrations; on PostgreSQL sqlx runs them under its own
/// advisory lock): what `coincast migrate` does besides the schema, so starting processes find
/// them.
pub async fn setup(db: &DatabaseConnection) -> anyhow::Result<()> {
    match db.get_database_backend() {
        DbBackend::Sqlite => apalis_sqlite::SqliteStorage::setup(db.get_sqlite_connection_pool())
            .await
            .context("creating the job tables (SQLite)"),
        DbBackend::Postgres => apalis_postgres::PostgresStorage::setup(db.get_postgres_connection_pool())
            .await
            .context("creating the job tables (PostgreSQL)"),
        other => anyhow::bail!("jobs: unsupported database backend {other:?}"),
    }
}

/// A worker's run loop that lasted this long is taken as healthy: its next restart waits only
/// the first backoff again.
const WORKER_HEALTHY_AFTER: Duration = Duration::from_secs(300);
/// The first wait before a stopped worker is started again; it doubles per quick stop, up to
/// [`retry::MAX_BACKOFF`].
const WORKER_RESTART_FIRST: Duration = Duration::from_secs(1);

/// Starts the apalis worker of one job on the database's own job storage, supervised: when its
/// run loop ends (an error, e.g. the database went away, or a plain return) it is logged and the
/// worker is built and started again after a backoff, so the API process keeps collecting without
/// a restart; `/api/health` shows a job that stays down as stalled.
fn spawn_worker(
    db: &DatabaseConnection,
    job: Job,
    schedule: cron::Schedule,
    ctx: JobCtx,
) -> anyhow::Result<JoinHandle<()>> {
    let name = worker_name(job);
    let queue = format!("coincast::{}", job.name());
    // The two storages are different types with the same API: one macro, no generic bounds.
    macro_rules! supervise {
        ($storage:expr) => {{
            tokio::spawn(async move {
                let mut wait = WORKER_RESTART_FIRST;
                loop {
                    let worker = WorkerBuilder::new(name.clone())
                        .backend(CronScheduler::new(schedule.clone()).pipe_to($storage))
                        .data(ctx.clone())
                        .build(handle_tick);
                    let started = std::time::Instant::now();
                    let outcome = worker.run().await;
                    if started.elapsed() >= WORKER_HEALTHY_AFTER {
                        wait = WORKER_RESTART_FIRST;
                    }
                    match outcome {
                        Ok(()) => tracing::error!(
                            job = job.name(),
                            restart_in_ms = wait.as_millis() as u64,
                            "job worker stopped; restarting it"
                        ),
                        Err(e) => tracing::error!(
                            job = job.name(),
                            restart_in_ms = wait.as_millis() as u64,
                            error = %e,
                            "job worker failed; restarting it"
                        ),
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(retry::MAX_BACKOFF);
                }
            })
        }};
    }
    Ok(match db.get_database_backend() {
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool().clone();
            let config = apalis_sqlite::Config::default().queue(&queue);
            supervise!(apalis_sqlite::SqliteStorage::<Tick>::new(&pool).with_config(config.clone()))
        }
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool().clone();
            let config = apalis_postgres::Config::default().queue(&queue);
            supervise!(apalis_postgres::PostgresStorage::<Tick>::new(&pool).with_config(config.clone()))
        }
        other => anyhow::bail!("jobs: unsupported database backend {other:?}"),
    })
}
