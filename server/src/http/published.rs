//! Published state: the read routes' answers, built when the data changes and swapped in
//! atomically (`arc-swap`), and the one event fan-out behind `/api/stream`.
//!
//! The writers (a prediction tick, scoring, a collection run, a model reload) call
//! [`Published::refresh`] when they commit, through the jobs' [`crate::jobs::Notify`], and
//! announce the change to the other processes (`db::changes`). Every other process refreshes
//! when it hears one (PostgreSQL `LISTEN`: within a second of the commit); where nothing can be
//! heard (SQLite, or while the listener is down) a process that runs no jobs polls the database
//! instead (a few cheap queries a second, for the whole process, never per client). A refresh
//! reads what changed once, serializes every answer once (each with its ETag), swaps the
//! snapshot, then sends the new events to every stream client through one
//! `tokio::sync::broadcast` channel. A request then does no database work and no
//! serialization: it copies ready bytes. The events themselves (cursor, framing, backlog) are
//! `http::events`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use futures_util::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use shared::{Coin, Horizon};
use tokio::sync::broadcast;

use crate::db;
use crate::db::changes::{self, Change, Feed};
use crate::http::body::{Body, Filter, passes};
use crate::http::charts::Charts;
use crate::http::events::{Event, load};
use crate::http::pages::{self, Pages};
use crate::http::routes::{accuracy, models, performance, predictions, prices, sources};
use crate::http::state::AppState;
use crate::predict::accuracy::AccuracyTable;
use crate::predict::registry::reload_logged;

/// Stream events kept for clients that lag behind; a client further behind is dropped (it
/// reconnects and resumes with `Last-Event-ID`).
pub const EVENT_BUFFER: usize = 4_096;
/// Most predictions (and, apart, scores) one refresh or one resume reads.
pub const EVENT_ROWS: u64 = 1_000;
/// How often a process without jobs looks for changes made by another process.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);
/// A process without jobs rebuilds its answers at least this often (sliding accuracy windows,
/// source ages), changes or not.
pub const FULL_REFRESH: Duration = Duration::from_secs(60);

/// A chart request as `/api/prices` normalized it: coin, resolution (seconds), aligned `from` and
/// `to`, and the current minute (which bars are final).
pub type ChartKey = (Coin, i64, i64, i64, i64);

/// A history request as `/api/predictions/history` read it: coin, horizon, `from`, `to`, step,
/// limit and cursor.
pub type HistoryKey = (
    Option<Coin>,
    Option<Horizon>,
    i64,
    i64,
    u32,
    u64,
    Option<(i64, i64)>,
);

/// Every filter combination: none, each served coin, each horizon, each pair.
fn filters(served: &[Coin]) -> Vec<Filter> {
    let coins = std::iter::once(None).chain(served.iter().copied().map(Some));
    coins
        .flat_map(|c| {
            std::iter::once(None)
                .chain(Horizon::ALL.map(Some))
                .map(move |h| (c, h))
        })
        .collect()
}

/// Every published answer at one moment.
#[derive(Debug)]
pub struct Snapshot {
    pub predictions: HashMap<Filter, Body>,
    /// Every coin and horizon's entry (`?min_confidence=` filters these per request).
    pub all_predictions: shared::PredictionsResponse,
    pub performance: HashMap<Filter, Body>,
    pub accuracy: HashMap<Filter, Body>,
    pub models: Body,
    /// Each model's entry of `models`, by id (`GET /api/models/{id}`).
    pub model_by_id: HashMap<String, Body>,
    pub prices_latest: Body,
    pub sources: Body,
    /// `GET /api/coins`.
    pub coins: Body,
    /// When it was built (Unix seconds).
    pub built_at: i64,
    /// The newest minute (`made_at`) of a live prediction it holds: how far the published ticks
    /// have got (what answers' `max-age` is counted from, `AppState::cache_until_next_tick`).
    pub published_minute: Option<i64>,
    /// Which refresh built it (counts up): the answers kept in `http::pages` belong to one.
    pub generation: u64,
    /// Live, or which recording is replayed and with what shift.
    pub mode: shared::DataMode,
}

/// What the watcher compares to tell whether another process changed anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Signature {
    newest_prediction: Option<i64>,
    newest_score: Option<(i64, i64)>,
    newest_minutes: Vec<Option<i64>>,
    statuses_updated: Option<i64>,
}

