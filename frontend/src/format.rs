//! Pure formatting and routing helpers, kept out of components so they are unit-tested natively.

use chrono::{DateTime, Utc};
use shared::{
    AccuracyStats, BaselineRule, Coin, CoinsResponse, Direction, GateDecision, GateDecisionInfo, Horizon,
    ModelOrigin, ModelPerformance, ModelVersion, Outcome, Prediction, RetrainStatus, Signal, Skill,
    StrategyFigures, StrategyResult,
};

/// The coin a client path names (`/Litecoin`, `/bitcoin-cash`, `/LTC/...`), if the server
/// serves it; until the server has listed its coins (`served` is `None`), a coin coincast knows.
pub fn coin_from_path(path: &str, served: Option<&CoinsResponse>) -> Option<Coin> {
    let segment = path.trim_start_matches('/').split('/').next()?;
    match served {
        Some(served) => served.find(segment).map(|c| c.coin),
        None => segment.parse::<Coin>().ok().filter(|c| c.known_info().is_some()),
    }
}

/// What the other coins' table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSort {
    Name,
    Price,
    Change,
}

/// Sorts the other coins' rows (`(name, price, 24 h change)`) by `key`, ascending or not; a coin
/// without a 24 h change sorts last either way, and ties keep the name order.
pub fn sort_prices<T>(rows: &mut [(String, f64, Option<f64>, T)], key: PriceSort, ascending: bool) {
    rows.sort_by_key(|r| r.0.to_lowercase());
    let order = |o: std::cmp::Ordering| if ascending { o } else { o.reverse() };
    match key {
        PriceSort::Name => {
            if !ascending {
                rows.reverse();
            }
        }
        PriceSort::Price => rows.sort_by(|a, b| order(a.1.total_cmp(&b.1))),
        PriceSort::Change => rows.sort_by(|a, b| match (a.2, b.2) {
            (Some(x), Some(y)) => order(x.total_cmp(&y)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }),
    }
}

/// How many served coins the header shows as buttons; more get a menu (a phone has room for
/// about five).
pub const COIN_BUTTONS_MAX: usize = 5;

/// A duration in seconds as people say it: `42 s`, `5 min`, `3 h 12 min`, `2 d 4 h`.
pub fn duration(seconds: u64) -> String {
    let (d, h, m) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// A USD price with precision that suits its size: `$44,640.87`, `$292.43`, `$1.5436`.
pub fn usd(price: f64) -> String {
    usd_fixed(price, if price >= 100.0 { 2 } else { 4 })
}

/// A USD amount with `decimals` decimals and grouped thousands: `$44,500`, `$1.54`.
pub fn usd_fixed(price: f64, decimals: usize) -> String {
    let text = format!("{:.decimals$}", price.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if price < 0.0 && text.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        "-"
    } else {
        ""
    };
    match frac {
        "" => format!("{sign}${grouped}"),
        frac => format!("{sign}${grouped}.{frac}"),
    }
}

/// A signed percentage change: `+2.19%`, `-0.51%`.
pub fn change(pct: f64) -> String {
    format!("{pct:+.2}%")
}

/// A model kind in words: `logistic` → `logistic regression`, `mlp-32-16` → `feed-forward net (32, 16)`.
pub fn model_kind(kind: &str) -> String {
    match kind.strip_prefix("mlp-") {
        Some(layers) => format!("feed-forward net ({})", layers.replace('-', ", ")),
        None if kind == "logistic" => "logistic regression".into(),
        None => kind.into(),
    }
}

/// A chart range: its label, span in seconds, the resolution shown first, and the resolutions
/// offered (each gives between 24 and 2,880 bars: readable, and under the API's 5,000-bar cap).
pub const CHART_RANGES: [(&str, i64, &str, &[&str]); 4] = [
    ("6 h", 6 * 3600, "1m", &["1m", "5m", "15m"]),
    ("24 h", 86_400, "5m", &["1m", "5m", "15m", "1h"]),
    ("7 d", 7 * 86_400, "1h", &["5m", "15m", "1h"]),
    ("30 d", 30 * 86_400, "1h", &["15m", "1h", "1d"]),
];

/// The resolution to ask for: the one chosen when the range offers it, else the range's default.
pub fn chart_resolution(range: usize, chosen: Option<&'static str>) -> &'static str {
    let (_, _, default, offered) = CHART_RANGES[range.min(CHART_RANGES.len() - 1)];
    chosen.filter(|c| offered.contains(c)).unwrap_or(default)
}

/// Where the hovered point moves on a key press in the chart (arrows, Home/End, Escape).
/// `None` for keys the chart leaves alone.
pub fn chart_key(key: &str, current: Option<usize>, len: usize) -> Option<Option<usize>> {
    if len == 0 {
        return None;
    }
    let last = len - 1;
    let at = current.unwrap_or(last).min(last);
    Some(match key {
        "ArrowLeft" => Some(if current.is_none() {
            last
        } else {
            at.saturating_sub(1)
        }),
        "ArrowRight" => Some((at + 1).min(last)),
        "PageUp" => Some(at.saturating_sub(len.div_ceil(10))),
        "PageDown" => Some((at + len.div_ceil(10)).min(last)),
        "Home" => Some(0),
        "End" => Some(last),
        "Escape" => None,
        _ => return None,
    })
}

/// Maps points from data space (`x` and `y` ranges) into a `width` x `height` SVG box (y up).
pub fn plot(points: &[(f64, f64)], x: (f64, f64), y: (f64, f64), width: f64, height: f64) -> Vec<(f64, f64)> {
    points
        .iter()
        .map(|&(px, py)| {
            (
                (px - x.0) / (x.1 - x.0) * width,
                height - (py.clamp(y.0, y.1) - y.0) / (y.1 - y.0) * height,
            )
        })
        .collect()
}

/// An SVG path through points: `M x,y L x,y ...`.
pub fn svg_path(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .enumerate()
        .map(|(i, (px, py))| format!("{}{px:.1},{py:.1}", if i == 0 { "M" } else { "L" }))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The CSS class and the words for a data source's state.
pub fn source_state(state: shared::SourceState) -> (&'static str, &'static str) {
    use shared::SourceState;
    match state {
        SourceState::Ok => ("ok", "ok"),
        SourceState::Failing => ("failing", "failing"),
        SourceState::Stale => ("stale", "stale: no new data for too long"),
        SourceState::Pending => ("pending", "not collected yet"),
        SourceState::Disabled => ("disabled", "not collected in this mode"),
    }
}

/// A walk-forward result beside its baseline and sample size, with the effective sample size
/// when it is smaller: `55.2% vs 51.8% baseline (n=5531, ≈ 2758 independent)`.
pub fn walk_forward(wf: &shared::WalkForwardSummary) -> String {
    let independent = match wf.n_effective {
        Some(eff) if eff < f64::from(wf.n) - 0.5 => format!(", ≈ {eff:.0} independent"),
        _ => String::new(),
    };
    format!(
        "{} vs {} baseline (n={}{independent})",
        accuracy(wf.accuracy),
        accuracy(wf.baseline_accuracy),
        wf.n
    )
}

/// A return with its sign and one decimal: `+12.3%`, `-4.0%`, `0.0%`.
pub fn signed_pct(r: f64) -> String {
    let pct = 100.0 * r;
    if pct.abs() < 0.05 {
        "0.0%".into()
    } else {
        format!("{pct:+.1}%")
    }
}

/// A number of basis points without a needless decimal: `10`, `2.5`.
pub fn bps(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// A p-value as people quote it: `p = 0.031`, `p < 0.001`.
pub fn p_value(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {p:.3}")
    }
}

/// A prediction's signal: its word, CSS class, and why (`confidence 0.31 ≥ 0.25`; FLAT says the
/// confidence is below the model's threshold, or that the model has none).
pub fn signal(p: &Prediction) -> (&'static str, &'static str, String) {
    let (word, class) = match p.signal {
        Signal::Long => ("LONG", "long"),
        Signal::Short => ("SHORT", "short"),
        Signal::Flat => ("FLAT", "flat"),
    };
    let why = match (p.signal, p.signal_threshold) {
        (_, None) => "this model has no signal threshold: stay out".to_owned(),
        (Signal::Flat, Some(t)) => format!(
            "confidence {:.2} < {t:.2}: below the model's threshold",
            p.confidence
        ),
        (_, Some(t)) => format!("confidence {:.2} ≥ {t:.2}", p.confidence),
    };
    (word, class, why)
}

/// A simple rule's name: `momentum (UP if the last bar rose)`.
pub fn baseline_rule(rule: BaselineRule) -> &'static str {
    match rule {
        BaselineRule::Majority => "majority class (always the more frequent direction)",
        BaselineRule::Momentum => "momentum (UP if the last bar rose)",
        BaselineRule::Reversal => "reversal (DOWN if the last bar rose)",
    }
}

/// The strongest simple rule next to the model, plainly: `momentum (…) 52.1%: the model does not
/// beat it (p = 0.310)`.
pub fn strongest_baseline(skill: &Skill) -> String {
    match &skill.strongest_baseline {
        Some(b) => format!(
            "{} {}: {} ({})",
            baseline_rule(b.name),
            accuracy(b.accuracy),
            if b.beaten {
                "the model beats it"
            } else {
                "the model does not beat it"
            },
            {
                let mut evidence = p_value(b.p_value);
                if let Some(n) = b.n_effective {
                    evidence.push_str(&format!(", paired test over ≈ {n:.0} independent rows"));
                }
                if let Some(holm) = b.p_value_holm {
                    evidence.push_str(&format!("; Holm-corrected across the models: {}", p_value(holm)));
                }
                if let Some(bh) = b.p_value_bh {
                    evidence.push_str(&format!(", Benjamini-Hochberg: {}", p_value(bh)));
                }
                evidence
            }
        ),
        None => "not recorded for this model (compared with the majority class only)".into(),
    }
}

/// The costs the trading figures are after: `after 10 bps per side: Binance spot taker fee`.
pub fn costs(m: &ModelPerformance) -> String {
    if m.slippage_bps > 0.0 {
        format!(
            "after {} bps fee and {} bps slippage per side: {}",
            bps(m.fee_bps),
            bps(m.slippage_bps),
            m.fee_source
        )
    } else {
        format!("after {} bps per side: {}", bps(m.fee_bps), m.fee_source)
    }
}

/// The cost per side at which a strategy breaks even: `12.3 bps`, or that it loses before costs.
pub fn break_even(fee_bps: Option<f64>) -> String {
    match fee_bps {
        None => "–".into(),
        Some(x) if x < 0.0 => "none: it loses before costs".into(),
        Some(x) if x >= 1000.0 => "over 1,000 bps".into(),
        Some(x) => format!("{x:.1} bps"),
    }
}

/// One strategy's numbers as the performance table shows them: net, gross, Sharpe, maximum
/// drawdown, trades, hit rate, break-even fee.
pub fn strategy_cells(r: &StrategyResult) -> [String; 7] {
    [
        signed_pct(r.net_return),
        signed_pct(r.gross_return),
        format!("{:.2}", r.sharpe),
        format!("{:.1}%", 100.0 * r.max_drawdown),
        r.trades.to_string(),
        r.hit_rate.map_or_else(|| "–".into(), accuracy),
        break_even(r.break_even_fee_bps),
    ]
}

/// What following the signals earned, said plainly: nothing (net return at or below 0), or how
/// it compares with holding the coin.
pub fn earnings_verdict(long_short: &StrategyResult, hold: &StrategyResult) -> String {
    let (net, gross) = (
        signed_pct(long_short.net_return),
        signed_pct(long_short.gross_return),
    );
    if long_short.trades == 0 {
        "No trades: no prediction in this period was confident enough to act on.".into()
    } else if long_short.net_return <= 0.0 {
        format!(
            "After fees this model earns nothing: following its signals returned {net} ({gross} before fees) over {} trades.",
            long_short.trades
        )
    } else {
        format!(
            "Following the signals returned {net} after fees ({gross} before) over {} trades; holding the coin returned {}{}.",
            long_short.trades,
            signed_pct(hold.net_return),
            if long_short.net_return < hold.net_return {
                ", more than the signals"
            } else {
                ""
            }
        )
    }
}

/// How much of the walk-forward Sharpe ratio can be luck: its standard error, the deflated Sharpe
/// ratio and the probability of backtest overfitting of the threshold, when the card has them.
pub fn strategy_evidence(f: &StrategyFigures) -> Option<String> {
    let (se, dsr) = (f.sharpe_se?, f.deflated_sharpe?);
    let mut text = format!(
        "Sharpe {:.2} ± {se:.2}; deflated Sharpe {dsr:.2} given every configuration tried ({})",
        f.long_short.sharpe,
        if dsr >= 0.95 {
            "unlikely to be luck alone"
        } else {
            "it may be luck"
        }
    );
    if let Some(pbo) = f.pbo {
        text.push_str(&format!(
            "; probability that the threshold choice is overfit {:.0}%{}",
            100.0 * pbo,
            if pbo >= 0.5 {
                " (no better than chance)"
            } else {
                ""
            }
        ));
    }
    text.push('.');
    Some(text)
}

/// What the live record holds so far: none yet, no trades yet, or its trades and dates, with a
/// warning about small samples.
pub fn live_summary(m: &ModelPerformance) -> String {
    let live = &m.live;
    let period = match (live.from, live.to) {
        (Some(from), Some(to)) => format!(
            " from {} to {}",
            from.format("%Y-%m-%d %H:%M"),
            to.format("%Y-%m-%d %H:%M UTC")
        ),
        _ => String::new(),
    };
    if live.n == 0 {
        "No scored live predictions yet: the live record starts with the first one.".into()
    } else if live.long_short.trades == 0 {
        format!(
            "No live trades yet: {} scored live predictions{period}, none confident enough to act on.",
            live.n
        )
    } else {
        format!(
            "{} live trades ({} scored predictions{period}): {} after fees ({} before), buy-and-hold {}.{}",
            live.long_short.trades,
            live.n,
            signed_pct(live.long_short.net_return),
            signed_pct(live.long_short.gross_return),
            signed_pct(live.buy_and_hold.net_return),
            if live.long_short.trades < 100 {
                " So few trades say little: luck alone moves them a lot."
            } else {
                ""
            }
        )
    }
}

/// An equity curve as chart points: `(unix seconds, equity)`.
pub fn equity_points(r: &StrategyResult) -> Vec<(i64, f64)> {
    r.equity.iter().map(|p| (p.t.timestamp(), p.equity)).collect()
}

/// How a chart's values read on its value axis and in its readout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueAxis {
    /// Prices in USD.
    Usd,
    /// Equity that starts at 1, read as the return so far (`+12.0%`).
    Equity,
}

impl ValueAxis {
    /// A tick's label, with the decimals its step needs: `$44,500`, `$1.54`, `+10%`, `-2.5%`.
    pub fn tick(self, v: f64, step: f64) -> String {
        match self {
            ValueAxis::Usd => usd_fixed(v, decimals_for(step)),
            ValueAxis::Equity => {
                let pct = 100.0 * (v - 1.0);
                let decimals = decimals_for(100.0 * step);
                if pct.abs() < 0.5 * 10f64.powi(-(decimals as i32)) {
                    "0%".into()
                } else {
                    format!("{pct:+.decimals$}%")
                }
            }
        }
    }

    /// A value as a readout shows it: `$44,640.87`, `+3.2%`.
    pub fn value(self, v: f64) -> String {
        match self {
            ValueAxis::Usd => usd(v),
            ValueAxis::Equity => signed_pct(v - 1.0),
        }
    }
}

/// The decimals a tick step needs to be written exactly (0 for whole steps, 2 for 0.25).
fn decimals_for(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) {
        return 0;
    }
    (0..8)
        .find(|&d| {
            let scaled = step * 10f64.powi(d);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .map_or(8, |d| d as usize)
}

/// About `max` round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) within
/// `[lo, hi]`, and the step.
pub fn value_ticks(lo: f64, hi: f64, max: usize) -> (Vec<f64>, f64) {
    if !(lo.is_finite() && hi.is_finite() && hi > lo) || max == 0 {
        return (Vec::new(), 0.0);
    }
    let raw = (hi - lo) / max as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = magnitude
        * match raw / magnitude {
            n if n <= 1.0 => 1.0,
            n if n <= 2.0 => 2.0,
            n if n <= 2.5 => 2.5,
            n if n <= 5.0 => 5.0,
            _ => 10.0,
        };
    let first = (lo / step).ceil();
    let ticks = (0..)
        .map(|i| (first + f64::from(i)) * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        .take(max + 1)
        .collect();
    (ticks, step)
}

/// Tick steps of a time axis up to two weeks, seconds; longer spans tick at month starts.
const TIME_STEPS: [i64; 13] = [
    60,
    300,
    900,
    1800,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    2 * 86_400,
    7 * 86_400,
    14 * 86_400,
];
/// Month steps of a long time axis.
const MONTH_STEPS: [i64; 5] = [1, 2, 3, 6, 12];

/// At most `max` round times (Unix seconds) within `[t0, t1]`: whole minutes, hours or days (weeks
/// start on Mondays), or month starts, and the step in seconds (a month counts as 30 days).
pub fn time_ticks(t0: i64, t1: i64, max: usize) -> (Vec<i64>, i64) {
    if t1 <= t0 || max == 0 {
        return (Vec::new(), 0);
    }
    let span = t1 - t0;
    let max_i = max as i64;
    if let Some(&step) = TIME_STEPS.iter().find(|&&s| span / s < max_i) {
        // Weeks align to Mondays (1970-01-01 was a Thursday, 4 days after one).
        let offset = if step >= 7 * 86_400 { -3 * 86_400 } else { 0 };
        let first = (t0 - offset).div_euclid(step) * step + offset;
        let first = if first < t0 { first + step } else { first };
        let ticks = (0..).map(|i| first + i * step).take_while(|t| *t <= t1).collect();
        return (ticks, step);
    }
    use chrono::Datelike;
    let Some(start) = DateTime::from_timestamp(t0, 0) else {
        return (Vec::new(), 0);
    };
    let months = span / (30 * 86_400);
    let step = MONTH_STEPS
        .iter()
        .copied()
        .find(|m| months / m < max_i)
        .unwrap_or_else(|| 12 * (months / (12 * max_i) + 1));
    let mut index = i64::from(start.year()) * 12 + i64::from(start.month0());
    let mut ticks = Vec::new();
    while ticks.len() <= max {
        if index % step == 0 {
            let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
            let Some(t) = i32::try_from(year)
                .ok()
                .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, month0 as u32 + 1, 1))
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc().timestamp())
            else {
                break;
            };
            if t > t1 {
                break;
            }
            if t >= t0 {
                ticks.push(t);
            }
        }
        index += 1;
    }
    (ticks, step * 30 * 86_400)
}

/// A time tick's label for its step: `14:30`, `May 14` (at midnight, or for day steps),
/// `Feb 2019` (month steps).
pub fn time_tick(t: i64, step: i64) -> String {
    let Some(at) = DateTime::from_timestamp(t, 0) else {
        return String::new();
    };
    if step >= 28 * 86_400 {
        at.format("%b %Y").to_string()
    } else if step >= 86_400 || t.rem_euclid(86_400) == 0 {
        at.format("%b %-d").to_string()
    } else {
        at.format("%H:%M").to_string()
    }
}

/// A label on a chart axis, `at` a share (0-1) of the plot's width (from the left) or height
/// (from the top).
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub at: f64,
    pub label: String,
}

