//! Layered settings: built-in defaults, then an optional TOML file (`--config`), then environment
//! variables `COINCAST__SECTION__KEY` (e.g. `COINCAST__SERVER__PORT=9000`), then command-line flags.
//! Loaded once in `main` and passed down; there is no global settings object.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// Everything the server can be told.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// State directory: the SQLite file lives here.
    pub data_dir: PathBuf,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub frontend: FrontendSettings,
    pub log: LogSettings,
    pub upstream: UpstreamSettings,
    pub jobs: JobsSettings,
    pub replay: ReplaySettings,
    pub models: ModelsSettings,
    pub retrain: RetrainSettings,
    pub retention: RetentionSettings,
    pub worker: WorkerSettings,
    /// The coins followed (`[[coins]]`, see `crate::coins`); by default BTC, LTC and XRP.
    #[serde(default)]
    pub coins: crate::coins::Coins,
}

/// How long stored rows are kept; the `maintenance` job applies it (in every mode) in bounded
/// batches. 0 days keeps rows forever.
#[derive(Debug, Clone, Deserialize)]
pub struct RetentionSettings {
    /// Predictions made more than this many days ago are deleted (0: kept forever).
    pub predictions_days: i64,
    /// Candles opened more than this many days ago are deleted (0: kept forever).
    pub candles_days: i64,
    /// Finished (`Done`) job rows are kept this many hours.
    pub done_jobs_hours: i64,
    /// Job rows that ended otherwise (`Failed`, `Killed`, or left unfinished) are kept this many
    /// days, for inspection.
    pub failed_jobs_days: i64,
}

impl Default for RetentionSettings {
    /// The built-in defaults: predictions and candles kept forever, `Done` job rows a day, other
    /// job rows a week.
    fn default() -> Self {
        RetentionSettings {
            predictions_days: 0,
            candles_days: 0,
            done_jobs_hours: 24,
            failed_jobs_days: 7,
        }
    }
}

/// The models the engine serves.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelsSettings {
    /// The folder with the ONNX files and model cards (`coincast train --out`). The default,
    /// `models/artifacts`, is looked for beside the binary too ([`resolve_default`]).
    pub dir: PathBuf,
    /// At start, backfill predictions (marked as such) over this many past hours of stored data,
    /// every 15 minutes, so a fresh install shows history at once (0: off).
    pub backfill_hours: i64,
}

impl Default for RetrainSettings {
    /// The built-in defaults (as `Settings::defaults` sets them).
    fn default() -> Self {
        RetrainSettings {
            enabled: true,
            cron: "0 0 3 * * Sun".to_owned(),
            window_days: 7,
            history_days: 180,
            epochs: 12,
            coins: Vec::new(),
            horizons: Vec::new(),
        }
    }
}

/// The `retrain` job and `coincast retrain`: a challenger per coin and horizon, trained on the
/// app's own data, promoted only past the gate (see `predict::retrain`).
#[derive(Debug, Clone, Deserialize)]
pub struct RetrainSettings {
    /// Schedule the job in the process that runs the jobs.
    pub enabled: bool,
    /// Cron (with seconds) of the job: weekly by default (Sunday 03:00 UTC).
    pub cron: String,
    /// The most recent days both models are scored on (neither trains on them).
    pub window_days: i64,
    /// The days of history before the window the challenger learns from.
    pub history_days: i64,
    /// Training epochs per fit (as `coincast train --epochs`).
    pub epochs: usize,
    /// Only these coins and horizons (empty: all).
    pub coins: Vec<shared::Coin>,
    pub horizons: Vec<shared::Horizon>,
}

/// Base URLs of the live sources (tests point them at a local fake) and the request timeout.
#[derive(Debug, Clone, Deserialize)]
pub struct UpstreamSettings {
    pub bitstamp: String,
    pub mempool: String,
    pub blockchain: String,
    pub bitinfocharts: String,
    pub yahoo: String,
    /// Per-request timeout, milliseconds.
    pub timeout_ms: u64,
}

/// The scheduled collectors (apalis, persisted in the same database).
#[derive(Debug, Clone, Deserialize)]
pub struct JobsSettings {
    /// Run the collectors in this process (turn off in extra API processes of a scaled-out setup).
    pub enabled: bool,
    /// Cron (with seconds) of the minute candles.
    pub candles_cron: String,
    /// Cron (with seconds) of the 15-minute sources.
    pub slow_cron: String,
    /// Cron (with seconds) of the prediction and scoring job: after the minute's candles arrive.
    pub predict_cron: String,
    /// Retries of a failed run (each re-fetches; upserts make that harmless).
    pub retries: usize,
    /// First retry delay, milliseconds; doubles per retry (with jitter), capped at a minute.
    pub backoff_ms: u64,
    /// Also run every job once at start (so a fresh server has data before the first tick).
    pub run_at_start: bool,
    /// `/api/health` turns `degraded` when, in a process that runs the jobs, the candles or
    /// predict job has had no successful run for this many seconds.
    pub stall_after_s: i64,
}

