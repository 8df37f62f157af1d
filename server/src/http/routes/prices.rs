//! `GET /api/prices/latest` and `GET /api/prices`: stored market data, read back with gaps filled
//! (and flagged) by one rule (`models::bars::chart_bars`), from the bars each process keeps in
//! memory (`http::charts`) when the range lies in their window, else from the database.

use actix_web::{HttpRequest, HttpResponse};
use actix_web::{get, web};
use sea_orm::DbErr;
use serde::Deserialize;
use shared::{ApiErrorBody, CandleDto, CandlesResponse, Coin, LatestPrice, PricesResponse, Resolution};
use utoipa::IntoParams;

use crate::clock::{DAY_S, HOUR_S, MINUTE_S, to_utc};
use crate::db;
use crate::http::body::Body;
use crate::http::error::ApiError;
use crate::http::routes::params::{parse_coin, parse_time, utc};
use crate::http::state::AppState;

/// Most bars one candle request returns.
pub const MAX_BARS: i64 = 5_000;

/// Most minutes one candle request spans (70 days: 100,800 minutes, plus the hour before `from`
/// a gap at the start is carried from).
///
/// A range in the last 72 days is copied from the bars each process keeps in memory
/// (`http::charts`); an older one reads the database (one of `http::pages::SLOW_READS` at a
/// time) and resamples at read time, and bounding the span keeps such a read under about 100k
/// rows (a few MB, tens of milliseconds). The web app's widest view (30 days, at 15 m or 1 d)
/// fits with room to spare; a longer history is served by paging the range. Without `from`, `1d`
/// returns the last 70 days instead of 200 bars.
pub const MAX_READ_MINUTES: i64 = 70 * DAY_S / MINUTE_S;

/// `resolution`, or, when it is finer than the stored candles (`base_s`: a replay of 5-minute
/// candles has no 1-minute bars), the finest resolution they make.
fn servable(resolution: Resolution, base_s: i64) -> Resolution {
    if resolution.seconds() >= base_s {
        return resolution;
    }
    Resolution::ALL
        .into_iter()
        .filter(|r| r.seconds() >= base_s)
        .min_by_key(|r| r.seconds())
        .unwrap_or(Resolution::D1)
}

/// `t` rounded down to a multiple of `step` (`None` on overflow).
fn floor_to(t: i64, step: i64) -> Option<i64> {
    t.checked_div_euclid(step)?.checked_mul(step)
}

/// `t` rounded up to a multiple of `step` (`None` on overflow).
fn ceil_to(t: i64, step: i64) -> Option<i64> {
    let floor = floor_to(t, step)?;
    if floor == t {
        Some(t)
    } else {
        floor.checked_add(step)
    }
}

/// The latest price of each coin with its change over 24 hours.
#[utoipa::path(
    tag = "data",
    responses(
        (status = 200, description = "One entry per coin with stored minute candles", body = PricesResponse),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/prices/latest")]
pub async fn get_latest_prices(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(state.snapshot()?.prices_latest.respond(&req, "no-cache"))
}

/// Each coin's newest stored minute and its change over 24 hours, from the database.
pub async fn build_latest(state: &AppState) -> Result<PricesResponse, DbErr> {
    let mut prices = Vec::new();
    for &coin in state.coins.served() {
        let Some(latest) = db::candles::latest_of(&state.db, coin, state.base_s).await? else {
            continue;
        };
        let Some(at) = to_utc(latest.ts) else {
            tracing::error!(%coin, ts = latest.ts, "stored candle time out of range");
            continue;
        };
        let day_ago = latest.ts - DAY_S;
        // The newest minute at or before 24 h ago, if it is within an hour of it.
        let before = db::candles::bar_in(&state.db, coin, state.base_s, day_ago - HOUR_S, day_ago).await?;
        let price_24h_ago = before.map(|b| b.close);
        prices.push(LatestPrice {
            coin,
            price: latest.close,
            at,
            price_24h_ago,
            change_24h_pct: price_24h_ago
                .filter(|p| *p > 0.0)
                .map(|p| (latest.close - p) / p * 100.0),
            source: latest.source,
        });
    }
    Ok(PricesResponse {
        mode: state.mode().await?,
        prices,
    })
}

/// Query of `GET /api/prices`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandlesQuery {
    /// The coin.
    #[param(value_type = shared::Coin, example = "BTC")]
    pub coin: String,
    /// Bar size (default `1h`). Where the stored candles are longer than the size asked for (a
    /// deployment replaying 5-minute candles has no `1m` bars) the answer comes at the finest size
    /// there is, and its `resolution` says which.
    #[param(value_type = Option<Resolution>, example = "1h")]
    pub resolution: Option<String>,
    /// Start (inclusive, aligned down to the bar size); default: `to` minus 200 bars. A request
    /// reads at most 5,000 bars and 70 days: an earlier `from` is moved up to that bound, and the
    /// answer's `from` says where the bars start (ask again with `to` = that `from` for older ones).
    #[param(value_type = Option<crate::http::openapi::TimeParam>, example = "2026-11-24T00:00:00Z")]
    pub from: Option<String>,
    /// End (exclusive, aligned up to the bar size); default: now. A `from` at or after `to` gives
    /// no bars.
    #[param(value_type = Option<crate::http::openapi::TimeParam>)]
    pub to: Option<String>,
}

