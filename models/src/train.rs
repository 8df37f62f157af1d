//! Training and walk-forward evaluation of one model per coin and horizon.
//!
//! For each coin and horizon: build samples, cut walk-forward folds (purged and embargoed), pick
//! the model kind and feature set with the lowest pooled log loss on the earlier folds, and the
//! signal's confidence threshold on the same folds' predictions (see `strategy`); report the
//! chosen kind on the later folds only (never used for either choice), next to the baselines,
//! and trade its signals there after costs; score the same kind on a shuffled split for
//! contrast, then fit on every row and export ONNX with its card.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use sha2::{Digest, Sha256};
use shared::{Coin, Horizon};

use crate::bars::anchor_step;
use crate::calibration::{Platt, confidence_deciles, permutation_importance};
use crate::card::{
    Calibration, Candidate, CoveragePoint, FeatureImportance, FeatureInfo, Golden, ModelCard, ReliabilityBin,
    TrainingData, WalkForwardReport,
};
use crate::features::{CrossSection, Dataset, FEATURE_VERSION, FeatureSpec, Market, Rows};
use crate::fitted::{Fitted, fit};
use crate::history::Bar;
use crate::metrics::{ChosenOn, FixedBaselines, Metrics, accuracy_at_coverage, log_loss_of};
use crate::nn::{ModelKind, Rng, TrainConfig};
use crate::series::SeriesSet;
use crate::strategy::{self, Costs, Row, StrategyReport, ThresholdChoice};
use crate::walkforward::{Split, WalkForward};
use shared::time::rfc3339;

/// Base bars of one interval (a history file, the database's minutes, or its imported bars),
/// oldest first.
#[derive(Debug, Clone)]
pub struct BaseBars {
    pub bars: Vec<Bar>,
    pub interval_s: i64,
}

impl BaseBars {
    /// Whether these bars can make the plan's bars and label its horizon (both whole numbers of
    /// base bars).
    pub fn feeds(&self, plan: &Plan) -> bool {
        let horizon_s = plan.horizon.seconds();
        self.interval_s > 0 && plan.bar_s % self.interval_s == 0 && horizon_s % self.interval_s == 0
    }

    /// The spacing of the rows these bars make for a plan (see [`anchor_step`]).
    pub fn row_step(&self, plan: &Plan) -> i64 {
        anchor_step(plan.horizon.cadence_seconds(), self.interval_s)
    }
}

/// The history one coin's models learn from.
#[derive(Debug, Clone)]
pub struct CoinHistory {
    pub coin: Coin,
    /// The base bars, finest first: where two parts cover the same time, the finer part's rows
    /// are kept (see [`Dataset::merge`]).
    pub parts: Vec<BaseBars>,
    /// Where the bars came from (file names), for the card.
    pub sources: Vec<String>,
    /// External series (on-chain, markets) the plan may use.
    pub series: SeriesSet,
    /// Where those came from, for the card.
    pub series_sources: Vec<String>,
}

impl CoinHistory {
    /// The rows of a feature spec: each part's rows at its anchors (the engine's prediction times
    /// that its base bars resolve), merged finest first.
    pub fn dataset(&self, spec: &FeatureSpec, plan: &Plan) -> Dataset {
        let horizon_s = plan.horizon.seconds();
        // The cross-section a `market` block reads: the named coins' histories in the plan's pool.
        let cross: CrossSection = plan
            .pool
            .histories()
            .iter()
            .filter(|h| spec.market.iter().any(|c| c == h.coin.ticker()))
            .flat_map(|h| {
                h.parts
                    .iter()
                    .filter(|p| p.feeds(plan))
                    .map(|p| (h.coin, p.bars.as_slice(), p.interval_s))
            })
            .collect();
        let market = Some(Market {
            coin: self.coin,
            cross: &cross,
        });
        let parts = self
            .parts
            .iter()
            .filter(|p| p.feeds(plan))
            .map(|p| {
                let rows = Rows {
                    base: &p.bars,
                    base_s: p.interval_s,
                    bar_s: plan.bar_s,
                    anchor_s: p.row_step(plan),
                    horizon_s,
                    market,
                };
                Dataset::build_at(spec, rows, &self.series)
            })
            .collect();
        Dataset::merge(parts)
    }

    /// How the card describes where rows were made: each usable part's base interval and row step.
    pub fn rows_at(&self, plan: &Plan) -> Vec<String> {
        self.parts
            .iter()
            .filter(|p| p.feeds(plan))
            .filter_map(|p| {
                let (first, last) = (p.bars.first()?, p.bars.last()?);
                let step = p.row_step(plan);
                Some(format!(
                    "{} to {}: {} s base bars, a row every {} s (bars end at the prediction time)",
                    rfc3339(first.ts),
                    rfc3339(last.ts + p.interval_s),
                    p.interval_s,
                    step
                ))
            })
            .collect()
    }
}

/// What to train for one coin and horizon.
#[derive(Debug, Clone)]
pub struct Plan {
    pub horizon: Horizon,
    /// The model's bar size, seconds: every part's interval must divide it.
    pub bar_s: i64,
    /// The price block's shape (its `series` is ignored: see `feature_sets`).
    pub spec: FeatureSpec,
    pub candidates: Vec<ModelKind>,
    /// Series sets to try after the price block (`[]` is price and volume only). With more than
    /// one, every candidate is compared on the same rows: those where every set has its values.
    pub feature_sets: Vec<Vec<String>>,
    pub train: TrainConfig,
    /// Walk-forward test blocks; the first half choose the model, the second half report it.
    pub folds: usize,
    pub initial_train_fraction: f64,
    /// At most this many of the most recent rows of this coin train each fold (keeps folds
    /// comparable and fast); a pooled fit adds at most as many again from the other coins.
    pub max_train_rows: usize,
    /// Trading costs for the strategy evaluation.
    pub costs: Costs,
    /// A control, never a model to serve: the labels (with their returns) are shuffled before
    /// training, so the result has learnt nothing. The gate must refuse such a model;
    /// `coincast retrain --shuffled-labels` checks that it does.
    pub shuffle_labels: bool,
    /// Whether the cross-section block (`features`' `market`) is tried with the price block, when
    /// the pool holds BTC (or the coin is BTC) and at least two other coins that make the plan's
    /// bars: the block reads every such coin of the pool (the card names them).
    pub cross_section: CrossSectionUse,
    /// Every coin's history for this horizon (this coin's own is skipped): with others in it,
    /// the kinds [`pooled_kind`] names are also tried pooled, learning from every coin's rows up
    /// to each fold's training end. Empty (and ignored with `shuffle_labels`): this coin's rows
    /// only.
    pub pool: Arc<Pool>,
}

