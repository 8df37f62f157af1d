//! The one bar builder: a model's bars, ending at the prediction time, from finer (or equal) base
//! bars, with the one gap rule. Training, evaluation, retraining and the server's engine all build
//! their bars here, so the engine computes at minute `t` exactly what training computed for a row
//! at `t`.
//!
//! - **Bars end at the prediction time.** A prediction at `t` (a multiple of the base interval)
//!   sees `n` bars of `bar_s` covering `[t - n * bar_s, t)`: the newest bar is always complete
//!   (it closes at `t`), so there is no "current, incomplete bar" to handle in either path. With
//!   hourly bars, a prediction at 10:15 sees 09:15-10:15, 08:15-09:15, ...; training makes its rows
//!   the same way at every anchor its base data resolves (`anchor_step`).
//! - **The one gap rule.** A missing base bar is carried forward from the previous close (open =
//!   high = low = close, volume 0) and flagged; a window with more than [`MAX_FILLED_SHARE`] of its
//!   base bars filled gives no bars. The base bar just before `t` must be real (else the data is
//!   stale), and a slot with nothing before it to carry is never invented. The server's read
//!   routes fill their charts' gaps with the same [`fill_gaps`].

use crate::history::Bar;

/// More than this share of carried-forward base bars in a window: no bars (no prediction, no row).
pub const MAX_FILLED_SHARE: f64 = 0.05;

/// How far before a window's first slot a previous close is looked for, to carry a gap at the
/// window's start forward (seconds).
pub const CARRY_S: i64 = 3600;

/// A bar as read back: `filled` is true when it was missing at the source and was carried forward
/// from the previous close (open = high = low = close = previous close, volume 0); an aggregate is
/// flagged when any of its parts was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadBar {
    pub bar: Bar,
    pub filled: bool,
}

/// Bars of `interval_s` from `from` (inclusive) to `to` (exclusive), aligned to the interval, one
/// per slot: a missing slot after the first real bar repeats the previous close, flagged. Slots
/// before the first real bar are left out (nothing to carry forward). `bars` are oldest first.
pub fn fill_gaps(bars: &[Bar], interval_s: i64, from: i64, to: i64) -> Vec<ReadBar> {
    let mut out = Vec::new();
    let mut it = bars.iter().peekable();
    let mut last_close: Option<f64> = None;
    let interval_s = interval_s.max(1);
    let mut slot = from.div_euclid(interval_s).saturating_mul(interval_s);
    if slot < from {
        slot = slot.saturating_add(interval_s);
    }
    while slot < to {
        while it.peek().is_some_and(|b| b.ts < slot) {
            last_close = it.next().map(|b| b.close);
        }
        match it.peek() {
            Some(b) if b.ts == slot => {
                out.push(ReadBar {
                    bar: **b,
                    filled: false,
                });
                last_close = Some(b.close);
                it.next();
            }
            _ => {
                if let Some(c) = last_close {
                    out.push(ReadBar {
                        bar: Bar {
                            ts: slot,
                            open: c,
                            high: c,
                            low: c,
                            close: c,
                            volume: 0.0,
                        },
                        filled: true,
                    });
                }
            }
        }
        let Some(next) = slot.checked_add(interval_s) else {
            break;
        };
        slot = next;
    }
    out
}

/// Aggregates consecutive read bars into buckets of `resolution_s` (a multiple of their interval):
/// open of the first, high and low over all, close of the last, volumes summed. A bucket is
/// flagged filled when any of its bars was.
pub fn resample_read(bars: &[ReadBar], resolution_s: i64) -> Vec<ReadBar> {
    let resolution_s = resolution_s.max(1);
    let mut out: Vec<ReadBar> = Vec::new();
    for rb in bars {
        let bucket = rb.bar.ts.div_euclid(resolution_s).saturating_mul(resolution_s);
        match out.last_mut() {
            Some(last) if last.bar.ts == bucket => {
                last.bar.high = last.bar.high.max(rb.bar.high);
                last.bar.low = last.bar.low.min(rb.bar.low);
                last.bar.close = rb.bar.close;
                last.bar.volume += rb.bar.volume;
                last.filled |= rb.filled;
            }
            _ => out.push(ReadBar {
                bar: Bar { ts: bucket, ..rb.bar },
                filled: rb.filled,
            }),
        }
    }
    out
}

