//! Retraining with a champion/challenger gate: the `retrain` job (weekly by default) and
//! `coincast retrain`.
//!
//! For each coin and horizon: train a challenger (`models::train::train_one`, the same pipeline as
//! `coincast train`, pooled candidates included: they also learn from the other pooled coins'
//! stored candles, `Options::pool`) on the app's own data (collected, replayed, backfilled or
//! imported) up to an embargo before the most recent window; score the running champion and the challenger on that
//! window, which neither trained on, on the same rows; promote the challenger only when the gate
//! (`models::gate`: Diebold-Mariano on per-row log loss, one-sided 5%) says its log loss is lower
//! by more than noise. Every decision is a `model_versions` row (both models' figures, n, the
//! statistic, the reason); every challenger is written as content-addressed files; a promoted one
//! is stored with its card and ONNX bytes and swapped into every process (`registry::refresh`,
//! then the `Change::Models` announcement). Training runs on blocking threads: predictions go on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use chrono::DateTime;
use models::card::{GateRecord, ModelCard};
use models::features::Dataset;
use models::gate::{self, Decision, GateResult};
use models::onnx::OnnxModel;
use models::train::{CoinHistory, Plan, Pool, default_plan, on_one_core, train_one};
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use shared::{Coin, Horizon};

use crate::clock::{Clock, DAY_S, MINUTE_S};
use crate::config::RetrainSettings;
use crate::db;
use crate::db::entities::model_version;
use crate::predict::history::{bar_seconds, histories_from_db};
use crate::predict::registry::{LoadedModel, Registry, reload_logged};

/// What one retrain is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The decision time: the window ends here (now, or a past day with `retrain --as-of`).
    pub now: i64,
    /// What the progress and the decisions record as the time they happened.
    pub clock: Clock,
    /// The most recent span both models are scored on (seconds).
    pub window_s: i64,
    /// How much history the challenger may learn from before the window (seconds).
    pub history_s: i64,
    pub coins: Vec<Coin>,
    /// The coins whose rows the pooled candidates also learn from (`Plan::pool`), up to where the
    /// challenger's own training ends (before the embargo); the coins retrained are always in
    /// it. The job pools every served coin, as `coincast train` does.
    pub pool: Vec<Coin>,
    pub horizons: Vec<Horizon>,
    pub epochs: usize,
    /// A control: train on shuffled labels (see `Plan::shuffle_labels`); the gate must refuse it.
    pub shuffle_labels: bool,
    /// Where the challengers' content-addressed files go.
    pub store_dir: PathBuf,
}

impl Options {
    /// The options of the scheduled job as of `clock`'s now, from the settings; no coins there
    /// means `served` (the coins with a running model).
    pub fn from_settings(
        settings: &RetrainSettings,
        store_dir: &Path,
        clock: &Clock,
        served: &[Coin],
    ) -> Options {
        Options {
            now: clock.now(),
            clock: clock.clone(),
            window_s: settings.window_days.max(1) * DAY_S,
            history_s: settings.history_days.max(1) * DAY_S,
            coins: if settings.coins.is_empty() {
                served.to_vec()
            } else {
                settings.coins.clone()
            },
            pool: served.to_vec(),
            horizons: if settings.horizons.is_empty() {
                Horizon::ALL.to_vec()
            } else {
                settings.horizons.clone()
            },
            epochs: settings.epochs,
            shuffle_labels: false,
            store_dir: store_dir.to_path_buf(),
        }
    }
}

/// How far a retrain has come (the models card shows it while it runs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub started_at: i64,
    /// Set when the retrain is over.
    pub finished_at: Option<i64>,
    pub done: usize,
    pub total: usize,
    /// What is being trained now (`BTC 1h`), or the last step's result.
    pub step: String,
    pub promoted: usize,
}

/// The `app_meta` key the progress is kept under (every process reads the same).
pub const PROGRESS_KEY: &str = "retrain_progress";

/// The progress as stored, if a retrain ever ran.
pub async fn stored_progress(db: &impl ConnectionTrait) -> Result<Option<Progress>, sea_orm::DbErr> {
    Ok(db::meta::meta_get(db, PROGRESS_KEY)
        .await?
        .and_then(|s| serde_json::from_str(&s).ok()))
}

