//! The apalis workers: one per job, a cron schedule piped into the job table, each tick handled
//! by [`handle_tick`] (with retries), supervised so a worker that stops is started again.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::task::JoinHandle;

use crate::clock;
use crate::config::JobsSettings;
use crate::jobs::{BACKFILL_STEP_S, Job, Runner, retry};
use crate::predict;

/// The running workers; dropping it stops them.
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
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

/// Creates the job tables (apalis's own migrations) and starts one worker per job. The first run
/// of every job also starts at once, so a fresh server has data before the first tick; then
/// predictions are backfilled over `backfill_hours` of stored history.
pub async fn start(
    runner: Arc<Runner>,
    settings: &JobsSettings,
    backfill_hours: i64,
) -> anyhow::Result<Workers> {
    let db = runner.db().clone();
    let mut handles = Vec::new();
    // While replaying, only candles are collected (the other sources would mix today's series
    // with recorded prices): their sources show as `disabled`. Maintenance runs in every mode.
    let replaying = runner.collectors.replay().is_some();
    let jobs: Vec<Job> = Job::ALL
        .into_iter()
        .filter(|j| j.runs(replaying, runner.registry.is_some()))
        .filter(|&j| j != Job::Retrain || runner.retrain.enabled)
        .collect();
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
        handles.push(spawn_worker(&db, job, schedule, ctx).await?);
        // With a prediction backfill, its task runs the first candles itself (it needs them first).
        let backfill_runs_it = job == Job::Candles && runner.registry.is_some() && backfill_hours > 0;
        // A retrain waits for its schedule: it is hours of CPU, not what a fresh server needs.
        if settings.run_at_start && !backfill_runs_it && job != Job::Retrain {
            let first = runner.clone();
            handles.push(tokio::spawn(async move {
                if let Err(e) = first.run_recorded(job).await {
                    tracing::warn!(job = job.name(), error = %e, "first run failed");
                }
            }));
        }
    }
    if let (Some(registry), true) = (
        runner.registry.clone(),
        backfill_hours > 0 && settings.run_at_start,
    ) {
        let first = runner.clone();
        handles.push(tokio::spawn(async move {
            // After the first candles are in (replay stores its warm-up then).
            if let Err(e) = first.run_recorded(Job::Candles).await {
                tracing::warn!(error = %e, "candles before the prediction backfill failed");
            }
            let started = std::time::Instant::now();
            let db = first.db();
            match predict::tick::backfill(db, &registry, clock::now(), backfill_hours, BACKFILL_STEP_S).await
            {
                Ok(made) => {
                    tracing::info!(
                        made,
                        hours = backfill_hours,
                        ms = started.elapsed().as_millis() as u64,
                        "predictions backfilled"
                    );
                    if let Some(notify) = &first.notify {
                        notify.changed().await;
                    }
                }
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "prediction backfill failed"),
            }
        }));
    }
    tracing::info!(jobs = jobs.len(), "collectors scheduled");
    Ok(Workers { handles })
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
async fn spawn_worker(
    db: &DatabaseConnection,
    job: Job,
    schedule: cron::Schedule,
    ctx: JobCtx,
) -> anyhow::Result<JoinHandle<()>> {
    let name = format!("coincast-{}", job.name());
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
            apalis_sqlite::SqliteStorage::setup(&pool)
                .await
                .context("creating the job tables (SQLite)")?;
            let config = apalis_sqlite::Config::default().queue(&queue);
            supervise!(apalis_sqlite::SqliteStorage::<Tick>::new(&pool).with_config(config.clone()))
        }
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool().clone();
            apalis_postgres::PostgresStorage::setup(&pool)
                .await
                .context("creating the job tables (PostgreSQL)")?;
            let config = apalis_postgres::Config::default().queue(&queue);
            supervise!(apalis_postgres::PostgresStorage::<Tick>::new(&pool).with_config(config.clone()))
        }
        other => anyhow::bail!("jobs: unsupported database backend {other:?}"),
    })
}