/// A chart's data box, `t0..t1` by `low..high` (the values padded 5%), mapped into a `width` x
/// `height` SVG box (y up).
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub t0: i64,
    pub t1: i64,
    pub low: f64,
    pub high: f64,
    pub width: f64,
    pub height: f64,
}

impl Frame {
    /// The frame that holds every series' finite points (`(unix seconds, value)`); `None` when
    /// they span no time.
    pub fn around(series: &[&[(i64, f64)]], width: f64, height: f64) -> Option<Frame> {
        let points = || series.iter().flat_map(|s| s.iter()).filter(|p| p.1.is_finite());
        let t0 = points().map(|p| p.0).min()?;
        let t1 = points().map(|p| p.0).max()?;
        if t1 <= t0 {
            return None;
        }
        let lo = points().map(|p| p.1).fold(f64::MAX, f64::min);
        let hi = points().map(|p| p.1).fold(f64::MIN, f64::max);
        let pad = ((hi - lo) * 0.05).max(hi.abs().max(lo.abs()) * 1e-6).max(1e-12);
        Some(Frame {
            t0,
            t1,
            low: lo - pad,
            high: hi + pad,
            width,
            height,
        })
    }

    /// The x of a time.
    pub fn x(&self, t: i64) -> f64 {
        (t - self.t0) as f64 / (self.t1 - self.t0) as f64 * self.width
    }

