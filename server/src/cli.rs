//! The command line: `coincast [--data-dir DIR] [--config FILE] <serve|worker|migrate|...>`.
//! Flags override the settings file and the `COINCAST__...` environment (see `config.rs`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::Settings;

/// coincast: UP or DOWN for the configured coins over the next 30 min to 12 h, with honest accuracy.
#[derive(Debug, Parser)]
#[command(name = "coincast", version, about)]
pub struct Cli {
    /// Where the embedded SQLite database and other state live (created on first run).
    #[arg(long, global = true, env = "COINCAST_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// An optional settings file (TOML); environment variables `COINCAST__SECTION__KEY` override it.
    #[arg(long, global = true, env = "COINCAST_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API and serve the web app (and, unless `--no-jobs`, the scheduled jobs).
    Serve(ServeArgs),
    /// Run the scheduled jobs only (collectors, predictions, scoring, maintenance), no HTTP
    /// listener: the one job process of a scaled-out setup beside `serve --no-jobs` processes.
    Worker(WorkerArgs),
    /// Apply pending database migrations and create the job tables (what `serve` and `worker` do
    /// at start unless `database.migrate_on_start` is off), under a lock on PostgreSQL.
    Migrate(MigrateArgs),
    /// Print the OpenAPI document (YAML) generated from the code.
    Openapi,
    /// Train, evaluate walk-forward and export the 18 models (ONNX + model cards + REPORT.md).
    Train(TrainArgs),
    /// Retrain every coin and horizon on the app's own data now, and promote a challenger only
    /// past the gate (what the weekly `retrain` job does); prints every decision.
    Retrain(RetrainArgs),
    /// Score the trained models on history files (out of sample when the files postdate training).
    Evaluate(EvaluateArgs),
    /// Load history files (CryptoDataDownload CSV, freqtrade JSON) into the database.
    Import(ImportArgs),
    /// Pull minute-candle history from Bitstamp into the database (resumable).
    Backfill(BackfillArgs),
}

/// `coincast retrain`: the settings' `retrain` section, overridden by these flags.
#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// Only these coins (repeat for several; default: the settings', else all); the pooled
    /// candidates still learn from every served coin.
    #[arg(long = "coin")]
    pub coins: Vec<shared::Coin>,
    /// Only these horizons (default: the settings', else all).
    #[arg(long = "horizon")]
    pub horizons: Vec<shared::Horizon>,
    /// The most recent days both models are scored on.
    #[arg(long)]
    pub window_days: Option<i64>,
    /// Days of history before the window the challenger learns from.
    #[arg(long)]
    pub history_days: Option<i64>,
    /// A check of the gate itself: train the challengers on shuffled labels (they learn nothing,
    /// and the gate must keep every champion).
    #[arg(long)]
    pub shuffled_labels: bool,
    /// Decide as of this day (UTC, `YYYY-MM-DD`) instead of now: the window ends there (for
    /// imported history that ends before today).
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Also write every challenger (promoted or not, its card carrying the gate's decision) into
    /// this folder as `<COIN>-<horizon>.onnx` and `.json`, with REPORT.md beside: how the shipped
    /// models are made from imported history.
    #[arg(long)]
    pub ship: Option<PathBuf>,
}

/// `coincast backfill`.
#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// The coin (a ticker, as BTC; repeat for several; default every configured coin).
    #[arg(long = "coin")]
    pub coins: Vec<shared::Coin>,
    /// First day (UTC), `YYYY-MM-DD`.
    #[arg(long)]
    pub from: chrono::NaiveDate,
    /// Last day (UTC, inclusive), `YYYY-MM-DD`; default: up to now.
    #[arg(long)]
    pub to: Option<chrono::NaiveDate>,
    /// Pause between pages, milliseconds (be polite to the exchange).
    #[arg(long, default_value_t = 1_000)]
    pub pause_ms: u64,
}

