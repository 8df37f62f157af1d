//! The coins a deployment follows, from configuration (`[[coins]]`), validated once at start.
//!
//! ```toml
//! [[coins]]
//! symbol = "ETH"            # a known coin (shared::KNOWN_COINS): the rest has defaults
//! [[coins]]
//! symbol = "PEPE"           # any other: name and Bitstamp pair given
//! name = "Pepe"
//! bitstamp = "pepeusd"
//! binance = "PEPEUSDT"
//! serve = false             # collected (to train on later), not served
//! ```
//!
//! Every coin listed is collected; those with `serve` (the default) are served, and each must
//! have models. Everything else takes the list from here: the collectors, the source catalogue,
//! the API's parameters and its OpenAPI enum, `GET /api/coins`, the published answers.

use serde::Deserialize;
use shared::{Coin, Horizon, KNOWN_COINS};

/// One `[[coins]]` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoinEntry {
    pub symbol: String,
    pub name: Option<String>,
    pub bitstamp: Option<String>,
    pub binance: Option<String>,
    pub serve: Option<bool>,
}

/// A configured coin, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredCoin {
    pub coin: Coin,
    /// The name people use: `Bitcoin`.
    pub name: String,
    /// The Bitstamp pair of its live minute candles: `btcusd`.
    pub bitstamp: String,
    /// The Binance symbol of its history files: `BTCUSDT`.
    pub binance: String,
    /// Served by the API (it must have models); otherwise only collected.
    pub serve: bool,
}

/// The configured coins, in their configured order: at least one served, no symbol twice.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Vec<CoinEntry>")]
pub struct Coins {
    all: Vec<ConfiguredCoin>,
    /// The served ones' tickers, in order (what every request's `coin` is checked against).
    served: Vec<Coin>,
}

/// The default list's symbols (each a known coin, each in the bundled replay sample, each with
/// shipped models).
pub const DEFAULT: [Coin; 10] = [
    Coin::BTC,
    Coin::ETH,
    Coin::SOL,
    Coin::XRP,
    Coin::LTC,
    Coin::DOGE,
    Coin::ADA,
    Coin::BCH,
    Coin::LINK,
    Coin::AVAX,
];

impl Default for Coins {
    fn default() -> Self {
        Coins::of(&DEFAULT)
    }
}

impl TryFrom<Vec<CoinEntry>> for Coins {
    type Error = String;

    fn try_from(entries: Vec<CoinEntry>) -> Result<Self, String> {
        let mut coins: Vec<ConfiguredCoin> = Vec::with_capacity(entries.len());
        for entry in entries {
            let coin = configured(entry)?;
            if coins.iter().any(|c| c.coin == coin.coin) {
                return Err(format!("coins: {} is listed twice", coin.coin));
            }
            coins.push(coin);
        }
        if !coins.iter().any(|c| c.serve) {
            return Err("coins: no coin is served (list at least one without `serve = false`)".into());
        }
        Ok(Coins::new(coins))
    }
}

fn configured(entry: CoinEntry) -> Result<ConfiguredCoin, String> {
    let coin = Coin::from_ticker(entry.symbol.trim()).ok_or_else(|| {
        format!(
            "coins: {:?} is not a coin symbol (2 to 10 upper-case letters or digits, like ETH)",
            entry.symbol
        )
    })?;
    let known = coin.known_info();
    let given = |value: Option<String>, default: Option<&str>, what: &str| {
        value
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .or_else(|| default.map(str::to_owned))
            .ok_or_else(|| {
                let names: Vec<&str> = KNOWN_COINS.iter().map(|k| k.coin.ticker()).collect();
                format!(
                    "coins: {coin} is not a coin coincast knows ({}): give its `{what}`",
                    names.join(", ")
                )
            })
    };
    let name = given(entry.name, known.map(|k| k.name), "name")?;
    let bitstamp = given(entry.bitstamp, known.map(|k| k.bitstamp), "bitstamp")?;
    let binance = entry
        .binance
        .or_else(|| known.map(|k| k.binance.to_owned()))
        .unwrap_or_else(|| format!("{coin}USDT"));
    let ok = |s: &str| !s.is_empty() && s.len() <= 20 && s.chars().all(|c| c.is_ascii_alphanumeric());
    if !ok(&bitstamp) || !ok(&binance) {
        return Err(format!(
            "coins: {coin}'s exchange pairs must be letters and digits"
        ));
    }
    if name.chars().count() > 40 || name.chars().any(char::is_control) || name.contains('/') {
        return Err(format!(
            "coins: {coin}'s name must be at most 40 characters, no `/`"
        ));
    }
    Ok(ConfiguredCoin {
        coin,
        name,
        bitstamp: bitstamp.to_ascii_lowercase(),
        binance: binance.to_ascii_uppercase(),
        serve: entry.serve.unwrap_or(true),
    })
}

impl Coins {
    fn new(all: Vec<ConfiguredCoin>) -> Self {
        let served = all.iter().filter(|c| c.serve).map(|c| c.coin).collect();
        Coins { all, served }
    }