    /// The y of a value (higher values higher up).
    pub fn y(&self, v: f64) -> f64 {
        self.height - (v - self.low) / (self.high - self.low) * self.height
    }

    /// A series' finite points in the box.
    pub fn points(&self, series: &[(i64, f64)]) -> Vec<(f64, f64)> {
        series
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&(t, v)| (self.x(t), self.y(v)))
            .collect()
    }

    /// About `max` labelled levels of the value axis, from the top.
    pub fn value_ticks(&self, axis: ValueAxis, max: usize) -> Vec<Tick> {
        let (ticks, step) = value_ticks(self.low, self.high, max);
        ticks
            .into_iter()
            .map(|v| Tick {
                at: 1.0 - (v - self.low) / (self.high - self.low),
                label: axis.tick(v, step),
            })
            .collect()
    }

    /// At most `max` labelled times of the time axis, from the left.
    pub fn time_ticks(&self, max: usize) -> Vec<Tick> {
        let (ticks, step) = time_ticks(self.t0, self.t1, max);
        ticks
            .into_iter()
            .map(|t| Tick {
                at: (t - self.t0) as f64 / (self.t1 - self.t0) as f64,
                label: time_tick(t, step),
            })
            .collect()
    }
}

/// The value of a series (sorted by time) at `t`: its last point at or before `t`.
pub fn value_at(series: &[(i64, f64)], t: i64) -> Option<f64> {
    let i = series.partition_point(|p| p.0 <= t);
    series.get(i.checked_sub(1)?).map(|p| p.1)
}

/// The index of the point nearest to `x` (points sorted by x).
pub fn nearest(points: &[(f64, f64)], x: f64) -> Option<usize> {
    let i = points.partition_point(|p| p.0 < x);
    match (i.checked_sub(1), points.get(i)) {
        (Some(a), Some(b)) => Some(if x - points[a].0 <= b.0 - x { a } else { i }),
        (Some(a), None) => Some(a),
        (None, Some(_)) => Some(i),
        (None, None) => None,
    }
}

