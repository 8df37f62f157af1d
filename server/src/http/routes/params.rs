//! Parsing query parameters shared by several routes: the strict query-string check every API
//! request passes first, coin and horizon filters, times, and the bounds on each.

use chrono::DateTime;
use shared::{Coin, Horizon};

use crate::clock::DAY_S;
use crate::http::error::ApiError;

/// Longest value any parameter takes (bytes, once decoded): times, cursors and names are far
/// shorter, so a longer one is refused before anything parses it.
pub const MAX_VALUE_BYTES: usize = 256;
/// Longest parameter name echoed back in an error.
const MAX_NAME_BYTES: usize = 64;
/// The earliest time the API reads: 2009-01-01T00:00:00Z (Bitcoin's first block is 2009-01-03).
/// Earlier times are moved up to it.
pub const MIN_TIME: i64 = 1_230_768_000;
/// The latest time the API reads: 2100-01-01T00:00:00Z. Later RFC 3339 times are moved down to
/// it; a larger Unix number is refused (it is most likely milliseconds).
pub const MAX_TIME: i64 = 4_102_444_800;
/// The latest time a cursor or time check accepts relative to now: one year after now.
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

/// A `coin` parameter: exactly the ticker of a served coin, as the document's enum says (a
/// 400 names the served ones).
pub fn parse_coin(value: &str, served: &[Coin]) -> Result<Coin, ApiError> {
    served
        .iter()
        .copied()
        .find(|c| c.ticker() == value)
        .ok_or_else(|| {
            let hint = value
                .parse::<Coin>()
                .ok()
                .filter(|c| served.contains(c))
                .map(|c| format!(" (did you mean {c}?)"))
                .unwrap_or_default();
            let list: Vec<&str> = served.iter().map(Coin::ticker).collect();
            ApiError::invalid_parameter(
                "coin",
                format!(
                    "unknown coin {value:?}: expected one of {}{hint}",
                    list.join(", ")
                ),
            )
        })
}

/// A yes/no parameter (`deep`, `follow`): `1` or `true`, `0` or `false`; absent is `default`.
pub fn parse_flag(name: &str, value: Option<&str>, default: bool) -> Result<bool, ApiError> {
    match value {
        None => Ok(default),
        Some("0" | "false") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(_) => Err(ApiError::invalid_parameter(
            name,
            format!("`{name}` must be 1, true, 0 or false"),
        )),
    }
}

/// A `horizon` parameter: exactly `30m`, `1h`, `2h`, `4h`, `6h` or `12h`.
pub fn parse_horizon(value: &str) -> Result<Horizon, ApiError> {
    Horizon::ALL
        .into_iter()
        .find(|h| h.as_str() == value)
        .ok_or_else(|| {
            ApiError::invalid_parameter(
                "horizon",
                format!("unknown horizon {value:?}: expected one of 30m, 1h, 2h, 4h, 6h, 12h"),
            )
        })
}

/// The query of the routes that take only the `coin` and `horizon` filters (`GET
/// /api/accuracy`, `GET /api/performance`).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoinHorizonQuery {
    /// Only this coin.
    #[param(value_type = Option<shared::Coin>)]
    pub coin: Option<String>,
    /// Only this horizon.
    #[param(value_type = Option<shared::Horizon>)]
    pub horizon: Option<String>,
}

