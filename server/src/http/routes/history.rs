//! `GET /api/predictions/history`: past predictions with their outcomes, in pages.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use shared::{ApiErrorBody, PredictionHistory};
use utoipa::IntoParams;

use crate::clock::{self, DAY_S, HOUR_S};
use crate::db;
use crate::db::predictions::HistoryFilter;
use crate::http::body::Body;
use crate::http::error::ApiError;
use crate::http::routes::params::{MAX_ID, parse_bounded, parse_filters, parse_time};
use crate::http::state::AppState;

/// Most predictions one history page returns.
pub const MAX_LIMIT: u64 = 1_000;

/// Widest range one history request spans (32 days: the web app asks 30 at most), so a page
/// never scans more than that much of the table whatever the step filter drops.
pub const MAX_SPAN_S: i64 = 32 * DAY_S;

/// How long after a page's window ends it can no longer change (every horizon scored; the
/// start-up backfill reaches `models.backfill_hours` back, 24 by default).
pub const SETTLED_AFTER_S: i64 = 2 * DAY_S;

/// The form of a cursor: `<made_at>.<id>`.
pub const CURSOR_PATTERN: &str = r"^[0-9]{1,10}\.[0-9]{1,15}$";

/// A cursor this API returned: `<made_at>.<id>` (the last row of the previous page), as
/// [`CURSOR_PATTERN`] says; any such value reads (it only bounds the page).
fn parse_cursor(c: &str) -> Result<(i64, i64), ApiError> {
    let bad = || ApiError::invalid_parameter("cursor", "not a cursor this API returned (`<made_at>.<id>`)");
    let (t, id) = c.split_once('.').ok_or_else(bad)?;
    let digits =
        |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(t, 10) || !digits(id, 15) {
        return Err(bad());
    }
    let t = t.parse::<i64>().map_err(|_| bad())?;
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|id| *id <= MAX_ID)
        .ok_or_else(bad)?;
    Ok((t, id))
}

/// Query of `GET /api/predictions/history`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only this coin.
    #[param(value_type = Option<shared::Coin>, example = "BTC")]
    pub coin: Option<String>,
    /// Only this horizon.
    #[param(value_type = Option<shared::Horizon>, example = "1h")]
    pub horizon: Option<String>,
    /// Made at or after this time (rounded up to a whole minute, as predictions are made on
    /// whole minutes); default: 3 hours before `to`. One page reads at most 32 days
    /// (the newest of the range first): `next_cursor` continues further back.
    #[param(value_type = Option<crate::http::openapi::TimeParam>)]
    pub from: Option<String>,
    /// Made before this time (rounded up to a whole minute); default: now.
    #[param(value_type = Option<crate::http::openapi::TimeParam>)]
    pub to: Option<String>,
    /// Only predictions made on multiples of this many minutes (default 15, the page's table; 1 for all).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1440, example = 15)]
    pub step_minutes: Option<String>,
    /// Page size (default 200).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, example = 200)]
    pub limit: Option<String>,
    /// From a previous page's `next_cursor`, with the same other parameters.
    #[param(value_type = Option<String>, pattern = r"^[0-9]{1,10}\.[0-9]{1,15}$", example = "1795478400.1234")]
    pub cursor: Option<String>,
}

/// Past predictions with their outcomes, newest first, in pages.
///
/// By default the last 3 hours at 15-minute steps for every coin and horizon: the table the web
/// app shows. Page with `cursor`; a page reads at most 32 days of the range, so a wider range
/// takes several pages (`next_cursor` is absent only when nothing older is left in the range).
/// A page is read once per change of the data and then answered from memory; one whose window
/// ended two days ago no longer changes and may be cached (`Cache-Control: public, max-age=300`).
#[utoipa::path(
    tag = "predictions",
    params(HistoryQuery),
    responses(
        (status = 200, description = "A page of predictions, newest first", body = PredictionHistory),
        (status = 400, description = "A bad coin, horizon, time, step, limit or cursor", body = ApiErrorBody),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/predictions/history")]
pub async fn get_history(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let (coin, horizon) = parse_filters(&query.coin, &query.horizon, state.coins.served())?;
    // Predictions are made on whole minutes: both ends are rounded up to one (the same rows),
    // so the clients asking within the same minute ask the same question.
    let to = match &query.to {
        Some(t) => parse_time("to", t)?,
        None => state.clock.now().saturating_add(1),
    };
    let from = match &query.from {
        Some(f) => parse_time("from", f)?,
        None => to.saturating_sub(3 * HOUR_S),
    };
    let (from, to) = (ceil_minute(from), ceil_minute(to));
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
    // This page's window: up to the cursor, at most MAX_SPAN_S wide (the newest part first).
    let to = cursor.map_or(to, |(t, _)| to.min(t.saturating_add(1)));
    let window_from = from.max(to.saturating_sub(MAX_SPAN_S));
    let filter = HistoryFilter {
        coin,
        horizon,
        from: window_from,
        to,
        step_minutes: step,
        cursor,
        limit,
    };
    let snapshot = state.snapshot()?;
    let published = &state.published;
    let key = (coin, horizon, from, to, step, limit, cursor);
    // A page whose window ended two days ago no longer changes (its predictions are scored and
    // nothing is made that far back): caches may keep it a while.
    let cache = if to <= state.clock.now().saturating_sub(SETTLED_AFTER_S) {
        "public, max-age=300"
    } else {
        "no-cache"
    };
    if let Some(body) = published.history_pages.get(snapshot.generation, &key) {
        return Ok(body.respond(&req, cache));
    }
    let (rows, older) = {
        let _permit = published
            .slow_reads
            .acquire()
            .await
            .map_err(|e| ApiError::Unexpected(e.into()))?;
        let rows = if window_from < to {
            db::predictions::history(&state.db, filter).await?
        } else {
            Vec::new()
        };
        // When the page is not full and its window stopped short of `from`: is anything older?
        let older = if rows.len() as u64 <= limit && window_from > from {
            let older = HistoryFilter {
                from,
                to: window_from,
                cursor: None,
                limit: 0,
                ..filter
            };
            !db::predictions::history(&state.db, older).await?.is_empty()
        } else {
            false
        };
        (rows, older)
    };
    let mode = snapshot.mode.clone();
    let base_s = state.base_s;
    let body = tokio::task::spawn_blocking(move || {
        let more = rows.len() as u64 > limit;
        let page = &rows[..rows.len().min(limit as usize)];
        let next_cursor = if more {
            page.last().map(|r| format!("{}.{}", r.made_at, r.id))
        } else {
            older.then(|| format!("{window_from}.0"))
        };
        let body = PredictionHistory {
            mode,
            predictions: db::predictions::to_dtos(page, base_s),
            next_cursor,
        };
        Body::json(&body).map_err(|e| ApiError::Unexpected(e.into()))
    })
    .await
    .map_err(|e| ApiError::Unexpected(e.into()))??;
    published.history_pages.put(snapshot.generation, key, &body);
    Ok(body.respond(&req, cache))
}

/// `t` rounded up to a whole minute.
fn ceil_minute(t: i64) -> i64 {
    let floor = clock::minute_of(t);
    if floor == t {
        t
    } else {
        floor.saturating_add(clock::MINUTE_S)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_exactly_the_documented_form() {
        assert_eq!(parse_cursor("1795478400.12").ok(), Some((1_795_478_400, 12)));
        assert_eq!(parse_cursor("0.0").ok(), Some((0, 0)));
        for bad in [
            "",
            "1",
            "1.",
            ".1",
            "a.b",
            "-1.2",
            "1.-2",
            "12345678901.1",
            "1.9999999999999999",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }
}