/// A chart's bars of `resolution_s` over `[from, to)` (both multiples of it) from base bars of
/// `base_s` (minutes live, 5 minutes in a replay of 5-minute candles; oldest first; those in
/// `[from - CARRY_S, to)` are the chart's, and any after `to` only say how far the data goes):
/// gaps filled and flagged between stored bars, never past the newest one (that would invent
/// bars that have not happened or not arrived), a gap at the start carried from a bar at most
/// [`CARRY_S`] before `from`, then aggregated. The one read-time rule: the database read and the
/// server's in-memory bars both answer with it. `resolution_s` is a multiple of `base_s` (the
/// caller refuses finer ones).
pub fn chart_bars(base: &[Bar], base_s: i64, from: i64, to: i64, resolution_s: i64) -> Vec<ReadBar> {
    let lo = base.partition_point(|b| b.ts < from.saturating_sub(CARRY_S));
    let hi = base.partition_point(|b| b.ts < to);
    let bars = &base[lo..hi.max(lo)];
    let end = base.last().map_or(from, |b| to.min(b.ts.saturating_add(base_s)));
    let filled = fill_gaps(bars, base_s, from, end);
    if resolution_s == base_s {
        filled
    } else {
        resample_read(&filled, resolution_s)
    }
}

/// Why there are no bars at a prediction time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoBars {
    /// The bar size is not a whole number of base bars, or `t` is not on the base grid.
    Misaligned,
    /// No base bar before `t` at all.
    Empty,
    /// The base bar just before `t` is missing; `newest` is the newest one there is.
    Stale { newest: i64 },
    /// Fewer base bars (real or carried) than the window needs.
    TooLittle { have: usize, need: usize },
    /// More than [`MAX_FILLED_SHARE`] of the window's base bars were carried forward.
    Gaps { filled: usize, of: usize },
}

impl std::fmt::Display for NoBars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoBars::Misaligned => write!(f, "the bar size is not a whole number of base bars"),
            NoBars::Empty => write!(f, "no candles before the prediction time"),
            NoBars::Stale { newest } => write!(f, "stale data: the newest candle opened at {newest}"),
            NoBars::TooLittle { have, need } => write!(f, "too little history: {have} of {need}"),
            NoBars::Gaps { filled, of } => write!(f, "gaps: {filled} of {of} candles are missing"),
        }
    }
}

/// `n` bars of `bar_s` ending at `t` (the newest covers `[t - bar_s, t)`), aggregated from `base`
/// bars of `base_s` (oldest first; only those in `[t - n * bar_s - CARRY_S, t)` are read), under
/// the one gap rule (see the module).
pub fn bars_ending_at(base: &[Bar], base_s: i64, bar_s: i64, n: usize, t: i64) -> Result<Vec<Bar>, NoBars> {
    if base_s <= 0 || bar_s % base_s != 0 || t.rem_euclid(base_s) != 0 {
        return Err(NoBars::Misaligned);
    }
    let from = t - n as i64 * bar_s;
    let lo = base.partition_point(|b| b.ts < from - CARRY_S);
    let hi = base.partition_point(|b| b.ts < t);
    let window = &base[lo..hi];
    let Some(newest) = window.last() else {
        return Err(NoBars::Empty);
    };
    if newest.ts != t - base_s {
        return Err(NoBars::Stale { newest: newest.ts });
    }
    let need = (n as i64 * bar_s / base_s) as usize;
    let read = fill_gaps(window, base_s, from, t);
    if read.len() < need {
        return Err(NoBars::TooLittle {
            have: read.len(),
            need,
        });
    }
    let filled = read.iter().filter(|r| r.filled).count();
    if filled as f64 > MAX_FILLED_SHARE * need as f64 {
        return Err(NoBars::Gaps { filled, of: need });
    }
    let per = (bar_s / base_s) as usize;
    Ok(read
        .chunks(per)
        .enumerate()
        .map(|(j, chunk)| Bar {
            ts: from + j as i64 * bar_s,
            open: chunk[0].bar.open,
            high: chunk.iter().map(|r| r.bar.high).fold(f64::MIN, f64::max),
            low: chunk.iter().map(|r| r.bar.low).fold(f64::MAX, f64::min),
            close: chunk[chunk.len() - 1].bar.close,
            volume: chunk.iter().map(|r| r.bar.volume).sum(),
        })
        .collect())
}

