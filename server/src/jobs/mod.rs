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
//! | `retrain` | Sunday 03:00 UTC (`retrain.cron`) | a challenger per coin and horizon, promoted only past the gate (`predict::retrain`) |
//!
//! Each job's last success and failure are stored as a `source_status` row
//! (`SourceId::Job`), so `/api/health` of any process can tell when collection or prediction has
//! stalled. A worker whose run loop ends is started again after a backoff (`spawn_worker`).

pub mod prune;
pub use crate::retry;
mod workers;

pub use workers::{JobCtx, Workers, handle_tick, setup, start};

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::collect::run::{Collectors, SourceError};
use crate::collect::sources::SourceId;
use crate::config::{RetentionSettings, RetrainSettings};
use crate::db;
use crate::predict::minutes::MinuteCache;
use crate::predict::{self, registry::Registry};

/// The step of the start-up prediction backfill, seconds (the web app's table shows 15 minutes).
pub const BACKFILL_STEP_S: i64 = 900;

pub use crate::ids::Job;

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
    /// A retrain could not read its data or record a decision.
    #[error("retrain: {0:#}")]
    Retrain(anyhow::Error),
}

/// Told when a job run has committed something, so readers see it at once (the HTTP layer's
/// published state implements it; jobs know nothing about HTTP).
pub trait Notify: Send + Sync {
    /// Data changed; returns when the change is visible to readers.
    fn changed(&self) -> BoxFuture<'_, ()>;
    /// The running models changed (a promotion): every process reloads them.
    fn models_changed(&self) -> BoxFuture<'_, ()>;
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
    /// The base candles the ticks read, kept between them.
    pub minutes: MinuteCache,
    /// What the `retrain` job does, and where its challengers' files go.
    pub retrain: RetrainSettings,
    pub store_dir: PathBuf,
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
            minutes: MinuteCache::default(),
            retrain: RetrainSettings::default(),
            store_dir: PathBuf::from("data/models"),
        }
    }

    /// The database the jobs write to.
    pub fn db(&self) -> &DatabaseConnection {
        &self.collectors.db
    }

    /// The clock every job reads (the collectors').
    pub fn clock(&self) -> &Clock {
        self.collectors.clock()
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
            Job::Maintenance => return self.maintenance(self.clock().now()).await,
            Job::Retrain => return self.retrain(self.clock().now()).await.map(|_| ()),
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
            Ok(()) => db::status::record_success(self.db(), id, None, self.clock().now()).await,
            Err(e) => db::status::record_failure(self.db(), id, &e.to_string(), self.clock().now()).await,
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
            events = pruned.events,
            ms = started.elapsed().as_millis() as u64,
            "maintenance: pruned"
        );
        Ok(())
    }

    /// Retrains every coin and horizon of the settings as of `now` (see `predict::retrain`): the
    /// decisions are recorded, the progress is stored for the app (and announced), and promoted
    /// models reach every process. Tests call it with their own clock.
    pub async fn retrain(&self, now: i64) -> Result<Vec<predict::retrain::Outcome>, JobError> {
        let Some(registry) = &self.registry else {
            return Ok(Vec::new());
        };
        let options = {
            let mut options = predict::retrain::Options::from_settings(
                &self.retrain,
                &self.store_dir,
                self.clock(),
                &registry.coins(),
            );
            options.now = now;
            options
        };
        let report = StoredProgress { runner: self };
        let outcomes = predict::retrain::run(self.db(), registry, &options, &report)
            .await
            .map_err(JobError::Retrain)?;
        if outcomes
            .iter()
            .any(|o| o.decision == models::gate::Decision::Promoted)
            && let Some(notify) = &self.notify
        {
            notify.models_changed().await;
        }
        Ok(outcomes)
    }

    /// Predicts the current minute and scores what is due, unless this minute was predicted
    /// already (by the candles that triggered it, or the deadline cron).
    async fn predict_due(&self) -> Result<(), JobError> {
        let Some(registry) = &self.registry else {
            return Ok(());
        };
        let minute = self.clock().current_minute();
        let mut predicted = self.predicted.lock().await;
        if *predicted >= minute {
            tracing::debug!(minute, "this minute is predicted already");
            return Ok(());
        }
        let started = std::time::Instant::now();
        let base_s = self.collectors.base_s();
        let report = predict::run(
            self.db(),
            registry,
            &self.minutes,
            base_s,
            minute,
            self.clock().now(),
        )
        .await
        .map_err(JobError::Predict)?;
        *predicted = minute;
        tracing::info!(
            minute,
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

/// A retrain's progress, stored where every process reads it (`app_meta`) and announced.
pub struct StoredProgress<'a> {
    pub runner: &'a Runner,
}

impl predict::retrain::Report for StoredProgress<'_> {
    fn step(&self, progress: &predict::retrain::Progress) -> BoxFuture<'_, ()> {
        let text = serde_json::to_string(progress).unwrap_or_default();
        Box::pin(async move {
            if let Err(e) = db::meta::meta_set(
                self.runner.db(),
                predict::retrain::PROGRESS_KEY,
                &text,
                self.runner.clock().now(),
            )
            .await
            {
                tracing::warn!(error = %e, "could not store the retrain's progress");
            }
            if let Some(notify) = &self.runner.notify {
                notify.changed().await;
            }
        })
    }
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
    let time = |t: Option<i64>| t.and_then(crate::clock::to_utc);
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
