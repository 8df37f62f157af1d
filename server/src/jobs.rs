//! The collectors as durable scheduled jobs (apalis): cron schedules piped into a job table in the
//! same database (SQLite or PostgreSQL, sharing the app's pool), each job a worker with retries and
//! exponential backoff. One job's failure never stops another or the API; every run updates the
//! per-source health rows (`store::record_*`) and logs one structured line per source.
//!
//! | job | schedule (default) | sources |
//! |---|---|---|
//! | `candles` | second 5 of every minute | Bitstamp minute candles per coin (or the replay) |
//! | `chain` | :00 :15 :30 :45 | mempool.space mempool; blockchain.info TPS and mempool count |
//! | `tweets` | :00 :15 :30 :45 | bitinfocharts tweets per day per coin |
//! | `markets` | :00 :15 :30 :45 | Yahoo daily closes of gold, S&P 500, oil, MSCI World |
//! | `predict` | second 20 of every minute (after the candles) | the predictions due, then scoring (`engine`) |

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};
use chrono::Utc;
use models::history::Bar;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use shared::Coin;
use tokio::task::JoinHandle;

use crate::collectors::{self, FetchError, Point, bitinfocharts, bitstamp, blockchain, mempool, yahoo};
use crate::config::{JobsSettings, UpstreamSettings};
use crate::engine;
use crate::entities::candle;
use crate::import::upsert_candles;
use crate::registry::Registry;
use crate::replay::Replay;
use crate::sources::{self, MARKETS};
use crate::store;

/// The jobs, each with its own queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Job {
    Candles,
    Chain,
    Tweets,
    Markets,
    /// Predictions due this minute, then scoring of predictions whose horizon has passed.
    Predict,
}

impl Job {
    pub const ALL: [Job; 5] = [Job::Candles, Job::Chain, Job::Tweets, Job::Markets, Job::Predict];

    pub fn name(self) -> &'static str {
        match self {
            Job::Predict => "predict",
            Job::Candles => "candles",
            Job::Chain => "chain",
            Job::Tweets => "tweets",
            Job::Markets => "markets",
        }
    }
}

/// Everything a collection run needs.
pub struct Collectors {
    pub db: DatabaseConnection,
    client: reqwest::Client,
    upstream: UpstreamSettings,
    replay: Option<Arc<Replay>>,
    registry: Option<Arc<Registry>>,
}

/// A run in which some sources failed (each is recorded in its health row already).
#[derive(Debug, thiserror::Error)]
#[error("{job}: {failed} of {total} sources failed: {first}")]
pub struct RunError {
    job: &'static str,
    failed: usize,
    total: usize,
    first: String,
}

/// Most minutes one candle run asks for: a run after a long outage heals up to this much; older
/// holes are for `coincast backfill`.
const MAX_HEAL_MINUTES: i64 = 1000;
/// Minutes re-requested on every run, so a missed run or a late correction heals itself.
const OVERLAP_MINUTES: i64 = 5;

impl Collectors {
    pub fn new(
        db: DatabaseConnection,
        upstream: UpstreamSettings,
        replay: Option<Arc<Replay>>,
    ) -> anyhow::Result<Self> {
        let client = collectors::http_client(Duration::from_millis(upstream.timeout_ms))?;
        Ok(Collectors {
            db,
            client,
            upstream,
            replay,
            registry: None,
        })
    }