/// The real base bar that closes at `t` (opens at `t - base_s`), if there is one.
pub fn closing_at(base: &[Bar], base_s: i64, t: i64) -> Option<&Bar> {
    let open = t - base_s;
    let i = base.partition_point(|b| b.ts < open);
    base.get(i).filter(|b| b.ts == open)
}

/// The spacing of training rows: the smallest step that is both a multiple of the engine's
/// prediction cadence (`cadence_s`) and of the base interval (so every row is a time the engine
/// predicts at, built from whole base bars).
pub fn anchor_step(cadence_s: i64, base_s: i64) -> i64 {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let (a, b) = (cadence_s.max(1), base_s.max(1));
    a / gcd(a, b) * b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(ts: i64, close: f64) -> Bar {
        Bar {
            ts,
            open: close - 0.5,
            high: close + 1.0,
            low: close - 1.0,
            close,
            volume: 2.0,
        }
    }

    fn minutes(n: i64) -> Vec<Bar> {
        (0..n).map(|i| minute(i * 60, 100.0 + i as f64)).collect()
    }

    #[test]
    fn bars_end_at_the_prediction_time_and_aggregate_their_minutes() {
        let base = minutes(60);
        // At t = 47 min: three 15-minute bars, 2-17, 17-32, 32-47.
        let bars = bars_ending_at(&base, 60, 900, 3, 47 * 60).unwrap();
        assert_eq!(bars.len(), 3);
        assert_eq!(bars[0].ts, 2 * 60);
        assert_eq!(bars[0].open, base[2].open);
        assert_eq!(bars[0].close, base[16].close);
        assert_eq!(bars[2].close, base[46].close, "the newest bar closes at t");
        assert_eq!(bars[1].high, base[31].high);
        assert_eq!(bars[1].low, base[17].low);
        assert_eq!(bars[1].volume, 30.0);
        // Equal base and bar size: the base bars themselves.
        let same = bars_ending_at(&base, 60, 60, 5, 10 * 60).unwrap();
        assert_eq!(same, base[5..10].to_vec());
    }

    #[test]
    fn the_one_gap_rule() {
        let mut base = minutes(120);
        // 100 minutes of window: 5 missing is allowed (5%), 6 is not.
        base.retain(|b| !(30..35).contains(&(b.ts / 60)));
        let bars = bars_ending_at(&base, 60, 600, 10, 120 * 60).unwrap();
        let gap = &bars[1]; // 30..40
        assert_eq!(gap.open, 129.0, "a gap repeats the previous close");
        assert_eq!(gap.volume, 10.0, "carried minutes trade nothing");
        base.retain(|b| b.ts / 60 != 50);
        assert_eq!(
            bars_ending_at(&base, 60, 600, 10, 120 * 60),
            Err(NoBars::Gaps { filled: 6, of: 100 })
        );
        // The minute before t must be real.
        let base = minutes(120);
        assert_eq!(
            bars_ending_at(&base[..118], 60, 600, 10, 120 * 60),
            Err(NoBars::Stale { newest: 117 * 60 })
        );
        // Nothing to carry before the first stored minute.
        assert_eq!(
            bars_ending_at(&base[30..], 60, 600, 10, 120 * 60),
            Err(NoBars::TooLittle { have: 90, need: 100 })
        );
        assert_eq!(bars_ending_at(&[], 60, 600, 10, 120 * 60), Err(NoBars::Empty));
        assert_eq!(
            bars_ending_at(&base, 60, 90, 10, 120 * 60),
            Err(NoBars::Misaligned)
        );
        assert_eq!(bars_ending_at(&base, 300, 600, 1, 90), Err(NoBars::Misaligned));
    }

    #[test]
    fn anchors_are_engine_times_on_the_base_grid() {
        assert_eq!(anchor_step(60, 300), 300);
        assert_eq!(anchor_step(900, 300), 900);
        assert_eq!(anchor_step(60, 3600), 3600);
        assert_eq!(anchor_step(900, 3600), 3600);
        assert_eq!(anchor_step(60, 60), 60);
        let base = minutes(10);
        assert_eq!(closing_at(&base, 60, 5 * 60).map(|b| b.ts), Some(4 * 60));
        assert!(closing_at(&base, 60, 11 * 60).is_none());
    }
}
