//! What `GET /api/models` says about how far a model's confidence can be trusted: its
//! calibration, its accuracy by confidence decile, and which features it leans on.

use serde::{Deserialize, Serialize};

/// The walk-forward test rows of one confidence decile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfidenceDecile {
    /// 1 (the least confident tenth of the test rows) to 10 (the most confident).
    pub decile: u32,
    /// The `confidence` (`|p_up - 0.5| * 2`, the scale of `?min_confidence=`) of its least
    /// confident row: a bot that acts only at or above it trades this decile and the ones above.
    pub min_confidence: f64,
    pub accuracy: f64,
    /// Rows in the decile.
    pub n: u32,
    /// Their worth in independent outcomes (neighbouring rows share most of their label window):
    /// the interval is over this.
    pub n_effective: f64,
    /// The 95% Wilson interval of the accuracy over `n_effective`.
    pub wilson_low: f64,
    pub wilson_high: f64,
}

/// How the model's probabilities were calibrated, on the selection folds (rows whose outcome was
/// known before the walk-forward test rows), and folded into the served model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Calibration {
    /// `platt`: `P(up) = sigmoid(a * logit(p) + b)` of the model's raw probability `p`.
    pub method: String,
    pub a: f64,
    pub b: f64,
    /// The selection rows it was fitted on.
    pub rows: u32,
    /// Their mean log loss before and after calibration.
    pub log_loss_before: f64,
    pub log_loss_after: f64,
}

/// How much the model leans on one feature: the growth of its log loss when that feature's
/// values are shuffled across rows (permutation importance on the last selection fold). About 0
/// or below: the model does not use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureImportance {
    /// The feature's name, as in the model card (`cur_ret`, `p2_relvol`, `gold`, ...).
    pub feature: String,
    pub log_loss_increase: f64,
}
