//! Parsing query parameters shared by several routes: the strict query-string check every API
//! request passes first, coin and horizon filters, times, and the bounds on each.

use chrono::DateTime;
use shared::{Coin, Horizon};

use crate::clock::{self, DAY_S};
use crate::http::error::ApiError;

/// Longest value any parameter takes (bytes, once decoded): times, cursors and names are far
/// shorter, so a longer one is refused before anything parses it.
pub const MAX_VALUE_BYTES: usize = 256;
/// Longest parameter name echoed back in an error.
const MAX_NAME_BYTES: usize = 64;
/// The earliest time the API accepts: 2009-01-01T00:00:00Z (Bitcoin's first block is 2009-01-03).
pub const MIN_TIME: i64 = 1_230_768_000;
/// The latest time the API accepts: one year after now.
pub const MAX_FUTURE_S: i64 = 366 * DAY_S;
/// Largest id a cursor may carry: 2^53 - 1, the largest integer every JSON client reads exactly.
pub const MAX_ID: i64 = (1 << 53) - 1;

/// Why a percent-encoded name or value is refused.
#[derive(Debug, PartialEq, Eq)]
enum Decode {
    BadPercent,
    BadUtf8,
}

/// Decodes `application/x-www-form-urlencoded` text strictly: `+` is a space, `%` must be
/// followed by two hex digits, and the bytes must be UTF-8.
fn decode(raw: &str) -> Result<String, Decode> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |j: usize| bytes.get(j).and_then(|&c| (c as char).to_digit(16));
                let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
                    return Err(Decode::BadPercent);
                };
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| Decode::BadUtf8)
}

/// A name as it may appear in an error: decoded where possible, never longer than 64 bytes.
fn shown_name(raw: &str) -> String {
    let lossy = decode(raw).unwrap_or_else(|_| raw.to_owned());
    let mut end = lossy.len().min(MAX_NAME_BYTES);
    while !lossy.is_char_boundary(end) {
        end -= 1;
    }
    lossy[..end].to_owned()
}

/// Checks a raw query string against the parameter names a route takes, before any handler
/// deserializes it: an unknown or repeated parameter, a name or value that is not valid
/// percent-encoded UTF-8, a value with a control character (NUL) or longer than
/// [`MAX_VALUE_BYTES`] is a 400 naming the parameter. Linear in the query's length.
pub fn check_query(query: &str, allowed: &[String]) -> Result<(), ApiError> {
    let mut seen: Vec<&str> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let takes = || {
            if allowed.is_empty() {
                "this route takes no query parameters".to_owned()
            } else {
                format!("this route takes: {}", allowed.join(", "))
            }
        };
        let name = match decode(raw_name) {
            Ok(n) if n.len() <= MAX_NAME_BYTES => n,
            _ => {
                let shown = shown_name(raw_name);
                return Err(ApiError::invalid_parameter(
                    shown.clone(),
                    format!("unknown parameter `{}`; {}", shown.escape_debug(), takes()),
                ));
            }
        };
        let Some(known) = allowed.iter().find(|a| **a == name) else {
            return Err(ApiError::invalid_parameter(
                name.clone(),
                format!("unknown parameter `{}`; {}", name.escape_debug(), takes()),
            ));
        };
        if seen.contains(&known.as_str()) {
            return Err(ApiError::invalid_parameter(
                known.as_str(),
                format!("`{known}` is given more than once"),
            ));
        }
        seen.push(known);
        let too_long = || {
            ApiError::invalid_parameter(
                known.as_str(),
                format!("`{known}` is too long (at most {MAX_VALUE_BYTES} bytes)"),
            )
        };
        // Three bytes of `%XX` per decoded byte at most: refuse before decoding a huge value.
        if raw_value.len() > 3 * MAX_VALUE_BYTES {
            return Err(too_long());
        }
        let value = decode(raw_value).map_err(|e| {
            ApiError::invalid_parameter(
                known.as_str(),
                match e {
                    Decode::BadPercent => format!(
                        "`{known}` has an invalid percent-encoding (`%` must be followed by two hex digits)"
                    ),
                    Decode::BadUtf8 => format!("`{known}` is not valid UTF-8 once percent-decoded"),
                },
            )
        })?;
        if value.len() > MAX_VALUE_BYTES {
            return Err(too_long());
        }
        if value.chars().any(char::is_control) {
            return Err(ApiError::invalid_parameter(
                known.as_str(),
                format!("`{known}` contains a control character (such as NUL)"),
            ));
        }
    }
    Ok(())
}

/// Parses the optional `coin` and `horizon` filters.
pub fn parse_filters(
    coin: &Option<String>,
    horizon: &Option<String>,
) -> Result<(Option<Coin>, Option<Horizon>), ApiError> {
    let coin = coin
        .as_deref()
        .map(|c| {
            c.parse::<Coin>()
                .map_err(|e| ApiError::invalid_parameter("coin", e))
        })
        .transpose()?;
    let horizon = horizon
        .as_deref()
        .map(|h| {
            h.parse::<Horizon>()
                .map_err(|e| ApiError::invalid_parameter("horizon", e))
        })
        .transpose()?;
    Ok((coin, horizon))
}

/// The window of times the API accepts at `now`: 2009-01-01 to one year after now.
pub fn time_window(now: i64) -> (i64, i64) {
    (MIN_TIME, now.saturating_add(MAX_FUTURE_S))
}

/// Whether `t` is in the window of times the API accepts at `now`.
pub fn in_time_window(t: i64, now: i64) -> bool {
    let (lo, hi) = time_window(now);
    (lo..=hi).contains(&t)
}

