//! Model cards: the JSON beside each ONNX file that says what the model is, what it was trained on
//! and how well it did out of sample, next to the baselines, and what trading its signals after
//! costs would have made. The server's `/api/models` reads these.

use serde::{Deserialize, Serialize};
use shared::{Coin, Horizon};

use crate::features::FeatureSpec;
use crate::metrics::Metrics;
use crate::nn::ModelKind;
use crate::strategy::StrategyReport;

/// Accuracy on the most confident share of predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoveragePoint {
    pub coverage: f64,
    pub accuracy: f64,
    pub n: usize,
    /// The `|p - 0.5|` of the least confident row kept (absent in cards written before it was
    /// recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<f64>,
}

/// One bin of a reliability diagram: predicted probability vs how often UP happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    pub mean_predicted: f64,
    pub observed_up: f64,
    pub n: usize,
}

/// Walk-forward evaluation of the shipped model kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalkForwardReport {
    /// Test blocks used for the reported metrics (not used for model selection).
    pub folds: usize,
    /// First and last prediction time in the test blocks (RFC 3339).
    pub test_from: String,
    pub test_to: String,
    pub purge_seconds: i64,
    pub embargo_seconds: i64,
    pub metrics: Metrics,
    pub accuracy_vs_coverage: Vec<CoveragePoint>,
    pub reliability: Vec<ReliabilityBin>,
    /// Accuracy by confidence decile (1: the least confident tenth of the reported predictions,
    /// 10: the most confident), with intervals from the decile's effective sample size (empty in
    /// cards written before it was recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confidence_deciles: Vec<ConfidenceDecile>,
}

/// The reported predictions of one confidence decile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceDecile {
    /// 1 (least confident) to 10 (most confident).
    pub decile: usize,
    /// The `|p - 0.5|` of its least confident row.
    pub min_confidence: f64,
    pub accuracy: f64,
    pub n: usize,
    /// The rows' worth of independent evidence (overlapping labels: Newey-West over the horizon).
    pub n_effective: f64,
    /// A 95% Wilson interval of the accuracy on `n_effective`.
    pub low: f64,
    pub high: f64,
}

/// How the probabilities were calibrated: fitted on the selection folds' predictions (rows whose
/// outcome is known before the reported folds start), folded into the exported model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// `platt`: P = sigmoid(a * logit(p) + b).
    pub method: String,
    pub a: f64,
    pub b: f64,
    /// The selection rows it was fitted on.
    pub rows: usize,
    /// Their mean log loss before and after.
    pub log_loss_before: f64,
    pub log_loss_after: f64,
}

/// How much one feature matters to the model: the growth of its log loss when the feature's
/// column is shuffled (permutation importance on the last selection fold's test rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureImportance {
    pub feature: String,
    pub log_loss_increase: f64,
}

/// A candidate considered for this coin and horizon, with its selection score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub model: String,
    /// The feature set: `price`, or `price+gold+sp500+...` with external series.
    #[serde(default = "price")]
    pub features: String,
    /// Mean log loss over the selection folds' rows (earlier than the reported test blocks).
    pub selection_log_loss: f64,
    /// Learnt from every coin's rows up to each fold's training end, not this coin's alone
    /// (absent, false, in older cards).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pooled: bool,
}

fn price() -> String {
    "price".into()
}

/// Where the training rows came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingData {
    pub sources: Vec<String>,
    pub bar_seconds: i64,
    /// Where the rows were made: each base's span, interval and row step (absent in cards written
    /// before the one bar builder).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows_at: Vec<String>,
    pub from: String,
    pub to: String,
    pub rows: usize,
    /// The share of those rows that went UP: the no-skill forecast the gate holds a challenger
    /// against (absent in cards written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_rate: Option<f64>,
    /// Series considered and not used, with the reason.
    pub not_used: Vec<String>,
}

/// How a training source that is an installation's own database begins (`database: 1440 stored
/// 60 s bars`): what the retrain job learns from.
pub const DATABASE_SOURCE: &str = "database";

impl TrainingData {
    /// The training source line of `n` bars of `interval_s` seconds stored in the database.
    pub fn database_source(n: usize, interval_s: i64) -> String {
        format!("{DATABASE_SOURCE}: {n} stored {interval_s} s bars")
    }

    /// Whether the model learnt from an installation's database (a retrained challenger) rather
    /// than from history files.
    pub fn learnt_from_database(&self) -> bool {
        self.sources.iter().any(|s| s.starts_with(DATABASE_SOURCE))
    }
}