/// A probability as a whole percentage: `57%`.
pub fn percent(p: f64) -> String {
    format!("{:.0}%", 100.0 * p)
}

/// An accuracy with one decimal: `54.2%`.
pub fn accuracy(p: f64) -> String {
    format!("{:.1}%", 100.0 * p)
}

/// The words and CSS class of a direction: never color alone.
pub fn direction(d: Direction) -> (&'static str, &'static str) {
    match d {
        Direction::Up => ("▲ UP", "up"),
        Direction::Down => ("▼ DOWN", "down"),
    }
}

/// How often a horizon's prediction is renewed.
pub fn cadence(minutes: u32) -> String {
    match minutes {
        1 => "updated every minute".into(),
        m => format!("updated every {m} minutes"),
    }
}

/// A time of day in UTC: `14:05 UTC`.
pub fn clock(t: DateTime<Utc>) -> String {
    t.format("%H:%M UTC").to_string()
}

/// Time left until `target`: `in 42 min`, `in 3 h 5 min`, or `due` once passed.
pub fn countdown(target: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let left = (target - now).num_seconds();
    if left <= 0 {
        "due".into()
    } else {
        format!("in {}", duration(((left + 59) / 60 * 60) as u64))
    }
}

/// Live accuracy as a card shows it: `54.2% [50.1-58.3%] vs 51.0% baseline, n=412 (≈ 7
/// independent)`: the interval is over the effective sample size, which the text names.
pub fn live_accuracy(a: &AccuracyStats) -> String {
    let figure = match (a.accuracy, a.wilson_low, a.wilson_high, a.baseline_accuracy) {
        (Some(acc), Some(lo), Some(hi), Some(base)) if a.n > 0 => format!(
            "{} [{:.1}-{:.1}%] vs {} baseline, n={}{}",
            accuracy(acc),
            100.0 * lo,
            100.0 * hi,
            accuracy(base),
            a.n,
            if a.n_effective > 0 && a.n_effective < a.n {
                format!(" (≈ {} independent)", a.n_effective)
            } else {
                String::new()
            }
        ),
        _ => return "no scored live predictions yet".into(),
    };
    if a.out_of_sample {
        figure
    } else {
        figure + " (in-sample: on rows the model trained on)"
    }
}

/// An RFC 3339 time as `2026-12-03 03:12 UTC` (the text itself when it does not parse).
pub fn when(rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&Utc).format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// What a gate decision did, in words: `replaced the previous model (p < 0.001)`; a promotion
/// the figures did not decide (the release's tie-break, see `models::gate::break_tie`) says so.
fn gate_outcome(d: &GateDecisionInfo) -> String {
    match (d.decision, d.p_value) {
        (GateDecision::Promoted, Some(p)) if p >= shared::GATE_ALPHA => format!(
            "replaced the previous model on a tie ({}; why on hover)",
            p_value(p)
        ),
        (GateDecision::Promoted, Some(p)) => format!("replaced the previous model ({})", p_value(p)),
        (GateDecision::Promoted, None) => "replaced the previous model".into(),
        (GateDecision::Kept, Some(p)) => format!(
            "kept the previous model: the new one was not better ({})",
            p_value(p)
        ),
        (GateDecision::Kept, None) => "kept the previous model: no new one could be trained".into(),
    }
}

/// The serving version of a model (with the span of data it learnt from) and its last retrain,
/// as the models card shows them: `shipped, trained on 2024-01-01 to 2025-03-31 · replaced the
/// previous model (p < 0.001) · last retrain 2026-12-06 03:00 UTC: kept the previous model: the
/// new one was not better (p = 0.412)`.
pub fn model_version(v: &ModelVersion, trained_from: &str, trained_to: &str) -> String {
    let day = |s: &str| s.get(..10).unwrap_or(s).to_owned();
    let span = format!("{} to {}", day(trained_from), day(trained_to));
    let mut out = match (v.origin, &v.promoted_at) {
        (ModelOrigin::Retrained, Some(at)) => {
            format!("retrained here on {span}, serving since {}", when(at))
        }
        _ => format!("shipped, trained on {span}"),
    };
    if let (ModelOrigin::Shipped, Some(g)) = (v.origin, &v.gate) {
        out += &format!(" · {}", gate_outcome(g));
    }
    match v.decisions.first() {
        Some(d) => out += &format!(" · last retrain {}: {}", when(&d.decided_at), gate_outcome(d)),
        None => out += " · not retrained here yet",
    }
    out
}

/// A retrain's progress: `Retraining now: 5 of 18 done · BTC 4h: training the challenger`, or
/// when it is over `Last retrain finished 2026-12-06 03:04 UTC: 2 of 18 new models replaced the
/// running ones`.
pub fn retrain_status(r: &RetrainStatus) -> String {
    if r.running {
        format!("Retraining now: {} of {} done · {}", r.done, r.total, r.step)
    } else {
        format!(
            "Last retrain finished {}: {} of {} new models replaced the running ones",
            r.finished_at.as_deref().map(when).unwrap_or_default(),
            r.promoted,
            r.total
        )
    }
}

/// One cell of the history table.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryCell {
    pub direction: Direction,
    pub p_up: f64,
    /// `Some(true)` right, `Some(false)` wrong, `None` not scored (yet, or unscorable).
    pub correct: Option<bool>,
    pub unscorable: bool,
}

