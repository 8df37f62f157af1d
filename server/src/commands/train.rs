//! `coincast train`: reads history files (or the app's database), trains and evaluates one model
//! per coin and horizon (walk-forward, see `models::train`), writes ONNX files, model cards and
//! `models/REPORT.md`. CPU-bound: runs on blocking threads, coins and horizons in parallel on
//! every core.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use models::history::{self, Bar};
use models::series::SeriesSet;
use models::train::{CoinHistory, Plan, Trained, default_plan, train_one, write};
use sea_orm::DatabaseConnection;
use shared::{Coin, Horizon};

use crate::cli::TrainArgs;
use crate::clock::MINUTE_S;
use crate::commands::{SERIES_FILES, load, load_series};
use crate::config::Settings;
use crate::db;

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

fn commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
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

/// The trading costs of the strategy evaluation.
fn costs(args: &TrainArgs) -> models::strategy::Costs {
    models::strategy::Costs {
        fee_bps: args.fee_bps,
        slippage_bps: args.slippage_bps,
    }
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
            plan.costs = costs(args);
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
    let (coins, horizons) = selection(args);
    let mut set = SeriesSet::default();
    let mut series_sources = Vec::new();
    for (name, _) in SERIES_FILES {
        let obs = db::series::read_series(db, name, i64::MIN, i64::MAX).await?;
        if obs.is_empty() {
            continue;
        }
        set.insert(name.as_str(), &obs);
        series_sources.push(format!("{name}: database ({} points)", obs.len()));
    }
    let mut jobs = Vec::new();
    for &coin in &coins {
        for &horizon in &horizons {
            let bar_s: i64 = if horizon == Horizon::M30 { 300 } else { 3600 };
            let stored = db::candles::all_of(db, coin, bar_s).await?;
            let minutes = db::candles::all_of(db, coin, MINUTE_S).await?;
            let mut merged: std::collections::BTreeMap<i64, Bar> =
                history::resample(&minutes, MINUTE_S, bar_s)
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
            plan.costs = costs(args);
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

/// `coincast train`: from the history files, or with `--from-db` from the app's database.
pub async fn main(args: TrainArgs, settings: &Settings) -> anyhow::Result<()> {
    let jobs = if args.from_db {
        jobs_from_db(&db::open(settings).await?, &args).await?
    } else {
        jobs_from_files(&args)?
    };
    tokio::task::spawn_blocking(move || run(&args, jobs)).await?
}
