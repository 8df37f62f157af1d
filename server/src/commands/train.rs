//! `coincast train`: reads history files (or the app's database), trains and evaluates one model
//! per coin and horizon (walk-forward, see `models::train`), writes ONNX files, model cards and
//! `models/REPORT.md`. CPU-bound: runs on blocking threads, coins and horizons in parallel, one
//! model a core, each worker on a one-thread rayon pool of its own (`models::train::on_one_core`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use models::card::GateRecord;
use models::gate::{Decision, GateResult};
use models::history::Bar;
use models::train::{BaseBars, CoinHistory, Plan, Trained, default_plan, on_one_core, train_one, write};
use sea_orm::DatabaseConnection;
use shared::{Coin, Horizon};

use crate::cli::TrainArgs;
use crate::commands::{load, load_series};
use crate::config::Settings;
use crate::db;
use crate::predict::registry::Registry;
use crate::predict::retrain::{self, score_window};

/// The history files a coin's model of a horizon learns from, in the `../shared/data` layout,
/// and the model's bar size: the newest market we hold (Binance, 2024-01 to 2025-06). 30 min
/// models use 5-minute bars (a row every 5 minutes); 1 h to 12 h models hourly bars from the
/// hourly files (a row every hour), which cover the whole span (the 5-minute files miss four
/// months). The older files (Bitstamp 2017-2019, Binance 2020-2021) are kept for evaluation
/// across regimes (`coincast evaluate`). A coin those folders do not hold (ETH, SOL, DOGE...)
/// learns from freqtrade's 5-minute feather files ([`FEATHER_FOLDERS`]), hourly bars resampled
/// from them (they miss 2024-09 to 2024-12).
pub fn history_files(root: &Path, coin: Coin, horizon: Horizon) -> (Vec<PathBuf>, i64) {
    let (suffix, bar_s) = if horizon == Horizon::M30 {
        ("5m", 300)
    } else {
        ("1h", 3600)
    };
    let files: Vec<PathBuf> = TRAINING_FOLDERS
        .iter()
        .map(|folder| root.join(format!("{folder}/{}_USDT-{suffix}.json", coin.ticker())))
        .collect();
    if files.iter().any(|f| f.exists()) {
        return (files, bar_s);
    }
    // Any other coin: freqtrade's 5-minute feather files (resampled for 1 h and longer).
    let feather: Vec<PathBuf> = FEATHER_FOLDERS
        .iter()
        .map(|folder| root.join(format!("{folder}/{}_USDT-5m.feather", coin.ticker())))
        .filter(|f| f.exists())
        .collect();
    if feather.is_empty() {
        (files, bar_s)
    } else {
        (feather, bar_s)
    }
}

/// The folders of freqtrade's 5-minute feather files of 33 Binance pairs, oldest first: the
/// history of the coins the JSON folders ([`TRAINING_FOLDERS`]) do not hold.
pub const FEATHER_FOLDERS: [&str; 3] = [
    "binance-5m-30pairs-2024-01_2024-09",
    "binance-5m-14pairs-2024-12_2025-06",
    "binance-5m-19pairs-2025-01_2025-06",
];

/// The folders of the newest market data, oldest first.
pub const TRAINING_FOLDERS: [&str; 2] = ["binance-5m-1h-2024-01_2024-09", "binance-5m-1h-2024-09_2025-06"];

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
        crate::coins::DEFAULT.to_vec()
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

/// `--until` as a Unix time (midnight UTC).
fn until_of(args: &TrainArgs) -> Option<i64> {
    args.until.map(crate::clock::midnight)
}

