//! Model cards, sources and history: a model's kind, walk-forward and live accuracy, its
//! version and the gate's decisions, a retrain's progress, a source's state, the history table.

use super::*;

/// A model kind in words: `logistic` → `logistic regression`, `mlp-32-16` → `feed-forward net (32, 16)`.
pub fn model_kind(kind: &str) -> String {
    if let Some(base) = kind.strip_suffix(" pooled") {
        return format!("{}, learnt from every coin", model_kind(base));
    }
    match kind.strip_prefix("mlp-") {
        Some(layers) => format!("feed-forward net ({})", layers.replace('-', ", ")),
        None if kind == "logistic" => "logistic regression".into(),
        None => match kind.strip_prefix("gbm-d") {
            Some(depth) => format!("gradient-boosted trees (depth {depth})"),
            None => kind.into(),
        },
    }
}

/// The CSS class and the words for a data source's state.
pub fn source_state(state: shared::SourceState) -> (&'static str, &'static str) {
    use shared::SourceState;
    match state {
        SourceState::Ok => ("ok", "ok"),
        SourceState::Failing => ("failing", "failing"),
        SourceState::Stale => ("stale", "stale: no new data for too long"),
        SourceState::Pending => ("pending", "not collected yet"),
        SourceState::Disabled => ("disabled", "not collected in this mode"),
    }
}

/// A walk-forward result beside its baseline and sample size, with the effective sample size
/// when it is smaller: `55.2% vs 51.8% baseline (n=5531, ≈ 2758 independent)`.
pub fn walk_forward(wf: &shared::WalkForwardSummary) -> String {
    let independent = match wf.n_effective {
        Some(eff) if eff < f64::from(wf.n) - 0.5 => format!(", ≈ {eff:.0} independent"),
        _ => String::new(),
    };
    format!(
        "{} vs {} baseline (n={}{independent})",
        accuracy(wf.accuracy),
        accuracy(wf.baseline_accuracy),
        wf.n
    )
}

/// Live accuracy as a card shows it: `54.2% [50.1-58.3%] vs 51.0% baseline, n=412 (≈ 7
/// independent)`: the interval is over the effective sample size, which the text names.
pub fn live_accuracy(a: &AccuracyStats) -> String {
    let figure = match (a.accuracy, a.wilson_low, a.wilson_high, a.baseline_accuracy) {
        (Some(acc), Some(lo), Some(hi), Some(base)) if a.n > 0 => format!(
            "{} [{:.1}-{:.1}%] vs {} baseline, n={}{}",
            accuracy(acc),
            100.0 * lo,
            100.0 * hi,
            accuracy(base),
            a.n,
            if a.n_effective > 0 && a.n_effective < a.n {
                format!(" (≈ {} independent)", a.n_effective)
            } else {
                String::new()
            }
        ),
        _ => return "no scored live predictions yet".into(),
    };
    if a.out_of_sample {
        figure
    } else {
        figure + " (in-sample: on rows the model trained on)"
    }
}

/// What a gate decision did, in words: `replaced the previous model (p < 0.001)`; a promotion
/// the figures did not decide (the release's tie-break, see `models::gate::break_tie`) says so.
fn gate_outcome(d: &GateDecisionInfo) -> String {
    match (d.decision, d.p_value) {
        (GateDecision::Promoted, Some(p)) if p >= shared::GATE_ALPHA => format!(
            "replaced the previous model on a tie ({}; why on hover)",
            p_value(p)
        ),
        (GateDecision::Promoted, Some(p)) => format!("replaced the previous model ({})", p_value(p)),
        (GateDecision::Promoted, None) => "replaced the previous model".into(),
        (GateDecision::Kept, Some(p)) => format!(
            "kept the previous model: the new one was not better ({})",
            p_value(p)
        ),
        (GateDecision::Kept, None) => "kept the previous model: no new one could be trained".into(),
    }
}