/// The published state of one process.
pub struct Published {
    snapshot: ArcSwapOption<Snapshot>,
    events: broadcast::Sender<Arc<Event>>,
    /// The id of the last event sent (`events` table).
    cursor: std::sync::atomic::AtomicI64,
    /// One refresh at a time: events go out in order, once each.
    refreshing: tokio::sync::Mutex<()>,
    /// Refreshes that built a snapshot.
    generation: std::sync::atomic::AtomicU64,
    /// Each coin's chart bars (`http::charts`), brought up to date by every refresh.
    pub charts: Charts,
    /// Chart answers made since the last refresh, by normalized query.
    pub chart_pages: Pages<ChartKey>,
    /// History pages made since the last refresh, by normalized query.
    pub history_pages: Pages<HistoryKey>,
    /// Reads that must touch the database per request (`http::pages::SLOW_READS` at once).
    pub slow_reads: tokio::sync::Semaphore,
}

impl Default for Published {
    /// For the default coin list.
    fn default() -> Self {
        Published::new(&crate::coins::DEFAULT, crate::clock::MINUTE_S)
    }
}

impl Published {
    /// Nothing published yet, for the served `coins`, whose candles are `base_s` long.
    pub fn new(coins: &[Coin], base_s: i64) -> Self {
        Published {
            snapshot: ArcSwapOption::empty(),
            events: broadcast::channel(EVENT_BUFFER).0,
            cursor: std::sync::atomic::AtomicI64::new(0),
            refreshing: tokio::sync::Mutex::new(()),
            generation: std::sync::atomic::AtomicU64::new(0),
            charts: Charts::new(coins, base_s),
            chart_pages: Pages::default(),
            history_pages: Pages::default(),
            slow_reads: pages::slow_reads(),
        }
    }

