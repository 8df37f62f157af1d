//! The one feature pipeline, used by training and by the server at prediction time.
//!
//! A sample at bar `i` is `[current values], [period 1 values], [period 2 values], ...`: the
//! current bar, then consecutive periods reaching back in time, each `growth` times longer than
//! the one after it. For every period: the return R = (F - S) / S (S its first open, F its last
//! close), its high and low relative to S, and its relative volume: the log of its mean volume
//! over the mean volume of the whole window. Features at `i` are computed from `bars[..=i]` only
//! (the function never sees later bars), so they cannot look ahead.
//!
//! Version 2 added optional external series after the price block (on-chain and market series,
//! see `series`): a spec names the series it uses, each contributing its one-day and seven-day log
//! change as known at the prediction time.
//!
//! Version 3 made the volume feature relative (version 2 used the log of the mean volume itself).
//! Absolute volume depends on the exchange and drifts over the years: a model that learned one
//! exchange's (or one year's) level read another's as extreme. A ratio to the window's own mean
//! is the same whatever the scale: multiplying every volume by k changes no feature.
//!
//! A spec may ask for the scale-free price block (`scaled`, named by the card as `series` is, so
//! version 3 models without it read as before): every return, high and low is divided by the
//! window's volatility over its length (the standard deviation of the window's close-to-close log
//! returns times the square root of the block's bars), so a 1% move means as much on a calm coin as
//! on a wild one, and five more values follow the price block: the volatility regime (the log of
//! the last quarter's volatility over the window's) and the hour of day and day of week of the
//! prediction time as sine and cosine. These mean the same on every coin: a pooled model learns
//! from all of them at once.
//!
//! A spec may also ask for the cross-section block (`market`: the coins it reads, named by the
//! card as `series` is). For two lookbacks (the current bar, and the current bar with the first
//! two periods) it adds five values: BTC's log return, the cross-section's mean log return (the
//! coin's own included), the coin's return relative to BTC and to that mean (over the window's
//! volatility when `scaled`, as the price block), and the coin's rank among the others' returns
//! (-0.5 the lowest, 0.5 the highest). The others' returns are read from the real base bars
//! closing at the prediction time and one lookback before it ([`CrossSection`]); BTC must be
//! there, and at least half of the other coins named, or the sample has no features.

use shared::Coin;

use crate::history::Bar;
use crate::series::{self, SeriesSet};

/// The version of the feature definitions. A model records the version it was trained with; the
/// server refuses a model whose version it cannot build. Bump on any change below, except an
/// optional block a spec names (as `series` and `scaled`): an older server would build other
/// names than the card records and refuse the model (`registry`), never serve it wrong features.
pub const FEATURE_VERSION: u32 = 3;

/// How many periods, and how they grow.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSpec {
    /// The number of past periods.
    pub periods: usize,
    /// The length of the most recent period, in bars.
    pub first_period_bars: usize,
    /// Each older period is this many times longer (1.0: all equal).
    pub growth: f64,
    /// External series appended after the price block (empty: price and volume only).
    pub series: Vec<String>,
    /// The scale-free price block and its five extra values (see the module's documentation).
    pub scaled: bool,
    /// The coins of the cross-section block, by ticker (empty: no block; see the module's
    /// documentation).
    pub market: Vec<String>,
}

/// The values the cross-section block adds for each lookback.
pub const MARKET_VALUES: [&str; 5] = ["btc_ret", "mkt_ret", "rel_btc", "rel_mkt", "xs_rank"];

/// The values a scaled spec adds after the price block.
pub const SCALED_EXTRAS: [&str; 5] = ["vol_regime", "hour_sin", "hour_cos", "dow_sin", "dow_cos"];

/// A volatility below this is taken as this (a window without moves).
const MIN_VOLATILITY: f64 = 1e-6;

impl FeatureSpec {
    /// The length in bars of each period, most recent first; never shorter than the one before.
    pub fn period_lengths(&self) -> Vec<usize> {
        let mut lengths: Vec<usize> = Vec::with_capacity(self.periods);
        for k in 0..self.periods {
            let len = (self.first_period_bars as f64 * self.growth.powi(k as i32))
                .round()
                .max(1.0) as usize;
            let floor = lengths.last().copied().unwrap_or(1);
            lengths.push(len.max(floor));
        }
        lengths
    }

    /// How many bars a sample needs: the current one plus every period.
    pub fn lookback_bars(&self) -> usize {
        1 + self.period_lengths().iter().sum::<usize>()
    }

    /// The two lookbacks of the cross-section block, in bars: the current bar, and the current bar
    /// with the first two periods (at most the window's span: the sum of every period).
    pub fn market_lookbacks(&self) -> [usize; 2] {
        let lengths = self.period_lengths();
        let longer = 1 + lengths.iter().take(2).sum::<usize>();
        // Never past the window's first bar.
        [1, longer.min(lengths.iter().sum::<usize>()).max(1)]
    }

