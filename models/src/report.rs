//! `models/REPORT.md`: the walk-forward tables next to the baselines and the shuffled-split
//! contrast, with a reliability diagram and an accuracy-vs-coverage plot per coin (SVG, plotters).

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;
use shared::Coin;

use crate::card::ModelCard;

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

/// How training's figures are made (the methodology paragraph of the training report).
pub const WALK_FORWARD_METHOD: &str = "Every figure below is out of sample: each test block was predicted by a \
model trained only on earlier rows, with the rows whose label window reaches into the test block purged and an \
embargo of one horizon. The model kind and the feature set (price and volume alone, or, from 4 h on, with \
the daily market series) were chosen on earlier folds than the ones reported; candidates with series are \
compared on the rows where every series is known. **Baseline** is always \
predicting the majority class of the same test rows; **p** is the one-sided binomial probability of doing at \
least this well at the baseline's rate. Short-horizon direction is hard: credible results are 51-58%.";

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
        "| coin | horizon | model | features | n | accuracy [95% CI] | baseline | p | balanced | Brier | log loss | top 10% | top 25% | top 50% | shuffled split |"
    )?;
    writeln!(
        md,
        "|---|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for c in cards {
        let m = &c.walk_forward.metrics;
        let cov = |x: f64| {
            c.walk_forward
                .accuracy_vs_coverage
                .iter()
                .find(|p| (p.coverage - x).abs() < 1e-9)
                .map(|p| format!("{} (n={})", pct(p.accuracy), p.n))
                .unwrap_or_else(|| "-".into())
        };
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} [{}, {}] | {} | {} | {} | {:.4} | {:.4} | {} | {} | {} | {} |",
            c.coin.ticker(),
            c.horizon.as_str(),
            c.model_name,
            crate::train::feature_set_label(&c.features.series),
            m.n,
            pct(m.accuracy),
            pct(m.wilson_low),
            pct(m.wilson_high),
            pct(m.baseline_accuracy),
            p_value(m.p_value),
            pct(m.balanced_accuracy),
            m.brier,
            m.log_loss,
            cov(0.1),
            cov(0.25),
            cov(0.5),
            pct(c.shuffled_split.accuracy),
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
    writeln!(md, "## Plots\n")?;
    for coin in Coin::ALL {
        let mine: Vec<&ModelCard> = cards.iter().filter(|c| c.coin == coin).collect();
        if mine.is_empty() {
            continue;
        }
        let rel = format!("plots/{}-reliability.svg", coin.ticker());
        let cov = format!("plots/{}-coverage.svg", coin.ticker());
        reliability_plot(&mine, &dir.join(&rel), coin)?;
        coverage_plot(&mine, &dir.join(&cov), coin)?;
        writeln!(
            md,
            "### {}\n\n![reliability]({rel}) ![accuracy vs coverage]({cov})\n",
            coin.name()
        )?;
    }
    std::fs::write(dir.join("REPORT.md"), md)?;
    Ok(())
}

/// One line of a plot: its legend label, colour and points.
type Line = (String, RGBColor, Vec<(f64, f64)>);

/// A line chart with markers, axis labels and a legend; `diagonal` adds the y = x reference.
fn line_chart(
    path: &Path,
    caption: &str,
    (x_range, x_desc): (std::ops::Range<f64>, &str),
    (y_range, y_desc): (std::ops::Range<f64>, &str),
    diagonal: bool,
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
    if diagonal {
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
        chart
            .draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(err)?;
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

fn reliability_plot(cards: &[&ModelCard], path: &Path, coin: Coin) -> anyhow::Result<()> {
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
        &format!("{}: reliability", coin.name()),
        (0.3..0.7, "predicted P(UP)"),
        (0.3..0.7, "observed UP rate"),
        true,
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
        &format!("{}: accuracy vs coverage", coin.name()),
        (0.0..1.0, "share of most confident predictions"),
        (0.4..0.7, "accuracy"),
        false,
        lines,
    )
}
