//! Model versions and the champion/challenger gate, as `GET /api/models` shows them: which
//! version serves each coin and horizon, every decision the gate took, live accuracy per version,
//! and the progress of a retrain while it runs.

use serde::{Deserialize, Serialize};

use crate::AccuracyStats;

/// Where a served model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ModelOrigin {
    /// The artifact bundled with this build (`models/artifacts`).
    Shipped,
    /// A challenger trained on this installation's data that the gate promoted.
    Retrained,
}

/// The gate's one-sided significance level: a challenger replaces the running model only when
/// it is better with p below this (`models::gate`). A promotion above it was a tie-break.
pub const GATE_ALPHA: f64 = 0.05;

/// What the gate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GateDecision {
    /// The challenger replaced the champion.
    Promoted,
    /// The champion stayed (the reason says why).
    Kept,
}

/// One decision of the gate: both models scored on the same recent window that neither trained
/// on, the Diebold-Mariano test on their per-row log loss, and the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GateDecisionInfo {
    /// When the gate decided (RFC 3339).
    pub decided_at: String,
    /// The newly trained model (empty when none could be trained).
    pub challenger_id: String,
    /// The model that was serving.
    pub champion_id: String,
    pub decision: GateDecision,
    /// In words, with the threshold: promoted only when the one-sided p-value is under 0.05.
    pub reason: String,
    /// The window both were scored on (prediction times, RFC 3339).
    pub window_from: String,
    pub window_to: String,
    /// Rows both were scored on.
    pub n: u32,
    pub champion_log_loss: Option<f64>,
    pub challenger_log_loss: Option<f64>,
    pub champion_accuracy: Option<f64>,
    pub challenger_accuracy: Option<f64>,
    /// Diebold-Mariano statistic (positive: the challenger's log loss is lower).
    pub dm_statistic: Option<f64>,
    /// Its one-sided p-value.
    pub p_value: Option<f64>,
    /// The champion's training span covers the window: its figure there is in-sample.
    pub champion_in_sample: bool,
}

/// Live accuracy of one model version (only its own scored live predictions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionAccuracy {
    pub model_id: String,
    /// Whether this version is the one serving now.
    pub running: bool,
    /// Over the last 30 days.
    pub live: AccuracyStats,
}

/// The served version of a coin and horizon and its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelVersion {
    pub origin: ModelOrigin,
    /// When the serving model was trained (RFC 3339).
    pub trained_at: String,
    /// When the gate promoted it (absent for the shipped model).
    pub promoted_at: Option<String>,
    /// The gate's decision that put the serving model in place, from its card: for a shipped
    /// model, how it fared against the model it replaced when the release was built (absent for
    /// models built without a gate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateDecisionInfo>,
    /// The gate's newest decisions for this coin and horizon, newest first (at most 10).
    pub decisions: Vec<GateDecisionInfo>,
    /// Live accuracy of the serving version and of the versions before it that the decisions
    /// name, each on its own predictions.
    pub live_by_version: Vec<VersionAccuracy>,
}

/// A retrain's progress (the last one, or the one running now).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetrainStatus {
    /// True while it runs.
    pub running: bool,
    /// RFC 3339.
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Coins and horizons done, of `total`.
    pub done: u32,
    pub total: u32,
    /// How many challengers were promoted so far.
    pub promoted: u32,
    /// What is being trained now, or the last step's outcome.
    pub step: String,
}
