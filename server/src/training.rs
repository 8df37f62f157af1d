//! `coincast train`: reads history files, trains and evaluates one model per coin and horizon
//! (walk-forward, see `models::train`), writes ONNX files, model cards and `models/REPORT.md`.
//! CPU-bound: runs on blocking threads, coins and horizons in parallel on every core.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use models::history::{self, Bar};
use models::train::{CoinHistory, Trained, default_plan, train_one, write};
use shared::{Coin, Horizon};

use crate::cli::TrainArgs;

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

/// Runs the whole training.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let started = Instant::now();
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
                },
                plan,
            ));
        }
    }
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
    models::report::write_report(&cards, &args.report_dir, &note)?;
    eprintln!(
        "trained {} models in {:.0} s; cards in {}, report in {}",
        results.len(),
        started.elapsed().as_secs_f64(),
        args.out.display(),
        args.report_dir.join("REPORT.md").display()
    );
    Ok(())
}
