//! Parsing query parameters shared by several routes: coin and horizon filters, times.

use chrono::DateTime;
use shared::{Coin, Horizon};

use crate::http::error::ApiError;

/// Parses the optional `coin` and `horizon` filters.
pub fn parse_filters(
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

/// A time the API shows, as UTC; out of range is a bad parameter (never shown as 1970).
pub fn utc(parameter: &str, t: i64) -> Result<DateTime<chrono::Utc>, ApiError> {
    crate::clock::to_utc(t)
        .ok_or_else(|| ApiError::invalid_parameter(parameter, format!("`{parameter}` is out of range")))
}