/// The coins pooled candidates also learn from ([`Plan::pool`]), with each coin's data set built
/// once per feature set and bar shape and shared by every plan holding this pool: without it,
/// each coin trained would build every other coin's rows again (33 coins: 32 times each).
/// Building a data set is deterministic, so sharing changes no byte of any model.
#[derive(Debug, Default)]
pub struct Pool {
    histories: Arc<Vec<CoinHistory>>,
    built: Mutex<HashMap<PoolKey, Arc<Dataset>>>,
}

/// A pooled data set's coin, horizon, bar size and feature spec (`Debug`-printed).
type PoolKey = (Coin, Horizon, i64, String);

impl Pool {
    /// A pool of `histories`, nothing built yet.
    pub fn new(histories: Vec<CoinHistory>) -> Arc<Pool> {
        Pool::shared(Arc::new(histories))
    }

    /// A pool of histories held elsewhere too (not copied).
    pub fn shared(histories: Arc<Vec<CoinHistory>>) -> Arc<Pool> {
        Arc::new(Pool {
            histories,
            built: Mutex::default(),
        })
    }

    pub fn histories(&self) -> &[CoinHistory] {
        &self.histories
    }

    /// `history`'s data set (one of this pool's) for `spec` and `plan`, built on first use. Two
    /// threads asking at once may both build it; the first stored is kept (they are equal).
    fn dataset(&self, history: &CoinHistory, spec: &FeatureSpec, plan: &Plan) -> Arc<Dataset> {
        let key = (history.coin, plan.horizon, plan.bar_s, format!("{spec:?}"));
        let lock = || self.built.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(d) = lock().get(&key) {
            return d.clone();
        }
        let built = Arc::new(history.dataset(spec, plan));
        lock().entry(key).or_insert(built).clone()
    }
}

/// How a feature set with the cross-section block is named (`price+cross-section`).
pub const CROSS_SECTION: &str = "cross-section";

/// The word after a pooled model's kind in its name: `gbm-d3 pooled`.
pub const POOLED: &str = "pooled";

/// The kinds also tried pooled (the MLP is not: it was chosen once in 60 per-coin runs, and
/// would double the training time).
pub fn pooled_kind(kind: &ModelKind) -> bool {
    matches!(kind, ModelKind::Logistic | ModelKind::Gbm { .. })
}

/// Market series (daily closes) the plans may use.
pub const MARKET_SERIES: [&str; 4] = ["gold", "sp500", "oil", "msci_world"];
/// On-chain series the plans may use.
pub const CHAIN_SERIES: [&str; 2] = ["mempool_count", "tps"];

/// The default plan for a horizon: the feature shape grows with the horizon. As in the original
/// study, 30 min to 2 h use price and volume only; from 4 h on, the daily market series are
/// offered too, and walk-forward selection decides whether they help. The price block with the
/// cross-section is offered at every horizon when the pool allows it (`cross_section_coins`).
///
/// The on-chain series (`CHAIN_SERIES`) are not offered to the shipped models: our history of them
/// ends in March 2021, before every later data set (so no model using them could be evaluated out
/// of sample, nor run on the bundled replay); the collectors store them live, and a plan can add
/// them (`Plan::feature_sets`) once enough has been collected.
pub fn default_plan(horizon: Horizon, bar_minutes: u32) -> Plan {
    let first = usize::max(1, (horizon.minutes() / bar_minutes / 4) as usize);
    let mut feature_sets = vec![vec![]];
    if horizon.minutes() >= 240 {
        feature_sets.push(MARKET_SERIES.map(String::from).to_vec());
    }
    Plan {
        horizon,
        bar_s: i64::from(bar_minutes) * 60,
        spec: FeatureSpec {
            periods: 5,
            first_period_bars: first,
            growth: 2.0,
            series: vec![],
            scaled: true,
            market: vec![],
        },
        candidates: vec![
            ModelKind::Logistic,
            ModelKind::Mlp { hidden: vec![32, 16] },
            ModelKind::Gbm { max_depth: 3 },
        ],
        feature_sets,
        train: TrainConfig::default(),
        folds: 6,
        initial_train_fraction: 0.4,
        max_train_rows: 40_000,
        costs: Costs::default(),
        shuffle_labels: false,
        cross_section: CrossSectionUse::Offered,
        pool: Arc::default(),
    }
}

/// How a plan uses the cross-section block ([`Plan::cross_section`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossSectionUse {
    /// Never.
    Off,
    /// As one more feature set beside the price block alone: the selection folds choose.
    Offered,
    /// Instead of the price block alone (when the pool allows it): a model that must read it.
    Only,
}

/// The coins a plan's cross-section block reads for `coin` (sorted tickers, `coin` among them):
/// every coin of the pool that makes the plan's bars, when BTC is one of them and at least two
/// others are; else none (no block offered).
pub fn cross_section_coins(coin: Coin, plan: &Plan) -> Vec<String> {
    if plan.cross_section == CrossSectionUse::Off || plan.shuffle_labels {
        return Vec::new();
    }
    let mut coins: Vec<String> = plan
        .pool
        .histories()
        .iter()
        .filter(|h| h.coin != coin && h.parts.iter().any(|p| p.feeds(plan)))
        .map(|h| h.coin.ticker().to_owned())
        .collect();
    let has_btc = coin == Coin::BTC || coins.iter().any(|c| c == Coin::BTC.ticker());
    if !has_btc || coins.len() < 2 {
        return Vec::new();
    }
    coins.push(coin.ticker().to_owned());
    coins.sort();
    coins.dedup();
    coins
}

/// Runs `work` (training, as a rule) with its parallel parts (the trees' histograms, the nets'
/// matrix products) on a pool of one thread of its own, not on rayon's global pool: a caller that
/// trains one model a core (`coincast train`) keeps every core busy already, and a server's
/// retraining job keeps to one core and leaves the others to the requests. It changes no byte of
/// any model (hessboost and candle give the same results on any thread count).
pub fn on_one_core<T: Send>(work: impl FnOnce() -> T + Send) -> anyhow::Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|_| "coincast-train".to_owned())
        .build()
        .context("a training thread")?;
    Ok(pool.install(work))
}

