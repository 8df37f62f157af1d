//! blockchain.info charts API `GET /charts/{chart}?timespan=10days&format=json` (`transactions-per-second`,
//! `mempool-count`): `{"values": [{"x": unix seconds, "y": value}, ...]}`.

use serde::Deserialize;

use super::{FetchError, Point};

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    status: Option<String>,
    values: Vec<XY>,
}

#[derive(Deserialize)]
struct XY {
    x: i64,
    y: f64,
}

/// Parses a charts answer into points, oldest first.
pub fn parse(body: &str) -> Result<Vec<Point>, FetchError> {
    let p: Payload = serde_json::from_str(body).map_err(|e| FetchError::Malformed(e.to_string()))?;
    if let Some(status) = p.status.filter(|s| s != "ok") {
        return Err(FetchError::Malformed(format!("status {status:?}")));
    }
    let mut points = Vec::with_capacity(p.values.len());
    for (i, v) in p.values.into_iter().enumerate() {
        if !v.y.is_finite() || v.y < 0.0 {
            return Err(FetchError::Malformed(format!("value {i} is {}", v.y)));
        }
        // The charts API uses seconds; its website exports use milliseconds. Accept both.
        let ts = if v.x > 100_000_000_000 { v.x / 1000 } else { v.x };
        points.push(Point { ts, value: v.y });
    }
    points.sort_by_key(|p| p.ts);
    points.dedup_by_key(|p| p.ts);
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recorded real answer of `transactions-per-second?timespan=1weeks` (2023-04, 15-min spacing).
    const REAL: &str = include_str!("../../tests/fixtures/upstream/blockchain_transactions_per_second.json");

    #[test]
    fn parses_the_recorded_payload() {
        let points = parse(REAL).unwrap();
        assert_eq!(points.len(), 22);
        assert_eq!(points[0].ts, 1_680_777_900);
        assert!((points[0].value - 4.583_333_333_333_333).abs() < 1e-12);
        assert!(points.windows(2).all(|w| w[1].ts - w[0].ts == 900));
    }

    #[test]
    fn refuses_malformed_payloads() {
        assert!(parse("[]").is_err());
        assert!(parse(r#"{"status":"error","values":[]}"#).is_err());
        assert!(parse(r#"{"values":[{"x":1,"y":"4"}]}"#).is_err());
    }
}
