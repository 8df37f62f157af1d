//! The prediction engine: features from the database through the `models` pipeline, inference
//! with the registry's models (off the async threads), stored predictions, and scoring against
//! the real price once a horizon has passed.
//!
//! Times: a prediction made at minute `t` (a minute boundary) uses every minute candle that closed
//! by `t`; its reference price is the close of the minute `[t - 60, t)`. Its target is `t + h`,
//! judged on the close of the minute `[t + h - 60, t + h)`: UP is right when that close is above
//! the reference. This is exactly how the training labels were made.

use std::sync::Arc;

use chrono::Utc;
use models::features::features_with;
use models::history::Bar;
use models::series::SeriesSet;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use shared::{Coin, Horizon};

use crate::entities::{candle, prediction};
use crate::market::fill_gaps;
use crate::registry::{LoadedModel, Registry};
use crate::store;

/// More than this share of forward-filled minutes in a model's window: no prediction.
pub const MAX_FILLED_SHARE: f64 = 0.05;
/// A prediction whose target minute has no price this long after the target is unscorable.
pub const SCORE_GIVE_UP_S: i64 = 3_600;

/// What one attempt did.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// Stored (or already there: the job is idempotent).
    Made { p_up: f64, reference_price: f64 },
    /// Not made, and why (recorded in the model's status row).
    Skipped(String),
}

/// The status-row id of a coin and horizon's prediction attempts.
pub fn status_id(coin: Coin, horizon: Horizon) -> String {
    format!("predict/{}/{}", coin.ticker(), horizon.as_str())
}

async fn minute_bars(db: &DatabaseConnection, coin: Coin, from: i64, to: i64) -> Result<Vec<Bar>, DbErr> {
    Ok(candle::Entity::find()
        .filter(candle::Column::Coin.eq(coin.ticker()))
        .filter(candle::Column::IntervalS.eq(60))
        .filter(candle::Column::Ts.gte(from))
        .filter(candle::Column::Ts.lt(to))
        .order_by_asc(candle::Column::Ts)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.bar())
        .collect())
}

async fn series_set(db: &DatabaseConnection, names: &[String], t: i64) -> Result<SeriesSet, DbErr> {
    let mut set = SeriesSet::default();
    for name in names {
        let obs = store::read_series(db, name, t - 30 * 86_400, t).await?;
        set.insert(name, &obs);
    }
    Ok(set)
}

/// How far back a model's window reaches from the prediction time, seconds (plus an hour, so a
/// gap at the window's start can be carried forward).
pub fn reach_s(model: &LoadedModel) -> i64 {
    model.spec.lookback_bars() as i64 * model.card.features.bar_seconds + 3_600
}

/// Builds the model's features at minute `t` from stored data, or says why it cannot.
pub async fn features_at(
    db: &DatabaseConnection,
    model: &LoadedModel,
    t: i64,
) -> Result<Result<(Vec<f32>, f64), String>, DbErr> {
    let minutes = minute_bars(db, model.card.coin, t - reach_s(model), t).await?;
    let set = if model.spec.series.is_empty() {
        SeriesSet::default()
    } else {
        series_set(db, &model.spec.series, t).await?
    };
    Ok(features_from(model, &minutes, &set, t))
}

