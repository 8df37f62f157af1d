//! Chart geometry: ranges and resolutions, the keyboard readout, projecting points into a
//! plot, value and time ticks, the frame of a chart and what lies under the pointer.

use super::*;

/// A chart range: its label, span in seconds, the resolution shown first, and the resolutions
/// offered (each gives between 24 and 2,880 bars: readable, and under the API's 5,000-bar cap).
pub const CHART_RANGES: [(&str, i64, &str, &[&str]); 4] = [
    ("6 h", 6 * 3600, "1m", &["1m", "5m", "15m"]),
    ("24 h", 86_400, "5m", &["1m", "5m", "15m", "1h"]),
    ("7 d", 7 * 86_400, "1h", &["5m", "15m", "1h"]),
    ("30 d", 30 * 86_400, "1h", &["15m", "1h", "1d"]),
];

/// A chart resolution's length in seconds (`None` for one the app does not offer).
pub fn resolution_seconds(resolution: &str) -> Option<i64> {
    Some(match resolution {
        "1m" => 60,
        "5m" => 300,
        "15m" => 900,
        "1h" => 3600,
        "1d" => 86_400,
        _ => return None,
    })
}

/// The resolutions a range offers where the server's finest candles are `finest_s` long (a
/// replay of 5-minute candles has no 1-minute bars).
pub fn chart_resolutions(range: usize, finest_s: i64) -> Vec<&'static str> {
    let (_, _, _, offered) = CHART_RANGES[range.min(CHART_RANGES.len() - 1)];
    offered
        .iter()
        .copied()
        .filter(|r| resolution_seconds(r).is_some_and(|s| s >= finest_s))
        .collect()
}

/// The resolution to ask for: the one chosen when the range offers it (on candles of
/// `finest_s`), else the range's default, else the finest it offers there.
pub fn chart_resolution(range: usize, chosen: Option<&'static str>, finest_s: i64) -> &'static str {
    let (_, _, default, _) = CHART_RANGES[range.min(CHART_RANGES.len() - 1)];
    let offered = chart_resolutions(range, finest_s);
    chosen
        .filter(|c| offered.contains(c))
        .or_else(|| offered.contains(&default).then_some(default))
        .or_else(|| offered.first().copied())
        .unwrap_or(default)
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
