//! Predictions and their measured accuracy: `GET /api/predictions`, `GET /api/accuracy`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Coin, DataMode, Horizon};

/// The probability of UP that a prediction must exceed to say UP (see [`predicts_up`]).
pub const UP_ABOVE: f64 = 0.5;

/// Whether a probability of UP says UP: the one rule for the shown direction, the stored
/// `correct`, live accuracy and every walk-forward metric. UP only when `p_up` is strictly above
/// 0.5; a tie (exactly 0.5, no information either way) says DOWN, as the label calls an unchanged
/// price DOWN (UP only when strictly higher), so a tie takes the label's side. NaN says DOWN.
pub fn predicts_up(p_up: f64) -> bool {
    p_up > UP_ABOVE
}

/// The predicted direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Direction {
    /// The close at the target time is predicted above the reference price (P(up) > 0.5, see
    /// [`predicts_up`]).
    Up,
    /// At or below it.
    Down,
}

impl Direction {
    /// The direction a probability of UP stands for.
    pub fn from_p_up(p_up: f64) -> Self {
        if predicts_up(p_up) {
            Direction::Up
        } else {
            Direction::Down
        }
    }
}

/// `|p_up - 0.5| * 2`: 0 for a coin toss, 1 for certainty (0 for a probability that is not finite).
pub fn confidence(p_up: f64) -> f64 {
    if p_up.is_finite() {
        ((p_up - 0.5).abs() * 2.0).min(1.0)
    } else {
        0.0
    }
}

/// What to do with a prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Signal {
    /// Buy: the model says UP with at least the threshold's confidence.
    Long,
    /// Sell short: the model says DOWN with at least the threshold's confidence.
    Short,
    /// Stay out.
    Flat,
}

impl Signal {
    /// The signal of a probability of UP at a confidence threshold (reached to within 1e-12, so
    /// that `0.7` at `0.4` trades despite binary rounding).
    pub fn from_p_up(p_up: f64, threshold: f64) -> Signal {
        if !p_up.is_finite() || confidence(p_up) + 1e-12 < threshold {
            Signal::Flat
        } else if predicts_up(p_up) {
            Signal::Long
        } else {
            Signal::Short
        }
    }
}

/// Where a prediction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its target time has not passed (or its price has not arrived yet).
    Pending,
    /// Compared with the real close at the target time.
    Scored,
    /// No price arrived within an hour of the target time: not counted as right or wrong.
    Unscorable,
}

/// One prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Prediction {
    /// A stable id (the stored row's): the same prediction has the same id in every answer and
    /// event, and `score` events name the prediction they score by it. Ids tell predictions
    /// apart; they are not dense and do not follow time: they increase in the order rows are
    /// stored, so predictions backfilled at start-up (with past `made_at`) take ids after the live
    /// ones stored before them. Order by `made_at`.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub id: i64,
    pub coin: Coin,
    pub horizon: Horizon,
    /// UP or DOWN.
    pub direction: Direction,
    /// The model's probability that the price goes up.
    pub p_up: f64,
    /// `|p_up - 0.5| * 2`: 0 for a coin toss, 1 for certainty.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    pub confidence: f64,
    /// What following the model means for this prediction: LONG or SHORT when its confidence
    /// reaches `signal_threshold`, else FLAT (also FLAT when the model has no threshold).
    pub signal: Signal,
    /// The model's confidence threshold, chosen on earlier walk-forward folds than the ones its
    /// trading figures are scored on (`GET /api/performance`); recorded with the prediction.
    /// Absent for predictions made before thresholds existed.
    pub signal_threshold: Option<f64>,
    /// Walk-forward accuracy of the model's predictions at least this confident (its
    /// accuracy-vs-coverage curve at this confidence), recorded with the prediction. Absent when
    /// the model's card has no such curve.
    pub band_accuracy: Option<f64>,
    /// The prediction time (a minute boundary): it uses only data that had closed by then.
    pub made_at: DateTime<Utc>,
    /// `made_at` + horizon.
    pub target_at: DateTime<Utc>,
    /// When the server stored and published it (seconds after `made_at`: the minute's candles
    /// arrive first). `made_at` for predictions stored before this field existed.
    pub published_at: DateTime<Utc>,
    /// Until when this is the current prediction of its coin and horizon: the next one is due by
    /// then (its `made_at` is this one's plus the cadence). Later than this without a newer one,
    /// it is stale: `not_made_reason` of `GET /api/predictions` says why.
    pub valid_until: DateTime<Utc>,
    /// The close of the minute just before `made_at`, USD.
    pub reference_price: f64,
    /// The model that made it (`BTC-1h-<sha256 prefix>`, see `GET /api/models`).
    pub model_id: String,
    /// Made after the fact from stored history (at start-up), not live; counted apart.
    pub backfilled: bool,
    pub outcome: Outcome,
    /// The close of the minute just before `target_at`, once scored.
    pub realized_price: Option<f64>,
    /// Whether the direction was right, once scored.
    pub correct: Option<bool>,
}

