//! `GET /api/predictions` (what bots poll) and `GET /api/accuracy` (live accuracy).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use models::metrics::Metrics;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use shared::{
    AccuracyResponse, AccuracyRow, AccuracyStats, ApiErrorBody, Coin, Direction, Horizon, LatestPrediction,
    Outcome, Prediction, PredictionsResponse,
};
use utoipa::IntoParams;

use crate::entities::{prediction, source_status};
use crate::error::ApiError;
use crate::{engine, state::AppState};

/// Trailing windows of the accuracy figures.
pub const WINDOWS: [(&str, i64); 3] = [("24h", 86_400), ("7d", 7 * 86_400), ("30d", 30 * 86_400)];

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

fn parse_filters(
    coin: &Option<String>,
    horizon: &Option<String>,
) -> Result<(Option<Coin>, Option<Horizon>), ApiError> {
    let coin = coin
        .as_deref()
        .map(|c| {
            c.parse::<Coin>()
                .map_err(|e| ApiError::invalid_parameter("coin", e))
        })
        .transpose()?;
    let horizon = horizon
        .as_deref()
        .map(|h| {
            h.parse::<Horizon>()
                .map_err(|e| ApiError::invalid_parameter("horizon", e))
        })
        .transpose()?;
    Ok((coin, horizon))
}

fn to_dto(p: &prediction::Model) -> Option<Prediction> {
    Some(Prediction {
        coin: p.coin.parse().ok()?,
        horizon: p.horizon.parse().ok()?,
        direction: Direction::from_p_up(p.p_up),
        p_up: p.p_up,
        made_at: DateTime::from_timestamp(p.made_at, 0)?,
        target_at: DateTime::from_timestamp(p.target_at, 0)?,
        reference_price: p.reference_price,
        model_id: p.model_id.clone(),
        backfilled: p.backfilled,
        outcome: match p.outcome.as_str() {
            "scored" => Outcome::Scored,
            "unscorable" => Outcome::Unscorable,
            _ => Outcome::Pending,
        },
        realized_price: p.realized_price,
        correct: p.correct,
    })
}

/// Accuracy of the scored predictions of a coin and horizon made in the trailing window.
pub async fn accuracy(
    db: &DatabaseConnection,
    coin: Coin,
    horizon: Horizon,
    window: (&str, i64),
    backfilled: bool,
    now: i64,
) -> Result<AccuracyStats, DbErr> {
    let rows = prediction::Entity::find()
        .filter(prediction::Column::Coin.eq(coin.ticker()))
        .filter(prediction::Column::Horizon.eq(horizon.as_str()))
        .filter(prediction::Column::Backfilled.eq(backfilled))
        .filter(prediction::Column::Outcome.eq("scored"))
        .filter(prediction::Column::MadeAt.gte(now - window.1))
        .all(db)
        .await?;
    let (mut up, mut p) = (Vec::new(), Vec::new());
    for r in &rows {
        if let Some(realized) = r.realized_price {
            up.push(realized > r.reference_price);
            p.push(r.p_up);
        }
    }
    let m = Metrics::compute(&up, &p);
    Ok(AccuracyStats {
        window: window.0.to_owned(),
        n: up.len() as u32,
        hits: m.as_ref().map_or(0, |m| m.hits as u32),
        accuracy: m.as_ref().map(|m| m.accuracy),
        wilson_low: m.as_ref().map(|m| m.wilson_low),
        wilson_high: m.as_ref().map(|m| m.wilson_high),
        brier: m.as_ref().map(|m| m.brier),
        baseline_accuracy: m.as_ref().map(|m| m.baseline_accuracy),
    })
}

/// The newest prediction per coin and horizon, with its live 7-day accuracy.
///
/// What trading bots poll. Answers carry an `ETag` (send it back in `If-None-Match` to get a 304
/// while nothing changed) and a `Cache-Control: max-age` that ends at the next prediction tick
/// (second 20 of each minute).
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
    let now = Utc::now().timestamp();
    let mut out = Vec::new();
    for model in state.registry.all() {
        let (c, h) = (model.card.coin, model.card.horizon);
        if coin.is_some_and(|x| x != c) || horizon.is_some_and(|x| x != h) {
            continue;
        }
        let newest = prediction::Entity::find()
            .filter(prediction::Column::Coin.eq(c.ticker()))
            .filter(prediction::Column::Horizon.eq(h.as_str()))
            .order_by_desc(prediction::Column::MadeAt)
            .one(&state.db)
            .await?;
        let status = source_status::Entity::find_by_id(engine::status_id(c, h))
            .one(&state.db)
            .await?;
        out.push(LatestPrediction {
            coin: c,
            horizon: h,
            cadence_minutes: h.cadence_minutes(),
            prediction: newest.as_ref().and_then(to_dto),
            not_made_reason: status
                .filter(|s| s.consecutive_failures > 0)
                .and_then(|s| s.last_error),
            accuracy_7d: accuracy(&state.db, c, h, WINDOWS[1], false, now).await?,
        });
    }
    let body = PredictionsResponse {
        mode: state.mode().await?,
        predictions: out,
    };
    let json = serde_json::to_vec(&body).map_err(|e| ApiError::Unexpected(e.into()))?;
    let etag = format!("\"{:x}\"", Sha256::digest(&json));
    let etag = format!("{}\"", &etag[..17]);
    // Fresh until the next tick at second 20 of a minute.
    let into_minute = now.rem_euclid(60);
    let max_age = if into_minute < 20 {
        20 - into_minute
    } else {
        80 - into_minute
    };
    let cache = format!("public, max-age={max_age}");
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

/// Query of `GET /api/accuracy`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccuracyQuery {
    /// Only this coin.
    pub coin: Option<String>,
    /// Only this horizon.
    pub horizon: Option<String>,
}

/// Live accuracy per coin and horizon over the trailing 24 h, 7 d and 30 d, next to the
/// majority-class baseline of the same predictions, with n and a 95% Wilson interval.
/// Backfilled predictions are reported apart.
#[utoipa::path(
    tag = "predictions",
    params(AccuracyQuery),
    responses(
        (status = 200, description = "One row per coin and horizon", body = AccuracyResponse),
        (status = 400, description = "Unknown coin or horizon", body = ApiErrorBody),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/accuracy")]
pub async fn get_accuracy(
    state: web::Data<AppState>,
    query: web::Query<AccuracyQuery>,
) -> Result<web::Json<AccuracyResponse>, ApiError> {
    let (coin, horizon) = parse_filters(&query.coin, &query.horizon)?;
    let now = Utc::now().timestamp();
    let mut rows = Vec::new();
    for model in state.registry.all() {
        let (c, h) = (model.card.coin, model.card.horizon);
        if coin.is_some_and(|x| x != c) || horizon.is_some_and(|x| x != h) {
            continue;
        }
        let mut live = Vec::new();
        let mut backfilled = Vec::new();
        for w in WINDOWS {
            live.push(accuracy(&state.db, c, h, w, false, now).await?);
            backfilled.push(accuracy(&state.db, c, h, w, true, now).await?);
        }
        rows.push(AccuracyRow {
            coin: c,
            horizon: h,
            live,
            backfilled,
        });
    }
    Ok(web::Json(AccuracyResponse {
        mode: state.mode().await?,
        rows,
    }))
}