/// What to train, from history files laid out as `../shared/data`, on the bars opening before
/// `until` (all of them without).
pub fn jobs_from_files(args: &TrainArgs, until: Option<i64>) -> anyhow::Result<Vec<(CoinHistory, Plan)>> {
    let (coins, horizons) = selection(args);
    let (series, series_sources) = load_series(&args.data_root)?;
    let mut jobs = Vec::new();
    // Each file is read once, though several horizons learn from it.
    let mut loaded: std::collections::HashMap<PathBuf, (Vec<Bar>, i64)> = Default::default();
    // `--history`: each file's coin and bar interval.
    let mut given = Vec::new();
    for (path, coin) in super::candle_inputs(&args.history)? {
        if !coins.contains(&coin) {
            continue;
        }
        let file = load(&path)?;
        given.push((path.clone(), coin, file.1));
        loaded.insert(path.clone(), file);
    }
    for &coin in &coins {
        for &horizon in &horizons {
            let (mut paths, bar_s) = history_files(&args.data_root, coin, horizon);
            if !args.history.is_empty() {
                let of = |fits: &dyn Fn(i64) -> bool| -> Vec<PathBuf> {
                    given
                        .iter()
                        .filter(|(_, c, interval_s)| *c == coin && fits(*interval_s))
                        .map(|(p, ..)| p.clone())
                        .collect()
                };
                paths = of(&|s| s == bar_s);
                // No file of the model's bar size (freqtrade folders often hold 5-minute candles
                // only): the finer files, resampled to it (complete buckets only).
                if paths.is_empty() {
                    paths = of(&|s| s < bar_s && bar_s % s == 0);
                }
                if paths.is_empty() {
                    continue;
                }
            }
            let mut merged = std::collections::BTreeMap::new();
            let mut interval = None;
            let mut names = Vec::new();
            for path in &paths {
                let (bars, interval_s) = match loaded.entry(path.clone()) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(load(path)?),
                };
                let interval_s = *interval_s;
                anyhow::ensure!(
                    interval.is_none_or(|i| i == interval_s),
                    "{}: {interval_s} s bars, but the other files of {coin} {horizon} have other bars",
                    path.display()
                );
                interval = Some(interval_s);
                if interval_s == bar_s {
                    merged.extend(bars.iter().map(|b| (b.ts, *b)));
                } else {
                    let coarse = models::history::resample(bars, interval_s, bar_s);
                    merged.extend(coarse.into_iter().map(|b| (b.ts, b)));
                }
                // `folder/file`: the folders hold files of the same names.
                names.push(if args.history.is_empty() {
                    let resampled = if interval_s == bar_s {
                        String::new()
                    } else {
                        format!(" ({interval_s} s bars resampled to {bar_s} s)")
                    };
                    format!(
                        "{}{resampled}",
                        path.strip_prefix(&args.data_root).unwrap_or(path).display()
                    )
                } else {
                    // `folder/file` (freqtrade folders of different spans hold files of the
                    // same names), and what was resampled.
                    let tail: PathBuf = path
                        .iter()
                        .rev()
                        .take(2)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    let resampled = if interval_s == bar_s {
                        String::new()
                    } else {
                        format!(" ({interval_s} s bars resampled to {bar_s} s)")
                    };
                    format!("{}{resampled}", tail.display())
                });
            }
            let mut bars: Vec<Bar> = merged.into_values().collect();
            if let Some(until) = until {
                bars.retain(|b| b.ts < until);
            }
            let mut plan = default_plan(horizon, (bar_s / 60) as u32);
            plan.train.epochs = args.epochs;
            plan.costs = costs(args);
            jobs.push((
                CoinHistory {
                    coin,
                    parts: vec![BaseBars {
                        bars,
                        // Resampled bars are of the model's size.
                        interval_s: interval.map_or(bar_s, |i| i.max(bar_s)),
                    }],
                    sources: names,
                    series: series.clone(),
                    series_sources: series_sources.clone(),
                },
                plan,
            ));
        }
    }
    Ok(jobs)
}

pub use crate::predict::history::{bar_seconds, histories_from_db};

/// What to train, from the app's own database (after `import`, `backfill` or collecting), on the
/// bars opening before `until` (all of them without).
pub async fn jobs_from_db(
    db: &DatabaseConnection,
    args: &TrainArgs,
    until: Option<i64>,
) -> anyhow::Result<Vec<(CoinHistory, Plan)>> {
    let (coins, horizons) = selection(args);
    let until = until.unwrap_or(i64::MAX);
    let mut jobs = Vec::new();
    for history in histories_from_db(db, &coins, i64::MIN, until).await? {
        anyhow::ensure!(
            !history.parts.is_empty(),
            "{}: no candles in the database (import or backfill first)",
            history.coin
        );
        for &horizon in &horizons {
            let mut plan = default_plan(horizon, (bar_seconds(horizon) / 60) as u32);
            plan.train.epochs = args.epochs;
            plan.costs = costs(args);
            jobs.push((history.clone(), plan));
        }
    }
    Ok(jobs)
}

