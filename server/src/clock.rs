//! Time in the one form the data path uses: Unix seconds (UTC), minute boundaries.

use chrono::{DateTime, Utc};

/// Seconds in a minute: candles are minute bars keyed by their open time.
pub const MINUTE_S: i64 = 60;
/// Seconds in an hour.
pub const HOUR_S: i64 = 3_600;
/// Seconds in a day.
pub const DAY_S: i64 = 86_400;

/// Now, Unix seconds.
pub fn now() -> i64 {
    Utc::now().timestamp()
}

/// Now, Unix milliseconds (for what must not round a second up: cache lifetimes).
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// The minute boundary at or before `t`.
pub fn minute_of(t: i64) -> i64 {
    t.div_euclid(MINUTE_S) * MINUTE_S
}

/// The current minute boundary (the open time of the minute in progress).
pub fn current_minute() -> i64 {
    minute_of(now())
}

/// The open time of the last completed minute.
pub fn last_completed_minute() -> i64 {
    current_minute() - MINUTE_S
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
}
