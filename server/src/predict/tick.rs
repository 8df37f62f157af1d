//! The prediction tick: every model due this minute predicts from stored data (features from
//! `features`, inference off the async threads) and its prediction is stored; the start-up
//! backfill does the same over past hours, in batches.
//!
//! Times: a prediction made at `t` (a multiple of the base bar, `collect::base_s`: a minute live,
//! the replay's bar when replaying) uses every base candle that closed by `t`; its reference price
//! is the close of the base bar `[t - base, t)`. Its target is `t + h`, judged on the close of the
//! base bar `[t + h - base, t + h)`: UP is right when that close is above the reference. The close
//! of a 5-minute bar is the close of its last minute, so both bases judge the same prices, exactly
//! as the training labels were made.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use models::features::CrossSection;
use models::history::Bar;
use sea_orm::{ConnectionTrait, TransactionTrait};
use shared::{Coin, Horizon};

use crate::clock::HOUR_S;
use crate::db;
use crate::db::entities::prediction;
use crate::ids::{SeriesId, SourceId};
use crate::predict::features::{cross_coins, features_from, reach_s, series_set};
use crate::predict::minutes::MinuteCache;
use crate::predict::registry::{LoadedModel, Registry};
use crate::predict::score::score_due;

fn row(model: &LoadedModel, t: i64, p_up: f64, reference: f64, backfilled: bool) -> prediction::ActiveModel {
    let card = &model.card;
    let mut row = db::predictions::new_row(card.coin, card.horizon, t, p_up, reference, &card.id, backfilled);
    row.signal_threshold = sea_orm::Set(card.signal_threshold());
    row.band_accuracy = sea_orm::Set(card.band_accuracy(p_up));
    row
}