/// The champions a run is gated against (`--gate-against`), and the whole history (past
/// `--until`) to score them and the new models on.
pub struct Gate {
    pub champions: Registry,
    pub window_from: i64,
    pub full: Vec<(CoinHistory, Plan)>,
    /// The recording the app replays offline (first and last minute): a champion that trained
    /// on it shows in-sample live figures to every new user, so a tie goes to the challenger
    /// (`models::gate::break_tie`).
    pub replay: (i64, i64),
}

/// The UTC day of a Unix time, `YYYY-MM-DD`.
fn day(t: i64) -> String {
    retrain::rfc3339(t).get(..10).unwrap_or_default().to_owned()
}

/// One gate decision of a `coincast train --gate-against` run.
struct GateLine {
    coin: Coin,
    horizon: Horizon,
    champion_id: String,
    challenger_id: String,
    window: (i64, i64),
    result: GateResult,
    champion_in_sample: bool,
    /// The new model is byte for byte the old one (the same data, seed and code): nothing to
    /// decide, and the card is written again with this run's figures.
    same_model: bool,
}

/// Scores `trained` and the running model of its coin and horizon on the gate's window (every
/// row from `--until` on, which the new model never trained on: its last label ends before it),
/// and records the decision in its card. `None` when there is no champion to compare with.
fn gate_one(gate: &Gate, trained: &mut Trained) -> anyhow::Result<Option<GateLine>> {
    let (coin, horizon) = (trained.card.coin, trained.card.horizon);
    let Some(champion) = gate.champions.get(coin, horizon) else {
        return Ok(None);
    };
    let Some((history, plan)) = gate
        .full
        .iter()
        .find(|(h, p)| h.coin == coin && p.horizon == horizon)
    else {
        return Ok(None);
    };
    let scored = score_window(
        history,
        plan,
        &champion,
        &trained.card,
        &trained.onnx,
        gate.window_from,
    )?;
    let mut result = scored.decide(&trained.card, history, plan);
    let (from, to) = gate.replay;
    if retrain::overlaps(&champion.card, from, to + 1) && !retrain::overlaps(&trained.card, from, to + 1) {
        models::gate::break_tie(
            &mut result,
            &format!(
                "the old model trained on the days the app replays offline ({} to {}), so its live figures in replay mode are in-sample, while the new one never saw them",
                day(from),
                day(to)
            ),
        );
    }
    let window = (
        scored.ts.first().copied().unwrap_or(gate.window_from),
        scored.ts.last().copied().unwrap_or(gate.window_from),
    );
    let champion_in_sample = retrain::overlaps(&champion.card, window.0, window.1 + 1);
    trained.card.gate = Some(GateRecord {
        decided_at: shared::time::rfc3339(crate::clock::now()),
        champion_id: champion.card.id.clone(),
        window_from: retrain::rfc3339(window.0),
        window_to: retrain::rfc3339(window.1),
        champion_in_sample,
        result: result.clone(),
    });
    Ok(Some(GateLine {
        coin,
        horizon,
        champion_id: champion.card.id.clone(),
        challenger_id: trained.card.id.clone(),
        window,
        same_model: champion.card.onnx_sha256 == trained.card.onnx_sha256,
        result,
        champion_in_sample,
    }))
}

