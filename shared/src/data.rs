//! Market-data wire types: `GET /api/sources`, `GET /api/prices/latest`, `GET /api/prices`, and the
//! data mode (live or replay) that health reports.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Coin;

/// Where the server's candles come from. On the wire an object tagged by `kind`; its OpenAPI
/// schema (`openapi` feature, below) is a `oneOf` of `LiveMode` and `ReplayMode` with a
/// `discriminator` on `kind`, each a plain object, which is how code generators read a tagged
/// union (utoipa's derive would nest an `allOf` they cannot parse).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataMode {
    /// Candles and series are fetched from the live upstream APIs.
    Live,
    /// Candles are recorded real history replayed as if live: not today's market.
    Replay(ReplayInfo),
}

#[cfg(feature = "openapi")]
mod data_mode_schema {
    use std::borrow::Cow;

    use utoipa::openapi::schema::{Discriminator, Object, ObjectBuilder, OneOfBuilder, Schema, Type};
    use utoipa::openapi::{Ref, RefOr};
    use utoipa::{PartialSchema, ToSchema};

    use super::{DataMode, ReplayInfo};

    const LIVE: &str = "LiveMode";
    const REPLAY: &str = "ReplayMode";

    /// `kind`: one fixed string.
    fn kind(value: &str) -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([value]))
    }

    fn live() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "Candles and series are fetched from the live upstream APIs.",
            ))
            .property("kind", kind("live"))
            .required("kind")
            .into()
    }

    fn replay() -> RefOr<Schema> {
        let mut object = match ReplayInfo::schema() {
            RefOr::T(Schema::Object(o)) => o,
            _ => Object::new(),
        };
        object.description =
            Some("Candles are recorded real history replayed as if live: not today's market.".into());
        object.properties.insert("kind".into(), kind("replay").into());
        object.required.insert(0, "kind".into());
        Schema::Object(object).into()
    }

    impl PartialSchema for DataMode {
        fn schema() -> RefOr<Schema> {
            let mut discriminator = Discriminator::new("kind");
            discriminator
                .mapping
                .insert("live".into(), format!("#/components/schemas/{LIVE}"));
            discriminator
                .mapping
                .insert("replay".into(), format!("#/components/schemas/{REPLAY}"));
            OneOfBuilder::new()
                .item(Ref::from_schema_name(LIVE))
                .item(Ref::from_schema_name(REPLAY))
                .discriminator(Some(discriminator))
                .description(Some(
                    "Where the server's candles come from: live, or a replayed recording.",
                ))
                .into()
        }
    }

    impl ToSchema for DataMode {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("DataMode")
        }

        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            schemas.push((LIVE.into(), live()));
            schemas.push((REPLAY.into(), replay()));
        }
    }
}

/// What a replaying server replays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplayInfo {
    /// The data set's name (e.g. `binance-5m-2025-06 (bundled sample: ...)`).
    pub dataset: String,
    /// The original time of the first recorded candle.
    pub recorded_from: DateTime<Utc>,
    /// The original time of the last recorded candle.
    pub recorded_to: DateTime<Utc>,
    /// Seconds added to recorded times to show them as now (a whole number of its bars).
    pub shift_seconds: i64,
    /// The recorded candles' bar size, seconds: 60, or 300 for a recording of 5-minute candles
    /// (then charts start at `5m`, and the 30 min to 2 h horizons are predicted every 5 minutes).
    #[serde(default = "minute")]
    pub bar_seconds: u32,
}

fn minute() -> u32 {
    60
}

/// The state of one upstream source, as the collectors last saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceHealth {
    /// A stable id: `bitstamp/BTC`, `mempool`, `blockchain/tps`, `bitinfocharts/BTC`, `yahoo/GC=F`...
    pub source: String,
    /// What it provides, for people.
    pub description: String,
    /// `ok`, `failing` (the last attempt failed), `stale` (no new data for too long), `pending`
    /// (never run yet) or `disabled` (not collected in this mode).
    pub state: SourceState,
    /// How often it is collected, in seconds.
    pub cadence_seconds: u32,
    /// The last successful collection.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The last failed collection.
    pub last_error_at: Option<DateTime<Utc>>,
    /// What went wrong last time (kept after a later success, for context).
    pub last_error: Option<String>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// The time of the newest data point stored from this source.
    pub latest_data_at: Option<DateTime<Utc>>,
    /// Seconds between `latest_data_at` and now.
    pub data_age_seconds: Option<i64>,
}