    /// Adds the models the `predict` job runs.
    pub fn with_registry(mut self, registry: Arc<Registry>) -> Self {
        self.registry = Some(registry);
        self
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.upstream.timeout_ms)
    }

    /// Runs one job once.
    pub async fn run(&self, job: Job) -> Result<(), RunError> {
        let outcomes = match job {
            Job::Predict => vec![self.predict().await],
            Job::Candles => self.candles().await,
            Job::Chain => vec![
                self.mempool().await,
                self.chart("blockchain/tps", "transactions-per-second", sources::TPS)
                    .await,
                self.chart(
                    "blockchain/mempool-count",
                    "mempool-count",
                    sources::MEMPOOL_COUNT,
                )
                .await,
            ],
            Job::Tweets => {
                let mut v = Vec::new();
                for coin in Coin::ALL {
                    v.push(self.tweets(coin).await);
                }
                v
            }
            Job::Markets => {
                let mut v = Vec::new();
                for (symbol, series, _) in MARKETS {
                    v.push(self.market(symbol, series).await);
                }
                v
            }
        };
        if job == Job::Chain {
            self.prune_finished_jobs().await;
        }
        let total = outcomes.len();
        let failures: Vec<String> = outcomes.into_iter().filter_map(Result::err).collect();
        match failures.first() {
            None => Ok(()),
            Some(first) => Err(RunError {
                job: job.name(),
                failed: failures.len(),
                total,
                first: first.clone(),
            }),
        }
    }

    /// Predicts what is due this minute, then scores what has come due. A skipped prediction
    /// (stale data, a gap, a missing series) is recorded with its reason and is not a failure.
    async fn predict(&self) -> Result<(), String> {
        let Some(registry) = &self.registry else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let t = engine::current_minute();
        let (made, skipped) = engine::tick(&self.db, registry, t)
            .await
            .map_err(|e| format!("predict: {e:#}"))?;
        let (scored, unscorable) = engine::score_due(&self.db, Utc::now().timestamp())
            .await
            .map_err(|e| format!("score: {e}"))?;
        tracing::info!(
            made,
            skipped,
            scored,
            unscorable,
            ms = started.elapsed().as_millis() as u64,
            "prediction tick"
        );
        Ok(())
    }

    /// Deletes job rows finished more than a day ago (a tick a minute would otherwise grow the
    /// job table forever). Failed jobs stay for inspection. A failure here is only logged.
    async fn prune_finished_jobs(&self) {
        let cutoff = Utc::now().timestamp() - 86_400;
        let sql = match self.db.get_database_backend() {
            DbBackend::Sqlite => format!("DELETE FROM Jobs WHERE status = 'Done' AND done_at < {cutoff}"),
            DbBackend::Postgres => {
                format!("DELETE FROM apalis.jobs WHERE status = 'Done' AND done_at < to_timestamp({cutoff})")
            }
            _ => return,
        };
        match self.db.execute_unprepared(&sql).await {
            Ok(r) => tracing::debug!(deleted = r.rows_affected(), "pruned finished jobs"),
            Err(e) => tracing::warn!(error = %e, "could not prune finished jobs"),
        }
    }

    /// Runs `fetch` for `source`, records the outcome in its health row and logs it. `fetch`
    /// returns the newest data time it stored.
    async fn track<F>(&self, source: &str, fetch: F) -> Result<(), String>
    where
        F: Future<Output = anyhow::Result<Option<i64>>>,
    {
        match fetch.await {
            Ok(latest) => {
                tracing::info!(source, latest_data_at = latest, "collected");
                store::record_success(&self.db, source, latest)
                    .await
                    .map_err(|e| format!("{source}: recording success: {e}"))
            }
            Err(e) => {
                let message = format!("{e:#}");
                tracing::warn!(source, error = %message, "collection failed");
                if let Err(db) = store::record_failure(&self.db, source, &message).await {
                    tracing::error!(source, error = %db, "could not record the failure");
                }
                Err(format!("{source}: {message}"))
            }
        }
    }

    async fn candles(&self) -> Vec<Result<(), String>> {
        let mut out = Vec::new();
        match &self.replay {
            Some(replay) => {
                for coin in replay.coins() {
                    let source = sources::candle_source(coin, true);
                    out.push(self.track(&source, self.replay_candles(replay, coin)).await);
                }
                if replay.has_series() {
                    out.push(
                        self.track(sources::REPLAY_MARKETS, self.replay_series(replay))
                            .await,
                    );
                }
            }
            None => {
                for coin in Coin::ALL {
                    let source = sources::candle_source(coin, false);
                    out.push(self.track(&source, self.bitstamp_candles(coin)).await);
                }
            }
        }
        out
    }

    async fn latest_candle(&self, coin: Coin) -> anyhow::Result<Option<i64>> {
        Ok(candle::Entity::find()
            .filter(candle::Column::Coin.eq(coin.ticker()))
            .filter(candle::Column::IntervalS.eq(60))
            .order_by_desc(candle::Column::Ts)
            .one(&self.db)
            .await?
            .map(|c| c.ts))
    }

    async fn bitstamp_candles(&self, coin: Coin) -> anyhow::Result<Option<i64>> {
        let now_minute = Utc::now().timestamp().div_euclid(60) * 60;
        let missing = match self.latest_candle(coin).await? {
            Some(ts) => (now_minute - ts) / 60,
            None => 120,
        };
        let limit = (missing + OVERLAP_MINUTES).clamp(OVERLAP_MINUTES, MAX_HEAL_MINUTES);
        let url = collectors::join(
            &self.upstream.bitstamp,
            &bitstamp::ohlc_path(coin, limit as u32, None),
        );
        let body = collectors::get_text(&self.client, &url, self.timeout()).await?;
        let (_, bars) = bitstamp::parse_ohlc(&body).map_err(FetchError::from)?;
        self.store_candles(coin, &bars, "bitstamp").await
    }

    async fn replay_candles(&self, replay: &Replay, coin: Coin) -> anyhow::Result<Option<i64>> {
        let now = Utc::now().timestamp();
        let shift = replay.shift(&self.db, now).await?;
        let after = self.latest_candle(coin).await?;
        let bars = replay.due(coin, shift, now, after);
        let source = replay.source();
        self.store_candles(coin, &bars, &source).await
    }

    async fn replay_series(&self, replay: &Replay) -> anyhow::Result<Option<i64>> {
        let now = Utc::now().timestamp();
        let shift = replay.shift(&self.db, now).await?;
        let mut latest = None;
        for (series, points) in replay.due_series(shift, now) {
            latest = latest.max(self.store_points(&series, &replay.source(), &points).await?);
        }
        Ok(latest)
    }

    async fn store_candles(&self, coin: Coin, bars: &[Bar], source: &str) -> anyhow::Result<Option<i64>> {
        if bars.is_empty() {
            return Ok(None);
        }
        // One transaction: readers see a run's candles all at once, never half of a long catch-up.
        let txn = self.db.begin().await?;
        upsert_candles(&txn, coin, 60, bars, source, &mut |_| {})
            .await
            .context("storing candles")?;
        txn.commit().await?;
        Ok(bars.last().map(|b| b.ts))
    }

    async fn store_points(
        &self,
        series: &str,
        source: &str,
        points: &[Point],
    ) -> anyhow::Result<Option<i64>> {
        store::upsert_series(&self.db, series, source, points)
            .await
            .with_context(|| format!("storing {series}"))?;
        Ok(points.iter().map(|p| p.ts).max())
    }

    async fn mempool(&self) -> Result<(), String> {
        self.track("mempool", async {
            let url = collectors::join(&self.upstream.mempool, "api/mempool");
            let body = collectors::get_text(&self.client, &url, self.timeout()).await?;
            let m = mempool::parse(&body)?;
            let ts = Utc::now().timestamp().div_euclid(60) * 60;
            self.store_points(
                sources::MEMPOOL_SPACE_COUNT,
                "mempool.space",
                &[Point { ts, value: m.count }],
            )
            .await?;
            self.store_points(
                sources::MEMPOOL_SPACE_VSIZE,
                "mempool.space",
                &[Point { ts, value: m.vsize }],
            )
            .await
        })
        .await
    }

    /// A blockchain.info chart, ten days of it (idempotent upserts make the overlap harmless).
    async fn chart(&self, source: &str, chart: &str, series: &str) -> Result<(), String> {
        self.track(source, async {
            let url = collectors::join(
                &self.upstream.blockchain,
                &format!("charts/{chart}?timespan=10days&format=json"),
            );
            let body = collectors::get_text(&self.client, &url, self.timeout()).await?;
            let points = blockchain::parse(&body)?;
            self.store_points(series, "blockchain.info", &points).await
        })
        .await
    }

    async fn tweets(&self, coin: Coin) -> Result<(), String> {
        self.track(&format!("bitinfocharts/{}", coin.ticker()), async {
            let url = collectors::join(&self.upstream.bitinfocharts, &bitinfocharts::page(coin));
            let body = collectors::get_text(&self.client, &url, self.timeout()).await?;
            let points = bitinfocharts::parse(&body)?;
            self.store_points(&sources::tweets_series(coin), "bitinfocharts", &points)
                .await
        })
        .await
    }

    async fn market(&self, symbol: &str, series: &str) -> Result<(), String> {
        self.track(&format!("yahoo/{symbol}"), async {
            let path = format!(
                "v8/finance/chart/{}?interval=1d&range=1mo",
                symbol.replace('^', "%5E")
            );
            let url = collectors::join(&self.upstream.yahoo, &path);
            let body = collectors::get_text(&self.client, &url, self.timeout()).await?;
            let (answered, points) = yahoo::parse(&body)?;
            anyhow::ensure!(
                answered == symbol,
                "asked for {symbol}, Yahoo answered {answered}"
            );
            self.store_points(series, "yahoo", &points).await
        })
        .await
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

#[derive(Clone)]
struct JobCtx {
    collectors: Arc<Collectors>,
    job: Job,
    retries: usize,
    backoff: Duration,
}

/// Runs a job, retrying a failed run up to `retries` times after a backoff that doubles (with
/// ±20% jitter, at most a minute). When every attempt failed the task ends as aborted (apalis
/// does not run it again: the next tick will), and the failure is in the sources' health.
async fn handle_tick(tick: Tick, ctx: Data<JobCtx>) -> Result<(), BoxDynError> {
    let job = ctx.job.name();
    tracing::debug!(job, tick = tick.get_timestamp(), "job run");
    let mut delay = ctx.backoff;
    let mut attempt = 0;
    loop {
        match ctx.collectors.run(ctx.job).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < ctx.retries => {
                attempt += 1;
                let jitter = 0.8 + 0.4 * f64::from(Utc::now().timestamp_subsec_nanos() % 1000) / 1000.0;
                let wait = delay.mul_f64(jitter);
                tracing::warn!(job, attempt, retry_in_ms = wait.as_millis() as u64, error = %e, "job run failed; retrying");
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(Duration::from_secs(60));
            }
            Err(e) => {
                tracing::warn!(job, attempts = attempt + 1, error = %e, "job run failed; giving up until the next tick");
                return Err(Box::new(AbortError::new(e)));
            }
        }
    }
}

