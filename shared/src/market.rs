//! The coins and horizons coincast predicts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest ticker a coin may have (`1000SATS` has 8).
pub const MAX_TICKER: usize = 10;

/// A coin: its upper-case ticker (`BTC`, `ETH`; 2 to 10 letters or digits, at least one letter),
/// as in every answer and every parameter. Which coins a deployment serves is configuration
/// (`[[coins]]`; the known ones are [`crate::KNOWN_COINS`]): this type only says that a ticker is
/// well formed. Small and `Copy` (the ticker is kept inline), ordered by ticker.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "db", derive(sea_orm::DeriveValueType))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        value_type = "String",
        from_str = "crate::db::coin_from",
        to_str = "crate::db::coin_to"
    )
)]
pub struct Coin {
    len: u8,
    bytes: [u8; MAX_TICKER],
}

impl Coin {
    pub const BTC: Coin = Coin::known("BTC");
    pub const ETH: Coin = Coin::known("ETH");
    pub const SOL: Coin = Coin::known("SOL");
    pub const XRP: Coin = Coin::known("XRP");
    pub const LTC: Coin = Coin::known("LTC");
    pub const DOGE: Coin = Coin::known("DOGE");
    pub const ADA: Coin = Coin::known("ADA");
    pub const BCH: Coin = Coin::known("BCH");
    pub const LINK: Coin = Coin::known("LINK");
    pub const AVAX: Coin = Coin::known("AVAX");

    const fn known(ticker: &str) -> Coin {
        match Coin::from_ticker(ticker) {
            Some(coin) => coin,
            None => panic!("not a ticker"),
        }
    }

    /// The coin of exactly this ticker: 2 to 10 upper-case ASCII letters or digits, at least one
    /// letter. The wire form: API parameters and JSON take nothing else.
    pub const fn from_ticker(ticker: &str) -> Option<Coin> {
        let given = ticker.as_bytes();
        if given.len() < 2 || given.len() > MAX_TICKER {
            return None;
        }
        let mut bytes = [0u8; MAX_TICKER];
        let mut letters = 0;
        let mut i = 0;
        while i < given.len() {
            let b = given[i];
            if b.is_ascii_uppercase() {
                letters += 1;
            } else if !b.is_ascii_digit() {
                return None;
            }
            bytes[i] = b;
            i += 1;
        }
        if letters == 0 {
            return None;
        }
        Some(Coin {
            len: given.len() as u8,
            bytes,
        })
    }

    /// The ticker, as on the wire: `BTC`.
    pub fn ticker(&self) -> &str {
        // Only ASCII letters and digits are ever stored.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }

    /// The known name (`Bitcoin`), else the ticker: for reports written without a deployment's
    /// configuration.
    pub fn label(self) -> String {
        self.known_info()
            .map_or_else(|| self.ticker().to_owned(), |k| k.name.to_owned())
    }

    /// What coincast knows of this coin without configuration (name, exchange pairs), if it is
    /// one of [`crate::KNOWN_COINS`].
    pub fn known_info(self) -> Option<&'static crate::KnownCoin> {
        crate::KNOWN_COINS.iter().find(|k| k.coin == self)
    }
}

impl PartialOrd for Coin {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Coin {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.ticker().cmp(other.ticker())
    }
}

impl fmt::Debug for Coin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ticker())
    }
}

impl fmt::Display for Coin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ticker())
    }
}

impl Serialize for Coin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.ticker())
    }
}

impl<'de> Deserialize<'de> for Coin {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Ticker;
        impl serde::de::Visitor<'_> for Ticker {
            type Value = Coin;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a coin ticker: 2 to 10 upper-case letters or digits, like BTC")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Coin, E> {
                Coin::from_ticker(v).ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_str(Ticker)
    }
}

#[cfg(feature = "openapi")]
mod coin_schema {
    use std::borrow::Cow;

    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    use utoipa::{PartialSchema, ToSchema};

    impl PartialSchema for super::Coin {
        /// A ticker; the server's document replaces this with the enum of the coins it serves.
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[A-Z0-9]{2,10}$"))
                .description(Some("A coin's upper-case ticker"))
                .into()
        }
    }

    impl ToSchema for super::Coin {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("Coin")
        }
    }
}

