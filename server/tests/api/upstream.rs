//! A fake upstream (wiremock) that speaks the real sources' formats, fed with recorded real
//! payloads from `tests/fixtures/upstream/` and real minute candles from `tests/fixtures/`.

use coincast::config::Settings;
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::repo_root;

/// A recorded upstream payload.
pub fn payload(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("server/tests/fixtures/upstream").join(name)).unwrap()
}

/// Points every live source at `server`, with a short timeout.
pub fn point_at(settings: &mut Settings, server: &MockServer, timeout_ms: u64) {
    let uri = server.uri();
    settings.upstream.bitstamp = uri.clone();
    settings.upstream.mempool = uri.clone();
    settings.upstream.blockchain = uri.clone();
    settings.upstream.bitinfocharts = uri.clone();
    settings.upstream.yahoo = uri;
    settings.upstream.timeout_ms = timeout_ms;
}

/// The upstream settings of a server pointed at `server`.
pub fn upstream_settings(server: &MockServer, timeout_ms: u64) -> coincast::config::UpstreamSettings {
    let mut s: Settings = Settings::defaults()
        .unwrap()
        .build()
        .unwrap()
        .try_deserialize()
        .unwrap();
    point_at(&mut s, server, timeout_ms);
    s.upstream
}

/// Serves real minute candles as Bitstamp's `/api/v2/ohlc/{pair}/` does: all values strings,
/// honouring `start` and `limit`.
pub struct BitstampPages {
    /// `[open_ms, open, high, low, close, volume]` rows (freqtrade JSON).
    pub rows: Vec<[f64; 6]>,
}

impl BitstampPages {
    pub fn from_fixture(name: &str) -> Self {
        let text = std::fs::read_to_string(repo_root().join("server/tests/fixtures").join(name)).unwrap();
        BitstampPages {
            rows: serde_json::from_str(&text).unwrap(),
        }
    }
}

impl Respond for BitstampPages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let query = |k: &str| {
            request
                .url
                .query_pairs()
                .find(|(key, _)| key == k)
                .and_then(|(_, v)| v.parse::<i64>().ok())
        };
        let limit = query("limit").unwrap_or(1000).clamp(1, 1000) as usize;
        let start = query("start").unwrap_or(i64::MIN);
        let ohlc: Vec<serde_json::Value> = self
            .rows
            .iter()
            .filter(|r| r[0] as i64 / 1000 >= start)
            .take(limit)
            .map(|r| {
                serde_json::json!({
                    "timestamp": (r[0] as i64 / 1000).to_string(),
                    "open": r[1].to_string(), "high": r[2].to_string(), "low": r[3].to_string(),
                    "close": r[4].to_string(), "volume": r[5].to_string(),
                })
            })
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"data": {"pair": "BTC/USD", "ohlc": ohlc}}))
    }
}