/// The features and reference price at minute `t` from minute candles (oldest first; only those
/// before `t` are read), or why there are none. Pure: training-time semantics, no database.
pub fn features_from(
    model: &LoadedModel,
    minutes: &[Bar],
    set: &SeriesSet,
    t: i64,
) -> Result<(Vec<f32>, f64), String> {
    let coin = model.card.coin;
    let bar_s = model.card.features.bar_seconds;
    let need = model.spec.lookback_bars() as i64;
    let from = t - need * bar_s;
    let lo = minutes.partition_point(|b| b.ts < t - reach_s(model));
    let hi = minutes.partition_point(|b| b.ts < t);
    let minutes = &minutes[lo..hi];
    let Some(last) = minutes.last() else {
        return Err(format!("no {coin} minute candles stored before {t}"));
    };
    if last.ts != t - 60 {
        return Err(format!(
            "stale data: the newest {coin} minute is {} min old (the minute before the prediction time is missing)",
            (t - last.ts) / 60
        ));
    }
    let reference = last.close;
    let window = fill_gaps(minutes, 60, from, t);
    let expected = (t - from) / 60;
    if (window.len() as i64) < expected {
        return Err(format!(
            "too little history: {} of the {expected} minutes the model needs",
            window.len()
        ));
    }
    let filled = window.iter().filter(|r| r.filled).count();
    if filled as f64 > MAX_FILLED_SHARE * expected as f64 {
        return Err(format!(
            "gaps: {filled} of the {expected} minutes in the model's window are missing"
        ));
    }
    // Bars of the model's size ending at t.
    let per_bar = (bar_s / 60) as usize;
    let bars: Vec<Bar> = window
        .chunks(per_bar)
        .enumerate()
        .map(|(j, chunk)| Bar {
            ts: from + j as i64 * bar_s,
            open: chunk[0].bar.open,
            high: chunk.iter().map(|r| r.bar.high).fold(f64::MIN, f64::max),
            low: chunk.iter().map(|r| r.bar.low).fold(f64::MAX, f64::min),
            close: chunk[chunk.len() - 1].bar.close,
            volume: chunk.iter().map(|r| r.bar.volume).sum(),
        })
        .collect();
    match features_with(&model.spec, &bars, bar_s, set) {
        Some(x) => Ok((x, reference)),
        None if !model.spec.series.is_empty() => Err(format!(
            "missing series: the model needs {} known over the last week",
            model.spec.series.join(", ")
        )),
        None => Err("the features could not be computed (non-finite values)".into()),
    }
}

