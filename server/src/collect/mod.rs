//! Collection: one module per upstream source (build the request, fetch, parse into domain
//! values), the replay of recorded minutes, the source catalogue (`sources`: typed ids, cadence,
//! staleness, health) and one collection run (`run`: fetch, store, record health). No scheduling
//! here (`jobs` calls `run`). Every base URL comes from settings (`[upstream]`), so tests point
//! them at a local server.

pub mod bitinfocharts;
pub mod bitstamp;
pub mod blockchain;
pub mod mempool;
pub mod replay;
pub mod run;
pub mod sources;
pub mod yahoo;

use std::sync::Once;
use std::time::Duration;

/// Why fetching from a source failed. The `Display` form is the full story, for logs and the
/// command line; [`FetchError::public`] is the short, stable form `/api/sources` shows.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("HTTP {status} from {url}")]
    Status { status: u16, url: String },
    #[error("request failed: {0}")]
    Transport(String),
    #[error("payload too large: more than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("malformed payload: {0}")]
    Malformed(String),
    /// A data time before [`EARLIEST_DATA_TS`] or in the future: a broken clock or payload.
    #[error("implausible timestamp: {0}")]
    BadTime(String),
}

impl FetchError {
    /// What went wrong in a few stable words, for people and the API: no URLs, no payload
    /// excerpts, no library error chains (those go to the logs).
    pub fn public(&self) -> String {
        match self {
            FetchError::Timeout(_) => "timed out".to_owned(),
            FetchError::Status { status, .. } => format!("HTTP {status}"),
            FetchError::Transport(_) => "connection failed".to_owned(),
            FetchError::TooLarge { .. } => "payload too large".to_owned(),
            FetchError::Malformed(_) => "malformed payload".to_owned(),
            FetchError::BadTime(_) => "implausible timestamp".to_owned(),
        }
    }
}

/// The most bytes a response body may have. The largest recorded real payload is a few KiB and a
/// full Bitstamp page (1000 candles) about 150 KiB; this leaves room for any real answer and
/// keeps a broken or hostile upstream from filling memory.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The earliest data time any source can honestly report: 2009-01-01 00:00 UTC (Bitcoin's first
/// block is of 2009-01-03; the exchanges and series we collect came later). Earlier is a broken
/// timestamp (a zero, a unit mix-up).
pub const EARLIEST_DATA_TS: i64 = 1_230_768_000;

/// How far ahead of now a series point may be stamped: daily series are stamped at their day or
/// session, which time zones can put some hours ahead of UTC now. Further ahead is broken.
pub const SERIES_AHEAD_S: i64 = crate::clock::DAY_S;

/// The deployment's base bar size, seconds: the finest candles it collects, which every reader
/// of candles reads (the prediction tick and its cadence, scoring, charts, prices, price events).
/// Live: Bitstamp's minutes; replaying: the recording's bars (1 or 5 minutes).
pub fn base_s(replay: Option<&replay::Replay>) -> i64 {
    replay.map_or(crate::clock::MINUTE_S, replay::Replay::bar_seconds)
}

/// Refuses candles whose open time is before [`EARLIEST_DATA_TS`] or after the current minute
/// of `now` (a candle from the future would stop gap healing and show as the latest price).
pub fn check_candle_times(bars: &[models::history::Bar], now: i64) -> Result<(), FetchError> {
    let latest = crate::clock::minute_of(now);
    match bars
        .iter()
        .enumerate()
        .find(|(_, b)| b.ts < EARLIEST_DATA_TS || b.ts > latest)
    {
        Some((index, b)) => Err(FetchError::BadTime(format!(
            "candle {index} opens at {} (plausible: {EARLIEST_DATA_TS} to the current minute {latest})",
            b.ts
        ))),
        None => Ok(()),
    }
}

/// Refuses series points stamped before [`EARLIEST_DATA_TS`] or more than [`SERIES_AHEAD_S`]
/// after `now`.
pub fn check_point_times(points: &[Point], now: i64) -> Result<(), FetchError> {
    let latest = now + SERIES_AHEAD_S;
    match points
        .iter()
        .enumerate()
        .find(|(_, p)| p.ts < EARLIEST_DATA_TS || p.ts > latest)
    {
        Some((index, p)) => Err(FetchError::BadTime(format!(
            "point {index} at {} (plausible: {EARLIEST_DATA_TS} to {latest})",
            p.ts
        ))),
        None => Ok(()),
    }
}

