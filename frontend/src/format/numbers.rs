//! Numbers and times as people read them: prices, percentages, basis points, p-values,
//! durations, countdowns, clock times.

use super::*;

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

/// A probability as a whole percentage: `57%`.
pub fn percent(p: f64) -> String {
    format!("{:.0}%", 100.0 * p)
}

/// An accuracy with one decimal: `54.2%`.
pub fn accuracy(p: f64) -> String {
    format!("{:.1}%", 100.0 * p)
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

/// An RFC 3339 time as `2026-12-03 03:12 UTC` (the text itself when it does not parse).
pub fn when(rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&Utc).format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| rfc3339.to_owned())
}
