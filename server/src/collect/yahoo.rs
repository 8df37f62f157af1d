//! Yahoo Finance v8 chart API `GET /v8/finance/chart/{symbol}?interval=1d&range=1mo`: daily closes
//! of gold (GC=F), the S&P 500 (^GSPC), oil (CL=F) and MSCI World (URTH) (a month, so a fresh
//! server has the week of history the models' seven-day changes need). Each point is stored at
//! the timestamp Yahoo gives for the session; the current session's close moves until it ends (a
//! later run overwrites it, idempotently).

use serde::Deserialize;

use super::{FetchError, Point};

#[derive(Deserialize)]
struct Payload {
    chart: Chart,
}

#[derive(Deserialize)]
struct Chart {
    result: Option<Vec<Result_>>,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Result_ {
    meta: Meta,
    #[serde(default)]
    timestamp: Vec<i64>,
    indicators: Indicators,
}

#[derive(Deserialize)]
struct Meta {
    symbol: String,
}

#[derive(Deserialize)]
struct Indicators {
    quote: Vec<Quote>,
}

#[derive(Deserialize)]
struct Quote {
    #[serde(default)]
    close: Vec<Option<f64>>,
}

/// The symbol Yahoo answered for and its closes, oldest first (sessions without a close, `null`
/// in the payload, are left out).
pub fn parse(body: &str) -> Result<(String, Vec<Point>), FetchError> {
    let p: Payload = serde_json::from_str(body).map_err(|e| FetchError::Malformed(e.to_string()))?;
    if let Some(err) = p.chart.error.filter(|e| !e.is_null()) {
        return Err(FetchError::Malformed(format!("chart error {err}")));
    }
    let result = p
        .chart
        .result
        .and_then(|r| r.into_iter().next())
        .ok_or_else(|| FetchError::Malformed("chart.result is empty".into()))?;
    let closes = result
        .indicators
        .quote
        .into_iter()
        .next()
        .map(|q| q.close)
        .unwrap_or_default();
    if closes.len() != result.timestamp.len() {
        return Err(FetchError::Malformed(format!(
            "{} timestamps but {} closes",
            result.timestamp.len(),
            closes.len()
        )));
    }
    let mut points: Vec<Point> = result
        .timestamp
        .iter()
        .zip(closes)
        .filter_map(|(&ts, close)| close.map(|value| Point { ts, value }))
        .collect();
    if let Some(bad) = points.iter().find(|p| !p.value.is_finite() || p.value <= 0.0) {
        return Err(FetchError::Malformed(format!(
            "close {} at {}",
            bad.value, bad.ts
        )));
    }
    points.sort_by_key(|p| p.ts);
    points.dedup_by_key(|p| p.ts);
    Ok((result.meta.symbol, points))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOLD: &str = include_str!("../../tests/fixtures/upstream/yahoo_chart_gc_f.json");
    const AAPL: &str = include_str!("../../tests/fixtures/upstream/yahoo_chart_aapl_daily.json");

    #[test]
    fn parses_recorded_payloads() {
        let (symbol, points) = parse(GOLD).unwrap();
        assert_eq!(symbol, "GC=F");
        assert_eq!(
            points,
            [Point {
                ts: 1_577_941_200,
                value: 1524.5
            }]
        );
        let (symbol, points) = parse(AAPL).unwrap();
        assert_eq!(symbol, "AAPL");
        assert_eq!(points.len(), 49);
        assert_eq!(points[0].ts, 1_598_880_600);
    }

    #[test]
    fn refuses_errors_and_malformed_payloads() {
        assert!(parse(r#"{"chart":{"result":null,"error":{"code":"Not Found"}}}"#).is_err());
        assert!(parse(r#"{"chart":{"result":[],"error":null}}"#).is_err());
        assert!(parse("not json").is_err());
        let mismatched = GOLD.replace("1577941200", "1577941200, 1578027600");
        assert!(parse(&mismatched).is_err());
    }
}
