//! Chart bars kept in memory, so `GET /api/prices` does no database work for the ranges people
//! look at.
//!
//! Each coin keeps its stored base candles (minutes live, the replay's 5-minute bars when it
//! replays those) of the last [`WINDOW_DAYS`] days and their rollups at 5 m, 15 m, 1 h and 1 d (the minutes gap-filled and aggregated with `models::bars`' one
//! rule). The published state's refresh (`http::published`) brings them up to date when the
//! data changes: it re-reads the newest [`TAIL_S`] of minutes (a minute a source corrected),
//! appends what is new, recomputes each rollup's bars from the first one that changed (so a new
//! minute updates each resolution's newest bar once), and at most every [`RECOUNT_EVERY_S`]
//! counts the older stored minutes: a count that differs (an import or a backfill filled an old
//! gap) reloads the coin. A chart request whose range (with the hour before it, where a gap at
//! its start is carried from) lies in the window copies ready bars ([`CoinBars::bars`]) and
//! answers exactly what the read-time rule (`models::bars::chart_bars`) gives on the database;
//! older ranges still read the database (`routes::prices`).
//!
//! Memory: about 5 MB of minutes and 1.6 MB of rollups per coin.

use std::sync::RwLock;

use models::bars::{CARRY_S, ReadBar, chart_bars, fill_gaps, resample_read};
use models::history::Bar;
use sea_orm::{DatabaseConnection, DbErr};
use shared::Coin;

use crate::clock::{DAY_S, MINUTE_S};
use crate::db;

/// How many days of minutes each coin keeps (the widest request is 70 days of minutes, plus the
/// hour before it and the day the window is aligned to).
pub const WINDOW_DAYS: i64 = 72;
/// The newest minutes re-read at every refresh (a source may correct its newest minutes).
pub const TAIL_S: i64 = 10 * MINUTE_S;
/// How often the older minutes are counted to notice minutes stored out of order.
pub const RECOUNT_EVERY_S: i64 = 60;
/// The rolled-up resolutions (seconds); 1 m is read from the minutes themselves.
pub const ROLLUPS: [i64; 4] = [5 * MINUTE_S, 15 * MINUTE_S, 60 * MINUTE_S, DAY_S];

/// One coin's base bars ("minutes": 1-minute candles live, 5-minute ones in a 5-minute replay)
/// and rollups.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CoinBars {
    /// The base bars' size, seconds.
    pub base_s: i64,
    /// Every stored minute at or after this time is in `minutes` (a day boundary).
    pub from: i64,
    /// The stored minutes from `from`, oldest first.
    pub minutes: Vec<Bar>,
    /// The gap-filled minutes aggregated at each of [`ROLLUPS`], oldest first.
    pub rollups: [Vec<ReadBar>; 4],
    /// When the older minutes were last counted (Unix seconds).
    counted_at: i64,
}

impl CoinBars {
    /// The bars of `minutes` (every stored base bar of `base_s` from `from`, oldest first).
    pub fn new(base_s: i64, from: i64, minutes: Vec<Bar>, now: i64) -> Self {
        let mut bars = CoinBars {
            base_s,
            from,
            minutes,
            rollups: Default::default(),
            counted_at: now,
        };
        bars.roll_up_from(from);
        bars
    }

    /// The newest stored minute.
    pub fn newest(&self) -> Option<i64> {
        self.minutes.last().map(|b| b.ts)
    }

    /// Where the next refresh re-reads from.
    pub fn tail_from(&self) -> i64 {
        self.newest()
            .map_or(self.from, |n| n.saturating_sub(TAIL_S).max(self.from))
    }

    /// How many stored minutes lie before `t`.
    pub fn count_before(&self, t: i64) -> usize {
        self.minutes.partition_point(|b| b.ts < t)
    }