    /// Known coins by symbol, all served, with their built-in names and pairs.
    pub fn of(coins: &[Coin]) -> Self {
        Coins::new(
            coins
                .iter()
                .filter_map(|c| c.known_info())
                .map(|k| ConfiguredCoin {
                    coin: k.coin,
                    name: k.name.to_owned(),
                    bitstamp: k.bitstamp.to_owned(),
                    binance: k.binance.to_owned(),
                    serve: true,
                })
                .collect(),
        )
    }

    /// Every configured coin (collected), in order.
    pub fn all(&self) -> &[ConfiguredCoin] {
        &self.all
    }

    /// The coins collected, in order.
    pub fn collected(&self) -> Vec<Coin> {
        self.all.iter().map(|c| c.coin).collect()
    }

    /// The served coins, in order.
    pub fn served(&self) -> &[Coin] {
        &self.served
    }

    /// Whether `coin` is served.
    pub fn serves(&self, coin: Coin) -> bool {
        self.get(coin).is_some_and(|c| c.serve)
    }

    /// A configured coin.
    pub fn get(&self, coin: Coin) -> Option<&ConfiguredCoin> {
        self.all.iter().find(|c| c.coin == coin)
    }

    /// The name of `coin` (its ticker if it is not configured).
    pub fn name(&self, coin: Coin) -> String {
        self.get(coin)
            .map_or_else(|| coin.to_string(), |c| c.name.clone())
    }

    /// The served tickers as a list for people: `BTC, LTC, XRP`.
    pub fn served_list(&self) -> String {
        self.served()
            .iter()
            .map(Coin::ticker)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Refuses a served coin without a model: a deployment serves what it can predict. `models`
    /// are the loaded models' coins and horizons.
    pub fn check_models(&self, models: &[(Coin, Horizon)]) -> anyhow::Result<()> {
        for c in self.all.iter().filter(|c| c.serve) {
            anyhow::ensure!(
                models.iter().any(|(coin, _)| *coin == c.coin),
                "coins: {} is served but no model of it is loaded: train its models (`coincast train \
                 --coin {}`, then point models.dir at them) or set `serve = false` to collect it only",
                c.coin,
                c.coin
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str) -> Result<Coins, String> {
        #[derive(Deserialize)]
        struct File {
            coins: Coins,
        }
        config::Config::builder()
            .add_source(config::File::from_str(toml, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize::<File>())
            .map(|f| f.coins)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_known_symbol_alone_is_a_whole_entry_and_others_need_their_name_and_pair() {
        let coins = parse(
            "[[coins]]\nsymbol = \"ETH\"\n[[coins]]\nsymbol = \"PEPE\"\nname = \"Pepe\"\n\
             bitstamp = \"pepeusd\"\nserve = false\n",
        )
        .unwrap();
        let eth = coins.get(Coin::ETH).unwrap();
        assert_eq!(
            (eth.name.as_str(), eth.bitstamp.as_str(), eth.serve),
            ("Ethereum", "ethusd", true)
        );
        let pepe = Coin::from_ticker("PEPE").unwrap();
        assert_eq!(coins.get(pepe).unwrap().binance, "PEPEUSDT");
        assert_eq!(coins.served(), [Coin::ETH]);
        assert_eq!(coins.collected(), [Coin::ETH, pepe]);
    }

    #[test]
    fn unknown_duplicated_malformed_or_unserved_lists_are_refused_with_a_reason() {
        for (toml, says) in [
            ("[[coins]]\nsymbol = \"PEPE\"\n", "give its `name`"),
            (
                "[[coins]]\nsymbol = \"ETH\"\n[[coins]]\nsymbol = \"ETH\"\n",
                "listed twice",
            ),
            ("[[coins]]\nsymbol = \"eth\"\n", "not a coin symbol"),
            ("[[coins]]\nsymbol = \"BTC-USD\"\n", "not a coin symbol"),
            (
                "[[coins]]\nsymbol = \"ETH\"\nserve = false\n",
                "no coin is served",
            ),
            (
                "[[coins]]\nsymbol = \"ETH\"\nbitstamp = \"eth/usd\"\n",
                "letters and digits",
            ),
            ("[[coins]]\nsymbol = \"ETH\"\nlisted = true\n", "unknown field"),
        ] {
            let err = parse(toml).unwrap_err();
            assert!(err.contains(says), "{toml}: {err}");
        }
    }

    #[test]
    fn a_served_coin_without_models_is_refused() {
        let coins = Coins::of(&[Coin::BTC, Coin::ETH]);
        assert!(
            coins
                .check_models(&[(Coin::BTC, Horizon::H1), (Coin::ETH, Horizon::M30)])
                .is_ok()
        );
        let err = coins
            .check_models(&[(Coin::BTC, Horizon::H1)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("ETH is served but no model"), "{err}");
        assert_eq!(
            Coins::default().served_list(),
            "BTC, ETH, SOL, XRP, LTC, DOGE, ADA, BCH, LINK, AVAX"
        );
    }
}
