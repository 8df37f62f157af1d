//! `GET /api/predictions`: the newest prediction per coin and horizon (what bots poll).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use shared::{ApiErrorBody, LatestPrediction, PredictionsResponse};
use utoipa::IntoParams;

use crate::clock;
use crate::collect::sources::SourceId;
use crate::db;
use crate::http::error::ApiError;
use crate::http::routes::params::parse_filters;
use crate::http::state::AppState;
use crate::predict::accuracy::{PREDICTIONS_WINDOW, accuracy};

/// Query of `GET /api/predictions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PredictionsQuery {
    /// Only this coin: BTC, LTC or XRP (any case; names work too).
    #[param(example = "BTC")]
    pub coin: Option<String>,
    /// Only this horizon: 30m, 1h, 2h, 4h, 6h or 12h.
    #[param(example = "1h")]
    pub horizon: Option<String>,
}

/// How long `/api/predictions` answers from memory.
pub const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Every coin and horizon's newest prediction: from memory when computed less than `CACHE_TTL`
/// ago and no prediction has been stored since (bots poll this hard).
async fn latest_predictions(
    state: &AppState,
    now: i64,
) -> Result<std::sync::Arc<PredictionsResponse>, ApiError> {
    // The newest prediction's id (primary key: cheap) tells whether the cached answer is out of
    // date: a new prediction shows at once, accuracy figures within the TTL.
    let newest_id = db::predictions::newest_id(&state.db).await?;
    if let Ok(cache) = state.predictions_cache.lock()
        && let Some((at, id, body)) = cache.as_ref()
        && at.elapsed() < CACHE_TTL
        && *id == newest_id
    {
        return Ok(body.clone());
    }
    let mut out = Vec::new();
    for model in state.registry.all() {
        let (c, h) = (model.card.coin, model.card.horizon);
        let newest = db::predictions::newest(&state.db, c, h).await?;
        let status = db::status::get(&state.db, SourceId::Predictions(c, h)).await?;
        out.push(LatestPrediction {
            coin: c,
            horizon: h,
            cadence_minutes: h.cadence_minutes(),
            prediction: newest
                .as_ref()
                .and_then(|p| db::predictions::readable(db::predictions::to_dto(p))),
            not_made_reason: status
                .filter(|s| s.consecutive_failures > 0)
                .and_then(|s| s.last_error),
            accuracy_7d: accuracy(&state.db, c, h, PREDICTIONS_WINDOW, false, now).await?,
        });
    }
    let body = std::sync::Arc::new(PredictionsResponse {
        mode: state.mode().await?,
        predictions: out,
    });
    if let Ok(mut cache) = state.predictions_cache.lock() {
        *cache = Some((std::time::Instant::now(), newest_id, body.clone()));
    }
    Ok(body)
}

/// The newest prediction per coin and horizon, with its live 7-day accuracy.
///
/// What trading bots poll. Answers carry an `ETag` (send it back in `If-None-Match` to get a 304
/// while nothing changed) and a `Cache-Control: max-age` that ends at the next prediction tick
/// (by default second 20 of each minute; `jobs.predict_cron`). New predictions show at once; accuracy figures may be up to 5
/// seconds old (served from memory).
#[utoipa::path(
    tag = "predictions",
    params(PredictionsQuery),
    responses(
        (status = 200, description = "One entry per coin and horizon served", body = PredictionsResponse),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
        (status = 400, description = "Unknown coin or horizon", body = ApiErrorBody),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/predictions")]
pub async fn get_predictions(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<PredictionsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (coin, horizon) = parse_filters(&query.coin, &query.horizon)?;
    let now = clock::now();
    let full = latest_predictions(&state, now).await?;
    let body = PredictionsResponse {
        mode: full.mode.clone(),
        predictions: full
            .predictions
            .iter()
            .filter(|p| coin.is_none_or(|c| c == p.coin) && horizon.is_none_or(|h| h == p.horizon))
            .cloned()
            .collect(),
    };
    let json = serde_json::to_vec(&body).map_err(|e| ApiError::Unexpected(e.into()))?;
    let etag = format!("\"{:x}\"", Sha256::digest(&json));
    let etag = format!("{}\"", &etag[..17]);
    // Fresh until the next prediction tick.
    let cache = format!("public, max-age={}", state.seconds_to_next_tick(now));
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache));
    Ok(if matches {
        res.finish()
    } else {
        res.content_type("application/json").body(json)
    })
}
