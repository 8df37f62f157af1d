//! `GET /api/stream`: server-sent events for new predictions, scores and prices.
//!
//! Every client is fed by the process's one event fan-out (`http::published`): the writers
//! record each event in the `events` table (one sequence of ids, `db::events`), the published
//! state sends each once, framed once, through a `tokio::sync::broadcast` channel; no client
//! polls the database. Every event carries its id: a client that reconnects with `Last-Event-ID`
//! (browsers' `EventSource` does so by itself; or `?last_event_id=`) gets what it missed, prices
//! included, read once at connect time: at most `events::MAX_RESUME`, after a `skipped` event
//! saying which ids it did not get. A client filters by coin, horizon and event type; ids stay
//! those of the one sequence, so a filtered client resumes the same way. A client too slow to
//! keep up (more than `published::EVENT_BUFFER` events behind) is disconnected rather than
//! buffered without bound; it resumes with its last id.
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

use serde::Deserialize;
use shared::EventType;
use utoipa::IntoParams;

use crate::db::events::EventFilter;
use crate::http::error::ApiError;
use crate::http::events::{Event, parse_id, resume};
use crate::http::limits::StreamSlot;
use crate::http::routes::params::{parse_coin, parse_flag, parse_horizon};
use crate::http::state::AppState;

/// `Retry-After` when every stream slot is taken.
const FULL_RETRY_AFTER_S: u64 = 10;

