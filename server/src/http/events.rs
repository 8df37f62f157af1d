//! The event stream's events: one sequence of ids (the `events` table, `db::events`), each event
//! framed once for every client, and what a resuming client reads (capped, with a `skipped`
//! event saying what it did not get).

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::web::Bytes;
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;
use shared::{Coin, EventType, Horizon, PriceTick, SkippedEvents, StreamReset};

use crate::db;
use crate::db::entities::event;
use crate::db::events::EventFilter;
use crate::db::predictions::{readable, to_dto};
use crate::http::routes::params::{MAX_ID, MAX_VALUE_BYTES};

/// Most events a resume replays; a client further behind gets a `skipped` event first.
pub const MAX_RESUME: u64 = 1_000;

/// One server-sent event, framed once for every client.
#[derive(Debug, Clone)]
pub struct Event {
    /// Its place in the one sequence: the `id:` field, what `Last-Event-ID` resumes after.
    pub id: i64,
    pub kind: EventType,
    pub coin: Option<Coin>,
    pub horizon: Option<Horizon>,
    /// The whole frame: `event:`, `id:`, `data:`.
    pub frame: Bytes,
}

impl Event {
    pub fn new(
        id: i64,
        kind: EventType,
        coin: Option<Coin>,
        horizon: Option<Horizon>,
        data: &impl Serialize,
    ) -> Event {
        let json = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
        Event {
            id,
            kind,
            coin,
            horizon,
            frame: Bytes::from(format!("event: {}\nid: {id}\ndata: {json}\n\n", kind.as_str())),
        }
    }

    /// Whether a client with this filter wants it (`skipped` and `reset` events go to everyone).
    pub fn passes(&self, filter: &EventFilter) -> bool {
        match (self.kind, self.coin) {
            (EventType::Skipped | EventType::Reset, _) | (_, None) => true,
            (kind, Some(coin)) => filter.passes(kind, coin, self.horizon),
        }
    }
}

/// Parses an event id (`Last-Event-ID`): a whole number from 0 to 2^53 - 1.
pub fn parse_id(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_VALUE_BYTES || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok().filter(|id| (0..=MAX_ID).contains(id))
}

/// Stored event rows as events, in their order. Prediction and score events carry the
/// prediction as it is now (read in one query); an event whose prediction has been pruned, or
/// whose row does not read, is left out (and logged). `base_s` is the deployment's base bar
/// (`collect::base_s`), which sets when a prediction is superseded (`to_dto`).
pub async fn load(
    db: &DatabaseConnection,
    base_s: i64,
    rows: Vec<event::Model>,
) -> Result<Vec<Arc<Event>>, DbErr> {
    let ids: Vec<i64> = rows
        .iter()
        .filter(|r| r.kind != EventType::Price.as_str())
        .map(|r| r.subject)
        .collect();
    let predictions: HashMap<i64, _> = db::predictions::by_ids(db, &ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (Ok(kind), Ok(coin)) = (r.kind.parse::<EventType>(), r.coin.parse::<Coin>()) else {
            tracing::error!(id = r.id, kind = r.kind, coin = r.coin, "unreadable event row");
            continue;
        };
        let event = match kind {
            EventType::Price => {
                let (Some(price), Some(at)) = (r.price, crate::clock::to_utc(r.subject)) else {
                    tracing::error!(id = r.id, "unreadable price event row");
                    continue;
                };
                Event::new(r.id, kind, Some(coin), None, &PriceTick { coin, price, at })
            }
            EventType::Prediction | EventType::Score => {
                let Some(p) = predictions
                    .get(&r.subject)
                    .and_then(|p| readable(to_dto(p, base_s)))
                else {
                    continue;
                };
                Event::new(r.id, kind, Some(coin), Some(p.horizon), &p)
            }
            EventType::Skipped | EventType::Reset => continue,
        };
        out.push(Arc::new(event));
    }
    Ok(out)
}

