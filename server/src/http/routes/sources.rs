//! `GET /api/sources`: the health of every upstream source.

use actix_web::{HttpRequest, HttpResponse, get, web};
use sea_orm::DbErr;
use shared::{ApiErrorBody, SourcesResponse};

use crate::collect::sources;
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// Health of each upstream source: last success, last error, consecutive failures and how fresh
/// its newest data is; and whether the server collects live or replays recorded history.
#[utoipa::path(
    tag = "data",
    responses(
        (status = 200, description = "One entry per source", body = SourcesResponse),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/sources")]
pub async fn get_sources(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(state.snapshot()?.sources.respond(&req, "no-cache"))
}

/// Every source's health, from the database.
pub async fn build(state: &AppState, now: i64) -> Result<SourcesResponse, DbErr> {
    Ok(SourcesResponse {
        mode: state.mode().await?,
        jobs_enabled: state.jobs_enabled,
        sources: sources::health(&state.db, &state.sources, now).await?,
    })
}