/// `coincast import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The files (CryptoDataDownload CSV; freqtrade feather, JSON or jsongz) or folders of them (a
    /// freqtrade `user_data/data/binance` folder as it is); each file is parsed whole first, and a
    /// file with a bad row is refused (nothing written).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Import the files as this daily or sampled series (`gold`, `sp500`, `oil`, `msci_world`,
    /// `mempool_count`, `tps`, ...) instead of candles: Yahoo CSV exports or blockchain.com chart
    /// CSVs.
    #[arg(long)]
    pub series: Option<crate::collect::sources::SeriesId>,
}

/// `coincast evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The folder with the model cards and ONNX files.
    #[arg(long, default_value = "models/artifacts")]
    pub models: PathBuf,
    /// Where the evaluation's REPORT.md and plots go.
    #[arg(long, default_value = "models/evaluation")]
    pub report_dir: PathBuf,
    /// Where the daily on-chain and market series are (laid out as ../shared/data), for models
    /// that use them.
    #[arg(long, default_value = "../shared/data")]
    pub data_root: PathBuf,
    /// Trading cost per side for the strategy evaluation, in basis points (default: Binance's spot
    /// taker fee, regular tier).
    #[arg(long, default_value_t = models::strategy::DEFAULT_FEE_BPS)]
    pub fee_bps: f64,
    /// Slippage per side, in basis points, on top of the fee.
    #[arg(long, default_value_t = models::strategy::DEFAULT_SLIPPAGE_BPS)]
    pub slippage_bps: f64,
    /// Score only the predictions made on or after this day (UTC, `YYYY-MM-DD`); earlier bars
    /// still feed their features. For a window no model trained on, such as the gate's.
    #[arg(long)]
    pub from: Option<chrono::NaiveDate>,
    /// Score only the predictions made before this day (UTC, `YYYY-MM-DD`).
    #[arg(long)]
    pub to: Option<chrono::NaiveDate>,
    /// Also write one CSV row per scored prediction here (time, coin, horizon, model, p_up, the
    /// signal at the card's threshold, what happened, each simple rule's call, in-sample or
    /// not), so every printed figure can be recomputed outside coincast.
    #[arg(long)]
    pub rows_out: Option<PathBuf>,
    /// Also write every model's signals here as a bot would have received them
    /// (`published_at,pair,horizon,signal,confidence`: what `integrations/freqtrade` backtests):
    /// published the tick's `--publish-delay-s` after each prediction time.
    #[arg(long)]
    pub signals_out: Option<PathBuf>,
    /// Also write, into this folder, each model's ledger of those signals followed as a bot can
    /// (`models::fills`: the next candle's open after publication, held for the horizon, costs of
    /// `--fee-bps` plus `--slippage-bps` per side) as `<COIN>-<horizon>.csv`, the trades
    /// freqtrade's backtester must reproduce.
    #[arg(long)]
    pub ledger_out: Option<PathBuf>,
    /// Seconds from a prediction's time to its publication (the live tick's second).
    #[arg(long, default_value_t = 5)]
    pub publish_delay_s: i64,
    /// Trade at this confidence threshold (0 to 1) instead of the one each card chose on its
    /// training folds (for the signals, the ledgers, the rows and the trading table, which says
    /// so): `0` makes every prediction a LONG or SHORT.
    #[arg(long, value_parser = parse_unit)]
    pub threshold: Option<f64>,
    /// The ledger takes LONG signals only (spot: no shorting).
    #[arg(long)]
    pub long_only: bool,
    /// History files (CryptoDataDownload CSV; freqtrade feather, JSON or jsongz) or folders of
    /// them; the coin is read from the file name (freqtrade's `ETH_USDT-5m.feather`). Of several files of a coin in one folder, each model is
    /// scored on the one with the largest bars that make its bar size (the least resampling).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// `coincast train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The history folder (laid out as ../shared/data: the Binance 2024-01..2025-06 folders,
    /// `<COIN>_USDT-1h.json` for 1 h and longer horizons, `<COIN>_USDT-5m.json` for 30 min).
    #[arg(long, default_value = "../shared/data")]
    pub data_root: PathBuf,
    /// Where ONNX files and model cards go.
    #[arg(long, default_value = "models/artifacts")]
    pub out: PathBuf,
    /// Where REPORT.md and its plots go.
    #[arg(long, default_value = "models")]
    pub report_dir: PathBuf,
    /// Only these coins (default: every configured coin).
    #[arg(long = "coin")]
    pub coins: Vec<shared::Coin>,
    /// Only these horizons (default: all).
    #[arg(long = "horizon")]
    pub horizons: Vec<shared::Horizon>,
    /// Training epochs per fit.
    #[arg(long, default_value_t = 12)]
    pub epochs: usize,
    /// Trading cost per side for the strategy evaluation, in basis points (default: Binance's spot
    /// taker fee, regular tier).
    #[arg(long, default_value_t = models::strategy::DEFAULT_FEE_BPS)]
    pub fee_bps: f64,
    /// Slippage per side, in basis points, on top of the fee (a bot acts after it reads the
    /// prediction: its fill is not the signal bar's close).
    #[arg(long, default_value_t = models::strategy::DEFAULT_SLIPPAGE_BPS)]
    pub slippage_bps: f64,
    /// Train on these history files (CryptoDataDownload CSV; freqtrade feather, JSON or jsongz)
    /// or every candle file in these folders (a model whose bar size no file has learns from a
    /// finer file's candles resampled to it: freqtrade's 5-minute files train every horizon)
    /// instead of the
    /// folders under `--data-root`: the coin is read from each file's name; 1 h and longer
    /// horizons learn from the hourly files, 30 min from the 5-minute ones, and a coin and horizon
    /// with no such file is skipped. For models of another period, such as Bitstamp 2017-2019.
    #[arg(long = "history", value_name = "FILE", num_args = 1.., conflicts_with = "from_db")]
    pub history: Vec<PathBuf>,
    /// Train on the app's own database (after `import`, `backfill` or collecting) instead of
    /// the history files under `--data-root`.
    #[arg(long)]
    pub from_db: bool,
    /// Train only on data before this day (UTC, `YYYY-MM-DD`): keeps a later window unseen, for
    /// `--gate-against`.
    #[arg(long)]
    pub until: Option<chrono::NaiveDate>,
    /// Gate every new model against the running one in this folder (the champion) on the rows
    /// from `--until` to `--gate-until` (or the end of the data), which the new model never
    /// trained on, and write only those the gate promotes into `--out` (the others keep the
    /// champion's files). Needs `--until`.
    #[arg(long, requires = "until", value_name = "DIR")]
    pub gate_against: Option<PathBuf>,
    /// The gate's window ends here (UTC day): only rows whose outcome is known before this day
    /// decide, so the months after it stay unseen by every choice, for a report scored once
    /// (`coincast evaluate --from` this day).
    #[arg(long, requires = "gate_against")]
    pub gate_until: Option<chrono::NaiveDate>,
}