/// What a client resuming after event `after` gets: at most [`MAX_RESUME`] of the events since
/// that pass `filter`, oldest first, preceded by a `skipped` event when there were more (or when
/// the ones right after `after` have been pruned); and the id it has then seen up to. An `after`
/// beyond the newest stored id (the database was reset or restored since the client's last
/// event) gets one `reset` event carrying the newest id, from which the stream goes on.
pub async fn resume(
    db: &DatabaseConnection,
    base_s: i64,
    after: i64,
    filter: &EventFilter,
) -> Result<(Vec<Arc<Event>>, i64), DbErr> {
    let newest = db::events::newest_id(db).await?;
    if after > newest {
        let data = StreamReset {
            requested_id: after,
            newest_id: newest,
            message: format!(
                "event {after} is beyond this stream's newest event ({newest}): the server's events \
                 were reset or restored. Nothing in between is replayed: re-read GET /api/predictions \
                 (and GET /api/predictions/history for what you need); the next events follow id {newest}"
            ),
        };
        let reset = Event::new(newest, EventType::Reset, None, None, &data);
        return Ok((vec![Arc::new(reset)], newest));
    }
    let mut rows = db::events::newest_after(db, after, filter, MAX_RESUME + 1).await?;
    let mut out = Vec::new();
    let mut last_skipped = None;
    if rows.len() as u64 > MAX_RESUME {
        rows.truncate(MAX_RESUME as usize);
        last_skipped = rows.last().map(|r| r.id - 1);
    }
    if let Some(oldest) = db::events::oldest_id(db).await?
        && oldest > after + 1
    {
        last_skipped = Some(last_skipped.unwrap_or(0).max(oldest - 1));
    }
    let mut at = after;
    if let Some(last_id) = last_skipped.filter(|&l| l > after) {
        let data = SkippedEvents {
            first_id: after + 1,
            last_id,
            message: format!(
                "events {}..={last_id} are not replayed (a resume replays at most the {MAX_RESUME} newest, \
                 and events are kept for a limited time): read GET /api/predictions/history for what they held",
                after + 1
            ),
        };
        out.push(Arc::new(Event::new(
            last_id,
            EventType::Skipped,
            None,
            None,
            &data,
        )));
        at = last_id;
    }
    rows.reverse();
    if let Some(newest) = rows.last() {
        at = at.max(newest.id);
    }
    out.extend(load(db, base_s, rows).await?);
    Ok((out, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_parse_and_bad_ones_are_refused() {
        assert_eq!(parse_id("0"), Some(0));
        assert_eq!(parse_id("12"), Some(12));
        assert_eq!(parse_id(" 7 "), Some(7));
        for bad in ["", "-1", "+1", "1-2-3", "a", "9007199254740992", "1.5"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn filters_pass_prices_for_every_horizon_and_skips_for_everyone() {
        let price = Event::new(1, EventType::Price, Some(Coin::BTC), None, &1);
        let pred = Event::new(2, EventType::Prediction, Some(Coin::BTC), Some(Horizon::H1), &1);
        let skipped = Event::new(3, EventType::Skipped, None, None, &1);
        let btc_1h = EventFilter {
            coin: Some(Coin::BTC),
            horizon: Some(Horizon::H1),
            kind: None,
        };
        assert!(price.passes(&btc_1h) && pred.passes(&btc_1h));
        let ltc = EventFilter {
            coin: Some(Coin::LTC),
            ..EventFilter::default()
        };
        assert!(!price.passes(&ltc) && !pred.passes(&ltc) && skipped.passes(&ltc));
        let h4 = EventFilter {
            horizon: Some(Horizon::H4),
            ..EventFilter::default()
        };
        assert!(price.passes(&h4) && !pred.passes(&h4));
        let prices = EventFilter {
            kind: Some(EventType::Price),
            ..EventFilter::default()
        };
        assert!(price.passes(&prices) && !pred.passes(&prices));
        assert!(String::from_utf8_lossy(&pred.frame).starts_with("event: prediction\nid: 2\ndata: 1\n\n"));
    }
}
