//! Trading the signals after costs: what following a model would have earned, walk-forward.
//!
//! A prediction's `confidence` is `|p_up - 0.5| * 2`. With a per-model threshold, its signal is
//! LONG when it says UP ([`crate::predicts_up`]) with at least that confidence, SHORT when it says
//! DOWN with it, FLAT otherwise. The threshold is chosen on earlier walk-forward folds than the
//! ones scored (see `train`), from [`THRESHOLD_GRID`].
//!
//! The ledger: rows in time order; at a row with a LONG or SHORT signal and no open position, a
//! position of the whole equity opens at the row's close and closes one horizon later (the
//! label's own prices); rows while a position is open are skipped (positions never overlap). A
//! position's gross return is the coin's simple return over the horizon (its negative for a
//! short); its net return subtracts the cost per side (fee plus slippage, on the position's
//! notional) at entry and at exit. Equity compounds position by position. Long-flat trades only
//! the LONG signals. Buy-and-hold holds the coin over the same rows (horizon after horizon,
//! paying costs once to enter and once to leave); the momentum strategy trades the momentum rule
//! (LONG when the last bar rose, else SHORT) on the same schedule.

use serde::{Deserialize, Serialize};
use shared::time::rfc3339;

/// The default cost per side, in basis points: Binance's spot taker fee at the regular tier.
pub const DEFAULT_FEE_BPS: f64 = 10.0;
/// Slippage per side on top of the fee, by default: a bot fills after it reads the prediction,
/// not at the close that made it.
pub const DEFAULT_SLIPPAGE_BPS: f64 = 2.0;
/// Where [`DEFAULT_FEE_BPS`] comes from (stated in cards and reports).
pub const DEFAULT_FEE_SOURCE: &str =
    "Binance spot taker fee, regular tier (VIP 0, no BNB discount): 0.10% per side";
/// The confidence thresholds a model's threshold is chosen from.
pub const THRESHOLD_GRID: [f64; 12] = [
    0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.12, 0.15, 0.20, 0.25, 0.30, 0.40,
];
/// A threshold must give at least this many trades on the selection folds to be chosen (fewer
/// would let a handful of lucky trades decide).
pub const MIN_SELECTION_TRADES: usize = 30;
/// Equity curves are kept with at most this many points.
pub const MAX_EQUITY_POINTS: usize = 200;
/// Seconds in a year: crypto trades every day.
const YEAR_S: f64 = 365.25 * 86_400.0;
/// The break-even fee is searched in `[-BREAK_EVEN_LIMIT, BREAK_EVEN_LIMIT]` (a fraction per side).
const BREAK_EVEN_LIMIT: f64 = 0.1;

/// Trading costs per side (entry and exit each pay them), in basis points of the notional.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Costs {
    pub fee_bps: f64,
    pub slippage_bps: f64,
}

impl Default for Costs {
    fn default() -> Self {
        Costs {
            fee_bps: DEFAULT_FEE_BPS,
            slippage_bps: DEFAULT_SLIPPAGE_BPS,
        }
    }
}

impl Costs {
    /// Fee plus slippage per side, as a fraction.
    pub fn per_side(&self) -> f64 {
        (self.fee_bps + self.slippage_bps) / 10_000.0
    }
}

pub use shared::{Signal, confidence};

/// One row to trade: what was known at `ts` and what happened over the horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// The prediction time (Unix seconds).
    pub ts: i64,
    pub p_up: f64,
    /// What a position taken on the row earns before costs (the coin's simple return over the
    /// horizon: in cards and evaluations from the open of the first candle after publication,
    /// `Dataset::fill_ret`; live, between the scored prices). Not finite: no trade on this row.
    pub fwd_ret: f64,
    /// Whether the bar that closed at `ts` rose (the momentum rule's call).
    pub last_up: bool,
}

