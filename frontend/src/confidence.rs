//! How far a coin's models' confidence can be trusted, from `/api/models`: accuracy by confidence
//! decile (with overlap-aware intervals), the calibration folded into each model, and the
//! features each leans on (permutation importance). A room beside `about`, which shows it.

use leptos::prelude::*;
use shared::ModelInfo;

use crate::format;

/// How many of a model's most important features are named.
const TOP_FEATURES: usize = 5;

/// One coin's models: a decile table and, per model, its calibration and top features. Models
/// trained before these were recorded are said to be so.
#[component]
pub fn ModelConfidence(models: Vec<ModelInfo>) -> impl IntoView {
    let measured: Vec<ModelInfo> = models
        .into_iter()
        .filter(|m| {
            m.calibration.is_some()
                || !m.walk_forward.confidence_deciles.is_empty()
                || !m.importance.is_empty()
        })
        .collect();
    if measured.is_empty() {
        return view! {
            <p class="muted" data-testid="confidence-none">
                "These models were trained before calibration, confidence deciles and feature importance \
                 were recorded."
            </p>
        }
        .into_any();
    }
    let deciles = measured
        .iter()
        .map(|m| m.walk_forward.confidence_deciles.len())
        .max()
        .unwrap_or(0);
    let rows = measured
        .iter()
        .map(|m| {
            let cells = m
                .walk_forward
                .confidence_deciles
                .iter()
                .map(|d| {
                    let detail = format!(
                        "n={} (≈ {:.0} independent), 95% CI {:.1}-{:.1}%, confidence at least {:.2}",
                        d.n,
                        d.n_effective,
                        100.0 * d.wilson_low,
                        100.0 * d.wilson_high,
                        d.min_confidence
                    );
                    view! { <td title=detail.clone() aria-label=detail>{format::accuracy(d.accuracy)}</td> }
                })
                .collect_view();
            view! { <tr><th scope="row">{m.horizon.label()}</th>{cells}</tr> }
        })
        .collect_view();
    let notes = measured
        .iter()
        .map(|m| {
            let calibration = m
                .calibration
                .as_ref()
                .map(format::calibration)
                .unwrap_or_else(|| "not calibrated".into());
            let top: Vec<String> = m
                .importance
                .iter()
                .take(TOP_FEATURES)
                .map(|f| format!("{} ({:+.4})", f.feature, f.log_loss_increase))
                .collect();
            let tried = m
                .configurations_tried
                .map(|n| format!("; {n} configurations tried"))
                .unwrap_or_default();
            view! {
                <li data-testid="model-confidence">
                    <strong>{format!("{} ({}): ", m.horizon.label(), format::model_kind(&m.kind))}</strong>
                    {format!("calibration {calibration}{tried}. ")}
                    {if top.is_empty() {
                        "Feature importance not measured.".to_owned()
                    } else {
                        format!("Leans most on {}.", top.join(", "))
                    }}
                </li>
            }
        })
        .collect_view();
    view! {
        <details data-testid="confidence">
            <summary>"Confidence deciles, calibration and feature importance"</summary>
            <p class="muted">
                "Walk-forward test rows split into ten by confidence: d1 the least confident tenth, d10 \
                 the most. A model whose confidence means something is right more often in the higher \
                 deciles; hover a cell for its rows, interval and the confidence it starts at (the \
                 `min_confidence` a bot would set). Importance is how much the log loss grows when a \
                 feature's values are shuffled."
            </p>
            <div class="table-wrap">
                <table data-testid="confidence-deciles">
                    <thead>
                        <tr>
                            <th scope="col">"Horizon"</th>
                            {(1..=deciles).map(|d| view! { <th scope="col">{format!("d{d}")}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <ul class="model-notes">{notes}</ul>
        </details>
    }
    .into_any()
}
