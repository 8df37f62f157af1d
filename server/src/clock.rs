//! Time in the one form the data path uses: Unix seconds (UTC), minute boundaries.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

/// Seconds in a minute: candles are minute bars keyed by their open time.
pub const MINUTE_S: i64 = 60;
/// Seconds in an hour.
pub const HOUR_S: i64 = 3_600;
/// Seconds in a day.
pub const DAY_S: i64 = 86_400;

/// "Now" for everything on the data path: the system clock in a running process, a fixed one
/// (moved by hand) in tests. Each process's `Core` makes one and passes it to the jobs, the
/// collectors, the writers and the routes; nothing below that reads the system clock itself
/// (`scripts/check-layout` checks), so a test that fixes the clock is never raced by a minute
/// that turns.
#[derive(Clone, Debug)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock(None)
    }

    /// A clock that stands at `t` (Unix seconds) until [`Clock::set`] or [`Clock::advance`] moves it.
    pub fn fixed(t: i64) -> Self {
        Clock(Some(Arc::new(AtomicI64::new(t.saturating_mul(1000)))))
    }

    /// Whether this is a fixed clock.
    pub fn is_fixed(&self) -> bool {
        self.0.is_some()
    }

    /// Moves a fixed clock to `t` (Unix seconds). The system clock cannot be moved: returns `false`.
    pub fn set(&self, t: i64) -> bool {
        self.0
            .as_ref()
            .map(|ms| ms.store(t.saturating_mul(1000), Ordering::SeqCst))
            .is_some()
    }

    /// Moves a fixed clock on by `seconds`. The system clock cannot be moved: returns `false`.
    pub fn advance(&self, seconds: i64) -> bool {
        self.0
            .as_ref()
            .map(|ms| ms.fetch_add(seconds.saturating_mul(1000), Ordering::SeqCst))
            .is_some()
    }

    /// Now, Unix milliseconds (for what must not round a second up: cache lifetimes).
    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            None => Utc::now().timestamp_millis(),
            Some(ms) => ms.load(Ordering::SeqCst),
        }
    }

    /// Now, Unix seconds.
    pub fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Now as a UTC time.
    pub fn now_utc(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.now_ms()).unwrap_or_default()
    }

    /// The current minute boundary (the open time of the minute in progress).
    pub fn current_minute(&self) -> i64 {
        minute_of(self.now())
    }

    /// The open time of the last completed minute.
    pub fn last_completed_minute(&self) -> i64 {
        self.current_minute() - MINUTE_S
    }
}

/// Now, Unix seconds, from the system clock: for entry points (the commands) and tests; the
/// data path takes a [`Clock`].
pub fn now() -> i64 {
    Clock::system().now()
}

/// Now, Unix milliseconds, from the system clock (entry points and tests).
pub fn now_ms() -> i64 {
    Clock::system().now_ms()
}

/// The minute boundary at or before `t`.
pub fn minute_of(t: i64) -> i64 {
    t.div_euclid(MINUTE_S) * MINUTE_S
}

/// The current minute boundary of the system clock (entry points and tests).
pub fn current_minute() -> i64 {
    Clock::system().current_minute()
}

/// The open time of the system clock's last completed minute (entry points and tests).
pub fn last_completed_minute() -> i64 {
    Clock::system().last_completed_minute()
}

/// Midnight (UTC) of a day, Unix seconds: what the commands' `YYYY-MM-DD` flags mean.
pub fn midnight(day: chrono::NaiveDate) -> i64 {
    day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp()
}

/// A stored Unix time as a UTC time; `None` (never 1970) when it is out of chrono's range.
pub fn to_utc(t: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_floor_towards_the_past() {
        assert_eq!(minute_of(119), 60);
        assert_eq!(minute_of(120), 120);
        assert_eq!(minute_of(-1), -60);
        assert!(to_utc(i64::MAX).is_none());
    }

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let clock = Clock::fixed(1_800_000_030);
        assert_eq!(clock.now(), 1_800_000_030);
        assert_eq!(clock.current_minute(), 1_800_000_000);
        assert!(clock.advance(45));
        assert_eq!(clock.now_ms(), 1_800_000_075_000);
        assert_eq!(clock.current_minute(), 1_800_000_060);
        assert!(clock.set(60));
        assert_eq!(clock.now(), 60);
        assert!(!Clock::system().set(60));
        assert!(Clock::system().now() > 1_700_000_000);
    }
}