/// The rows of parallel columns (as a `Dataset` and its predictions hold them); `None` when the
/// lengths differ.
pub fn rows(ts: &[i64], p_up: &[f64], fwd_ret: &[f64], last_ret: &[f64]) -> Option<Vec<Row>> {
    let n = ts.len();
    (p_up.len() == n && fwd_ret.len() == n && last_ret.len() == n).then(|| {
        (0..n)
            .map(|i| Row {
                ts: ts[i],
                p_up: p_up[i],
                fwd_ret: fwd_ret[i],
                last_up: last_ret[i] > 0.0,
            })
            .collect()
    })
}

/// One position of a ledger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub entry: i64,
    pub exit: i64,
    pub long: bool,
    /// The return before costs (the coin's, or its negative for a short).
    pub gross: f64,
    /// How many sides of costs this position pays (2: entry and exit; buy-and-hold pays one at
    /// its first and one at its last).
    pub cost_sides: u32,
}

/// Follows `signal` through `rows` with non-overlapping positions held for `horizon_s`.
pub fn positions(rows: &[Row], horizon_s: i64, signal: impl Fn(&Row) -> Signal) -> Vec<Position> {
    let mut out = Vec::new();
    let mut free_at = i64::MIN;
    for row in rows {
        if row.ts < free_at || !row.fwd_ret.is_finite() {
            continue;
        }
        let long = match signal(row) {
            Signal::Flat => continue,
            Signal::Long => true,
            Signal::Short => false,
        };
        out.push(Position {
            entry: row.ts,
            exit: row.ts + horizon_s,
            long,
            gross: if long { row.fwd_ret } else { -row.fwd_ret },
            cost_sides: 2,
        });
        free_at = row.ts + horizon_s;
    }
    out
}

/// Holding the coin over `rows`, horizon after horizon: costs once on entry and once on exit.
pub fn buy_and_hold(rows: &[Row], horizon_s: i64) -> Vec<Position> {
    let mut held = positions(rows, horizon_s, |_| Signal::Long);
    let last = held.len().saturating_sub(1);
    for (i, p) in held.iter_mut().enumerate() {
        p.cost_sides = u32::from(i == 0) + u32::from(i == last);
    }
    held
}

/// One point of an equity curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// Unix seconds.
    pub t: i64,
    /// Equity after costs, starting at 1.
    pub equity: f64,
}

/// The figures of one strategy over one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyMetrics {
    /// Round trips (buy-and-hold: 1).
    pub trades: usize,
    /// The share of positions whose gross return was positive (`None` without positions).
    pub hit_rate: Option<f64>,
    /// Compounded return before costs.
    pub gross_return: f64,
    /// Compounded return after costs.
    pub net_return: f64,
    /// Annualised Sharpe ratio after costs: per-horizon returns (a position's net return, 0 for
    /// each horizon without one), mean over standard deviation, times √(horizons per year);
    /// risk-free rate 0.
    pub sharpe: f64,
    /// The largest fall of the equity from a previous peak, as a share of that peak (at position
    /// exits).
    pub max_drawdown: f64,
    /// Equity traded per year, in multiples of the equity (each side of a trade trades it once).
    pub turnover_per_year: f64,
    /// The share of the period with a position open.
    pub exposure: f64,
    /// The cost per side, in basis points, at which the net return would be 0 (the gross return
    /// pays for anything below it; negative when even free trading loses). `None` without trades.
    pub break_even_fee_bps: Option<f64>,
    /// Equity after costs at each position's exit, from 1 at the period's start (at most
    /// [`MAX_EQUITY_POINTS`], evenly thinned).
    pub equity: Vec<EquityPoint>,
}

/// The largest fall from a running peak, as a share of the peak (0 for a curve that never falls).
pub fn max_drawdown(equity: &[f64]) -> f64 {
    let mut peak = f64::MIN;
    let mut worst: f64 = 0.0;
    for &e in equity {
        peak = peak.max(e);
        if peak > 0.0 {
            worst = worst.max((peak - e) / peak);
        }
    }
    worst
}

/// At most `max` points, evenly spaced, the first and the last always kept.
pub fn thin<T: Copy>(points: &[T], max: usize) -> Vec<T> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let last = points.len() - 1;
    (0..max)
        .map(|k| points[(k * last + (max - 1) / 2) / (max - 1)])
        .collect()
}