/// The feature definition a model was trained with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureInfo {
    pub version: u32,
    pub bar_seconds: i64,
    pub periods: usize,
    pub first_period_bars: usize,
    pub growth: f64,
    /// External series after the price block (version 2; empty for price only).
    #[serde(default)]
    pub series: Vec<String>,
    /// The scale-free price block (see `features`; absent, false, in older cards).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scaled: bool,
    /// The coins of the cross-section block, by ticker (see `features`; absent, empty, in older
    /// cards and in models without the block).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub market: Vec<String>,
    pub names: Vec<String>,
}

/// A fixed input with the trainer's output, to check any runtime reproduces the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Golden {
    pub input: Vec<f32>,
    pub p_up: f32,
}

/// How a model fared against the model it was to replace (see `gate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRecord {
    /// When the gate decided (RFC 3339).
    pub decided_at: String,
    /// The running model it was compared with.
    pub champion_id: String,
    /// The window both were scored on, which neither trained on (prediction times, RFC 3339).
    pub window_from: String,
    pub window_to: String,
    /// The champion's training span covers the window (its figure there is in-sample, which
    /// favours it).
    pub champion_in_sample: bool,
    pub result: crate::gate::GateResult,
}

/// The card of one shipped model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// `BTC-1h-<first 8 hex of the ONNX sha256>`.
    pub id: String,
    pub coin: Coin,
    pub horizon: Horizon,
    pub model: ModelKind,
    pub model_name: String,
    /// Weight layers (1 for logistic regression).
    pub depth: usize,
    pub features: FeatureInfo,
    pub training: TrainingData,
    pub selection: Vec<Candidate>,
    pub walk_forward: WalkForwardReport,
    /// The same model kind scored on a shuffled random 80/20 split of the same rows: shown only to
    /// explain why such figures mislead (neighbouring rows share most of their label window).
    pub shuffled_split: Metrics,
    /// Trading the model's signals after costs on the reported folds, against buy-and-hold and
    /// the momentum rule (absent in cards written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyReport>,
    /// The champion/challenger gate's decision on this model (absent for models trained by
    /// `coincast train` without a gate, and for cards written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateRecord>,
    /// The calibration folded into the model (absent in cards written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// Permutation importance of every feature, most important first (empty in older cards).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub importance: Vec<FeatureImportance>,
    /// The other coins whose rows this model also learnt from (pooled training; empty: this
    /// coin's rows only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pooled_with: Vec<Coin>,
    /// Every configuration tried for this coin and horizon (candidates x feature sets x signal
    /// thresholds): the count the deflated Sharpe ratio and the multiple-testing corrections use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configurations_tried: Option<usize>,
    pub onnx_file: String,
    pub onnx_sha256: String,
    pub golden: Golden,
    pub seed: u64,
    pub trained_commit: Option<String>,
    pub trained_at: String,
}

impl ModelCard {
    /// The feature spec the model was trained with.
    pub fn spec(&self) -> FeatureSpec {
        FeatureSpec {
            periods: self.features.periods,
            first_period_bars: self.features.first_period_bars,
            growth: self.features.growth,
            series: self.features.series.clone(),
            scaled: self.features.scaled,
            market: self.features.market.clone(),
        }
    }

    /// The confidence threshold of the model's signals (chosen on earlier walk-forward folds),
    /// when the card has a strategy evaluation.
    pub fn signal_threshold(&self) -> Option<f64> {
        self.strategy.as_ref().map(|s| s.threshold)
    }

    /// The walk-forward accuracy of the predictions at least as confident as `p_up`: the most
    /// selective point of the accuracy-vs-coverage curve whose least confident row is no more
    /// confident than this one. `None` when no recorded point includes it.
    pub fn band_accuracy(&self, p_up: f64) -> Option<f64> {
        let distance = (p_up - 0.5).abs();
        self.walk_forward
            .accuracy_vs_coverage
            .iter()
            .filter(|c| c.min_confidence.is_some_and(|m| m <= distance + 1e-12))
            .min_by(|a, b| a.coverage.total_cmp(&b.coverage))
            .map(|c| c.accuracy)
    }

    /// The file stem for a coin and horizon: `BTC-1h`.
    pub fn stem(coin: Coin, horizon: Horizon) -> String {
        format!("{}-{}", coin.ticker(), horizon.as_str())
    }
}
