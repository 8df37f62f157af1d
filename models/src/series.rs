//! External series (on-chain and markets) aligned to bar times without look-ahead.
//!
//! Series have other cadences than candles (daily closes, samples every 15 minutes or 17.5 hours),
//! so they are aligned on the bars' time grid by holding the last *known* value constant (the
//! no-look-ahead form of "constant for closed markets"): a value stamped `ts` counts as known from
//! `ts + KNOWN_LAG_S` on. One day is conservative for every source we use: a daily close is
//! stamped with its date (or session open) and is certainly known the next day; a blockchain.com
//! sample may summarise the hours after its stamp. Linear interpolation between points is never
//! used, since it would read the next point before it exists.
//!
//! Features per series at prediction time `t`: the log change of the known value over one day and
//! over seven days. A value older than `MAX_STALE_S` (long market holidays, a dead source) counts
//! as missing: the sample gets no features rather than a silently frozen input.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};

use crate::history::HistoryError;

/// A value counts from one day after its stamp.
pub const KNOWN_LAG_S: i64 = 86_400;
/// Known values older than this are missing.
pub const MAX_STALE_S: i64 = 5 * 86_400;
const DAY: i64 = 86_400;

/// An observation as its source stamped it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub ts: i64,
    pub value: f64,
}

/// Named series, each as (known from, value), oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesSet(BTreeMap<String, Vec<(i64, f64)>>);

impl SeriesSet {
    /// Adds (or replaces) a series. Non-positive or non-finite values are dropped (the features
    /// are log changes).
    pub fn insert(&mut self, name: &str, observations: &[Observation]) {
        let mut points: Vec<(i64, f64)> = observations
            .iter()
            .filter(|o| o.value.is_finite() && o.value > 0.0)
            .map(|o| (o.ts + KNOWN_LAG_S, o.value))
            .collect();
        points.sort_by_key(|p| p.0);
        points.dedup_by_key(|p| p.0);
        self.0.insert(name.to_owned(), points);
    }

    /// The names held.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The first and last time a value of `name` is known.
    pub fn known_span(&self, name: &str) -> Option<(i64, i64)> {
        let p = self.0.get(name)?;
        Some((p.first()?.0, p.last()?.0))
    }

    /// The newest value of `name` known at `t` (and not stale).
    pub fn value_at(&self, name: &str, t: i64) -> Option<f64> {
        let points = self.0.get(name)?;
        let i = points.partition_point(|p| p.0 <= t);
        let (known, value) = *points.get(i.checked_sub(1)?)?;
        (t - known <= MAX_STALE_S).then_some(value)
    }
}

/// The feature names of `series`, in order.
pub fn feature_names(series: &[String]) -> Vec<String> {
    series
        .iter()
        .flat_map(|s| [format!("{s}_chg1d"), format!("{s}_chg7d")])
        .collect()
}

/// The series features at prediction time `t`, or `None` when any value is missing.
pub fn features_at(series: &[String], set: &SeriesSet, t: i64) -> Option<Vec<f32>> {
    let mut out = Vec::with_capacity(2 * series.len());
    for name in series {
        let now = set.value_at(name, t)?;
        let day = set.value_at(name, t - DAY)?;
        let week = set.value_at(name, t - 7 * DAY)?;
        out.push((now / day).ln() as f32);
        out.push((now / week).ln() as f32);
    }
    out.iter().all(|v| v.is_finite()).then_some(out)
}

