//! `GET /api/models`: the served models, their walk-forward evaluation and live accuracy.

use actix_web::{HttpRequest, HttpResponse, get, web};
use sea_orm::DbErr;
use shared::{ApiErrorBody, CoveragePoint, ModelInfo, ModelsResponse, ReliabilityBin, WalkForwardSummary};

use crate::clock;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::predict::accuracy::{WINDOWS, accuracy};

/// The served models: kind, depth, features, training span, walk-forward metrics next to the
/// baseline (and the misleading shuffled-split figure), and live accuracy.
#[utoipa::path(
    tag = "predictions",
    responses(
        (status = 200, description = "One entry per coin and horizon", body = ModelsResponse),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/models")]
pub async fn get_models(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let cache = format!("public, max-age={}", state.seconds_to_next_tick(clock::now()));
    Ok(snapshot.models.respond(&req, &cache))
}

/// Every served model with its evaluation and live accuracy, from its card and the database.
pub async fn build(state: &AppState, now: i64) -> Result<ModelsResponse, DbErr> {
    let mut models = Vec::new();
    for m in state.registry.all() {
        let c = &m.card;
        let wf = &c.walk_forward.metrics;
        let mut live = Vec::new();
        for w in WINDOWS {
            live.push(accuracy(&state.db, c.coin, c.horizon, w, false, now).await?);
        }
        models.push(ModelInfo {
            id: c.id.clone(),
            coin: c.coin,
            horizon: c.horizon,
            kind: c.model_name.clone(),
            depth: c.depth as u32,
            feature_version: c.features.version,
            features: c.features.names.len() as u32,
            series: c.features.series.clone(),
            bar_seconds: c.features.bar_seconds,
            trained_from: c.training.from.chars().take(10).collect(),
            trained_to: c.training.to.chars().take(10).collect(),
            training_rows: c.training.rows as u32,
            walk_forward: WalkForwardSummary {
                test_from: c.walk_forward.test_from.chars().take(10).collect(),
                test_to: c.walk_forward.test_to.chars().take(10).collect(),
                n: wf.n as u32,
                accuracy: wf.accuracy,
                wilson_low: wf.wilson_low,
                wilson_high: wf.wilson_high,
                baseline_accuracy: wf.baseline_accuracy,
                p_value: wf.p_value,
                brier: wf.brier,
                log_loss: wf.log_loss,
                accuracy_vs_coverage: c
                    .walk_forward
                    .accuracy_vs_coverage
                    .iter()
                    .map(|p| CoveragePoint {
                        coverage: p.coverage,
                        accuracy: p.accuracy,
                        n: p.n as u32,
                    })
                    .collect(),
                reliability: c
                    .walk_forward
                    .reliability
                    .iter()
                    .map(|b| ReliabilityBin {
                        mean_predicted: b.mean_predicted,
                        observed_up: b.observed_up,
                        n: b.n as u32,
                    })
                    .collect(),
            },
            shuffled_split_accuracy: c.shuffled_split.accuracy,
            live,
        });
    }
    Ok(ModelsResponse { models })
}
