//! `GET /api/prices/latest` and `GET /api/prices`: stored market data, read back with gaps filled
//! (and flagged) at read time.

use actix_web::{HttpRequest, HttpResponse};
use actix_web::{get, web};
use sea_orm::DbErr;
use serde::Deserialize;
use shared::{ApiErrorBody, CandleDto, CandlesResponse, Coin, LatestPrice, PricesResponse, Resolution};
use utoipa::IntoParams;

use crate::clock::{self, DAY_S, HOUR_S, to_utc};
use crate::db;
use crate::http::error::ApiError;
use crate::http::routes::params::{parse_time, utc};
use crate::http::state::AppState;

/// Most bars one candle request returns.
pub const MAX_BARS: i64 = 5_000;

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
    for coin in Coin::ALL {
        let Some(latest) = db::candles::latest_minute(&state.db, coin).await? else {
            continue;
        };
        let Some(at) = to_utc(latest.ts) else {
            tracing::error!(%coin, ts = latest.ts, "stored candle time out of range");
            continue;
        };
        let day_ago = latest.ts - DAY_S;
        // The newest minute at or before 24 h ago, if it is within an hour of it.
        let before = db::candles::minute_in(&state.db, coin, day_ago - HOUR_S, day_ago).await?;
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
    /// BTC, LTC or XRP (or Bitcoin, Litecoin, Ripple; any case).
    #[param(example = "BTC")]
    pub coin: String,
    /// Bar size: `1m`, `5m`, `15m`, `1h` or `1d` (default `1h`).
    #[param(value_type = Option<String>, example = "1h")]
    pub resolution: Option<String>,
    /// Start (inclusive): RFC 3339 (`2026-11-24T00:00:00Z`) or Unix seconds; default: `to` minus
    /// 200 bars.
    #[param(example = "2026-11-24T00:00:00Z")]
    pub from: Option<String>,
    /// End (exclusive): RFC 3339 or Unix seconds; default: now.
    pub to: Option<String>,
}

/// Candles of a coin over a range, resampled at read time from the stored minute candles. Minutes
/// missing at the source are forward-filled from the previous close and flagged (`filled`).
#[utoipa::path(
    tag = "data",
    params(CandlesQuery),
    responses(
        (status = 200, description = "Bars oldest first", body = CandlesResponse),
        (status = 400, description = "Unknown coin or resolution, or a bad range", body = ApiErrorBody),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/prices")]
pub async fn get_prices(
    state: web::Data<AppState>,
    query: web::Query<CandlesQuery>,
) -> Result<web::Json<CandlesResponse>, ApiError> {
    let coin: Coin = query
        .coin
        .parse()
        .map_err(|e| ApiError::invalid_parameter("coin", e))?;
    let resolution: Resolution = match &query.resolution {
        Some(r) => r
            .parse()
            .map_err(|e: String| ApiError::invalid_parameter("resolution", e))?,
        None => Resolution::H1,
    };
    let step = resolution.seconds();
    let to = match &query.to {
        Some(t) => parse_time("to", t)?,
        None => clock::now(),
    };
    let to = to.div_euclid(step) * step + if to.rem_euclid(step) == 0 { 0 } else { step };
    let from = match &query.from {
        Some(f) => parse_time("from", f)?.div_euclid(step) * step,
        None => to - 200 * step,
    };
    if from >= to {
        return Err(ApiError::invalid_parameter("from", "`from` must be before `to`"));
    }
    if (to - from) / step > MAX_BARS {
        return Err(ApiError::invalid_parameter(
            "from",
            format!(
                "the range holds more than {MAX_BARS} bars of {}: narrow it or use a coarser resolution",
                resolution.as_str()
            ),
        ));
    }
    let bars = db::candles::read_candles(&state.db, coin, from, to, step).await?;
    Ok(web::Json(CandlesResponse {
        coin,
        resolution,
        from: utc("from", from)?,
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
                })
            })
            .collect::<Result<_, ApiError>>()?,
    }))
}