/// Parses a daily or sampled series CSV: Yahoo exports (`Date,...,Close,...` or
/// `Date,gold_High,...,gold_Close,...`, calendar days with empty or NaN values on closed days) and
/// blockchain.com chart exports (`Timestamp,<metric>` with `YYYY-MM-DD HH:MM:SS`). Empty and NaN
/// values are skipped; anything else that does not parse is an error naming the line.
pub fn parse_csv(text: &str) -> Result<Vec<Observation>, HistoryError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines().enumerate();
    let header = lines
        .next()
        .map(|(_, l)| l)
        .ok_or_else(|| HistoryError::at(1, "the file is empty"))?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let time_col = cols
        .iter()
        .position(|c| c.eq_ignore_ascii_case("date") || c.eq_ignore_ascii_case("timestamp"))
        .ok_or_else(|| HistoryError::at(1, "no Date or Timestamp column"))?;
    let value_col = cols
        .iter()
        .position(|c| c.eq_ignore_ascii_case("close") || c.to_ascii_lowercase().ends_with("_close"))
        .or_else(|| (cols.len() == 2).then_some(1 - time_col))
        .ok_or_else(|| HistoryError::at(1, "no Close column (and not a two-column series)"))?;
    let mut out = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let (Some(time), Some(raw)) = (f.get(time_col), f.get(value_col)) else {
            return Err(HistoryError::at(n, "too few columns"));
        };
        if raw.is_empty() || raw.eq_ignore_ascii_case("nan") || raw.eq_ignore_ascii_case("null") {
            continue;
        }
        let ts = if let Ok(d) = NaiveDate::parse_from_str(time, "%Y-%m-%d") {
            d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp())
        } else {
            NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|t| t.and_utc().timestamp())
        }
        .ok_or_else(|| HistoryError::at(n, format!("bad time {time:?}")))?;
        let value: f64 = raw
            .parse()
            .map_err(|_| HistoryError::at(n, format!("bad value {raw:?}")))?;
        out.push(Observation { ts, value });
    }
    out.sort_by_key(|o| o.ts);
    out.dedup_by_key(|o| o.ts);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(day: i64, value: f64) -> Observation {
        Observation { ts: day * DAY, value }
    }

    #[test]
    fn a_value_counts_only_from_the_day_after_its_stamp() {
        let mut set = SeriesSet::default();
        set.insert("gold", &[obs(10, 100.0), obs(11, 110.0)]);
        assert_eq!(set.value_at("gold", 10 * DAY), None, "not known on its own day");
        assert_eq!(set.value_at("gold", 11 * DAY - 1), None);
        assert_eq!(set.value_at("gold", 11 * DAY), Some(100.0));
        assert_eq!(set.value_at("gold", 12 * DAY - 1), Some(100.0));
        assert_eq!(set.value_at("gold", 12 * DAY), Some(110.0));
        assert_eq!(set.value_at("gold", 12 * DAY + MAX_STALE_S + 1), None, "stale");
    }

    #[test]
    fn later_observations_never_move_earlier_features() {
        let names = vec!["gold".to_owned()];
        let days: Vec<Observation> = (0..30).map(|d| obs(d, 100.0 + d as f64)).collect();
        let mut set = SeriesSet::default();
        set.insert("gold", &days[..20]);
        let t = 19 * DAY + 3_600; // day 18's value is the newest known
        let before = features_at(&names, &set, t).unwrap();
        assert!((before[0] - (118.0f64 / 117.0).ln() as f32).abs() < 1e-7);
        assert!((before[1] - (118.0f64 / 111.0).ln() as f32).abs() < 1e-7);
        let mut changed = days.clone();
        changed[19].value = 1e6; // stamped day 19: known only from day 20
        changed[25].value = 1.0;
        set.insert("gold", &changed);
        assert_eq!(features_at(&names, &set, t).unwrap(), before);
        assert_eq!(feature_names(&names), ["gold_chg1d", "gold_chg7d"]);
    }

    #[test]
    fn parses_yahoo_and_blockchain_exports() {
        let yahoo = "Date,gold_High,gold_Low,gold_Open,gold_Close,gold_Volume,gold_AdjClose\n\
                     2017-09-05,1339.2,1328.6,1335.2,1339.19,39.0,1339.19\n2017-09-06,,,,,,\n2017-09-07,1,1,1,NaN,1,1\n";
        assert_eq!(
            parse_csv(yahoo).unwrap(),
            [Observation {
                ts: 1_504_569_600,
                value: 1339.19
            }]
        );
        let plain = "Date,Close,High,Low,Open,Volume\n2012-01-12,38.78,38.78,38.78,38.78,100\n";
        assert_eq!(parse_csv(plain).unwrap()[0].value, 38.78);
        let chain = "\u{feff}Timestamp,mempool-count\n2018-03-20 17:45:00,1684.5\n2018-03-21 11:15:00,1890\n";
        let c = parse_csv(chain).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].ts, 1_521_567_900);
        let err = parse_csv("Date,Close\n2018-01-01,abc\n").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
