//! The server's vocabulary of ids, below every stage: the stored series (`SeriesId`), who a
//! health row is about (`SourceId`), a series point (`Point`) and the scheduled jobs (`Job`).
//! Collectors write them, the database stores them, the engine reads them, `/api/health` and
//! `/api/sources` report them: none of those stages needs another to name them.

use std::fmt;
use std::str::FromStr;

use shared::{Coin, Horizon};

/// A point of a non-candle series, as a source reported it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Unix seconds UTC.
    pub ts: i64,
    pub value: f64,
}

/// The jobs, each with its own queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Job {
    Candles,
    Chain,
    Tweets,
    Markets,
    /// Predictions due this minute, then scoring of predictions whose horizon has passed.
    Predict,
    /// Pruning of job rows, and of predictions and candles past their retention.
    Maintenance,
    /// Retraining: a challenger per coin and horizon, promoted only past the gate.
    Retrain,
}

impl Job {
    pub const ALL: [Job; 7] = [
        Job::Candles,
        Job::Chain,
        Job::Tweets,
        Job::Markets,
        Job::Predict,
        Job::Maintenance,
        Job::Retrain,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::Predict => "predict",
            Job::Candles => "candles",
            Job::Chain => "chain",
            Job::Tweets => "tweets",
            Job::Markets => "markets",
            Job::Maintenance => "maintenance",
            Job::Retrain => "retrain",
        }
    }

    /// Whether this job runs in this mode (replay collects only candles; predict needs models).
    pub fn runs(self, replaying: bool, predicting: bool) -> bool {
        match self {
            Job::Candles | Job::Maintenance => true,
            Job::Predict | Job::Retrain => predicting,
            Job::Chain | Job::Tweets | Job::Markets => !replaying,
        }
    }

    /// Whether a long pause of this job makes the service `degraded` (collection and prediction).
    pub fn watched(self) -> bool {
        matches!(self, Job::Candles | Job::Predict)
    }
}

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
    Job(Job),
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

/// Where a stored candle or series point came from: its `source` column. Written only through
/// [`Origin::stored`], so every row's source has one of these forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An upstream API: `bitstamp`, `mempool.space`, `blockchain.info`, `bitinfocharts`, `yahoo`.
    Upstream(&'static str),
    /// A replayed recording: `replay:<id>`.
    Replay(String),
    /// An imported file: `import:<file name>`.
    Import(String),
}

impl Origin {
    /// Bitstamp's minute candles (the collector and `coincast backfill`).
    pub const BITSTAMP: Origin = Origin::Upstream("bitstamp");

    /// The width of the `source` columns.
    pub const MAX_CHARS: usize = 64;

    /// As stored: cut to [`Origin::MAX_CHARS`] characters.
    pub fn stored(&self) -> String {
        let full = match self {
            Origin::Upstream(name) => (*name).to_owned(),
            Origin::Replay(id) => format!("replay:{id}"),
            Origin::Import(file) => format!("import:{file}"),
        };
        full.chars().take(Origin::MAX_CHARS).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_stored_in_their_one_form_within_the_column() {
        assert_eq!(Origin::BITSTAMP.stored(), "bitstamp");
        assert_eq!(
            Origin::Replay("binance-1m-2021-05".into()).stored(),
            "replay:binance-1m-2021-05"
        );
        let long = Origin::Import("é".repeat(100)).stored();
        assert!(long.starts_with("import:é") && long.chars().count() == Origin::MAX_CHARS);
    }
}