/// A position's growth factor after `fee` per side (never below 0: a position cannot lose more
/// than the equity in it).
fn factor(p: &Position, fee: f64) -> f64 {
    (1.0 + p.gross - f64::from(p.cost_sides) * fee).max(0.0)
}

/// The sum of log growth factors at `fee` per side.
fn log_growth(positions: &[Position], fee: f64) -> f64 {
    positions.iter().map(|p| factor(p, fee).max(1e-300).ln()).sum()
}

/// The fee per side (a fraction) at which the compounded net return is 0, by bisection.
fn break_even_fee(positions: &[Position]) -> Option<f64> {
    if positions.iter().all(|p| p.cost_sides == 0) {
        return None;
    }
    let (mut lo, mut hi) = (-BREAK_EVEN_LIMIT, BREAK_EVEN_LIMIT);
    if log_growth(positions, lo) <= 0.0 {
        return Some(lo);
    }
    if log_growth(positions, hi) >= 0.0 {
        return Some(hi);
    }
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if log_growth(positions, mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some((lo + hi) / 2.0)
}

/// The figures of `positions` over `[from, to)` at `costs`, for a strategy whose positions last
/// `horizon_s`.
pub fn summarize(
    positions: &[Position],
    (from, to): (i64, i64),
    horizon_s: i64,
    costs: Costs,
) -> StrategyMetrics {
    let fee = costs.per_side();
    let span = (to - from).max(1) as f64;
    let mut equity = vec![EquityPoint { t: from, equity: 1.0 }];
    let (mut net, mut gross) = (1.0, 1.0);
    for p in positions {
        net *= factor(p, fee);
        gross *= (1.0 + p.gross).max(0.0);
        equity.push(EquityPoint {
            t: p.exit,
            equity: net,
        });
    }
    // Per-horizon returns: each position's, and 0 for every horizon spent flat.
    let slots = ((span / horizon_s.max(1) as f64).round() as usize).max(positions.len());
    let returns: Vec<f64> = positions
        .iter()
        .map(|p| factor(p, fee) - 1.0)
        .chain(std::iter::repeat_n(0.0, slots - positions.len()))
        .collect();
    let sharpe = if returns.len() > 1 {
        let n = returns.len() as f64;
        let mean = returns.iter().sum::<f64>() / n;
        let var = returns.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / (n - 1.0);
        if var > 0.0 {
            mean / var.sqrt() * (YEAR_S / horizon_s.max(1) as f64).sqrt()
        } else {
            0.0
        }
    } else {
        0.0
    };
    let sides: u32 = positions.iter().map(|p| p.cost_sides).sum();
    let held: i64 = positions.iter().map(|p| p.exit - p.entry).sum();
    let curve: Vec<f64> = equity.iter().map(|e| e.equity).collect();
    StrategyMetrics {
        trades: sides.div_ceil(2) as usize,
        hit_rate: (!positions.is_empty())
            .then(|| positions.iter().filter(|p| p.gross > 0.0).count() as f64 / positions.len() as f64),
        gross_return: gross - 1.0,
        net_return: net - 1.0,
        sharpe,
        max_drawdown: max_drawdown(&curve),
        turnover_per_year: f64::from(sides) / (span / YEAR_S),
        exposure: (held as f64 / span).min(1.0),
        break_even_fee_bps: break_even_fee(positions).map(|f| f * 10_000.0),
        equity: thin(&equity, MAX_EQUITY_POINTS),
    }
}

/// Long-short or long-flat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// LONG and SHORT signals both trade.
    LongShort,
    /// Only LONG signals trade; SHORT is FLAT.
    LongFlat,
}

/// The model's signal at `threshold` in `mode`.
pub fn model_signal(row: &Row, threshold: f64, mode: Mode) -> Signal {
    match (Signal::from_p_up(row.p_up, threshold), mode) {
        (Signal::Short, Mode::LongFlat) => Signal::Flat,
        (s, _) => s,
    }
}

/// The momentum rule's signal: LONG when the last bar rose, else SHORT.
pub fn momentum_signal(row: &Row) -> Signal {
    if row.last_up { Signal::Long } else { Signal::Short }
}