    /// The ordered feature names, as a model card records them.
    pub fn names(&self) -> Vec<String> {
        let z = if self.scaled { "_z" } else { "" };
        let block = |prefix: &str| {
            ["ret", "high", "low"]
                .map(|what| format!("{prefix}_{what}{z}"))
                .into_iter()
                .chain([format!("{prefix}_relvol")])
        };
        let mut names: Vec<String> = block("cur").collect();
        for k in 1..=self.periods {
            names.extend(block(&format!("p{k}")));
        }
        if self.scaled {
            names.extend(SCALED_EXTRAS.map(String::from));
        }
        if !self.market.is_empty() {
            for bars in self.market_lookbacks() {
                names.extend(MARKET_VALUES.map(|v| format!("{v}_{bars}b")));
            }
        }
        names.extend(series::feature_names(&self.series));
        names
    }
}

/// The features of the last bar of `window` (the bar that has just closed at prediction time),
/// or `None` when the window is shorter than the spec needs or has a hole (bars must be exactly
/// `interval_s` apart: gaps are never bridged silently).
pub fn features(spec: &FeatureSpec, window: &[Bar], interval_s: i64) -> Option<Vec<f32>> {
    features_with(spec, window, interval_s, &SeriesSet::default(), None)
}

/// The coins' base bars a cross-section block reads: for each coin, one or more parts (base bars of
/// one interval, oldest first; where parts overlap, the first added that holds a bar is read).
/// Borrowed, so training, evaluation and the engine read the bars where they already are. The block
/// reads every coin held (but the sample's own): hold only those the spec names ([`Self::only`]).
#[derive(Debug, Clone, Default)]
pub struct CrossSection<'a> {
    members: Vec<(Coin, Vec<Part<'a>>)>,
}

/// Base bars of one interval (seconds), oldest first.
type Part<'a> = (&'a [Bar], i64);

/// A cross-section of `(coin, base bars, base_s)` parts, as [`CrossSection::add`] adds them.
impl<'a> FromIterator<(Coin, &'a [Bar], i64)> for CrossSection<'a> {
    fn from_iter<I: IntoIterator<Item = (Coin, &'a [Bar], i64)>>(parts: I) -> Self {
        let mut cross = CrossSection::default();
        for (coin, bars, base_s) in parts {
            cross.add(coin, bars, base_s);
        }
        cross
    }
}

impl<'a> CrossSection<'a> {
    /// Adds a part of `coin`'s base bars of `base_s`. The coins are kept in ticker order, so the
    /// block's sums are the same whatever order they were added in.
    pub fn add(&mut self, coin: Coin, bars: &'a [Bar], base_s: i64) {
        match self.members.iter_mut().find(|m| m.0 == coin) {
            Some(m) => m.1.push((bars, base_s)),
            None => {
                let at = self.members.partition_point(|m| m.0.ticker() < coin.ticker());
                self.members.insert(at, (coin, vec![(bars, base_s)]));
            }
        }
    }

    /// The same bars, of the coins named in `tickers` only.
    pub fn only(&self, tickers: &[String]) -> CrossSection<'a> {
        CrossSection {
            members: self
                .members
                .iter()
                .filter(|m| tickers.iter().any(|t| t == m.0.ticker()))
                .cloned()
                .collect(),
        }
    }

    /// `coin`'s log return from the close of its real base bar closing at `t - span_s` to the one
    /// closing at `t`, when both are held (and positive).
    pub fn log_return(&self, coin: &str, t: i64, span_s: i64) -> Option<f64> {
        let (_, parts) = self.members.iter().find(|m| m.0.ticker() == coin)?;
        member_return(parts, t, span_s)
    }

    /// Every held coin's log return over `span_s` to `t` but `skip`'s (those it can be computed
    /// for), and BTC's among them.
    fn returns(&self, skip: Coin, t: i64, span_s: i64) -> (Vec<f64>, Option<f64>) {
        let mut btc = None;
        let mut out = Vec::with_capacity(self.members.len());
        for (coin, parts) in self.members.iter().filter(|m| m.0 != skip) {
            if let Some(r) = member_return(parts, t, span_s) {
                if *coin == Coin::BTC {
                    btc = Some(r);
                }
                out.push(r);
            }
        }
        (out, btc)
    }
}

/// The log return of one coin's parts over `span_s` to `t` (see [`CrossSection::log_return`]).
fn member_return(parts: &[Part<'_>], t: i64, span_s: i64) -> Option<f64> {
    let close = |at: i64| {
        parts
            .iter()
            .find_map(|(bars, base_s)| closing_at_fast(bars, *base_s, at))
            .map(|b| b.close)
            .filter(|c| c.is_finite() && *c > 0.0)
    };
    Some((close(t)? / close(t - span_s)?).ln())
}

/// [`crate::bars::closing_at`] that looks first where the bar would be without gaps (base bars are
/// mostly gap-free: one step instead of a search per other coin and row).
fn closing_at_fast(bars: &[Bar], base_s: i64, t: i64) -> Option<&Bar> {
    let open = t - base_s;
    let first = bars.first()?;
    if base_s > 0 && open >= first.ts {
        let guess = usize::try_from((open - first.ts) / base_s).ok()?;
        if let Some(b) = bars.get(guess).filter(|b| b.ts == open) {
            return Some(b);
        }
    }
    crate::bars::closing_at(bars, base_s, t)
}

/// The coin a sample is for and the cross-section around it (see [`CrossSection`]).
#[derive(Debug, Clone, Copy)]
pub struct Market<'a> {
    pub coin: Coin,
    pub cross: &'a CrossSection<'a>,
}