/// `coincast serve`.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long)]
    pub host: Option<String>,
    /// Port to listen on (0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Replay recorded candles as if live instead of fetching them (works with no internet):
    /// `--replay` alone replays the bundled sample, `--replay DIR` the 1-minute files in DIR.
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub replay: Option<Option<PathBuf>>,
    /// Do not run the scheduled collectors in this process (extra API processes of a scaled-out
    /// setup; one process runs them).
    #[arg(long)]
    pub no_jobs: bool,
}

/// `coincast worker`.
#[derive(Debug, Args, Default)]
pub struct WorkerArgs {
    /// Replay recorded candles as if live instead of fetching them (works with no internet):
    /// `--replay` alone replays the bundled sample, `--replay DIR` the 1-minute files in DIR.
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub replay: Option<Option<PathBuf>>,
    /// Write the jobs' health (JSON, `status` `ok` or `degraded`) to this file every few seconds,
    /// for a probe (`worker.health_file`).
    #[arg(long, value_name = "FILE")]
    pub health_file: Option<PathBuf>,
}

/// `coincast migrate`.
#[derive(Debug, Args, Default)]
pub struct MigrateArgs {
    /// Only report how many migrations are applied.
    #[arg(long)]
    pub status: bool,
}

/// A number from 0 to 1.
fn parse_unit(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("{s:?} is not a number from 0 to 1")),
    }
}