/// A trailing window of live accuracy: `window` of [`AccuracyStats`] is its wire name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccuracyWindow {
    /// The last 24 hours: `24h`.
    Day,
    /// The last 7 days: `7d` (shown beside each prediction).
    Week,
    /// The last 30 days: `30d`.
    Month,
}

impl AccuracyWindow {
    /// Every window, shortest first (the order of `live` in the answers).
    pub const ALL: [AccuracyWindow; 3] = [AccuracyWindow::Day, AccuracyWindow::Week, AccuracyWindow::Month];

    /// The wire name: `24h`, `7d`, `30d`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AccuracyWindow::Day => "24h",
            AccuracyWindow::Week => "7d",
            AccuracyWindow::Month => "30d",
        }
    }

    /// Its length in seconds.
    pub const fn seconds(self) -> i64 {
        const DAY: i64 = 86_400;
        match self {
            AccuracyWindow::Day => DAY,
            AccuracyWindow::Week => 7 * DAY,
            AccuracyWindow::Month => 30 * DAY,
        }
    }
}

/// Accuracy of scored predictions over a trailing window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccuracyStats {
    /// `24h`, `7d` or `30d` (by prediction time).
    #[cfg_attr(feature = "openapi", schema(pattern = "^(24h|7d|30d)$"))]
    pub window: String,
    /// Whether these predictions were made on data the model was not trained on: always for
    /// live data; for a replay, only when the replayed recording lies outside the model's
    /// training span.
    pub out_of_sample: bool,
    /// Scored predictions in the window.
    pub n: u32,
    /// The effective sample size: how many horizon-length blocks of time the scored predictions
    /// fall in. Predictions made every minute (or 15 minutes) with a longer horizon share most of
    /// their future, so `n` overstates the evidence 30-120 times; the interval uses this. Absent
    /// in answers of servers before API 1.5.
    #[serde(default)]
    pub n_effective: u32,
    /// Of which the direction was right.
    pub hits: u32,
    /// hits / n (absent when n = 0).
    pub accuracy: Option<f64>,
    /// 95% Wilson interval of the accuracy, over `n_effective` (not `n`) outcomes.
    pub wilson_low: Option<f64>,
    pub wilson_high: Option<f64>,
    /// Mean squared error of P(up) against the outcome.
    pub brier: Option<f64>,
    /// The accuracy of always predicting the more frequent realized direction (UP or DOWN) over
    /// these same predictions' horizons.
    pub baseline_accuracy: Option<f64>,
}

/// How good a model is, measured out of sample (walk-forward) before it was shipped: what a bot
/// checks before acting on its predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Skill {
    /// The model (`GET /api/models/{id}` has its whole card).
    pub model_id: String,
    /// Walk-forward test accuracy.
    pub accuracy: f64,
    /// The accuracy of always predicting the more frequent realized direction on the same rows.
    pub baseline_accuracy: f64,
    /// One-sided p-value of the model's per-row hits against the majority class's
    /// (`baseline_accuracy`) on the same rows: a paired test with a Newey-West (HAC) variance over
    /// twice the horizon in rows, since neighbouring rows share most of their label window.
    /// Uncorrected for the other models.
    pub p_value: f64,
    /// Test rows.
    pub n: u32,
    /// The effective sample size of those rows: how many independent rows would give the
    /// accuracy the same precision (overlapping labels make it far fewer than `n`, most of all
    /// at long horizons). Absent for cards written before it was recorded.
    #[serde(default)]
    pub n_effective: Option<f64>,
    /// The headline: whether the model beat the *strongest* simple rule (`strongest_baseline`)
    /// by more than chance, after Holm's correction across every served model (its
    /// `p_value_holm` under 0.05); the same decision as `strongest_baseline.beaten`. For a card
    /// without the strongest rule, the majority class with the same correction. A model that
    /// does not is still served, and flagged here.
    pub beats_baseline: bool,
    /// Always true: walk-forward figures come from test blocks the model never trained on.
    pub out_of_sample: bool,
    /// The strongest of the simple rules on the same rows (majority class, momentum: UP if the
    /// last bar rose, reversal: its opposite), and whether the model beat it. Absent for cards
    /// trained before the momentum and reversal baselines.
    pub strongest_baseline: Option<StrongestBaseline>,
}

