//! The training and evaluation reports' section on confidence: each model's calibration, its
//! accuracy by confidence decile (with overlap-aware intervals) and the features it leans on, for
//! the cards that record them (models trained before these were measured are left out, and said
//! to be).

use crate::card::ModelCard;

/// How many of a model's most important features the table names.
const TOP_FEATURES: usize = 3;

/// The Markdown section (empty when no card records any of it).
pub fn section(cards: &[ModelCard]) -> String {
    let measured: Vec<&ModelCard> = cards
        .iter()
        .filter(|c| {
            c.calibration.is_some()
                || !c.walk_forward.confidence_deciles.is_empty()
                || !c.importance.is_empty()
        })
        .collect();
    if measured.is_empty() {
        return String::new();
    }
    let mut md = String::from("## Calibration, confidence deciles and feature importance\n\n");
    md.push_str(
        "**Calibration**: Platt scaling (P = sigmoid(a logit(p) + b)) fitted on the selection rows whose outcome \
was known before the first reported row, folded into the ONNX file; a below 1 means the raw model was \
over-confident. **d1 ... d10**: accuracy of the reported rows by confidence decile (d1 the least confident \
tenth, d10 the most), each with its effective sample size in brackets (neighbouring rows share their label \
window); a model whose confidence means something gains towards d10. No deciles: fewer than ten distinct \
confidences (a constant call). **Leans on**: the features whose shuffling grows the log loss most on the last \
selection fold (permutation importance). **Tried**: every configuration tried for this coin and horizon (the \
count the deflated Sharpe ratio uses). **Pooled with**: the other coins a pooled model also learnt from.\n\n",
    );
    if measured.len() < cards.len() {
        md.push_str(&format!(
            "{} of the {} models were trained before these were recorded and are not in the table.\n\n",
            cards.len() - measured.len(),
            cards.len()
        ));
    }
    md.push_str(
        "| model | calibration | log loss before → after | d1 | d2 | d3 | d4 | d5 | d6 | d7 | d8 | d9 | d10 | leans on | tried | pooled with |\n",
    );
    md.push_str("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|\n");
    for c in measured {
        let calibration = c
            .calibration
            .as_ref()
            .map(|k| {
                (
                    format!("a={:.2} b={:+.2}", k.a, k.b),
                    format!("{:.4} → {:.4}", k.log_loss_before, k.log_loss_after),
                )
            })
            .unwrap_or_else(|| ("-".into(), "-".into()));
        let deciles = &c.walk_forward.confidence_deciles;
        let cells: Vec<String> = (0..10)
            .map(|i| {
                deciles
                    .get(i)
                    .map(|d| format!("{:.1}% ({:.0})", 100.0 * d.accuracy, d.n_effective))
                    .unwrap_or_else(|| "-".into())
            })
            .collect();
        let top: Vec<String> = c
            .importance
            .iter()
            .take(TOP_FEATURES)
            .map(|f| format!("{} ({:+.4})", f.feature, f.log_loss_increase))
            .collect();
        let pooled: Vec<String> = c.pooled_with.iter().map(|p| p.ticker().to_owned()).collect();
        md.push_str(&format!(
            "| {} {} ({}) | {} | {} | {} | {} | {} | {} |\n",
            c.coin.ticker(),
            c.horizon.as_str(),
            c.model_name,
            calibration.0,
            calibration.1,
            cells.join(" | "),
            if top.is_empty() {
                "-".into()
            } else {
                top.join(", ")
            },
            c.configurations_tried.map_or("-".into(), |n| n.to_string()),
            if pooled.is_empty() {
                "-".into()
            } else {
                pooled.join(" ")
            },
        ));
    }
    md.push('\n');
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{Calibration, ConfidenceDecile, FeatureImportance};

    fn card() -> ModelCard {
        let text = include_str!("../artifacts/BTC-1h.json");
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn only_cards_that_record_it_are_in_the_section() {
        let old = card();
        assert_eq!(section(std::slice::from_ref(&old)), "");
        let mut new = card();
        new.calibration = Some(Calibration {
            method: "platt".into(),
            a: 0.5,
            b: -0.1,
            rows: 100,
            log_loss_before: 0.6934,
            log_loss_after: 0.6925,
        });
        new.walk_forward.confidence_deciles = (1..=10)
            .map(|d| ConfidenceDecile {
                decile: d,
                min_confidence: d as f64 / 100.0,
                accuracy: 0.5 + d as f64 / 100.0,
                n: 10,
                n_effective: 4.0,
                low: 0.3,
                high: 0.8,
            })
            .collect();
        new.importance = vec![FeatureImportance {
            feature: "cur_ret".into(),
            log_loss_increase: 0.002,
        }];
        new.configurations_tried = Some(36);
        let md = section(&[old, new]);
        assert!(md.contains("1 of the 2 models were trained before"), "{md}");
        assert!(md.contains("a=0.50 b=-0.10"), "{md}");
        assert!(md.contains("| 60.0% (4) |"), "{md}");
        assert!(md.contains("cur_ret (+0.0020)"), "{md}");
        assert_eq!(md.lines().filter(|l| l.starts_with("| BTC 1h")).count(), 1);
    }
}