/// The settings for a command line: the command line is the top of the layers (`config.rs` knows
/// nothing of it).
impl Settings {
    /// Loads the layers for this command line.
    pub fn load(cli: &Cli) -> anyhow::Result<Self> {
        // The layers above the defaults first: what they set is used as given.
        let mut builder = config::Config::builder();
        if let Some(path) = &cli.config {
            builder = builder.add_source(config::File::from(path.as_path()).required(true));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("COINCAST")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("server.trusted_proxies"),
        );
        if let Some(dir) = &cli.data_dir {
            builder = builder.set_override("data_dir", crate::config::path_str(dir)?)?;
        }
        if let Command::Serve(args) = &cli.command {
            if let Some(host) = &args.host {
                builder = builder.set_override("server.host", host.as_str())?;
            }
            if let Some(port) = args.port {
                builder = builder.set_override("server.port", port)?;
            }
            if let Some(replay) = &args.replay {
                builder = builder.set_override("replay.enabled", true)?;
                if let Some(dir) = replay {
                    builder = builder.set_override("replay.dir", crate::config::path_str(dir)?)?;
                }
            }
            if args.no_jobs {
                builder = builder.set_override("jobs.enabled", false)?;
            }
        }
        if let Command::Worker(args) = &cli.command {
            // A worker is its jobs.
            builder = builder.set_override("jobs.enabled", true)?;
            if let Some(replay) = &args.replay {
                builder = builder.set_override("replay.enabled", true)?;
                if let Some(dir) = replay {
                    builder = builder.set_override("replay.dir", crate::config::path_str(dir)?)?;
                }
            }
            if let Some(file) = &args.health_file {
                builder = builder.set_override("worker.health_file", crate::config::path_str(file)?)?;
            }
        }
        let given = builder.build_cloned().context("reading settings")?;
        let mut builder = Settings::with_defaults(builder)?;
        let exe = std::env::current_exe().ok();
        for (key, relative) in crate::config::CHECKOUT_PATHS {
            if given.get_string(key).is_err() {
                let path = crate::config::resolve_default(Path::new(relative), exe.as_deref(), Path::exists);
                builder = builder.set_default(key, crate::config::path_str(&path)?)?;
            }
        }
        let settings: Settings = builder
            .build()
            .context("reading settings")?
            .try_deserialize()
            .context("parsing settings")?;
        Ok(settings)
    }
}

#[cfg(test)]
mod settings_tests {
    //! Loading the settings from every layer (`config.rs`), the command line on top.
    use super::*;
    use crate::config::*;
    use std::net::IpAddr;

    #[test]
    fn flags_override_defaults() {
        let cli = Cli::parse_from(["coincast", "--data-dir", "/tmp/x", "serve", "--port", "9001"]);
        let s = Settings::load(&cli).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(s.server.port, 9001);
        assert_eq!(s.server.host, "127.0.0.1");
        assert_eq!(s.log.format, LogFormat::Pretty);
    }