/// An RFC 3339 time or Unix seconds, between 2009-01-01 and one year after now (so any
/// arithmetic on it stays far from overflow). Unix milliseconds get a message saying so.
pub fn parse_time(parameter: &str, value: &str) -> Result<i64, ApiError> {
    parse_time_at(parameter, value, clock::now())
}

/// [`parse_time`] at a given `now`.
pub fn parse_time_at(parameter: &str, value: &str, now: i64) -> Result<i64, ApiError> {
    let value = value.trim();
    let out_of_range = |what: String| {
        ApiError::invalid_parameter(
            parameter,
            format!("`{parameter}` {what}: times must be from 2009-01-01T00:00:00Z to one year after now"),
        )
    };
    let numeric = value.strip_prefix(['-', '+']).unwrap_or(value);
    let t = if !numeric.is_empty() && numeric.bytes().all(|b| b.is_ascii_digit()) {
        let Ok(secs) = value.parse::<i64>() else {
            return Err(out_of_range("is out of range".to_owned()));
        };
        if !in_time_window(secs, now) && in_time_window(secs / 1000, now) {
            return Err(ApiError::invalid_parameter(
                parameter,
                format!(
                    "`{parameter}` looks like Unix milliseconds; it takes Unix seconds (e.g. {}) or an RFC 3339 time",
                    secs / 1000
                ),
            ));
        }
        secs
    } else {
        DateTime::parse_from_rfc3339(value)
            .map(|t| t.timestamp())
            .map_err(|e| {
                ApiError::invalid_parameter(
                    parameter,
                    format!(
                        "`{parameter}` must be an RFC 3339 time (2026-11-24T00:00:00Z) or Unix seconds: {e}"
                    ),
                )
            })?
    };
    if in_time_window(t, now) {
        Ok(t)
    } else {
        Err(out_of_range(format!("({t}) is out of range")))
    }
}

/// A whole number from `min` to `max`, or a 400 naming the parameter.
pub fn parse_bounded(parameter: &str, value: &str, min: i64, max: i64) -> Result<i64, ApiError> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            ApiError::invalid_parameter(
                parameter,
                format!("`{parameter}` must be a whole number from {min} to {max}"),
            )
        })
}

/// A time the API shows, as UTC; out of range is a bad parameter (never shown as 1970).
pub fn utc(parameter: &str, t: i64) -> Result<DateTime<chrono::Utc>, ApiError> {
    crate::clock::to_utc(t)
        .ok_or_else(|| ApiError::invalid_parameter(parameter, format!("`{parameter}` is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn refused(query: &str, allowed: &[&str]) -> Option<String> {
        match check_query(query, &names(allowed)) {
            Ok(()) => None,
            Err(ApiError::InvalidParameter { parameter, .. }) => Some(parameter),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn strict_queries_name_the_offending_parameter() {
        let allowed = ["coin", "from"];
        assert_eq!(refused("coin=BTC&from=2026-11-24T00%3A00%3A00Z", &allowed), None);
        assert_eq!(refused("", &allowed), None);
        assert_eq!(refused("coin=BTC&&from=1", &allowed), None);
        assert_eq!(refused("horizn=1h", &allowed).as_deref(), Some("horizn"));
        assert_eq!(refused("coin=BTC&coin=LTC", &allowed).as_deref(), Some("coin"));
        assert_eq!(refused("coin=%00", &allowed).as_deref(), Some("coin"));
        assert_eq!(refused("coin=%FF%FE", &allowed).as_deref(), Some("coin"));
        assert_eq!(refused("coin=%G1", &allowed).as_deref(), Some("coin"));
        assert_eq!(refused("coin=%4", &allowed).as_deref(), Some("coin"));
        let long = "x".repeat(MAX_VALUE_BYTES + 1);
        assert_eq!(
            refused(&format!("from={long}"), &allowed).as_deref(),
            Some("from")
        );
        assert_eq!(
            refused(&format!("from={}", "%41".repeat(300)), &allowed).as_deref(),
            Some("from")
        );
        assert_eq!(refused("x=1", &[]).as_deref(), Some("x"));
        let long_name = "n".repeat(10_000);
        assert_eq!(
            refused(&long_name, &allowed).map(|n| n.len()),
            Some(MAX_NAME_BYTES)
        );
    }

    #[test]
    fn times_are_checked_against_a_sane_window() {
        let now = 1_764_633_600; // 2025-12-02
        assert_eq!(parse_time_at("from", "1700000000", now).ok(), Some(1_700_000_000));
        assert!(parse_time_at("from", "2026-11-24T00:00:00Z", now).is_ok());
        for bad in [
            "-9223372036000000000",
            "-9223372036854775808",
            "9223372036854775807",
            "99999999999999999999999",
            "0",
            "-1",
            "1230767999",
            "2999-01-01T00:00:00Z",
            "1000-01-01T00:00:00Z",
            "",
            "-",
        ] {
            assert!(parse_time_at("from", bad, now).is_err(), "{bad}");
        }
        let Err(ApiError::InvalidParameter { parameter, message }) =
            parse_time_at("to", "1764633600000", now)
        else {
            panic!("milliseconds accepted");
        };
        assert_eq!(parameter, "to");
        assert!(message.contains("milliseconds"), "{message}");
    }

    #[test]
    fn bounded_numbers() {
        assert_eq!(parse_bounded("limit", "10", 1, 1000).ok(), Some(10));
        for bad in ["0", "1001", "-1", "", "1e3", "18446744073709551616"] {
            assert!(parse_bounded("limit", bad, 1, 1000).is_err(), "{bad}");
        }
    }
}
