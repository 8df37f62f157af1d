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
use models::series::{Observation, SeriesSet};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use shared::{Coin, Horizon};

use crate::entities::{candle, prediction, series_point};
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
        .map(|r| Bar {
            ts: r.ts,
            open: r.open,
            high: r.high,
            low: r.low,
            close: r.close,
            volume: r.volume,
        })
        .collect())
}

async fn series_set(db: &DatabaseConnection, names: &[String], t: i64) -> Result<SeriesSet, DbErr> {
    let mut set = SeriesSet::default();
    for name in names {
        let rows = series_point::Entity::find()
            .filter(series_point::Column::Series.eq(name.as_str()))
            .filter(series_point::Column::Ts.gte(t - 30 * 86_400))
            .filter(series_point::Column::Ts.lte(t))
            .order_by_asc(series_point::Column::Ts)
            .all(db)
            .await?;
        let obs: Vec<Observation> = rows
            .iter()
            .map(|r| Observation {
                ts: r.ts,
                value: r.value,
            })
            .collect();
        set.insert(name, &obs);
    }
    Ok(set)
}

/// Builds the model's features at minute `t` from stored data, or says why it cannot.
pub async fn features_at(
    db: &DatabaseConnection,
    model: &LoadedModel,
    t: i64,
) -> Result<Result<(Vec<f32>, f64), String>, DbErr> {
    let coin = model.card.coin;
    let bar_s = model.card.features.bar_seconds;
    let need = model.spec.lookback_bars() as i64;
    let from = t - need * bar_s;
    // An hour before the window lets a gap at its start be carried forward.
    let minutes = minute_bars(db, coin, from - 3_600, t).await?;
    let Some(last) = minutes.last() else {
        return Ok(Err(format!("no {coin} minute candles stored before {t}")));
    };
    if last.ts != t - 60 {
        return Ok(Err(format!(
            "stale data: the newest {coin} minute is {} min old (the minute before the prediction time is missing)",
            (t - last.ts) / 60
        )));
    }
    let reference = last.close;
    let window = fill_gaps(&minutes, 60, from, t);
    let expected = (t - from) / 60;
    if (window.len() as i64) < expected {
        return Ok(Err(format!(
            "too little history: {} of the {expected} minutes the model needs",
            window.len()
        )));
    }
    let filled = window.iter().filter(|r| r.filled).count();
    if filled as f64 > MAX_FILLED_SHARE * expected as f64 {
        return Ok(Err(format!(
            "gaps: {filled} of the {expected} minutes in the model's window are missing"
        )));
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
    let set = if model.spec.series.is_empty() {
        SeriesSet::default()
    } else {
        series_set(db, &model.spec.series, t).await?
    };
    match features_with(&model.spec, &bars, bar_s, &set) {
        Some(x) => Ok(Ok((x, reference))),
        None if !model.spec.series.is_empty() => Ok(Err(format!(
            "missing series: the model needs {} known over the last week",
            model.spec.series.join(", ")
        ))),
        None => Ok(Err(
            "the features could not be computed (non-finite values)".into()
        )),
    }
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
    let row = prediction::ActiveModel {
        coin: Set(coin.ticker().to_owned()),
        horizon: Set(horizon.as_str().to_owned()),
        made_at: Set(t),
        target_at: Set(t + i64::from(horizon.minutes()) * 60),
        p_up: Set(p_up),
        reference_price: Set(reference),
        model_id: Set(model.card.id.clone()),
        backfilled: Set(backfilled),
        outcome: Set("pending".into()),
        ..Default::default()
    };
    prediction::Entity::insert(row)
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
