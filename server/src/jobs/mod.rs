//! The scheduled jobs (apalis): cron schedules piped into a job table in the same database
//! (SQLite or PostgreSQL, sharing the app's pool), one worker per job, retries with exponential
//! backoff (`retry`), and pruning of finished job rows (`prune`). The work itself is `collect`'s
//! and `predict`'s: one job's failure never stops another or the API; every collection updates
//! the per-source health rows and logs one structured line per source.
//!
//! | job | schedule (default) | what it runs |
//! |---|---|---|
//! | `candles` | second 5 of every minute | Bitstamp minute candles per coin (or the replay) |
//! | `chain` | :00 :15 :30 :45 | mempool.space mempool; blockchain.info TPS and mempool count |
//! | `tweets` | :00 :15 :30 :45 | bitinfocharts tweets per day per coin |
//! | `markets` | :00 :15 :30 :45 | Yahoo daily closes of gold, S&P 500, oil, MSCI World |
//! | `predict` | second 20 of every minute (after the candles) | the predictions due, then scoring |
//! | `maintenance` | :00 :15 :30 :45 (every mode, replay too) | pruning: job rows, and predictions and candles past their retention |
//!
//! Each job's last success and failure are stored as a `source_status` row
//! (`SourceId::Job`), so `/api/health` of any process can tell when collection or prediction has
//! stalled. A worker whose run loop ends is started again after a backoff (`spawn_worker`).

pub mod prune;
pub mod retry;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};
use futures_util::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::task::JoinHandle;

use crate::clock;
use crate::collect::run::{Collectors, SourceError};
use crate::collect::sources::SourceId;
use crate::config::{JobsSettings, RetentionSettings};
use crate::db;
use crate::predict::{self, registry::Registry};

/// The step of the start-up prediction backfill, seconds (the web app's table shows 15 minutes).
pub const BACKFILL_STEP_S: i64 = 900;

/// The jobs, each with its own queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Job {
    Candles,
    Chain,
    Tweets,
    Markets,
    /// Predictions due this minute, then scoring of predictions whose horizon has passed.
    Predict,
    /// Pruning of job rows, and of predictions and candles past their retention.
    Maintenance,
}

impl Job {
    pub const ALL: [Job; 6] = [
        Job::Candles,
        Job::Chain,
        Job::Tweets,
        Job::Markets,
        Job::Predict,
        Job::Maintenance,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::Predict => "predict",
            Job::Candles => "candles",
            Job::Chain => "chain",
            Job::Tweets => "tweets",
            Job::Markets => "markets",
            Job::Maintenance => "maintenance",
        }
    }

    /// Whether this job runs in this mode (replay collects only candles; predict needs models).
    pub fn runs(self, replaying: bool, predicting: bool) -> bool {
        match self {
            Job::Candles | Job::Maintenance => true,
            Job::Predict => predicting,
            Job::Chain | Job::Tweets | Job::Markets => !replaying,
        }
    }

    /// Whether a long pause of this job makes the service `degraded` (collection and prediction).
    pub fn watched(self) -> bool {
        matches!(self, Job::Candles | Job::Predict)
    }
}

/// Why a job run failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Some sources failed (each is recorded in its health row already).
    #[error("{job}: {failed} of {total} sources failed: {first}")]
    Sources {
        job: &'static str,
        failed: usize,
        total: usize,
        first: SourceError,
    },
    /// The prediction tick or scoring failed.
    #[error("predict: {0:#}")]
    Predict(anyhow::Error),
    /// Pruning failed (the database).
    #[error("maintenance: {0}")]
    Maintenance(sea_orm::DbErr),
}

/// Told when a job run has committed something, so readers see it at once (the HTTP layer's
/// published state implements it; jobs know nothing about HTTP).
pub trait Notify: Send + Sync {
    /// Data changed; returns when the change is visible to readers.
    fn changed(&self) -> BoxFuture<'_, ()>;
}

/// What the jobs run: the collectors and, where this process predicts, the models.
pub struct Runner {
    pub collectors: Collectors,
    pub registry: Option<Arc<Registry>>,
    /// Who is told after every run (whether it worked or not: health rows changed either way).
    pub notify: Option<Arc<dyn Notify>>,
    /// What the `maintenance` job prunes.
    pub retention: RetentionSettings,
    /// The last minute predicted (one prediction run at a time).
    pub predicted: tokio::sync::Mutex<i64>,
}

impl Runner {
    /// A runner that only collects (no models: the `predict` job does nothing).
    pub fn collecting(collectors: Collectors) -> Self {
        Runner {
            collectors,
            registry: None,
            notify: None,
            retention: RetentionSettings::default(),
            predicted: Default::default(),
        }
    }

    /// The database the jobs write to.
    pub fn db(&self) -> &DatabaseConnection {
        &self.collectors.db
    }

    /// Runs one job once (what a cron tick runs, before retries), then tells `notify`.
    pub async fn run(&self, job: Job) -> Result<(), JobError> {
        let result = self.run_only(job).await;
        if let Some(notify) = &self.notify {
            notify.changed().await;
        }
        result
    }

