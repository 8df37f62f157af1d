//! `GET /api/models`: the served models, their walk-forward evaluation and live accuracy.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, get, web};
use sea_orm::DbErr;
use shared::{
    ApiErrorBody, Calibration, ConfidenceDecile, CoveragePoint, FeatureImportance, GateDecisionInfo,
    ModelInfo, ModelOrigin, ModelVersion, ModelsResponse, ReliabilityBin, RetrainStatus, Skill,
    StrongestBaseline, VersionAccuracy, WalkForwardSummary,
};

use crate::db;
use crate::db::entities::model_version::Decision;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::predict::accuracy::{AccuracyTable, WINDOWS};
use crate::predict::registry::{LoadedModel, Origin};
use shared::time::rfc3339_z as rfc3339;

/// The p-value under which a model counts as beating its baseline.
pub const SIGNIFICANCE: f64 = 0.05;

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
    let cache = state.cache_until_next_tick(&snapshot);
    Ok(snapshot.models.respond(&req, &cache))
}

/// One served model: the same entry as in `GET /api/models`, by its id (`model_id` of a
/// prediction, `skill.model_id` of `GET /api/predictions`).
#[utoipa::path(
    tag = "predictions",
    params(("id" = String, Path, description = "A model id, e.g. `BTC-1h-1a2b3c4d`", example = "BTC-1h-1a2b3c4d")),
    responses(
        (status = 200, description = "The model", body = ModelInfo),
        (status = 404, description = "No served model has this id (`not_found`)", body = ApiErrorBody),
        (status = 503, description = "The database does not answer", body = ApiErrorBody),
    )
)]
#[get("/api/models/{id}")]
pub async fn get_model(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.snapshot()?;
    let body = snapshot.model_by_id.get(id.as_str()).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no served model has the id {:?}; GET /api/models lists them",
            id.as_str()
        ))
    })?;
    let cache = state.cache_until_next_tick(&snapshot);
    Ok(body.respond(&req, &cache))
}

/// Each served model's p-value against its strongest simple rule (the majority class for a card
/// without one), Holm-adjusted across every served model: a bot picks among all of them, so the
/// chance that one of them "beats" its rule by luck alone is what must stay under 5%.
/// Benjamini-Hochberg's adjustment (false discovery rate) is given beside it.
pub fn holm_by_model(models: &[Arc<LoadedModel>]) -> HashMap<String, Adjusted> {
    let raw: Vec<f64> = models
        .iter()
        .map(|m| {
            let wf = &m.card.walk_forward.metrics;
            wf.strongest_baseline.map_or(wf.p_value, |b| b.p_value)
        })
        .collect();
    let (holm, bh) = (models::stats::holm(&raw), models::stats::benjamini_hochberg(&raw));
    models
        .iter()
        .map(|m| m.card.id.clone())
        .zip(holm.into_iter().zip(bh).map(|(holm, bh)| Adjusted { holm, bh }))
        .collect()
}

/// A served model's p-value against its strongest rule, adjusted across the served models.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adjusted {
    /// Holm's step-down (family-wise error): what `beats_baseline` is decided on.
    pub holm: f64,
    /// Benjamini-Hochberg's step-up (false discovery rate), shown beside it.
    pub bh: f64,
}

/// A model's walk-forward skill in short; `holm` is [`holm_by_model`] of the served models.
/// `beats_baseline` is the headline: the model beat the strongest simple rule, Holm-corrected.
pub fn skill(model: &LoadedModel, holm: &HashMap<String, Adjusted>) -> Skill {
    let wf = &model.card.walk_forward.metrics;
    let adjusted = holm.get(&model.card.id).copied();
    let significant = |raw: f64| adjusted.map_or(raw, |a| a.holm) < SIGNIFICANCE;
    let strongest = wf.strongest_baseline.map(|b| StrongestBaseline {
        name: b.name,
        accuracy: b.accuracy,
        p_value: b.p_value,
        p_value_holm: adjusted.map(|a| a.holm),
        p_value_bh: adjusted.map(|a| a.bh),
        n_effective: b.n_effective,
        beaten: wf.accuracy > b.accuracy && significant(b.p_value),
    });
    Skill {
        model_id: model.card.id.clone(),
        accuracy: wf.accuracy,
        baseline_accuracy: wf.baseline_accuracy,
        p_value: wf.p_value,
        n: u32::try_from(wf.n).unwrap_or(u32::MAX),
        n_effective: wf.n_effective,
        beats_baseline: match &strongest {
            Some(b) => b.beaten,
            None => wf.accuracy > wf.baseline_accuracy && significant(wf.p_value),
        },
        out_of_sample: true,
        strongest_baseline: strongest,
    }
}