    /// Replaces the minutes at or after `since` by `fresh` (the database's, oldest first) and
    /// recomputes every rollup from the bucket holding `since`.
    pub fn apply_tail(&mut self, since: i64, fresh: Vec<Bar>) {
        let keep = self.count_before(since);
        let changed = self.minutes.get(keep..).is_none_or(|old| old != fresh.as_slice());
        if !changed {
            return;
        }
        self.minutes.truncate(keep);
        self.minutes.extend(fresh.into_iter().filter(|b| b.ts >= since));
        self.roll_up_from(since);
    }

    /// Drops the minutes and bars before `from` (a day boundary).
    pub fn trim(&mut self, from: i64) {
        if from <= self.from {
            return;
        }
        let cut = self.count_before(from);
        self.minutes.drain(..cut);
        for r in &mut self.rollups {
            let cut = r.partition_point(|b| b.bar.ts < from);
            r.drain(..cut);
        }
        self.from = from;
    }

    /// Recomputes each rollup's bars from the one holding `since` on (the earlier ones hold only
    /// earlier minutes, so they stay as they are).
    fn roll_up_from(&mut self, since: i64) {
        let Some(newest) = self.newest() else {
            self.rollups = Default::default();
            return;
        };
        let end = newest.saturating_add(self.base_s);
        for (rollup, step) in self.rollups.iter_mut().zip(ROLLUPS) {
            let bucket = since.div_euclid(step).saturating_mul(step).max(self.from);
            rollup.truncate(rollup.partition_point(|b| b.bar.ts < bucket));
            // The minute before the bucket carries a gap at its start, as in one pass from `from`.
            let first = self.minutes.partition_point(|b| b.ts < bucket).saturating_sub(1);
            let filled = fill_gaps(&self.minutes[first..], self.base_s, bucket, end);
            rollup.extend(resample_read(&filled, step));
        }
    }

    /// The bars of `resolution_s` over `[from, to)` (multiples of it), exactly as
    /// `chart_bars` gives them on the database; `None` when the range (with the hour before it)
    /// starts before the minutes kept here.
    pub fn bars(&self, from: i64, to: i64, resolution_s: i64) -> Option<Vec<ReadBar>> {
        if from.saturating_sub(CARRY_S) < self.from {
            return None;
        }
        let Some(index) = ROLLUPS.iter().position(|s| *s == resolution_s) else {
            return Some(chart_bars(&self.minutes, self.base_s, from, to, resolution_s));
        };
        let Some(newest) = self.newest() else {
            return Some(Vec::new());
        };
        let end = to.min(newest.saturating_add(self.base_s));
        if end <= from {
            return Some(Vec::new());
        }
        // Where the read-time bars start: at `from` when a minute at most an hour before it (or
        // at it) carries a gap there, else at the first stored minute after it.
        let at_or_before = self.minutes.partition_point(|b| b.ts <= from);
        let carried = at_or_before > 0 && self.minutes[at_or_before - 1].ts >= from.saturating_sub(CARRY_S);
        let start = if carried {
            from
        } else {
            match self.minutes.get(at_or_before) {
                Some(b) if b.ts < end => b.ts,
                _ => return Some(Vec::new()),
            }
        };
        let bucket = start.div_euclid(resolution_s) * resolution_s;
        let mut out = Vec::new();
        let mut rolled_from = bucket;
        if start > bucket {
            // The first bucket starts mid-way (nothing to carry before `start`): built from its
            // own minutes, as the read-time rule builds it.
            rolled_from = bucket.saturating_add(resolution_s);
            let head = &self.minutes[at_or_before..];
            out = resample_read(
                &fill_gaps(head, self.base_s, start, end.min(rolled_from)),
                resolution_s,
            );
        }
        let rollup = &self.rollups[index];
        let lo = rollup.partition_point(|b| b.bar.ts < rolled_from);
        let hi = rollup.partition_point(|b| b.bar.ts < to);
        out.extend_from_slice(&rollup[lo..hi.max(lo)]);
        Some(out)
    }
}

/// Every coin's bars.
pub struct Charts {
    coins: Vec<(Coin, RwLock<Option<CoinBars>>)>,
    /// The stored candles' bar size read (`collect::base_s`).
    base_s: i64,
}

