//! What following each model's signals earns after costs: `GET /api/performance`.
//!
//! Walk-forward figures come from the model's card (the test blocks it never trained on, its
//! threshold chosen on earlier blocks); live figures from the server's own scored predictions
//! (never the backfilled ones), followed with the same rules: a position enters at the open of the
//! first candle after the prediction is published and exits at the open one horizon later, never
//! overlapping the previous one, and pays the fee and the slippage on entry and on exit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Coin, DataMode, Horizon};

/// The answer of `GET /api/performance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PerformanceResponse {
    pub mode: DataMode,
    /// One entry per served model (coin and horizon).
    pub models: Vec<ModelPerformance>,
}

/// One model's trading figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelPerformance {
    pub coin: Coin,
    pub horizon: Horizon,
    pub model_id: String,
    /// The confidence threshold of its signals (chosen on earlier walk-forward folds); absent
    /// for a model trained before thresholds existed (then it has no trading figures).
    pub threshold: Option<f64>,
    /// Costs per side the figures are after, in basis points, and where the fee comes from.
    pub fee_bps: f64,
    pub slippage_bps: f64,
    pub fee_source: String,
    /// The walk-forward test blocks (out of sample).
    pub walk_forward: Option<StrategyFigures>,
    /// The server's own live scored predictions of this model.
    pub live: StrategyFigures,
    /// Whether the live figures were made on data outside the model's training span (false when
    /// a replay lies inside it: then they are in-sample and say nothing about the future).
    pub live_out_of_sample: bool,
}

/// The strategies over one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StrategyFigures {
    /// The period (absent when there is nothing to follow yet).
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Predictions (rows) in the period.
    pub n: u32,
    /// Follow LONG and SHORT.
    pub long_short: StrategyResult,
    /// Follow LONG only; SHORT is FLAT.
    pub long_flat: StrategyResult,
    /// Hold the coin over the same period (costs once in, once out).
    pub buy_and_hold: StrategyResult,
    /// The momentum rule (LONG when the last bar rose, else SHORT) on the same schedule;
    /// walk-forward only.
    pub momentum: Option<StrategyResult>,
    /// The long-short Sharpe ratio's standard error, annualised as the ratio is (Lo 2002);
    /// walk-forward only, absent for cards written before it was recorded.
    #[serde(default)]
    pub sharpe_se: Option<f64>,
    /// The deflated Sharpe ratio given every configuration tried for this model (candidate
    /// models x thresholds): the probability that its Sharpe ratio beats what the best of them
    /// would show by luck; under 0.95 it may be luck. Walk-forward only.
    #[serde(default)]
    pub deflated_sharpe: Option<f64>,
    /// The probability of backtest overfitting of the threshold choice (combinatorially symmetric
    /// cross-validation across the threshold grid): 0.5 or more, choosing the best threshold is
    /// no better than chance. Walk-forward only.
    #[serde(default)]
    pub pbo: Option<f64>,
}

/// One strategy's ledger in short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StrategyResult {
    /// Positions opened.
    pub trades: u32,
    /// Share of positions with a positive gross return (absent without positions).
    pub hit_rate: Option<f64>,
    /// Total return before and after costs (0.05 = +5%).
    pub gross_return: f64,
    pub net_return: f64,
    /// Annualised Sharpe ratio of the per-horizon net returns (0 while flat).
    pub sharpe: f64,
    /// Largest fall of net equity from a peak (0.2 = 20%).
    pub max_drawdown: f64,
    /// Sides traded per year.
    pub turnover_per_year: f64,
    /// Share of the period spent in a position.
    pub exposure: f64,
    /// The cost per side, in basis points, at which the net return is 0 (negative: it loses
    /// even without costs); absent without positions.
    pub break_even_fee_bps: Option<f64>,
    /// Net equity after each position, starting at 1.
    pub equity: Vec<EquityPoint>,
}

/// A point of an equity curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EquityPoint {
    pub t: DateTime<Utc>,
    pub equity: f64,
}
