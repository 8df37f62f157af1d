//! The coins and horizons coincast predicts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A coin coincast follows: its upper-case ticker, `BTC`, `LTC` or `XRP`, in every answer and
/// every parameter. Any other spelling (`?coin=ltc`, `?coin=Bitcoin`) is a 400
/// `invalid_parameter` whose message suggests the ticker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Coin {
    /// Bitcoin
    #[serde(rename = "BTC")]
    Btc,
    /// Litecoin
    #[serde(rename = "LTC")]
    Ltc,
    /// Ripple (XRP)
    #[serde(rename = "XRP")]
    Xrp,
}

impl Coin {
    /// Every coin, in display order.
    pub const ALL: [Coin; 3] = [Coin::Btc, Coin::Ltc, Coin::Xrp];

    /// The ticker, as on the wire: `BTC`.
    pub const fn ticker(self) -> &'static str {
        match self {
            Coin::Btc => "BTC",
            Coin::Ltc => "LTC",
            Coin::Xrp => "XRP",
        }
    }

    /// The name people use, also the app's page path: `Bitcoin`.
    pub const fn name(self) -> &'static str {
        match self {
            Coin::Btc => "Bitcoin",
            Coin::Ltc => "Litecoin",
            Coin::Xrp => "Ripple",
        }
    }

    /// The Bitstamp pair the candles come from.
    pub const fn bitstamp_pair(self) -> &'static str {
        match self {
            Coin::Btc => "btcusd",
            Coin::Ltc => "ltcusd",
            Coin::Xrp => "xrpusd",
        }
    }
}

impl fmt::Display for Coin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ticker())
    }
}

/// The error for a coin name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown coin {0:?}: expected one of BTC, LTC, XRP (or Bitcoin, Litecoin, Ripple)")]
pub struct ParseCoinError(pub String);

/// Lenient, for people: the ticker or the name in any case (the web app's `/Litecoin` and
/// `/litecoin`, the command line's `--coin`). API parameters take the exact ticker only.
impl FromStr for Coin {
    type Err = ParseCoinError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Coin::ALL
            .into_iter()
            .find(|c| wanted.eq_ignore_ascii_case(c.ticker()) || wanted.eq_ignore_ascii_case(c.name()))
            .ok_or_else(|| ParseCoinError(s.to_owned()))
    }
}

/// How far ahead a prediction looks. On the wire: `30m`, `1h`, `2h`, `4h`, `6h`, `12h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        for coin in Coin::ALL {
            let json = serde_json::to_string(&coin).unwrap();
            assert_eq!(json, format!("\"{}\"", coin.ticker()));
            assert_eq!(serde_json::from_str::<Coin>(&json).unwrap(), coin);
        }
    }

    #[test]
    fn coins_parse_from_tickers_and_names_in_any_case() {
        assert_eq!("BTC".parse::<Coin>(), Ok(Coin::Btc));
        assert_eq!("ltc".parse::<Coin>(), Ok(Coin::Ltc));
        assert_eq!("Ripple".parse::<Coin>(), Ok(Coin::Xrp));
        assert_eq!("litecoin".parse::<Coin>(), Ok(Coin::Ltc));
        assert_eq!(" XRP ".parse::<Coin>(), Ok(Coin::Xrp));
    }

    #[test]
    fn unknown_coin_gives_a_clear_error() {
        let err = "DOGE".parse::<Coin>().unwrap_err();
        assert_eq!(err, ParseCoinError("DOGE".into()));
        assert!(err.to_string().contains("BTC, LTC, XRP"), "{err}");
        assert!(
            serde_json::from_str::<Coin>("\"bitcoin\"").is_err(),
            "the wire form is the ticker only"
        );
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
    }
}
