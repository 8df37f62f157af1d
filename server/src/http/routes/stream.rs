//! `GET /api/stream`: server-sent events for new predictions, scores and prices.
//!
//! The stream polls the database (every 2 s), so it works the same in a process that runs no jobs
//! (a scaled-out API process). Every event carries an id, the cursor after it
//! (`<prediction id>-<scored at>-<scored id>`): a client that reconnects with `Last-Event-ID`
//! (browsers' `EventSource` does so by itself) gets every prediction and score it missed. Price
//! events are not replayed: the next one brings the current price.
//!
//! At most `server.max_streams` are open at once (each holds a slot, freed when the client goes
//! away); streams end when the server begins to stop, so a restart is not held up by them.

use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::DateTime;
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;
use shared::{ApiErrorBody, Coin};

use crate::db;
use crate::db::predictions::{readable, to_dto};
use crate::http::error::ApiError;
use crate::http::limits::StreamSlot;
use crate::http::state::AppState;

/// How often a stream looks for new rows.
const POLL: Duration = Duration::from_secs(2);
/// A comment line every this many empty polls keeps proxies from closing an idle stream.
const KEEPALIVE_POLLS: u32 = 7;
/// Most rows of each kind one poll sends.
const POLL_ROWS: u64 = 500;
/// `Retry-After` when every stream slot is taken.
const FULL_RETRY_AFTER_S: u64 = 10;

/// Where a stream is: the last prediction id sent, and the last score (time, id) sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    pub prediction_id: i64,
    pub scored_at: i64,
    pub scored_id: i64,
}

impl Cursor {
    /// Parses `Last-Event-ID`.
    pub fn parse(s: &str) -> Option<Cursor> {
        let mut it = s.trim().split('-').map(|p| p.parse::<i64>().ok());
        let c = Cursor {
            prediction_id: it.next()??,
            scored_at: it.next()??,
            scored_id: it.next()??,
        };
        it.next().is_none().then_some(c)
    }

    fn id(&self) -> String {
        format!("{}-{}-{}", self.prediction_id, self.scored_at, self.scored_id)
    }
}

#[derive(Serialize)]
struct PriceEvent {
    coin: Coin,
    price: f64,
    at: DateTime<chrono::Utc>,
}

struct Stream {
    db: DatabaseConnection,
    cursor: Cursor,
    prices: [i64; 3],
    pending: std::collections::VecDeque<Bytes>,
    polls: u32,
    first: bool,
    /// `true` once the server is stopping.
    shutdown: tokio::sync::watch::Receiver<bool>,
    /// This stream's place under `server.max_streams`, freed with the stream.
    _slot: StreamSlot,
}

fn event(kind: &str, id: Option<&str>, data: &impl Serialize) -> Bytes {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
    let mut out = format!("event: {kind}\n");
    if let Some(id) = id {
        out.push_str(&format!("id: {id}\n"));
    }
    out.push_str(&format!("data: {json}\n\n"));
    Bytes::from(out)
}

