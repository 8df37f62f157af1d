//! The catalogue of upstream sources and their health as `/api/sources` reports it: what each
//! collects, how often, when its data counts as stale, and whether it runs in this mode.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use sea_orm::{ConnectionTrait, DbErr};
use shared::{Coin, Horizon, SourceHealth, SourceState};

use crate::clock::{DAY_S, HOUR_S, MINUTE_S};
use crate::db;

/// A series stored in `series_points`: the collectors write them, the models read them (by
/// [`SeriesId::as_str`], the name in their cards), `coincast import --series` loads history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeriesId {
    /// Bitcoin mempool transaction count (blockchain.info charts: the models' training history).
    MempoolCount,
    /// Bitcoin transactions per second (blockchain.info charts).
    Tps,
    /// mempool.space's live mempool transaction count.
    MempoolSpaceCount,
    /// mempool.space's live mempool virtual size.
    MempoolSpaceVsize,
    /// Tweets per day about a coin (bitinfocharts).
    Tweets(Coin),
    /// Gold futures (COMEX) daily close.
    Gold,
    /// S&P 500 daily close.
    Sp500,
    /// Crude oil futures (NYMEX) daily close.
    Oil,
    /// MSCI World ETF (URTH) daily close.
    MsciWorld,
}

impl SeriesId {
    /// The coins with a tweets-per-day series (bitinfocharts' pages of the coins coincast began
    /// with); other coins have none.
    pub const TWEET_COINS: [Coin; 3] = [Coin::BTC, Coin::LTC, Coin::XRP];

    /// The market series, collected from Yahoo.
    pub const MARKETS: [SeriesId; 4] = [
        SeriesId::Gold,
        SeriesId::Sp500,
        SeriesId::Oil,
        SeriesId::MsciWorld,
    ];

    /// Every series.
    pub fn all() -> Vec<SeriesId> {
        let mut all = vec![
            SeriesId::MempoolCount,
            SeriesId::Tps,
            SeriesId::MempoolSpaceCount,
            SeriesId::MempoolSpaceVsize,
        ];
        all.extend(SeriesId::TWEET_COINS.map(SeriesId::Tweets));
        all.extend(SeriesId::MARKETS);
        all
    }

    /// The stored name (`series_points.series`, model cards).
    pub const fn as_str(self) -> &'static str {
        match self {
            SeriesId::MempoolCount => "mempool_count",
            SeriesId::Tps => "tps",
            SeriesId::MempoolSpaceCount => "mempool_space_count",
            SeriesId::MempoolSpaceVsize => "mempool_space_vsize",
            SeriesId::Tweets(Coin::BTC) => "tweets_btc",
            SeriesId::Tweets(Coin::LTC) => "tweets_ltc",
            SeriesId::Tweets(Coin::XRP) => "tweets_xrp",
            // Not collected (not in `TWEET_COINS`), so never stored.
            SeriesId::Tweets(_) => "tweets_other",
            SeriesId::Gold => "gold",
            SeriesId::Sp500 => "sp500",
            SeriesId::Oil => "oil",
            SeriesId::MsciWorld => "msci_world",
        }
    }

    /// The Yahoo Finance symbol of a market series.
    pub const fn yahoo_symbol(self) -> Option<&'static str> {
        match self {
            SeriesId::Gold => Some("GC=F"),
            SeriesId::Sp500 => Some("^GSPC"),
            SeriesId::Oil => Some("CL=F"),
            SeriesId::MsciWorld => Some("URTH"),
            _ => None,
        }
    }

    /// What the series measures, for people.
    pub const fn description(self) -> &'static str {
        match self {
            SeriesId::MempoolCount => "Bitcoin mempool transaction count",
            SeriesId::Tps => "Bitcoin transactions per second",
            SeriesId::MempoolSpaceCount => "Bitcoin mempool transaction count (mempool.space)",
            SeriesId::MempoolSpaceVsize => "Bitcoin mempool virtual size (mempool.space)",
            SeriesId::Tweets(_) => "tweets per day",
            SeriesId::Gold => "gold futures (COMEX) daily close",
            SeriesId::Sp500 => "S&P 500 daily close",
            SeriesId::Oil => "crude oil futures (NYMEX) daily close",
            SeriesId::MsciWorld => "MSCI World ETF (URTH) daily close",
        }
    }
}

impl fmt::Display for SeriesId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SeriesId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        SeriesId::all()
            .into_iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = SeriesId::all().into_iter().map(SeriesId::as_str).collect();
                format!("unknown series {s:?}; known: {}", known.join(", "))
            })
    }
}

/// Who a `source_status` row is about: an upstream source, or a coin and horizon's prediction
/// attempts (their failures are recorded the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceId {
    /// Bitstamp minute candles of a coin.
    Bitstamp(Coin),
    /// Replayed minute candles of a coin.
    Replay(Coin),
    /// Market series replayed beside replayed candles.
    ReplayMarkets,
    /// mempool.space's mempool snapshot.
    Mempool,
    /// A blockchain.info chart ([`SeriesId::MempoolCount`] or [`SeriesId::Tps`]).
    Blockchain(SeriesId),
    /// bitinfocharts' tweets per day of a coin.
    Bitinfocharts(Coin),
    /// A Yahoo Finance daily series (one of [`SeriesId::MARKETS`]).
    Yahoo(SeriesId),
    /// The prediction attempts of a coin and horizon.
    Predictions(Coin, Horizon),
    /// A scheduled job's runs (not an upstream: `/api/health` reads it, `/api/sources` does not).
    Job(crate::jobs::Job),
}

impl SourceId {
    /// The candle source of a coin in this mode.
    pub fn candles(coin: Coin, replay: bool) -> SourceId {
        if replay {
            SourceId::Replay(coin)
        } else {
            SourceId::Bitstamp(coin)
        }
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceId::Bitstamp(coin) => write!(f, "bitstamp/{}", coin.ticker()),
            SourceId::Replay(coin) => write!(f, "replay/{}", coin.ticker()),
            SourceId::ReplayMarkets => f.write_str("replay/markets"),
            SourceId::Mempool => f.write_str("mempool"),
            SourceId::Blockchain(SeriesId::Tps) => f.write_str("blockchain/tps"),
            SourceId::Blockchain(series) => write!(f, "blockchain/{}", series.as_str().replace('_', "-")),
            SourceId::Bitinfocharts(coin) => write!(f, "bitinfocharts/{}", coin.ticker()),
            SourceId::Yahoo(series) => write!(f, "yahoo/{}", series.yahoo_symbol().unwrap_or("?")),
            SourceId::Predictions(coin, horizon) => {
                write!(f, "predict/{}/{}", coin.ticker(), horizon.as_str())
            }
            SourceId::Job(job) => write!(f, "job/{}", job.name()),
        }
    }
}

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
pub fn catalogue(coins: &crate::coins::Coins, replay: Option<&str>) -> Vec<SourceSpec> {
    let live = replay.is_none();
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
            Some(dataset) => format!("{} minute candles replayed from {dataset}", c.name),
            None => format!("Bitstamp {}/USD minute candles", coin.ticker()),
        };
        let id = SourceId::candles(coin, replay.is_some());
        out.push(spec(id, description, CANDLE_CADENCE_S, 5 * MINUTE_S, true));
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