/// The strongest simple rule a model is compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StrongestBaseline {
    /// `majority`, `momentum` or `reversal`.
    pub name: BaselineRule,
    /// Its accuracy on the model's walk-forward test rows. The rule itself (which one, and the
    /// majority class's direction) was fixed on the earlier selection folds, before any test
    /// row.
    pub accuracy: f64,
    /// One-sided p-value of the model beating it: the paired test of per-row hits on the same
    /// rows with a Newey-West (HAC) variance over twice the horizon in rows. Uncorrected.
    pub p_value: f64,
    /// `p_value` after Benjamini and Hochberg's correction across every model the deployment
    /// serves (false discovery rate), beside Holm's. Absent in answers of servers before API 1.7.
    #[serde(default)]
    pub p_value_bh: Option<f64>,
    /// The effective sample size of the paired differences. Absent in answers of servers before
    /// API 1.7 and for cards written before it was recorded.
    #[serde(default)]
    pub n_effective: Option<f64>,
    /// `p_value` after Holm's step-down correction across every model the deployment serves
    /// (family-wise error rate): what `beaten` is decided on. Absent in answers of servers
    /// before API 1.4.
    #[serde(default)]
    pub p_value_holm: Option<f64>,
    /// Model accuracy above it with `p_value_holm < 0.05` (Holm-corrected across the served
    /// models).
    pub beaten: bool,
}

/// A simple rule that uses the same information as the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BaselineRule {
    /// Always the more frequent direction of the selection folds (fixed before the test rows).
    Majority,
    /// UP when the last bar rose.
    Momentum,
    /// DOWN when the last bar rose.
    Reversal,
}

impl BaselineRule {
    /// The rule's name in tables (`majority`, `momentum`, `reversal`).
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineRule::Majority => "majority",
            BaselineRule::Momentum => "momentum",
            BaselineRule::Reversal => "reversal",
        }
    }
}

/// The newest prediction of a coin and horizon, with its live accuracy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LatestPrediction {
    pub coin: Coin,
    pub horizon: Horizon,
    /// How often a new prediction is made, minutes.
    pub cadence_minutes: u32,
    /// The current prediction: the newest one, unless its `valid_until` has passed (an expired
    /// prediction is not a signal: it is left out and `not_made_reason` says so; read it in
    /// `GET /api/predictions/history`). Absent too when none was ever made.
    pub prediction: Option<Prediction>,
    /// Why there is no current prediction: the last attempt made none (stale data, a gap, a
    /// missing series), or the newest one expired (e.g. a backfilled one, right after a start,
    /// until its horizon's next live prediction is due).
    pub not_made_reason: Option<String>,
    /// Live (not backfilled) accuracy over the trailing 7 days.
    pub accuracy_7d: AccuracyStats,
    /// The serving model's walk-forward skill next to its baseline (absent while no model is
    /// loaded for this coin and horizon).
    pub skill: Option<Skill>,
}

/// The answer of `GET /api/predictions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PredictionsResponse {
    /// Live or replay: replayed predictions are about recorded history, not today's market.
    pub mode: DataMode,
    pub predictions: Vec<LatestPrediction>,
}

/// Accuracy of one coin and horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccuracyRow {
    pub coin: Coin,
    pub horizon: Horizon,
    /// Live predictions over 24 h, 7 d and 30 d.
    pub live: Vec<AccuracyStats>,
    /// Backfilled predictions (made from stored history after the fact) over the same windows.
    pub backfilled: Vec<AccuracyStats>,
}

/// The answer of `GET /api/accuracy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccuracyResponse {
    pub mode: DataMode,
    pub rows: Vec<AccuracyRow>,
}

