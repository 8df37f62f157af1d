//! `models/REPORT.md`: the walk-forward tables next to the baselines (majority, momentum,
//! reversal) and the shuffled-split contrast, the strategy table (the signals traded after costs
//! against buy-and-hold and the momentum rule), with a reliability diagram and an
//! accuracy-vs-coverage plot per coin and an equity curve per model (SVG, plotters).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;
use shared::Coin;

use crate::card::ModelCard;
use crate::strategy::StrategyMetrics;

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// What `coincast evaluate` appends to the model name of a row measured inside the model's
/// training span: such rows are never counted as out of sample.
pub const IN_SAMPLE: &str = "**IN-SAMPLE**";

/// How training's figures are made (the methodology paragraph of the training report).
pub const WALK_FORWARD_METHOD: &str = "Every figure below is out of sample: each test block was predicted by a \
model trained only on earlier rows, with the rows whose label window reaches into the test block purged and an \
embargo of one horizon. The model kind (logistic regression, a small MLP or boosted trees; logistic \
and trees also **pooled**: learnt from every coin's rows up to the fold's training end, marked `pooled`), \
the feature set (price and volume alone; with the **cross-section** of the coins trained together: \
BTC's and their mean return, the coin's return relative to each and its rank among them; or, from 4 h on, \
with the daily market series), the calibration \
and the signal threshold were chosen on earlier folds than the ones reported (the selection folds), \
scored only on rows whose outcome is known before the first reported row; candidates with series are \
compared on the rows where every series is known. The simple rules are fixed on \
the same selection folds before any reported row is scored: **baseline** always predicts the direction that \
was more frequent there; **momentum** says UP when the last bar rose (its close above the one before), \
**reversal** the opposite; **strongest** is the one of the three that was most accurate there, scored here. \
**n_eff** is the effective sample size: neighbouring rows share most of their label window (rows every 5 \
minutes or every hour, outcomes 30 minutes to 12 hours ahead), so n independent rows they are not; the 95% \
interval is Wilson's over n_eff. **p** and **p vs strongest** are paired tests of the model's per-row hits \
against the rule's on the same rows, with a Newey-West (HAC) variance over twice the horizon in rows, \
one-sided; **Holm** (family-wise error) and **BH** (Benjamini-Hochberg, false discovery rate) adjust p vs \
strongest across the table's out-of-sample rows, and ✓ marks p < 0.05 after Holm, the decision the API and \
the app use. The signal's confidence threshold was chosen on the same selection folds (never on the reported \
ones). Short-horizon direction is hard: credible results are 51-58%.";

/// The accuracy table's p-values against the strongest rule adjusted across the out-of-sample rows
/// (in-sample rows are in no family): Holm's and Benjamini-Hochberg's, by card.
pub fn adjusted(cards: &[ModelCard]) -> Vec<Option<(f64, f64)>> {
    let family: Vec<usize> = (0..cards.len())
        .filter(|&i| !cards[i].model_name.contains(IN_SAMPLE))
        .filter(|&i| cards[i].walk_forward.metrics.strongest_baseline.is_some())
        .collect();
    let raw: Vec<f64> = family
        .iter()
        .filter_map(|&i| {
            cards[i]
                .walk_forward
                .metrics
                .strongest_baseline
                .map(|s| s.p_value)
        })
        .collect();
    let (holm, bh) = (crate::stats::holm(&raw), crate::stats::benjamini_hochberg(&raw));
    let mut out = vec![None; cards.len()];
    for (k, &i) in family.iter().enumerate() {
        out[i] = Some((holm[k], bh[k]));
    }
    out
}

