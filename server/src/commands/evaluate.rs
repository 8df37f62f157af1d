//! `coincast evaluate`: the shipped models scored on other history files, as they are (no
//! retraining), rows inside a model's training span marked in-sample: accuracy next to the
//! majority, momentum and reversal baselines, and their signals traded after costs at the
//! threshold their card chose (against buy-and-hold and the momentum rule).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use models::bars::anchor_step;
use models::card::ModelCard;
use models::features::{CrossSection, Dataset, FEATURE_VERSION, Market, Rows};
use models::history::Bar;
use models::metrics::{ChosenOn, FixedBaselines, Metrics};
use models::onnx::OnnxModel;
use models::strategy::{self, Costs, StrategyReport, ThresholdChoice};
use models::train::{coverage_curve, fee_source, reliability};
use shared::Coin;

use crate::cli::EvaluateArgs;
use crate::commands::{load, load_series};
use shared::time::rfc3339_z as utc;

/// The header of `--rows-out`: one row per scored prediction.
pub const ROWS_HEADER: &str =
    "made_at,coin,horizon,model_id,p_up,threshold,signal,went_up,majority,momentum,reversal,in_sample,file";

/// `coincast evaluate`: scores every model whose coin a file holds, on that file's bars
/// (the model's bars ending at each prediction time, `models::bars`), and writes a report like
/// training's.
pub fn run(args: &EvaluateArgs) -> anyhow::Result<()> {
    evaluate(args).map(|_| ())
}