/// The result of training one coin and horizon.
#[derive(Debug)]
pub struct Trained {
    pub card: ModelCard,
    pub model: Fitted,
    pub onnx: Vec<u8>,
}

fn rows<T: Clone>(v: &[T], idx: impl Iterator<Item = usize>) -> Vec<T> {
    idx.map(|i| v[i].clone()).collect()
}

/// Trains on `rows` of `data` (their newest `max_train_rows`) and, pooled, on the rows of the
/// other coins' data sets made at or before the last of them (at most `max_train_rows` in all,
/// the newest of each coin): their labels end no later than this coin's, so before whatever this
/// coin's split tests.
fn fit_rows(
    kind: &ModelKind,
    data: &Dataset,
    rows: std::ops::Range<usize>,
    others: &[Arc<Dataset>],
    plan: &Plan,
) -> anyhow::Result<Fitted> {
    let r = training_rows(data, rows, others, plan);
    fit(kind, &r.x, &r.y, &r.ts, plan.horizon.seconds(), &plan.train)
}

/// The rows one fit learns from (see [`fit_rows`]).
#[derive(Debug, Default)]
struct TrainingRows {
    x: Vec<Vec<f32>>,
    y: Vec<bool>,
    ts: Vec<i64>,
    /// How many rows each of the other coins' data sets gave.
    from_others: Vec<usize>,
}

/// This coin's `rows` of `data` (their newest `max_train_rows`) and, when `others` are given, the
/// rows of each other coin made at or before the last of them (the newest, at most
/// `max_train_rows` from all of them together).
fn training_rows(
    data: &Dataset,
    rows: std::ops::Range<usize>,
    others: &[Arc<Dataset>],
    plan: &Plan,
) -> TrainingRows {
    let start = rows.end.saturating_sub(plan.max_train_rows).max(rows.start);
    let own = start..rows.end.max(start);
    let mut r = TrainingRows {
        x: data.x[own.clone()].to_vec(),
        y: data.y[own.clone()].to_vec(),
        ts: data.ts[own.clone()].to_vec(),
        from_others: vec![0; others.len()],
    };
    let Some(&limit) = own.end.checked_sub(1).and_then(|last| data.ts.get(last)) else {
        return r;
    };
    let each = plan.max_train_rows / others.len().max(1);
    for (o, given) in others.iter().zip(&mut r.from_others) {
        let end = o.ts.partition_point(|&t| t <= limit);
        let from = end.saturating_sub(each);
        r.x.extend_from_slice(&o.x[from..end]);
        r.y.extend_from_slice(&o.y[from..end]);
        r.ts.extend_from_slice(&o.ts[from..end]);
        *given = end - from;
    }
    r
}

/// Trains on `split.train` (see [`fit_rows`]) and predicts `split.test`.
fn fit_predict(
    kind: &ModelKind,
    data: &Dataset,
    others: &[Arc<Dataset>],
    split: &Split,
    plan: &Plan,
) -> anyhow::Result<Vec<f64>> {
    fit_rows(kind, data, split.train.clone(), others, plan)?.predict(&data.x[split.test.clone()])
}

/// The rows of the test blocks of `select` whose outcome is known before `scored_from` (the only
/// selection rows any choice may be scored on), in order: each as its position among those
/// blocks' rows (where its prediction is in a selection run) and its index into `data`.
fn known_before(data: &Dataset, select: &[Split], scored_from: i64, horizon_s: i64) -> Vec<(usize, usize)> {
    select
        .iter()
        .flat_map(|s| s.test.clone())
        .enumerate()
        .filter(|&(_, i)| data.ts[i] + horizon_s <= scored_from)
        .collect()
}

/// How many of the newest selection rows permutation importance is measured on.
const IMPORTANCE_ROWS: usize = 5_000;

/// The strategy rows of the test blocks of `splits`, in order, with their predictions `p` (the
/// blocks' rows concatenated).
pub fn strategy_rows(data: &Dataset, splits: &[Split], p: &[f64]) -> Vec<Row> {
    splits
        .iter()
        .flat_map(|s| s.test.clone())
        .zip(p)
        .map(|(i, &p_up)| Row {
            ts: data.ts[i],
            p_up,
            fwd_ret: data.fill_ret.get(i).copied().unwrap_or(f64::NAN),
            last_up: data.last_ret[i] > 0.0,
        })
        .collect()
}

/// Whether each test row of `splits` had a rising last bar (the momentum rule's call), in order.
pub fn last_up(data: &Dataset, splits: &[Split]) -> Vec<bool> {
    splits
        .iter()
        .flat_map(|s| s.test.clone())
        .map(|i| data.last_ret[i] > 0.0)
        .collect()
}

/// The signal's confidence threshold, chosen on the selection folds' predictions `p_select` (their
/// test blocks in order) only: rows whose position could end after `scored_from` (the first
/// prediction that will be scored; two horizons, since the fill waits for the next candle) are
/// left out too, since their outcome is a price of the scored period.
/// Nothing at or after `scored_from` can move the choice.
pub fn threshold_on_selection(
    data: &Dataset,
    select: &[Split],
    p_select: &[f64],
    scored_from: i64,
    horizon_s: i64,
    costs: Costs,
) -> ThresholdChoice {
    let rows: Vec<Row> = strategy_rows(data, select, p_select)
        .into_iter()
        // A position is entered at the first candle after publication and held a horizon: one
        // more horizon of margin keeps every exit (a candle at most a horizon long) before it.
        .filter(|r| r.ts + 2 * horizon_s <= scored_from)
        .collect();
    strategy::choose_threshold(&rows, horizon_s, costs)
}

/// What a card says about its costs.
pub fn fee_source(costs: Costs) -> String {
    if costs.fee_bps == strategy::DEFAULT_FEE_BPS {
        strategy::DEFAULT_FEE_SOURCE.to_owned()
    } else {
        format!("set for this run: {} bps per side", costs.fee_bps)
    }
}

/// The shares of most confident predictions the accuracy-vs-coverage curve is measured at.
pub const COVERAGES: [f64; 4] = [0.1, 0.25, 0.5, 1.0];