/// Creates the job tables (apalis's own migrations) and starts one worker per job. The first run
/// of every job also starts at once, so a fresh server has data before the first tick; then
/// predictions are backfilled over `backfill_hours` of stored history.
pub async fn start(
    collectors: Arc<Collectors>,
    settings: &JobsSettings,
    backfill_hours: i64,
) -> anyhow::Result<Workers> {
    let db = collectors.db.clone();
    let mut handles = Vec::new();
    // While replaying, only candles are collected (the other sources would mix today's series
    // with recorded prices): their sources show as `disabled`.
    let jobs: Vec<Job> = Job::ALL
        .into_iter()
        .filter(|j| match j {
            Job::Candles => true,
            Job::Predict => collectors.registry.is_some(),
            _ => collectors.replay.is_none(),
        })
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
            collectors: collectors.clone(),
            job,
            retries: settings.retries,
            backoff: Duration::from_millis(settings.backoff_ms.max(1)),
        };
        let name = format!("coincast-{}", job.name());
        let queue = format!("coincast::{}", job.name());
        // The two storages are different types with the same API: one macro, no generic bounds.
        macro_rules! spawn_worker {
            ($storage:expr) => {{
                let worker = WorkerBuilder::new(name)
                    .backend(CronScheduler::new(schedule).pipe_to($storage))
                    .data(ctx)
                    .build(handle_tick);
                tokio::spawn(async move {
                    if let Err(e) = worker.run().await {
                        tracing::error!(error = %e, "job worker stopped");
                    }
                })
            }};
        }
        let handle = match db.get_database_backend() {
            DbBackend::Sqlite => {
                let pool = db.get_sqlite_connection_pool().clone();
                apalis_sqlite::SqliteStorage::setup(&pool)
                    .await
                    .context("creating the job tables (SQLite)")?;
                spawn_worker!(
                    apalis_sqlite::SqliteStorage::<Tick>::new(&pool)
                        .with_config(apalis_sqlite::Config::default().queue(&queue))
                )
            }
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool().clone();
                apalis_postgres::PostgresStorage::setup(&pool)
                    .await
                    .context("creating the job tables (PostgreSQL)")?;
                spawn_worker!(
                    apalis_postgres::PostgresStorage::<Tick>::new(&pool)
                        .with_config(apalis_postgres::Config::default().queue(&queue))
                )
            }
            other => anyhow::bail!("jobs: unsupported database backend {other:?}"),
        };
        handles.push(handle);
        // With a prediction backfill, its task runs the first candles itself (it needs them first).
        let backfill_runs_it = job == Job::Candles && collectors.registry.is_some() && backfill_hours > 0;
        if settings.run_at_start && !backfill_runs_it {
            let first = collectors.clone();
            handles.push(tokio::spawn(async move {
                if let Err(e) = first.run(job).await {
                    tracing::warn!(job = job.name(), error = %e, "first run failed");
                }
            }));
        }
    }
    if let (Some(registry), true) = (
        collectors.registry.clone(),
        backfill_hours > 0 && settings.run_at_start,
    ) {
        let db = collectors.db.clone();
        let first = collectors.clone();
        handles.push(tokio::spawn(async move {
            // After the first candles are in (replay stores its warm-up then).
            if let Err(e) = first.run(Job::Candles).await {
                tracing::warn!(error = %e, "candles before the prediction backfill failed");
            }
            let started = std::time::Instant::now();
            match engine::backfill(&db, &registry, Utc::now().timestamp(), backfill_hours, 900).await {
                Ok(made) => tracing::info!(
                    made,
                    hours = backfill_hours,
                    ms = started.elapsed().as_millis() as u64,
                    "predictions backfilled"
                ),
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "prediction backfill failed"),
            }
        }));
    }
    tracing::info!(jobs = jobs.len(), "collectors scheduled");
    Ok(Workers { handles })
}
