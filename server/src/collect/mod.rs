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

/// Why fetching from a source failed. The message is what `/api/sources` shows.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("HTTP {status} from {url}")]
    Status { status: u16, url: String },
    #[error("request failed: {0}")]
    Transport(String),
    #[error("malformed payload: {0}")]
    Malformed(String),
}

/// A point of a non-candle series, as a source reported it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Unix seconds UTC.
    pub ts: i64,
    pub value: f64,
}

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

/// GETs `url` and returns the body of a 2xx answer.
pub async fn get_text(client: &reqwest::Client, url: &str, timeout: Duration) -> Result<String, FetchError> {
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
    let response = client.get(url).send().await.map_err(classify)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status {
            status: status.as_u16(),
            url: without_query(url),
        });
    }
    response.text().await.map_err(classify)
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
}
