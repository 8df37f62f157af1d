//! `GET /api/predictions/history`: past predictions with their outcomes, in pages.

use actix_web::{get, web};
use serde::Deserialize;
use shared::{ApiErrorBody, PredictionHistory};
use utoipa::IntoParams;

use crate::clock::{self, HOUR_S};
use crate::db;
use crate::db::predictions::HistoryFilter;
use crate::http::error::ApiError;
use crate::http::routes::params::{parse_filters, parse_time};
use crate::http::state::AppState;

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
        Some(t) => parse_time("to", t)?,
        None => clock::now() + 1,
    };
    let from = match &query.from {
        Some(f) => parse_time("from", f)?,
        None => to - 3 * HOUR_S,
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
    let filter = HistoryFilter {
        coin,
        horizon,
        from,
        to,
        step_minutes: step,
        cursor,
        limit,
    };
    let rows = db::predictions::history(&state.db, filter).await?;
    let more = rows.len() as u64 > limit;
    let page = &rows[..rows.len().min(limit as usize)];
    Ok(web::Json(PredictionHistory {
        mode: state.mode().await?,
        predictions: db::predictions::to_dtos(page),
        next_cursor: more
            .then(|| page.last().map(|r| format!("{}.{}", r.made_at, r.id)))
            .flatten(),
    }))
}