/// The gate's decisions as a REPORT.md section.
fn gate_section(lines: &[GateLine]) -> String {
    use std::fmt::Write as _;
    let mut md = String::new();
    let promoted = lines
        .iter()
        .filter(|l| l.result.decision == Decision::Promoted && !l.same_model)
        .count();
    let _ = writeln!(
        md,
        "## The gate: each new model against the model it was to replace\n\n\
         Both were scored on the same rows of a window the new model never trained on (every row \
         from the window's start whose outcome is known before its end; its last training label \
         ends before it). The window decides champion against challenger and nothing else: every \
         other choice was made on earlier data, and the months after it are left for a report \
         scored once. The test is Diebold-Mariano on the per-row log-loss difference with a \
         Newey-West variance over twice the horizon in rows. A new model replaces the old one only \
         when it is better with one-sided p < {} (DM > {:.3}) *and* beats the no-skill forecast (the \
         constant share of UP in its own training rows) by the same test: beating an old model that \
         is worse than a constant proves nothing. On a tie (significantly worse than neither: \
         DM > -{:.3} against both) it also replaces an old model that trained on the days the app \
         replays offline (its live figures there would be in-sample); the decision column says \
         which. **{promoted} of {} new models were promoted**; where the old model stays, its files \
         stay in `models/artifacts`.\n",
        models::gate::ALPHA,
        models::gate::DM_CRITICAL,
        models::gate::DM_CRITICAL,
        lines.len()
    );
    let _ = writeln!(
        md,
        "| coin | horizon | window | n | old model | log loss / accuracy | new model | log loss / accuracy | DM | p | no-skill log loss (P(UP)) | DM vs no-skill | p | decision |"
    );
    let _ = writeln!(
        md,
        "|---|---|---|---:|---|---|---|---|---:|---:|---|---:|---:|---|"
    );
    for l in lines {
        let r = &l.result;
        let no_skill = r.no_skill.map_or("- | - | -".to_owned(), |c| {
            format!(
                "{:.4} ({:.3}) | {:.2} | {:.4}",
                c.log_loss, c.up_rate, c.dm_statistic, c.p_value
            )
        });
        let _ = writeln!(
            md,
            "| {} | {} | {} to {} | {} | {}{} | {:.4} / {:.1}% | {} | {:.4} / {:.1}% | {:.2} | {:.4} | {no_skill} | {} |",
            l.coin,
            l.horizon,
            day(l.window.0),
            day(l.window.1),
            r.n,
            l.champion_id,
            if l.champion_in_sample { " (in-sample)" } else { "" },
            r.champion.log_loss,
            100.0 * r.champion.accuracy,
            l.challenger_id,
            r.challenger.log_loss,
            100.0 * r.challenger.accuracy,
            r.dm_statistic,
            r.p_value,
            match r.decision {
                _ if l.same_model => "the same model (identical ONNX bytes): card recomputed",
                Decision::Promoted if r.dm_statistic <= models::gate::DM_CRITICAL => {
                    "**promoted** on a tie: the old model trained on the replayed days"
                }
                Decision::Promoted => "**promoted**",
                Decision::Kept
                    if r.n >= models::gate::MIN_ROWS
                        && r.dm_statistic > models::gate::DM_CRITICAL
                        && r.no_skill
                            .is_some_and(|c| c.dm_statistic <= models::gate::DM_CRITICAL) =>
                {
                    "old model kept: the new one does not beat the no-skill forecast"
                }
                Decision::Kept => "old model kept",
            }
        );
    }
    md
}

/// Gives every job's plan the histories of every coin trained for the same horizon, so each
/// coin's pooled candidates learn from all of them (`Plan::pool`: one pool a horizon, each other
/// coin's rows built once in it). The jobs come back horizon by horizon, so a horizon's pool (its
/// data sets) is freed once its last job is done.
fn pooled(mut jobs: Vec<(CoinHistory, Plan)>) -> Vec<(CoinHistory, Plan)> {
    let mut pools: std::collections::HashMap<shared::Horizon, std::sync::Arc<models::train::Pool>> =
        std::collections::HashMap::new();
    for (_, plan) in &jobs {
        pools.entry(plan.horizon).or_insert_with(|| {
            models::train::Pool::new(
                jobs.iter()
                    .filter(|(_, p)| p.horizon == plan.horizon)
                    .map(|(h, _)| h.clone())
                    .collect(),
            )
        });
    }
    for (_, plan) in &mut jobs {
        if let Some(pool) = pools.get(&plan.horizon) {
            plan.pool = pool.clone();
        }
    }
    jobs.sort_by_key(|(history, plan)| (plan.horizon, history.coin));
    jobs
}