/// The history table: one row per prediction time (newest first), one column per horizon in
/// `Horizon::ALL` order.
pub fn history_table(predictions: &[Prediction]) -> Vec<(DateTime<Utc>, [Option<HistoryCell>; 6])> {
    let mut rows: Vec<(DateTime<Utc>, [Option<HistoryCell>; 6])> = Vec::new();
    for p in predictions {
        let Some(col) = Horizon::ALL.iter().position(|h| *h == p.horizon) else {
            continue;
        };
        let row = match rows.iter().position(|(t, _)| *t == p.made_at) {
            Some(i) => i,
            None => {
                rows.push((p.made_at, Default::default()));
                rows.len() - 1
            }
        };
        rows[row].1[col] = Some(HistoryCell {
            direction: p.direction,
            p_up: p.p_up,
            correct: p.correct,
            unscorable: p.outcome == Outcome::Unscorable,
        });
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows
}

/// The mark of a scored cell: `✓` right, `✗` wrong, `–` unscorable, nothing while pending.
pub fn outcome_mark(cell: &HistoryCell) -> &'static str {
    match (cell.correct, cell.unscorable) {
        (Some(true), _) => "✓",
        (Some(false), _) => "✗",
        (None, true) => "–",
        (None, false) => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn cards_say_direction_in_words_and_percentages_plainly() {
        assert_eq!(direction(Direction::Up), ("▲ UP", "up"));
        assert_eq!(direction(Direction::Down), ("▼ DOWN", "down"));
        assert_eq!(percent(0.5649), "56%");
        assert_eq!(accuracy(0.55178), "55.2%");
        assert_eq!(cadence(1), "updated every minute");
        assert_eq!(cadence(15), "updated every 15 minutes");
        assert_eq!(clock(at("2026-11-24T09:05:59Z")), "09:05 UTC");
    }

    #[test]
    fn prices_group_thousands_and_changes_carry_a_sign() {
        assert_eq!(usd(44640.87), "$44,640.87");
        assert_eq!(usd_fixed(44500.0, 0), "$44,500");
        assert_eq!(usd_fixed(-1234.5, 1), "-$1,234.5");
        assert_eq!(usd_fixed(-0.0001, 2), "$0.00");
        assert_eq!(usd(292.432), "$292.43");
        assert_eq!(usd(1.54361), "$1.5436");
        assert_eq!(usd(1_234_567.0), "$1,234,567.00");
        assert_eq!(change(2.191), "+2.19%");
        assert_eq!(change(-0.511), "-0.51%");
    }

    fn pred(horizon: Horizon, made_at: &str, p_up: f64, correct: Option<bool>) -> Prediction {
        Prediction {
            id: 1,
            coin: Coin::BTC,
            horizon,
            direction: Direction::from_p_up(p_up),
            p_up,
            confidence: shared::confidence(p_up),
            signal: shared::Signal::from_p_up(p_up, 0.1),
            signal_threshold: Some(0.1),
            band_accuracy: None,
            made_at: at(made_at),
            target_at: at(made_at) + chrono::Duration::minutes(i64::from(horizon.minutes())),
            published_at: at(made_at) + chrono::Duration::seconds(20),
            valid_until: at(made_at) + chrono::Duration::minutes(i64::from(horizon.cadence_minutes())),
            reference_price: 1.0,
            model_id: "m".into(),
            backfilled: false,
            outcome: if correct.is_some() {
                Outcome::Scored
            } else {
                Outcome::Pending
            },
            realized_price: None,
            correct,
        }
    }

    #[test]
    fn the_history_table_has_a_row_per_time_and_a_column_per_horizon() {
        let rows = history_table(&[
            pred(Horizon::H1, "2026-11-24T09:00:00Z", 0.6, Some(true)),
            pred(Horizon::M30, "2026-11-24T09:15:00Z", 0.4, None),
            pred(Horizon::H12, "2026-11-24T09:00:00Z", 0.3, Some(false)),
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, at("2026-11-24T09:15:00Z"), "newest first");
        let cell = rows[0].1[0].as_ref().unwrap();
        assert_eq!((cell.direction, outcome_mark(cell)), (Direction::Down, ""));
        assert!(rows[0].1[1..].iter().all(Option::is_none));
        assert_eq!(outcome_mark(rows[1].1[1].as_ref().unwrap()), "✓");
        assert_eq!(outcome_mark(rows[1].1[5].as_ref().unwrap()), "✗");
    }

    #[test]
    fn model_kinds_read_as_words() {
        assert_eq!(model_kind("logistic"), "logistic regression");
        assert_eq!(model_kind("mlp-32-16"), "feed-forward net (32, 16)");
        assert_eq!(model_kind("gbt"), "gbt");
    }

    #[test]
    fn a_frame_spans_its_box_and_finds_the_nearest_point() {
        let series = [(0, 10.0), (50, 20.0), (100, 15.0)];
        let f = Frame::around(&[&series], 200.0, 100.0).unwrap();
        let points = f.points(&series);
        assert_eq!(points.len(), 3);
        assert_eq!(points[0].0, 0.0);
        assert_eq!(points[2].0, 200.0);
        assert!(points[1].1 < points[0].1, "higher values are higher up");
        assert!((f.low - 9.5).abs() < 1e-9 && (f.high - 20.5).abs() < 1e-9);
        let path = svg_path(&points);
        assert!(path.starts_with("M0.0,") && path.contains(" L100.0,"));
        assert_eq!(nearest(&points, 40.0), Some(0));
        assert_eq!(nearest(&points, 60.0), Some(1));
        assert_eq!(nearest(&points, 500.0), Some(2));
        assert_eq!(Frame::around(&[&[(0, 1.0)]], 10.0, 10.0), None);
        assert_eq!(Frame::around(&[], 10.0, 10.0), None);
        // Several series share one frame; a flat line still gets a range.
        let other = [(-100, 30.0), (0, 30.0)];
        let f = Frame::around(&[&series, &other], 300.0, 100.0).unwrap();
        assert_eq!((f.t0, f.t1), (-100, 100));
        assert!(f.high > 30.0 && f.low < 10.0);
        let flat = Frame::around(&[&[(0, 1.0), (10, 1.0)]], 10.0, 10.0).unwrap();
        assert!(flat.high > flat.low);
        assert_eq!(value_at(&series, 49), Some(10.0));
        assert_eq!(value_at(&series, 50), Some(20.0));
        assert_eq!(value_at(&series, -1), None);
    }

    #[test]
    fn value_axes_tick_at_round_levels_with_the_decimals_they_need() {
        let (ticks, step) = value_ticks(43_812.0, 45_377.0, 5);
        assert_eq!(step, 500.0);
        assert_eq!(ticks, vec![44_000.0, 44_500.0, 45_000.0]);
        assert_eq!(ValueAxis::Usd.tick(44_500.0, step), "$44,500");
        let (ticks, step) = value_ticks(42_000.0, 55_500.0, 6);
        assert_eq!((ticks.len(), step), (6, 2500.0));
        assert_eq!(ValueAxis::Usd.tick(ticks[0], step), "$42,500");
        assert_eq!(ValueAxis::Usd.tick(1.25, 0.25), "$1.25");
        assert_eq!(ValueAxis::Equity.tick(1.25, 0.25), "+25%");
        let (ticks, step) = value_ticks(1.512, 1.566, 5);
        assert!((step - 0.02).abs() < 1e-12);
        assert_eq!(ticks.len(), 3);
        assert_eq!(ValueAxis::Usd.tick(ticks[0], step), "$1.52");
        assert_eq!(ValueAxis::Equity.tick(1.2, 0.1), "+20%");
        assert_eq!(ValueAxis::Equity.tick(0.975, 0.005), "-2.5%");
        assert_eq!(ValueAxis::Equity.tick(1.0, 0.05), "0%");
        assert_eq!(ValueAxis::Equity.value(1.0321), "+3.2%");
        assert_eq!(ValueAxis::Usd.value(292.432), "$292.43");
        assert_eq!(value_ticks(1.0, 1.0, 5).0, Vec::<f64>::new());
        // A frame labels its levels from the top, inside the box.
        let f = Frame::around(&[&[(0, 0.8), (10, 1.3)]], 10.0, 10.0).unwrap();
        let ticks = f.value_ticks(ValueAxis::Equity, 5);
        assert_eq!(
            ticks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
            ["-20%", "0%", "+20%"]
        );
        assert!(ticks.iter().all(|t| (0.0..=1.0).contains(&t.at)));
        assert!(ticks[0].at > ticks[2].at, "higher levels nearer the top");
    }

    #[test]
    fn time_axes_tick_at_round_times_labelled_for_their_step() {
        let t0 = at("2021-05-14T09:07:00Z").timestamp();
        // 24 hours: every 6 hours, midnight labelled with its date.
        let (ticks, step) = time_ticks(t0, t0 + 86_400, 6);
        assert_eq!(step, 6 * 3600);
        let labels: Vec<String> = ticks.iter().map(|t| time_tick(*t, step)).collect();
        assert_eq!(labels, ["12:00", "18:00", "May 15", "06:00"]);
        // 6 hours: hourly.
        let (ticks, step) = time_ticks(t0, t0 + 6 * 3600, 6);
        assert_eq!((step, ticks.len()), (7200, 3));
        assert_eq!(time_tick(ticks[0], step), "10:00");
        // 30 days: weekly on Mondays.
        let (ticks, step) = time_ticks(t0, t0 + 30 * 86_400, 6);
        assert_eq!(step, 7 * 86_400);
        assert_eq!(time_tick(ticks[0], step), "May 17");
        assert!(
            ticks.iter().all(|t| (t.div_euclid(86_400) + 3) % 7 == 0),
            "Mondays"
        );
        // Eight months: month starts (every other month from January).
        let from = at("2019-02-12T13:00:00Z").timestamp();
        let to = at("2019-10-01T00:00:00Z").timestamp();
        let (ticks, step) = time_ticks(from, to, 6);
        let labels: Vec<String> = ticks.iter().map(|t| time_tick(*t, step)).collect();
        assert_eq!(labels, ["Mar 2019", "May 2019", "Jul 2019", "Sep 2019"]);
        for (ticks, _) in [time_ticks(t0, t0 + 7 * 86_400, 6), time_ticks(from, to, 6)] {
            assert!(ticks.len() <= 6 && ticks.len() >= 2);
        }
        assert_eq!(time_ticks(5, 5, 6).0, Vec::<i64>::new());
        // A frame places them from the left.
        let f = Frame::around(&[&[(t0, 1.0), (t0 + 86_400, 2.0)]], 10.0, 10.0).unwrap();
        let ticks = f.time_ticks(6);
        assert!(ticks.windows(2).all(|w| w[0].at < w[1].at));
        assert!(ticks.iter().all(|t| (0.0..=1.0).contains(&t.at)));
    }

    #[test]
    fn signals_state_confidence_against_the_threshold_and_flat_says_why() {
        let mut p = pred(Horizon::H1, "2026-11-24T09:00:00Z", 0.655, None);
        p.signal_threshold = Some(0.25);
        p.signal = Signal::from_p_up(p.p_up, 0.25);
        assert_eq!(signal(&p), ("LONG", "long", "confidence 0.31 ≥ 0.25".into()));
        p.p_up = 0.45;
        p.confidence = shared::confidence(0.45);
        p.signal = Signal::from_p_up(0.45, 0.25);
        assert_eq!(
            signal(&p),
            (
                "FLAT",
                "flat",
                "confidence 0.10 < 0.25: below the model's threshold".into()
            )
        );
        p.p_up = 0.2;
        p.confidence = shared::confidence(0.2);
        p.signal = Signal::from_p_up(0.2, 0.25);
        assert_eq!(signal(&p).0, "SHORT");
        p.signal_threshold = None;
        p.signal = Signal::Flat;
        assert!(signal(&p).2.contains("no signal threshold"));
    }

    #[test]
    fn a_walk_forward_figure_says_how_many_independent_rows_it_rests_on() {
        let mut wf = shared::WalkForwardSummary {
            out_of_sample: true,
            test_from: "2019-02-12".into(),
            test_to: "2019-09-30".into(),
            n: 5531,
            n_effective: Some(2758.4),
            accuracy: 0.552,
            wilson_low: 0.53,
            wilson_high: 0.57,
            baseline_accuracy: 0.518,
            p_value: 0.01,
            p_value_binomial: Some(0.001),
            momentum_accuracy: None,
            reversal_accuracy: None,
            brier: 0.25,
            log_loss: 0.69,
            accuracy_vs_coverage: Vec::new(),
            reliability: Vec::new(),
        };
        assert_eq!(
            walk_forward(&wf),
            "55.2% vs 51.8% baseline (n=5531, ≈ 2758 independent)"
        );
        wf.n_effective = Some(5531.0);
        assert_eq!(walk_forward(&wf), "55.2% vs 51.8% baseline (n=5531)");
    }

    #[test]
    fn the_strongest_baseline_is_named_and_a_model_that_does_not_beat_it_is_told_so() {
        let mut skill = Skill {
            model_id: "m".into(),
            accuracy: 0.53,
            baseline_accuracy: 0.51,
            p_value: 0.01,
            n: 5000,
            n_effective: Some(640.0),
            beats_baseline: true,
            out_of_sample: true,
            strongest_baseline: Some(shared::StrongestBaseline {
                name: BaselineRule::Momentum,
                accuracy: 0.521,
                p_value: 0.31,
                p_value_holm: Some(1.0),
                p_value_bh: None,
                n_effective: None,
                beaten: false,
            }),
        };
        assert_eq!(
            strongest_baseline(&skill),
            "momentum (UP if the last bar rose) 52.1%: the model does not beat it (p = 0.310; Holm-corrected across the models: p = 1.000)"
        );
        skill.strongest_baseline = Some(shared::StrongestBaseline {
            name: BaselineRule::Reversal,
            accuracy: 0.505,
            p_value: 0.0002,
            p_value_holm: Some(0.0036),
            p_value_bh: Some(0.0018),
            n_effective: Some(412.4),
            beaten: true,
        });
        assert_eq!(
            strongest_baseline(&skill),
            "reversal (DOWN if the last bar rose) 50.5%: the model beats it (p < 0.001, paired test over ≈ 412 independent rows; Holm-corrected across the models: p = 0.004, Benjamini-Hochberg: p = 0.002)"
        );
        skill.strongest_baseline = None;
        assert!(strongest_baseline(&skill).contains("majority class only"));
    }

    fn result(trades: u32, gross: f64, net: f64, break_even: Option<f64>) -> StrategyResult {
        StrategyResult {
            trades,
            hit_rate: (trades > 0).then_some(0.55),
            gross_return: gross,
            net_return: net,
            sharpe: 0.8,
            max_drawdown: 0.233,
            turnover_per_year: 100.0,
            exposure: 0.1,
            break_even_fee_bps: break_even,
            equity: Vec::new(),
        }
    }

    #[test]
    fn trading_figures_say_plainly_when_a_model_earns_nothing_after_fees() {
        let hold = result(1, 1.318, 1.314, Some(1000.0));
        let loses = result(249, 0.342, -0.184, Some(5.9));
        assert_eq!(
            earnings_verdict(&loses, &hold),
            "After fees this model earns nothing: following its signals returned -18.4% (+34.2% before fees) over 249 trades."
        );
        let even = result(10, 0.02, 0.0, Some(10.0));
        assert!(earnings_verdict(&even, &hold).starts_with("After fees this model earns nothing"));
        let earns = result(229, 0.759, 0.113, Some(12.3));
        assert_eq!(
            earnings_verdict(&earns, &hold),
            "Following the signals returned +11.3% after fees (+75.9% before) over 229 trades; holding the coin returned +131.4%, more than the signals."
        );
        assert!(earnings_verdict(&result(0, 0.0, 0.0, None), &hold).starts_with("No trades"));
        assert_eq!(
            strategy_cells(&loses),
            ["-18.4%", "+34.2%", "0.80", "23.3%", "249", "55.0%", "5.9 bps"].map(String::from)
        );
        assert_eq!(break_even(Some(-0.25)), "none: it loses before costs");
        assert_eq!(break_even(Some(1000.0)), "over 1,000 bps");
        assert_eq!(break_even(None), "–");
        assert_eq!(signed_pct(-0.0001), "0.0%");
        assert_eq!(bps(10.0), "10");
        assert_eq!(bps(2.5), "2.5");
    }

    fn performance(live: shared::StrategyFigures) -> ModelPerformance {
        ModelPerformance {
            coin: Coin::BTC,
            horizon: Horizon::H1,
            model_id: "m".into(),
            threshold: Some(0.4),
            fee_bps: 10.0,
            slippage_bps: 0.0,
            fee_source: "Binance taker fee".into(),
            walk_forward: None,
            live,
            live_out_of_sample: true,
        }
    }

    #[test]
    fn costs_are_stated_and_the_live_record_says_when_it_has_nothing_or_little() {
        let figures = |n: u32, trades: u32| shared::StrategyFigures {
            from: (n > 0).then(|| at("2026-11-20T10:00:00Z")),
            to: (n > 0).then(|| at("2026-11-24T09:00:00Z")),
            n,
            long_short: result(trades, 0.01, -0.004, Some(4.0)),
            long_flat: result(trades, 0.0, 0.0, None),
            buy_and_hold: result(1, 0.02, 0.018, Some(90.0)),
            momentum: None,
            sharpe_se: None,
            deflated_sharpe: None,
            pbo: None,
        };
        let mut evidenced = figures(40, 6);
        assert_eq!(strategy_evidence(&evidenced), None);
        (evidenced.sharpe_se, evidenced.deflated_sharpe, evidenced.pbo) = (Some(1.9), Some(0.12), Some(0.55));
        assert_eq!(
            strategy_evidence(&evidenced).unwrap(),
            format!(
                "Sharpe {:.2} ± 1.90; deflated Sharpe 0.12 given every configuration tried (it may be luck); probability that the threshold choice is overfit 55% (no better than chance).",
                evidenced.long_short.sharpe
            )
        );
        let mut m = performance(figures(0, 0));
        assert_eq!(costs(&m), "after 10 bps per side: Binance taker fee");
        assert!(live_summary(&m).starts_with("No scored live predictions yet"));
        m.live = figures(40, 0);
        assert!(live_summary(&m).starts_with(
            "No live trades yet: 40 scored live predictions from 2026-11-20 10:00 to 2026-11-24 09:00 UTC"
        ));
        m.live = figures(40, 6);
        let text = live_summary(&m);
        assert!(text.starts_with("6 live trades (40 scored predictions"), "{text}");
        assert!(
            text.contains("-0.4% after fees") && text.contains("luck alone"),
            "{text}"
        );
        m.slippage_bps = 2.0;
        assert_eq!(
            costs(&m),
            "after 10 bps fee and 2 bps slippage per side: Binance taker fee"
        );
    }

    #[test]
    fn countdowns_round_up_to_the_minute_and_end_at_due() {
        let now = at("2026-11-24T09:00:30Z");
        assert_eq!(countdown(at("2026-11-24T09:30:00Z"), now), "in 30 min");
        assert_eq!(countdown(at("2026-11-24T12:05:00Z"), now), "in 3 h 5 min");
        assert_eq!(countdown(at("2026-11-24T09:00:00Z"), now), "due");
    }

    #[test]
    fn live_accuracy_shows_interval_baseline_and_n_or_says_there_is_none() {
        let mut a = AccuracyStats {
            window: "7d".into(),
            out_of_sample: true,
            n: 412,
            n_effective: 7,
            hits: 223,
            accuracy: Some(223.0 / 412.0),
            wilson_low: Some(0.493),
            wilson_high: Some(0.589),
            brier: Some(0.249),
            baseline_accuracy: Some(0.51),
        };
        assert_eq!(
            live_accuracy(&a),
            "54.1% [49.3-58.9%] vs 51.0% baseline, n=412 (≈ 7 independent)"
        );
        a.out_of_sample = false;
        a.n_effective = 412;
        assert_eq!(
            live_accuracy(&a),
            "54.1% [49.3-58.9%] vs 51.0% baseline, n=412 (in-sample: on rows the model trained on)"
        );
        a.n = 0;
        a.accuracy = None;
        assert_eq!(live_accuracy(&a), "no scored live predictions yet");
    }

    fn decision(decision: GateDecision, p: Option<f64>) -> GateDecisionInfo {
        GateDecisionInfo {
            decided_at: "2026-12-06T03:00:00Z".into(),
            challenger_id: "BTC-1h-new".into(),
            champion_id: "BTC-1h-old".into(),
            decision,
            reason: String::new(),
            window_from: "2026-11-29T03:00:00Z".into(),
            window_to: "2026-12-06T03:00:00Z".into(),
            n: 168,
            champion_log_loss: p.map(|_| 0.693),
            challenger_log_loss: p.map(|_| 0.690),
            champion_accuracy: None,
            challenger_accuracy: None,
            dm_statistic: None,
            p_value: p,
            champion_in_sample: false,
        }
    }

    #[test]
    fn the_models_card_says_where_a_model_came_from_and_what_the_last_retrain_did() {
        const FROM: &str = "2024-01-01";
        const TO: &str = "2025-03-31T23:00:00+00:00";
        let mut v = ModelVersion {
            origin: ModelOrigin::Shipped,
            trained_at: "2025-03-31T12:00:00+00:00".into(),
            promoted_at: None,
            gate: Some(decision(GateDecision::Promoted, Some(0.0004))),
            decisions: Vec::new(),
            live_by_version: Vec::new(),
        };
        assert_eq!(
            model_version(&v, FROM, TO),
            "shipped, trained on 2024-01-01 to 2025-03-31 · replaced the previous model (p < 0.001) · not retrained here yet"
        );
        v.decisions.push(decision(GateDecision::Kept, Some(0.4123)));
        assert_eq!(
            model_version(&v, FROM, TO),
            "shipped, trained on 2024-01-01 to 2025-03-31 · replaced the previous model (p < 0.001) · last retrain 2026-12-06 03:00 UTC: kept the previous model: the new one was not better (p = 0.412)"
        );
        v.origin = ModelOrigin::Retrained;
        v.promoted_at = Some("2026-12-13T03:01:00Z".into());
        v.decisions
            .insert(0, decision(GateDecision::Promoted, Some(0.01)));
        assert_eq!(
            model_version(&v, FROM, TO),
            "retrained here on 2024-01-01 to 2025-03-31, serving since 2026-12-13 03:01 UTC · last retrain 2026-12-06 03:00 UTC: replaced the previous model (p = 0.010)"
        );
        v.decisions[0] = decision(GateDecision::Kept, None);
        assert!(
            model_version(&v, FROM, TO).ends_with("kept the previous model: no new one could be trained")
        );
        v.decisions[0] = decision(GateDecision::Promoted, Some(0.51));
        assert!(
            model_version(&v, FROM, TO)
                .ends_with("replaced the previous model on a tie (p = 0.510; why on hover)"),
            "{}",
            model_version(&v, FROM, TO)
        );
        let mut r = RetrainStatus {
            running: true,
            started_at: "2026-12-06T03:00:00Z".into(),
            finished_at: None,
            done: 5,
            total: 18,
            promoted: 1,
            step: "BTC 4h: training the challenger".into(),
        };
        assert_eq!(
            retrain_status(&r),
            "Retraining now: 5 of 18 done · BTC 4h: training the challenger"
        );
        r.running = false;
        r.finished_at = Some("2026-12-06T03:04:10Z".into());
        r.done = 18;
        assert_eq!(
            retrain_status(&r),
            "Last retrain finished 2026-12-06 03:04 UTC: 1 of 18 new models replaced the running ones"
        );
    }

    #[test]
    fn other_coins_sort_by_name_price_or_change_with_unknown_changes_last() {
        let rows = || {
            vec![
                ("Ripple".to_owned(), 0.5, Some(-1.0), ()),
                ("bitcoin".to_owned(), 60_000.0, None, ()),
                ("Litecoin".to_owned(), 80.0, Some(2.0), ()),
            ]
        };
        let names = |r: &[(String, f64, Option<f64>, ())]| {
            r.iter().map(|x| x.0.clone()).collect::<Vec<_>>().join(",")
        };
        let mut r = rows();
        sort_prices(&mut r, PriceSort::Name, true);
        assert_eq!(names(&r), "bitcoin,Litecoin,Ripple");
        sort_prices(&mut r, PriceSort::Name, false);
        assert_eq!(names(&r), "Ripple,Litecoin,bitcoin");
        sort_prices(&mut r, PriceSort::Price, false);
        assert_eq!(names(&r), "bitcoin,Litecoin,Ripple");
        sort_prices(&mut r, PriceSort::Change, false);
        assert_eq!(names(&r), "Litecoin,Ripple,bitcoin");
        sort_prices(&mut r, PriceSort::Change, true);
        assert_eq!(names(&r), "Ripple,Litecoin,bitcoin");
    }

    #[test]
    fn coin_paths_parse_names_and_tickers_in_any_case() {
        let served = |coins: &[(Coin, &str)]| CoinsResponse {
            coins: coins
                .iter()
                .map(|&(coin, name)| shared::CoinInfo {
                    coin,
                    name: name.into(),
                    horizons: vec![],
                    models_beating_baseline: 0,
                })
                .collect(),
        };
        let three = served(&[
            (Coin::BTC, "Bitcoin"),
            (Coin::LTC, "Litecoin"),
            (Coin::XRP, "Ripple"),
        ]);
        assert_eq!(coin_from_path("/Bitcoin", Some(&three)), Some(Coin::BTC));
        assert_eq!(coin_from_path("/litecoin", Some(&three)), Some(Coin::LTC));
        assert_eq!(coin_from_path("/XRP/history", Some(&three)), Some(Coin::XRP));
        assert_eq!(coin_from_path("/", Some(&three)), None);
        assert_eq!(coin_from_path("/Dogecoin", Some(&three)), None, "not served");
        let pepe = Coin::from_ticker("PEPE").unwrap();
        let other = served(&[(Coin::BCH, "Bitcoin Cash"), (pepe, "Pepe")]);
        assert_eq!(coin_from_path("/Bitcoin-Cash", Some(&other)), Some(Coin::BCH));
        assert_eq!(coin_from_path("/pepe", Some(&other)), Some(pepe));
        // Before the server has listed its coins: the coins coincast knows only.
        assert_eq!(coin_from_path("/Dogecoin", None), Some(Coin::DOGE));
        assert_eq!(coin_from_path("/about", None), None);
        assert_eq!(coin_from_path("/PEPE", None), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(300), "5 min");
        assert_eq!(duration(3600), "1 h");
        assert_eq!(duration(3 * 3600 + 12 * 60 + 5), "3 h 12 min");
        assert_eq!(duration(2 * 86_400 + 4 * 3600), "2 d 4 h");
        assert_eq!(duration(86_400 + 59), "1 d");
    }

    #[test]
    fn chart_resolutions_fall_back_to_the_range_default_when_not_offered() {
        assert_eq!(chart_resolution(0, None), "1m");
        assert_eq!(chart_resolution(0, Some("15m")), "15m");
        assert_eq!(
            chart_resolution(0, Some("1d")),
            "1m",
            "a day bar in a 6 h chart is not offered"
        );
        assert_eq!(
            chart_resolution(3, Some("1m")),
            "1h",
            "30 d of minutes would pass the 5,000-bar cap"
        );
        for (label, span, default, offered) in CHART_RANGES {
            assert!(offered.contains(&default), "{label}");
            for r in offered {
                let seconds = match *r {
                    "1m" => 60,
                    "5m" => 300,
                    "15m" => 900,
                    "1h" => 3600,
                    "1d" => 86_400,
                    other => panic!("{other}"),
                };
                let bars = span / seconds;
                assert!((24..=2880).contains(&bars), "{label} at {r}: {bars} bars");
            }
        }
    }

    #[test]
    fn chart_keys_move_the_readout_point_within_the_line() {
        assert_eq!(
            chart_key("ArrowLeft", None, 10),
            Some(Some(9)),
            "the first press starts at the newest"
        );
        assert_eq!(chart_key("ArrowLeft", Some(4), 10), Some(Some(3)));
        assert_eq!(chart_key("ArrowLeft", Some(0), 10), Some(Some(0)));
        assert_eq!(chart_key("ArrowRight", Some(9), 10), Some(Some(9)));
        assert_eq!(chart_key("ArrowRight", Some(3), 10), Some(Some(4)));
        assert_eq!(chart_key("PageUp", Some(50), 100), Some(Some(40)));
        assert_eq!(chart_key("PageDown", Some(95), 100), Some(Some(99)));
        assert_eq!(chart_key("Home", Some(5), 10), Some(Some(0)));
        assert_eq!(chart_key("End", None, 10), Some(Some(9)));
        assert_eq!(chart_key("Escape", Some(5), 10), Some(None));
        assert_eq!(
            chart_key("a", Some(5), 10),
            None,
            "other keys are left to the browser"
        );
        assert_eq!(chart_key("ArrowLeft", None, 0), None);
    }

    #[test]
    fn plots_map_data_into_the_box_with_y_up_and_clamp_outliers() {
        let p = plot(
            &[(0.0, 0.0), (0.5, 0.5), (1.0, 2.0)],
            (0.0, 1.0),
            (0.0, 1.0),
            200.0,
            100.0,
        );
        assert_eq!(p, vec![(0.0, 100.0), (100.0, 50.0), (200.0, 0.0)]);
        assert_eq!(svg_path(&p), "M0.0,100.0 L100.0,50.0 L200.0,0.0");
        assert_eq!(svg_path(&[]), "");
    }

    #[test]
    fn source_states_have_words_not_only_colors() {
        use shared::SourceState;
        assert_eq!(source_state(SourceState::Failing), ("failing", "failing"));
        assert_eq!(
            source_state(SourceState::Disabled).1,
            "not collected in this mode"
        );
    }

    /// WCAG 2 contrast ratio of two `#rrggbb` colors (1 to 21).
    fn contrast(a: &str, b: &str) -> Option<f64> {
        fn luminance(hex: &str) -> Option<f64> {
            let hex = hex.strip_prefix('#')?;
            if hex.len() != 6 {
                return None;
            }
            let channel = |i: usize| -> Option<f64> {
                let c = f64::from(u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()?) / 255.0;
                Some(if c <= 0.04045 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                })
            };
            Some(0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?)
        }
        let (la, lb) = (luminance(a)?, luminance(b)?);
        Some((la.max(lb) + 0.05) / (la.min(lb) + 0.05))
    }

    /// The custom properties of the light theme (`:root`) and the dark one (the media query).
    fn theme_colors(dark: bool) -> std::collections::HashMap<String, String> {
        let css = include_str!("../style.css");
        let block = if dark {
            let start = css.find("prefers-color-scheme: dark").expect("a dark theme");
            let root = css[start..].find(":root").expect(":root in the dark theme");
            &css[start + root..]
        } else {
            &css[css.find(":root").unwrap()..]
        };
        let block = &block[block.find('{').unwrap() + 1..];
        let block = &block[..block.find('}').unwrap()];
        block
            .split(';')
            .map(|d| match d.rfind("*/") {
                Some(end) => &d[end + 2..],
                None => d,
            })
            .filter_map(|d| d.trim().split_once(':'))
            .filter(|(k, _)| k.trim().starts_with("--"))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    }

    #[test]
    fn both_themes_meet_wcag_aa_contrast() {
        assert!((contrast("#000000", "#ffffff").unwrap() - 21.0).abs() < 1e-9);
        assert_eq!(contrast("#777", "#fff"), None);
        for dark in [false, true] {
            let c = theme_colors(dark);
            let get = |k: &str| {
                c.get(k)
                    .unwrap_or_else(|| panic!("{k} in the {} theme", if dark { "dark" } else { "light" }))
            };
            // Text: 4.5:1 (WCAG 2 AA, normal size).
            for (fg, bg) in [
                ("--fg", "--bg"),
                ("--fg", "--card"),
                ("--muted", "--bg"),
                ("--muted", "--card"),
                ("--up", "--card"),
                ("--down", "--card"),
                ("--up", "--bg"),
                ("--down", "--bg"),
                ("--accent", "--card"),
                ("--accent", "--bg"),
                ("--on-accent", "--accent"),
            ] {
                let ratio = contrast(get(fg), get(bg)).unwrap();
                assert!(ratio >= 4.5, "{fg} on {bg} (dark: {dark}): {ratio:.2}");
            }
            // Lines and marks in charts: 3:1 (non-text contrast).
            for series in ["--h1", "--h2", "--h3", "--h4", "--h5", "--h6"] {
                let ratio = contrast(get(series), get("--card")).unwrap();
                assert!(ratio >= 3.0, "{series} on --card (dark: {dark}): {ratio:.2}");
            }
        }
    }
}