/// What the gate decided for one coin and horizon.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub coin: Coin,
    pub horizon: Horizon,
    pub decision: Decision,
    pub challenger_id: Option<String>,
    pub champion_id: String,
    pub reason: String,
    pub result: Option<GateResult>,
    /// The challenger's card (with its gate record) and ONNX bytes, when one was trained.
    pub challenger: Option<(ModelCard, Vec<u8>)>,
}

/// Told about each step (the CLI draws a progress bar; the job stores it for the app).
pub trait Report: Send + Sync {
    fn step(&self, progress: &Progress) -> futures_util::future::BoxFuture<'_, ()>;
}

/// Runs one retrain over `options`' coins and horizons, records every decision, and swaps the
/// promoted models in (`registry`). Returns the decisions.
pub async fn run(
    db: &impl ConnectionTrait,
    registry: &Arc<Registry>,
    options: &Options,
    report: &dyn Report,
) -> anyhow::Result<Vec<Outcome>> {
    let now = options.now.div_euclid(MINUTE_S) * MINUTE_S;
    let window_from = now - options.window_s;
    let total = options.coins.len() * options.horizons.len();
    let mut progress = Progress {
        started_at: options.clock.now(),
        total,
        ..Progress::default()
    };
    let reach = 10 * DAY_S; // more than the longest model's window (about four days)
    // The coins retrained and the other pooled ones, each read once. The pooled candidates of
    // every coin and horizon share them (`Plan::pool`, not copied): a pooled row ends where the
    // challenger's own training ends (`models::train`), before the embargo.
    let mut read: Vec<Coin> = options.coins.clone();
    read.extend(options.pool.iter().filter(|c| !options.coins.contains(c)));
    let histories: Arc<Vec<CoinHistory>> = Arc::new(
        histories_from_db(db, &read, window_from - options.history_s - reach, now)
            .await?
            .into_iter()
            .filter(|h| !h.parts.is_empty() || options.coins.contains(&h.coin))
            .collect(),
    );
    let mut outcomes = Vec::new();
    // Horizon by horizon: the pooled coins' data sets are built once for the horizon's coins and
    // freed before the next.
    for &horizon in &options.horizons {
        let pool = Pool::shared(histories.clone());
        for history in histories.iter().filter(|h| options.coins.contains(&h.coin)) {
            let coin = history.coin;
            progress.step = format!("{coin} {horizon}: training the challenger");
            report.step(&progress).await;
            let outcome = match registry.get(coin, horizon) {
                None => Outcome {
                    coin,
                    horizon,
                    decision: Decision::Kept,
                    challenger_id: None,
                    champion_id: String::new(),
                    reason: "no running model to compare with".to_owned(),
                    result: None,
                    challenger: None,
                },
                Some(champion) => {
                    one(
                        db,
                        history,
                        horizon,
                        champion,
                        options,
                        pool.clone(),
                        (window_from, now),
                    )
                    .await?
                }
            };
            tracing::info!(
                %coin,
                horizon = horizon.as_str(),
                decision = ?outcome.decision,
                challenger = outcome.challenger_id.as_deref().unwrap_or("-"),
                reason = outcome.reason,
                "retrain: gate decided"
            );
            progress.done += 1;
            progress.promoted += usize::from(outcome.decision == Decision::Promoted);
            progress.step = format!("{coin} {horizon}: {}", outcome.reason);
            report.step(&progress).await;
            outcomes.push(outcome);
        }
    }
    if progress.promoted > 0 {
        reload_logged(db, registry, "retrain: promoted versions").await;
    }
    progress.finished_at = Some(options.clock.now());
    progress.step = format!("{} of {} challengers promoted", progress.promoted, progress.total);
    report.step(&progress).await;
    Ok(outcomes)
}