/// Candles of a coin over a range, resampled at read time from the stored minute candles. Minutes
/// missing at the source are forward-filled from the previous close and flagged (`filled`); the
/// bar still forming is marked `closed: false`.
#[utoipa::path(
    tag = "data",
    params(CandlesQuery),
    responses(
        (status = 200, description = "Bars oldest first", body = CandlesResponse),
        (status = 400, description = "A bad coin, resolution or time", body = ApiErrorBody),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/prices")]
pub async fn get_prices(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CandlesQuery>,
) -> Result<HttpResponse, ApiError> {
    let coin = parse_coin(&query.coin, state.coins.served())?;
    let resolution = match &query.resolution {
        Some(r) => Resolution::ALL
            .into_iter()
            .find(|x| x.as_str() == r)
            .ok_or_else(|| {
                ApiError::invalid_parameter(
                    "resolution",
                    format!("unknown resolution {r:?}: expected one of 1m, 5m, 15m, 1h, 1d"),
                )
            })?,
        None => Resolution::H1,
    };
    // Nothing finer than the stored candles exists: a finer resolution is answered at the finest
    // one there is (the answer's `resolution` says which).
    let resolution = servable(resolution, state.base_s);
    let step = resolution.seconds();
    // Times are clamped to 2009..2100 where parsed, so the arithmetic below is far from
    // overflow; it is checked all the same.
    let overflow =
        |parameter: &str| ApiError::invalid_parameter(parameter, format!("`{parameter}` is out of range"));
    let to = match &query.to {
        Some(t) => parse_time("to", t)?,
        None => state.clock.now(),
    };
    let to = ceil_to(to, step).ok_or_else(|| overflow("to"))?;
    // The widest range one request reads: 5,000 bars and 70 days of minutes.
    let widest = (step.checked_mul(MAX_BARS).ok_or_else(|| overflow("to"))?).min(MAX_READ_MINUTES * MINUTE_S);
    let earliest =
        ceil_to(to.checked_sub(widest).ok_or_else(|| overflow("to"))?, step).ok_or_else(|| overflow("to"))?;
    let from = match &query.from {
        Some(f) => floor_to(parse_time("from", f)?, step).ok_or_else(|| overflow("from"))?,
        // 200 bars, or as many as the read bound allows (70 at `1d`).
        None => to
            .checked_sub(step.checked_mul(200).ok_or_else(|| overflow("to"))?)
            .ok_or_else(|| overflow("to"))?,
    }
    .max(earliest);
    let snapshot = state.snapshot()?;
    let published = &state.published;
    let key = (coin, step, from, to, state.clock.current_minute());
    if let Some(body) = published.chart_pages.get(snapshot.generation, &key) {
        return Ok(body.respond(&req, "no-cache"));
    }
    // The bars kept in memory when the range lies in their window; else the database, one of
    // a few such reads at a time.
    let kept = if from < to {
        published
            .charts
            .with(coin, |c| c.bars(from, to, step).map(|bars| (bars, c.newest())))
            .flatten()
    } else {
        Some((Vec::new(), None))
    };
    let (bars, newest) = match kept {
        Some(kept) => kept,
        None => {
            let _permit = published
                .slow_reads
                .acquire()
                .await
                .map_err(|e| ApiError::Unexpected(e.into()))?;
            let bars = db::candles::read_candles(&state.db, coin, state.base_s, from, to, step).await?;
            let newest = db::candles::latest_of(&state.db, coin, state.base_s)
                .await?
                .map(|c| c.ts);
            (bars, newest)
        }
    };
    // A bar is final once its last minute has ended (by the current minute) and been collected
    // (the newest base bar stored ends by then).
    let final_before = key.4.min(newest.unwrap_or(0).saturating_add(state.base_s));
    let body = tokio::task::spawn_blocking(move || answer(coin, resolution, from, to, final_before, bars))
        .await
        .map_err(|e| ApiError::Unexpected(e.into()))??;
    published.chart_pages.put(snapshot.generation, key, &body);
    Ok(body.respond(&req, "no-cache"))
}

/// The answer to a chart request: `bars` of `resolution` over `[from, to)`; a bar is final once
/// it ends at or before `final_before` (see [`get_prices`]).
fn answer(
    coin: Coin,
    resolution: Resolution,
    from: i64,
    to: i64,
    final_before: i64,
    bars: Vec<db::candles::ReadBar>,
) -> Result<Body, ApiError> {
    let step = resolution.seconds();
    let body = CandlesResponse {
        coin,
        resolution,
        from: utc("from", from.min(to))?,
        to: utc("to", to)?,
        candles: bars
            .into_iter()
            .map(|r| {
                Ok(CandleDto {
                    t: utc("from", r.bar.ts)?,
                    o: r.bar.open,
                    h: r.bar.high,
                    l: r.bar.low,
                    c: r.bar.close,
                    v: r.bar.volume,
                    filled: r.filled,
                    closed: r.bar.ts.saturating_add(step) <= final_before,
                })
            })
            .collect::<Result<_, ApiError>>()?,
    };
    Body::json(&body).map_err(|e| ApiError::Unexpected(e.into()))
}
