//! Features from stored data: the model's window of minute candles (and series) through the same
//! `models` pipeline as training, or the reason there are none.

use models::bars::{CARRY_S, NoBars, bars_ending_at};
use models::features::{CrossSection, FeatureSpec, Market, features_with};
use models::history::Bar;
use models::series::SeriesSet;
use sea_orm::{ConnectionTrait, DbErr};
use shared::Coin;

use crate::clock::DAY_S;
use crate::db;
use crate::ids::SeriesId;

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

/// What a model's features read: its coin, bar size, feature spec and stored series
/// (`LoadedModel::reads`).
#[derive(Debug, Clone, Copy)]
pub struct Reads<'a> {
    pub coin: Coin,
    pub bar_s: i64,
    pub spec: &'a FeatureSpec,
    pub series: &'a [SeriesId],
}

/// How far back a model's window reaches from the prediction time, seconds (plus `CARRY_S`, so a
/// gap at the window's start can be carried forward).
pub fn reach_s(model: Reads<'_>) -> i64 {
    model.spec.lookback_bars() as i64 * model.bar_s + CARRY_S
}

/// Builds the model's features at `t` from stored base bars of `base_s` (see
/// `collect::base_s`), or says why it cannot.
pub async fn features_at(
    db: &impl ConnectionTrait,
    model: Reads<'_>,
    base_s: i64,
    t: i64,
) -> Result<Result<(Vec<f32>, f64), String>, DbErr> {
    let base = db::candles::all_of(db, model.coin, base_s, t - reach_s(model), t).await?;
    let set = series_set(db, model.series.iter().copied(), t).await?;
    let mut others = Vec::new();
    for coin in cross_coins(model) {
        others.push((
            coin,
            db::candles::all_of(db, coin, base_s, t - reach_s(model), t).await?,
        ));
    }
    let cross: CrossSection = others
        .iter()
        .map(|(coin, bars)| (*coin, bars.as_slice(), base_s))
        .collect();
    Ok(features_from(model, &base, base_s, &set, &cross, t))
}

/// The coins of a model's cross-section block whose bars at `t` (or a lookback before) are
/// missing, when too many are (BTC, or more than half of the others): `None` when the block can
/// be built, or the model has none.
fn cross_section_missing(model: Reads<'_>, cross: &CrossSection<'_>, t: i64) -> Option<Vec<String>> {
    let own = model.coin.ticker();
    let bar_s = model.bar_s;
    let others: Vec<&String> = model.spec.market.iter().filter(|c| *c != own).collect();
    let missing: Vec<String> = others
        .iter()
        .filter(|c| {
            model
                .spec
                .market_lookbacks()
                .iter()
                .any(|l| cross.log_return(c, t, *l as i64 * bar_s).is_none())
        })
        .map(|c| c.to_string())
        .collect();
    let btc_missing = own != Coin::BTC.ticker() && missing.iter().any(|c| c == Coin::BTC.ticker());
    let too_few = others.len() - missing.len() < others.len().div_ceil(2).max(1);
    (!others.is_empty() && (btc_missing || too_few)).then_some(missing)
}

/// The other coins a model's cross-section block reads (none without the block). A name that is
/// not a ticker is skipped: its coin is then missing, and the model says so.
pub fn cross_coins(model: Reads<'_>) -> impl Iterator<Item = Coin> + '_ {
    model
        .spec
        .market
        .iter()
        .filter_map(|c| c.parse::<Coin>().ok())
        .filter(move |c| *c != model.coin)
}

/// The features and reference price at `t` (a multiple of `base_s`) from base candles of
/// `base_s` (minutes live, the replay's bars when replaying; oldest first; only those before `t`
/// are read), or why there are none. Pure, and the same bars as training: the model's bars
/// ending at `t` from `models::bars::bars_ending_at` (the one gap rule), then
/// `models::features::features_with`.
pub fn features_from(
    model: Reads<'_>,
    base: &[Bar],
    base_s: i64,
    set: &SeriesSet,
    cross: &CrossSection<'_>,
    t: i64,
) -> Result<(Vec<f32>, f64), String> {
    let coin = model.coin;
    let bar_s = model.bar_s;
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
    // Only the coins this model's block names (a tick's cross-section holds every due model's).
    let cross = &cross.only(&model.spec.market);
    let market = Market { coin, cross };
    match features_with(model.spec, &bars, bar_s, set, Some(market)) {
        Some(x) => Ok((x, reference)),
        None if let Some(missing) = cross_section_missing(model, cross, t) => Err(format!(
            "missing cross-section: the model reads {} and needs BTC and at least half of the others at this time and {} bars before; missing: {}",
            model.spec.market.join(", "),
            model.spec.market_lookbacks()[1],
            missing.join(", ")
        )),
        None if !model.spec.series.is_empty() => Err(format!(
            "missing series: the model needs {} known over the last week",
            model.spec.series.join(", ")
        )),
        None => Err("the features could not be computed (non-finite values)".into()),
    }
}
