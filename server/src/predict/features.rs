//! Features from stored data: the model's window of minute candles (and series) through the same
//! `models` pipeline as training, or the reason there are none.

use models::features::features_with;
use models::history::Bar;
use models::series::SeriesSet;
use sea_orm::{ConnectionTrait, DbErr};

use crate::clock::{DAY_S, HOUR_S, MINUTE_S};
use crate::collect::sources::SeriesId;
use crate::db;
use crate::db::candles::fill_gaps;
use crate::predict::registry::LoadedModel;

/// More than this share of forward-filled minutes in a model's window: no prediction.
pub const MAX_FILLED_SHARE: f64 = 0.05;
/// How far back series points are read for a prediction (the features use at most a week).
pub const SERIES_READ_S: i64 = 30 * DAY_S;

/// The stored series in `names` (read once each), as of `t`.
pub async fn series_set(
    db: &impl ConnectionTrait,
    names: impl IntoIterator<Item = SeriesId>,
    t: i64,
) -> Result<SeriesSet, DbErr> {
    let mut set = SeriesSet::default();
    for series in names {
        let obs = db::series::read_series(db, series, t - SERIES_READ_S, t).await?;
        set.insert(series.as_str(), &obs);
    }
    Ok(set)
}

/// How far back a model's window reaches from the prediction time, seconds (plus an hour, so a
/// gap at the window's start can be carried forward).
pub fn reach_s(model: &LoadedModel) -> i64 {
    model.spec.lookback_bars() as i64 * model.card.features.bar_seconds + HOUR_S
}

/// Builds the model's features at minute `t` from stored data, or says why it cannot.
pub async fn features_at(
    db: &impl ConnectionTrait,
    model: &LoadedModel,
    t: i64,
) -> Result<Result<(Vec<f32>, f64), String>, DbErr> {
    let minutes = db::candles::minutes(db, model.card.coin, t - reach_s(model), t).await?;
    let set = series_set(db, model.series.iter().copied(), t).await?;
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
    if last.ts != t - MINUTE_S {
        return Err(format!(
            "stale data: the newest {coin} minute is {} min old (the minute before the prediction time is missing)",
            (t - last.ts) / 60
        ));
    }
    let reference = last.close;
    let window = fill_gaps(minutes, MINUTE_S, from, t);
    let expected = (t - from) / MINUTE_S;
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
    let per_bar = (bar_s / MINUTE_S) as usize;
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