/// Every served model with its evaluation and live accuracy, from its card and the database.
pub async fn build(state: &AppState, table: &AccuracyTable) -> Result<ModelsResponse, DbErr> {
    let mut models = Vec::new();
    let served = state.registry.all();
    let holm = holm_by_model(&served);
    // Every coin and horizon's gate decisions in one read.
    let decisions = db::versions::all_decisions(&state.db, DECISIONS_SHOWN).await?;
    for m in served {
        let c = &m.card;
        let wf = &c.walk_forward.metrics;
        let mut live = Vec::new();
        for w in WINDOWS {
            let mut a = table.get(c.coin, c.horizon, w, false);
            a.out_of_sample = state.out_of_sample(c);
            live.push(a);
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
                out_of_sample: true,
                test_from: c.walk_forward.test_from.chars().take(10).collect(),
                test_to: c.walk_forward.test_to.chars().take(10).collect(),
                n: wf.n as u32,
                n_effective: wf.n_effective,
                accuracy: wf.accuracy,
                wilson_low: wf.wilson_low,
                wilson_high: wf.wilson_high,
                baseline_accuracy: wf.baseline_accuracy,
                p_value: wf.p_value,
                p_value_binomial: wf.p_value_binomial,
                momentum_accuracy: wf.momentum_accuracy,
                reversal_accuracy: wf.reversal_accuracy,
                brier: wf.brier,
                log_loss: wf.log_loss,
                accuracy_vs_coverage: c
                    .walk_forward
                    .accuracy_vs_coverage
                    .iter()
                    .map(|p| CoveragePoint {
                        coverage: p.coverage,
                        // The card keeps |p_up - 0.5|; the API speaks `confidence` everywhere.
                        min_confidence: p.min_confidence.map(|d| (d * 2.0).min(1.0)),
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
                confidence_deciles: c
                    .walk_forward
                    .confidence_deciles
                    .iter()
                    .map(|d| ConfidenceDecile {
                        decile: d.decile as u32,
                        // The card keeps |p_up - 0.5|, as above.
                        min_confidence: (d.min_confidence * 2.0).min(1.0),
                        accuracy: d.accuracy,
                        n: d.n as u32,
                        n_effective: d.n_effective,
                        wilson_low: d.low,
                        wilson_high: d.high,
                    })
                    .collect(),
            },
            shuffled_split_accuracy: c.shuffled_split.accuracy,
            live,
            skill: skill(&m, &holm),
            version: version(state, table, &decisions, &m),
            calibration: c.calibration.as_ref().map(|k| Calibration {
                method: k.method.clone(),
                a: k.a,
                b: k.b,
                rows: k.rows as u32,
                log_loss_before: k.log_loss_before,
                log_loss_after: k.log_loss_after,
            }),
            importance: c
                .importance
                .iter()
                .map(|f| FeatureImportance {
                    feature: f.feature.clone(),
                    log_loss_increase: f.log_loss_increase,
                })
                .collect(),
            configurations_tried: c.configurations_tried.map(|n| n as u32),
            pooled_with: c.pooled_with.clone(),
            cross_section: c.features.market.iter().filter_map(|t| t.parse().ok()).collect(),
        });
    }
    let retrain = crate::predict::retrain::stored_progress(&state.db)
        .await?
        .map(|p| RetrainStatus {
            running: p.finished_at.is_none(),
            started_at: rfc3339(p.started_at),
            finished_at: p.finished_at.map(rfc3339),
            done: p.done as u32,
            total: p.total as u32,
            promoted: p.promoted as u32,
            step: p.step,
        });
    Ok(ModelsResponse { models, retrain })
}