/// The `coincast worker` process.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkerSettings {
    /// Where the worker writes its jobs' health (JSON) every [`WorkerSettings::health_every_s`]
    /// seconds; none by default.
    pub health_file: Option<PathBuf>,
    pub health_every_s: u64,
}

/// Offline replay of recorded candles instead of the live candle source.
#[derive(Debug, Clone, Deserialize)]
pub struct ReplaySettings {
    pub enabled: bool,
    /// Folder of 1-minute or 5-minute history files; unset: a sample bundled in the binary.
    pub dir: Option<PathBuf>,
    /// Which bundled sample (without `dir`): `binance-5m-2025-06` (the default: the ten default
    /// coins, 5-minute candles) or `binance-1m-2021-05` (BTC, LTC and XRP, minute candles).
    #[serde(default)]
    pub sample: ReplaySample,
}

/// A recording bundled in the binary (`replay.sample`; `collect::replay` holds the data).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum ReplaySample {
    /// The default: 15 days of Binance 5-minute candles of the ten default coins, 2025-06-01
    /// 00:00 to 2025-06-15 23:55 UTC (cut from ../shared/data's 5-minute feather files by
    /// `scripts/cut-replay-sample.py`): after every shipped model's training and gate spans.
    #[default]
    #[serde(rename = "binance-5m-2025-06")]
    FiveMinutes2025,
    /// 8 days of Binance BTC/USDT, LTC/USDT, XRP/USDT minute candles, 2021-05-12 20:41 to
    /// 2021-05-20 20:40 UTC (cut from ../shared/data/binance-1m-2021-04_2021-05b): a replay at
    /// the live collectors' own bar size, one new candle a minute.
    #[serde(rename = "binance-1m-2021-05")]
    Minutes2021,
}

impl ReplaySample {
    /// Its id (what `replay.sample` names).
    pub const fn id(self) -> &'static str {
        match self {
            ReplaySample::FiveMinutes2025 => "binance-5m-2025-06",
            ReplaySample::Minutes2021 => "binance-1m-2021-05",
        }
    }
}

/// Where the HTTP server listens.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Requests per second each client address may make to `/api/*`, sustained (0: no limit).
    pub rate_limit_per_second: u32,
    /// Requests a client may make at once above the sustained rate (at least 1 when limiting).
    pub rate_limit_burst: u32,
    /// Proxies whose `X-Forwarded-For` is believed (exact addresses). Empty: the peer address is
    /// the client, whatever the header says.
    pub trusted_proxies: Vec<IpAddr>,
    /// Most `/api/stream` connections open at once; more get 503 with `Retry-After`.
    pub max_streams: usize,
    /// Seconds without events after which a stream gets a `: keep-alive` comment line: it keeps
    /// proxies from closing an idle stream, and a write to a client that went away is how its
    /// slot is freed (within about two of these). At least 1.
    pub stream_keepalive_s: u64,
    /// Seconds the server waits for open requests after SIGTERM/SIGINT before dropping them.
    pub shutdown_timeout_s: u64,
}

/// The database. With no `url`, an embedded SQLite file `<data_dir>/coincast.db` is used.
#[derive(Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://path?mode=rwc` or `postgres://user:pass@host/db`.
    pub url: Option<String>,
    pub max_connections: u32,
    /// At start, retries of a failed connection (with a doubling backoff, at most a minute
    /// apart) before the process exits non-zero.
    pub connect_retries: usize,
    /// The first wait between two connection attempts at start, milliseconds.
    pub connect_backoff_ms: u64,
    /// How long a query waits for a pooled connection (or a new one) before failing, so that
    /// requests answer 503 quickly while the database is down; milliseconds.
    pub acquire_timeout_ms: u64,
    /// Whether `serve` and `worker` apply pending migrations at start (under a lock on
    /// PostgreSQL). Off: they refuse a database `coincast migrate` has not brought up to date.
    pub migrate_on_start: bool,
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("max_connections", &self.max_connections)
            .field("connect_retries", &self.connect_retries)
            .field("connect_backoff_ms", &self.connect_backoff_ms)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .field("migrate_on_start", &self.migrate_on_start)
            .finish()
    }
}

