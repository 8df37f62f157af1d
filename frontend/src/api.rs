//! Every request the app makes goes through here, typed with the `shared` crate's wire types.

use serde::de::DeserializeOwned;
use shared::{
    ApiErrorBody, CandlesResponse, Coin, HealthResponse, ModelsResponse, PerformanceResponse,
    PredictionHistory, PredictionsResponse, PricesResponse, SourcesResponse,
};

/// Why a request failed, in words fit for the page.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiClientError {
    /// The server could not be reached at all.
    Unreachable(String),
    /// The server answered with an error body.
    Api { status: u16, body: ApiErrorBody },
    /// The server answered something we could not read.
    Malformed(String),
}

impl std::fmt::Display for ApiClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiClientError::Unreachable(e) => write!(f, "the server is unreachable ({e})"),
            ApiClientError::Api { status, body } => write!(f, "{} (HTTP {status})", body.message),
            ApiClientError::Malformed(e) => write!(f, "unexpected answer from the server ({e})"),
        }
    }
}

/// GETs `path` and reads a JSON `T`. `also_ok` lists non-2xx statuses whose body is still a `T`
/// (health answers 503 with a full health body when the database is down).
async fn get_json<T: DeserializeOwned>(path: &str, also_ok: &[u16]) -> Result<T, ApiClientError> {
    // Revalidate every time (ETag → 304 is cheap): the browser must not answer from its cache
    // while the API's max-age runs, or a pushed update would show stale data.
    let response = gloo_net::http::Request::get(path)
        .cache(web_sys::RequestCache::NoCache)
        .send()
        .await
        .map_err(|e| ApiClientError::Unreachable(e.to_string()))?;
    let status = response.status();
    if response.ok() || also_ok.contains(&status) {
        return response
            .json::<T>()
            .await
            .map_err(|e| ApiClientError::Malformed(e.to_string()));
    }
    match response.json::<ApiErrorBody>().await {
        Ok(body) => Err(ApiClientError::Api { status, body }),
        Err(_) => Err(ApiClientError::Malformed(format!("HTTP {status}"))),
    }
}

/// `GET /api/health`.
pub async fn health() -> Result<HealthResponse, ApiClientError> {
    get_json("/api/health", &[503]).await
}

/// `GET /api/coins`.
pub async fn coins() -> Result<shared::CoinsResponse, ApiClientError> {
    get_json("/api/coins", &[]).await
}

/// `GET /api/sources`.
pub async fn sources() -> Result<SourcesResponse, ApiClientError> {
    get_json("/api/sources", &[]).await
}

/// `GET /api/predictions?coin=`.
pub async fn predictions(coin: Coin) -> Result<PredictionsResponse, ApiClientError> {
    get_json(&format!("/api/predictions?coin={}", coin.ticker()), &[]).await
}

/// `GET /api/models`.
pub async fn models() -> Result<ModelsResponse, ApiClientError> {
    get_json("/api/models", &[]).await
}

/// `GET /api/performance?coin=`: the coin's models' trading figures, walk-forward and live
/// (equity curves included, so one coin at a time).
pub async fn performance(coin: Coin) -> Result<PerformanceResponse, ApiClientError> {
    get_json(&format!("/api/performance?coin={}", coin.ticker()), &[]).await
}

/// `GET /api/prices/latest`.
pub async fn latest_prices() -> Result<PricesResponse, ApiClientError> {
    get_json("/api/prices/latest", &[]).await
}

/// `GET /api/predictions/history?coin=` (the last 3 hours at 15-minute steps).
pub async fn history(coin: Coin) -> Result<PredictionHistory, ApiClientError> {
    get_json(&format!("/api/predictions/history?coin={}", coin.ticker()), &[]).await
}

/// A live subscription to `/api/stream`; dropping it closes the connection.
pub struct Stream {
    #[cfg(target_arch = "wasm32")]
    source: web_sys::EventSource,
    #[cfg(target_arch = "wasm32")]
    _listeners: Vec<wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        #[cfg(target_arch = "wasm32")]
        self.source.close();
    }
}

/// Subscribes to the server-sent events: `on_event` gets each `prediction`, `score`, `price`,
/// `skipped` and `reset` event's name, and `open` / `error` when the connection opens or drops. The browser reconnects
/// by itself (after a server restart too), resuming with `Last-Event-ID`. `None` where there is
/// no browser (native builds).
pub fn subscribe(on_event: impl Fn(&'static str) + Clone + 'static) -> Option<Stream> {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let source = web_sys::EventSource::new("/api/stream").ok()?;
        let mut listeners = Vec::new();
        for kind in [
            "prediction",
            "score",
            "price",
            "skipped",
            "reset",
            "open",
            "error",
        ] {
            let f = on_event.clone();
            let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| f(kind));
            source
                .add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref())
                .ok()?;
            listeners.push(listener);
        }
        Some(Stream {
            source,
            _listeners: listeners,
        })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = on_event;
        None
    }
}

/// `GET /api/prices?coin=&resolution=&from=` (`from` in Unix seconds).
pub async fn candles(coin: Coin, resolution: &str, from: i64) -> Result<CandlesResponse, ApiClientError> {
    get_json(
        &format!(
            "/api/prices?coin={}&resolution={resolution}&from={from}",
            coin.ticker()
        ),
        &[],
    )
    .await
}

/// `GET /api/predictions/history` over `[from, now)` for one coin and horizon (all steps).
pub async fn markers(coin: Coin, horizon: &str, from: i64) -> Result<PredictionHistory, ApiClientError> {
    get_json(
        &format!(
            "/api/predictions/history?coin={}&horizon={horizon}&from={from}&step_minutes=15&limit=1000",
            coin.ticker()
        ),
        &[],
    )
    .await
}
