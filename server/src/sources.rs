//! The catalogue of upstream sources and their health as `/api/sources` reports it: what each
//! collects, how often, when its data counts as stale, and whether it runs in this mode.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use shared::{Coin, SourceHealth, SourceState};

use crate::store;

/// Gold, S&P 500, oil and MSCI World on Yahoo, with the series id each is stored under.
pub const MARKETS: [(&str, &str, &str); 4] = [
    ("GC=F", "gold", "gold futures (COMEX) daily close"),
    ("^GSPC", "sp500", "S&P 500 daily close"),
    ("CL=F", "oil", "crude oil futures (NYMEX) daily close"),
    ("URTH", "msci_world", "MSCI World ETF (URTH) daily close"),
];

/// Series ids of the on-chain collectors. `mempool_count` and `tps` come from blockchain.info's
/// charts (the source of the models' training history, with ten days of history on every run, so
/// a fresh server can build the seven-day changes at once); mempool.space's live snapshot is kept
/// beside them as `mempool_space_count` and `mempool_space_vsize`.
pub const MEMPOOL_COUNT: &str = "mempool_count";
pub const TPS: &str = "tps";
pub const MEMPOOL_SPACE_COUNT: &str = "mempool_space_count";
pub const MEMPOOL_SPACE_VSIZE: &str = "mempool_space_vsize";

/// The source id of the market series replayed beside replayed candles.
pub const REPLAY_MARKETS: &str = "replay/markets";

/// The series id of a coin's daily tweet count.
pub fn tweets_series(coin: Coin) -> String {
    format!("tweets_{}", coin.ticker().to_ascii_lowercase())
}

/// One source the collectors fetch.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub id: String,
    pub description: String,
    pub cadence_s: u32,
    /// Data older than this (seconds) makes a working source `stale`.
    pub stale_after_s: i64,
    pub enabled: bool,
}

/// Every source, given the mode: in replay only the replayed candles run.
pub fn catalogue(replay: Option<&str>) -> Vec<SourceSpec> {
    let live = replay.is_none();
    let mut out = Vec::new();
    for coin in Coin::ALL {
        out.push(SourceSpec {
            id: candle_source(coin, replay.is_some()),
            description: match replay {
                Some(dataset) => format!("{} minute candles replayed from {dataset}", coin.name()),
                None => format!("Bitstamp {}/USD minute candles", coin.ticker()),
            },
            cadence_s: 60,
            stale_after_s: 5 * 60,
            enabled: true,
        });
    }
    if let Some(dataset) = replay {
        out.push(SourceSpec {
            id: REPLAY_MARKETS.into(),
            description: format!("daily gold, S&P 500, oil and MSCI World closes replayed with {dataset}"),
            cadence_s: 60,
            stale_after_s: 5 * 86_400,
            enabled: true,
        });
    }
    out.push(SourceSpec {
        id: "mempool".into(),
        description: "mempool.space: Bitcoin mempool transaction count and virtual size".into(),
        cadence_s: 900,
        stale_after_s: 3 * 900,
        enabled: live,
    });
    out.push(SourceSpec {
        id: "blockchain/mempool-count".into(),
        description: "blockchain.info charts: Bitcoin mempool transaction count".into(),
        cadence_s: 900,
        stale_after_s: 3 * 3600,
        enabled: live,
    });
    out.push(SourceSpec {
        id: "blockchain/tps".into(),
        description: "blockchain.info charts: Bitcoin transactions per second".into(),
        cadence_s: 900,
        stale_after_s: 3 * 3600,
        enabled: live,
    });
    for coin in Coin::ALL {
        out.push(SourceSpec {
            id: format!("bitinfocharts/{}", coin.ticker()),
            description: format!("bitinfocharts: tweets per day about {}", coin.name()),
            cadence_s: 900,
            stale_after_s: 3 * 86_400,
            enabled: live,
        });
    }
    for (symbol, _, description) in MARKETS {
        out.push(SourceSpec {
            id: format!("yahoo/{symbol}"),
            description: format!("Yahoo Finance: {description}"),
            cadence_s: 900,
            // Markets close for weekends and holidays.
            stale_after_s: 5 * 86_400,
            enabled: live,
        });
    }
    out
}

/// The source id of a coin's candles.
pub fn candle_source(coin: Coin, replay: bool) -> String {
    if replay {
        format!("replay/{}", coin.ticker())
    } else {
        format!("bitstamp/{}", coin.ticker())
    }
}

/// The health of every source in the catalogue, from the stored status rows.
pub async fn health(
    db: &impl ConnectionTrait,
    catalogue: &[SourceSpec],
    now: i64,
) -> Result<Vec<SourceHealth>, DbErr> {
    let rows: HashMap<String, _> = store::all_statuses(db)
        .await?
        .into_iter()
        .map(|r| (r.source.clone(), r))
        .collect();
    let time = |t: Option<i64>| t.and_then(|t| DateTime::<Utc>::from_timestamp(t, 0));
    Ok(catalogue
        .iter()
        .map(|spec| {
            let row = rows.get(&spec.id);
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
                source: spec.id.clone(),
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
