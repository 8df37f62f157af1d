//! The catalogue of upstream sources and their health as `/api/sources` reports it: what each
//! collects, how often, when its data counts as stale, and whether it runs in this mode.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbErr};
use shared::{SourceHealth, SourceState};

use crate::clock::{DAY_S, HOUR_S, MINUTE_S};
use crate::db;

// The ids live in `crate::ids` (below every stage); here for the paths that name them so.
pub use crate::ids::{SeriesId, SourceId};

/// One source the collectors fetch.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub id: SourceId,
    pub description: String,
    pub cadence_s: u32,
    /// Data older than this (seconds) makes a working source `stale`.
    pub stale_after_s: i64,
    pub enabled: bool,
}

/// How often the minute candles are collected, seconds.
pub const CANDLE_CADENCE_S: u32 = 60;
/// How often the slower sources (chain, tweets, markets) are collected, seconds.
pub const SLOW_CADENCE_S: u32 = 900;

/// Every source of the collected `coins`, given the mode: in replay only the replayed candles
/// (and markets) run.
pub fn catalogue(coins: &crate::coins::Coins, replaying: Option<&super::replay::Replay>) -> Vec<SourceSpec> {
    let live = replaying.is_none();
    let replay = replaying.map(super::replay::Replay::dataset);
    // A candle is stored once it has closed, so between two collections the newest one's open is
    // up to two bars old: stale past 5 minutes on minutes, past three bars on longer ones.
    let base_s = super::base_s(replaying);
    let candles_stale_after = (5 * MINUTE_S).max(3 * base_s);
    let bars = if base_s == MINUTE_S {
        "minute".to_owned()
    } else {
        format!("{}-minute", base_s / MINUTE_S)
    };
    let spec = |id, description: String, cadence_s, stale_after_s, enabled| SourceSpec {
        id,
        description,
        cadence_s,
        stale_after_s,
        enabled,
    };
    let mut out = Vec::new();
    for c in coins.all() {
        let coin = c.coin;
        let description = match replay {
            Some(dataset) => format!("{} {bars} candles replayed from {dataset}", c.name),
            None => format!("Bitstamp {}/USD minute candles", coin.ticker()),
        };
        let id = SourceId::candles(coin, replay.is_some());
        out.push(spec(id, description, CANDLE_CADENCE_S, candles_stale_after, true));
    }
    if let Some(dataset) = replay {
        let description = format!("daily gold, S&P 500, oil and MSCI World closes replayed with {dataset}");
        out.push(spec(
            SourceId::ReplayMarkets,
            description,
            CANDLE_CADENCE_S,
            5 * DAY_S,
            true,
        ));
    }
    let mempool = "mempool.space: Bitcoin mempool transaction count and virtual size".to_owned();
    out.push(spec(
        SourceId::Mempool,
        mempool,
        SLOW_CADENCE_S,
        3 * i64::from(SLOW_CADENCE_S),
        live,
    ));
    for series in [SeriesId::MempoolCount, SeriesId::Tps] {
        let description = format!("blockchain.info charts: {}", series.description());
        out.push(spec(
            SourceId::Blockchain(series),
            description,
            SLOW_CADENCE_S,
            3 * HOUR_S,
            live,
        ));
    }
    for c in coins
        .all()
        .iter()
        .filter(|c| SeriesId::TWEET_COINS.contains(&c.coin))
    {
        let coin = c.coin;
        let description = format!("bitinfocharts: tweets per day about {}", c.name);
        out.push(spec(
            SourceId::Bitinfocharts(coin),
            description,
            SLOW_CADENCE_S,
            3 * DAY_S,
            live,
        ));
    }
    for series in SeriesId::MARKETS {
        let description = format!("Yahoo Finance: {}", series.description());
        // Markets close for weekends and holidays.
        out.push(spec(
            SourceId::Yahoo(series),
            description,
            SLOW_CADENCE_S,
            5 * DAY_S,
            live,
        ));
    }
    out
}

/// The health of every source in the catalogue, from the stored status rows.
pub async fn health(
    db: &impl ConnectionTrait,
    catalogue: &[SourceSpec],
    now: i64,
) -> Result<Vec<SourceHealth>, DbErr> {
    let rows: HashMap<String, _> = db::status::all(db)
        .await?
        .into_iter()
        .map(|r| (r.source.clone(), r))
        .collect();
    let time = |t: Option<i64>| t.and_then(crate::clock::to_utc);
    Ok(catalogue
        .iter()
        .map(|spec| {
            let row = rows.get(&spec.id.to_string());
            let latest = row.and_then(|r| r.latest_data_at);
            let age = latest.map(|t| now - t);
            let state = match row {
                _ if !spec.enabled => SourceState::Disabled,
                None => SourceState::Pending,
                Some(r) if r.consecutive_failures > 0 => SourceState::Failing,
                Some(_) if age.is_none_or(|a| a > spec.stale_after_s) => SourceState::Stale,
                Some(_) => SourceState::Ok,
            };
            SourceHealth {
                source: spec.id.to_string(),
                description: spec.description.clone(),
                state,
                cadence_seconds: spec.cadence_s,
                last_success_at: time(row.and_then(|r| r.last_success_at)),
                last_error_at: time(row.and_then(|r| r.last_error_at)),
                last_error: row.and_then(|r| r.last_error.clone()),
                consecutive_failures: row.map_or(0, |r| r.consecutive_failures.max(0) as u32),
                latest_data_at: time(latest),
                data_age_seconds: age,
            }
        })
        .collect())
}