pub use crate::ids::Point;

/// Installs rustls's `ring` crypto provider for the process (reqwest is built without one, to
/// avoid aws-lc-rs's C build). Idempotent; every HTTP client needs it first.
pub fn install_tls_provider() {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // Fails only when a provider is already installed, which is what we want anyway.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The HTTP client every collector shares: rustls with the `ring` provider (no C toolchain for
/// TLS), a per-request timeout, an honest user agent.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, FetchError> {
    install_tls_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("coincast/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| FetchError::Transport(e.to_string()))
}

/// GETs `url` and returns the body of a 2xx answer, at most [`MAX_BODY_BYTES`] of it. The
/// client's timeout covers the whole exchange, body included, so a slow trickle ends as
/// [`FetchError::Timeout`]; a larger (or endless) body ends as [`FetchError::TooLarge`] without
/// being held in memory.
pub async fn get_text(client: &reqwest::Client, url: &str, timeout: Duration) -> Result<String, FetchError> {
    get_text_capped(client, url, timeout, MAX_BODY_BYTES).await
}

/// [`get_text`] with the body cap given.
async fn get_text_capped(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    limit: usize,
) -> Result<String, FetchError> {
    let classify = |e: reqwest::Error| {
        if e.is_timeout() {
            FetchError::Timeout(timeout)
        } else {
            // reqwest's message names the URL; the cause (refused, DNS, TLS...) is in the chain.
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            FetchError::Transport(without_query(&message))
        }
    };
    let mut response = client.get(url).send().await.map_err(classify)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status {
            status: status.as_u16(),
            url: without_query(url),
        });
    }
    if response
        .content_length()
        .is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX))
    {
        return Err(FetchError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > limit {
            return Err(FetchError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    // What `Response::text` does without a charset feature: UTF-8, invalid bytes replaced.
    Ok(match String::from_utf8(body) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// URLs in messages lose their query (it may carry keys some day; it is noise anyway).
fn without_query(s: &str) -> String {
    match s.find('?') {
        Some(i) => {
            let end = s[i..].find([' ', ')']).map_or(s.len(), |j| i + j);
            format!("{}{}", &s[..i], &s[end..])
        }
        None => s.to_owned(),
    }
}

/// Joins a base URL (with or without a trailing slash) and a path.
pub fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_dropped_from_messages_and_paths_join() {
        assert_eq!(
            without_query("error sending request for url (http://x/a?b=1) foo"),
            "error sending request for url (http://x/a) foo"
        );
        assert_eq!(join("http://h/", "/api/x"), "http://h/api/x");
        assert_eq!(join("http://h", "api/x"), "http://h/api/x");
    }

    #[test]
    fn public_messages_are_short_and_name_no_url() {
        let cases = [
            (FetchError::Timeout(Duration::from_secs(10)), "timed out"),
            (
                FetchError::Status {
                    status: 503,
                    url: "http://x/a".into(),
                },
                "HTTP 503",
            ),
            (
                FetchError::Transport("error sending request for url (http://x/a): refused".into()),
                "connection failed",
            ),
            (FetchError::TooLarge { limit: 1 }, "payload too large"),
            (
                FetchError::Malformed("expected value at line 1".into()),
                "malformed payload",
            ),
            (FetchError::BadTime("candle 0".into()), "implausible timestamp"),
        ];
        for (e, public) in cases {
            assert_eq!(e.public(), public);
        }
    }

    #[test]
    fn times_outside_2009_to_now_are_refused() {
        // The minute in progress opens at 1_699_999_980.
        let now = 1_700_000_000;
        let bar = |ts| models::history::Bar {
            ts,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 0.0,
        };
        assert!(check_candle_times(&[bar(EARLIEST_DATA_TS), bar(1_699_999_980)], now).is_ok());
        assert!(
            check_candle_times(&[bar(1_700_000_040)], now).is_err(),
            "the next minute"
        );
        assert!(check_candle_times(&[bar(0)], now).is_err());
        assert!(
            check_candle_times(&[bar(1_700_000_000_000)], now).is_err(),
            "milliseconds"
        );
        let point = |ts| Point { ts, value: 1.0 };
        assert!(check_point_times(&[point(now + SERIES_AHEAD_S)], now).is_ok());
        assert!(check_point_times(&[point(now + SERIES_AHEAD_S + 1)], now).is_err());
        assert!(check_point_times(&[point(EARLIEST_DATA_TS - 1)], now).is_err());
    }
}
