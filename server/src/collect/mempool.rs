//! mempool.space `GET /api/mempool`: the Bitcoin mempool right now (transaction count and
//! virtual size). The endpoint has no history: each run stores one point at the fetch minute.

use serde::Deserialize;

use super::FetchError;

/// The mempool at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mempool {
    /// Unconfirmed transactions.
    pub count: f64,
    /// Their total virtual size, vbytes.
    pub vsize: f64,
}

#[derive(Deserialize)]
struct Payload {
    count: f64,
    vsize: f64,
}

/// Parses the body of `/api/mempool`.
pub fn parse(body: &str) -> Result<Mempool, FetchError> {
    let p: Payload = serde_json::from_str(body).map_err(|e| FetchError::Malformed(e.to_string()))?;
    if !(p.count.is_finite() && p.count >= 0.0 && p.vsize.is_finite() && p.vsize >= 0.0) {
        return Err(FetchError::Malformed(format!(
            "negative or non-finite mempool numbers (count {}, vsize {})",
            p.count, p.vsize
        )));
    }
    Ok(Mempool {
        count: p.count,
        vsize: p.vsize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// mempool.space's documented example answer (recorded from the live API).
    const REAL: &str = include_str!("../../tests/fixtures/upstream/mempool_api_mempool.json");

    #[test]
    fn parses_the_recorded_payload() {
        assert_eq!(
            parse(REAL).unwrap(),
            Mempool {
                count: 3169.0,
                vsize: 1_891_542.0
            }
        );
    }

    #[test]
    fn refuses_malformed_payloads() {
        assert!(parse("{}").is_err());
        assert!(parse(r#"{"count": "many", "vsize": 1}"#).is_err());
        assert!(parse(r#"{"count": -1, "vsize": 1}"#).is_err());
    }
}
