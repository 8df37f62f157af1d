//! `coincast retrain`: one retrain now, as the weekly `retrain` job runs it (see
//! `predict::retrain`), with a progress bar; prints every decision. Running servers on PostgreSQL
//! hear the promotion at once; on SQLite they load it on their next reload (`kill -HUP`).

use std::sync::Arc;

use futures_util::future::BoxFuture;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::RetrainArgs;
use crate::config::Settings;
use crate::db;
use crate::db::changes::{self, Change, Origin};
use crate::predict::registry::{Registry, reload_logged};
use crate::predict::retrain::{self, Options, Progress, Report};

/// Draws the retrain's steps (hidden when standard error is not a terminal: then one log line a
/// step).
struct Bar(ProgressBar);

impl Report for Bar {
    fn step(&self, progress: &Progress) -> BoxFuture<'_, ()> {
        self.0.set_length(progress.total as u64);
        self.0.set_position(progress.done as u64);
        self.0.set_message(progress.step.clone());
        if self.0.is_hidden() {
            eprintln!("[{}/{}] {}", progress.done, progress.total, progress.step);
        }
        Box::pin(async {})
    }
}

/// A progress bar for `total` steps, styled alike for `train` and `retrain`.
pub fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {wide_msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// `coincast retrain`.
pub async fn run(settings: &Settings, args: &RetrainArgs) -> anyhow::Result<()> {
    let conn = db::open(settings).await?;
    let registry = Arc::new(Registry::load_serving(
        &settings.models.dir,
        settings.coins.served(),
    )?);
    reload_logged(&conn, &registry, "retrain: the running versions").await;
    let mut options = Options::from_settings(
        &settings.retrain,
        &settings.model_store_dir(),
        &crate::clock::Clock::system(),
        &registry.coins(),
    );
    if let Some(day) = args.as_of {
        options.now = crate::clock::midnight(day);
    }
    if !args.coins.is_empty() {
        options.coins = args.coins.clone();
    }
    if !args.horizons.is_empty() {
        options.horizons = args.horizons.clone();
    }
    if let Some(days) = args.window_days {
        options.window_s = days.max(1) * crate::clock::DAY_S;
    }
    if let Some(days) = args.history_days {
        options.history_s = days.max(1) * crate::clock::DAY_S;
    }
    options.shuffle_labels = args.shuffled_labels;
    let bar = Bar(progress_bar(
        (options.coins.len() * options.horizons.len()) as u64,
    ));
    let outcomes = retrain::run(&conn, &registry, &options, &bar).await?;
    bar.0.finish_and_clear();
    println!(
        "| coin | horizon | decision | champion | challenger | n | log loss (champion / challenger) | DM | p | reason |"
    );
    println!("|---|---|---|---|---|---:|---|---:|---:|---|");
    for o in &outcomes {
        let (n, ll, dm, p) = o.result.as_ref().map_or_else(
            || ("-".to_owned(), "-".to_owned(), "-".to_owned(), "-".to_owned()),
            |r| {
                (
                    r.n.to_string(),
                    format!("{:.5} / {:.5}", r.champion.log_loss, r.challenger.log_loss),
                    format!("{:.2}", r.dm_statistic),
                    format!("{:.4}", r.p_value),
                )
            },
        );
        println!(
            "| {} | {} | {:?} | {} | {} | {n} | {ll} | {dm} | {p} | {} |",
            o.coin,
            o.horizon,
            o.decision,
            o.champion_id,
            o.challenger_id.as_deref().unwrap_or("-"),
            o.reason
        );
    }
    if let Some(dir) = &args.ship {
        ship(dir, &outcomes)?;
    }
    if outcomes
        .iter()
        .any(|o| o.decision == models::gate::Decision::Promoted)
    {
        changes::announce(&conn, &Origin::new(), Change::Models).await?;
    }
    Ok(())
}

/// Writes every challenger into `dir` as `<COIN>-<horizon>.onnx` and `.json` (its card with the
/// gate's decision) and REPORT.md beside `dir`'s parent's report folder (`dir/..`).
fn ship(dir: &std::path::Path, outcomes: &[retrain::Outcome]) -> anyhow::Result<()> {
    let mut written = 0;
    for o in outcomes {
        let Some((card, onnx)) = &o.challenger else {
            continue;
        };
        models::train::write_artifact(card, onnx, dir)?;
        written += 1;
    }
    let cards = models::train::read_cards(dir)?;
    let report_dir = dir.parent().unwrap_or(dir);
    let note = format!(
        "Produced by `coincast retrain --ship` on this machine ({written} models trained on the imported history, each gated against the model it replaces)."
    );
    models::report::write_report(&cards, report_dir, &note, models::report::WALK_FORWARD_METHOD)?;
    eprintln!(
        "wrote {written} models to {} and REPORT.md to {}",
        dir.display(),
        report_dir.display()
    );
    Ok(())
}