/// [`features`] with the external series a spec names, read as known at the prediction time (the
/// close of the last bar), and the cross-section its `market` block reads (`None`: no
/// cross-section). `None` when any of them is missing there.
pub fn features_with(
    spec: &FeatureSpec,
    window: &[Bar],
    interval_s: i64,
    set: &SeriesSet,
    market: Option<Market<'_>>,
) -> Option<Vec<f32>> {
    let need = spec.lookback_bars();
    if window.len() < need {
        return None;
    }
    let bars = &window[window.len() - need..];
    let span = bars.last()?.ts - bars.first()?.ts;
    if span != (need as i64 - 1) * interval_s {
        return None;
    }
    let cur = bars.last()?;
    let window_volume = mean_volume(bars);
    // Unscaled: a scale of 1 for every block (dividing by 1.0 changes no value).
    let window_volatility = if spec.scaled {
        volatility(bars).max(MIN_VOLATILITY)
    } else {
        1.0
    };
    let scale = |len: usize| {
        if spec.scaled {
            window_volatility * (len as f64).sqrt()
        } else {
            1.0
        }
    };
    let mut out = Vec::with_capacity(4 * (1 + spec.periods) + SCALED_EXTRAS.len());
    push_block(&mut out, std::slice::from_ref(cur), window_volume, scale(1));
    let mut end = bars.len() - 1;
    for len in spec.period_lengths() {
        push_block(&mut out, &bars[end - len..end], window_volume, scale(len));
        end -= len;
    }
    if spec.scaled {
        let recent = &bars[bars.len() - (bars.len() / 4).max(4).min(bars.len())..];
        out.push((volatility(recent).max(MIN_VOLATILITY) / window_volatility).ln() as f32);
        out.extend(calendar(cur.ts + interval_s));
    }
    if !spec.market.is_empty() {
        out.extend(market_block(spec, bars, interval_s, market?, scale)?);
    }
    if !spec.series.is_empty() {
        out.extend(series::features_at(&spec.series, set, cur.ts + interval_s)?);
    }
    out.iter().all(|v| v.is_finite()).then_some(out)
}

/// The cross-section block of a window (gap-free, `interval_s` apart, ending at the prediction
/// time): see the module's documentation. `scale(bars)` is the price block's divisor for a block
/// of that many bars.
fn market_block(
    spec: &FeatureSpec,
    bars: &[Bar],
    interval_s: i64,
    market: Market<'_>,
    scale: impl Fn(usize) -> f64,
) -> Option<Vec<f32>> {
    let t = bars.last()?.ts + interval_s;
    let own = market.coin.ticker();
    let named_others = spec.market.iter().filter(|c| *c != own).count();
    let mut out = Vec::with_capacity(2 * MARKET_VALUES.len());
    for lookback in spec.market_lookbacks() {
        let (now, then) = (
            bars.last()?.close,
            bars.get(bars.len().checked_sub(1 + lookback)?)?.close,
        );
        if !(now > 0.0 && then > 0.0) {
            return None;
        }
        let mine = (now / then).ln();
        let span_s = lookback as i64 * interval_s;
        let (others, btc) = market.cross.returns(market.coin, t, span_s);
        if others.len() < named_others.div_ceil(2).max(1) {
            return None;
        }
        let btc = if market.coin == Coin::BTC { mine } else { btc? };
        let mean = (others.iter().sum::<f64>() + mine) / (others.len() + 1) as f64;
        let below = others.iter().filter(|r| **r < mine).count() as f64
            + 0.5 * others.iter().filter(|r| **r == mine).count() as f64;
        let s = scale(lookback);
        out.extend([
            btc as f32,
            mean as f32,
            ((mine - btc) / s) as f32,
            ((mine - mean) / s) as f32,
            (below / others.len() as f64 - 0.5) as f32,
        ]);
    }
    Some(out)
}

/// The standard deviation of the close-to-close log returns of consecutive `bars` (0 with fewer
/// than three bars or a price that is not positive).
fn volatility(bars: &[Bar]) -> f64 {
    let r: Vec<f64> = bars
        .windows(2)
        .filter(|w| w[0].close > 0.0 && w[1].close > 0.0)
        .map(|w| (w[1].close / w[0].close).ln())
        .collect();
    if r.len() < 2 {
        return 0.0;
    }
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    (r.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (r.len() - 1) as f64).sqrt()
}

/// The hour of day and the day of week (Monday first) of `t` (Unix seconds, UTC), each as sine
/// and cosine of its angle on its cycle.
fn calendar(t: i64) -> [f32; 4] {
    use std::f64::consts::TAU;
    let hour = t.rem_euclid(86_400) as f64 / 3600.0;
    // 1970-01-01 was a Thursday: day 0 is weekday 3 counting Monday as 0.
    let weekday = (t.div_euclid(86_400) + 3).rem_euclid(7) as f64 + hour / 24.0;
    let (h, d) = (TAU * hour / 24.0, TAU * weekday / 7.0);
    [h.sin() as f32, h.cos() as f32, d.sin() as f32, d.cos() as f32]
}