/// Hides the password of a `scheme://user:password@host` URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***{}", &url[..scheme_end], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The built web app (the output of `scripts/build-frontend`).
#[derive(Debug, Clone, Deserialize)]
pub struct FrontendSettings {
    /// The default, `frontend/dist`, is looked for beside the binary too ([`resolve_default`]).
    pub dist_dir: PathBuf,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// A tracing filter such as `info` or `coincast=debug,info`; `RUST_LOG` wins when set.
    pub filter: String,
    /// `pretty` for people, `json` for log shippers.
    pub format: LogFormat,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Settings {
    /// Where retrained models are written as content-addressed files (`<data_dir>/models`).
    pub fn model_store_dir(&self) -> PathBuf {
        self.data_dir.join("models")
    }

    /// The defaults alone (as a builder, so tests and `load` can layer on top). The paths into the
    /// checkout ([`CHECKOUT_PATHS`]) are relative here; `load` resolves them.
    pub fn defaults() -> anyhow::Result<config::ConfigBuilder<config::builder::DefaultState>> {
        Self::with_defaults(config::Config::builder())
    }

    /// `builder` with the built-in defaults under its layers (defaults always rank lowest).
    pub(crate) fn with_defaults(
        builder: config::ConfigBuilder<config::builder::DefaultState>,
    ) -> anyhow::Result<config::ConfigBuilder<config::builder::DefaultState>> {
        Ok(builder
            .set_default("data_dir", "data")?
            .set_default("server.host", "127.0.0.1")?
            .set_default("server.port", 8080)?
            .set_default("server.workers", 0)?
            // See README "Limits": far above what the web app (a burst of ~10 reads per page,
            // then a few every 15 s) or a bot polling every second needs, yet a loop hammering
            // the API from one address is cut to 50 requests/s.
            .set_default("server.rate_limit_per_second", 50)?
            .set_default("server.rate_limit_burst", 100)?
            .set_default("server.trusted_proxies", Vec::<String>::new())?
            // Each stream is a socket and ~5 queries every 2 s; 500 stays well inside the usual
            // 1024 open files and leaves the database room for the rest of the API.
            .set_default("server.max_streams", 500)?
            .set_default("server.stream_keepalive_s", 15)?
            .set_default("server.shutdown_timeout_s", 5)?
            .set_default("database.max_connections", 8)?
            .set_default("database.connect_retries", 10)?
            .set_default("database.connect_backoff_ms", 1_000)?
            .set_default("database.acquire_timeout_ms", 3_000)?
            .set_default("database.migrate_on_start", true)?
            .set_default("worker.health_every_s", 5)?
            .set_default("frontend.dist_dir", "frontend/dist")?
            .set_default("log.filter", "info")?
            .set_default("log.format", "pretty")?
            .set_default("upstream.bitstamp", "https://www.bitstamp.net")?
            .set_default("upstream.mempool", "https://mempool.space")?
            .set_default("upstream.blockchain", "https://api.blockchain.info")?
            .set_default("upstream.bitinfocharts", "https://bitinfocharts.com")?
            .set_default("upstream.yahoo", "https://query2.finance.yahoo.com")?
            .set_default("upstream.timeout_ms", 10_000)?
            .set_default("jobs.enabled", true)?
            .set_default("jobs.candles_cron", "5 * * * * *")?
            .set_default("jobs.slow_cron", "10 0,15,30,45 * * * *")?
            .set_default("jobs.retries", 3)?
            .set_default("jobs.backoff_ms", 2_000)?
            .set_default("jobs.run_at_start", true)?
            .set_default("jobs.predict_cron", "20 * * * * *")?
            .set_default("jobs.stall_after_s", 300)?
            .set_default("retention.predictions_days", 0)?
            .set_default("retention.candles_days", 0)?
            .set_default("retention.done_jobs_hours", 24)?
            .set_default("retention.failed_jobs_days", 7)?
            .set_default("models.dir", "models/artifacts")?
            .set_default("models.backfill_hours", 24)?
            .set_default("retrain.enabled", true)?
            .set_default("retrain.cron", "0 0 3 * * Sun")?
            .set_default("retrain.window_days", 7)?
            .set_default("retrain.history_days", 180)?
            .set_default("retrain.epochs", 12)?
            .set_default("retrain.coins", Vec::<String>::new())?
            .set_default("retrain.horizons", Vec::<String>::new())?
            .set_default("replay.enabled", false)?)
    }
}

/// The defaults that are paths into the checkout: the shipped models and the built web app.
pub(crate) const CHECKOUT_PATHS: [(&str, &str); 2] = [
    ("models.dir", "models/artifacts"),
    ("frontend.dist_dir", "frontend/dist"),
];

/// Where a default path into the checkout (`relative`, such as `models/artifacts`) is, for a
/// binary at `exe`: the first that `exists` of `relative` from the working directory, beside the
/// binary, under its install prefix (`<prefix>/bin/coincast` reads
/// `<prefix>/share/coincast/<relative>`), then in the binary's further ancestors (a checkout's
/// `target/release/coincast` reads the checkout's). When none exists, `relative` as it is, so the
/// error names the path a reader expects.
pub fn resolve_default(relative: &Path, exe: Option<&Path>, exists: impl Fn(&Path) -> bool) -> PathBuf {
    let mut candidates = vec![relative.to_path_buf()];
    if let Some(dir) = exe.and_then(Path::parent) {
        candidates.push(dir.join(relative));
        if let Some(prefix) = dir.parent() {
            candidates.push(prefix.join("share/coincast").join(relative));
        }
        candidates.extend(dir.ancestors().skip(1).map(|a| a.join(relative)));
    }
    candidates
        .into_iter()
        .find(|p| exists(p))
        .unwrap_or_else(|| relative.to_path_buf())
}

pub(crate) fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("path {} is not valid UTF-8", path.display()))
}