/// How a threshold was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdChoice {
    pub threshold: f64,
    /// What was maximised.
    pub objective: String,
    /// The selection rows' period (RFC 3339), before every scored row.
    pub from: String,
    pub to: String,
    pub rows: usize,
    /// Long-short trades and net return at the chosen threshold on those rows.
    pub trades: usize,
    pub net_return: f64,
}

/// The objective [`choose_threshold`] maximises.
pub const THRESHOLD_OBJECTIVE: &str = "long-short net return after costs on the selection folds, \
among the thresholds of the grid with at least 30 trades (0 when none has)";

fn parse(t: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp())
}

/// The threshold of [`THRESHOLD_GRID`] whose long-short strategy earned most after `costs` on
/// `rows` (the selection rows only: the caller passes none it will score), among those with at
/// least [`MIN_SELECTION_TRADES`] trades; the lowest on a tie, and 0 when none has enough trades.
pub fn choose_threshold(rows: &[Row], horizon_s: i64, costs: Costs) -> ThresholdChoice {
    let fee = costs.per_side();
    let mut best: Option<(f64, f64, usize)> = None;
    for t in THRESHOLD_GRID {
        let held = positions(rows, horizon_s, |r| model_signal(r, t, Mode::LongShort));
        if held.len() < MIN_SELECTION_TRADES {
            continue;
        }
        let growth = log_growth(&held, fee);
        if best.is_none_or(|(_, g, _)| growth > g) {
            best = Some((t, growth, held.len()));
        }
    }
    let (threshold, growth, trades) = best.unwrap_or_else(|| {
        let held = positions(rows, horizon_s, |r| model_signal(r, 0.0, Mode::LongShort));
        (0.0, log_growth(&held, fee), held.len())
    });
    ThresholdChoice {
        threshold,
        objective: THRESHOLD_OBJECTIVE.to_owned(),
        from: rows.first().map(|r| rfc3339(r.ts)).unwrap_or_default(),
        to: rows.last().map(|r| rfc3339(r.ts)).unwrap_or_default(),
        rows: rows.len(),
        trades,
        net_return: growth.exp() - 1.0,
    }
}

/// A model's strategy evaluation over one period (as stored in its card).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyReport {
    /// Cost per side: the fee and the slippage, in basis points.
    pub fee_bps: f64,
    pub slippage_bps: f64,
    /// Where the fee comes from.
    pub fee_source: String,
    /// The confidence threshold of the signals.
    pub threshold: f64,
    /// How it was chosen (on earlier folds than the scored period).
    pub threshold_choice: ThresholdChoice,
    /// The scored period (RFC 3339): first prediction to last position's possible exit.
    pub from: String,
    pub to: String,
    pub horizon_s: i64,
    /// Predictions in the period.
    pub rows: usize,
    /// Trading the model's LONG and SHORT signals.
    pub long_short: StrategyMetrics,
    /// Trading its LONG signals only.
    pub long_flat: StrategyMetrics,
    /// Holding the coin over the same rows.
    pub buy_and_hold: StrategyMetrics,
    /// Trading the momentum rule (long-short) on the same schedule.
    pub momentum: StrategyMetrics,
    /// The evidence behind the long-short figures (absent in cards written before it was
    /// recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// How much a strategy's figures can be luck.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The long-short Sharpe ratio's standard error, annualised as the ratio is (Lo 2002; the
    /// per-horizon returns taken as normal).
    pub sharpe_se: f64,
    /// Configurations tried to get here (candidate models x thresholds of the grid).
    pub trials: usize,
    /// The deflated Sharpe ratio given `trials` (Bailey and Lopez de Prado 2014): the probability
    /// that the Sharpe ratio beats what the best of that many configurations with no skill would
    /// show by luck. Under 0.95 it may be luck.
    pub deflated_sharpe: f64,
    /// The probability of backtest overfitting across the threshold grid on the scored rows
    /// (`stats::pbo`, 16 time blocks, each threshold's long-short log return): 0.5 or more means
    /// picking the best threshold is no better than chance. `None` with too few rows.
    pub pbo: Option<f64>,
}