/// Return, high, low (relative to the first open, divided by `scale`) and relative volume of
/// consecutive bars.
fn push_block(out: &mut Vec<f32>, bars: &[Bar], window_volume: f64, scale: f64) {
    let (Some(first), Some(last)) = (bars.first(), bars.last()) else {
        return;
    };
    let s = first.open;
    let high = bars.iter().map(|b| b.high).fold(f64::MIN, f64::max);
    let low = bars.iter().map(|b| b.low).fold(f64::MAX, f64::min);
    out.extend([
        ((last.close - s) / s / scale) as f32,
        ((high - s) / s / scale) as f32,
        ((low - s) / s / scale) as f32,
        relative_volume(mean_volume(bars), window_volume) as f32,
    ]);
}

fn mean_volume(bars: &[Bar]) -> f64 {
    bars.iter().map(|b| b.volume).sum::<f64>() / bars.len().max(1) as f64
}

/// `ln((v + 0.01 w) / (1.01 w))`: 0 when a block trades at the window's mean `w`, about -4.6
/// when it does not trade at all, and the same for any unit or exchange (scale-free). 0 for a
/// window without any volume.
fn relative_volume(v: f64, w: f64) -> f64 {
    if w > 0.0 {
        ((v + 0.01 * w) / (1.01 * w)).ln()
    } else {
        0.0
    }
}

/// The label of bar `i`: UP when the close `horizon_bars` later is above bar `i`'s close. `None`
/// when that bar is missing (a hole, or past the end).
pub fn label(bars: &[Bar], i: usize, horizon_bars: usize, interval_s: i64) -> Option<bool> {
    let now = bars.get(i)?;
    let later = bars.get(i + horizon_bars)?;
    if later.ts - now.ts != horizon_bars as i64 * interval_s {
        return None;
    }
    crate::label_up(now.close, later.close)
}

/// The simple return from bar `i`'s close to the close `horizon_bars` later (what a position opened
/// at the prediction time and held for the horizon makes before costs), aligned exactly as
/// [`label`]: `None` when that bar is missing or either price is not positive and finite.
pub fn forward_return(bars: &[Bar], i: usize, horizon_bars: usize, interval_s: i64) -> Option<f64> {
    let now = bars.get(i)?;
    let later = bars.get(i + horizon_bars)?;
    if later.ts - now.ts != horizon_bars as i64 * interval_s {
        return None;
    }
    crate::label_up(now.close, later.close)?;
    Some(later.close / now.close - 1.0)
}

/// The return of the bar that has just closed at bar `i`: close to close from the bar before when
/// that bar is there (always, for a row with features: every window is gap-free and at least two
/// bars long), else the bar's own open to close.
pub fn last_bar_return(bars: &[Bar], i: usize, interval_s: i64) -> Option<f64> {
    let now = bars.get(i)?;
    let from = match i.checked_sub(1).and_then(|j| bars.get(j)) {
        Some(prev) if now.ts - prev.ts == interval_s => prev.close,
        _ => now.open,
    };
    (from.is_finite() && from > 0.0 && now.close.is_finite()).then(|| now.close / from - 1.0)
}

/// Samples for training or evaluation, in time order.
///
/// Beside the features and the label, each row keeps what the baselines and the strategy
/// evaluation need and the model never sees: the return of the bar that closed at the prediction
/// time (`last_ret`: the momentum and reversal rules) and the realized return over the horizon
/// (`fwd_ret`: the label's own prices), and what a bot following the signal earns before costs
/// (`fill_ret`: `models::fills`' rule, from the open of the first candle after publication).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// One feature row per sample.
    pub x: Vec<Vec<f32>>,
    /// UP (true) or DOWN.
    pub y: Vec<bool>,
    /// Prediction time of each sample: the close of its bar, Unix seconds.
    pub ts: Vec<i64>,
    /// The return of the last closed bar at the prediction time (see [`last_bar_return`]). Not a
    /// feature.
    pub last_ret: Vec<f64>,
    /// The simple return over the horizon from the prediction time (see [`forward_return`]); its
    /// sign is the label. Not a feature.
    pub fwd_ret: Vec<f64>,
    /// The return of a position a bot takes on the prediction: entered at the open of the first
    /// base candle opening at or after the prediction is published (`fills::PUBLISH_DELAY_S`
    /// after its time), closed at the open of the first candle at or after the entry plus the
    /// horizon (`models::fills`). NaN where the data ends first (no trade). Not a feature.
    pub fill_ret: Vec<f64>,
}

/// Where a data set's rows come from: base bars (oldest first) of one interval, the model's bar
/// size, and the spacing of the prediction times (see [`crate::bars::anchor_step`]).
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    pub base: &'a [Bar],
    pub base_s: i64,
    pub bar_s: i64,
    pub anchor_s: i64,
    pub horizon_s: i64,
    /// The coin and its cross-section, for a spec with a `market` block (`None`: no such block).
    pub market: Option<Market<'a>>,
}