/// Trains `jobs` on every core and writes the models, cards and report; with a `gate`, only the
/// models it promotes.
pub fn run(args: &TrainArgs, jobs: Vec<(CoinHistory, Plan)>, gate: Option<Gate>) -> anyhow::Result<()> {
    let jobs = pooled(jobs);
    let started = Instant::now();
    let commit = commit();
    let total = jobs.len();
    let queue = Mutex::new(jobs.into_iter().enumerate());
    let results = Mutex::new(Vec::<Trained>::new());
    let errors = Mutex::new(Vec::<anyhow::Error>::new());
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    // One bar for the whole run; each model's lines print above it (plain lines without a terminal).
    let bar = crate::commands::retrain::progress_bar(total as u64);
    let say = |line: String| {
        if bar.is_hidden() {
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            // Each worker trains on a one-thread pool of its own, kept for the whole run.
            scope.spawn(|| {
                let work = || {
                    loop {
                        let next = queue.lock().map(|mut q| q.next()).ok().flatten();
                        let Some((i, (history, plan))) = next else { break };
                        let t = Instant::now();
                        bar.set_message(format!("{} {}", history.coin, plan.horizon));
                        let mut log = |line: String| {
                            say(format!("[{:>4.0} s] {line}", started.elapsed().as_secs_f64()))
                        };
                        match train_one(&history, &plan, commit.clone(), &mut log) {
                            Ok(trained) => {
                                say(format!(
                                    "[{:>4.0} s] ({}/{total}) {} done in {:.1} s",
                                    started.elapsed().as_secs_f64(),
                                    i + 1,
                                    trained.card.id,
                                    t.elapsed().as_secs_f64()
                                ));
                                if let Ok(mut r) = results.lock() {
                                    r.push(trained);
                                }
                            }
                            Err(e) => {
                                if let Ok(mut errs) = errors.lock() {
                                    let which = format!("{} {}", history.coin, plan.horizon);
                                    // Most errors already name their coin and horizon.
                                    errs.push(if e.to_string().starts_with(&which) {
                                        e
                                    } else {
                                        e.context(which)
                                    });
                                }
                            }
                        }
                        bar.inc(1);
                    }
                };
                if let Err(e) = on_one_core(work)
                    && let Ok(mut errs) = errors.lock()
                {
                    errs.push(e);
                }
            });
        }
    });
    bar.finish_and_clear();
    // A coin and horizon that cannot be trained (too little history, say) does not stop the
    // others: they are written and reported, and the command fails at the end naming it.
    let errors: Vec<String> = errors
        .into_inner()
        .unwrap_or_default()
        .iter()
        .map(|e| format!("{e:#}"))
        .collect();
    if errors.len() == total {
        anyhow::bail!("no model could be trained: {}", errors.join("; "));
    }
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|t| (t.card.coin, t.card.horizon));
    let trained_s = started.elapsed().as_secs_f64();
    let mut lines = Vec::new();
    for trained in &mut results {
        let line = match &gate {
            Some(gate) => gate_one(gate, trained)?,
            None => None,
        };
        let keep_champion = line
            .as_ref()
            .is_some_and(|l| l.result.decision == Decision::Kept && !l.same_model);
        if let Some(l) = &line {
            eprintln!(
                "{} {}: {:?} ({} rows; log loss {:.5} old, {:.5} new; DM {:.2}, p {:.4})",
                l.coin,
                l.horizon,
                l.result.decision,
                l.result.n,
                l.result.champion.log_loss,
                l.result.challenger.log_loss,
                l.result.dm_statistic,
                l.result.p_value
            );
        }
        if !keep_champion {
            write(trained, &args.out)?;
        }
        lines.extend(line);
    }
    let cards = models::train::read_cards(&args.out)?;
    let mut note = format!(
        "Produced by `coincast train` on this machine: {} models trained in {trained_s:.0} s (seed {}).",
        results.len(),
        results.first().map_or(0, |t| t.card.seed)
    );
    if !errors.is_empty() {
        note.push_str(&format!(
            "\n\nNot trained ({} of {total}): {}.",
            errors.len(),
            errors.join("; ")
        ));
    }
    if !lines.is_empty() {
        note.push_str("\n\n");
        note.push_str(&gate_section(&lines));
        let kept: Vec<String> = lines
            .iter()
            .filter(|l| l.result.decision == Decision::Kept && !l.same_model)
            .map(|l| format!("{} {}", l.coin, l.horizon))
            .collect();
        if !kept.is_empty() {
            note.push_str(&format!(
                "\nThe models the gate kept ({}) keep their earlier cards: their rows below were measured walk-forward on their own, older training data, not on this run's; the last section gives every model's data and test period.\n",
                kept.join(", ")
            ));
        }
    }
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
    anyhow::ensure!(
        errors.is_empty(),
        "{} of {total} models could not be trained (the others are written): {}",
        errors.len(),
        errors.join("; ")
    );
    Ok(())
}