/// A source's health summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    /// The last attempt succeeded and the data is fresh.
    Ok,
    /// The last attempt failed.
    Failing,
    /// Attempts succeed but the newest data point is older than expected.
    Stale,
    /// Not collected yet.
    Pending,
    /// Not collected in this mode (e.g. on-chain series while replaying).
    Disabled,
}

/// The answer of `GET /api/sources`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourcesResponse {
    /// Live or replay.
    pub mode: DataMode,
    /// Whether the scheduled collectors run in this process.
    pub jobs_enabled: bool,
    /// One entry per source.
    pub sources: Vec<SourceHealth>,
}

/// The latest price of a coin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LatestPrice {
    /// The coin.
    pub coin: Coin,
    /// The close of the newest stored minute, in USD.
    pub price: f64,
    /// The newest stored minute (open time).
    pub at: DateTime<Utc>,
    /// The close 24 h before `at` (the newest minute at or before it), when stored.
    pub price_24h_ago: Option<f64>,
    /// `(price - price_24h_ago) / price_24h_ago * 100`.
    pub change_24h_pct: Option<f64>,
    /// Where the newest candle came from (`bitstamp`, `replay:...`, `import:...`).
    pub source: String,
}

/// The answer of `GET /api/prices/latest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PricesResponse {
    /// Live or replay: replayed prices are history, not today's market.
    pub mode: DataMode,
    /// One entry per coin with stored candles.
    pub prices: Vec<LatestPrice>,
}

/// A bar size `GET /api/prices` resamples to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Resolution {
    /// One minute.
    #[serde(rename = "1m")]
    M1,
    /// Five minutes.
    #[serde(rename = "5m")]
    M5,
    /// Fifteen minutes.
    #[serde(rename = "15m")]
    M15,
    /// One hour.
    #[serde(rename = "1h")]
    H1,
    /// One day (UTC).
    #[serde(rename = "1d")]
    D1,
}

impl Resolution {
    /// All resolutions, finest first.
    pub const ALL: [Resolution; 5] = [
        Resolution::M1,
        Resolution::M5,
        Resolution::M15,
        Resolution::H1,
        Resolution::D1,
    ];

    /// The bar size in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Resolution::M1 => 60,
            Resolution::M5 => 300,
            Resolution::M15 => 900,
            Resolution::H1 => 3_600,
            Resolution::D1 => 86_400,
        }
    }

    /// The wire name (`1m`, `5m`, `15m`, `1h`, `1d`).
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::M1 => "1m",
            Resolution::M5 => "5m",
            Resolution::M15 => "15m",
            Resolution::H1 => "1h",
            Resolution::D1 => "1d",
        }
    }
}

impl std::str::FromStr for Resolution {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Resolution::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown resolution {s:?}: expected one of 1m, 5m, 15m, 1h, 1d"))
    }
}

/// One candle as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CandleDto {
    /// Open time.
    pub t: DateTime<Utc>,
    /// Open, USD.
    pub o: f64,
    /// High.
    pub h: f64,
    /// Low.
    pub l: f64,
    /// Close.
    pub c: f64,
    /// Volume in the coin.
    pub v: f64,
    /// True when some or all of the minutes in this bar were missing and forward-filled from the
    /// previous close (volume 0) at read time; storage never holds filled values.
    pub filled: bool,
    /// False for the bar still forming (its last minute has not closed yet, or has not been
    /// collected): its close, high, low and volume will change. Every other bar is final.
    pub closed: bool,
}

/// The answer of `GET /api/prices` (candles over a range).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CandlesResponse {
    /// The coin.
    pub coin: Coin,
    /// The bar size.
    pub resolution: Resolution,
    /// The first bar's open time requested (aligned down to the resolution).
    pub from: DateTime<Utc>,
    /// The end of the range requested (exclusive).
    pub to: DateTime<Utc>,
    /// Bars, oldest first; empty when nothing is stored in the range.
    pub candles: Vec<CandleDto>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_parse_any_case_and_round_trip() {
        for r in Resolution::ALL {
            assert_eq!(r.as_str().parse::<Resolution>().unwrap(), r);
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
        }
        assert_eq!("1H".parse::<Resolution>().unwrap(), Resolution::H1);
        assert!("2h".parse::<Resolution>().is_err());
    }

    #[test]
    fn data_mode_is_tagged() {
        assert_eq!(
            serde_json::to_string(&DataMode::Live).unwrap(),
            r#"{"kind":"live"}"#
        );
    }
}