impl Dataset {
    /// Every bar of `bars` (already of the model's size) with full features and a known label.
    pub fn build(spec: &FeatureSpec, bars: &[Bar], interval_s: i64, horizon_bars: usize) -> Dataset {
        Self::build_with(spec, bars, interval_s, horizon_bars, &SeriesSet::default())
    }

    /// [`Dataset::build`] with external series: rows at every bar close, the bars as base.
    pub fn build_with(
        spec: &FeatureSpec,
        bars: &[Bar],
        interval_s: i64,
        horizon_bars: usize,
        set: &SeriesSet,
    ) -> Dataset {
        let rows = Rows {
            base: bars,
            base_s: interval_s,
            bar_s: interval_s,
            anchor_s: interval_s,
            horizon_s: horizon_bars as i64 * interval_s,
            market: None,
        };
        Self::build_at(spec, rows, set)
    }

    /// The rows a model learns from: at every prediction time `t` on the anchor grid, the
    /// features of the bars ending at `t` (`crate::bars::bars_ending_at`, the same call the
    /// server's engine makes at `t`), labelled by the real base bar closing at `t + horizon`
    /// against the one closing at `t` (never a carried one). Times with no bars under the gap rule,
    /// or no real outcome, give no row.
    pub fn build_at(spec: &FeatureSpec, rows: Rows<'_>, set: &SeriesSet) -> Dataset {
        let mut data = Dataset::default();
        let (Some(first), Some(last)) = (rows.base.first(), rows.base.last()) else {
            return data;
        };
        let step = rows.anchor_s.max(1);
        let need = spec.lookback_bars();
        let earliest = first.ts + need as i64 * rows.bar_s;
        let mut t = earliest.div_euclid(step) * step;
        if t < earliest {
            t += step;
        }
        let end = last.ts + rows.base_s - rows.horizon_s;
        while t <= end {
            if let Some(row) = row_at(spec, rows, set, need, t) {
                data.x.push(row.0);
                data.y.push(row.1);
                data.ts.push(t);
                data.last_ret.push(row.2);
                data.fwd_ret.push(row.3);
                data.fill_ret.push(fill_return(rows.base, t, rows.horizon_s));
            }
            t += step;
        }
        data
    }

    /// The samples whose prediction time passes `keep`, in order.
    pub fn filter(&self, keep: impl Fn(i64) -> bool) -> Dataset {
        let mut out = Dataset::default();
        for i in 0..self.len() {
            if keep(self.ts[i]) {
                out.x.push(self.x[i].clone());
                out.y.push(self.y[i]);
                out.ts.push(self.ts[i]);
                out.last_ret.push(self.last_ret[i]);
                out.fwd_ret.push(self.fwd_ret[i]);
                out.fill_ret
                    .push(self.fill_ret.get(i).copied().unwrap_or(f64::NAN));
            }
        }
        out
    }