async fn insert_predictions(
    db: &DatabaseConnection,
    rows: Vec<prediction::ActiveModel>,
) -> Result<(), DbErr> {
    for chunk in rows.chunks(500) {
        prediction::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    prediction::Column::Coin,
                    prediction::Column::Horizon,
                    prediction::Column::MadeAt,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

fn row(model: &LoadedModel, t: i64, p_up: f64, reference: f64, backfilled: bool) -> prediction::ActiveModel {
    let horizon = model.card.horizon;
    prediction::ActiveModel {
        coin: Set(model.card.coin.ticker().to_owned()),
        horizon: Set(horizon.as_str().to_owned()),
        made_at: Set(t),
        target_at: Set(t + i64::from(horizon.minutes()) * 60),
        p_up: Set(p_up),
        reference_price: Set(reference),
        model_id: Set(model.card.id.clone()),
        backfilled: Set(backfilled),
        outcome: Set("pending".into()),
        ..Default::default()
    }
}

/// Backfills predictions every `step_s` over `[now - hours, now)` from stored history (replayed
/// or imported), marked `backfilled` (never counted as live), where none exists yet; then scores
/// what has come due. One read of candles per coin; inference batched per model, off the async
/// threads. Returns how many were made.
pub async fn backfill(
    db: &DatabaseConnection,
    registry: &Registry,
    now: i64,
    hours: i64,
    step_s: i64,
) -> anyhow::Result<usize> {
    let end = now.div_euclid(step_s) * step_s;
    let start = end - hours * 3600;
    let mut made = 0;
    let models = registry.all();
    for coin in Coin::ALL {
        let mine: Vec<_> = models.iter().filter(|m| m.card.coin == coin).cloned().collect();
        let Some(reach) = mine.iter().map(|m| reach_s(m)).max() else {
            continue;
        };
        let minutes = minute_bars(db, coin, start - reach, end).await?;
        if minutes.is_empty() {
            continue;
        }
        for model in mine {
            let existing: std::collections::HashSet<i64> = prediction::Entity::find()
                .filter(prediction::Column::Coin.eq(coin.ticker()))
                .filter(prediction::Column::Horizon.eq(model.card.horizon.as_str()))
                .filter(prediction::Column::MadeAt.gte(start))
                .all(db)
                .await?
                .into_iter()
                .map(|p| p.made_at)
                .collect();
            let set = if model.spec.series.is_empty() {
                SeriesSet::default()
            } else {
                series_set(db, &model.spec.series, end).await?
            };
            let (mut xs, mut at) = (Vec::new(), Vec::new());
            let mut t = start;
            while t < end {
                if due(model.card.horizon, t)
                    && !existing.contains(&t)
                    && let Ok((x, reference)) = features_from(&model, &minutes, &set, t)
                {
                    xs.push(x);
                    at.push((t, reference));
                }
                t += step_s;
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
            insert_predictions(db, rows).await?;
        }
    }
    score_due(db, now).await?;
    Ok(made)
}

/// Makes (and stores) one prediction at minute `t`, or records why not.
pub async fn predict(
    db: &DatabaseConnection,
    model: Arc<LoadedModel>,
    t: i64,
    backfilled: bool,
) -> anyhow::Result<Attempt> {
    let (coin, horizon) = (model.card.coin, model.card.horizon);
    let source = status_id(coin, horizon);
    let (x, reference) = match features_at(db, &model, t).await? {
        Ok(v) => v,
        Err(reason) => {
            if !backfilled {
                tracing::info!(%coin, horizon = horizon.as_str(), reason, "no prediction");
                store::record_failure(db, &source, &reason).await?;
            }
            return Ok(Attempt::Skipped(reason));
        }
    };
    let runner = model.clone();
    let p_up = tokio::task::spawn_blocking(move || runner.predict(&x)).await??;
    insert_predictions(db, vec![row(&model, t, p_up, reference, backfilled)]).await?;
    if !backfilled {
        store::record_success(db, &source, Some(t)).await?;
    }
    Ok(Attempt::Made {
        p_up,
        reference_price: reference,
    })
}

/// Whether a horizon is predicted at minute `t` (30 min to 2 h every minute, longer ones every
/// 15 minutes).
pub fn due(horizon: Horizon, t: i64) -> bool {
    t.rem_euclid(i64::from(horizon.cadence_minutes()) * 60) == 0
}

/// One tick: every model whose cadence falls on minute `t`. Returns (made, skipped).
pub async fn tick(db: &DatabaseConnection, registry: &Registry, t: i64) -> anyhow::Result<(usize, usize)> {
    let (mut made, mut skipped) = (0, 0);
    for model in registry.all() {
        if !due(model.card.horizon, t) {
            continue;
        }
        match predict(db, model, t, false).await? {
            Attempt::Made { .. } => made += 1,
            Attempt::Skipped(_) => skipped += 1,
        }
    }
    Ok((made, skipped))
}

/// Scores every pending prediction whose target minute has passed: the realized close, return and
/// whether the direction was right; `unscorable` when no price arrived within an hour of the
/// target. Returns how many were scored and given up.
pub async fn score_due(db: &DatabaseConnection, now: i64) -> Result<(usize, usize), DbErr> {
    let pending = prediction::Entity::find()
        .filter(prediction::Column::Outcome.eq("pending"))
        .filter(prediction::Column::TargetAt.lte(now - 60))
        .order_by_asc(prediction::Column::TargetAt)
        .all(db)
        .await?;
    let (mut scored, mut gave_up) = (0, 0);
    for p in pending {
        let realized = candle::Entity::find()
            .filter(candle::Column::Coin.eq(p.coin.as_str()))
            .filter(candle::Column::IntervalS.eq(60))
            .filter(candle::Column::Ts.eq(p.target_at - 60))
            .one(db)
            .await?;
        let mut row: prediction::ActiveModel = p.clone().into();
        match realized {
            Some(c) => {
                let up = models::label_up(p.reference_price, c.close);
                row.realized_price = Set(Some(c.close));
                row.realized_return = Set(Some((c.close - p.reference_price) / p.reference_price));
                row.correct = Set(up.map(|up| up == (p.p_up >= 0.5)));
                row.outcome = Set(if up.is_some() { "scored" } else { "unscorable" }.into());
                scored += 1;
            }
            None if now - p.target_at > SCORE_GIVE_UP_S => {
                row.outcome = Set("unscorable".into());
                gave_up += 1;
            }
            None => continue,
        }
        row.scored_at = Set(Some(now));
        prediction::Entity::update(row).exec(db).await?;
    }
    Ok((scored, gave_up))
}

/// The current minute boundary.
pub fn current_minute() -> i64 {
    Utc::now().timestamp().div_euclid(60) * 60
}