/// Trains, scores and records one coin and horizon on the window `[window_from, now)`; the
/// pooled candidates learn from `pool` (every pooled coin's history; this coin's own is skipped).
async fn one(
    db: &impl ConnectionTrait,
    history: &CoinHistory,
    horizon: Horizon,
    champion: Arc<LoadedModel>,
    options: &Options,
    pool: Arc<Pool>,
    (window_from, now): (i64, i64),
) -> anyhow::Result<Outcome> {
    let coin = history.coin;
    let horizon_s = horizon.seconds();
    let mut plan = default_plan(horizon, (bar_seconds(horizon) / 60) as u32);
    plan.train.epochs = options.epochs;
    plan.shuffle_labels = options.shuffle_labels;
    plan.pool = pool;
    // The embargo: the challenger's last label ends a horizon before the window begins.
    let until = window_from - horizon_s;
    let cut = cut(history, until);
    let job_plan = plan.clone();
    // On one core: the other stays with the requests.
    let trained =
        tokio::task::spawn_blocking(move || on_one_core(|| train_one(&cut, &job_plan, None, &mut |_| {}))?)
            .await?;
    let champion_id = champion.card.id.clone();
    let mut row = db::versions::new_row(
        coin,
        horizon,
        "",
        &champion_id,
        model_version::Decision::Kept,
        "",
        options.clock.now(),
    );
    row.window_from = Set(window_from);
    row.window_to = Set(now);
    let trained = match trained {
        Ok(t) => t,
        Err(e) => {
            let reason = format!("no challenger: {e:#}; the champion stays");
            row.reason = Set(reason.clone());
            db::versions::record(db, row).await?;
            return Ok(Outcome {
                coin,
                horizon,
                decision: Decision::Kept,
                challenger_id: None,
                champion_id,
                reason,
                result: None,
                challenger: None,
            });
        }
    };
    // Both models on the same window rows: what happened there, each model's own features.
    let scored = {
        let history = history.clone();
        let champion = champion.clone();
        let (card, onnx, plan) = (trained.card.clone(), trained.onnx.clone(), plan.clone());
        tokio::task::spawn_blocking(move || {
            score_window(&history, &plan, &champion, &card, &onnx, window_from)
        })
        .await??
    };
    let in_sample = overlaps(&champion.card, window_from, now);
    let result = scored.decide(&trained.card, history, &plan);
    let mut reason = result.reason.clone();
    if in_sample {
        reason.push_str("; the champion's training span covers the window (its figure there is in-sample)");
    }
    let mut card = trained.card.clone();
    card.gate = Some(GateRecord {
        decided_at: rfc3339(options.clock.now()),
        champion_id: champion_id.clone(),
        window_from: rfc3339(window_from),
        window_to: rfc3339(now),
        champion_in_sample: in_sample,
        result: result.clone(),
    });
    // File work off the async threads.
    {
        let (dir, card, onnx) = (options.store_dir.clone(), card.clone(), trained.onnx.clone());
        tokio::task::spawn_blocking(move || write_files(&dir, &card, &onnx)).await??;
    }
    let card_json = serde_json::to_string(&card)?;
    row.model_id = Set(card.id.clone());
    row.decision = Set(result.decision.into());
    row.reason = Set(reason.clone());
    row.trained_from = Set(parse(&card.training.from));
    row.trained_to = Set(parse(&card.training.to));
    row.n = Set(result.n as i64);
    row.champion_log_loss = Set(Some(result.champion.log_loss));
    row.challenger_log_loss = Set(Some(result.challenger.log_loss));
    row.champion_accuracy = Set(Some(result.champion.accuracy));
    row.challenger_accuracy = Set(Some(result.challenger.accuracy));
    row.dm_statistic = Set(Some(result.dm_statistic));
    row.p_value = Set(Some(result.p_value));
    row.champion_in_sample = Set(in_sample);
    if result.decision == Decision::Promoted {
        row.card = Set(Some(card_json));
        row.onnx = Set(Some(trained.onnx.clone()));
    }
    db::versions::record(db, row).await?;
    db::versions::prune(db, coin, horizon).await?;
    Ok(Outcome {
        coin,
        horizon,
        decision: result.decision,
        challenger_id: Some(card.id.clone()),
        champion_id,
        reason,
        result: Some(result),
        challenger: Some((card, trained.onnx)),
    })
}

/// A coin's history with only the bars opening before `until`.
fn cut(history: &CoinHistory, until: i64) -> CoinHistory {
    let mut out = history.clone();
    for part in &mut out.parts {
        part.bars.retain(|b| b.ts < until);
    }
    out.parts.retain(|p| !p.bars.is_empty());
    out
}

