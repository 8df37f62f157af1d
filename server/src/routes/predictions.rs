//! `GET /api/predictions` (what bots poll), `/api/predictions/history`, `/api/accuracy` (live
//! accuracy) and `/api/models`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use models::metrics::Metrics;
use sea_orm::QuerySelect;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use shared::{
    AccuracyResponse, AccuracyRow, AccuracyStats, ApiErrorBody, Coin, CoveragePoint, Direction, Horizon,
    LatestPrediction, ModelInfo, ModelsResponse, Outcome, Prediction, PredictionHistory, PredictionsResponse,
    ReliabilityBin, WalkForwardSummary,
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

/// A stored prediction as the API shows it.
pub fn to_dto(p: &prediction::Model) -> Option<Prediction> {
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
    let newest_id: Option<i64> = prediction::Entity::find()
        .select_only()
        .column_as(prediction::Column::Id.max(), "newest")
        .into_tuple()
        .one(&state.db)
        .await?
        .flatten();
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
/// (second 20 of each minute). New predictions show at once; accuracy figures may be up to 5
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
    let now = Utc::now().timestamp();
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

/// Most predictions one history page returns.
pub const MAX_LIMIT: u64 = 1_000;

/// Query of `GET /api/predictions/history`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only this coin.
    #[param(example = "BTC")]
    pub coin: Option<String>,
    /// Only this horizon.
    #[param(example = "1h")]
    pub horizon: Option<String>,
    /// Made at or after (RFC 3339 or Unix seconds); default: 3 hours before `to`.
    pub from: Option<String>,
    /// Made before (RFC 3339 or Unix seconds); default: now.
    pub to: Option<String>,
    /// Only predictions made on multiples of this many minutes (default 15, the page's table; 1 for all).
    #[param(example = 15)]
    pub step_minutes: Option<u32>,
    /// Page size, 1 to 1000 (default 200).
    #[param(example = 200)]
    pub limit: Option<u64>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Past predictions with their outcomes, newest first, in pages.
///
/// By default the last 3 hours at 15-minute steps for every coin and horizon: the table the web
/// app shows. Page with `cursor`.
#[utoipa::path(
    tag = "predictions",
    params(HistoryQuery),
    responses(
        (status = 200, description = "A page of predictions, newest first", body = PredictionHistory),
        (status = 400, description = "A bad coin, horizon, time, range, step, limit or cursor", body = ApiErrorBody),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/predictions/history")]
pub async fn get_history(
    state: web::Data<AppState>,
    query: web::Query<HistoryQuery>,
) -> Result<web::Json<PredictionHistory>, ApiError> {
    let (coin, horizon) = parse_filters(&query.coin, &query.horizon)?;
    let to = match &query.to {
        Some(t) => crate::routes::market::parse_time("to", t)?,
        None => Utc::now().timestamp() + 1,
    };
    let from = match &query.from {
        Some(f) => crate::routes::market::parse_time("from", f)?,
        None => to - 3 * 3600,
    };
    if from >= to {
        return Err(ApiError::invalid_parameter("from", "`from` must be before `to`"));
    }
    let step = query.step_minutes.unwrap_or(15);
    if !(1..=1440).contains(&step) {
        return Err(ApiError::invalid_parameter(
            "step_minutes",
            "`step_minutes` must be 1 to 1440",
        ));
    }
    let limit = query.limit.unwrap_or(200);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_parameter(
            "limit",
            format!("`limit` must be 1 to {MAX_LIMIT}"),
        ));
    }
    // The cursor is the (made_at, id) of the last row of the previous page.
    let cursor = match &query.cursor {
        Some(c) => Some(
            c.split_once('.')
                .and_then(|(t, id)| Some((t.parse::<i64>().ok()?, id.parse::<i64>().ok()?)))
                .ok_or_else(|| ApiError::invalid_parameter("cursor", "not a cursor this API returned"))?,
        ),
        None => None,
    };
    let mut q = prediction::Entity::find()
        .filter(prediction::Column::MadeAt.gte(from))
        .filter(prediction::Column::MadeAt.lt(to));
    if let Some(c) = coin {
        q = q.filter(prediction::Column::Coin.eq(c.ticker()));
    }
    if let Some(h) = horizon {
        q = q.filter(prediction::Column::Horizon.eq(h.as_str()));
    }
    if let Some((t, id)) = cursor {
        q = q.filter(
            sea_orm::Condition::any()
                .add(prediction::Column::MadeAt.lt(t))
                .add(
                    sea_orm::Condition::all()
                        .add(prediction::Column::MadeAt.eq(t))
                        .add(prediction::Column::Id.lt(id)),
                ),
        );
    }
    if step > 1 {
        q = q.filter(sea_orm::sea_query::Expr::cust(format!(
            "made_at % {} = 0",
            i64::from(step) * 60
        )));
    }
    let rows = q
        .order_by_desc(prediction::Column::MadeAt)
        .order_by_desc(prediction::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let more = rows.len() as u64 > limit;
    let page = &rows[..rows.len().min(limit as usize)];
    Ok(web::Json(PredictionHistory {
        mode: state.mode().await?,
        predictions: page.iter().filter_map(to_dto).collect(),
        next_cursor: more
            .then(|| page.last().map(|r| format!("{}.{}", r.made_at, r.id)))
            .flatten(),
    }))
}

/// The served models: kind, depth, features, training span, walk-forward metrics next to the
/// baseline (and the misleading shuffled-split figure), and live accuracy.
#[utoipa::path(
    tag = "predictions",
    responses(
        (status = 200, description = "One entry per coin and horizon", body = ModelsResponse),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/models")]
pub async fn get_models(state: web::Data<AppState>) -> Result<web::Json<ModelsResponse>, ApiError> {
    let now = Utc::now().timestamp();
    let mut models = Vec::new();
    for m in state.registry.all() {
        let c = &m.card;
        let wf = &c.walk_forward.metrics;
        let mut live = Vec::new();
        for w in WINDOWS {
            live.push(accuracy(&state.db, c.coin, c.horizon, w, false, now).await?);
        }
        models.push(ModelInfo {
            id: c.id.clone(),
            coin: c.coin,
            horizon: c.horizon,
            kind: c.model_name.clone(),
            depth: c.depth as u32,
            feature_version: c.features.version,
            features: c.features.names.len() as u32,
            series: c.features.series.clone(),
            bar_seconds: c.features.bar_seconds,
            trained_from: c.training.from.chars().take(10).collect(),
            trained_to: c.training.to.chars().take(10).collect(),
            training_rows: c.training.rows as u32,
            walk_forward: WalkForwardSummary {
                test_from: c.walk_forward.test_from.chars().take(10).collect(),
                test_to: c.walk_forward.test_to.chars().take(10).collect(),
                n: wf.n as u32,
                accuracy: wf.accuracy,
                wilson_low: wf.wilson_low,
                wilson_high: wf.wilson_high,
                baseline_accuracy: wf.baseline_accuracy,
                p_value: wf.p_value,
                brier: wf.brier,
                log_loss: wf.log_loss,
                accuracy_vs_coverage: c
                    .walk_forward
                    .accuracy_vs_coverage
                    .iter()
                    .map(|p| CoveragePoint {
                        coverage: p.coverage,
                        accuracy: p.accuracy,
                        n: p.n as u32,
                    })
                    .collect(),
                reliability: c
                    .walk_forward
                    .reliability
                    .iter()
                    .map(|b| ReliabilityBin {
                        mean_predicted: b.mean_predicted,
                        observed_up: b.observed_up,
                        n: b.n as u32,
                    })
                    .collect(),
            },
            shuffled_split_accuracy: c.shuffled_split.accuracy,
            live,
        });
    }
    Ok(web::Json(ModelsResponse { models }))
}
