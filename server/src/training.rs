//! `coincast train`: reads history files, trains and evaluates one model per coin and horizon
//! (walk-forward, see `models::train`), writes ONNX files, model cards and `models/REPORT.md`.
//! CPU-bound: runs on blocking threads, coins and horizons in parallel on every core.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use models::card::{CoveragePoint, ModelCard};
use models::features::{Dataset, FEATURE_VERSION, FeatureSpec};
use models::history::{self, Bar};
use models::metrics::{Metrics, accuracy_at_coverage};
use models::onnx::OnnxModel;
use models::series::{self, SeriesSet};
use models::train::{CoinHistory, Plan, Trained, default_plan, reliability, train_one, write};
use sea_orm::DatabaseConnection;
use shared::{Coin, Horizon};

use crate::entities::candle;

use crate::cli::{EvaluateArgs, TrainArgs};

/// The history file for a coin at a bar size, in the `../shared/data` layout.
fn history_file(root: &Path, coin: Coin, horizon: Horizon) -> PathBuf {
    if horizon == Horizon::M30 {
        root.join(format!(
            "binance-5m-1h-2020-12_2021-07/{}_USDT-5m.json",
            coin.ticker()
        ))
    } else {
        root.join(format!("bitstamp-1h/Bitstamp_{}USD_1h.csv", coin.ticker()))
    }
}

fn load(path: &Path) -> anyhow::Result<(Vec<Bar>, i64)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let h = history::parse(&text).map_err(|e| e.in_file(path.display().to_string()))?;
    Ok((h.bars, h.interval_s))
}

fn commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The daily series files in the `../shared/data` layout, by the series id the collectors store.
/// S&P 500 history is SPY (the ETF tracking it; its daily changes match the index's closely); the
/// live collector reads ^GSPC itself.
const SERIES_FILES: [(&str, &str); 6] = [
    ("gold", "macro-daily-yahoo/GC=F.csv"),
    ("sp500", "macro-daily-yahoo/SPY.csv"),
    ("oil", "macro-daily-yahoo/CL=F.csv"),
    ("msci_world", "macro-daily-yahoo/URTH.csv"),
    (
        "mempool_count",
        "onchain-macro-daily/upd20210320_22_mempool-count.csv",
    ),
    (
        "tps",
        "onchain-macro-daily/upd20210320_20_transactions-per-second.csv",
    ),
];

/// The external series found under `root` (missing files are left out: plans then skip the
/// feature sets that need them, and the cards say so).
pub fn load_series(root: &Path) -> anyhow::Result<(SeriesSet, Vec<String>)> {
    let mut set = SeriesSet::default();
    let mut sources = Vec::new();
    for (name, file) in SERIES_FILES {
        let path = root.join(file);
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let obs = series::parse_csv(&text).map_err(|e| e.in_file(path.display().to_string()))?;
        set.insert(name, &obs);
        sources.push(format!("{name}: {file}"));
    }
    Ok((set, sources))
}

fn selection(args: &TrainArgs) -> (Vec<Coin>, Vec<Horizon>) {
    let coins = if args.coins.is_empty() {
        Coin::ALL.to_vec()
    } else {
        args.coins.clone()
    };
    let horizons = if args.horizons.is_empty() {
        Horizon::ALL.to_vec()
    } else {
        args.horizons.clone()
    };
    (coins, horizons)
}

/// What to train, from history files laid out as `../shared/data`.
pub fn jobs_from_files(args: &TrainArgs) -> anyhow::Result<Vec<(CoinHistory, Plan)>> {
    let (coins, horizons) = selection(args);
    let (series, series_sources) = load_series(&args.data_root)?;
    let mut jobs = Vec::new();
    for &coin in &coins {
        for &horizon in &horizons {
            let path = history_file(&args.data_root, coin, horizon);
            let (bars, interval_s) = load(&path)?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut plan = default_plan(horizon, (interval_s / 60) as u32);
            plan.train.epochs = args.epochs;
            jobs.push((
                CoinHistory {
                    coin,
                    bars,
                    interval_s,
                    sources: vec![name],
                    series: series.clone(),
                    series_sources: series_sources.clone(),
                },
                plan,
            ));
        }
    }
    Ok(jobs)
}

