//! The event stream's wire types (`GET /api/stream`): the event types a client can ask for and the
//! `data` of the events that are not a whole `Prediction`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Coin;

/// The type of a server-sent event (its `event:` field). `prediction` and `score` events carry a
/// whole `Prediction` as `data` (a score event once it is scored, with the same `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "db", derive(sea_orm::DeriveValueType))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        value_type = "String",
        from_str = "crate::db::event_type_from",
        to_str = "crate::db::event_type_to"
    )
)]
pub enum EventType {
    /// A new prediction.
    Prediction,
    /// A prediction scored against the realized price (or found unscorable).
    Score,
    /// A coin's newest stored minute close.
    Price,
    /// A resume from far back: older events were skipped (`data` says which).
    Skipped,
    /// A resume after an id this sequence has not reached (the database was reset or restored):
    /// the stream goes on from the newest id, which this event carries (`data` says so).
    Reset,
}

impl EventType {
    /// Every type, in the order of the docs.
    pub const ALL: [EventType; 5] = [
        EventType::Prediction,
        EventType::Score,
        EventType::Price,
        EventType::Skipped,
        EventType::Reset,
    ];

    /// The wire name: `prediction`, `score`, `price`, `skipped`, `reset`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::Prediction => "prediction",
            EventType::Score => "score",
            EventType::Price => "price",
            EventType::Skipped => "skipped",
            EventType::Reset => "reset",
        }
    }
}

impl std::str::FromStr for EventType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                format!("unknown event type {s:?}: expected one of prediction, score, price, skipped, reset")
            })
    }
}

/// The `data` of a `price` event: a coin's newest stored minute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceTick {
    pub coin: Coin,
    /// The minute's close, USD.
    pub price: f64,
    /// The minute's open time.
    pub at: DateTime<Utc>,
}

/// The `data` of a `skipped` event: a resume from further back than the stream replays. The
/// events with ids `first_id..=last_id` (those of the client's filter among them) are not sent;
/// read what they held from `GET /api/predictions/history` instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkippedEvents {
    /// The first event id not sent.
    pub first_id: i64,
    /// The last event id not sent; the next event sent is after it.
    pub last_id: i64,
    /// Why, for people.
    pub message: String,
}

/// The `data` of a `reset` event: the client resumed after an id the sequence has not reached
/// (the server's database was reset or restored from a backup, so its ids start again lower).
/// Nothing between is replayed: re-read `GET /api/predictions` (and the history you need), then
/// keep the stream; its next events follow `newest_id`, which is also this event's `id:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamReset {
    /// The id the client resumed after (`Last-Event-ID` or `last_event_id`).
    pub requested_id: i64,
    /// The newest event id of the sequence now (0 when it has none yet).
    pub newest_id: i64,
    /// Why, for people.
    pub message: String,
}