    #[test]
    fn a_settings_file_is_layered_under_flags() {
        let dir = std::env::temp_dir().join(format!("coincast-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("coincast.toml");
        std::fs::write(
            &file,
            "[server]\nport = 7000\nhost = \"0.0.0.0\"\n[log]\nformat = \"json\"\n",
        )
        .unwrap();
        let cli = Cli::parse_from([
            "coincast",
            "--config",
            file.to_str().unwrap(),
            "serve",
            "--host",
            "::1",
        ]);
        let s = Settings::load(&cli).unwrap();
        assert_eq!(s.server.port, 7000);
        assert_eq!(s.server.host, "::1");
        assert_eq!(s.log.format, LogFormat::Json);
    }

    #[test]
    fn limits_have_defaults_and_trusted_proxies_parse() {
        let cli = Cli::parse_from(["coincast", "serve"]);
        let s = Settings::load(&cli).unwrap();
        assert_eq!(s.server.rate_limit_per_second, 50);
        assert_eq!(s.server.rate_limit_burst, 100);
        assert!(s.server.trusted_proxies.is_empty());
        assert_eq!(s.server.max_streams, 500);
        assert_eq!(s.server.stream_keepalive_s, 15);
        assert_eq!(s.server.shutdown_timeout_s, 5);
        let s: Settings = Settings::defaults()
            .unwrap()
            .set_override("server.trusted_proxies", vec!["10.0.0.1", "::1"])
            .unwrap()
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        assert_eq!(
            s.server.trusted_proxies,
            vec!["10.0.0.1".parse::<IpAddr>().unwrap(), "::1".parse().unwrap()]
        );
    }

    #[test]
    fn checkout_paths_are_found_from_the_working_directory_beside_the_binary_or_its_prefix() {
        let rel = Path::new("models/artifacts");
        // Where `rel` resolves for a binary at `exe` when only the paths `there` exist.
        let find = |exe: Option<&str>, there: &[&str]| {
            resolve_default(rel, exe.map(Path::new), |p| {
                there.iter().any(|t| p == Path::new(t))
            })
        };
        let built = Some("/src/coincast/target/release/coincast");
        let checkout = "/src/coincast/models/artifacts";
        // Run from the checkout: the relative path, as before.
        assert_eq!(find(built, &["models/artifacts", checkout]), rel);
        // Run from elsewhere: the checkout the binary sits in.
        assert_eq!(find(built, &[checkout]), Path::new(checkout));
        // Installed: beside the binary first, then the prefix's share/coincast.
        let installed = Some("/opt/coincast/bin/coincast");
        let shared = "/opt/coincast/share/coincast/models/artifacts";
        let beside = "/opt/coincast/bin/models/artifacts";
        assert_eq!(find(installed, &[shared]), Path::new(shared));
        assert_eq!(find(installed, &[shared, beside]), Path::new(beside));
        // Nowhere: the relative path, which the error then names.
        assert_eq!(find(built, &[]), rel);
        assert_eq!(find(None, &[]), rel);
    }

    #[test]
    fn a_configured_path_is_used_as_given() {
        let dir = std::env::temp_dir().join(format!("coincast-paths-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("coincast.toml");
        std::fs::write(&file, "[models]\ndir = \"nowhere/models\"\n").unwrap();
        let cli = Cli::parse_from(["coincast", "--config", file.to_str().unwrap(), "serve"]);
        let s = Settings::load(&cli).unwrap();
        assert_eq!(s.models.dir, PathBuf::from("nowhere/models"));
        // The one left at its default is resolved (wherever it is found, it names the same folder).
        let dist = &s.frontend.dist_dir;
        assert!(dist.ends_with("frontend/dist"), "{dist:?}");
    }

    #[test]
    fn passwords_are_redacted_in_debug_output() {
        let db = DatabaseSettings {
            url: Some("postgres://coin:s3cret@localhost:5432/coincast".into()),
            max_connections: 4,
            connect_retries: 1,
            connect_backoff_ms: 10,
            acquire_timeout_ms: 100,
            migrate_on_start: true,
        };
        let shown = format!("{db:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("postgres://coin:***@localhost:5432/coincast"),
            "{shown}"
        );
    }
}