/// The serving version of a model (with the span of data it learnt from) and its last retrain,
/// as the models card shows them: `shipped, trained on 2024-01-01 to 2025-03-31 · replaced the
/// previous model (p < 0.001) · last retrain 2026-12-06 03:00 UTC: kept the previous model: the
/// new one was not better (p = 0.412)`.
pub fn model_version(v: &ModelVersion, trained_from: &str, trained_to: &str) -> String {
    let day = |s: &str| s.get(..10).unwrap_or(s).to_owned();
    let span = format!("{} to {}", day(trained_from), day(trained_to));
    let mut out = match (v.origin, &v.promoted_at) {
        (ModelOrigin::Retrained, Some(at)) => {
            format!("retrained here on {span}, serving since {}", when(at))
        }
        _ => format!("shipped, trained on {span}"),
    };
    if let (ModelOrigin::Shipped, Some(g)) = (v.origin, &v.gate) {
        out += &format!(" · {}", gate_outcome(g));
    }
    match v.decisions.first() {
        Some(d) => out += &format!(" · last retrain {}: {}", when(&d.decided_at), gate_outcome(d)),
        None => out += " · not retrained here yet",
    }
    out
}

/// A retrain's progress: `Retraining now: 5 of 18 done · BTC 4h: training the challenger`, or
/// when it is over `Last retrain finished 2026-12-06 03:04 UTC: 2 of 18 new models replaced the
/// running ones`.
pub fn retrain_status(r: &RetrainStatus) -> String {
    if r.running {
        format!("Retraining now: {} of {} done · {}", r.done, r.total, r.step)
    } else {
        format!(
            "Last retrain finished {}: {} of {} new models replaced the running ones",
            r.finished_at.as_deref().map(when).unwrap_or_default(),
            r.promoted,
            r.total
        )
    }
}

/// One cell of the history table.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryCell {
    pub direction: Direction,
    pub p_up: f64,
    /// `Some(true)` right, `Some(false)` wrong, `None` not scored (yet, or unscorable).
    pub correct: Option<bool>,
    pub unscorable: bool,
}

/// The history table: one row per prediction time (newest first), one column per horizon in
/// `Horizon::ALL` order.
pub fn history_table(predictions: &[Prediction]) -> Vec<(DateTime<Utc>, [Option<HistoryCell>; 6])> {
    let mut rows: Vec<(DateTime<Utc>, [Option<HistoryCell>; 6])> = Vec::new();
    for p in predictions {
        let Some(col) = Horizon::ALL.iter().position(|h| *h == p.horizon) else {
            continue;
        };
        let row = match rows.iter().position(|(t, _)| *t == p.made_at) {
            Some(i) => i,
            None => {
                rows.push((p.made_at, Default::default()));
                rows.len() - 1
            }
        };
        rows[row].1[col] = Some(HistoryCell {
            direction: p.direction,
            p_up: p.p_up,
            correct: p.correct,
            unscorable: p.outcome == Outcome::Unscorable,
        });
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows
}

/// The mark of a scored cell: `✓` right, `✗` wrong, `–` unscorable, nothing while pending.
pub fn outcome_mark(cell: &HistoryCell) -> &'static str {
    match (cell.correct, cell.unscorable) {
        (Some(true), _) => "✓",
        (Some(false), _) => "✗",
        (None, true) => "–",
        (None, false) => "",
    }
}

/// A Platt calibration in words: `a` below 1 means the raw model was over-confident.
pub fn calibration(c: &shared::Calibration) -> String {
    let shape = if c.a < 0.95 {
        "over-confident raw probabilities, pulled towards 50%"
    } else if c.a > 1.05 {
        "under-confident raw probabilities, pushed away from 50%"
    } else {
        "raw probabilities about right"
    };
    format!(
        "{} (a = {:.2}, b = {:+.2}) on {} earlier rows: {shape}; log loss {:.4} to {:.4}",
        c.method, c.a, c.b, c.rows, c.log_loss_before, c.log_loss_after
    )
}