/// What [`run`] does, returning the evaluated cards (each model's figures on each file).
pub fn evaluate(args: &EvaluateArgs) -> anyhow::Result<Vec<ModelCard>> {
    let cards = models::train::read_cards(&args.models)?;
    anyhow::ensure!(!cards.is_empty(), "no model cards in {}", args.models.display());
    let (series, _) = load_series(&args.data_root)?;
    let costs = Costs {
        fee_bps: args.fee_bps,
        slippage_bps: args.slippage_bps,
    };
    let mut files: Vec<(PathBuf, Coin, Vec<Bar>, i64)> = Vec::new();
    for (file, coin) in super::candle_inputs(&args.files)? {
        let (bars, interval_s) = load(&file)?;
        files.push((file, coin, bars, interval_s));
    }
    let (from, to) = (
        args.from.map_or(i64::MIN, crate::clock::midnight),
        args.to.map_or(i64::MAX, crate::clock::midnight),
    );
    anyhow::ensure!(from < to, "--from must be before --to");
    // Every file's bars, for a model's cross-section block (the coins its card names, as found
    // among the files given).
    let cross: CrossSection = files
        .iter()
        .map(|(_, coin, bars, interval_s)| (*coin, bars.as_slice(), *interval_s))
        .collect();
    let mut evaluated: Vec<ModelCard> = Vec::new();
    let mut trading = Vec::new();
    let mut rows_out = csv_out(args.rows_out.as_deref(), ROWS_HEADER)?;
    let mut signals_out = csv_out(args.signals_out.as_deref(), SIGNALS_HEADER)?;
    if let Some(dir) = &args.ledger_out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // Each scored (model, file): its table line's cells before and after the corrections and its
    // raw p-value against the strongest rule; `evaluated` holds its card at the same index.
    let mut scored: Vec<(String, String, Option<f64>)> = Vec::new();
    for (file, coin, bars, interval_s) in &files {
        let (file, coin, interval_s) = (file, *coin, *interval_s);
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
            // Of a folder's files of this coin, the one with the largest bars that make the
            // model's (the least resampling): the same period is not scored twice.
            let coarser = files.iter().find(|(f, c, _, i)| {
                *c == coin && f.parent() == file.parent() && *i > interval_s && bar_s % *i == 0
            });
            if let Some((other, ..)) = coarser {
                eprintln!(
                    "{}: {} left for {} (larger bars)",
                    card.id,
                    file.display(),
                    other.display()
                );
                continue;
            }
            let spec = card.spec();
            let horizon_s = card.horizon.seconds();
            // The one bar builder: the model's bars ending at each prediction time the file's
            // bars resolve, as in training and in the engine.
            let anchor_s = anchor_step(card.horizon.cadence_seconds(), interval_s);
            let cross = cross.only(&spec.market);
            let rows = Rows {
                base: bars,
                base_s: interval_s,
                bar_s,
                anchor_s,
                horizon_s,
                market: Some(Market { coin, cross: &cross }),
            };
            let data = Dataset::build_at(&spec, rows, &series).filter(|t| (from..to).contains(&t));
            if data.is_empty() {
                eprintln!(
                    "{}: no complete samples in {} (series needed: {}; cross-section: {})",
                    card.id,
                    file.display(),
                    if spec.series.is_empty() {
                        "none".to_owned()
                    } else {
                        spec.series.join(", ")
                    },
                    if spec.market.is_empty() {
                        "none".to_owned()
                    } else {
                        format!("BTC and half of {} among the files", spec.market.join(", "))
                    }
                );
                continue;
            }
            let model = OnnxModel::load(&args.models.join(&card.onnx_file), card.features.names.len())?;
            let p: Vec<f64> = model.predict(&data.x)?.into_iter().map(f64::from).collect();
            let last_up: Vec<bool> = data.last_ret.iter().map(|r| *r > 0.0).collect();
            // The simple rules as the card fixed them on its selection folds; a card that
            // recorded none has them chosen on these rows, in hindsight (said in the table).
            let fixed = card
                .walk_forward
                .metrics
                .baselines
                .filter(|b| b.chosen_on == ChosenOn::SelectionFolds)
                .or_else(|| FixedBaselines::choose(&data.y, &last_up, ChosenOn::ScoredRows))
                .context("no rows")?;
            let lags = models::stats::hac_lags(horizon_s, anchor_s);
            let m = Metrics::evaluate(&data.y, &p, Some(&last_up), fixed, lags).context("no rows")?;
            let choice = card
                .strategy
                .as_ref()
                .map(|s| s.threshold_choice.clone())
                .unwrap_or_else(|| ThresholdChoice {
                    threshold: 0.0,
                    objective: "none in the card: every prediction trades".to_owned(),
                    from: String::new(),
                    to: String::new(),
                    rows: 0,
                    trades: 0,
                    net_return: 0.0,
                });
            // `--threshold` replaces the card's choice (said in the trading table's objective).
            let choice = match args.threshold {
                Some(t) => ThresholdChoice {
                    threshold: t,
                    objective: format!("set by --threshold {t} (the card chose {})", choice.threshold),
                    ..choice
                },
                None => choice,
            };
            let threshold = choice.threshold;
            let rows = strategy::rows(&data.ts, &p, &data.fill_ret, &data.last_ret).context("row lengths")?;
            let traded = StrategyReport::evaluate(&rows, horizon_s, choice, costs, &fee_source(costs))
                .context("no rows")?
                .with_evidence(&rows, models::strategy::THRESHOLD_GRID.len());
            let from = shared::time::rfc3339(data.ts[0]);
            let to = shared::time::rfc3339(*data.ts.last().unwrap_or(&0));
            // Honest labelling: rows inside the training span are not out of sample.
            let overlaps =
                from.as_str() <= card.training.to.as_str() && to.as_str() >= card.training.from.as_str();
            let note = if overlaps {
                "OVERLAPS the training span: not out of sample"
            } else if to.as_str() < card.training.from.as_str() {
                "before training: out of sample"
            } else {
                "after training: out of sample"
            };
            let pct = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{:.1}%", 100.0 * x));
            let strongest = m.strongest_baseline;
            let call = |rule: models::metrics::Baseline, i: usize| fixed.call(rule, last_up[i]);
            if let Some(w) = rows_out.as_mut() {
                let word = |up: bool| if up { "UP" } else { "DOWN" };
                for (i, (&ts, &p_up)) in data.ts.iter().zip(&p).enumerate() {
                    let at = shared::time::rfc3339(ts);
                    let signal = match shared::Signal::from_p_up(p_up, threshold) {
                        shared::Signal::Long => "LONG",
                        shared::Signal::Short => "SHORT",
                        shared::Signal::Flat => "FLAT",
                    };
                    writeln!(
                        w,
                        "{at},{},{},{},{},{},{signal},{},{},{},{},{overlaps},\"{}\"",
                        coin.ticker(),
                        card.horizon.as_str(),
                        card.id,
                        p_up,
                        threshold,
                        u8::from(data.y[i]),
                        word(call(models::metrics::Baseline::Majority, i)),
                        word(call(models::metrics::Baseline::Momentum, i)),
                        word(call(models::metrics::Baseline::Reversal, i)),
                        file.display().to_string().replace('"', "\"\""),
                    )?;
                }
            }
            if signals_out.is_some() || args.ledger_out.is_some() {
                let pair = pair_of(file, coin);
                let signals: Vec<(i64, shared::Signal)> = data
                    .ts
                    .iter()
                    .zip(&p)
                    .map(|(&ts, &p_up)| {
                        (
                            ts + args.publish_delay_s,
                            shared::Signal::from_p_up(p_up, threshold),
                        )
                    })
                    .collect();
                if let Some(w) = signals_out.as_mut() {
                    for ((published, signal), &p_up) in signals.iter().zip(&p) {
                        writeln!(
                            w,
                            "{},{pair},{},{},{}",
                            utc(*published),
                            card.horizon.as_str(),
                            signal_word(*signal),
                            shared::confidence(p_up)
                        )?;
                    }
                }
                if let Some(dir) = &args.ledger_out {
                    let fills = models::fills::follow(bars, &signals, horizon_s, costs, args.long_only);
                    let path = dir.join(format!("{}.csv", ModelCard::stem(coin, card.horizon)));
                    write_ledger(&path, &pair, &fills)?;
                    let compounded = fills.iter().fold(1.0, |acc, f| acc * (1.0 + f.profit_ratio)) - 1.0;
                    eprintln!(
                        "{}: {} positions at the next open after publication, {:+.2}% compounded after costs ({})",
                        card.id,
                        fills.len(),
                        100.0 * compounded,
                        path.display()
                    );
                }
            }
            let cells = format!(
                "| {} | {} | {} | {:.0} | {:.1}% [{:.1}, {:.1}] | {:.1}% | {} | {} | {} ({}) |",
                card.id,
                file.display(),
                m.n,
                m.n_effective.unwrap_or(m.n as f64),
                100.0 * m.accuracy,
                100.0 * m.wilson_low,
                100.0 * m.wilson_high,
                100.0 * m.baseline_accuracy,
                pct(m.momentum_accuracy),
                pct(m.reversal_accuracy),
                strongest.map_or("-".to_owned(), |s| format!(
                    "{} {:.1}%",
                    s.name.as_str(),
                    100.0 * s.accuracy
                )),
                fixed.chosen_on.as_str(),
            );
            let tail = format!(
                "{} | {:.4} | {:.4} | {note} |",
                strongest
                    .and_then(|s| s.p_value_binomial)
                    .map_or("-".to_owned(), |p| format!("{p:.3}")),
                m.brier,
                m.log_loss
            );
            scored.push((cells, tail, strongest.map(|s| s.p_value)));
            trading.push((
                card.id.clone(),
                file.display().to_string(),
                traded.clone(),
                overlaps,
            ));
            let mut card = card.clone();
            if overlaps {
                card.model_name = format!("{} {}", card.model_name, models::report::IN_SAMPLE);
            }
            card.walk_forward.metrics = m.clone();
            card.walk_forward.test_from = from;
            card.walk_forward.test_to = to;
            card.walk_forward.folds = 1;
            card.walk_forward.accuracy_vs_coverage = coverage_curve(&data.y, &p);
            card.walk_forward.reliability = reliability(&data.y, &p, 10);
            // The deciles of these rows (the card's are its walk-forward folds').
            card.walk_forward.confidence_deciles =
                models::calibration::confidence_deciles(&data.y, &p, &data.ts, card.horizon.seconds());
            card.strategy = Some(traded);
            card.training.sources = vec![format!(
                "evaluated on {}{}",
                file.display(),
                if overlaps { " (overlaps training)" } else { "" }
            )];
            evaluated.push(card);
        }
    }
    print_accuracy_table(&scored, &models::report::adjusted(&evaluated));
    println!(
        "\nTrading the signals after {} bps per side (fee {} + slippage {}; {}), threshold from each card:\n",
        costs.fee_bps + costs.slippage_bps,
        costs.fee_bps,
        costs.slippage_bps,
        fee_source(costs)
    );
    // Every configuration tried: each model at each threshold of the grid.
    let trials = trading.len() * models::strategy::THRESHOLD_GRID.len();
    for (_, _, s, _) in &mut trading {
        *s = s.clone().with_trials(trials);
    }
    for card in &mut evaluated {
        card.strategy = card.strategy.take().map(|s| s.with_trials(trials));
    }
    println!(
        "| model | file | threshold | trades | long-short net (gross) | long-flat net | buy-and-hold | momentum net | Sharpe ± SE | deflated Sharpe ({trials} trials) | PBO (thresholds) | max drawdown | break-even fee | note |"
    );
    println!("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut profitable = 0;
    for (id, file, s, overlaps) in &trading {
        let ls = &s.long_short;
        profitable += usize::from(ls.net_return > 0.0 && !overlaps);
        let (sharpe_se, deflated, pbo) = s.evidence.map_or((f64::NAN, f64::NAN, None), |e| {
            (e.sharpe_se, e.deflated_sharpe, e.pbo)
        });
        println!(
            "| {id} | {file} | {:.2} | {} | {:+.1}% ({:+.1}%) | {:+.1}% | {:+.1}% | {:+.1}% | {:.2} ± {:.2} | {:.2} | {} | {:.1}% | {} | {} |",
            s.threshold,
            ls.trades,
            100.0 * ls.net_return,
            100.0 * ls.gross_return,
            100.0 * s.long_flat.net_return,
            100.0 * s.buy_and_hold.net_return,
            100.0 * s.momentum.net_return,
            ls.sharpe,
            sharpe_se,
            deflated,
            pbo.map_or("-".to_owned(), |p| format!("{p:.2}")),
            100.0 * ls.max_drawdown,
            ls.break_even_fee_bps
                .map_or("-".to_owned(), |b| format!("{b:.1} bps")),
            if *overlaps {
                "IN-SAMPLE"
            } else if ls.net_return <= 0.0 {
                "earns nothing after fees"
            } else if ls.net_return <= s.buy_and_hold.net_return {
                "profitable, below buy-and-hold"
            } else {
                "beats buy-and-hold"
            }
        );
    }
    let out_of_sample = trading.iter().filter(|t| !t.3).count();
    println!(
        "\n{profitable} of {out_of_sample} out-of-sample rows are profitable long-short after {} bps per side.",
        costs.fee_bps + costs.slippage_bps
    );
    evaluated.sort_by_key(|c| (c.coin, c.horizon));
    let window = match (args.from, args.to) {
        (None, None) => String::new(),
        (f, t) => format!(
            " (only the predictions made {}{})",
            f.map_or(String::new(), |f| format!("from {f}")),
            t.map_or(String::new(), |t| format!(" before {t}"))
        ),
    };
    let note = format!(
        "Produced by `coincast evaluate` on {}{window}: the shipped models scored on these files as they are (no retraining). \
The accuracy columns hold this evaluation; the shuffled-split column is the training-time contrast.",
        args.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let method = "Each model scored every complete sample of the file (its bars built ending at each prediction time the file resolves, as in training and the engine). A row marked \
**IN-SAMPLE** comes from a file whose span overlaps that model's training span: its figure is not out of sample, \
says nothing about future performance, and is in no count, no total and no multiple-testing family (in the trading table too). The other rows lie wholly before or after the model's training span and are out of sample. \
The simple rules are the ones each card fixed on its own selection folds before any test row (a card that recorded none has them chosen on the scored rows, in hindsight, and says so): \
**baseline** always predicts the direction that was more frequent there; **momentum** says UP when the last bar rose, **reversal** the opposite; **strongest** is the one of the three that was most accurate there. \
**n_eff** is the rows' effective sample size (neighbouring rows share most of their label window); the 95% interval is Wilson's over it. \
**p** and **p vs strongest** are paired tests of the model's per-row hits against the rule's on the same rows, with a Newey-West (HAC) variance over twice the horizon in rows, one-sided; \
**Holm** and **BH** adjust p vs strongest across the out-of-sample rows of this evaluation (family-wise error and false discovery rate), and ✓ marks p < 0.05 after Holm. \
**p binomial (naive)** takes the rows as independent and is shown only to make the difference visible. `--rows-out` writes every scored row, from which every figure can be recomputed. \
The strategy table trades each model's signals on the file at the confidence threshold its card chose on training folds, with the fee and slippage stated \
(`--ledger-out` writes the positions, with freqtrade's multiplicative costs, which freqtrade's backtester reproduces). Its Sharpe ratio stands with its standard error (Lo 2002, the \
per-horizon returns taken as normal), the deflated Sharpe ratio (Bailey and Lopez de Prado 2014): the probability that it beats what the best of \
every configuration tried (models x thresholds of the grid) would show by luck; under 0.95 it may be luck; and the **PBO**, the probability of backtest \
overfitting across the threshold grid on these rows (combinatorially symmetric cross-validation over 16 time blocks): 0.5 or more, picking the best threshold is no better than chance. \
Positions enter at the open of the first candle after the prediction is published (5 s after its time) and exit at the open one horizon later (`models::fills`), paying the fee and the slippage on each side.";
    models::report::write_report(&evaluated, &args.report_dir, &note, method)?;
    eprintln!("report in {}", args.report_dir.join("REPORT.md").display());
    if let (Some(mut w), Some(path)) = (rows_out, &args.rows_out) {
        w.flush()?;
        eprintln!("one row per scored prediction in {}", path.display());
    }
    if let (Some(mut w), Some(path)) = (signals_out, &args.signals_out) {
        w.flush()?;
        eprintln!("the signals as published in {}", path.display());
    }
    Ok(evaluated)
}

/// The accuracy table: each row's p-value against the strongest rule (paired, overlap-aware),
/// with Holm's (family-wise) and Benjamini-Hochberg's (false discovery) adjustments across the
/// out-of-sample rows of this run (`models::report::adjusted` of the evaluated cards, one per
/// row, in the same order); in-sample rows are in no family and no count.
fn print_accuracy_table(scored: &[(String, String, Option<f64>)], adjusted: &[Option<(f64, f64)>]) {
    println!(
        "| model | file | n | n_eff | accuracy [95% CI, n_eff] | majority | momentum | reversal | strongest (fixed on) | p vs strongest (HAC) | Holm | BH | p binomial (naive) | Brier | log loss | note |"
    );
    println!("|---|---|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|");
    let (mut family, mut raw_wins, mut holm_wins, mut bh_wins) = (0, 0, 0, 0);
    for ((cells, tail, p), adj) in scored.iter().zip(adjusted) {
        let fmt = |p: f64| format!("{p:.3}{}", if p < 0.05 { " ✓" } else { "" });
        let (h, b) = match adj {
            Some((h, b)) => {
                family += 1;
                raw_wins += usize::from(p.is_some_and(|p| p < 0.05));
                holm_wins += usize::from(*h < 0.05);
                bh_wins += usize::from(*b < 0.05);
                (fmt(*h), fmt(*b))
            }
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "{cells} {} | {h} | {b} | {tail}",
            p.map_or("-".to_owned(), |p| format!("{p:.3}"))
        );
    }
    println!(
        "\nAgainst the strongest rule (paired, overlap-aware test, one-sided): {raw_wins} of {family} out-of-sample rows have p < 0.05 uncorrected, {holm_wins} after Holm's correction (family-wise error 5%), {bh_wins} after Benjamini-Hochberg's (false discovery rate 5%)."
    );
}

/// The columns of `--signals-out` (what `integrations/freqtrade` reads).
pub const SIGNALS_HEADER: &str = "published_at,pair,horizon,signal,confidence";
/// The columns of each `--ledger-out` file (what `integrations/freqtrade/referee` compares).
pub const LEDGER_HEADER: &str = "pair,open_date,close_date,is_short,open_rate,close_rate,profit_ratio";

/// A new CSV file at `path` (if asked for) with its header line written.
fn csv_out(
    path: Option<&std::path::Path>,
    header: &str,
) -> anyhow::Result<Option<std::io::BufWriter<std::fs::File>>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    writeln!(w, "{header}")?;
    Ok(Some(w))
}