    /// Data sets of several parts in one, in time order: a row of a later part is left out where
    /// an earlier part (a finer base) has rows around its time (within the earlier part's span).
    pub fn merge(parts: Vec<Dataset>) -> Dataset {
        let mut spans: Vec<(i64, i64)> = Vec::new();
        let mut rows: Vec<(i64, usize, usize)> = Vec::new();
        for (p, part) in parts.iter().enumerate() {
            let (Some(&lo), Some(&hi)) = (part.ts.first(), part.ts.last()) else {
                continue;
            };
            for (i, &t) in part.ts.iter().enumerate() {
                if !spans.iter().any(|&(a, b)| a <= t && t <= b) {
                    rows.push((t, p, i));
                }
            }
            spans.push((lo, hi));
        }
        rows.sort_by_key(|&(t, p, _)| (t, p));
        rows.dedup_by_key(|r| r.0);
        let mut out = Dataset::default();
        for (_, p, i) in rows {
            let d = &parts[p];
            out.x.push(d.x[i].clone());
            out.y.push(d.y[i]);
            out.ts.push(d.ts[i]);
            out.last_ret.push(d.last_ret[i]);
            out.fwd_ret.push(d.fwd_ret[i]);
            out.fill_ret.push(d.fill_ret.get(i).copied().unwrap_or(f64::NAN));
        }
        out
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
}

/// One row at `t`: features, label, last bar's return and the forward return.
/// What a bot following a prediction made at `t` earns before costs on `base` candles (oldest
/// first, each `ts` its open): from the open of the first candle opening at or after publication
/// to the open of the first at or after the entry plus `horizon_s` (`models::fills`); NaN when the
/// data ends first.
pub fn fill_return(base: &[Bar], t: i64, horizon_s: i64) -> f64 {
    let first_from = |at: i64| base.get(base.partition_point(|b| b.ts < at));
    let Some(entry) = first_from(t + crate::fills::PUBLISH_DELAY_S) else {
        return f64::NAN;
    };
    match first_from(entry.ts + horizon_s) {
        Some(exit) if entry.open > 0.0 => exit.open / entry.open - 1.0,
        _ => f64::NAN,
    }
}

fn row_at(
    spec: &FeatureSpec,
    rows: Rows<'_>,
    set: &SeriesSet,
    need: usize,
    t: i64,
) -> Option<(Vec<f32>, bool, f64, f64)> {
    let later = crate::bars::closing_at(rows.base, rows.base_s, t + rows.horizon_s)?;
    let bars = crate::bars::bars_ending_at(rows.base, rows.base_s, rows.bar_s, need, t).ok()?;
    let now = bars.last()?;
    let y = crate::label_up(now.close, later.close)?;
    let x = features_with(spec, &bars, rows.bar_s, set, rows.market)?;
    let last = last_bar_return(&bars, bars.len() - 1, rows.bar_s)?;
    Some((x, y, last, later.close / now.close - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(ts: i64, open: f64, high: f64, low: f64, close: f64, volume: f64) -> Bar {
        Bar {
            ts,
            open,
            high,
            low,
            close,
            volume,
        }
    }

    /// Seven hourly bars, worked by hand below.
    fn bars() -> Vec<Bar> {
        vec![
            bar(0, 100.0, 104.0, 99.0, 102.0, 10.0),
            bar(3600, 102.0, 103.0, 98.0, 99.0, 20.0),
            bar(7200, 99.0, 101.0, 97.0, 100.0, 30.0),
            bar(10800, 100.0, 110.0, 100.0, 108.0, 40.0),
            bar(14400, 108.0, 109.0, 105.0, 106.0, 10.0),
            bar(18000, 106.0, 107.0, 103.0, 104.0, 0.0),
            bar(21600, 104.0, 104.0, 95.0, 96.0, 5.0),
        ]
    }

    fn spec() -> FeatureSpec {
        // periods of 2 and 4 bars: the current bar + 2 + 4 = 7 bars.
        FeatureSpec {
            periods: 2,
            first_period_bars: 2,
            growth: 2.0,
            series: vec![],
            scaled: false,
            market: vec![],
        }
    }

    /// Hourly bars of another coin with these closes, opening at 0, 3600, ...
    fn closes(values: &[f64]) -> Vec<Bar> {
        values
            .iter()
            .enumerate()
            .map(|(i, &c)| bar(i as i64 * 3600, c, c, c, c, 1.0))
            .collect()
    }

    /// The cross-section block of ETH (the seven bars above, closes 102 ... 104, 96) among BTC and
    /// SOL, worked by hand: lookbacks of 1 bar and 6 (1 + 2 + 4, capped at the window's span).
    #[test]
    fn the_cross_section_block_matches_a_hand_computed_example() {
        let spec = FeatureSpec {
            market: vec!["BTC".into(), "ETH".into(), "SOL".into()],
            ..spec()
        };
        assert_eq!(spec.market_lookbacks(), [1, 6]);
        let btc = closes(&[100.0, 101.0, 102.0, 103.0, 104.0, 105.0, 110.0]);
        let sol = closes(&[60.0, 50.0, 50.0, 50.0, 50.0, 49.0, 51.0]);
        let eth = bars();
        fn cross_of<'a>(parts: &[(Coin, &'a [Bar])]) -> CrossSection<'a> {
            parts.iter().map(|&(coin, bars)| (coin, bars, 3600)).collect()
        }
        let block_of = |coin: Coin, own: &[Bar], cross: &CrossSection| {
            features_with(
                &spec,
                own,
                3600,
                &SeriesSet::default(),
                Some(Market { coin, cross }),
            )
        };
        let f = block_of(
            Coin::ETH,
            &eth,
            &cross_of(&[(Coin::BTC, &btc), (Coin::SOL, &sol)]),
        )
        .unwrap();
        let names = spec.names();
        assert_eq!(f.len(), names.len());
        let block = &f[12..];
        let ln = f64::ln;
        // One bar: ETH 104 -> 96, BTC 105 -> 110, SOL 49 -> 51: ETH is the lowest.
        let (mine, b, s) = (ln(96.0 / 104.0), ln(110.0 / 105.0), ln(51.0 / 49.0));
        let mean = (mine + b + s) / 3.0;
        // Six bars: ETH 102 -> 96, BTC 100 -> 110, SOL 60 -> 51: ETH is between them.
        let (mine6, b6, s6) = (ln(96.0 / 102.0), ln(110.0 / 100.0), ln(51.0 / 60.0));
        let mean6 = (mine6 + b6 + s6) / 3.0;
        let expected = [
            b,
            mean,
            mine - b,
            mine - mean,
            -0.5,
            b6,
            mean6,
            mine6 - b6,
            mine6 - mean6,
            0.0,
        ];
        for (i, (got, want)) in block.iter().zip(expected).enumerate() {
            assert!(
                (f64::from(*got) - want).abs() < 1e-6,
                "{}: {got} != {want}",
                names[12 + i]
            );
        }
        // The same coins added in another order, or among coins the spec does not name, held
        // only for it: the same bits.
        let doge = closes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        let wider = cross_of(&[(Coin::SOL, &sol), (Coin::DOGE, &doge), (Coin::BTC, &btc)]);
        assert_eq!(
            block_of(Coin::ETH, &eth, &wider.only(&spec.market)),
            Some(f.clone())
        );
        assert_eq!(names[12], "btc_ret_1b");
        assert_eq!(names[21], "xs_rank_6b");
        // Without SOL, BTC alone is half of the two others: still a sample.
        assert!(block_of(Coin::ETH, &eth, &cross_of(&[(Coin::BTC, &btc)])).is_some());
        // Without BTC, or without any cross-section, none.
        assert!(block_of(Coin::ETH, &eth, &cross_of(&[(Coin::SOL, &sol)])).is_none());
        assert!(features_with(&spec, &eth, 3600, &SeriesSet::default(), None).is_none());
        // BTC's own block: its return relative to BTC is 0.
        let f = block_of(
            Coin::BTC,
            &btc,
            &cross_of(&[(Coin::ETH, &eth), (Coin::SOL, &sol)]),
        )
        .unwrap();
        assert_eq!((f[12], f[14]), (b as f32, 0.0));
    }

    /// A bot's fill on hand-made hourly candles: published 5 s after 3600, it enters at the next
    /// candle's open (7200: 99) and exits at the open one hour later (10800: 100).
    #[test]
    fn a_fill_enters_at_the_next_open_after_publication() {
        let b = bars();
        let r = fill_return(&b, 3600, 3600);
        assert!((r - (100.0 / 99.0 - 1.0)).abs() < 1e-12, "{r}");
        // A prediction at the last candle's open has no later candle to exit at: no trade.
        assert!(fill_return(&b, 18000, 3600).is_nan());
        // It is not the close-to-close return the label uses (102 at 3600 to 99 at 7200: down).
        let label = 99.0 / 102.0 - 1.0;
        assert!(r > 0.0 && label < 0.0);
    }

    #[test]
    fn features_match_a_hand_computed_example() {
        let b = bars();
        let f = features(&spec(), &b, 3600).unwrap();
        // The window's mean volume: (10 + 20 + 30 + 40 + 10 + 0 + 5) / 7.
        let w = 115.0 / 7.0;
        let rel = |v: f64| ((v + 0.01 * w) / (1.01 * w)).ln();
        let expected = [
            // current bar 6: open 104, high 104, low 95, close 96, volume 5
            -8.0 / 104.0,
            0.0,
            -9.0 / 104.0,
            rel(5.0),
            // period 1 = bars 4..6: S = 108, F = 104, high 109, low 103, mean volume 5
            -4.0 / 108.0,
            1.0 / 108.0,
            -5.0 / 108.0,
            rel(5.0),
            // period 2 = bars 0..4: S = 100, F = 108, high 110, low 97, mean volume 25
            0.08,
            0.10,
            -0.03,
            rel(25.0),
        ];
        assert_eq!(f.len(), expected.len());
        for (i, (got, want)) in f.iter().zip(expected).enumerate() {
            assert!(
                (f64::from(*got) - want).abs() < 1e-6,
                "feature {} ({}): {got} != {want}",
                i,
                spec().names()[i]
            );
        }
        assert_eq!(spec().names().len(), f.len());
        assert_eq!(spec().names()[4], "p1_ret");
    }

    #[test]
    fn volume_features_do_not_depend_on_the_volume_scale() {
        let b = bars();
        let f = features(&spec(), &b, 3600).unwrap();
        // Another exchange (or year) trading ten times as much, in other units: the same features.
        let scaled: Vec<Bar> = b
            .iter()
            .map(|x| Bar {
                volume: x.volume * 10.0,
                ..*x
            })
            .collect();
        let g = features(&spec(), &scaled, 3600).unwrap();
        for (i, (a, c)) in f.iter().zip(&g).enumerate() {
            assert!((a - c).abs() < 1e-6, "feature {i}: {a} vs {c}");
        }
        // A window without any trade gives zeros, not NaN (the row is kept).
        let silent: Vec<Bar> = b.iter().map(|x| Bar { volume: 0.0, ..*x }).collect();
        let z = features(&spec(), &silent, 3600).unwrap();
        assert_eq!([z[3], z[7], z[11]], [0.0, 0.0, 0.0]);
        assert_eq!(spec().names()[3], "cur_relvol");
    }

    #[test]
    fn short_or_holed_windows_give_no_features() {
        let b = bars();
        assert!(features(&spec(), &b[1..], 3600).is_none(), "too short");
        let mut holed = b.clone();
        holed[0].ts -= 3600;
        assert!(features(&spec(), &holed, 3600).is_none(), "a hole");
    }

    #[test]
    fn future_bars_never_move_past_features() {
        let mut long = bars();
        for k in 7..20 {
            long.push(bar(k * 3600, 96.0, 97.0, 95.0, 96.5, 1.0));
        }
        let before: Vec<_> = (0..long.len())
            .map(|i| features(&spec(), &long[..=i], 3600))
            .collect();
        let data_before = Dataset::build(&spec(), &long, 3600, 1);
        // Change everything from bar 12 on.
        for b in &mut long[12..] {
            b.close *= 3.0;
            b.high *= 3.0;
            b.volume += 1000.0;
        }
        for i in 0..12 {
            assert_eq!(features(&spec(), &long[..=i], 3600), before[i], "bar {i}");
        }
        let data_after = Dataset::build(&spec(), &long, 3600, 1);
        // Rows whose features and label end before bar 12 are unchanged.
        let unchanged = data_before.ts.iter().filter(|&&t| t + 3600 <= 12 * 3600).count();
        assert!(unchanged > 0);
        assert_eq!(data_before.x[..unchanged], data_after.x[..unchanged]);
        assert_eq!(data_before.y[..unchanged], data_after.y[..unchanged]);
    }

    #[test]
    fn labels_compare_with_the_close_horizon_bars_later() {
        let b = bars();
        assert_eq!(label(&b, 0, 1, 3600), Some(false)); // 102 -> 99
        assert_eq!(label(&b, 1, 2, 3600), Some(true)); // 99 -> 108
        assert_eq!(label(&b, 5, 2, 3600), None); // past the end
        let mut holed = b.clone();
        holed[3].ts += 60;
        assert_eq!(label(&holed, 2, 1, 3600), None);
        let data = Dataset::build(&spec(), &b, 3600, 1);
        assert!(data.is_empty(), "the only bar with features has no next bar");
    }

    #[test]
    fn rows_keep_the_last_bar_and_the_forward_return_out_of_the_features() {
        let b = bars();
        // Bar 2 closes at 100 after 99: the last bar rose by 1/99; two bars later 106: +6%.
        assert!((last_bar_return(&b, 2, 3600).unwrap() - 1.0 / 99.0).abs() < 1e-12);
        assert!((forward_return(&b, 2, 2, 3600).unwrap() - 0.06).abs() < 1e-12);
        assert_eq!(
            forward_return(&b, 5, 2, 3600),
            None,
            "past the end, like the label"
        );
        // The first bar has no bar before it: its own open to close.
        assert!((last_bar_return(&b, 0, 3600).unwrap() - 0.02).abs() < 1e-12);
        let short = FeatureSpec {
            periods: 1,
            first_period_bars: 1,
            growth: 1.0,
            series: vec![],
            scaled: false,
            market: vec![],
        };
        let data = Dataset::build(&short, &b, 3600, 1);
        assert_eq!(data.len(), 5, "bars 1..=5 have features and a next bar");
        assert_eq!(
            data.x[0].len(),
            short.names().len(),
            "nothing added to the features"
        );
        for (k, i) in (1..=5).enumerate() {
            assert_eq!(
                data.fwd_ret[k] > 0.0,
                data.y[k],
                "the label is the forward return's sign"
            );
            assert_eq!(data.last_ret[k], last_bar_return(&b, i, 3600).unwrap());
        }
        let kept = data.filter(|t| t >= 3 * 3600);
        assert_eq!((kept.len(), kept.last_ret.len(), kept.fwd_ret.len()), (4, 4, 4));
    }

    #[test]
    fn scaled_features_ignore_the_price_level_and_know_the_time() {
        let b = bars();
        let z = FeatureSpec {
            scaled: true,
            market: vec![],
            ..spec()
        };
        let f = features(&z, &b, 3600).unwrap();
        let names = z.names();
        assert_eq!(f.len(), names.len());
        assert_eq!(names[0], "cur_ret_z");
        assert_eq!(names[3], "cur_relvol");
        // Every price a thousand times higher (another coin's level): the same features.
        let k: Vec<Bar> = b
            .iter()
            .map(|x| Bar {
                open: x.open * 1000.0,
                high: x.high * 1000.0,
                low: x.low * 1000.0,
                close: x.close * 1000.0,
                ..*x
            })
            .collect();
        let g = features(&z, &k, 3600).unwrap();
        for (a, b) in f.iter().zip(&g) {
            assert!((a - b).abs() < 1e-4, "{f:?} vs {g:?}");
        }
        // The last bar closes at 25,200 s: 07:00 on Thursday 1 January 1970 (weekday 3 from Monday).
        let at = |name: &str| f[names.iter().position(|n| n == name).unwrap()];
        let hour = std::f64::consts::TAU * 7.0 / 24.0;
        let day = std::f64::consts::TAU * (3.0 + 7.0 / 24.0) / 7.0;
        assert!((at("hour_sin") - hour.sin() as f32).abs() < 1e-6);
        assert!((at("hour_cos") - hour.cos() as f32).abs() < 1e-6);
        assert!((at("dow_sin") - day.sin() as f32).abs() < 1e-6);
        assert!((at("dow_cos") - day.cos() as f32).abs() < 1e-6);
        // The unscaled block is the scaled one times each block's scale: the returns divided by
        // the window's volatility.
        let plain = features(&spec(), &b, 3600).unwrap();
        assert!(plain[0] / f[0] > 0.0, "same sign");
        assert_eq!(plain[3], f[3], "relative volume is not scaled");
    }

    #[test]
    fn period_lengths_grow() {
        let s = FeatureSpec {
            periods: 4,
            first_period_bars: 3,
            growth: 1.5,
            series: vec![],
            scaled: false,
            market: vec![],
        };
        assert_eq!(s.period_lengths(), [3, 5, 7, 10]);
        assert_eq!(s.lookback_bars(), 26);
    }
}
