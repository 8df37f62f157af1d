//! The history a model learns from in the app's own database (collected, replayed, backfilled
//! or imported): what the retrain job and `coincast train --from-db` read.

use models::series::SeriesSet;
use models::train::{BaseBars, CoinHistory};
use shared::{Coin, Horizon};

use crate::clock::MINUTE_S;
use crate::db;
use crate::ids::SeriesId;

/// The external series a model may read, as stored in `series_points` (`coincast import
/// --series`, the collectors); `commands::SERIES_FILES` names their history files.
pub const MODEL_SERIES: [SeriesId; 6] = [
    SeriesId::Gold,
    SeriesId::Sp500,
    SeriesId::Oil,
    SeriesId::MsciWorld,
    SeriesId::MempoolCount,
    SeriesId::Tps,
];

/// The bar size of a horizon's models.
pub fn bar_seconds(horizon: Horizon) -> i64 {
    if horizon == Horizon::M30 { 300 } else { 3600 }
}

/// What to train from the app's own database (collected, replayed, backfilled or imported):
/// per coin, the minute candles opening in `[from, until)` as the finest base, then stored 5-minute
/// and hourly bars (imported history) where there are no minutes; series from `series_points`.
pub async fn histories_from_db(
    db: &impl sea_orm::ConnectionTrait,
    coins: &[Coin],
    from: i64,
    until: i64,
) -> anyhow::Result<Vec<CoinHistory>> {
    let mut set = SeriesSet::default();
    let mut series_sources = Vec::new();
    for name in MODEL_SERIES {
        let obs = db::series::read_series(db, name, i64::MIN, until).await?;
        if obs.is_empty() {
            continue;
        }
        set.insert(name.as_str(), &obs);
        series_sources.push(format!("{name}: database ({} points)", obs.len()));
    }
    let mut out = Vec::new();
    for &coin in coins {
        let mut parts = Vec::new();
        let mut sources = Vec::new();
        for interval_s in [MINUTE_S, 300, 3600] {
            let bars = db::candles::all_of(db, coin, interval_s, from, until).await?;
            if bars.is_empty() {
                continue;
            }
            sources.push(models::card::TrainingData::database_source(
                bars.len(),
                interval_s,
            ));
            parts.push(BaseBars { bars, interval_s });
        }
        out.push(CoinHistory {
            coin,
            parts,
            sources,
            series: set.clone(),
            series_sources: series_sources.clone(),
        });
    }
    Ok(out)
}