impl Default for Charts {
    /// For the default coin list, on minutes.
    fn default() -> Self {
        Charts::new(&crate::coins::DEFAULT, MINUTE_S)
    }
}

impl Charts {
    /// No bars yet, for each of `coins`, whose base candles are `base_s` long.
    pub fn new(coins: &[Coin], base_s: i64) -> Self {
        Charts {
            coins: coins.iter().map(|&c| (c, RwLock::new(None))).collect(),
            base_s,
        }
    }
}

/// Where a coin's kept minutes start at `now`.
pub fn window_start(now: i64) -> i64 {
    now.div_euclid(DAY_S)
        .saturating_sub(WINDOW_DAYS)
        .saturating_mul(DAY_S)
}

impl Charts {
    /// Runs `read` on a coin's bars (`None` until the first refresh loaded them).
    pub fn with<T>(&self, coin: Coin, read: impl FnOnce(&CoinBars) -> T) -> Option<T> {
        let (_, lock) = self.coins.iter().find(|(c, _)| *c == coin)?;
        let guard = lock.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.as_ref().map(read)
    }

    /// Brings every coin's bars up to date with the database at `now` (one refresh at a time:
    /// the published state's). Loading a coin and recomputing rollups run off the async threads.
    pub async fn refresh(&self, db: &DatabaseConnection, now: i64) -> Result<(), DbErr> {
        for (coin, lock) in &self.coins {
            let window = window_start(now);
            let current = {
                let mut guard = lock.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                guard.as_mut().map(|b| {
                    if b.from < window - 2 * DAY_S {
                        // The window moved on by two days: drop what fell out of it (bounded
                        // memory).
                        b.trim(window);
                    }
                    (b.from, b.tail_from(), b.counted_at)
                })
            };
            let reload = match current {
                None => true,
                Some((from, since, counted_at)) if now - counted_at >= RECOUNT_EVERY_S => {
                    let stored = db::candles::count_of(db, *coin, self.base_s, from, since).await?;
                    let kept = self.with(*coin, |b| b.count_before(since)).unwrap_or_default();
                    if stored != kept as u64 {
                        tracing::info!(%coin, stored, kept, "chart bars: older minutes changed; reloading");
                    }
                    stored != kept as u64
                }
                Some(_) => false,
            };
            if reload {
                let minutes = db::candles::all_of(db, *coin, self.base_s, window, i64::MAX).await?;
                let base_s = self.base_s;
                let bars = tokio::task::spawn_blocking(move || CoinBars::new(base_s, window, minutes, now))
                    .await
                    .map_err(|e| DbErr::Custom(format!("building chart bars: {e}")))?;
                *lock.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(bars);
                continue;
            }
            let Some((_, since, counted_at)) = current else {
                continue;
            };
            let fresh = db::candles::all_of(db, *coin, self.base_s, since, i64::MAX).await?;
            let mut guard = lock.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(bars) = guard.as_mut() {
                bars.apply_tail(since, fresh);
                if now - counted_at >= RECOUNT_EVERY_S {
                    bars.counted_at = now;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(ts: i64, close: f64) -> Bar {
        Bar {
            ts,
            open: close - 0.5,
            high: close + 1.0,
            low: close - 1.0,
            close,
            volume: 1.0 + (ts % 7) as f64,
        }
    }

    /// Three days of minutes with gaps of every kind: single minutes, an hour and a half
    /// (longer than the carry), across a day boundary, and at the very start.
    fn gappy(from: i64) -> Vec<Bar> {
        (0..3 * 1440)
            .filter(|i| {
                let m = i % 1440;
                !(i % 97 == 3 || (300..390).contains(&m) || (1435..1445).contains(i) || *i < 7)
            })
            .map(|i| bar(from + i * MINUTE_S, 100.0 + (i as f64 * 0.37).sin() * 5.0))
            .collect()
    }

    #[test]
    fn rolled_up_bars_equal_read_time_bars_on_data_with_gaps() {
        let from = 1_700_006_400 - 1_700_006_400 % DAY_S;
        let minutes = gappy(from);
        let kept = CoinBars::new(MINUTE_S, from, minutes.clone(), from);
        let mut checked = 0;
        for step in [60, 300, 900, 3600, DAY_S] {
            // Every start in the first day and a half, several lengths, some past the newest.
            let mut start = from + CARRY_S;
            while start < from + 36 * 3600 {
                let aligned = start.div_euclid(step) * step;
                for bars_n in [1, 3, 24, 200] {
                    let to = aligned + bars_n * step;
                    if aligned - CARRY_S < from {
                        assert_eq!(kept.bars(aligned, to, step), None);
                        continue;
                    }
                    let want = chart_bars(&minutes, MINUTE_S, aligned, to, step);
                    let got = kept.bars(aligned, to, step).unwrap();
                    assert_eq!(got, want, "step {step} from {} for {bars_n} bars", aligned - from);
                    checked += 1;
                }
                start += 7 * MINUTE_S;
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    #[test]
    fn a_new_minute_updates_every_resolutions_newest_bar_once() {
        let from = 1_700_006_400 - 1_700_006_400 % DAY_S;
        let minutes: Vec<Bar> = (0..600)
            .map(|i| bar(from + i * MINUTE_S, 50.0 + i as f64))
            .collect();
        let mut kept = CoinBars::new(MINUTE_S, from, minutes.clone(), from);
        let before = kept.rollups.clone();
        // The next minute arrives with the re-read tail.
        let next = bar(from + 600 * MINUTE_S, 700.0);
        let since = kept.tail_from();
        let mut fresh: Vec<Bar> = minutes.iter().copied().filter(|b| b.ts >= since).collect();
        fresh.push(next);
        kept.apply_tail(since, fresh);
        let mut all = minutes.clone();
        all.push(next);
        assert_eq!(
            kept,
            CoinBars::new(MINUTE_S, from, all, from),
            "as if built in one pass"
        );
        for (i, step) in ROLLUPS.into_iter().enumerate() {
            let newest = kept.rollups[i].last().unwrap();
            let old = before[i].last().unwrap();
            let bucket = next.ts.div_euclid(step) * step;
            assert_eq!(newest.bar.ts, bucket, "step {step}");
            assert_eq!(newest.bar.close, 700.0);
            // Counted once: the volume grew by the new minute's volume alone.
            let grown = if old.bar.ts == bucket { old.bar.volume } else { 0.0 };
            assert_eq!(newest.bar.volume, grown + next.volume, "step {step}");
            assert_eq!(
                kept.rollups[i].len() - before[i].len(),
                usize::from(old.bar.ts != bucket)
            );
        }
        // The same tail again changes nothing.
        let again = kept.clone();
        let since = kept.tail_from();
        let fresh = kept.minutes[kept.count_before(since)..].to_vec();
        kept.apply_tail(since, fresh);
        assert_eq!(kept, again);
    }

    #[test]
    fn a_corrected_minute_in_the_tail_changes_the_bars_that_hold_it() {
        let from = 1_700_006_400 - 1_700_006_400 % DAY_S;
        let minutes: Vec<Bar> = (0..120).map(|i| bar(from + i * MINUTE_S, 10.0)).collect();
        let mut kept = CoinBars::new(MINUTE_S, from, minutes.clone(), from);
        let since = kept.tail_from();
        let mut fresh: Vec<Bar> = minutes.iter().copied().filter(|b| b.ts >= since).collect();
        fresh[2].high = 99.0;
        kept.apply_tail(since, fresh.clone());
        let mut all = minutes;
        let at = all.len() - fresh.len() + 2;
        all[at].high = 99.0;
        assert_eq!(kept, CoinBars::new(MINUTE_S, from, all.clone(), from));
        assert_eq!(
            kept.bars(from + 3600, from + 7200, 3600).unwrap()[0].bar.high,
            99.0
        );
        // Trimming keeps the later bars as they were.
        kept.trim(from + DAY_S);
        assert!(kept.minutes.is_empty() && kept.rollups.iter().all(Vec::is_empty));
    }
}