    /// The current answers (`None` until the first refresh worked).
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot.load_full()
    }

    /// A new stream client's receiver and the id of the last event sent before it subscribed.
    pub fn subscribe(&self) -> (broadcast::Receiver<Arc<Event>>, i64) {
        let rx = self.events.subscribe();
        (rx, self.cursor())
    }

    /// The id of the last event sent.
    pub fn cursor(&self) -> i64 {
        self.cursor.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Reads what changed since the last refresh, rebuilds every answer, swaps them in, then
    /// sends the new events. Callers: the writers when they commit, the watcher, start-up.
    pub async fn refresh(&self, state: &AppState) -> Result<(), DbErr> {
        let _one = self.refreshing.lock().await;
        let first = self.snapshot.load().is_none();
        if first {
            // The stream starts from the newest stored event (the first refresh sends none).
            let newest = db::events::newest_id(&state.db).await?;
            self.cursor.store(newest, std::sync::atomic::Ordering::SeqCst);
        }
        let events = self.new_events(&state.db, state.base_s).await?;
        self.charts.refresh(&state.db, state.clock.now()).await?;
        let generation = self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let snapshot = build(state, &self.charts, generation).await?;
        self.snapshot.store(Some(Arc::new(snapshot)));
        for e in events {
            // No receivers is fine: nobody is listening.
            let _ = self.events.send(e);
        }
        Ok(())
    }

    /// The events recorded after the cursor (at most [`EVENT_BUFFER`]: more would drop every
    /// client anyway; they resume with their last id); moves the cursor past them.
    async fn new_events(&self, db: &DatabaseConnection, base_s: i64) -> Result<Vec<Arc<Event>>, DbErr> {
        let mut cursor = self.cursor();
        let mut out = Vec::new();
        loop {
            let rows = db::events::after(db, cursor, EVENT_ROWS).await?;
            let full = rows.len() as u64 == EVENT_ROWS;
            if let Some(last) = rows.last() {
                cursor = last.id;
            }
            out.extend(load(db, base_s, rows).await?);
            if !full || out.len() >= EVENT_BUFFER {
                break;
            }
        }
        self.cursor.store(cursor, std::sync::atomic::Ordering::SeqCst);
        Ok(out)
    }

    /// A cheap look at whether anything changed (for the watcher).
    async fn signature(db: &DatabaseConnection, coins: &[Coin], base_s: i64) -> Result<Signature, DbErr> {
        let scored = db::predictions::newest_scored(db).await?;
        let mut newest_minutes = Vec::new();
        for &coin in coins {
            newest_minutes.push(db::candles::latest_of(db, coin, base_s).await?.map(|c| c.ts));
        }
        Ok(Signature {
            newest_prediction: db::predictions::newest_id(db).await?,
            newest_score: scored.map(|s| (s.scored_at.unwrap_or(0), s.id)),
            newest_minutes,
            statuses_updated: db::status::last_update(db).await?,
        })
    }

    /// Watches for changes made elsewhere (another process's jobs, another process's model
    /// reload) and refreshes when it sees one, or every `every` anyway (sliding accuracy windows,
    /// source ages). With a listening [`Feed`] (PostgreSQL) a change is heard and refreshed at
    /// once and nothing is polled; without one (SQLite), or while the listener is down, the
    /// database is polled every [`WATCH_INTERVAL`] (a few cheap queries).
    pub async fn watch(state: AppState, every: Duration) {
        let feed = state.changes.feed.clone();
        let mut heard = feed.as_ref().map(Feed::subscribe);
        let mut seen = Signature::default();
        let mut last_full = std::time::Instant::now();
        loop {
            let change = match heard.as_mut() {
                Some(rx) => tokio::select! {
                    r = rx.recv() => Some(r),
                    () = tokio::time::sleep(WATCH_INTERVAL) => None,
                },
                None => {
                    tokio::time::sleep(WATCH_INTERVAL).await;
                    None
                }
            };
            let listening = feed.as_ref().is_some_and(Feed::is_listening);
            let mut polled = None;
            match change {
                Some(Err(broadcast::error::RecvError::Closed)) => {
                    heard = None;
                    continue;
                }
                Some(first) => {
                    // One refresh covers every change heard so far. A reload announced, or one
                    // that may have been missed (the listener reconnected, or this watcher fell
                    // behind), reloads the models first.
                    let mut models = Change::may_change_models(&first);
                    if let Some(rx) = heard.as_mut() {
                        loop {
                            match rx.try_recv() {
                                Ok(c) => models |= Change::may_change_models(&Ok(c)),
                                Err(broadcast::error::TryRecvError::Lagged(_)) => models = true,
                                Err(_) => break,
                            }
                        }
                    }
                    if models {
                        reload_models(&state).await;
                    }
                }
                None => {
                    let stale = last_full.elapsed() >= every || state.published.snapshot().is_none();
                    if listening && !stale {
                        continue;
                    }
                    let now_sig = match Self::signature(&state.db, state.coins.served(), state.base_s).await {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::debug!(error = %e, "published state: the database does not answer");
                            continue;
                        }
                    };
                    if now_sig == seen && !stale {
                        continue;
                    }
                    polled = Some(now_sig);
                }
            }
            match state.published.refresh(&state).await {
                Ok(()) => {
                    last_full = std::time::Instant::now();
                    if let Some(sig) = polled {
                        seen = sig;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not refresh the published state"),
            }
        }
    }
}

/// Reloads this process's models (another process announced a reload: a promotion or SIGHUP),
/// off the async threads; a failed reload keeps the running models.
pub async fn reload_models(state: &AppState) {
    reload_logged(&state.db, &state.registry, "announced by another process").await;
}

fn serialization(e: serde_json::Error) -> DbErr {
    DbErr::Custom(format!("serializing a published answer: {e}"))
}

/// Every answer, from the database as it is now: read here, serialized off the async threads.
async fn build(state: &AppState, charts: &Charts, generation: u64) -> Result<Snapshot, DbErr> {
    let now = state.clock.now();
    let started = std::time::Instant::now();
    let ms = |since: std::time::Instant| since.elapsed().as_secs_f64() * 1e3;
    // Every served model's accuracy windows, read once for the three answers that show them.
    let table = AccuracyTable::read(
        &state.db,
        state.registry.all().iter().map(|m| m.card.horizon),
        now,
    )
    .await?;
    let all_predictions = predictions::build(state, &table, now).await?;
    let predictions_ms = ms(started);
    let all_accuracy = accuracy::build(state, &table).await?;
    let all_models = models::build(state, &table, now).await?;
    let read_ms = ms(started);
    let all_performance = performance::build(state, charts, now).await?;
    let performance_ms = ms(started) - read_ms;
    let parts = Parts {
        coins: crate::http::routes::coins::build(state, &all_models),
        served: state.coins.served().to_vec(),
        all_predictions,
        all_accuracy,
        all_models,
        all_performance,
        prices_latest: prices::build_latest(state).await?,
        sources: sources::build(state, now).await?,
        mode: state.mode().await?,
        now,
        generation,
    };
    let serialized = std::time::Instant::now();
    let snapshot = tokio::task::spawn_blocking(move || serialize(parts))
        .await
        .map_err(|e| DbErr::Custom(format!("building the published answers: {e}")))??;
    tracing::debug!(
        predictions_ms,
        read_ms,
        performance_ms,
        serialize_ms = ms(serialized),
        total_ms = ms(started),
        "published state built"
    );
    Ok(snapshot)
}

/// What a snapshot is built from.
struct Parts {
    coins: shared::CoinsResponse,
    served: Vec<Coin>,
    all_predictions: shared::PredictionsResponse,
    all_accuracy: shared::AccuracyResponse,
    all_models: shared::ModelsResponse,
    all_performance: shared::PerformanceResponse,
    prices_latest: shared::PricesResponse,
    sources: shared::SourcesResponse,
    mode: shared::DataMode,
    now: i64,
    generation: u64,
}

/// Every answer of a snapshot, serialized once (CPU work: run off the async threads).
fn serialize(parts: Parts) -> Result<Snapshot, DbErr> {
    let all_predictions = parts.all_predictions;
    let published_minute = all_predictions
        .predictions
        .iter()
        .filter_map(|e| e.prediction.as_ref())
        .filter(|p| !p.backfilled)
        .map(|p| p.made_at.timestamp())
        .max();
    let mut model_by_id = HashMap::new();
    for m in &parts.all_models.models {
        model_by_id.insert(m.id.clone(), Body::json(m).map_err(serialization)?);
    }
    let mut by_filter = HashMap::new();
    let mut accuracy_by_filter = HashMap::new();
    let mut performance_by_filter = HashMap::new();
    for f in filters(&parts.served) {
        let mut p = all_predictions.clone();
        p.predictions.retain(|x| passes(&f, x.coin, x.horizon));
        by_filter.insert(f, Body::json(&p).map_err(serialization)?);
        let mut a = parts.all_accuracy.clone();
        a.rows.retain(|x| passes(&f, x.coin, x.horizon));
        accuracy_by_filter.insert(f, Body::json(&a).map_err(serialization)?);
        let mut m = parts.all_performance.clone();
        m.models.retain(|x| passes(&f, x.coin, x.horizon));
        performance_by_filter.insert(f, Body::json(&m).map_err(serialization)?);
    }
    Ok(Snapshot {
        predictions: by_filter,
        all_predictions,
        performance: performance_by_filter,
        accuracy: accuracy_by_filter,
        models: Body::json(&parts.all_models).map_err(serialization)?,
        model_by_id,
        prices_latest: Body::json(&parts.prices_latest).map_err(serialization)?,
        sources: Body::json(&parts.sources).map_err(serialization)?,
        coins: Body::json(&parts.coins).map_err(serialization)?,
        built_at: parts.now,
        published_minute,
        generation: parts.generation,
        mode: parts.mode,
    })
}

/// The jobs' hook into this process's published state: refreshes it, then tells the other
/// processes (`db::changes::announce`: PostgreSQL `NOTIFY`, nothing on SQLite).
pub struct Refresher(pub AppState);

impl crate::jobs::Notify for Refresher {
    fn changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // The others first: they refresh while this process does.
            announce(&self.0, Change::Data).await;
            if let Err(e) = self.0.published.refresh(&self.0).await {
                tracing::warn!(error = %e, "could not refresh the published state");
            }
        })
    }

    fn models_changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            announce(&self.0, Change::Models).await;
            if let Err(e) = self.0.published.refresh(&self.0).await {
                tracing::warn!(error = %e, "could not refresh the published state");
            }
        })
    }
}

/// Tells the other processes about a change this one committed (logged when it cannot: they
/// catch up on their next full refresh).
pub async fn announce(state: &AppState, change: Change) {
    if let Err(e) = changes::announce(&state.db, &state.changes.origin, change).await {
        tracing::warn!(error = %e, ?change, "could not announce a change to the other processes");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_combination_is_published() {
        assert_eq!(filters(&crate::coins::DEFAULT).len(), 11 * 7);
    }
}
