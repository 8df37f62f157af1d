//! The event stream's events: the cursor that orders them (`Last-Event-ID`), each event framed
//! once for every client, and the backlog a resuming client reads.

use std::sync::Arc;

use actix_web::web::Bytes;
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;
use shared::Coin;

use crate::db;
use crate::db::predictions::{readable, to_dto};

/// Where the event stream is: the last prediction id sent, and the last score (time, id) sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    pub prediction_id: i64,
    pub scored_at: i64,
    pub scored_id: i64,
}

impl Cursor {
    /// Parses `Last-Event-ID`: ids within 0..=2^53-1, a score time of 0 or within the API's
    /// time window around `now`, at most `params::MAX_VALUE_BYTES` long.
    pub fn parse(s: &str, now: i64) -> Option<Cursor> {
        use crate::http::routes::params::{MAX_ID, MAX_VALUE_BYTES, in_time_window};
        if s.len() > MAX_VALUE_BYTES {
            return None;
        }
        let mut it = s.trim().split('-').map(|p| p.parse::<i64>().ok());
        let c = Cursor {
            prediction_id: it.next()??,
            scored_at: it.next()??,
            scored_id: it.next()??,
        };
        let id_ok = |id: i64| (0..=MAX_ID).contains(&id);
        let time_ok = c.scored_at == 0 || in_time_window(c.scored_at, now);
        (it.next().is_none() && id_ok(c.prediction_id) && id_ok(c.scored_id) && time_ok).then_some(c)
    }

    /// The further of two positions, kind by kind.
    pub fn max_with(&self, other: &Cursor) -> Cursor {
        let score = (self.scored_at, self.scored_id).max((other.scored_at, other.scored_id));
        Cursor {
            prediction_id: self.prediction_id.max(other.prediction_id),
            scored_at: score.0,
            scored_id: score.1,
        }
    }

    /// The event id (`<prediction id>-<scored at>-<scored id>`).
    pub fn id(&self) -> String {
        format!("{}-{}-{}", self.prediction_id, self.scored_at, self.scored_id)
    }
}

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Prediction,
    Score,
    Price,
}

/// One server-sent event, framed once for every client.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    /// The stream's position after this event (prices do not move it).
    pub cursor: Cursor,
    /// The whole frame: `event:`, `id:` (not for prices), `data:`.
    pub frame: Bytes,
}

impl Event {
    pub fn new(kind: EventKind, cursor: Cursor, data: &impl Serialize) -> Event {
        let name = match kind {
            EventKind::Prediction => "prediction",
            EventKind::Score => "score",
            EventKind::Price => "price",
        };
        let json = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
        let id = match kind {
            EventKind::Price => String::new(),
            _ => format!("id: {}\n", cursor.id()),
        };
        Event {
            kind,
            cursor,
            frame: Bytes::from(format!("event: {name}\n{id}data: {json}\n\n")),
        }
    }

    /// Whether a client at `at` has not had this event yet.
    pub fn is_after(&self, at: &Cursor) -> bool {
        match self.kind {
            EventKind::Prediction => self.cursor.prediction_id > at.prediction_id,
            EventKind::Score => (self.cursor.scored_at, self.cursor.scored_id) > (at.scored_at, at.scored_id),
            EventKind::Price => true,
        }
    }
}

/// A price event's data.
#[derive(Serialize)]
pub struct PriceEvent {
    pub coin: Coin,
    pub price: f64,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The prediction and score events after `cursor` (at most `limit` of each kind), in order;
/// moves `cursor` past them. Also what a resuming stream client reads once.
pub async fn backlog(
    db: &DatabaseConnection,
    cursor: &mut Cursor,
    limit: u64,
) -> Result<Vec<Arc<Event>>, DbErr> {
    let mut out = Vec::new();
    for p in db::predictions::after_id(db, cursor.prediction_id, limit).await? {
        cursor.prediction_id = p.id;
        if let Some(dto) = readable(to_dto(&p)) {
            out.push(Arc::new(Event::new(EventKind::Prediction, *cursor, &dto)));
        }
    }
    for p in db::predictions::scored_after(db, cursor.scored_at, cursor.scored_id, limit).await? {
        cursor.scored_at = p.scored_at.unwrap_or(cursor.scored_at);
        cursor.scored_id = p.id;
        if let Some(dto) = readable(to_dto(&p)) {
            out.push(Arc::new(Event::new(EventKind::Score, *cursor, &dto)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let c = Cursor {
            prediction_id: 12,
            scored_at: 1_700_000_000,
            scored_id: 7,
        };
        let now = 1_700_000_100;
        assert_eq!(Cursor::parse(&c.id(), now), Some(c));
        for bad in [
            "",
            "1-2",
            "1-2-3-4",
            "a-b-c",
            "-1-0-0",
            "9007199254740993-0-0",
            "1-99-1",
        ] {
            assert_eq!(Cursor::parse(bad, now), None, "{bad}");
        }
    }
}