/// The error for text that is no coin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a coin: give its ticker (2 to 10 letters or digits, like BTC) or a known name (Bitcoin)"
)]
pub struct ParseCoinError(pub String);

/// Lenient, for people (the command line's `--coin`, the web app's `/Litecoin`): a ticker in any
/// case, or the name of one of [`crate::KNOWN_COINS`]. Whether a deployment serves the coin is
/// for its configuration to say; API parameters take the exact ticker only.
impl FromStr for Coin {
    type Err = ParseCoinError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        crate::KNOWN_COINS
            .iter()
            .find(|k| wanted.eq_ignore_ascii_case(k.name) || wanted.eq_ignore_ascii_case(&k.slug()))
            .map(|k| k.coin)
            .or_else(|| Coin::from_ticker(&wanted.to_ascii_uppercase()))
            .ok_or_else(|| ParseCoinError(s.to_owned()))
    }
}

/// How far ahead a prediction looks. On the wire: `30m`, `1h`, `2h`, `4h`, `6h`, `12h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "db", derive(sea_orm::DeriveValueType))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        value_type = "String",
        from_str = "crate::db::horizon_from",
        to_str = "crate::db::horizon_to"
    )
)]
pub enum Horizon {
    /// 30 minutes
    #[serde(rename = "30m")]
    M30,
    /// 1 hour
    #[serde(rename = "1h")]
    H1,
    /// 2 hours
    #[serde(rename = "2h")]
    H2,
    /// 4 hours
    #[serde(rename = "4h")]
    H4,
    /// 6 hours
    #[serde(rename = "6h")]
    H6,
    /// 12 hours
    #[serde(rename = "12h")]
    H12,
}

impl Horizon {
    /// Every horizon, shortest first.
    pub const ALL: [Horizon; 6] = [
        Horizon::M30,
        Horizon::H1,
        Horizon::H2,
        Horizon::H4,
        Horizon::H6,
        Horizon::H12,
    ];

    /// The wire name: `30m`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Horizon::M30 => "30m",
            Horizon::H1 => "1h",
            Horizon::H2 => "2h",
            Horizon::H4 => "4h",
            Horizon::H6 => "6h",
            Horizon::H12 => "12h",
        }
    }

    /// The horizon's length in seconds.
    pub const fn seconds(self) -> i64 {
        self.minutes() as i64 * 60
    }

    /// The horizon's length in minutes.
    pub const fn minutes(self) -> u32 {
        match self {
            Horizon::M30 => 30,
            Horizon::H1 => 60,
            Horizon::H2 => 120,
            Horizon::H4 => 240,
            Horizon::H6 => 360,
            Horizon::H12 => 720,
        }
    }

    /// How often a new prediction is made for this horizon, in seconds (see
    /// [`Horizon::cadence_minutes`]).
    pub const fn cadence_seconds(self) -> i64 {
        self.cadence_minutes() as i64 * 60
    }

    /// How often a new prediction is made for this horizon where the finest stored candles are
    /// `base_s` seconds long: its cadence, or one base candle when that is longer (a replay of
    /// 5-minute candles predicts the 30 min to 2 h horizons every 5 minutes), in seconds.
    pub const fn cadence_on(self, base_s: i64) -> i64 {
        let cadence = self.cadence_seconds();
        if base_s > cadence { base_s } else { cadence }
    }

    /// How often a new prediction is made for this horizon, in minutes: every minute for the short
    /// horizons (30 min to 2 h), every 15 minutes for the long ones (4 h to 12 h).
    pub const fn cadence_minutes(self) -> u32 {
        match self {
            Horizon::M30 | Horizon::H1 | Horizon::H2 => 1,
            Horizon::H4 | Horizon::H6 | Horizon::H12 => 15,
        }
    }

    /// A label for people: `30 min`, `1 h`.
    pub const fn label(self) -> &'static str {
        match self {
            Horizon::M30 => "30 min",
            Horizon::H1 => "1 h",
            Horizon::H2 => "2 h",
            Horizon::H4 => "4 h",
            Horizon::H6 => "6 h",
            Horizon::H12 => "12 h",
        }
    }
}

