//! `GET /api/prices/latest` and `GET /api/prices`: stored market data, read back with gaps filled
//! (and flagged) at read time.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use shared::{ApiErrorBody, CandleDto, CandlesResponse, Coin, LatestPrice, PricesResponse, Resolution};
use utoipa::IntoParams;

use crate::entities::candle;
use crate::error::ApiError;
use crate::{market, state::AppState};

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
pub async fn get_latest_prices(state: web::Data<AppState>) -> Result<web::Json<PricesResponse>, ApiError> {
    let mut prices = Vec::new();
    for coin in Coin::ALL {
        let minutes = || {
            candle::Entity::find()
                .filter(candle::Column::Coin.eq(coin.ticker()))
                .filter(candle::Column::IntervalS.eq(60))
        };
        let Some(latest) = minutes().order_by_desc(candle::Column::Ts).one(&state.db).await? else {
            continue;
        };
        let day_ago = latest.ts - 86_400;
        // The newest minute at or before 24 h ago, if it is within an hour of it.
        let before = minutes()
            .filter(candle::Column::Ts.lte(day_ago))
            .filter(candle::Column::Ts.gt(day_ago - 3_600))
            .order_by_desc(candle::Column::Ts)
            .one(&state.db)
            .await?;
        let price_24h_ago = before.map(|b| b.close);
        prices.push(LatestPrice {
            coin,
            price: latest.close,
            at: DateTime::from_timestamp(latest.ts, 0).unwrap_or_default(),
            price_24h_ago,
            change_24h_pct: price_24h_ago
                .filter(|p| *p > 0.0)
                .map(|p| (latest.close - p) / p * 100.0),
            source: latest.source,
        });
    }
    Ok(web::Json(PricesResponse {
        mode: state.mode().await?,
        prices,
    }))
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
        None => Utc::now().timestamp(),
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
    let bars = market::read_candles(&state.db, coin, from, to, step).await?;
    Ok(web::Json(CandlesResponse {
        coin,
        resolution,
        from: DateTime::from_timestamp(from, 0).unwrap_or_default(),
        to: DateTime::from_timestamp(to, 0).unwrap_or_default(),
        candles: bars
            .into_iter()
            .map(|r| CandleDto {
                t: DateTime::from_timestamp(r.bar.ts, 0).unwrap_or_default(),
                o: r.bar.open,
                h: r.bar.high,
                l: r.bar.low,
                c: r.bar.close,
                v: r.bar.volume,
                filled: r.filled,
            })
            .collect(),
    }))
}

/// An RFC 3339 time or Unix seconds.
pub fn parse_time(parameter: &str, value: &str) -> Result<i64, ApiError> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<i64>() {
        return Ok(secs);
    }
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.timestamp())
        .map_err(|e| {
            ApiError::invalid_parameter(
                parameter,
                format!("`{parameter}` must be an RFC 3339 time (2026-11-24T00:00:00Z) or Unix seconds: {e}"),
            )
        })
}
