//! `coincast evaluate`: the shipped models scored on other history files, as they are (no
//! retraining), rows inside a model's training span marked in-sample.

use anyhow::Context;
use models::card::ModelCard;
use models::features::{Dataset, FEATURE_VERSION};
use models::history;
use models::metrics::Metrics;
use models::onnx::OnnxModel;
use models::train::{coverage_curve, reliability};

use crate::cli::EvaluateArgs;
use crate::commands::{load, load_series};

/// `coincast evaluate`: scores every model whose coin a file holds, on that file's bars
/// (resampled to the model's bar size), and writes a report like training's.
pub fn run(args: &EvaluateArgs) -> anyhow::Result<()> {
    let cards = models::train::read_cards(&args.models)?;
    anyhow::ensure!(!cards.is_empty(), "no model cards in {}", args.models.display());
    let (series, _) = load_series(&args.data_root)?;
    let mut evaluated: Vec<ModelCard> = Vec::new();
    println!("| model | file | n | accuracy [95% CI] | baseline | p | Brier | log loss | note |");
    println!("|---|---|---:|---|---:|---:|---:|---:|---|");
    for file in &args.files {
        let coin = history::coin_in_name(file)
            .with_context(|| format!("{}: no BTC, LTC or XRP in the file name", file.display()))?;
        let (bars, interval_s) = load(file)?;
        for card in cards.iter().filter(|c| c.coin == coin) {
            anyhow::ensure!(
                card.features.version == FEATURE_VERSION,
                "{}: feature version {} is not {FEATURE_VERSION}",
                card.id,
                card.features.version
            );
            let bar_s = card.features.bar_seconds;
            if bar_s % interval_s != 0 {
                eprintln!(
                    "{}: skipped for {} ({} s bars cannot make {} s bars)",
                    card.id,
                    file.display(),
                    interval_s,
                    bar_s
                );
                continue;
            }
            let bars = history::resample(&bars, interval_s, bar_s);
            let spec = card.spec();
            let horizon_bars =
                models::horizon_bars(card.horizon, bar_s).context("not a whole number of bars")?;
            let data = Dataset::build_with(&spec, &bars, bar_s, horizon_bars, &series);
            if data.is_empty() {
                eprintln!(
                    "{}: no complete samples in {} (series needed: {})",
                    card.id,
                    file.display(),
                    if spec.series.is_empty() {
                        "none".to_owned()
                    } else {
                        spec.series.join(", ")
                    }
                );
                continue;
            }
            let model = OnnxModel::load(&args.models.join(&card.onnx_file), card.features.names.len())?;
            let p: Vec<f64> = model.predict(&data.x)?.into_iter().map(f64::from).collect();
            let m = Metrics::compute(&data.y, &p).context("no rows")?;
            let from = chrono::DateTime::from_timestamp(data.ts[0], 0)
                .map(|d| d.to_rfc3339())
                .unwrap_or_default();
            let to = chrono::DateTime::from_timestamp(*data.ts.last().unwrap_or(&0), 0)
                .map(|d| d.to_rfc3339())
                .unwrap_or_default();
            // Honest labelling: rows inside the training span are not out of sample.
            let overlaps =
                from.as_str() <= card.training.to.as_str() && to.as_str() >= card.training.from.as_str();
            let note = if overlaps {
                "OVERLAPS the training span: not out of sample"
            } else {
                "after training: out of sample"
            };
            println!(
                "| {} | {} | {} | {:.1}% [{:.1}, {:.1}] | {:.1}% | {:.3} | {:.4} | {:.4} | {note} |",
                card.id,
                file.display(),
                m.n,
                100.0 * m.accuracy,
                100.0 * m.wilson_low,
                100.0 * m.wilson_high,
                100.0 * m.baseline_accuracy,
                m.p_value,
                m.brier,
                m.log_loss
            );
            let mut card = card.clone();
            if overlaps {
                card.model_name = format!("{} **IN-SAMPLE**", card.model_name);
            }
            card.walk_forward.metrics = m.clone();
            card.walk_forward.test_from = from;
            card.walk_forward.test_to = to;
            card.walk_forward.folds = 1;
            card.walk_forward.accuracy_vs_coverage = coverage_curve(&data.y, &p);
            card.walk_forward.reliability = reliability(&data.y, &p, 10);
            card.training.sources = vec![format!(
                "evaluated on {}{}",
                file.display(),
                if overlaps { " (overlaps training)" } else { "" }
            )];
            evaluated.push(card);
        }
    }
    evaluated.sort_by_key(|c| (c.coin, c.horizon));
    let note = format!(
        "Produced by `coincast evaluate` on {}: the shipped models scored on these files as they are (no retraining). \
The accuracy columns hold this evaluation; the shuffled-split column is the training-time contrast.",
        args.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let method = "Each model scored every complete sample of the file (resampled to its bar size). A row marked \
**IN-SAMPLE** comes from a file whose span overlaps that model's training span: its figure is not out of sample \
and says nothing about future performance. The other rows postdate training and are out of sample. **Baseline** \
is always predicting the majority class of the same rows; **p** the one-sided binomial probability of doing at \
least this well at the baseline's rate.";
    models::report::write_report(&evaluated, &args.report_dir, &note, method)?;
    eprintln!("report in {}", args.report_dir.join("REPORT.md").display());
    Ok(())
}
