//! `GET /api/health`: is the service up, and can it reach its database?

use std::time::Instant;

use actix_web::{HttpResponse, get, web};
use sea_orm::ConnectionTrait;
use shared::{ApiErrorBody, DataMode, DatabaseHealth, HealthResponse, HealthStatus, SourceState};

use crate::{db, sources, state::AppState};

/// Service health: version, database reachability, uptime, data mode and failing sources.
///
/// Returns 200 when everything answers and 503 (with the same body, `status: degraded`) when the
/// database does not.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "The service and its database answer", body = HealthResponse),
        (status = 503, description = "The database does not answer", body = HealthResponse),
        (status = 500, description = "Unexpected failure", body = ApiErrorBody),
    )
)]
#[get("/api/health")]
pub async fn get_health(state: web::Data<AppState>) -> HttpResponse {
    let started = Instant::now();
    let reachable = state.db.execute_unprepared("SELECT 1").await.is_ok();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let migrations_applied = if reachable {
        db::applied_migrations(&state.db).await.unwrap_or(0)
    } else {
        0
    };
    let now = chrono::Utc::now().timestamp();
    let failing_sources = if reachable {
        sources::health(&state.db, &state.sources, now)
            .await
            .map(|all| {
                all.into_iter()
                    .filter(|s| matches!(s.state, SourceState::Failing | SourceState::Stale))
                    .map(|s| s.source)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let body = HealthResponse {
        status: if reachable {
            HealthStatus::Ok
        } else {
            HealthStatus::Degraded
        },
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database: DatabaseHealth {
            reachable,
            backend: db::backend_name(&state.db).to_owned(),
            latency_ms,
            migrations_applied: u32::try_from(migrations_applied).unwrap_or(u32::MAX),
        },
        started_at: state.started_at,
        uptime_seconds: state.started.elapsed().as_secs(),
        mode: state.mode().await.unwrap_or(DataMode::Live),
        failing_sources,
    };
    if reachable {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