/// Writes REPORT.md and its plots (in `plots/`) into `dir`. `title_note` says how the cards were
/// produced; `method` how their figures were measured.
pub fn write_report(cards: &[ModelCard], dir: &Path, title_note: &str, method: &str) -> anyhow::Result<()> {
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots)?;
    let mut md = String::new();
    writeln!(md, "# coincast models: report\n")?;
    writeln!(md, "{title_note}\n")?;
    writeln!(md, "{method}\n")?;
    writeln!(
        md,
        "| coin | horizon | model | features | n | n_eff | accuracy [95% CI] | baseline | p | momentum | reversal | strongest | p vs strongest | Holm | BH | p binomial (naive) | balanced | Brier | log loss | top 10% | top 25% | top 50% | shuffled split |"
    )?;
    writeln!(
        md,
        "|---|---|---|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    let corrected = adjusted(cards);
    for (c, adj) in cards.iter().zip(&corrected) {
        let m = &c.walk_forward.metrics;
        let cov = |x: f64| {
            c.walk_forward
                .accuracy_vs_coverage
                .iter()
                .find(|p| (p.coverage - x).abs() < 1e-9)
                .map(|p| format!("{} (n={})", pct(p.accuracy), p.n))
                .unwrap_or_else(|| "-".into())
        };
        let fixed_on = match m.baselines.map(|b| b.chosen_on) {
            Some(crate::metrics::ChosenOn::SelectionFolds) | None => "",
            Some(crate::metrics::ChosenOn::ScoredRows) => " (chosen on these rows)",
        };
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} [{}, {}] | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.4} | {:.4} | {} | {} | {} | {} |",
            c.coin.ticker(),
            c.horizon.as_str(),
            c.model_name,
            crate::train::feature_set_label(&c.spec()),
            m.n,
            m.n_effective.map_or("-".into(), |n| format!("{n:.0}")),
            pct(m.accuracy),
            pct(m.wilson_low),
            pct(m.wilson_high),
            pct(m.baseline_accuracy),
            p_value(m.p_value),
            m.momentum_accuracy.map_or("-".into(), pct),
            m.reversal_accuracy.map_or("-".into(), pct),
            m.strongest_baseline.map_or("-".into(), |s| format!(
                "{} {}{fixed_on}",
                s.name.as_str(),
                pct(s.accuracy)
            )),
            m.strongest_baseline.map_or("-".into(), |s| p_value(s.p_value)),
            adj.map_or("-".into(), |(h, _)| format!(
                "{}{}",
                p_value(h),
                if h < 0.05 { " ✓" } else { "" }
            )),
            adj.map_or("-".into(), |(_, b)| p_value(b)),
            m.strongest_baseline
                .and_then(|s| s.p_value_binomial)
                .map_or("-".into(), p_value),
            pct(m.balanced_accuracy),
            m.brier,
            m.log_loss,
            cov(0.1),
            cov(0.25),
            cov(0.5),
            pct(c.shuffled_split.accuracy),
        )?;
    }
    // Rows an evaluation marked in-sample (`coincast evaluate`) are not counted.
    let in_sample = cards.iter().filter(|c| c.model_name.contains(IN_SAMPLE)).count();
    let family: Vec<(f64, f64, f64)> = cards
        .iter()
        .zip(&corrected)
        .filter_map(|(c, adj)| {
            let (h, b) = (*adj)?;
            Some((c.walk_forward.metrics.strongest_baseline?.p_value, h, b))
        })
        .collect();
    let scored: Vec<_> = cards
        .iter()
        .filter(|c| !c.model_name.contains(IN_SAMPLE))
        .filter_map(|c| c.walk_forward.metrics.strongest_baseline)
        .collect();
    if !scored.is_empty() {
        let mut by_name: Vec<(&str, usize)> = Vec::new();
        for s in &scored {
            match by_name.iter_mut().find(|(n, _)| *n == s.name.as_str()) {
                Some(entry) => entry.1 += 1,
                None => by_name.push((s.name.as_str(), 1)),
            }
        }
        writeln!(
            md,
            "\n**Against the strongest baseline** (paired, overlap-aware test): {} of {} out-of-sample rows have p < 0.05 uncorrected, **{} after Holm's correction** across them (✓), {} after Benjamini-Hochberg's{}. Strongest baseline: {}.",
            family.iter().filter(|f| f.0 < 0.05).count(),
            family.len(),
            family.iter().filter(|f| f.1 < 0.05).count(),
            family.iter().filter(|f| f.2 < 0.05).count(),
            if in_sample > 0 {
                format!(" ({in_sample} in-sample rows not counted)")
            } else {
                String::new()
            },
            by_name
                .iter()
                .map(|(n, k)| format!("{n} on {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    writeln!(
        md,
        "\n**Why the shuffled split misleads.** The last column scores the same model kind on a random 80/20 \
split of the same rows. Neighbouring rows share most of their label window (two 12 h labels an hour apart \
overlap by 11 hours) and most of their features, so a shuffled split puts near-copies of every test row in \
the training set: the model is graded on answers it has already seen. The walk-forward columns are what a \
user of the live service can expect; the shuffled figure is what leaky evaluations publish.\n"
    )?;
    strategy_section(&mut md, cards, dir)?;
    writeln!(md, "## Test periods and data\n")?;
    writeln!(
        md,
        "| model | test period | training rows (final fit) | bar | sources |"
    )?;
    writeln!(md, "|---|---|---:|---:|---|")?;
    for c in cards {
        writeln!(
            md,
            "| {} | {} to {} | {} | {} s | {} |",
            c.id,
            &c.walk_forward.test_from[..10.min(c.walk_forward.test_from.len())],
            &c.walk_forward.test_to[..10.min(c.walk_forward.test_to.len())],
            c.training.rows,
            c.training.bar_seconds,
            c.training.sources.join(", ")
        )?;
    }
    let mut notes: Vec<&str> = cards
        .iter()
        .flat_map(|c| c.training.not_used.iter().map(String::as_str))
        .collect();
    notes.sort_unstable();
    notes.dedup();
    if !notes.is_empty() {
        writeln!(md, "\nNot used: {}.\n", notes.join("; "))?;
    }
    writeln!(
        md,
        "Price features (version {}): for the current bar and each past period, the return, the high and the low \
relative to the period's first open, and the volume relative to the whole window's mean volume (a ratio: the \
same on any exchange and in any year, where absolute volume is not).\n",
        crate::features::FEATURE_VERSION
    )?;
    writeln!(
        md,
        "External series are aligned without look-ahead: a value counts from one day after its stamp (a daily close \
from the next day on), held constant until the next one, and missing when older than five days. Features per \
series: its one-day and seven-day log change. S&P 500 history is SPY (the ETF tracking it); the live collector \
stores ^GSPC. On-chain series (mempool count, transactions per second) are collected live but not offered to \
these models: their history in our data ends in March 2021, so no model using them could be evaluated out of \
sample or run on the bundled replay.\n"
    )?;
    md.push_str(&crate::confidence::section(cards));
    writeln!(md, "## Plots\n")?;
    let mut coins: Vec<Coin> = cards.iter().map(|c| c.coin).collect();
    coins.sort();
    coins.dedup();
    for coin in coins {
        let mine: Vec<&ModelCard> = cards.iter().filter(|c| c.coin == coin).collect();
        if mine.is_empty() {
            continue;
        }
        let rel = format!("plots/{}-reliability.svg", coin.ticker());
        let cov = format!("plots/{}-coverage.svg", coin.ticker());
        reliability_plot(&mine, &dir.join(&rel), &format!("{}: reliability", coin.label()))?;
        coverage_plot(&mine, &dir.join(&cov), coin)?;
        writeln!(
            md,
            "### {}\n\n![reliability]({rel}) ![accuracy vs coverage]({cov})\n",
            coin.label()
        )?;
        // Each model's reliability curve on its own, with its bins' counts in the legend.
        let mut own = Vec::new();
        for card in &mine {
            let path = format!("plots/{}-reliability.svg", ModelCard::stem(coin, card.horizon));
            let title = format!(
                "{} {}: reliability ({})",
                coin.ticker(),
                card.horizon.as_str(),
                card.model_name
            );
            reliability_plot(std::slice::from_ref(card), &dir.join(&path), &title)?;
            own.push(format!(
                "![{} {} reliability]({path})",
                coin.ticker(),
                card.horizon.as_str()
            ));
        }
        writeln!(md, "{}\n", own.join(" "))?;
    }
    std::fs::write(dir.join("REPORT.md"), md)?;
    Ok(())
}

/// The strategy table, the plain verdicts and an equity plot per model.
fn strategy_section(md: &mut String, cards: &[ModelCard], dir: &Path) -> anyhow::Result<()> {
    let traded: Vec<&ModelCard> = cards.iter().filter(|c| c.strategy.is_some()).collect();
    let Some(first) = traded.first().and_then(|c| c.strategy.as_ref()) else {
        return Ok(());
    };
    writeln!(md, "## Trading the signals after costs\n")?;
    writeln!(
        md,
        "Each model's signal is LONG when it says UP with a confidence (|P(UP) - 0.5| x 2) of at least its \
threshold, SHORT when it says DOWN with it, FLAT otherwise. The threshold was chosen from a fixed grid on the \
selection folds (maximising the long-short net return after costs there, at least 30 trades; rows whose \
horizon reaches the scored period left out), never on the rows scored here. A position takes the whole equity \
at the open of the first candle after the prediction is published (5 s after its time: a bot acts after it reads \
it) and is closed at the open one horizon later (`models::fills`, the rule freqtrade's backtester reproduces); \
predictions while a position is open are skipped (no overlap). Costs: {} bps per side ({}; slippage {} bps), paid \
on entry and on exit. **Long-short** trades \
both signals, **long-flat** only LONG; **buy-and-hold** holds the coin over the same rows (costs once in, once \
out); **momentum** trades the momentum rule (LONG after a rising bar, else SHORT) long-short on the same \
schedule. Sharpe is annualised from per-horizon returns (0 while flat); the drawdown is measured at position \
exits; the **break-even fee** is the cost per side at which the long-short net return would be 0 (negative: \
it loses even without costs). **Sharpe ± SE** is the ratio with its standard error (Lo 2002, per-horizon returns \
taken as normal); **DSR** the deflated Sharpe ratio (Bailey and Lopez de Prado 2014) given every configuration tried \
for that coin and horizon (candidate models x the 12 thresholds): the probability that it beats what the best of them \
would show by luck, under 0.95 it may be luck; **PBO** the probability of backtest overfitting across the threshold \
grid on the scored rows (combinatorially symmetric cross-validation over 16 time blocks): 0.5 or more, picking the \
best threshold is no better than chance. Past returns on these folds promise nothing about the future.\n",
        first.fee_bps, first.fee_source, first.slippage_bps
    )?;
    writeln!(
        md,
        "| model | period | threshold | trades | long-short net (gross) | Sharpe ± SE | DSR | PBO | max drawdown | hit rate | break-even fee | long-flat net | buy-and-hold | momentum net | verdict |"
    )?;
    writeln!(
        md,
        "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    )?;
    let signed = |x: f64| format!("{:+.1}%", 100.0 * x);
    let mut nothing = Vec::new();
    let (mut profitable, mut above_hold, mut skipped) = (0, 0, 0);
    for c in &traded {
        let Some(s) = c.strategy.as_ref() else { continue };
        let ls = &s.long_short;
        let in_sample = c.model_name.contains(IN_SAMPLE);
        let verdict = if in_sample {
            "**IN-SAMPLE**: not counted"
        } else if ls.trades == 0 {
            "no trades at this threshold"
        } else if ls.net_return <= 0.0 {
            "**earns nothing after fees**"
        } else if ls.net_return <= s.buy_and_hold.net_return {
            "profitable, below buy-and-hold"
        } else {
            "beats buy-and-hold"
        };
        if in_sample {
            skipped += 1;
        } else if ls.net_return > 0.0 {
            profitable += 1;
            above_hold += usize::from(ls.net_return > s.buy_and_hold.net_return);
        } else {
            nothing.push(format!("{} {}", c.coin.ticker(), c.horizon.as_str()));
        }
        writeln!(
            md,
            "| {} {}{} | {} to {} | {:.2} | {} | {} ({}) | {:.2}{} | {} | {} | {} | {} | {} | {} | {} | {} | {verdict} |",
            c.coin.ticker(),
            c.horizon.as_str(),
            if in_sample { " **IN-SAMPLE**" } else { "" },
            &s.from[..10.min(s.from.len())],
            &s.to[..10.min(s.to.len())],
            s.threshold,
            ls.trades,
            signed(ls.net_return),
            signed(ls.gross_return),
            ls.sharpe,
            s.evidence
                .map_or(String::new(), |e| format!(" ± {:.2}", e.sharpe_se)),
            s.evidence
                .map_or("-".into(), |e| format!("{:.2}", e.deflated_sharpe)),
            s.evidence
                .and_then(|e| e.pbo)
                .map_or("-".into(), |p| format!("{p:.2}")),
            pct(ls.max_drawdown),
            ls.hit_rate.map_or("-".into(), pct),
            ls.break_even_fee_bps
                .map_or("-".into(), |b| format!("{b:.1} bps")),
            signed(s.long_flat.net_return),
            signed(s.buy_and_hold.net_return),
            signed(s.momentum.net_return),
        )?;
    }
    writeln!(
        md,
        "\n**In plain words:** {profitable} of {} out-of-sample rows made money long-short after {} bps per side on these \
rows, {above_hold} of them more than buying and holding the coin{}.{}\n",
        traded.len() - skipped,
        first.fee_bps + first.slippage_bps,
        if skipped > 0 {
            format!(
                " ({skipped} in-sample rows, marked, are not counted: a model trading the data it learnt from)"
            )
        } else {
            String::new()
        },
        if nothing.is_empty() {
            String::new()
        } else {
            format!(
                " Following the signals of {} earned nothing after fees (a loss, or no trade).",
                nothing.join(", ")
            )
        }
    )?;
    writeln!(md, "### Equity curves (after costs)\n")?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for c in &traded {
        let stem = ModelCard::stem(c.coin, c.horizon);
        let k = seen.entry(stem.clone()).or_insert(0);
        *k += 1;
        let name = if *k == 1 {
            stem.clone()
        } else {
            format!("{stem}-{k}")
        };
        let rel = format!("plots/{name}-equity.svg");
        equity_plot(c, &dir.join(&rel))?;
        if c.model_name.contains(IN_SAMPLE) {
            writeln!(
                md,
                "![{stem} equity, IN-SAMPLE]({rel}) (**IN-SAMPLE**: {} on data it trained on)",
                c.id
            )?;
        } else {
            writeln!(md, "![{stem} equity]({rel})")?;
        }
    }
    writeln!(md)?;
    Ok(())
}

fn equity_plot(card: &ModelCard, path: &Path) -> anyhow::Result<()> {
    let Some(s) = card.strategy.as_ref() else {
        return Ok(());
    };
    let start = s
        .buy_and_hold
        .equity
        .first()
        .or(s.long_short.equity.first())
        .map_or(0, |p| p.t);
    let days = |m: &StrategyMetrics| -> Vec<(f64, f64)> {
        m.equity
            .iter()
            .map(|p| ((p.t - start) as f64 / 86_400.0, p.equity))
            .collect()
    };
    let lines: Vec<Line> = vec![
        ("long-short".into(), COLORS[0], days(&s.long_short)),
        ("long-flat".into(), COLORS[2], days(&s.long_flat)),
        ("buy-and-hold".into(), COLORS[1], days(&s.buy_and_hold)),
        ("momentum".into(), COLORS[4], days(&s.momentum)),
    ];
    let all = lines.iter().flat_map(|l| l.2.iter());
    let (mut x1, mut y0, mut y1) = (1.0f64, 1.0f64, 1.0f64);
    for &(x, y) in all {
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let pad = (y1 - y0).max(0.02) * 0.05;
    line_chart(
        path,
        &format!(
            "{} {}: equity after {} bps/side{}",
            card.coin.ticker(),
            card.horizon.as_str(),
            s.fee_bps + s.slippage_bps,
            if card.model_name.contains(IN_SAMPLE) {
                " (IN-SAMPLE)"
            } else {
                ""
            }
        ),
        (0.0..x1, &format!("days from {}", &s.from[..10.min(s.from.len())])),
        ((y0 - pad).max(0.0)..y1 + pad, "equity (start = 1)"),
        Style {
            diagonal: false,
            markers: false,
        },
        lines,
    )
}

/// One line of a plot: its legend label, colour and points.
type Line = (String, RGBColor, Vec<(f64, f64)>);

/// What a chart draws besides its lines.
struct Style {
    /// The y = x reference.
    diagonal: bool,
    /// A circle at every point.
    markers: bool,
}

/// A line chart with axis labels and a legend (markers and the y = x reference as `style` says).
fn line_chart(
    path: &Path,
    caption: &str,
    (x_range, x_desc): (std::ops::Range<f64>, &str),
    (y_range, y_desc): (std::ops::Range<f64>, &str),
    style: Style,
    lines: Vec<Line>,
) -> anyhow::Result<()> {
    let err = |e: DrawingAreaErrorKind<std::io::Error>| anyhow::anyhow!("drawing {}: {e}", path.display());
    let root = SVGBackend::new(path, (520, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (x0, x1) = (x_range.start, x_range.end);
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(45)
        .build_cartesian_2d(x_range, y_range)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .map_err(err)?;
    if style.diagonal {
        chart
            .draw_series(LineSeries::new([(x0, x0), (x1, x1)], BLACK.mix(0.4)))
            .map_err(err)?;
    }
    for (label, color, points) in lines {
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 15, y)], color.stroke_width(2)));
        if style.markers {
            chart
                .draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                .map_err(err)?;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Predicted P(UP) against the observed UP rate of the walk-forward test rows, one line per card
/// (bins of at least 20 rows).
fn reliability_plot(cards: &[&ModelCard], path: &Path, title: &str) -> anyhow::Result<()> {
    let lines = cards
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let points = c
                .walk_forward
                .reliability
                .iter()
                .filter(|b| b.n >= 20)
                .map(|b| (b.mean_predicted.clamp(0.3, 0.7), b.observed_up.clamp(0.3, 0.7)))
                .collect();
            (c.horizon.as_str().to_owned(), COLORS[i % COLORS.len()], points)
        })
        .collect();
    line_chart(
        path,
        title,
        (0.3..0.7, "predicted P(UP)"),
        (0.3..0.7, "observed UP rate"),
        Style {
            diagonal: true,
            markers: true,
        },
        lines,
    )
}

fn coverage_plot(cards: &[&ModelCard], path: &Path, coin: Coin) -> anyhow::Result<()> {
    let lines = cards
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let points = c
                .walk_forward
                .accuracy_vs_coverage
                .iter()
                .map(|p| (p.coverage, p.accuracy.clamp(0.4, 0.7)))
                .collect();
            let label = format!(
                "{} (baseline {})",
                c.horizon.as_str(),
                pct(c.walk_forward.metrics.baseline_accuracy)
            );
            (label, COLORS[i % COLORS.len()], points)
        })
        .collect();
    line_chart(
        path,
        &format!("{}: accuracy vs coverage", coin.label()),
        (0.0..1.0, "share of most confident predictions"),
        (0.4..0.7, "accuracy"),
        Style {
            diagonal: false,
            markers: true,
        },
        lines,
    )
}
