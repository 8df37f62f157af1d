//! `GET /api/stream`: server-sent events for new predictions, scores and prices.
//!
//! Every client is fed by the process's one event fan-out (`http::published`): the writers
//! publish each event once, framed once, through a `tokio::sync::broadcast` channel; no client
//! polls the database. Every prediction and score event carries an id, the cursor after it
//! (`<prediction id>-<scored at>-<scored id>`): a client that reconnects with `Last-Event-ID`
//! (browsers' `EventSource` does so by itself) gets what it missed, read once at connect time (at
//! most `published::EVENT_ROWS` of each kind). Price events are not replayed: the next one brings
//! the current price. A client too slow to keep up (more than `published::EVENT_BUFFER` events
//! behind) is disconnected rather than buffered without bound; it resumes with its last id.
//!
//! At most `server.max_streams` are open at once (each holds a slot, freed when the client goes
//! away); streams end when the server begins to stop, so a restart is not held up by them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use shared::ApiErrorBody;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::http::error::ApiError;
use crate::http::events::{Cursor, Event, backlog};
use crate::http::limits::StreamSlot;
use crate::http::published::EVENT_ROWS;
use crate::http::state::AppState;

/// A comment line after this long without events keeps proxies from closing an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// `Retry-After` when every stream slot is taken.
const FULL_RETRY_AFTER_S: u64 = 10;

struct Stream {
    rx: broadcast::Receiver<Arc<Event>>,
    /// What this client has had: later broadcast events only.
    at: Cursor,
    pending: VecDeque<Arc<Event>>,
    first: bool,
    /// `true` once the server is stopping.
    shutdown: tokio::sync::watch::Receiver<bool>,
    /// Held while the stream is open.
    _slot: Option<StreamSlot>,
}

impl Stream {
    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Self)> {
        if self.first {
            self.first = false;
            return Some((Ok(Bytes::from_static(b"retry: 3000\n: connected\n\n")), self));
        }
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            if let Some(e) = self.pending.pop_front() {
                return Some((Ok(e.frame.clone()), self));
            }
            let received = tokio::select! {
                r = tokio::time::timeout(KEEPALIVE, self.rx.recv()) => r,
                _ = self.shutdown.wait_for(|stop| *stop) => return None,
            };
            match received {
                Err(_) => return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), self)),
                Ok(Ok(e)) => {
                    if e.is_after(&self.at) {
                        self.at = e.cursor.max_with(&self.at);
                        self.pending.push_back(e);
                    }
                }
                Ok(Err(RecvError::Lagged(missed))) => {
                    tracing::info!(
                        missed,
                        "a stream client fell behind: disconnected (it resumes with its last id)"
                    );
                    return None;
                }
                Ok(Err(RecvError::Closed)) => return None,
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
    let bad = || {
        ApiError::invalid_parameter(
            "Last-Event-ID",
            "expected `<prediction id>-<scored at>-<scored id>` as this stream sent it",
        )
    };
    let mut sent = req.headers().get_all("last-event-id");
    let resume = sent.next();
    if sent.next().is_some() {
        return Err(ApiError::invalid_parameter(
            "Last-Event-ID",
            "`Last-Event-ID` is given more than once",
        ));
    }
    let resume = match resume {
        Some(id) => {
            let id = id.to_str().map_err(|_| bad())?;
            Some(Cursor::parse(id, crate::clock::now()).ok_or_else(bad)?)
        }
        None => None,
    };
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
    // Subscribe first, then read what was missed: an event published in between arrives both
    // ways and is sent once (the cursor filters it).
    let (rx, now) = state.published.subscribe();
    let mut pending = VecDeque::new();
    let at = match resume {
        None => now,
        Some(mut cursor) => {
            for e in backlog(&state.db, &mut cursor, EVENT_ROWS).await? {
                pending.push_back(e);
            }
            cursor
        }
    };
    let stream = Stream {
        rx,
        at,
        pending,
        first: true,
        shutdown: state.shutdown_signal(),
        _slot: Some(slot),
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
    use crate::http::events::EventKind;
    use crate::http::published::EVENT_BUFFER;

    fn event(n: i64) -> Arc<Event> {
        Arc::new(Event {
            kind: EventKind::Prediction,
            cursor: Cursor {
                prediction_id: n,
                ..Cursor::default()
            },
            frame: Bytes::from(format!("event: prediction\nid: {n}-0-0\ndata: {{}}\n\n")),
        })
    }

    /// A stream on `rx`, and the sender that would tell it the server stops (kept alive by the
    /// caller, as `AppState` does).
    fn stream(rx: broadcast::Receiver<Arc<Event>>) -> (Stream, tokio::sync::watch::Sender<bool>) {
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let stream = Stream {
            rx,
            at: Cursor::default(),
            pending: VecDeque::new(),
            first: false,
            shutdown,
            _slot: None,
        };
        (stream, stop)
    }

    #[tokio::test]
    async fn a_slow_client_is_dropped_and_a_prompt_one_gets_every_event_once() {
        let (tx, slow) = broadcast::channel(EVENT_BUFFER);
        let (mut prompt, _stop) = stream(tx.subscribe());
        let mut got = Vec::new();
        for n in 1..=(EVENT_BUFFER as i64 + 10) {
            tx.send(event(n)).unwrap();
            // The prompt client reads each event as it comes; the slow one never reads.
            let (frame, next) = prompt.next().await.unwrap();
            got.push(frame.unwrap());
            prompt = next;
        }
        assert_eq!(got.len(), EVENT_BUFFER + 10);
        // A repeated event (as a resume may deliver) is sent once.
        tx.send(event(3)).unwrap();
        tx.send(event(EVENT_BUFFER as i64 + 11)).unwrap();
        let (frame, _) = prompt.next().await.unwrap();
        assert!(String::from_utf8_lossy(&frame.unwrap()).contains(&format!("id: {}-0-0", EVENT_BUFFER + 11)));
        // The slow client is past the buffer: its stream ends (it resumes with its last id).
        let (slow, _stop_slow) = stream(slow);
        assert!(slow.next().await.is_none());
    }
}
