//! `GET /api/predictions/history`: past predictions with their outcomes, in pages.

use actix_web::{get, web};
use serde::Deserialize;
use shared::{ApiErrorBody, PredictionHistory};
use utoipa::IntoParams;

use crate::clock::{self, DAY_S, HOUR_S};
use crate::db;
use crate::db::predictions::HistoryFilter;
use crate::http::error::ApiError;
use crate::http::routes::params::{MAX_ID, in_time_window, parse_bounded, parse_filters, parse_time};
use crate::http::state::AppState;

/// Most predictions one history page returns.
pub const MAX_LIMIT: u64 = 1_000;

/// Widest range one history request spans (32 days: the web app asks 30 at most), so a page
/// never scans more than that much of the table whatever the step filter drops.
pub const MAX_SPAN_S: i64 = 32 * DAY_S;

/// A cursor this API returned: `<made_at>.<id>`, the time in the accepted window and the id
/// from 0 to 2^53 - 1.
fn parse_cursor(c: &str) -> Result<(i64, i64), ApiError> {
    let bad = || ApiError::invalid_parameter("cursor", "not a cursor this API returned");
    let (t, id) = c.trim().split_once('.').ok_or_else(bad)?;
    let t = t
        .parse::<i64>()
        .ok()
        .filter(|t| in_time_window(*t, clock::now()))
        .ok_or_else(bad)?;
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|id| (0..=MAX_ID).contains(id))
        .ok_or_else(bad)?;
    Ok((t, id))
}

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
    /// Made at or after (RFC 3339 or Unix seconds, from 2009 to a year from now); default: 3 hours
    /// before `to`. A range spans at most 32 days.
    pub from: Option<String>,
    /// Made before (RFC 3339 or Unix seconds, from 2009 to a year from now); default: now.
    pub to: Option<String>,
    /// Only predictions made on multiples of this many minutes (default 15, the page's table; 1 for all).
    #[param(value_type = Option<u32>, example = 15)]
    pub step_minutes: Option<String>,
    /// Page size, 1 to 1000 (default 200).
    #[param(value_type = Option<u64>, example = 200)]
    pub limit: Option<String>,
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
        None => clock::now().saturating_add(1),
    };
    let from = match &query.from {
        Some(f) => parse_time("from", f)?,
        None => to.saturating_sub(3 * HOUR_S),
    };
    if from >= to {
        return Err(ApiError::invalid_parameter("from", "`from` must be before `to`"));
    }
    if to.saturating_sub(from) > MAX_SPAN_S {
        return Err(ApiError::invalid_parameter(
            "from",
            format!("the range spans more than {} days: narrow it", MAX_SPAN_S / DAY_S),
        ));
    }
    let step = match &query.step_minutes {
        Some(s) => parse_bounded("step_minutes", s, 1, 1440)?,
        None => 15,
    };
    let step = u32::try_from(step)
        .map_err(|_| ApiError::invalid_parameter("step_minutes", "`step_minutes` must be 1 to 1440"))?;
    let limit = match &query.limit {
        Some(l) => parse_bounded("limit", l, 1, MAX_LIMIT as i64)?,
        None => 200,
    };
    let limit = u64::try_from(limit)
        .map_err(|_| ApiError::invalid_parameter("limit", format!("`limit` must be 1 to {MAX_LIMIT}")))?;
    // The cursor is the (made_at, id) of the last row of the previous page.
    let cursor = match &query.cursor {
        Some(c) => Some(parse_cursor(c)?),
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
