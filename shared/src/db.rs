//! The vocabulary as sea-orm column types (feature `db`: the server's; the web app leaves it off,
//! so this crate still builds for wasm32 without sea-orm). A coin, a horizon and an event type are
//! what the `candles`, `predictions`, `events` and `model_versions` columns hold: written in their
//! wire form (`BTC`, `30m`, `prediction`) and read back strictly, exactly as written.

use crate::{Coin, EventType, Horizon};

/// A stored value that is not what its column holds (a row written by hand, or corrupted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored {what} {value:?} is not one")]
pub struct NotStored {
    pub what: &'static str,
    pub value: String,
}

fn not(what: &'static str, value: &str) -> NotStored {
    NotStored {
        what,
        value: value.to_owned(),
    }
}

pub(crate) fn coin_from(s: &str) -> Result<Coin, NotStored> {
    Coin::from_ticker(s).ok_or_else(|| not("coin ticker", s))
}

pub(crate) fn coin_to(c: &Coin) -> String {
    c.ticker().to_owned()
}

/// The one of `all` whose wire form is `s`.
fn one_of<T: Copy>(
    all: impl IntoIterator<Item = T>,
    wire: fn(T) -> &'static str,
    what: &'static str,
    s: &str,
) -> Result<T, NotStored> {
    all.into_iter()
        .find(|&t| wire(t) == s)
        .ok_or_else(|| not(what, s))
}

pub(crate) fn horizon_from(s: &str) -> Result<Horizon, NotStored> {
    one_of(Horizon::ALL, Horizon::as_str, "horizon", s)
}

pub(crate) fn horizon_to(h: &Horizon) -> String {
    h.as_str().to_owned()
}

pub(crate) fn event_type_from(s: &str) -> Result<EventType, NotStored> {
    one_of(EventType::ALL, EventType::as_str, "event type", s)
}

pub(crate) fn event_type_to(t: &EventType) -> String {
    t.as_str().to_owned()
}

/// A coin is part of the `candles` key; keys are never made from an auto-increment number.
impl sea_orm::TryFromU64 for Coin {
    fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
        Err(sea_orm::DbErr::ConvertFromU64("Coin"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_read_back_exactly_as_written() {
        assert_eq!(coin_from(&coin_to(&Coin::DOGE)), Ok(Coin::DOGE));
        assert!(
            coin_from("btc").is_err(),
            "the wire form only, not the lenient parse"
        );
        assert!(coin_from("Bitcoin").is_err());
        for h in Horizon::ALL {
            assert_eq!(horizon_from(&horizon_to(&h)), Ok(h));
        }
        assert!(horizon_from("1H").is_err());
        for t in EventType::ALL {
            assert_eq!(event_type_from(&event_type_to(&t)), Ok(t));
        }
        assert_eq!(
            event_type_from("tick").unwrap_err().to_string(),
            "stored event type \"tick\" is not one"
        );
    }
}