/// `coincast train`: from the history files, or with `--from-db` from the app's database.
pub async fn main(mut args: TrainArgs, settings: &Settings) -> anyhow::Result<()> {
    // Every configured coin unless `--coin` says which.
    if args.coins.is_empty() {
        args.coins = settings.coins.collected();
    }
    let until = until_of(&args);
    // The gate sees only bars before `--gate-until`: a row whose outcome lies past it has no
    // label there, so nothing after it moves the decision.
    let gate_until = args.gate_until.map(crate::clock::midnight);
    let (jobs, gate) = if args.from_db {
        let conn = db::open(settings).await?;
        let jobs = jobs_from_db(&conn, &args, until).await?;
        let full = match &args.gate_against {
            Some(_) => jobs_from_db(&conn, &args, gate_until).await?,
            None => Vec::new(),
        };
        (jobs, full)
    } else {
        let jobs = jobs_from_files(&args, until)?;
        let full = match &args.gate_against {
            Some(_) => jobs_from_files(&args, gate_until)?,
            None => Vec::new(),
        };
        (jobs, full)
    };
    let gate = match (&args.gate_against, until) {
        (Some(dir), Some(window_from)) => {
            let replay = crate::collect::replay::Replay::bundled(Default::default())?.info(0);
            Some(Gate {
                champions: Registry::load(dir)?,
                window_from,
                // Pooled as the jobs are: a challenger's cross-section block reads the other
                // coins' bars on the window too (without them it has no rows there).
                full: pooled(gate),
                replay: (replay.recorded_from.timestamp(), replay.recorded_to.timestamp()),
            })
        }
        _ => None,
    };
    tokio::task::spawn_blocking(move || run(&args, jobs, gate)).await?
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn train_args(args: &[&str]) -> TrainArgs {
        let mut all = vec!["coincast", "train"];
        all.extend_from_slice(args);
        match Cli::parse_from(all).command {
            Command::Train(a) => a,
            _ => unreachable!("a train command line"),
        }
    }

    #[test]
    fn a_freqtrade_folder_of_5_minute_candles_trains_every_horizon_hourly_ones_resampled() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/tests/fixtures/freqtrade");
        let folder = root.join("binance");
        let args = train_args(&[
            "--history",
            folder.to_str().unwrap_or_default(),
            "--coin",
            "BTC",
            "--data-root",
            "/nonexistent",
        ]);
        let jobs = jobs_from_files(&args, None).unwrap();
        // 576 five-minute candles (two days): the 30 min model's own, 48 complete hours for the rest.
        let sizes: Vec<(Horizon, i64, usize)> = jobs
            .iter()
            .map(|(h, plan)| (plan.horizon, h.parts[0].interval_s, h.parts[0].bars.len()))
            .collect();
        assert_eq!(sizes.len(), 6, "{sizes:?}");
        for (horizon, interval_s, n) in sizes {
            match horizon {
                Horizon::M30 => assert_eq!((interval_s, n), (300, 576)),
                _ => assert_eq!((interval_s, n), (3600, 48), "{horizon}"),
            }
        }
        let (history, _) = &jobs
            .iter()
            .find(|(_, p)| p.horizon == Horizon::H1)
            .unwrap_or(&jobs[0]);
        assert_eq!(
            history.sources,
            ["binance/BTC_USDT-5m.feather (300 s bars resampled to 3600 s)"]
        );
        // The XRP file of the folder (jsongz) is not asked for.
        assert!(jobs.iter().all(|(h, _)| h.coin == Coin::BTC));
    }

    /// A coin and horizon with too little history fails the command, named, after the others
    /// are trained, written and reported.
    #[test]
    fn a_model_that_cannot_be_trained_does_not_stop_the_others() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/BTC_USDT-5m-2025-06.json");
        let out = tempfile::tempdir().unwrap();
        let args = train_args(&[
            "--history",
            file.to_str().unwrap_or_default(),
            "--coin",
            "BTC",
            // Ten days of candles: enough 30 min rows, far too few 12 h ones.
            "--horizon",
            "30m",
            "--horizon",
            "12h",
            "--epochs",
            "2",
            "--data-root",
            "/nonexistent",
            "--out",
            out.path().to_str().unwrap_or_default(),
            "--report-dir",
            out.path().to_str().unwrap_or_default(),
        ]);
        let jobs = jobs_from_files(&args, None).unwrap();
        assert_eq!(jobs.len(), 2);
        let e = run(&args, jobs, None).unwrap_err().to_string();
        assert!(e.starts_with("1 of 2 models could not be trained"), "{e}");
        assert!(e.contains("BTC 12h"), "{e}");
        assert!(out.path().join("BTC-30m.onnx").exists());
        assert!(!out.path().join("BTC-12h.onnx").exists());
        let report = std::fs::read_to_string(out.path().join("REPORT.md")).unwrap();
        assert!(report.contains("Not trained (1 of 2): BTC 12h"), "{report}");
    }
}