/// Parses the optional `coin` and `horizon` filters.
pub fn parse_filters(
    coin: &Option<String>,
    horizon: &Option<String>,
    served: &[Coin],
) -> Result<(Option<Coin>, Option<Horizon>), ApiError> {
    Ok((
        coin.as_deref().map(|c| parse_coin(c, served)).transpose()?,
        horizon.as_deref().map(parse_horizon).transpose()?,
    ))
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

/// A time parameter: Unix seconds from 0 to [`MAX_TIME`] (2100-01-01), or an RFC 3339 time
/// with its offset (`2026-11-24T00:00:00Z`), any year. Times before 2009 are moved up to
/// [`MIN_TIME`] and RFC 3339 times after 2100 down to [`MAX_TIME`]: nothing is stored outside, so
/// the answer is the same, and every value the document allows is read. A Unix number above 2100
/// is refused, with a hint when it looks like milliseconds.
pub fn parse_time(parameter: &str, value: &str) -> Result<i64, ApiError> {
    let t = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let secs = value.parse::<i64>().ok().filter(|s| *s <= MAX_TIME);
        match secs {
            Some(secs) => secs,
            None => {
                let ms = value.parse::<i64>().ok().map(|n| n / 1000);
                let hint = match ms {
                    Some(s) if (MIN_TIME..=MAX_TIME).contains(&s) => format!(
                        "; it looks like Unix milliseconds: this parameter takes Unix seconds (e.g. {s})"
                    ),
                    _ => String::new(),
                };
                return Err(ApiError::invalid_parameter(
                    parameter,
                    format!(
                        "`{parameter}` is out of range: Unix seconds go up to {MAX_TIME} (2100-01-01){hint}"
                    ),
                ));
            }
        }
    } else {
        DateTime::parse_from_rfc3339(value)
            .map(|t| t.timestamp())
            .map_err(|e| {
                ApiError::invalid_parameter(
                    parameter,
                    format!(
                        "`{parameter}` must be Unix seconds or an RFC 3339 time with an offset (2026-11-24T00:00:00Z): {e}"
                    ),
                )
            })?
    };
    Ok(t.clamp(MIN_TIME, MAX_TIME))
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
    fn times_are_read_in_a_fixed_window_and_milliseconds_get_a_hint() {
        assert_eq!(parse_time("from", "1700000000").ok(), Some(1_700_000_000));
        assert_eq!(
            parse_time("from", "2026-11-24T00:00:00Z").ok(),
            Some(1_795_478_400)
        );
        // Outside 2009..2100: moved to the edge, as nothing is stored there.
        assert_eq!(parse_time("from", "0").ok(), Some(MIN_TIME));
        assert_eq!(parse_time("from", "1000-01-01T00:00:00Z").ok(), Some(MIN_TIME));
        assert_eq!(parse_time("to", "9999-12-31T23:59:59Z").ok(), Some(MAX_TIME));
        for bad in [
            "-1",
            "+5",
            "9223372036854775807",
            "99999999999999999999999",
            "",
            "-",
            "2026-11-24",
            "2026-11-24T00:00:00",
            "yesterday",
        ] {
            assert!(parse_time("from", bad).is_err(), "{bad}");
        }
        let Err(ApiError::InvalidParameter { parameter, message }) = parse_time("to", "1764633600000") else {
            panic!("milliseconds accepted");
        };
        assert_eq!(parameter, "to");
        assert!(message.contains("milliseconds"), "{message}");
    }

    const SERVED: [Coin; 10] = crate::coins::DEFAULT;

    #[test]
    fn coins_and_horizons_are_exactly_the_documented_values() {
        assert_eq!(parse_coin("BTC", &SERVED).ok(), Some(Coin::BTC));
        assert_eq!(parse_horizon("12h").ok(), Some(Horizon::H12));
        for bad in ["btc", "Bitcoin", " BTC", ""] {
            assert!(parse_coin(bad, &SERVED).is_err(), "{bad}");
        }
        let Err(ApiError::InvalidParameter { message, .. }) = parse_coin("bitcoin", &SERVED) else {
            panic!("accepted");
        };
        assert!(message.contains("did you mean BTC"), "{message}");
        let Err(ApiError::InvalidParameter { message, .. }) = parse_coin("ETH", &[Coin::BTC, Coin::XRP])
        else {
            panic!("an unserved coin accepted");
        };
        assert!(message.ends_with("expected one of BTC, XRP"), "{message}");
        for bad in ["1H", "3h", ""] {
            assert!(parse_horizon(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_documented_error_example_is_what_a_bad_coin_gets() {
        let doc = serde_json::to_value(crate::http::openapi::document()).unwrap();
        let example = &doc["components"]["schemas"]["ApiErrorBody"]["example"];
        let Err(ApiError::InvalidParameter { parameter, message }) = parse_coin("PEPE", &SERVED) else {
            panic!("PEPE accepted");
        };
        assert_eq!(example["parameter"], parameter.as_str());
        assert_eq!(example["message"], message.as_str());
    }

    #[test]
    fn bounded_numbers() {
        assert_eq!(parse_bounded("limit", "10", 1, 1000).ok(), Some(10));
        for bad in ["0", "1001", "-1", "", "1e3", "18446744073709551616"] {
            assert!(parse_bounded("limit", bad, 1, 1000).is_err(), "{bad}");
        }
    }
}