/// Accuracy on the most confident share of predictions, at each of [`COVERAGES`].
pub fn coverage_curve(up: &[bool], p: &[f64]) -> Vec<CoveragePoint> {
    COVERAGES
        .into_iter()
        .filter_map(|c| {
            accuracy_at_coverage(up, p, c).map(|at| CoveragePoint {
                coverage: c,
                accuracy: at.accuracy,
                n: at.n,
                min_confidence: Some(at.min_confidence),
            })
        })
        .collect()
}

/// Reliability bins over [0, 1] (empty bins left out).
pub fn reliability(up: &[bool], p: &[f64], bins: usize) -> Vec<ReliabilityBin> {
    let mut sums = vec![(0.0, 0usize, 0usize); bins];
    for (&y, &q) in up.iter().zip(p) {
        let b = ((q * bins as f64) as usize).min(bins - 1);
        sums[b].0 += q;
        sums[b].1 += usize::from(y);
        sums[b].2 += 1;
    }
    sums.into_iter()
        .filter(|s| s.2 > 0)
        .map(|(sp, ups, n)| ReliabilityBin {
            mean_predicted: sp / n as f64,
            observed_up: ups as f64 / n as f64,
            n,
        })
        .collect()
}

/// Trains, evaluates and exports one coin and horizon. `log` receives progress lines.
pub fn train_one(
    history: &CoinHistory,
    plan: &Plan,
    commit: Option<String>,
    log: &mut dyn FnMut(String),
) -> anyhow::Result<Trained> {
    let (coin, horizon) = (history.coin, plan.horizon);
    let horizon_s = horizon.seconds();
    // Wall time, for the log only.
    let building = std::time::Instant::now();
    anyhow::ensure!(
        history.parts.iter().any(|p| p.feeds(plan)),
        "{coin} {horizon}: no history whose bars make {} s bars and a {horizon} label",
        plan.bar_s
    );
    // One data set per feature set; the sets the history cannot feed are dropped (with a note).
    let mut sets: Vec<(FeatureSpec, Dataset)> = Vec::new();
    let mut not_used =
        vec!["tweets per day: no historical per-coin series exists in our data; not invented".to_owned()];
    for series in &plan.feature_sets {
        let missing: Vec<&String> = series
            .iter()
            .filter(|s| history.series.known_span(s).is_none())
            .collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            not_used.push(format!(
                "feature set +{}: no data for {}",
                series.join("+"),
                names.join(", ")
            ));
            continue;
        }
        let spec = FeatureSpec {
            series: series.clone(),
            ..plan.spec.clone()
        };
        // The price block with the cross-section, right after the price block alone (or
        // instead of it).
        let market = cross_section_coins(coin, plan);
        let with_market = (series.is_empty() && !market.is_empty()).then(|| FeatureSpec {
            market,
            ..spec.clone()
        });
        if with_market.is_none() || plan.cross_section == CrossSectionUse::Offered {
            let data = history.dataset(&spec, plan);
            sets.push((spec, data));
        }
        if let Some(spec) = with_market {
            let data = history.dataset(&spec, plan);
            sets.push((spec, data));
        }
    }
    // The other coins' rows of each feature set, for the pooled candidates (none for the
    // shuffled-labels control: their labels would still be real).
    let pool: Vec<&CoinHistory> = plan
        .pool
        .histories()
        .iter()
        .filter(|h| !plan.shuffle_labels && h.coin != coin && h.parts.iter().any(|p| p.feeds(plan)))
        .collect();
    let (pooled_coins, pooled_sets): (Vec<Vec<Coin>>, Vec<Vec<Arc<Dataset>>>) = sets
        .iter()
        .map(|(spec, _)| {
            pool.iter()
                .map(|h| (h.coin, plan.pool.dataset(h, spec, plan)))
                .filter(|(_, d)| !d.is_empty())
                .unzip()
        })
        .unzip();
    log(format!(
        "{coin} {horizon}: {} feature sets, {} pooled coins, built in {:.1} s",
        sets.len(),
        pool.len(),
        building.elapsed().as_secs_f64()
    ));
    if sets.len() > 1 {
        // Compare like with like: keep the rows every set has.
        let mut common: HashSet<i64> = sets[0].1.ts.iter().copied().collect();
        for (_, d) in &sets[1..] {
            let here: HashSet<i64> = d.ts.iter().copied().collect();
            common.retain(|t| here.contains(t));
        }
        for (_, d) in &mut sets {
            *d = d.filter(|t| common.contains(&t));
        }
    }
    if plan.shuffle_labels {
        for (_, d) in &mut sets {
            let mut order: Vec<usize> = (0..d.len()).collect();
            Rng::new(plan.train.seed ^ 0x5A0F).shuffle(&mut order);
            let (y, fwd, fill) = (d.y.clone(), d.fwd_ret.clone(), d.fill_ret.clone());
            for (i, &j) in order.iter().enumerate() {
                d.y[i] = y[j];
                d.fwd_ret[i] = fwd[j];
                if let Some(f) = fill.get(j) {
                    d.fill_ret[i] = *f;
                }
            }
        }
    }
    let Some((_, first)) = sets.first() else {
        anyhow::bail!("{coin} {horizon}: no usable feature set");
    };
    anyhow::ensure!(
        first.len() > 1000,
        "{coin} {horizon}: only {} samples",
        first.len()
    );
    let data_ts = first.ts.clone();
    let wf = WalkForward {
        folds: plan.folds,
        initial_train_fraction: plan.initial_train_fraction,
        horizon_s,
        embargo_s: horizon_s,
    };
    let splits = wf.splits(&data_ts);
    anyhow::ensure!(splits.len() >= 2, "{coin} {horizon}: too few walk-forward folds");
    let (select, report) = splits.split_at(splits.len() / 2);
    // The first prediction the report scores: every choice below is scored only on rows whose
    // outcome is known before it (so neither the report folds nor anything after them, such as a
    // gate window, can move a choice).
    let scored_from = report.first().map_or(i64::MAX, |s| data_ts[s.test.start]);

    // 1. Choose the kind on the earlier folds.
    let mut selection = Vec::new();
    let mut options = Vec::new();
    let mut selection_p = Vec::new();
    for (set, (spec, data)) in sets.iter().enumerate() {
        let known = known_before(data, select, scored_from, horizon_s);
        let y: Vec<bool> = known.iter().map(|&(_, i)| data.y[i]).collect();
        let others = &pooled_sets[set];
        let tries = plan.candidates.iter().flat_map(|kind| {
            let pooled = !others.is_empty() && pooled_kind(kind);
            std::iter::once((kind, false)).chain(pooled.then_some((kind, true)))
        });
        for (kind, pooled) in tries {
            let with: &[Arc<Dataset>] = if pooled { others } else { &[] };
            // Wall time, for the log only (it reaches no card and no choice).
            let fitting = std::time::Instant::now();
            let mut p_all = Vec::new();
            for split in select {
                p_all.extend(fit_predict(kind, data, with, split, plan)?);
            }
            let p: Vec<f64> = known.iter().map(|&(k, _)| p_all[k]).collect();
            let p = (p_all, p);
            let m = Metrics::compute(&y, &p.1).context("no selection rows")?;
            let features = feature_set_label(spec);
            log(format!(
                "{coin} {horizon}: {}{} on {features}: selection log loss {:.5} (n={}, {:.1} s)",
                kind.name(),
                if pooled { " pooled" } else { "" },
                m.log_loss,
                m.n,
                fitting.elapsed().as_secs_f64()
            ));
            selection.push(Candidate {
                model: kind.name(),
                features,
                selection_log_loss: m.log_loss,
                pooled,
            });
            options.push((set, kind.clone(), pooled));
            selection_p.push(p.0);
        }
    }
    let best = selection
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.selection_log_loss.total_cmp(&b.1.selection_log_loss))
        .map(|(i, _)| i)
        .context("no candidates")?;
    let (set, kind, pooled) = options[best].clone();
    let (spec, data) = &sets[set];
    let data = data.clone();
    let others: &[Arc<Dataset>] = if pooled { &pooled_sets[set] } else { &[] };
    let first_test = report.first().map(|s| s.test.start).unwrap_or_default();
    let last_test = report.last().map(|s| s.test.end - 1).unwrap_or_default();
    // Calibrate on the selection rows whose outcome is known before the scored period.
    let known = known_before(&data, select, scored_from, horizon_s);
    let chosen: Vec<usize> = known.iter().map(|&(_, i)| i).collect();
    let known_p: Vec<f64> = known.iter().map(|&(k, _)| selection_p[best][k]).collect();
    let known_y: Vec<bool> = chosen.iter().map(|&i| data.y[i]).collect();
    let platt = Platt::fit(&known_p, &known_y);
    let calibrated_p: Vec<f64> = known_p.iter().map(|&q| platt.apply(q)).collect();
    let calibration = Calibration {
        method: "platt".into(),
        a: platt.a,
        b: platt.b,
        rows: known_p.len(),
        log_loss_before: log_loss_of(&known_p, &known_y),
        log_loss_after: log_loss_of(&calibrated_p, &known_y),
    };
    log(format!(
        "{coin} {horizon}: calibration a={:.3} b={:+.3}: selection log loss {:.5} -> {:.5}",
        platt.a, platt.b, calibration.log_loss_before, calibration.log_loss_after
    ));
    let selection_calibrated: Vec<f64> = selection_p[best].iter().map(|&q| platt.apply(q)).collect();
    let threshold = threshold_on_selection(
        &data,
        select,
        &selection_calibrated,
        scored_from,
        horizon_s,
        plan.costs,
    );
    // Permutation importance: the last selection fold's model on its newest known rows.
    let importance = match select.last() {
        Some(last) => {
            let mut model = fit_rows(&kind, &data, last.train.clone(), others, plan)?;
            model.calibrate(platt);
            let measured: Vec<usize> = last
                .test
                .clone()
                .filter(|&i| data.ts[i] + horizon_s <= scored_from)
                .collect();
            let measured = &measured[measured.len().saturating_sub(IMPORTANCE_ROWS)..];
            let failed = std::cell::RefCell::new(None);
            let predict = |x: &[Vec<f32>]| -> Vec<f32> {
                match model.predict(x) {
                    Ok(p) => p.into_iter().map(|p| p as f32).collect(),
                    Err(e) => {
                        failed.borrow_mut().get_or_insert(e);
                        vec![0.5; x.len()]
                    }
                }
            };
            let grew = permutation_importance(
                &predict,
                &rows(&data.x, measured.iter().copied()),
                &rows(&data.y, measured.iter().copied()),
                3,
                plan.train.seed,
            );
            if let Some(e) = failed.into_inner() {
                return Err(e.context("permutation importance"));
            }
            let mut importance: Vec<FeatureImportance> = spec
                .names()
                .into_iter()
                .zip(grew)
                .map(|(feature, log_loss_increase)| FeatureImportance {
                    feature,
                    log_loss_increase,
                })
                .collect();
            importance.sort_by(|a, b| b.log_loss_increase.total_cmp(&a.log_loss_increase));
            importance
        }
        None => Vec::new(),
    };

    // 2. Report it on the later folds, next to the baselines, and trade its signals there.
    let (mut y, mut p) = (Vec::new(), Vec::new());
    for split in report {
        p.extend(
            fit_predict(&kind, &data, others, split, plan)?
                .into_iter()
                .map(|q| platt.apply(q)),
        );
        y.extend_from_slice(&data.y[split.test.clone()]);
    }
    // The simple rules are fixed on the selection folds (rows whose outcome lies before the
    // scored period), then scored on the report folds with the model.
    let fixed = FixedBaselines::choose(
        &rows(&data.y, chosen.iter().copied()),
        &chosen.iter().map(|&i| data.last_ret[i] > 0.0).collect::<Vec<_>>(),
        ChosenOn::SelectionFolds,
    )
    .context("no selection rows before the scored period")?;
    let report_ts: Vec<i64> = report
        .iter()
        .flat_map(|s| s.test.clone())
        .map(|i| data.ts[i])
        .collect();
    let lags = crate::stats::hac_lags(horizon_s, crate::stats::row_step(&report_ts));
    let wf_metrics =
        Metrics::evaluate(&y, &p, Some(&last_up(&data, report)), fixed, lags).context("no report rows")?;
    let coverage = coverage_curve(&y, &p);
    let deciles = confidence_deciles(&y, &p, &report_ts, horizon_s);
    let traded = strategy_rows(&data, report, &p);
    // Every configuration tried for this coin and horizon: each candidate at each threshold.
    let trials = selection.len() * strategy::THRESHOLD_GRID.len();
    let strategy =
        StrategyReport::evaluate(&traded, horizon_s, threshold, plan.costs, &fee_source(plan.costs))
            .context("no report rows")?
            .with_evidence(&traded, trials);

    // 3. The misleading contrast: a shuffled 80/20 split of the same rows (this coin's own, also
    // for a pooled model: the contrast is about the split, not the data).
    let mut order: Vec<usize> = (0..data.len()).collect();
    Rng::new(plan.train.seed ^ 0x5EED).shuffle(&mut order);
    let cut = data.len() * 4 / 5;
    let (tr, te) = order.split_at(cut);
    let tr = &tr[tr.len().saturating_sub(plan.max_train_rows)..];
    let shuffled_model = fit(
        &kind,
        &rows(&data.x, tr.iter().copied()),
        &rows(&data.y, tr.iter().copied()),
        &rows(&data.ts, tr.iter().copied()),
        horizon_s,
        &plan.train,
    )?;
    let shuffled = Metrics::compute(
        &rows(&data.y, te.iter().copied()),
        &shuffled_model.predict(&rows(&data.x, te.iter().copied()))?,
    )
    .context("no shuffled rows")?;

    // 4. The shipped model: every row (the newest max_train_rows; pooled, with the other coins'
    // rows up to the same time), with the calibration folded in.
    let shipped = training_rows(&data, 0..data.len(), others, plan);
    let mut model = fit(&kind, &shipped.x, &shipped.y, &shipped.ts, horizon_s, &plan.train)?;
    // The coins that gave the shipped model rows (and only those).
    let pooled_with: Vec<Coin> = pooled_coins[set]
        .iter()
        .zip(&shipped.from_others)
        .filter(|(_, n)| **n > 0)
        .map(|(c, _)| *c)
        .collect();
    model.calibrate(platt);
    let stem = ModelCard::stem(coin, horizon);
    let onnx = model.to_onnx(&[
        ("coin", coin.ticker().to_owned()),
        ("horizon", horizon.as_str().to_owned()),
        ("feature_version", FEATURE_VERSION.to_string()),
    ])?;
    let sha = format!("{:x}", Sha256::digest(&onnx));
    let golden_input = data.x.last().cloned().unwrap_or_default();
    let golden = Golden {
        p_up: model.predict_one(&golden_input)?,
        input: golden_input,
    };
    log(format!(
        "{coin} {horizon}: chose {}; walk-forward accuracy {:.4} (baseline {:.4}, n={}), shuffled split {:.4}",
        kind.name(),
        wf_metrics.accuracy,
        wf_metrics.baseline_accuracy,
        wf_metrics.n,
        shuffled.accuracy
    ));
    log(format!(
        "{coin} {horizon}: threshold {:.2}: long-short net {:+.1}% ({} trades, break-even {:.1} bps), buy-and-hold {:+.1}%",
        strategy.threshold,
        100.0 * strategy.long_short.net_return,
        strategy.long_short.trades,
        strategy.long_short.break_even_fee_bps.unwrap_or(0.0),
        100.0 * strategy.buy_and_hold.net_return,
    ));
    let card = ModelCard {
        id: format!("{stem}-{}", &sha[..8]),
        coin,
        horizon,
        // A pooled model says so in its name (the report's and the API's `kind`).
        model_name: if pooled {
            format!("{} {POOLED}", kind.name())
        } else {
            kind.name()
        },
        depth: kind.depth(),
        model: kind,
        features: FeatureInfo {
            version: FEATURE_VERSION,
            bar_seconds: plan.bar_s,
            periods: spec.periods,
            first_period_bars: spec.first_period_bars,
            growth: spec.growth,
            series: spec.series.clone(),
            scaled: spec.scaled,
            market: spec.market.clone(),
            names: spec.names(),
        },
        training: TrainingData {
            sources: history
                .sources
                .iter()
                .chain(
                    history
                        .series_sources
                        .iter()
                        .filter(|s| spec.series.iter().any(|n| s.starts_with(&format!("{n}:")))),
                )
                .chain(
                    pool.iter()
                        .filter(|h| pooled_with.contains(&h.coin))
                        .flat_map(|h| h.sources.iter()),
                )
                .cloned()
                .collect(),
            bar_seconds: plan.bar_s,
            rows_at: history.rows_at(plan),
            // Every row the shipped model learnt from, the other coins' too when pooled: what
            // the in-sample checks and the no-skill forecast go by.
            from: rfc3339(shipped.ts.iter().copied().min().unwrap_or(0)),
            to: rfc3339(shipped.ts.iter().copied().max().unwrap_or(0)),
            rows: shipped.ts.len(),
            up_rate: Some(shipped.y.iter().filter(|&&u| u).count() as f64 / shipped.y.len().max(1) as f64),
            not_used,
        },
        selection,
        walk_forward: WalkForwardReport {
            folds: report.len(),
            test_from: rfc3339(data.ts[first_test]),
            test_to: rfc3339(data.ts[last_test]),
            purge_seconds: horizon_s,
            embargo_seconds: horizon_s,
            metrics: wf_metrics.clone(),
            accuracy_vs_coverage: coverage,
            reliability: reliability(&y, &p, 10),
            confidence_deciles: deciles,
        },
        shuffled_split: shuffled,
        strategy: Some(strategy),
        gate: None,
        calibration: Some(calibration),
        importance,
        configurations_tried: Some(trials),
        pooled_with,
        onnx_file: format!("{stem}.onnx"),
        onnx_sha256: sha,
        golden,
        seed: plan.train.seed,
        trained_commit: commit,
        trained_at: chrono::Utc::now().to_rfc3339(),
    };
    Ok(Trained { card, model, onnx })
}