struct Stream {
    rx: broadcast::Receiver<Arc<Event>>,
    /// The last event id this client has had (or skipped): later broadcast events only.
    at: i64,
    filter: EventFilter,
    pending: VecDeque<Arc<Event>>,
    first: bool,
    /// `false`: end once `pending` (the resume) is sent.
    follow: bool,
    /// `true` once the server is stopping.
    shutdown: tokio::sync::watch::Receiver<bool>,
    /// A comment line after this long without events keeps proxies from closing an idle stream,
    /// and finds a client that went away (the write fails).
    keepalive: Duration,
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
            if !self.follow {
                return None;
            }
            let received = tokio::select! {
                r = tokio::time::timeout(self.keepalive, self.rx.recv()) => r,
                _ = self.shutdown.wait_for(|stop| *stop) => return None,
            };
            match received {
                Err(_) => return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), self)),
                Ok(Ok(e)) => {
                    if e.id > self.at {
                        self.at = e.id;
                        if e.passes(&self.filter) {
                            self.pending.push_back(e);
                        }
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

/// Query of `GET /api/stream`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Only this coin's events.
    #[param(value_type = Option<shared::Coin>)]
    pub coin: Option<String>,
    /// Only this horizon's prediction and score events (price events have no horizon and pass).
    #[param(value_type = Option<shared::Horizon>)]
    pub horizon: Option<String>,
    /// Only events of this type (`skipped` events are always sent).
    #[param(value_type = Option<EventType>)]
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Resume after this event id, as the `Last-Event-ID` header does (for clients that cannot
    /// set headers). When both are given (a browser's `EventSource` reconnecting to a URL that
    /// has one), the header wins; each must be a valid id.
    #[param(value_type = Option<String>, pattern = "^[0-9]{1,15}$", example = "1234")]
    pub last_event_id: Option<String>,
    /// `false` (or `0`): send what was missed after the event id (at most 1,000 events, as on any
    /// resume; nothing without an id), then end the response instead of following new events: a
    /// bounded read for scripts and test tools that catch up by polling. Default `true`.
    #[param(value_type = Option<bool>)]
    pub follow: Option<String>,
}

/// Server-sent events: `prediction` (a new prediction), `score` (a prediction scored against the
/// real price), `price` (each stored minute's close, once), `skipped` (a resume from further back
/// than is replayed) and `reset` (a resume after an id the sequence has not reached: the server's
/// events were reset or restored; it carries the newest id, re-read `GET /api/predictions`), with
/// JSON `data` (schemas: `StreamEvent`).
///
/// Every event has an `id:` from one increasing sequence, the same for every client and across
/// reconnections. Ids are ordered for resume, not dense: one sequence numbers the events of every
/// type and coin, so the ids a client gets have gaps (more with a filter), and a gap is not a lost
/// event. Reconnect with `Last-Event-ID` (or `?last_event_id=`; the header wins when both are
/// given) to get what you missed
/// (at most the 1,000 newest of your filter, prices included; older ones are announced by a
/// `skipped` event naming their ids; read `GET /api/predictions/history` for them). Filter with
/// `coin`, `horizon` and `type`. A comment line (`: keep-alive`) comes after 15 s without events.
///
/// The 200 is an endless `text/event-stream`: it ends only when the connection drops or the
/// server stops (or, with `follow=false`, once the missed events are sent). A generated client's
/// `get_stream` reads the whole body and so never returns unless `follow=false`: read the stream
/// with an SSE client (a browser's `EventSource`) or line by line. A frame is
/// `event:`, `id:` and `data:` (one line of JSON) lines, then an empty line; lines starting with
/// `:` are comments. In Python with httpx (README, "Reading the event stream from Python", has
/// the whole loop with reconnection):
///
/// ```python
/// resume = {"Last-Event-ID": str(last_id)} if last_id else {}  # the last id you handled
/// with httpx.stream("GET", base_url + "/api/stream", params={"coin": "BTC"}, headers=resume,
///                   timeout=httpx.Timeout(10, read=60)) as r:   # keep-alives come every 15 s
///     frame = {}
///     for line in r.iter_lines():
///         if line == "":                      # the frame is complete
///             if "data" in frame:
///                 last_id = int(frame["id"])
///                 handle(frame["event"], last_id, json.loads(frame["data"]))
///             frame = {}
///         elif not line.startswith(":"):      # not a comment (`: keep-alive`)
///             name, _, value = line.partition(":")
///             frame[name] = value.removeprefix(" ")
/// ```
#[utoipa::path(
    tag = "predictions",
    params(
        StreamQuery,
        ("Last-Event-ID" = Option<String>, Header, pattern = "^[0-9]{1,15}$", description = "Resume after this event id (the `id:` of the last event received)"),
    ),
    responses(
        (status = 200, description = "An endless `text/event-stream` of `StreamEvent` frames (`event:`, `id:`, `data:` as JSON; `itemSchema` describes one frame as it is on the wire); with `follow=false` it ends after the missed events", content_type = "text/event-stream", body = String),
        (status = 400, description = "A bad filter or event id", body = ApiErrorBody),
        (status = 503, description = "Every event-stream slot is taken (`unavailable`, with `Retry-After`), or the database does not answer (`database_unavailable`)", body = ApiErrorBody),
    )
)]
#[get("/api/stream")]
pub async fn get_stream(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = EventFilter {
        coin: query
            .coin
            .as_deref()
            .map(|c| parse_coin(c, state.coins.served()))
            .transpose()?,
        horizon: query.horizon.as_deref().map(parse_horizon).transpose()?,
        kind: query
            .kind
            .as_deref()
            .map(|k| {
                k.parse::<EventType>()
                    .map_err(|e| ApiError::invalid_parameter("type", e))
            })
            .transpose()?,
    };
    let follow = parse_flag("follow", query.follow.as_deref(), true)?;
    let bad = |parameter: &str| {
        ApiError::invalid_parameter(
            parameter,
            format!("`{parameter}` must be an event id this stream sent (a whole number)"),
        )
    };
    let mut sent = req.headers().get_all("last-event-id");
    let header = sent.next();
    if sent.next().is_some() {
        return Err(ApiError::invalid_parameter(
            "Last-Event-ID",
            "`Last-Event-ID` is given more than once",
        ));
    }
    // Both are checked; the header wins. A browser's `EventSource` reconnects to the URL it
    // first opened (with whatever `last_event_id` that had) and adds the header with the newest
    // id it received: the header is where the client really is.
    let from_header = header
        .map(|h| {
            h.to_str()
                .ok()
                .and_then(parse_id)
                .ok_or_else(|| bad("Last-Event-ID"))
        })
        .transpose()?;
    let from_query = query
        .last_event_id
        .as_deref()
        .map(|q| parse_id(q).ok_or_else(|| bad("last_event_id")))
        .transpose()?;
    let resume_after = from_header.or(from_query);
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
    // ways and is sent once (by its id).
    let (rx, now) = state.published.subscribe();
    let mut pending = VecDeque::new();
    let at = match resume_after {
        None => now,
        Some(after) => {
            let (events, at) = resume(&state.db, state.base_s, after, &filter).await?;
            pending.extend(events.into_iter().filter(|e| e.passes(&filter)));
            at
        }
    };
    let stream = Stream {
        rx,
        at,
        filter,
        pending,
        first: true,
        follow,
        shutdown: state.shutdown_signal(),
        keepalive: state.stream_keepalive,
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
    use crate::http::published::EVENT_BUFFER;

    fn event(n: i64) -> Arc<Event> {
        Arc::new(Event::new(
            n,
            EventType::Prediction,
            Some(shared::Coin::BTC),
            Some(shared::Horizon::H1),
            &n,
        ))
    }

    /// A stream on `rx`, and the sender that would tell it the server stops (kept alive by the
    /// caller, as `AppState` does).
    fn stream(rx: broadcast::Receiver<Arc<Event>>) -> (Stream, tokio::sync::watch::Sender<bool>) {
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let stream = Stream {
            rx,
            at: 0,
            filter: EventFilter::default(),
            pending: VecDeque::new(),
            first: false,
            follow: true,
            shutdown,
            keepalive: Duration::from_secs(15),
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
        assert!(String::from_utf8_lossy(&frame.unwrap()).contains(&format!("id: {}\n", EVENT_BUFFER + 11)));
        // The slow client is past the buffer: its stream ends (it resumes with its last id).
        let (slow, _stop_slow) = stream(slow);
        assert!(slow.next().await.is_none());
    }

    #[tokio::test]
    async fn a_filtered_client_gets_only_its_events() {
        let (tx, rx) = broadcast::channel(16);
        let (mut s, _stop) = stream(rx);
        s.filter.coin = Some(shared::Coin::LTC);
        tx.send(event(1)).unwrap();
        tx.send(Arc::new(Event::new(
            2,
            EventType::Price,
            Some(shared::Coin::LTC),
            None,
            &2,
        )))
        .unwrap();
        let (frame, s) = s.next().await.unwrap();
        assert!(String::from_utf8_lossy(&frame.unwrap()).starts_with("event: price\nid: 2\n"));
        assert_eq!(s.at, 2);
    }
}