    async fn run_only(&self, job: Job) -> Result<(), JobError> {
        let outcomes = match job {
            Job::Predict => return self.predict_due().await,
            Job::Maintenance => return self.maintenance(clock::now()).await,
            Job::Candles => {
                let outcomes = self.collectors.candles().await;
                if outcomes.iter().all(Result::is_ok) {
                    // This minute's candles are stored: its predictions start now, not at a
                    // fixed second that a slow upstream or a retry would defeat (the `predict`
                    // cron remains as the deadline for a minute whose candles came late).
                    self.predict_due().await?;
                }
                outcomes
            }
            Job::Chain => self.collectors.chain().await,
            Job::Tweets => self.collectors.all_tweets().await,
            Job::Markets => self.collectors.markets().await,
        };
        let total = outcomes.len();
        let mut failures = outcomes.into_iter().filter_map(Result::err);
        match failures.next() {
            None => Ok(()),
            Some(first) => Err(JobError::Sources {
                job: job.name(),
                failed: 1 + failures.count(),
                total,
                first,
            }),
        }
    }

    /// Runs `job` once and records how it went in the job's status row (what `/api/health`
    /// reads); a failure to record is only logged.
    pub async fn run_recorded(&self, job: Job) -> Result<(), JobError> {
        let result = self.run(job).await;
        self.record(job, &result).await;
        result
    }

    /// Records the outcome of a job's run (after its retries) in its status row.
    pub async fn record(&self, job: Job, result: &Result<(), JobError>) {
        let id = SourceId::Job(job);
        let stored = match result {
            Ok(()) => db::status::record_success(self.db(), id, None).await,
            Err(e) => db::status::record_failure(self.db(), id, &e.to_string()).await,
        };
        if let Err(e) = stored {
            tracing::warn!(job = job.name(), error = %e, "could not record the job's status");
        }
    }

    /// Prunes what is past its bound (see [`prune::run`]) as of `now`; tests and the retention
    /// benchmark call it with their own clock.
    pub async fn maintenance(&self, now: i64) -> Result<(), JobError> {
        let started = std::time::Instant::now();
        let pruned = prune::run(self.db(), &self.retention, now)
            .await
            .map_err(JobError::Maintenance)?;
        tracing::info!(
            done_jobs = pruned.done_jobs,
            other_jobs = pruned.other_jobs,
            predictions = pruned.predictions,
            candles = pruned.candles,
            ms = started.elapsed().as_millis() as u64,
            "maintenance: pruned"
        );
        Ok(())
    }

    /// Predicts the current minute and scores what is due, unless this minute was predicted
    /// already (by the candles that triggered it, or the deadline cron).
    async fn predict_due(&self) -> Result<(), JobError> {
        let Some(registry) = &self.registry else {
            return Ok(());
        };
        let minute = clock::current_minute();
        let mut predicted = self.predicted.lock().await;
        if *predicted >= minute {
            tracing::debug!(minute, "this minute is predicted already");
            return Ok(());
        }
        let started = std::time::Instant::now();
        let report = predict::run(self.db(), registry, minute, clock::now())
            .await
            .map_err(JobError::Predict)?;
        *predicted = minute;
        tracing::info!(
            made = report.made,
            skipped = report.skipped,
            scored = report.scored,
            unscorable = report.unscorable,
            ms = started.elapsed().as_millis() as u64,
            "prediction tick"
        );
        Ok(())
    }
}

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
        .collect();
    for &job in &jobs {
        let cron = match job {
            Job::Candles => &settings.candles_cron,
            Job::Predict => &settings.predict_cron,
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
        if settings.run_at_start && !backfill_runs_it {
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

/// The health of the `expected` jobs from their status rows. When `watch` (this process runs
/// them), a job [`Job::watched`] with no successful run for more than `stall_after_s` seconds,
/// counted from the later of its last success and `since` (this process's start), is stalled.
pub async fn health(
    db: &impl sea_orm::ConnectionTrait,
    expected: &[Job],
    watch: bool,
    stall_after_s: i64,
    since: i64,
    now: i64,
) -> Result<Vec<shared::JobHealth>, sea_orm::DbErr> {
    let rows = db::status::all(db).await?;
    let time = |t: Option<i64>| t.and_then(clock::to_utc);
    Ok(expected
        .iter()
        .map(|&job| {
            let id = SourceId::Job(job).to_string();
            let row = rows.iter().find(|r| r.source == id);
            let last_success = row.and_then(|r| r.last_success_at);
            let reference = last_success.unwrap_or(since).max(since);
            shared::JobHealth {
                job: job.name().to_owned(),
                last_success_at: time(last_success),
                last_error_at: time(row.and_then(|r| r.last_error_at)),
                last_error: row.and_then(|r| r.last_error.clone()),
                stalled: watch && job.watched() && now - reference > stall_after_s,
            }
        })
        .collect())
}