/// Backfills predictions every `step_s` (a multiple of `base_s`) over the last `hours` from stored
/// base bars of `base_s` (replayed or imported), marked `backfilled` (never counted as live), where
/// none exists yet; then scores what has come due. The last step at or before `now` is included
/// unless it is the current minute (the live tick's), and so is the newest base bar's time when
/// it is later (on 5-minute bars the short horizons are due every 5 minutes, so a start between
/// two of them gets the last one): right after a start every horizon has a current prediction
/// (the 4 h to 12 h ones are due only every 15 minutes), never one already past `valid_until`.
/// One read of candles per coin; inference batched per model, off the async threads. A model
/// whose newest due time cannot be predicted gets its reason recorded, as the live tick does
/// (`not_made_reason` says it at once). Returns how many were made.
pub async fn backfill(
    db: &(impl ConnectionTrait + TransactionTrait<Transaction = sea_orm::DatabaseTransaction>),
    registry: &Registry,
    base_s: i64,
    now: i64,
    hours: i64,
    step_s: i64,
) -> anyhow::Result<usize> {
    let step_s = step_s.max(base_s);
    let slot = now.div_euclid(step_s) * step_s;
    // Every step up to `end` (inclusive): the newest slot, unless the live tick owns it.
    let end = if slot == crate::clock::minute_of(now) {
        slot - step_s
    } else {
        slot
    };
    // `hours` of steps, the newest at `end`; then the newest base bar's time, when later and not
    // the live tick's.
    let start = end - hours * HOUR_S + step_s;
    let mut times: Vec<i64> = (0..)
        .map(|i| start + i * step_s)
        .take_while(|t| *t <= end)
        .collect();
    let newest_base = now.div_euclid(base_s) * base_s;
    if newest_base > end && newest_base != crate::clock::minute_of(now) {
        times.push(newest_base);
    }
    let end = times.last().copied().unwrap_or(end);
    let mut made = 0;
    // Models whose newest due time could not be predicted, and why: recorded as the live tick
    // records them, so `/api/predictions` says why at once, not only after the model's first
    // live tick (up to 15 minutes later).
    let mut failed = Vec::new();
    let models = registry.all();
    // The other coins the models' cross-section blocks read, each once over the whole span.
    let mut others = BTreeMap::new();
    let with_market = models.iter().filter(|m| !m.spec.market.is_empty());
    let reach = with_market.clone().map(|m| reach_s(m.reads())).max().unwrap_or(0);
    for coin in with_market
        .flat_map(|m| cross_coins(m.reads()))
        .collect::<BTreeSet<Coin>>()
    {
        others.insert(
            coin,
            db::candles::all_of(db, coin, base_s, start - reach, end).await?,
        );
    }
    let cross = cross_section(&others, base_s);
    for coin in registry.coins() {
        let mine: Vec<_> = models.iter().filter(|m| m.card.coin == coin).cloned().collect();
        let Some(reach) = mine.iter().map(|m| reach_s(m.reads())).max() else {
            continue;
        };
        let minutes = db::candles::all_of(db, coin, base_s, start - reach, end).await?;
        if minutes.is_empty() {
            continue;
        }
        for model in mine {
            let existing = db::predictions::made_since(db, coin, model.card.horizon, start).await?;
            let set = series_set(db, model.series.iter().copied(), end).await?;
            let (mut xs, mut at) = (Vec::new(), Vec::new());
            let mut newest_failure = None;
            for &t in &times {
                if !due(model.card.horizon, base_s, t) {
                    continue;
                }
                // A stored prediction at `t` (a restart) is the model's newest so far, not a failure.
                if existing.contains(&t) {
                    newest_failure = None;
                    continue;
                }
                match features_from(model.reads(), &minutes, base_s, &set, &cross, t) {
                    Ok((x, reference)) => {
                        xs.push(x);
                        at.push((t, reference));
                        newest_failure = None;
                    }
                    Err(reason) => newest_failure = Some(reason),
                }
            }
            if let Some(reason) = newest_failure {
                failed.push((SourceId::Predictions(coin, model.card.horizon), reason));
            }
            if xs.is_empty() {
                continue;
            }
            let runner = model.clone();
            let ps = tokio::task::spawn_blocking(move || runner.predict_many(&xs)).await??;
            let rows = at
                .iter()
                .zip(ps)
                .map(|(&(t, reference), p)| row(&model, t, p, reference, true))
                .collect::<Vec<_>>();
            made += rows.len();
            db::predictions::insert(db, rows, now).await?;
        }
    }
    db::status::record_failures(db, &failed, now).await?;
    score_due(db, base_s, now).await?;
    Ok(made)
}

/// The cross-section of the other coins' base bars read for a tick or a backfill.
fn cross_section(others: &BTreeMap<Coin, Vec<Bar>>, base_s: i64) -> CrossSection<'_> {
    others
        .iter()
        .map(|(coin, bars)| (*coin, bars.as_slice(), base_s))
        .collect()
}

/// Whether a horizon is predicted at `t` on base bars of `base_s` (`Horizon::cadence_on`: on
/// minutes, 30 min to 2 h every minute and longer ones every 15 minutes; on 5-minute bars, the
/// short ones every 5 minutes).
pub fn due(horizon: Horizon, base_s: i64, t: i64) -> bool {
    t.rem_euclid(horizon.cadence_on(base_s)) == 0
}

/// What one tick did: the stored predictions' minute, how many were made, and each skipped model
/// with its reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TickOutcome {
    pub made: usize,
    pub skipped: Vec<(Coin, Horizon, String)>,
}

/// A due model with its features, or why it has none.
type Prepared = (Arc<LoadedModel>, Result<(Vec<f32>, f64), String>);

