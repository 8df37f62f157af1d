//! `GET /api/predictions`: the newest prediction per coin and horizon (what bots poll).

use actix_web::{HttpRequest, HttpResponse, get, web};
use sea_orm::DbErr;
use serde::Deserialize;
use shared::{ApiErrorBody, LatestPrediction, PredictionsResponse};
use utoipa::IntoParams;

use crate::clock;
use crate::collect::sources::SourceId;
use crate::db;
use crate::db::predictions::{readable, to_dto};
use crate::http::error::ApiError;
use crate::http::routes::params::parse_filters;
use crate::http::state::AppState;
use crate::predict::accuracy::{PREDICTIONS_WINDOW, accuracy};

/// Query of `GET /api/predictions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PredictionsQuery {
    /// Only this coin.
    #[param(value_type = Option<shared::Coin>, example = "BTC")]
    pub coin: Option<String>,
    /// Only this horizon.
    #[param(value_type = Option<shared::Horizon>, example = "1h")]
    pub horizon: Option<String>,
}

/// Every coin and horizon's newest prediction with its live 7-day accuracy, from the database
/// (what the published state serves; see `http::published`).
pub async fn build(state: &AppState, now: i64) -> Result<PredictionsResponse, DbErr> {
    let mut out = Vec::new();
    for model in state.registry.all() {
        let (c, h) = (model.card.coin, model.card.horizon);
        let newest = db::predictions::newest(&state.db, c, h).await?;
        let status = db::status::get(&state.db, SourceId::Predictions(c, h)).await?;
        out.push(LatestPrediction {
            coin: c,
            horizon: h,
            cadence_minutes: h.cadence_minutes(),
            prediction: newest.as_ref().and_then(|p| readable(to_dto(p))),
            not_made_reason: status
                .filter(|s| s.consecutive_failures > 0)
                .and_then(|s| s.last_error),
            accuracy_7d: {
                let mut a = accuracy(&state.db, c, h, PREDICTIONS_WINDOW, false, now).await?;
                a.out_of_sample = state.out_of_sample(&model.card);
                a
            },
            skill: Some(crate::http::routes::models::skill(&model)),
        });
    }
    Ok(PredictionsResponse {
        mode: state.mode().await?,
        predictions: out,
    })
}

/// The newest prediction per coin and horizon, with its live 7-day accuracy and its model's
/// walk-forward skill.
///
/// What trading bots poll. Each prediction has a stable `id`, `published_at` and `valid_until`
/// (the next one is due by then); `skill.beats_baseline` says whether the model beat the
/// majority-class baseline out of sample. Answers carry an `ETag` (send it back in `If-None-Match` to get a 304
/// while nothing changed) and a `Cache-Control: max-age` that ends at the next collection of
/// minute candles (by default second 5 of each minute, `jobs.candles_cron`): each minute's
/// predictions are made as soon as its candles are stored (by `jobs.predict_cron`, second 20, at
/// the latest). Served from memory: a new prediction shows, with a new ETag, as soon as the tick
/// that made it has committed.
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
    let filter = parse_filters(&query.coin, &query.horizon)?;
    let snapshot = state.snapshot()?;
    let body = snapshot.predictions.get(&filter).ok_or(ApiError::NotReady)?;
    // Fresh until the next prediction tick.
    let cache = format!("public, max-age={}", state.seconds_to_next_tick(clock::now()));
    Ok(body.respond(&req, &cache))
}