/// How a card names a feature set: `price`, `price+cross-section` or `price+gold+sp500...`.
pub fn feature_set_label(spec: &FeatureSpec) -> String {
    std::iter::once("price")
        .chain((!spec.market.is_empty()).then_some(CROSS_SECTION))
        .chain(spec.series.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("+")
}

/// Writes a trained model's ONNX file and card into `dir`.
pub fn write(trained: &Trained, dir: &Path) -> anyhow::Result<()> {
    write_artifact(&trained.card, &trained.onnx, dir)
}

/// Writes a model's ONNX bytes and card into `dir` as `<COIN>-<horizon>.onnx` and `.json`.
pub fn write_artifact(card: &ModelCard, onnx: &[u8], dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let stem = ModelCard::stem(card.coin, card.horizon);
    let mut card = card.clone();
    card.onnx_file = format!("{stem}.onnx");
    std::fs::write(dir.join(&card.onnx_file), onnx)?;
    let json = serde_json::to_string_pretty(&card)?;
    std::fs::write(dir.join(format!("{stem}.json")), json + "\n")?;
    Ok(())
}

/// Reads every model card in `dir`, sorted by coin and horizon.
pub fn read_cards(dir: &Path) -> anyhow::Result<Vec<ModelCard>> {
    let mut cards = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path)?;
            cards.push(
                serde_json::from_str::<ModelCard>(&text)
                    .with_context(|| format!("parsing {}", path.display()))?,
            );
        }
    }
    cards.sort_by_key(|c| (c.coin, c.horizon));
    Ok(cards)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data set of hourly rows with made-up returns (a fixed pseudo-random sequence).
    fn data(n: usize) -> Dataset {
        let mut d = Dataset::default();
        let mut state = 7u64;
        for i in 0..n {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let r = ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.02;
            d.x.push(vec![r as f32]);
            d.y.push(r > 0.0);
            d.ts.push(i as i64 * 3600);
            d.fwd_ret.push(r);
            d.fill_ret.push(r);
            d.last_ret.push(-r / 2.0);
        }
        d
    }

    #[test]
    fn training_on_one_core_changes_no_prediction() {
        let d = data(3_000);
        let cfg = TrainConfig {
            epochs: 2,
            ..TrainConfig::default()
        };
        for kind in [ModelKind::Logistic, ModelKind::Gbm { max_depth: 3 }] {
            let fit_all = || fit(&kind, &d.x, &d.y, &d.ts, 3600, &cfg).and_then(|m| m.predict(&d.x));
            let here = fit_all().unwrap();
            let (threads, there) = on_one_core(|| (rayon::current_num_threads(), fit_all())).unwrap();
            assert_eq!(threads, 1);
            assert_eq!(here, there.unwrap(), "{kind:?}");
        }
    }

    /// Six walk-forward folds of a 4 h horizon, purged and embargoed by it.
    fn four_hour_folds() -> WalkForward {
        let horizon_s = 4 * 3600;
        WalkForward {
            folds: 6,
            initial_train_fraction: 0.4,
            horizon_s,
            embargo_s: horizon_s,
        }
    }

    #[test]
    fn the_threshold_never_sees_the_scored_folds() {
        let horizon_s = 4 * 3600;
        let wf = four_hour_folds();
        let d = data(3000);
        let splits = wf.splits(&d.ts);
        let (select, report) = splits.split_at(splits.len() / 2);
        // Predictions that partly know the outcome, so thresholds differ.
        let p: Vec<f64> = select
            .iter()
            .flat_map(|s| s.test.clone())
            .map(|i| {
                0.5 + d.fwd_ret[i].signum()
                    * (0.02 + 10.0 * d.fwd_ret[i].abs())
                    * if i % 3 == 0 { -1.0 } else { 1.0 }
            })
            .collect();
        let scored_from = d.ts[report[0].test.start];
        let costs = Costs::default();
        let before = threshold_on_selection(&d, select, &p, scored_from, horizon_s, costs);
        assert!(before.trades >= strategy::MIN_SELECTION_TRADES, "{before:?}");
        // Rewrite everything the scored period's prices decide: its rows, and the outcomes of
        // earlier rows whose horizon ends inside it.
        let mut later = d.clone();
        for i in 0..later.len() {
            if later.ts[i] + 2 * horizon_s > scored_from {
                later.fwd_ret[i] = -later.fwd_ret[i] * 3.0;
                later.fill_ret[i] = -later.fill_ret[i] * 3.0;
                later.y[i] = !later.y[i];
                later.last_ret[i] = 0.05;
                later.x[i] = vec![9.0];
            }
        }
        let after = threshold_on_selection(&later, select, &p, scored_from, horizon_s, costs);
        assert_eq!(before, after);
        assert!(
            before.to.as_str()
                < chrono::DateTime::from_timestamp(scored_from, 0)
                    .unwrap()
                    .to_rfc3339()
                    .as_str()
        );
        // The purge is what protects: without it, rows whose outcome lies in the scored period
        // would take part.
        let all = strategy_rows(&later, select, &p);
        assert!(all.len() > before.rows);
    }

    /// Hourly bars of a seeded random walk whose returns carry a little of the last one's.
    fn walk(n: usize, seed: u64) -> Vec<Bar> {
        let mut state = seed;
        let (mut close, mut last) = (100.0_f64, 0.0_f64);
        (0..n)
            .map(|i| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let r = ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.02 + 0.2 * last;
                last = r;
                let open = close;
                close *= 1.0 + r;
                Bar {
                    ts: 1_599_998_400 + i as i64 * 3600,
                    open,
                    high: open.max(close) * 1.001,
                    low: open.min(close) * 0.999,
                    close,
                    volume: 10.0 + (state >> 60) as f64,
                }
            })
            .collect()
    }

    fn history(coin: Coin, seed: u64) -> CoinHistory {
        CoinHistory {
            coin,
            parts: vec![BaseBars {
                bars: walk(4_000, seed),
                interval_s: 3600,
            }],
            sources: vec![format!("{coin} walk")],
            series: SeriesSet::default(),
            series_sources: vec![],
        }
    }

    /// Rewrites every bar at or after `from`.
    fn rewrite_from(history: &mut CoinHistory, from: i64) {
        for (k, b) in history.parts[0].bars.iter_mut().enumerate() {
            if b.ts >= from {
                let f = if k % 2 == 0 { 1.03 } else { 0.97 };
                (b.open, b.high, b.low, b.close) = (b.open * f, b.high * f * 1.01, b.low * f, b.close / f);
            }
        }
    }

    /// Every choice (model kind, pooling, feature set, calibration, importance, signal threshold)
    /// is made on rows whose outcome is known before the first scored prediction: rewriting
    /// every price of every pooled coin (and so of the cross-section) from then on changes the
    /// scored figures and no choice.
    #[test]
    fn no_choice_reads_a_price_of_the_scored_period() {
        let coins = [
            history(Coin::BTC, 3),
            history(Coin::ETH, 5),
            history(Coin::LTC, 7),
        ];
        // A 4 h label on hourly rows: the last selection rows' outcomes lie in the scored period.
        let mut plan = default_plan(Horizon::H4, 60);
        plan.train.epochs = 2;
        plan.max_train_rows = 1_500;
        plan.pool = Pool::new(coins.to_vec());
        let a = train_one(&coins[0], &plan, None, &mut |_| {}).unwrap();
        let scored_from = chrono::DateTime::parse_from_rfc3339(&a.card.walk_forward.test_from)
            .unwrap()
            .timestamp();
        let mut later = coins.to_vec();
        later.iter_mut().for_each(|h| rewrite_from(h, scored_from));
        let mut plan_later = plan.clone();
        plan_later.pool = Pool::new(later.clone());
        let b = train_one(&later[0], &plan_later, None, &mut |_| {}).unwrap();
        assert_eq!(a.card.selection, b.card.selection);
        assert_eq!(a.card.model, b.card.model);
        assert_eq!(a.card.calibration, b.card.calibration);
        assert_eq!(a.card.importance, b.card.importance);
        let threshold = |t: &Trained| t.card.strategy.as_ref().map(|s| s.threshold_choice.clone());
        assert_eq!(threshold(&a), threshold(&b));
        // The rewrite did reach what is scored.
        assert_ne!(a.card.walk_forward.metrics, b.card.walk_forward.metrics);
        // Three kinds were tried alone and two of them pooled, on the price block alone and with
        // the cross-section, each at every threshold.
        assert_eq!(a.card.selection.len(), 10);
        assert_eq!(a.card.selection.iter().filter(|c| c.pooled).count(), 4);
        let cross = format!("price+{CROSS_SECTION}");
        assert_eq!(a.card.selection.iter().filter(|c| c.features == cross).count(), 5);
        assert_eq!(
            a.card.configurations_tried,
            Some(10 * strategy::THRESHOLD_GRID.len())
        );
        let chosen_pooled = a
            .card
            .selection
            .iter()
            .min_by(|x, y| x.selection_log_loss.total_cmp(&y.selection_log_loss))
            .unwrap()
            .pooled;
        assert_eq!(a.card.pooled_with.is_empty(), !chosen_pooled);
        assert_eq!(a.card.walk_forward.confidence_deciles.len(), 10);
        assert_eq!(a.card.importance.len(), a.card.features.names.len());
    }

    /// A pooled fit takes the other coins' rows only up to this coin's last training row, so
    /// their labels end before the fold's test block (purge and embargo included), also when this
    /// coin's rows are capped; at most `max_train_rows` come from the others together.
    #[test]
    fn pooled_rows_end_where_the_folds_training_ends() {
        let horizon_s = 4 * 3600;
        let wf = four_hour_folds();
        let own = data(3000);
        let mut other = data(3500);
        other.ts.iter_mut().for_each(|t| *t -= 1800);
        let mut plan = default_plan(Horizon::H4, 60);
        plan.max_train_rows = 500;
        for split in wf.splits(&own.ts) {
            let test_start = own.ts[split.test.start];
            let others = [Arc::new(other.clone()), Arc::new(other.clone())];
            let r = training_rows(&own, split.train.clone(), &others, &plan);
            assert!(
                r.ts.iter().all(|t| t + horizon_s + horizon_s <= test_start),
                "{split:?}"
            );
            assert_eq!(
                r.from_others.iter().sum::<usize>(),
                r.ts.len() - split.train.len().min(500)
            );
            assert!(r.from_others.iter().sum::<usize>() <= 500);
        }
        assert_eq!(training_rows(&own, 0..0, &[Arc::new(other)], &plan).ts.len(), 0);
    }

    /// A pool shared by every coin trained builds each coin's rows once, and gives the same
    /// models, byte for byte, as a pool of the same histories built afresh for one coin.
    #[test]
    fn a_shared_pool_builds_each_coins_rows_once_and_changes_no_byte() {
        let coins = [
            history(Coin::BTC, 3),
            history(Coin::ETH, 5),
            history(Coin::LTC, 7),
        ];
        let mut plan = default_plan(Horizon::H1, 60);
        plan.train.epochs = 2;
        plan.max_train_rows = 1_500;
        plan.pool = Pool::new(coins.to_vec());
        let shared: Vec<Trained> = coins
            .iter()
            .map(|h| train_one(h, &plan, None, &mut |_| {}).unwrap())
            .collect();
        // Two feature sets at 1 h (price, and price with the cross-section of the three): each
        // coin's rows of each built once, for the other two.
        assert_eq!(plan.pool.built.lock().unwrap().len(), 2 * coins.len());
        for (h, shared) in coins.iter().zip(&shared) {
            let mut alone = plan.clone();
            alone.pool = Pool::new(coins.to_vec());
            let fresh = train_one(h, &alone, None, &mut |_| {}).unwrap();
            assert_eq!(shared.onnx, fresh.onnx, "{}", h.coin);
            assert_eq!(shared.card.selection, fresh.card.selection);
            assert_eq!(shared.card.pooled_with, fresh.card.pooled_with);
        }
    }

    /// A pool of this coin alone is no pool: the same candidates and the same model, byte for
    /// byte, as training without one.
    #[test]
    fn a_pool_of_the_coin_itself_changes_nothing() {
        let btc = history(Coin::BTC, 3);
        let mut plan = default_plan(Horizon::H1, 60);
        plan.train.epochs = 2;
        plan.max_train_rows = 1_500;
        let alone = train_one(&btc, &plan, None, &mut |_| {}).unwrap();
        plan.pool = Pool::new(vec![btc.clone()]);
        let pooled = train_one(&btc, &plan, None, &mut |_| {}).unwrap();
        assert_eq!(alone.onnx, pooled.onnx);
        assert_eq!(alone.card.selection, pooled.card.selection);
        assert!(pooled.card.pooled_with.is_empty());
    }

    #[test]
    fn strategy_rows_follow_the_test_blocks() {
        let d = data(10);
        let splits = [
            Split {
                train: 0..2,
                test: 3..5,
            },
            Split {
                train: 0..4,
                test: 5..7,
            },
        ];
        let rows = strategy_rows(&d, &splits, &[0.1, 0.2, 0.3, 0.4]);
        let ts: Vec<i64> = rows.iter().map(|r| r.ts).collect();
        assert_eq!(ts, [3 * 3600, 4 * 3600, 5 * 3600, 6 * 3600]);
        assert_eq!(rows[2].fwd_ret, d.fill_ret[5]);
        assert_eq!(rows[3].p_up, 0.4);
        assert_eq!(
            last_up(&d, &splits),
            rows.iter().map(|r| r.last_up).collect::<Vec<_>>()
        );
    }
}