impl Evidence {
    /// The evidence of `long_short` (its annualised Sharpe over per-horizon returns of the period
    /// `from..to`) after `trials` configurations, with `pbo` across the threshold grid.
    pub fn of(
        long_short: &StrategyMetrics,
        (from, to): (i64, i64),
        horizon_s: i64,
        trials: usize,
        pbo: Option<f64>,
    ) -> Evidence {
        let horizon = horizon_s.max(1);
        let periods = usize::try_from((to - from) / horizon).unwrap_or(0);
        let per_year = (YEAR_S / horizon as f64).sqrt();
        let sr = long_short.sharpe / per_year;
        let se = crate::stats::sharpe_se(sr, periods, 0.0, 3.0);
        let null_sd = crate::stats::sharpe_se(0.0, periods, 0.0, 3.0);
        Evidence {
            sharpe_se: se * per_year,
            trials,
            deflated_sharpe: crate::stats::deflated_sharpe(sr, periods, trials.max(1), null_sd, 0.0, 3.0),
            pbo,
        }
    }
}

/// Time blocks [`threshold_pbo`] cuts a period into.
pub const PBO_BLOCKS: usize = 16;

/// The probability of backtest overfitting of choosing a threshold from [`THRESHOLD_GRID`] on
/// `rows` (in time order): each threshold's long-short positions after `costs`, their log
/// growth summed per time block (by entry), then `stats::pbo`. `None` with too few rows.
pub fn threshold_pbo(rows: &[Row], horizon_s: i64, costs: Costs) -> Option<f64> {
    let (from, to) = period(rows, horizon_s)?;
    let span = (to - from).max(1);
    if rows.len() < 2 * PBO_BLOCKS {
        return None;
    }
    let fee = costs.per_side();
    let mut perf = vec![vec![0.0; THRESHOLD_GRID.len()]; PBO_BLOCKS];
    for (k, &threshold) in THRESHOLD_GRID.iter().enumerate() {
        for p in positions(rows, horizon_s, |r| model_signal(r, threshold, Mode::LongShort)) {
            let b = usize::try_from((p.entry - from) * PBO_BLOCKS as i64 / span).unwrap_or(0);
            perf[b.min(PBO_BLOCKS - 1)][k] += factor(&p, fee).max(1e-300).ln();
        }
    }
    crate::stats::pbo(&perf)
}

/// The period `rows` (in time order) cover: from the first prediction to the last one's horizon.
pub fn period(rows: &[Row], horizon_s: i64) -> Option<(i64, i64)> {
    Some((rows.first()?.ts, rows.last()?.ts + horizon_s))
}

/// The model's signals at `threshold` in `mode`, followed through `rows` (in time order) after
/// `costs`. Without rows: no positions over an empty period.
pub fn follow(rows: &[Row], horizon_s: i64, threshold: f64, mode: Mode, costs: Costs) -> StrategyMetrics {
    let held = positions(rows, horizon_s, |r| model_signal(r, threshold, mode));
    summarize(
        &held,
        period(rows, horizon_s).unwrap_or_default(),
        horizon_s,
        costs,
    )
}

/// Buy-and-hold over the period of `rows` after `costs`.
pub fn hold(rows: &[Row], horizon_s: i64, costs: Costs) -> StrategyMetrics {
    summarize(
        &buy_and_hold(rows, horizon_s),
        period(rows, horizon_s).unwrap_or_default(),
        horizon_s,
        costs,
    )
}

impl StrategyReport {
    /// Scores the strategies on `rows` (in time order) at `threshold` and `costs`. `None` without
    /// rows.
    pub fn evaluate(
        rows: &[Row],
        horizon_s: i64,
        threshold_choice: ThresholdChoice,
        costs: Costs,
        fee_source: &str,
    ) -> Option<StrategyReport> {
        let (from, to) = period(rows, horizon_s)?;
        let threshold = threshold_choice.threshold;
        Some(StrategyReport {
            fee_bps: costs.fee_bps,
            slippage_bps: costs.slippage_bps,
            fee_source: fee_source.to_owned(),
            threshold,
            threshold_choice,
            from: rfc3339(from),
            to: rfc3339(to),
            horizon_s,
            rows: rows.len(),
            long_short: follow(rows, horizon_s, threshold, Mode::LongShort, costs),
            long_flat: follow(rows, horizon_s, threshold, Mode::LongFlat, costs),
            buy_and_hold: hold(rows, horizon_s, costs),
            momentum: summarize(
                &positions(rows, horizon_s, momentum_signal),
                (from, to),
                horizon_s,
                costs,
            ),
            evidence: None,
        })
    }