/// The window's rows both models can score, with what happened.
#[derive(Debug, Clone, Default)]
pub struct Scored {
    pub ts: Vec<i64>,
    pub y: Vec<bool>,
    pub champion: Vec<f64>,
    pub challenger: Vec<f64>,
}

impl Scored {
    /// The gate's decision on these rows (`models::gate::compare`): the rows' spacing from the
    /// history's finest part, the no-skill forecast from the challenger's card (its training
    /// rows' share of UP).
    pub fn decide(&self, challenger: &ModelCard, history: &CoinHistory, plan: &Plan) -> gate::GateResult {
        let step = history.parts.first().map_or(MINUTE_S, |p| p.row_step(plan));
        let up_rate = challenger.training.up_rate.unwrap_or(0.5);
        gate::compare(
            &self.y,
            &self.champion,
            &self.challenger,
            up_rate,
            plan.horizon.seconds(),
            step,
        )
    }
}

/// Scores both models on every window row (prediction time at or after `window_from`, outcome
/// known) that both have features for. CPU work.
pub fn score_window(
    history: &CoinHistory,
    plan: &Plan,
    champion: &LoadedModel,
    challenger: &ModelCard,
    onnx: &[u8],
    window_from: i64,
) -> anyhow::Result<Scored> {
    let rows = |spec: &models::features::FeatureSpec| -> Dataset {
        history.dataset(spec, plan).filter(|t| t >= window_from)
    };
    anyhow::ensure!(
        champion.card.features.bar_seconds == plan.bar_s,
        "the champion's bars ({} s) are not the challenger's ({} s)",
        champion.card.features.bar_seconds,
        plan.bar_s
    );
    let a = rows(&champion.spec);
    let b = rows(&challenger.spec());
    let common: std::collections::HashSet<i64> = a.ts.iter().copied().collect();
    let b = b.filter(|t| common.contains(&t));
    let kept: std::collections::HashSet<i64> = b.ts.iter().copied().collect();
    let a = a.filter(|t| kept.contains(&t));
    let mut scored = Scored::default();
    if a.is_empty() {
        return Ok(scored);
    }
    let model =
        OnnxModel::from_bytes(onnx, challenger.features.names.len()).context("loading the challenger")?;
    scored.champion = champion.predict_many(&a.x)?;
    scored.challenger = model.predict(&b.x)?.into_iter().map(f64::from).collect();
    scored.ts = a.ts;
    scored.y = a.y;
    Ok(scored)
}

/// Whether a card's training span overlaps `[from, to)`.
pub fn overlaps(card: &ModelCard, from: i64, to: i64) -> bool {
    match (parse(&card.training.from), parse(&card.training.to)) {
        (Some(a), Some(b)) => a < to && b >= from,
        _ => true,
    }
}

fn parse(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp())
}

pub use shared::time::rfc3339;

/// Challenger files kept per coin and horizon in the store (the oldest go first).
pub const KEEP_FILES: usize = 20;

/// Writes a challenger as content-addressed files, `<COIN>-<h>-<sha256>.onnx` and `.json` (the
/// card with its gate record), and keeps the newest [`KEEP_FILES`] of that coin and horizon.
pub fn write_files(dir: &Path, card: &ModelCard, onnx: &[u8]) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let stem = format!(
        "{}-{}",
        ModelCard::stem(card.coin, card.horizon),
        card.onnx_sha256
    );
    let path = dir.join(format!("{stem}.onnx"));
    std::fs::write(&path, onnx).with_context(|| format!("writing {}", path.display()))?;
    let mut stored = card.clone();
    stored.onnx_file = format!("{stem}.onnx");
    std::fs::write(
        dir.join(format!("{stem}.json")),
        serde_json::to_string_pretty(&stored)? + "\n",
    )?;
    let prefix = format!("{}-", ModelCard::stem(card.coin, card.horizon));
    let mut mine: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.starts_with(&prefix) && n.len() == prefix.len() + 64 + 5
                })
        })
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    mine.sort();
    let excess = mine.len().saturating_sub(KEEP_FILES);
    for (_, old) in mine.into_iter().take(excess) {
        let _ = std::fs::remove_file(old.with_extension("onnx"));
        let _ = std::fs::remove_file(&old);
    }
    Ok(path)
}
