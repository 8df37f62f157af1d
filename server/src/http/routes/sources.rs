//! `GET /api/sources`: the health of every upstream source.

use actix_web::{get, web};
use shared::{ApiErrorBody, SourcesResponse};

use crate::clock;
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
pub async fn get_sources(state: web::Data<AppState>) -> Result<web::Json<SourcesResponse>, ApiError> {
    let sources = sources::health(&state.db, &state.sources, clock::now()).await?;
    Ok(web::Json(SourcesResponse {
        mode: state.mode().await?,
        jobs_enabled: state.jobs_enabled,
        sources,
    }))
}
