//! Features from stored data: the model's window of minute candles (and series) through the same
//! `models` pipeline as training, or the reason there are none.

use models::bars::{CARRY_S, NoBars, bars_ending_at};
use models::features::features_with;
use models::history::Bar;
use models::series::SeriesSet;
use sea_orm::{ConnectionTrait, DbErr};

use crate::clock::DAY_S;
use crate::db;
use crate::ids::SeriesId;
use crate::predict::registry::LoadedModel;

/// More than this share of forward-filled minutes in a model's window: no prediction (the one
/// gap rule of `models::bars`, which training follows too).
pub use models::bars::MAX_FILLED_SHARE;
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

/// How far back a model's window reaches from the prediction time, seconds (plus `CARRY_S`, so a
/// gap at the window's start can be carried forward).
pub fn reach_s(model: &LoadedModel) -> i64 {
    model.spec.lookback_bars() as i64 * model.card.features.bar_seconds + CARRY_S
}

/// Builds the model's features at `t` from stored base bars of `base_s` (see
/// `collect::base_s`), or says why it cannot.
pub async fn features_at(
    db: &impl ConnectionTrait,
    model: &LoadedModel,
    base_s: i64,
    t: i64,
) -> Result<Result<(Vec<f32>, f64), String>, DbErr> {
    let base = db::candles::all_of(db, model.card.coin, base_s, t - reach_s(model), t).await?;
    let set = series_set(db, model.series.iter().copied(), t).await?;
    Ok(features_from(model, &base, base_s, &set, t))
}

/// The features and reference price at `t` (a multiple of `base_s`) from base candles of
/// `base_s` (minutes live, the replay's bars when replaying; oldest first; only those before `t`
/// are read), or why there are none. Pure, and the same bars as training: the model's bars
/// ending at `t` from `models::bars::bars_ending_at` (the one gap rule), then
/// `models::features::features_with`.
pub fn features_from(
    model: &LoadedModel,
    base: &[Bar],
    base_s: i64,
    set: &SeriesSet,
    t: i64,
) -> Result<(Vec<f32>, f64), String> {
    let coin = model.card.coin;
    let bar_s = model.card.features.bar_seconds;
    let unit = if base_s == 60 {
        "minute".to_owned()
    } else {
        format!("{}-minute candle", base_s / 60)
    };
    let bars = match bars_ending_at(base, base_s, bar_s, model.spec.lookback_bars(), t) {
        Ok(bars) => bars,
        Err(NoBars::Empty) => return Err(format!("no {coin} {unit}s stored before {t}")),
        Err(NoBars::Stale { newest }) => {
            return Err(format!(
                "stale data: the newest {coin} {unit} is {} min old (the {unit} before the prediction time is missing)",
                (t - newest) / 60
            ));
        }
        Err(NoBars::Gaps { filled, of }) => {
            return Err(format!(
                "gaps: {filled} of the {of} {unit}s in the model's window are missing"
            ));
        }
        Err(NoBars::TooLittle { have, need }) => {
            return Err(format!(
                "too little history: {have} of the {need} {unit}s the model needs"
            ));
        }
        Err(NoBars::Misaligned) => {
            return Err(format!(
                "{coin}: the model's {bar_s} s bars cannot be made from {unit}s at {t}"
            ));
        }
    };
    // The close of the base bar before `t` (real: a carried one would have been stale).
    let Some(reference) = bars.last().map(|b| b.close) else {
        return Err(format!("no {coin} {unit}s stored before {t}"));
    };
    match features_with(&model.spec, &bars, bar_s, set) {
        Some(x) => Ok((x, reference)),
        None if !model.spec.series.is_empty() => Err(format!(
            "missing series: the model needs {} known over the last week",
            model.spec.series.join(", ")
        )),
        None => Err("the features could not be computed (non-finite values)".into()),
    }
}