/// Decisions shown per coin and horizon.
pub const DECISIONS_SHOWN: usize = 10;

/// The gate decisions shown, by coin and horizon (`db::versions::all_decisions`).
type Decisions = std::collections::HashMap<
    (shared::Coin, shared::Horizon),
    Vec<crate::db::entities::model_version::Model>,
>;

/// The serving version of a model, the gate's decisions for its coin and horizon, and live
/// accuracy per version (each on its own predictions, over 30 days).
fn version(state: &AppState, table: &AccuracyTable, decisions: &Decisions, m: &LoadedModel) -> ModelVersion {
    let c = &m.card;
    let rows = decisions
        .get(&(c.coin, c.horizon))
        .map(Vec::as_slice)
        .unwrap_or_default();
    let decisions: Vec<GateDecisionInfo> = rows
        .iter()
        .map(|r| GateDecisionInfo {
            decided_at: rfc3339(r.decided_at),
            challenger_id: r.model_id.clone(),
            champion_id: r.champion_id.clone(),
            decision: r.decision.into(),
            reason: r.reason.clone(),
            window_from: rfc3339(r.window_from),
            window_to: rfc3339(r.window_to),
            n: u32::try_from(r.n).unwrap_or(0),
            champion_log_loss: r.champion_log_loss,
            challenger_log_loss: r.challenger_log_loss,
            champion_accuracy: r.champion_accuracy,
            challenger_accuracy: r.challenger_accuracy,
            dm_statistic: r.dm_statistic,
            p_value: r.p_value,
            champion_in_sample: r.champion_in_sample,
        })
        .collect();
    // The serving version first, then the ones the promotions replaced.
    let mut ids = vec![c.id.clone()];
    for r in rows.iter().filter(|r| r.decision == Decision::Promoted) {
        for id in [&r.model_id, &r.champion_id] {
            if !id.is_empty() && !ids.contains(id) {
                ids.push(id.clone());
            }
        }
    }
    let mut live_by_version = Vec::new();
    for id in ids {
        let mut live = table.of_version(c.coin, c.horizon, &id, WINDOWS[2]);
        // An older version's card is not at hand: in replay mode its figure may be in-sample.
        live.out_of_sample = if id == c.id {
            state.out_of_sample(c)
        } else {
            state.replay.is_none()
        };
        live_by_version.push(VersionAccuracy {
            running: id == c.id,
            model_id: id,
            live,
        });
    }
    ModelVersion {
        origin: match m.origin {
            Origin::Shipped => ModelOrigin::Shipped,
            Origin::Promoted { .. } => ModelOrigin::Retrained,
        },
        trained_at: c.trained_at.clone(),
        promoted_at: match m.origin {
            Origin::Shipped => None,
            Origin::Promoted { at } => Some(rfc3339(at)),
        },
        gate: c.gate.as_ref().map(|g| GateDecisionInfo {
            decided_at: g.decided_at.clone(),
            challenger_id: c.id.clone(),
            champion_id: g.champion_id.clone(),
            decision: g.result.decision,
            reason: g.result.reason.clone(),
            window_from: g.window_from.clone(),
            window_to: g.window_to.clone(),
            n: u32::try_from(g.result.n).unwrap_or(u32::MAX),
            champion_log_loss: Some(g.result.champion.log_loss),
            challenger_log_loss: Some(g.result.challenger.log_loss),
            champion_accuracy: Some(g.result.champion.accuracy),
            challenger_accuracy: Some(g.result.challenger.accuracy),
            dm_statistic: Some(g.result.dm_statistic),
            p_value: Some(g.result.p_value),
            champion_in_sample: g.champion_in_sample,
        }),
        decisions,
        live_by_version,
    }
}