/// What to train, from the app's own database (after `import`, `backfill` or collecting): bars of
/// the plan's size as stored, completed by resampled minute candles; series from `series_points`.
pub async fn jobs_from_db(
    db: &DatabaseConnection,
    args: &TrainArgs,
) -> anyhow::Result<Vec<(CoinHistory, Plan)>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    let (coins, horizons) = selection(args);
    let mut set = SeriesSet::default();
    let mut series_sources = Vec::new();
    for (name, _) in SERIES_FILES {
        let obs = crate::store::read_series(db, name, i64::MIN, i64::MAX).await?;
        if obs.is_empty() {
            continue;
        }
        set.insert(name, &obs);
        series_sources.push(format!("{name}: database ({} points)", obs.len()));
    }
    let mut jobs = Vec::new();
    for &coin in &coins {
        for &horizon in &horizons {
            let bar_s: i64 = if horizon == Horizon::M30 { 300 } else { 3600 };
            let read = |interval: i64| {
                candle::Entity::find()
                    .filter(candle::Column::Coin.eq(coin.ticker()))
                    .filter(candle::Column::IntervalS.eq(interval as i32))
                    .order_by_asc(candle::Column::Ts)
                    .all(db)
            };
            let stored: Vec<Bar> = read(bar_s).await?.iter().map(candle::Model::bar).collect();
            let minutes: Vec<Bar> = read(60).await?.iter().map(candle::Model::bar).collect();
            let mut merged: std::collections::BTreeMap<i64, Bar> = history::resample(&minutes, 60, bar_s)
                .into_iter()
                .map(|b| (b.ts, b))
                .collect();
            let n_stored = stored.len();
            merged.extend(stored.into_iter().map(|b| (b.ts, b)));
            let bars: Vec<Bar> = merged.into_values().collect();
            if bars.is_empty() {
                anyhow::bail!(
                    "{coin}: no candles in the database to make {bar_s} s bars (import or backfill first)"
                );
            }
            let mut plan = default_plan(horizon, (bar_s / 60) as u32);
            plan.train.epochs = args.epochs;
            jobs.push((
                CoinHistory {
                    coin,
                    bars,
                    interval_s: bar_s,
                    sources: vec![format!(
                        "database: {n_stored} stored {bar_s} s bars and {} minute candles",
                        minutes.len()
                    )],
                    series: set.clone(),
                    series_sources: series_sources.clone(),
                },
                plan,
            ));
        }
    }
    Ok(jobs)
}

/// Trains `jobs` on every core and writes the models, cards and report.
pub fn run(args: &TrainArgs, jobs: Vec<(CoinHistory, Plan)>) -> anyhow::Result<()> {
    let started = Instant::now();
    let commit = commit();
    let total = jobs.len();
    let queue = Mutex::new(jobs.into_iter().enumerate());
    let results = Mutex::new(Vec::<Trained>::new());
    let errors = Mutex::new(Vec::<anyhow::Error>::new());
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().map(|mut q| q.next()).ok().flatten();
                    let Some((i, (history, plan))) = next else { break };
                    let t = Instant::now();
                    let mut log =
                        |line: String| eprintln!("[{:>4.0} s] {line}", started.elapsed().as_secs_f64());
                    match train_one(&history, &plan, commit.clone(), &mut log) {
                        Ok(trained) => {
                            eprintln!(
                                "[{:>4.0} s] ({}/{total}) {} done in {:.1} s",
                                started.elapsed().as_secs_f64(),
                                i + 1,
                                trained.card.id,
                                t.elapsed().as_secs_f64()
                            );
                            if let Ok(mut r) = results.lock() {
                                r.push(trained);
                            }
                        }
                        Err(e) => {
                            if let Ok(mut errs) = errors.lock() {
                                errs.push(e.context(format!("{} {}", history.coin, plan.horizon)));
                            }
                        }
                    }
                }
            });
        }
    });
    let errors = errors.into_inner().unwrap_or_default();
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|t| (t.card.coin, t.card.horizon));
    for trained in &results {
        write(trained, &args.out)?;
    }
    let cards = models::train::read_cards(&args.out)?;
    let note = format!(
        "Produced by `coincast train` on this machine in {:.0} s ({} models, seed {}).",
        started.elapsed().as_secs_f64(),
        results.len(),
        results.first().map_or(0, |t| t.card.seed)
    );
    models::report::write_report(
        &cards,
        &args.report_dir,
        &note,
        models::report::WALK_FORWARD_METHOD,
    )?;
    eprintln!(
        "trained {} models in {:.0} s; cards in {}, report in {}",
        results.len(),
        started.elapsed().as_secs_f64(),
        args.out.display(),
        args.report_dir.join("REPORT.md").display()
    );
    Ok(())
}

