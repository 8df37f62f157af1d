//! The coins coincast knows without configuration, and `GET /api/coins`: the coins a deployment
//! serves.

use serde::{Deserialize, Serialize};

use crate::{Coin, Horizon};

/// A coin coincast knows: its name and where its candles come from. A deployment's `[[coins]]`
/// entries take these as defaults (a known symbol alone is a whole entry) and may name any other
/// coin in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownCoin {
    pub coin: Coin,
    /// The name people use: `Bitcoin`.
    pub name: &'static str,
    /// The Bitstamp pair its live minutes come from: `btcusd`.
    pub bitstamp: &'static str,
    /// The Binance symbol of its history files: `BTCUSDT` (freqtrade's `BTC_USDT-5m.feather`).
    pub binance: &'static str,
}

impl KnownCoin {
    /// The name as a path segment: `Bitcoin-Cash`.
    pub fn slug(&self) -> String {
        slug(self.name)
    }
}

/// A name as a path segment of the web app: spaces become `-` (`Bitcoin Cash`: `Bitcoin-Cash`).
pub fn slug(name: &str) -> String {
    name.trim().replace(' ', "-")
}

/// The web app's page of a coin named `name`: `/Bitcoin-Cash`.
pub fn page_path(name: &str) -> String {
    format!("/{}", slug(name))
}

/// The coins coincast knows, in the default list's order: the ten a default deployment
/// configures (every one listed on Bitstamp, with history in freqtrade's Binance files).
pub const KNOWN_COINS: [KnownCoin; 10] = [
    KnownCoin {
        coin: Coin::BTC,
        name: "Bitcoin",
        bitstamp: "btcusd",
        binance: "BTCUSDT",
    },
    KnownCoin {
        coin: Coin::ETH,
        name: "Ethereum",
        bitstamp: "ethusd",
        binance: "ETHUSDT",
    },
    KnownCoin {
        coin: Coin::SOL,
        name: "Solana",
        bitstamp: "solusd",
        binance: "SOLUSDT",
    },
    KnownCoin {
        coin: Coin::XRP,
        name: "Ripple",
        bitstamp: "xrpusd",
        binance: "XRPUSDT",
    },
    KnownCoin {
        coin: Coin::LTC,
        name: "Litecoin",
        bitstamp: "ltcusd",
        binance: "LTCUSDT",
    },
    KnownCoin {
        coin: Coin::DOGE,
        name: "Dogecoin",
        bitstamp: "dogeusd",
        binance: "DOGEUSDT",
    },
    KnownCoin {
        coin: Coin::ADA,
        name: "Cardano",
        bitstamp: "adausd",
        binance: "ADAUSDT",
    },
    KnownCoin {
        coin: Coin::BCH,
        name: "Bitcoin Cash",
        bitstamp: "bchusd",
        binance: "BCHUSDT",
    },
    KnownCoin {
        coin: Coin::LINK,
        name: "Chainlink",
        bitstamp: "linkusd",
        binance: "LINKUSDT",
    },
    KnownCoin {
        coin: Coin::AVAX,
        name: "Avalanche",
        bitstamp: "avaxusd",
        binance: "AVAXUSDT",
    },
];

/// One coin a deployment serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoinInfo {
    pub coin: Coin,
    /// The name people use (`Bitcoin`); the web app's page of the coin is `/<name>` with spaces
    /// as `-`.
    pub name: String,
    /// The horizons it has a served model for, shortest first.
    pub horizons: Vec<Horizon>,
    /// How many of those models beat the strongest simple rule (majority, momentum, reversal)
    /// out of sample, Holm-corrected across the served models (`skill.beats_baseline` of
    /// `GET /api/models`). 0 says plainly that none of this coin's models has shown an edge.
    pub models_beating_baseline: u32,
}

/// `GET /api/coins`: the served coins, in the configured order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoinsResponse {
    pub coins: Vec<CoinInfo>,
}

impl CoinsResponse {
    /// The entry of `coin`, if it is served.
    pub fn get(&self, coin: Coin) -> Option<&CoinInfo> {
        self.coins.iter().find(|c| c.coin == coin)
    }

    /// The served coin a person means by `text` (the app's `/Litecoin`, `/bitcoin-cash`,
    /// `/XRP`): its ticker or its name (spaces or `-`), in any case.
    pub fn find(&self, text: &str) -> Option<&CoinInfo> {
        let wanted = text.trim();
        self.coins.iter().find(|c| {
            wanted.eq_ignore_ascii_case(c.coin.ticker())
                || wanted.eq_ignore_ascii_case(&c.name)
                || wanted.eq_ignore_ascii_case(&slug(&c.name))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_coins_are_ten_distinct_ones_with_their_pairs() {
        let mut tickers: Vec<&str> = KNOWN_COINS.iter().map(|k| k.coin.ticker()).collect();
        tickers.sort_unstable();
        tickers.dedup();
        assert_eq!(tickers.len(), 10);
        for k in KNOWN_COINS {
            assert_eq!(k.bitstamp, format!("{}usd", k.coin.ticker().to_ascii_lowercase()));
            assert_eq!(k.binance, format!("{}USDT", k.coin.ticker()));
            assert_eq!(k.coin.known_info(), Some(&k));
        }
    }

    #[test]
    fn a_served_coin_is_found_by_ticker_name_or_slug() {
        let coins = CoinsResponse {
            coins: vec![CoinInfo {
                coin: Coin::BCH,
                name: "Bitcoin Cash".into(),
                horizons: vec![Horizon::H1],
                models_beating_baseline: 0,
            }],
        };
        for text in ["BCH", "bch", "Bitcoin Cash", "bitcoin-cash", " Bitcoin-Cash "] {
            assert_eq!(coins.find(text).map(|c| c.coin), Some(Coin::BCH), "{text}");
        }
        assert!(coins.find("BTC").is_none());
    }
}
