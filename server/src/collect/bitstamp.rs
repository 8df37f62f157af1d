//! Bitstamp `GET /api/v2/ohlc/{pair}/?step=60&limit=N`: minute candles.
//!
//! Every value in the payload is a JSON string; `timestamp` is the candle's open time in Unix
//! seconds. A candle that does not parse, or opens before 2009 or after the current minute, fails
//! the whole payload: a half-read page is worse than a retried one.

use models::history::Bar;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Payload {
    data: Data,
}

#[derive(Debug, Deserialize)]
struct Data {
    #[serde(default)]
    pair: String,
    ohlc: Vec<RawCandle>,
}

#[derive(Debug, Deserialize)]
struct RawCandle {
    timestamp: String,
    open: String,
    high: String,
    low: String,
    close: String,
    volume: String,
}

/// Why a Bitstamp payload was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("malformed Bitstamp OHLC payload: {0}")]
    Malformed(String),
    #[error("Bitstamp candle {index}: {field} {value:?} is not a valid number")]
    BadNumber {
        index: usize,
        field: &'static str,
        value: String,
    },
    #[error(
        "Bitstamp candle {index}: inconsistent prices (open {open}, high {high}, low {low}, close {close})"
    )]
    Inconsistent {
        index: usize,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
    },
    #[error("Bitstamp candle {index}: opens at {ts}, before 2009 or after the current minute")]
    BadTime { index: usize, ts: i64 },
}

/// The pair the payload names (`BTC/USD`) and its candles, oldest first, as of `now` (Unix
/// seconds: no candle may open after its minute). An empty list is valid (nothing new); the
/// caller decides whether that is stale.
pub fn parse_ohlc(body: &str, now: i64) -> Result<(String, Vec<Bar>), ParseError> {
    let latest = crate::clock::minute_of(now);
    let payload: Payload = serde_json::from_str(body).map_err(|e| ParseError::Malformed(e.to_string()))?;
    let mut bars = Vec::with_capacity(payload.data.ohlc.len());
    for (index, c) in payload.data.ohlc.iter().enumerate() {
        let num = |field: &'static str, value: &str| -> Result<f64, ParseError> {
            value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| ParseError::BadNumber {
                    index,
                    field,
                    value: value.to_owned(),
                })
        };
        let ts = c
            .timestamp
            .trim()
            .parse::<i64>()
            .map_err(|_| ParseError::BadNumber {
                index,
                field: "timestamp",
                value: c.timestamp.clone(),
            })?;
        if !(super::EARLIEST_DATA_TS..=latest).contains(&ts) {
            return Err(ParseError::BadTime { index, ts });
        }
        let bar = Bar {
            ts,
            open: num("open", &c.open)?,
            high: num("high", &c.high)?,
            low: num("low", &c.low)?,
            close: num("close", &c.close)?,
            volume: num("volume", &c.volume)?,
        };
        if bar.low <= 0.0
            || bar.high < bar.low
            || bar.high < bar.open.max(bar.close)
            || bar.low > bar.open.min(bar.close)
        {
            return Err(ParseError::Inconsistent {
                index,
                open: bar.open,
                high: bar.high,
                low: bar.low,
                close: bar.close,
            });
        }
        bars.push(bar);
    }
    bars.sort_by_key(|b| b.ts);
    bars.dedup_by_key(|b| b.ts);
    Ok((payload.data.pair, bars))
}

/// The request path for `limit` (1..=1000) minute candles of the Bitstamp `pair` (`btcusd`),
/// ending with the last completed minute, or starting at `start` (Unix seconds) when given (for
/// backfill pages).
pub fn ohlc_path(pair: &str, limit: u32, start: Option<i64>) -> String {
    let limit = limit.clamp(1, 1000);
    let mut path = format!("api/v2/ohlc/{pair}/?step=60&limit={limit}&exclude_current_candle=true");
    if let Some(start) = start {
        path.push_str(&format!("&start={start}"));
    }
    path
}

/// Fetches and parses up to `limit` minute candles of the Bitstamp `pair` (see [`ohlc_path`]);
/// a candle after `now` is refused.
pub async fn fetch_minutes(
    client: &reqwest::Client,
    base_url: &str,
    pair: &str,
    limit: i64,
    start: Option<i64>,
    timeout: std::time::Duration,
    now: i64,
) -> Result<Vec<Bar>, super::FetchError> {
    let limit = u32::try_from(limit.clamp(1, 1000)).unwrap_or(1000);
    let url = super::join(base_url, &ohlc_path(pair, limit, start));
    let body = super::get_text(client, &url, timeout).await?;
    Ok(parse_ohlc(&body, now)?.1)
}

impl From<ParseError> for super::FetchError {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::BadTime { .. } => super::FetchError::BadTime(e.to_string()),
            _ => super::FetchError::Malformed(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recorded real response (ccxt's test fixture of `GET /api/v2/ohlc/btcusdt/?step=3600&limit=1`).
    const REAL: &str = include_str!("../../tests/fixtures/upstream/bitstamp_ohlc_btcusdt.json");
    /// A `now` after the recorded payload (2024-03-13 11:00 UTC).
    const NOW: i64 = 1_710_331_200;

    fn parse_ohlc(body: &str) -> Result<(String, Vec<Bar>), ParseError> {
        super::parse_ohlc(body, NOW)
    }

    #[test]
    fn parses_the_recorded_payload() {
        let (pair, bars) = parse_ohlc(REAL).unwrap();
        assert_eq!(pair, "BTC/USDT");
        assert_eq!(
            bars,
            [Bar {
                ts: 1_710_327_600,
                open: 73241.0,
                high: 73293.0,
                low: 73240.0,
                close: 73285.0,
                volume: 0.01076655
            }]
        );
    }

    #[test]
    fn an_empty_candle_list_is_valid_and_empty() {
        let (_, bars) = parse_ohlc(r#"{"data": {"pair": "BTC/USD", "ohlc": []}}"#).unwrap();
        assert!(bars.is_empty());
    }

    #[test]
    fn malformed_json_and_bad_numbers_are_refused() {
        assert!(matches!(
            parse_ohlc("<html>502 Bad Gateway</html>"),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse_ohlc(r#"{"data": {"pair": "BTC/USD"}}"#),
            Err(ParseError::Malformed(_))
        ));
        let bad = REAL.replace("\"73285\"", "\"seventy\"");
        assert_eq!(
            parse_ohlc(&bad),
            Err(ParseError::BadNumber {
                index: 0,
                field: "close",
                value: "seventy".into()
            })
        );
        let inconsistent = REAL.replace("\"73293\"", "\"1\"");
        assert!(matches!(
            parse_ohlc(&inconsistent),
            Err(ParseError::Inconsistent { index: 0, .. })
        ));
    }

    #[test]
    fn candles_from_the_future_or_before_2009_refuse_the_payload() {
        // The recorded candle opens at 1_710_327_600: as of that very minute it is fine.
        assert!(super::parse_ohlc(REAL, 1_710_327_600).is_ok());
        assert_eq!(
            super::parse_ohlc(REAL, 1_710_327_599),
            Err(ParseError::BadTime {
                index: 0,
                ts: 1_710_327_600
            })
        );
        let zero = REAL.replace("\"1710327600\"", "\"0\"");
        assert_eq!(parse_ohlc(&zero), Err(ParseError::BadTime { index: 0, ts: 0 }));
        let e: crate::collect::FetchError = ParseError::BadTime { index: 0, ts: 0 }.into();
        assert_eq!(e.public(), "implausible timestamp");
    }
}