/// One tick: every model whose cadence falls on minute `t` (on base bars of `base_s`). Reads each
/// coin's candles (through `kept`: only the newest base bars from the database; a coin that a
/// due model's cross-section reads too, once) and each series once for all its models, builds
/// the features and runs every model in one blocking task,
/// stores the predictions in one statement and the models' status rows in one statement each.
/// One model's failure (no features, an inference error) never stops the others. `now` is when
/// the predictions are published (and the status rows written).
pub async fn tick(
    db: &(impl ConnectionTrait + TransactionTrait<Transaction = sea_orm::DatabaseTransaction>),
    registry: &Registry,
    kept: &MinuteCache,
    base_s: i64,
    t: i64,
    now: i64,
) -> anyhow::Result<TickOutcome> {
    let all = registry.all();
    let due_models: Vec<Arc<LoadedModel>> = all
        .iter()
        .filter(|m| due(m.card.horizon, base_s, t))
        .cloned()
        .collect();
    // The coins the due models' cross-section blocks read. Every coin's window reaches as far as
    // all its models, due or not, and, for a coin of a cross-section, every cross-section model:
    // minute and quarter-hour ticks then keep the same window, and each coin is read once.
    let cross: BTreeSet<Coin> = due_models.iter().flat_map(|m| cross_coins(m.reads())).collect();
    let in_any_cross: BTreeSet<Coin> = all.iter().flat_map(|m| cross_coins(m.reads())).collect();
    let market_reach = all
        .iter()
        .filter(|m| !m.spec.market.is_empty())
        .map(|m| reach_s(m.reads()))
        .max()
        .unwrap_or(0);
    let reach_of = |coin: Coin| {
        let own = all
            .iter()
            .filter(|m| m.card.coin == coin)
            .map(|m| reach_s(m.reads()))
            .max()
            .unwrap_or(0);
        if in_any_cross.contains(&coin) {
            own.max(market_reach)
        } else {
            own
        }
    };
    let mut inputs = Vec::new();
    let mut others = BTreeMap::new();
    for coin in registry.coins() {
        let mine: Vec<Arc<LoadedModel>> = due_models
            .iter()
            .filter(|m| m.card.coin == coin)
            .cloned()
            .collect();
        if mine.is_empty() {
            continue;
        }
        let minutes = kept.bars(db, coin, base_s, t - reach_of(coin), t).await?;
        if cross.contains(&coin) {
            others.insert(coin, minutes.clone());
        }
        let series: BTreeSet<SeriesId> = mine.iter().flat_map(|m| m.series.iter().copied()).collect();
        let set = series_set(db, series, t).await?;
        inputs.push((mine, minutes, set));
    }
    for &coin in &cross {
        if let std::collections::btree_map::Entry::Vacant(e) = others.entry(coin) {
            e.insert(kept.bars(db, coin, base_s, t - reach_of(coin), t).await?);
        }
    }
    // Features and inference are CPU work: one blocking task for the whole tick.
    let prepared: Vec<(Prepared, Option<anyhow::Result<f64>>)> = tokio::task::spawn_blocking(move || {
        let cross = cross_section(&others, base_s);
        let cross = &cross;
        inputs
            .iter()
            .flat_map(|(mine, minutes, set)| {
                mine.iter().map(move |m| {
                    let features = features_from(m.reads(), minutes, base_s, set, cross, t);
                    let p = features.as_ref().ok().map(|(x, _)| m.predict(x));
                    ((m.clone(), features), p)
                })
            })
            .collect()
    })
    .await?;
    let mut rows = Vec::new();
    let mut made = Vec::new();
    let mut failed = Vec::new();
    let mut outcome = TickOutcome::default();
    for ((model, features), p) in prepared {
        let (coin, horizon) = (model.card.coin, model.card.horizon);
        let source = SourceId::Predictions(coin, horizon);
        let reason = match (features, p) {
            (Ok((_, reference)), Some(Ok(p_up))) => {
                rows.push(row(&model, t, p_up, reference, false));
                made.push(source);
                continue;
            }
            (Err(reason), _) => reason,
            (Ok(_), Some(Err(e))) => format!("the model failed: {e:#}"),
            (Ok(_), None) => "the model was not run".to_owned(),
        };
        tracing::info!(%coin, horizon = horizon.as_str(), reason, "no prediction");
        outcome.skipped.push((coin, horizon, reason.clone()));
        failed.push((source, reason));
    }
    outcome.made = rows.len();
    db::predictions::insert(db, rows, now).await?;
    db::status::record_successes(db, &made, t, now).await?;
    db::status::record_failures(db, &failed, now).await?;
    Ok(outcome)
}