impl fmt::Display for Horizon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a horizon name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown horizon {0:?}: expected one of 30m, 1h, 2h, 4h, 6h, 12h")]
pub struct ParseHorizonError(pub String);

impl FromStr for Horizon {
    type Err = ParseHorizonError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Horizon::ALL
            .into_iter()
            .find(|h| wanted.eq_ignore_ascii_case(h.as_str()))
            .ok_or_else(|| ParseHorizonError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coins_round_trip_through_json_as_tickers() {
        for known in crate::KNOWN_COINS {
            let coin = known.coin;
            let json = serde_json::to_string(&coin).unwrap();
            assert_eq!(json, format!("\"{}\"", coin.ticker()));
            assert_eq!(serde_json::from_str::<Coin>(&json).unwrap(), coin);
        }
        let other: Coin = serde_json::from_str("\"1000SATS\"").unwrap();
        assert_eq!(other.ticker(), "1000SATS");
    }

    #[test]
    fn coins_parse_from_tickers_and_known_names_in_any_case() {
        assert_eq!("BTC".parse::<Coin>(), Ok(Coin::BTC));
        assert_eq!("ltc".parse::<Coin>(), Ok(Coin::LTC));
        assert_eq!("Ripple".parse::<Coin>(), Ok(Coin::XRP));
        assert_eq!("litecoin".parse::<Coin>(), Ok(Coin::LTC));
        assert_eq!("bitcoin-cash".parse::<Coin>(), Ok(Coin::BCH));
        assert_eq!(" XRP ".parse::<Coin>(), Ok(Coin::XRP));
        assert_eq!("doge".parse::<Coin>(), Ok(Coin::DOGE));
        assert!(
            Coin::BTC < Coin::DOGE && Coin::DOGE < Coin::ETH,
            "ordered by ticker"
        );
    }

    #[test]
    fn malformed_coins_give_a_clear_error() {
        for bad in ["", "B", "BTC-USD", "ÄTH", "12", "ABCDEFGHIJK"] {
            let err = bad.parse::<Coin>().unwrap_err();
            assert_eq!(err, ParseCoinError(bad.into()));
        }
        assert!("x".parse::<Coin>().unwrap_err().to_string().contains("like BTC"));
        for wire in ["\"bitcoin\"", "\"btc\"", "\"B\"", "7"] {
            assert!(
                serde_json::from_str::<Coin>(wire).is_err(),
                "the wire form is the ticker only: {wire}"
            );
        }
    }

    #[test]
    fn horizons_round_trip_and_parse() {
        for h in Horizon::ALL {
            let json = serde_json::to_string(&h).unwrap();
            assert_eq!(json, format!("\"{}\"", h.as_str()));
            assert_eq!(serde_json::from_str::<Horizon>(&json).unwrap(), h);
            assert_eq!(h.as_str().parse::<Horizon>(), Ok(h));
        }
        assert_eq!("12H".parse::<Horizon>(), Ok(Horizon::H12));
        let err = "3h".parse::<Horizon>().unwrap_err();
        assert!(err.to_string().contains("30m, 1h, 2h, 4h, 6h, 12h"), "{err}");
    }

    #[test]
    fn horizon_minutes_and_cadence_follow_the_design() {
        let minutes: Vec<u32> = Horizon::ALL.iter().map(|h| h.minutes()).collect();
        assert_eq!(minutes, [30, 60, 120, 240, 360, 720]);
        let cadence: Vec<u32> = Horizon::ALL.iter().map(|h| h.cadence_minutes()).collect();
        assert_eq!(cadence, [1, 1, 1, 15, 15, 15]);
        let on_minutes: Vec<i64> = Horizon::ALL.iter().map(|h| h.cadence_on(60)).collect();
        assert_eq!(on_minutes, [60, 60, 60, 900, 900, 900]);
        let on_five: Vec<i64> = Horizon::ALL.iter().map(|h| h.cadence_on(300)).collect();
        assert_eq!(on_five, [300, 300, 300, 900, 900, 900]);
    }
}