/// The answer of `GET /api/predictions/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PredictionHistory {
    pub mode: DataMode,
    /// Newest first.
    pub predictions: Vec<Prediction>,
    /// Pass as `cursor` to get the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A served model: its card's essentials and its live accuracy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelInfo {
    /// `BTC-1h-<sha256 prefix>`: what predictions record as `model_id`.
    pub id: String,
    pub coin: Coin,
    pub horizon: Horizon,
    /// `logistic`, `mlp-32-16` (a feed-forward net) or `gbm-d3` (gradient-boosted trees),
    /// followed by ` pooled` when it learnt from every coin's rows (`pooled_with`).
    pub kind: String,
    /// Weight layers; a tree model's most levels.
    pub depth: u32,
    /// Feature version and the series used besides price and volume.
    pub feature_version: u32,
    pub features: u32,
    pub series: Vec<String>,
    /// Bar size the features are computed on, seconds.
    pub bar_seconds: i64,
    /// Training data span (UTC dates) and rows of the final fit.
    pub trained_from: String,
    pub trained_to: String,
    pub training_rows: u32,
    /// Walk-forward test (out of sample) over `test_from`..`test_to`.
    pub walk_forward: WalkForwardSummary,
    /// The same model kind on a shuffled 80/20 split, shown only to explain why such figures mislead.
    pub shuffled_split_accuracy: f64,
    /// Live accuracy over 24 h, 7 d, 30 d.
    pub live: Vec<AccuracyStats>,
    /// The walk-forward skill in short (the same figures as `walk_forward`), as
    /// `GET /api/predictions` shows it.
    pub skill: Skill,
    /// Which version serves (shipped or retrained and promoted), the gate's decisions for this
    /// coin and horizon, and live accuracy per version.
    pub version: crate::ModelVersion,
    /// How its probabilities were calibrated; absent for models trained before calibration.
    #[serde(default)]
    pub calibration: Option<crate::Calibration>,
    /// Permutation importance of every feature, most important first; empty for models trained
    /// before it was measured.
    #[serde(default)]
    pub importance: Vec<crate::FeatureImportance>,
    /// Every configuration tried for this coin and horizon (candidate models x feature sets x
    /// signal thresholds), the count the multiple-testing figures correct for; absent for models
    /// trained before it was recorded.
    #[serde(default)]
    pub configurations_tried: Option<u32>,
    /// The other coins whose rows it also learnt from (pooled training, chosen over this coin's
    /// rows alone on the selection folds); empty: this coin's rows only.
    #[serde(default)]
    pub pooled_with: Vec<Coin>,
    /// The coins of its cross-section block (its own among them): BTC's and their mean return,
    /// its return relative to each and its rank among them are features; empty: no such block.
    #[serde(default)]
    pub cross_section: Vec<Coin>,
}

/// A model's walk-forward evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalkForwardSummary {
    /// Always true: every row was predicted by a model trained only on earlier rows.
    pub out_of_sample: bool,
    pub test_from: String,
    pub test_to: String,
    pub n: u32,
    /// The effective sample size of the test rows (see `Skill.n_effective`); the interval is
    /// over it. Absent for cards written before it was recorded.
    #[serde(default)]
    pub n_effective: Option<f64>,
    pub accuracy: f64,
    /// The 95% Wilson interval of the accuracy over `n_effective` outcomes.
    pub wilson_low: f64,
    pub wilson_high: f64,
    /// The majority class's accuracy on the test rows (its direction fixed on the selection
    /// folds).
    pub baseline_accuracy: f64,
    /// The paired, overlap-aware p-value against the majority class (as `Skill.p_value`).
    pub p_value: f64,
    /// The naive binomial p-value against the majority class's rate, which takes overlapping rows
    /// as independent and overstates the evidence: for comparison only, never a decision.
    #[serde(default)]
    pub p_value_binomial: Option<f64>,
    /// The momentum rule's accuracy (UP when the last bar rose) and its reversal's, on the same
    /// rows; absent for cards trained before they were recorded.
    pub momentum_accuracy: Option<f64>,
    pub reversal_accuracy: Option<f64>,
    pub brier: f64,
    pub log_loss: f64,
    /// Accuracy when only the most confident predictions count (|p - 0.5| largest first):
    /// coverage 0.1 = the top 10%. A model whose confidence means something gains as coverage falls.
    pub accuracy_vs_coverage: Vec<CoveragePoint>,
    /// The reliability diagram: test rows binned by predicted P(up), with how often UP happened.
    pub reliability: Vec<ReliabilityBin>,
    /// Accuracy by confidence decile of the same rows, with overlap-aware intervals: whether
    /// trading only the confident tail pays. Empty for models trained before it was recorded.
    #[serde(default)]
    pub confidence_deciles: Vec<crate::ConfidenceDecile>,
}

/// One point of a model's accuracy-vs-coverage curve (walk-forward test rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoveragePoint {
    /// Share of the test rows kept, most confident first (0-1].
    pub coverage: f64,
    /// The `confidence` (`|p_up - 0.5| * 2`, the scale of `Prediction.confidence` and of
    /// `?min_confidence=`) of the least confident row kept: act only on predictions at least this
    /// confident to get about this coverage and accuracy. Absent for model cards written before
    /// it was recorded.
    pub min_confidence: Option<f64>,
    /// Accuracy on those rows.
    pub accuracy: f64,
    /// How many rows that is.
    pub n: u32,
}

/// One bin of a reliability diagram (walk-forward test rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReliabilityBin {
    /// Mean predicted P(up) of the bin's rows.
    pub mean_predicted: f64,
    /// Share of the bin's rows that went UP.
    pub observed_up: f64,
    /// Rows in the bin.
    pub n: u32,
}

/// The answer of `GET /api/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelsResponse {
    pub models: Vec<ModelInfo>,
    /// The last retrain (or the one running now); absent before the first.
    pub retrain: Option<crate::RetrainStatus>,
}