    /// With its [`Evidence`] given `trials` configurations tried, the threshold grid's PBO measured
    /// on `rows` (the rows it was scored on).
    pub fn with_evidence(mut self, rows: &[Row], trials: usize) -> StrategyReport {
        let period = period(rows, self.horizon_s).unwrap_or_default();
        let pbo = threshold_pbo(rows, self.horizon_s, self.costs());
        self.evidence = Some(Evidence::of(
            &self.long_short,
            period,
            self.horizon_s,
            trials,
            pbo,
        ));
        self
    }

    /// The same with `trials` changed (the PBO kept).
    pub fn with_trials(mut self, trials: usize) -> StrategyReport {
        if let Some(e) = self.evidence {
            let (from, to) = (parse(&self.from), parse(&self.to));
            if let (Some(from), Some(to)) = (from, to) {
                self.evidence = Some(Evidence::of(
                    &self.long_short,
                    (from, to),
                    self.horizon_s,
                    trials,
                    e.pbo,
                ));
            }
        }
        self
    }

    /// The costs it was scored at.
    pub fn costs(&self) -> Costs {
        Costs {
            fee_bps: self.fee_bps,
            slippage_bps: self.slippage_bps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fee alone, as these hand-computed figures assume.
    const TEN_BPS: Costs = Costs {
        fee_bps: 10.0,
        slippage_bps: 0.0,
    };

    const H: i64 = 3600;

    fn row(ts: i64, p_up: f64, fwd_ret: f64) -> Row {
        Row {
            ts,
            p_up,
            fwd_ret,
            last_up: false,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Hourly rows, a 2 h horizon, threshold 0.1, 10 bps per side.
    fn ledger_rows() -> Vec<Row> {
        vec![
            row(0, 0.70, 0.02),      // LONG: +2% gross, exits at 2 h
            row(H, 0.90, 0.50),      // skipped: the position is still open
            row(2 * H, 0.52, -0.30), // FLAT: confidence 0.04 < 0.1
            row(3 * H, 0.20, -0.03), // SHORT: +3% gross, exits at 5 h
            row(4 * H, 0.10, 0.05),  // skipped
            row(5 * H, 0.40, 0.01),  // SHORT (confidence 0.2): -1% gross, exits at 7 h
        ]
    }

    #[test]
    fn confidence_and_signals() {
        assert!(close(confidence(0.7), 0.4));
        assert!(close(confidence(0.2), 0.6));
        assert_eq!(confidence(0.5), 0.0);
        assert_eq!(confidence(f64::NAN), 0.0);
        assert_eq!(
            Signal::from_p_up(0.7, 0.4),
            Signal::Long,
            "at the threshold trades"
        );
        assert_eq!(Signal::from_p_up(0.69, 0.4), Signal::Flat);
        assert_eq!(Signal::from_p_up(0.3, 0.4), Signal::Short);
        assert_eq!(Signal::from_p_up(0.5, 0.0), Signal::Short, "a tie says DOWN");
        assert_eq!(Signal::from_p_up(f64::NAN, 0.0), Signal::Flat);
        assert_eq!(serde_json::to_string(&Signal::Long).unwrap(), "\"LONG\"");
    }

    #[test]
    fn long_short_ledger_by_hand() {
        let rows = ledger_rows();
        let held = positions(&rows, 2 * H, |r| model_signal(r, 0.1, Mode::LongShort));
        let by_hand = [
            (0, 2 * H, true, 0.02),
            (3 * H, 5 * H, false, 0.03),
            (5 * H, 7 * H, false, -0.01),
        ];
        assert_eq!(held.len(), 3, "overlapping and flat rows are skipped");
        for (p, (entry, exit, long, gross)) in held.iter().zip(by_hand) {
            assert_eq!((p.entry, p.exit, p.long, p.cost_sides), (entry, exit, long, 2));
            assert!(close(p.gross, gross));
        }
        let costs = Costs {
            fee_bps: 8.0,
            slippage_bps: 2.0,
        };
        let m = summarize(&held, (0, 7 * H), 2 * H, costs);
        // 20 bps per trade: 1.018 * 1.028 * 0.988.
        let nets = [0.018, 0.028, -0.012];
        assert!(
            close(m.net_return, 1.018 * 1.028 * 0.988 - 1.0),
            "{}",
            m.net_return
        );
        assert!(close(m.gross_return, 1.02 * 1.03 * 0.99 - 1.0));
        assert_eq!(m.trades, 3);
        assert!(close(m.hit_rate.unwrap(), 2.0 / 3.0));
        // The last position lost 1.2% from the peak.
        assert!(close(m.max_drawdown, 0.012));
        assert!(close(m.exposure, 6.0 / 7.0));
        let years = 7.0 * 3600.0 / YEAR_S;
        assert!(close(m.turnover_per_year, 6.0 / years));
        // 7 h is 3.5 horizons, rounded to 4: the three positions and one flat horizon.
        let r = [nets[0], nets[1], nets[2], 0.0];
        let mean = r.iter().sum::<f64>() / 4.0;
        let sd = (r.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 3.0).sqrt();
        assert!(close(m.sharpe, mean / sd * (YEAR_S / 7200.0).sqrt()));
        let e: Vec<(i64, f64)> = m.equity.iter().map(|p| (p.t, p.equity)).collect();
        assert_eq!(e.len(), 4);
        assert_eq!(e[0], (0, 1.0));
        assert_eq!((e[1].0, e[2].0, e[3].0), (2 * H, 5 * H, 7 * H));
        assert!(close(e[1].1, 1.018) && close(e[2].1, 1.018 * 1.028));
        // Break-even: (1.02 - 2f)(1.03 - 2f)(0.99 - 2f) = 1.
        let f = m.break_even_fee_bps.unwrap() / 10_000.0;
        assert!(((1.02 - 2.0 * f) * (1.03 - 2.0 * f) * (0.99 - 2.0 * f) - 1.0).abs() < 1e-9);
        assert!(f > 0.006 && f < 0.007, "{f}");
    }

    #[test]
    fn long_flat_ledger_and_a_single_trade_break_even() {
        let rows = ledger_rows();
        let held = positions(&rows, 2 * H, |r| model_signal(r, 0.1, Mode::LongFlat));
        // SHORT signals are FLAT, so the rows after them are free: only the first LONG trades.
        assert_eq!(held.len(), 1);
        let m = summarize(&held, (0, 7 * H), 2 * H, TEN_BPS);
        assert!(close(m.net_return, 0.02 - 0.002));
        // One trade of +2% breaks even at 1% per side: 100 bps.
        assert!((m.break_even_fee_bps.unwrap() - 100.0).abs() < 1e-6);
        // With no signal at all: no trade, flat equity.
        let none = positions(&rows, 2 * H, |r| model_signal(r, 0.9, Mode::LongShort));
        let m = summarize(&none, (0, 7 * H), 2 * H, TEN_BPS);
        assert_eq!(
            (m.trades, m.net_return, m.sharpe, m.max_drawdown),
            (0, 0.0, 0.0, 0.0)
        );
        assert_eq!((m.hit_rate, m.break_even_fee_bps), (None, None));
    }

    #[test]
    fn buy_and_hold_pays_costs_once_each_way() {
        let rows = ledger_rows();
        let held = buy_and_hold(&rows, 2 * H);
        // Held 0-2 h, 2-4 h, 4-6 h: +2%, -30%, +5%.
        let sides: Vec<u32> = held.iter().map(|p| p.cost_sides).collect();
        assert_eq!(sides, [1, 0, 1]);
        let m = summarize(&held, (0, 7 * H), 2 * H, TEN_BPS);
        assert!(close(m.net_return, 1.019 * 0.70 * 1.049 - 1.0));
        assert!(close(m.gross_return, 1.02 * 0.70 * 1.05 - 1.0));
        assert_eq!(m.trades, 1);
        assert!(close(m.max_drawdown, 0.30));
    }

    #[test]
    fn momentum_trades_every_horizon_on_the_same_schedule() {
        let mut rows = ledger_rows();
        rows[0].last_up = true;
        rows[3].last_up = true; // skipped anyway: a position is open at 3 h (from 2 h)
        let held = positions(&rows, 2 * H, momentum_signal);
        let sides: Vec<(i64, bool)> = held.iter().map(|p| (p.entry, p.long)).collect();
        assert_eq!(sides, [(0, true), (2 * H, false), (4 * H, false)]);
        assert!(close(held[1].gross, 0.30));
    }

    #[test]
    fn drawdown_of_a_hand_made_curve() {
        assert!(close(max_drawdown(&[1.0, 1.1, 0.88, 0.99, 1.2, 0.6, 0.9]), 0.5));
        assert!(close(max_drawdown(&[1.0, 1.1, 0.88, 1.0]), 0.2));
        assert_eq!(max_drawdown(&[1.0, 1.5, 2.0]), 0.0);
        assert_eq!(max_drawdown(&[]), 0.0);
    }

    #[test]
    fn equity_curves_are_thinned_keeping_both_ends() {
        let points: Vec<usize> = (0..1000).collect();
        let thinned = thin(&points, MAX_EQUITY_POINTS);
        assert_eq!(thinned.len(), MAX_EQUITY_POINTS);
        assert_eq!((thinned[0], thinned[MAX_EQUITY_POINTS - 1]), (0, 999));
        assert!(thinned.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(thin(&points[..10], MAX_EQUITY_POINTS), points[..10].to_vec());
    }

    /// Weak calls lose, strong calls win: the threshold that keeps only the strong ones wins.
    #[test]
    fn the_threshold_keeps_the_calls_that_pay() {
        let rows: Vec<Row> = (0..400)
            .map(|i| {
                let strong = i % 4 == 0;
                let up = i % 3 == 0;
                let p = match (strong, up) {
                    (true, true) => 0.65,
                    (true, false) => 0.35,
                    (false, true) => 0.52,
                    (false, false) => 0.48,
                };
                // Strong calls are right by 1%, weak ones wrong by 1%.
                let right = if strong { 0.01 } else { -0.01 };
                row(i * H, p, if up { right } else { -right })
            })
            .collect();
        let choice = choose_threshold(&rows, H, TEN_BPS);
        assert_eq!(
            choice.threshold, 0.06,
            "the lowest grid value above the weak calls' 0.04"
        );
        assert_eq!(choice.trades, 100);
        assert!(close(choice.net_return, 1.008f64.powi(100) - 1.0));
        assert_eq!(choice.rows, 400);
        // Too few rows for any threshold: 0.
        assert_eq!(choose_threshold(&rows[..20], H, TEN_BPS).threshold, 0.0);
    }

    #[test]
    fn a_report_of_every_strategy() {
        let rows = ledger_rows();
        let choice = choose_threshold(&rows, 2 * H, TEN_BPS);
        let choice = ThresholdChoice {
            threshold: 0.1,
            ..choice
        };
        let r = StrategyReport::evaluate(&rows, 2 * H, choice, TEN_BPS, DEFAULT_FEE_SOURCE).unwrap();
        assert_eq!((r.threshold, r.rows, r.fee_bps), (0.1, 6, 10.0));
        assert_eq!(
            (r.long_short.trades, r.long_flat.trades, r.buy_and_hold.trades),
            (3, 1, 1)
        );
        assert_eq!(r.from, "1970-01-01T00:00:00+00:00");
        assert_eq!(r.to, "1970-01-01T07:00:00+00:00");
        let json = serde_json::to_value(&r).unwrap();
        assert!(json["long_short"]["equity"][0]["t"].is_i64());
        let back: StrategyReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
        assert!(StrategyReport::evaluate(&[], H, r.threshold_choice, TEN_BPS, "").is_none());
    }
}