/// `coincast evaluate`: scores every model whose coin a file holds, on that file's bars
/// (resampled to the model's bar size), and writes a report like training's.
pub fn evaluate(args: &EvaluateArgs) -> anyhow::Result<()> {
    let cards = models::train::read_cards(&args.models)?;
    anyhow::ensure!(!cards.is_empty(), "no model cards in {}", args.models.display());
    let (series, _) = load_series(&args.data_root)?;
    let mut evaluated: Vec<ModelCard> = Vec::new();
    println!("| model | file | n | accuracy [95% CI] | baseline | p | Brier | log loss | note |");
    println!("|---|---|---:|---|---:|---:|---:|---:|---|");
    for file in &args.files {
        let coin = crate::import::coin_in_name(file)
            .with_context(|| format!("{}: no BTC, LTC or XRP in the file name", file.display()))?;
        let (bars, interval_s) = load(file)?;
        for card in cards.iter().filter(|c| c.coin == coin) {
            anyhow::ensure!(
                card.features.version == FEATURE_VERSION,
                "{}: feature version {} is not {FEATURE_VERSION}",
                card.id,
                card.features.version
            );
            let bar_s = card.features.bar_seconds;
            if bar_s % interval_s != 0 {
                eprintln!(
                    "{}: skipped for {} ({} s bars cannot make {} s bars)",
                    card.id,
                    file.display(),
                    interval_s,
                    bar_s
                );
                continue;
            }
            let bars = history::resample(&bars, interval_s, bar_s);
            let spec = FeatureSpec {
                periods: card.features.periods,
                first_period_bars: card.features.first_period_bars,
                growth: card.features.growth,
                series: card.features.series.clone(),
            };
            let horizon_bars = (i64::from(card.horizon.minutes()) * 60 / bar_s) as usize;
            let data = Dataset::build_with(&spec, &bars, bar_s, horizon_bars, &series);
            if data.is_empty() {
                eprintln!(
                    "{}: no complete samples in {} (series needed: {})",
                    card.id,
                    file.display(),
                    if spec.series.is_empty() {
                        "none".to_owned()
                    } else {
                        spec.series.join(", ")
                    }
                );
                continue;
            }
            let model = OnnxModel::load(&args.models.join(&card.onnx_file), card.features.names.len())?;
            let p: Vec<f64> = model.predict(&data.x)?.into_iter().map(f64::from).collect();
            let m = Metrics::compute(&data.y, &p).context("no rows")?;
            let from = chrono::DateTime::from_timestamp(data.ts[0], 0)
                .map(|d| d.to_rfc3339())
                .unwrap_or_default();
            let to = chrono::DateTime::from_timestamp(*data.ts.last().unwrap_or(&0), 0)
                .map(|d| d.to_rfc3339())
                .unwrap_or_default();
            // Honest labelling: rows inside the training span are not out of sample.
            let overlaps =
                from.as_str() <= card.training.to.as_str() && to.as_str() >= card.training.from.as_str();
            let note = if overlaps {
                "OVERLAPS the training span: not out of sample"
            } else {
                "after training: out of sample"
            };
            println!(
                "| {} | {} | {} | {:.1}% [{:.1}, {:.1}] | {:.1}% | {:.3} | {:.4} | {:.4} | {note} |",
                card.id,
                file.display(),
                m.n,
                100.0 * m.accuracy,
                100.0 * m.wilson_low,
                100.0 * m.wilson_high,
                100.0 * m.baseline_accuracy,
                m.p_value,
                m.brier,
                m.log_loss
            );
            let mut card = card.clone();
            if overlaps {
                card.model_name = format!("{} **IN-SAMPLE**", card.model_name);
            }
            card.walk_forward.metrics = m.clone();
            card.walk_forward.test_from = from;
            card.walk_forward.test_to = to;
            card.walk_forward.folds = 1;
            card.walk_forward.accuracy_vs_coverage = [0.1, 0.25, 0.5, 1.0]
                .into_iter()
                .filter_map(|c| {
                    accuracy_at_coverage(&data.y, &p, c).map(|(accuracy, n)| CoveragePoint {
                        coverage: c,
                        accuracy,
                        n,
                    })
                })
                .collect();
            card.walk_forward.reliability = reliability(&data.y, &p, 10);
            card.training.sources = vec![format!(
                "evaluated on {}{}",
                file.display(),
                if overlaps { " (overlaps training)" } else { "" }
            )];
            evaluated.push(card);
        }
    }
    evaluated.sort_by_key(|c| (c.coin, c.horizon));
    let note = format!(
        "Produced by `coincast evaluate` on {}: the shipped models scored on these files as they are (no retraining). \
The accuracy columns hold this evaluation; the shuffled-split column is the training-time contrast.",
        args.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let method = "Each model scored every complete sample of the file (resampled to its bar size). A row marked \
**IN-SAMPLE** comes from a file whose span overlaps that model's training span: its figure is not out of sample \
and says nothing about future performance. The other rows postdate training and are out of sample. **Baseline** \
is always predicting the majority class of the same rows; **p** the one-sided binomial probability of doing at \
least this well at the baseline's rate.";
    models::report::write_report(&evaluated, &args.report_dir, &note, method)?;
    eprintln!("report in {}", args.report_dir.join("REPORT.md").display());
    Ok(())
}
