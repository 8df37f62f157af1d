//! `GET /api/accuracy`: live accuracy per coin and horizon.

use actix_web::{HttpRequest, HttpResponse, get, web};
use sea_orm::DbErr;
use shared::{AccuracyResponse, AccuracyRow, ApiErrorBody};

use crate::http::error::ApiError;
use crate::http::routes::params::{CoinHorizonQuery, parse_filters};
use crate::http::state::AppState;
use crate::predict::accuracy::{AccuracyTable, WINDOWS};

/// Live accuracy per coin and horizon over the trailing 24 h, 7 d and 30 d, next to the
/// majority-class baseline (the more frequent realized direction) of the same predictions, with n and a 95% Wilson interval.
/// Backfilled predictions are reported apart.
#[utoipa::path(
    tag = "predictions",
    params(CoinHorizonQuery),
    responses(
        (status = 200, description = "One row per coin and horizon", body = AccuracyResponse),
        (status = 400, description = "Unknown coin or horizon", body = ApiErrorBody),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/accuracy")]
pub async fn get_accuracy(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CoinHorizonQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = parse_filters(&query.coin, &query.horizon, state.coins.served())?;
    let snapshot = state.snapshot()?;
    let body = snapshot.accuracy.get(&filter).ok_or(ApiError::NotReady)?;
    let cache = state.cache_until_next_tick(&snapshot);
    Ok(body.respond(&req, &cache))
}

/// Every coin and horizon's live and backfilled accuracy, from the database.
pub async fn build(state: &AppState, table: &AccuracyTable) -> Result<AccuracyResponse, DbErr> {
    let mut rows = Vec::new();
    for model in state.registry.all() {
        let (c, h) = (model.card.coin, model.card.horizon);
        let mut live = Vec::new();
        let mut backfilled = Vec::new();
        for w in WINDOWS {
            let oos = state.out_of_sample(&model.card);
            let mut a = table.get(c, h, w, false);
            a.out_of_sample = oos;
            live.push(a);
            let mut a = table.get(c, h, w, true);
            a.out_of_sample = oos;
            backfilled.push(a);
        }
        rows.push(AccuracyRow {
            coin: c,
            horizon: h,
            live,
            backfilled,
        });
    }
    Ok(AccuracyResponse {
        mode: state.mode().await?,
        rows,
    })
}