impl Stream {
    async fn poll(&mut self) -> Result<(), DbErr> {
        let new = db::predictions::after_id(&self.db, self.cursor.prediction_id, POLL_ROWS).await?;
        for p in new {
            self.cursor.prediction_id = p.id;
            if let Some(dto) = readable(to_dto(&p)) {
                self.pending
                    .push_back(event("prediction", Some(&self.cursor.id()), &dto));
            }
        }
        let c = self.cursor;
        let scored = db::predictions::scored_after(&self.db, c.scored_at, c.scored_id, POLL_ROWS).await?;
        for p in scored {
            self.cursor.scored_at = p.scored_at.unwrap_or(self.cursor.scored_at);
            self.cursor.scored_id = p.id;
            if let Some(dto) = readable(to_dto(&p)) {
                self.pending
                    .push_back(event("score", Some(&self.cursor.id()), &dto));
            }
        }
        for (i, coin) in Coin::ALL.into_iter().enumerate() {
            let latest = db::candles::latest_minute(&self.db, coin).await?;
            if let Some(c) = latest.filter(|c| c.ts > self.prices[i]) {
                self.prices[i] = c.ts;
                let Some(at) = crate::clock::to_utc(c.ts) else {
                    tracing::error!(%coin, ts = c.ts, "stored candle time out of range");
                    continue;
                };
                let e = PriceEvent {
                    coin,
                    price: c.close,
                    at,
                };
                self.pending.push_back(event("price", None, &e));
            }
        }
        Ok(())
    }

    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Self)> {
        if *self.shutdown.borrow() {
            return None;
        }
        if self.first {
            self.first = false;
            return Some((Ok(Bytes::from_static(b"retry: 3000\n: connected\n\n")), self));
        }
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Some((Ok(b), self));
            }
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                // Stopping (or the sender is gone): end the stream; the client reconnects elsewhere.
                _ = self.shutdown.wait_for(|stop| *stop) => return None,
            }
            self.polls += 1;
            if let Err(e) = self.poll().await {
                tracing::warn!(error = %e, "event stream poll failed; retrying");
            }
            if self.pending.is_empty() && self.polls.is_multiple_of(KEEPALIVE_POLLS) {
                return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), self));
            }
        }
    }
}

/// Server-sent events: `prediction` (a new prediction), `score` (a prediction scored against the
/// real price) and `price` (a coin's newest minute close), as JSON. Reconnect with `Last-Event-ID`
/// to resume predictions and scores where the stream stopped.
#[utoipa::path(
    tag = "predictions",
    params(("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id (`<prediction id>-<scored at>-<scored id>`)")),
    responses(
        (status = 200, description = "An endless `text/event-stream`", content_type = "text/event-stream", body = String),
        (status = 400, description = "A malformed Last-Event-ID", body = ApiErrorBody),
        (status = 503, description = "Every event-stream slot is taken (`unavailable`, with `Retry-After`), or the database does not answer (`database_unavailable`)", body = ApiErrorBody),
    )
)]
#[get("/api/stream")]
pub async fn get_stream(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let slot = state.streams.try_take().ok_or_else(|| {
        tracing::warn!(
            open = state.streams.open(),
            "event stream refused: every slot is taken"
        );
        ApiError::Unavailable {
            message: "too many event streams are open".into(),
            retry_after_s: FULL_RETRY_AFTER_S,
        }
    })?;
    let resume = req.headers().get("last-event-id").and_then(|v| v.to_str().ok());
    let cursor = match resume {
        Some(id) => Cursor::parse(id).ok_or_else(|| {
            ApiError::invalid_parameter(
                "Last-Event-ID",
                "expected `<prediction id>-<scored at>-<scored id>`",
            )
        })?,
        None => {
            // A new client starts from now.
            let last = db::predictions::newest_id(&state.db).await?;
            let last_scored = db::predictions::newest_scored(&state.db).await?;
            Cursor {
                prediction_id: last.unwrap_or(0),
                scored_at: last_scored.as_ref().and_then(|p| p.scored_at).unwrap_or(0),
                scored_id: last_scored.map_or(0, |p| p.id),
            }
        }
    };
    let stream = Stream {
        db: state.db.clone(),
        cursor,
        prices: [0; 3],
        pending: Default::default(),
        polls: 0,
        first: true,
        shutdown: state.shutdown_signal(),
        _slot: slot,
    };
    let body = futures_util::stream::unfold(stream, Stream::next);
    Ok(HttpResponse::Ok()
        .insert_header(("content-type", "text/event-stream"))
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        // Keeps the compression middleware from buffering events.
        .insert_header(("content-encoding", "identity"))
        .streaming(body))
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
        assert_eq!(Cursor::parse(&c.id()), Some(c));
        for bad in ["", "1-2", "1-2-3-4", "a-b-c"] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