fn signal_word(signal: shared::Signal) -> &'static str {
    match signal {
        shared::Signal::Long => "LONG",
        shared::Signal::Short => "SHORT",
        shared::Signal::Flat => "FLAT",
    }
}

/// The exchange pair of a history file: freqtrade's `BTC_USDT-5m...` names say it; otherwise the
/// coin against USD (Bitstamp's quote).
fn pair_of(file: &std::path::Path, coin: Coin) -> String {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.split('-').next().unwrap_or_default();
    match stem.split_once('_') {
        Some((base, quote))
            if base == coin.ticker()
                && !quote.is_empty()
                && quote.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            format!("{base}/{quote}")
        }
        _ => format!("{}/USD", coin.ticker()),
    }
}

/// Writes a ledger in [`LEDGER_HEADER`]'s columns (rates and returns in Rust's shortest exact
/// decimal form).
fn write_ledger(path: &std::path::Path, pair: &str, fills: &[models::fills::Fill]) -> anyhow::Result<()> {
    let mut w = csv_out(Some(path), LEDGER_HEADER)?.context("a ledger file")?;
    for f in fills {
        writeln!(
            w,
            "{pair},{},{},{},{},{},{}",
            utc(f.open_ts),
            utc(f.close_ts),
            f.short,
            f.open_rate,
            f.close_rate,
            f.profit_ratio
        )?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The BTC models on ten days of real June 2025 5-minute candles (a fixture cut from
    /// `../shared/data`): the rows written by `--rows-out` give back every printed figure.
    #[test]
    fn rows_out_reproduce_the_figures() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf();
        let dir = tempfile::tempdir().unwrap();
        let rows_path = dir.path().join("rows.csv");
        let args = EvaluateArgs {
            models: root.join("models/artifacts"),
            report_dir: dir.path().join("report"),
            data_root: dir.path().join("no-series"),
            fee_bps: 10.0,
            slippage_bps: 0.0,
            from: None,
            to: None,
            rows_out: Some(rows_path.clone()),
            signals_out: Some(dir.path().join("signals.csv")),
            ledger_out: Some(dir.path().join("ledgers")),
            publish_delay_s: 5,
            threshold: None,
            long_only: false,
            files: vec![root.join("server/tests/fixtures/BTC_USDT-5m-2025-06.json")],
        };
        let cards = evaluate(&args).unwrap();
        assert!(!cards.is_empty());
        let text = std::fs::read_to_string(&rows_path).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(ROWS_HEADER));
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        for card in &cards {
            let mine: Vec<&Vec<&str>> = rows.iter().filter(|r| r[3] == card.id).collect();
            let m = &card.walk_forward.metrics;
            assert_eq!(mine.len(), m.n, "{}", card.id);
            let went_up = |r: &Vec<&str>| r[7] == "1";
            let rate = |hit: &dyn Fn(&Vec<&str>) -> bool| {
                mine.iter().filter(|r| hit(r)).count() as f64 / mine.len() as f64
            };
            let said_up = |r: &Vec<&str>| models::predicts_up(r[4].parse::<f64>().unwrap());
            let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
            assert!(
                close(rate(&|r| said_up(r) == went_up(r)), m.accuracy),
                "{}",
                card.id
            );
            assert!(
                close(rate(&|r| (r[8] == "UP") == went_up(r)), m.baseline_accuracy),
                "{}",
                card.id
            );
            let momentum = rate(&|r| (r[9] == "UP") == went_up(r));
            let reversal = rate(&|r| (r[10] == "UP") == went_up(r));
            assert!(
                m.momentum_accuracy.is_some_and(|a| close(a, momentum)),
                "{}",
                card.id
            );
            assert!(
                m.reversal_accuracy.is_some_and(|a| close(a, reversal)),
                "{}",
                card.id
            );
            // The paired, overlap-aware p-value against the strongest rule, from the rows alone.
            let s = m.strongest_baseline.unwrap();
            let column = match s.name {
                models::metrics::Baseline::Majority => 8,
                models::metrics::Baseline::Momentum => 9,
                models::metrics::Baseline::Reversal => 10,
            };
            let hits = |said: &dyn Fn(&Vec<&str>) -> bool| -> Vec<f64> {
                mine.iter()
                    .map(|r| f64::from(u8::from(said(r) == went_up(r))))
                    .collect()
            };
            let test = models::stats::paired_hac(
                &hits(&|r| said_up(r)),
                &hits(&|r| r[column] == "UP"),
                m.lags.unwrap(),
            )
            .unwrap();
            assert!(close(test.p_value, s.p_value), "{}", card.id);
            assert!(
                m.n_effective.unwrap() < m.n as f64,
                "{}: overlapping rows",
                card.id
            );
            // After every shipped model's training: out of sample; signals at the card's threshold.
            assert!(mine.iter().all(|r| r[11] == "false"), "{}", card.id);
            for r in &mine {
                let (p, threshold): (f64, f64) = (r[4].parse().unwrap(), r[5].parse().unwrap());
                let signal = shared::Signal::from_p_up(p, threshold);
                assert_eq!(r[6], serde_json::to_value(signal).unwrap().as_str().unwrap());
            }
        }

        // The signals as published: one per scored row, five seconds after it, the same call.
        let signals = std::fs::read_to_string(dir.path().join("signals.csv")).unwrap();
        let mut lines = signals.lines();
        assert_eq!(lines.next(), Some(SIGNALS_HEADER));
        let signals: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(signals.len(), rows.len());
        for (s, r) in signals.iter().zip(&rows) {
            let made = chrono::DateTime::parse_from_rfc3339(r[0]).unwrap().timestamp();
            let published = chrono::DateTime::parse_from_rfc3339(s[0]).unwrap().timestamp();
            assert_eq!((published - made, s[1], s[2], s[3]), (5, "BTC/USDT", r[2], r[6]));
        }
        // Each model's ledger: positions at candle opens after their signal, one at a time.
        let (bars, _) = crate::commands::load(&args.files[0]).unwrap();
        let open_at = |t: &str| {
            let ts = chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp();
            bars.iter().find(|b| b.ts == ts).unwrap().open
        };
        for card in &cards {
            let path = dir
                .path()
                .join("ledgers")
                .join(format!("{}.csv", ModelCard::stem(Coin::BTC, card.horizon)));
            let text = std::fs::read_to_string(&path).unwrap();
            let mut lines = text.lines();
            assert_eq!(lines.next(), Some(LEDGER_HEADER));
            let mut free_at = String::new();
            for l in lines {
                let f: Vec<&str> = l.split(',').collect();
                assert!(f[1] >= free_at.as_str() && f[2] > f[1], "{l}");
                assert_eq!(f[4].parse::<f64>().unwrap(), open_at(f[1]), "{l}");
                assert_eq!(f[5].parse::<f64>().unwrap(), open_at(f[2]), "{l}");
                free_at = f[2].to_owned();
            }
        }
    }
}
