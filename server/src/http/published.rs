//! Published state: the read routes' answers, built when the data changes and swapped in
//! atomically (`arc-swap`), and the one event fan-out behind `/api/stream`.
//!
//! The writers (a prediction tick, scoring, a collection run, a model reload) call
//! [`Published::refresh`] when they commit, through the jobs' [`crate::jobs::Notify`], and
//! announce the change to the other processes (`db::changes`). Every other process refreshes
//! when it hears one (PostgreSQL `LISTEN`: within a second of the commit); where nothing can be
//! heard (SQLite, or while the listener is down) a process that runs no jobs polls the database
//! instead (a few cheap queries a second, for the whole process, never per client). A refresh
//! reads what the commit changed (`Kept`: accuracy blocks, newest predictions and trading figures
//! brought up to date, read whole at start and hourly), serializes what changed (each answer with
//! its ETag, `Joined`), swaps the snapshot, then sends the new events to every stream client
//! through one `tokio::sync::broadcast` channel. A request then does no database work and no
//! serialization: it copies ready bytes. The events themselves (cursor, framing, backlog) are
//! `http::events`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
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
use crate::predict::accuracy::{AccuracyTable, LiveAccuracy};
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
    /// One refresh at a time (events go out in order, once each), and what refreshes keep.
    refreshing: tokio::sync::Mutex<Kept>,
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
            refreshing: tokio::sync::Mutex::new(Kept::default()),
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
        let mut kept = self.refreshing.lock().await;
        let first = self.snapshot.load().is_none();
        if first {
            // The stream starts from the newest stored event (the first refresh sends none).
            let newest = db::events::newest_id(&state.db).await?;
            self.cursor.store(newest, std::sync::atomic::Ordering::SeqCst);
        }
        let events = self.new_events(&state.db, state.base_s).await?;
        self.charts.refresh(&state.db, state.clock.now()).await?;
        let generation = self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let snapshot = match build(state, &self.charts, &mut kept, generation).await {
            Ok(s) => s,
            Err(e) => {
                // What was kept may be half brought up to date: the next rebuild reads it whole.
                *kept = Kept::default();
                return Err(e);
            }
        };
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

/// How often the kept accuracy blocks are read afresh (rows deleted by retention, or imported,
/// change blocks without a scoring run).
pub const ACCURACY_RELOAD_S: i64 = 3_600;

/// What refreshes keep between rebuilds (under the one-refresh lock).
#[derive(Default)]
struct Kept {
    /// Every served horizon's live accuracy by block, and when it was loaded.
    accuracy: Option<(LiveAccuracy, i64)>,
    /// The list answers as the last rebuild serialized them.
    joined: Lists,
    /// Each served model's newest prediction, the newest id read, and when they were read whole.
    newest: Option<(predictions::Newest, i64, i64)>,
    /// The coins and horizons with live predictions scored since the last rebuild (`None`:
    /// not known, as after a load of the accuracy blocks).
    scored: Option<BTreeSet<(Coin, Horizon)>>,
    /// Each served model's trading figures by model id, and when they were all computed.
    performance: (HashMap<String, performance::Entry>, Option<i64>),
}

/// How often each model's newest prediction is read whole (one statement a model) rather than
/// from the rows stored since. The writers of predictions are serialized (`db::serialized`), so
/// ids commit in order; this bounds what a row stored any other way could leave unseen.
pub const NEWEST_RELOAD_S: i64 = ACCURACY_RELOAD_S;
/// Most rows stored since the last rebuild read one by one; more (a backfill): read whole.
const NEWEST_ROWS: u64 = 5_000;

/// The three list answers (one entry per model, an answer per filter) as last serialized.
#[derive(Default)]
struct Lists {
    predictions: Option<Joined<shared::LatestPrediction>>,
    accuracy: Option<Joined<shared::AccuracyRow>>,
    performance: Option<Joined<shared::ModelPerformance>>,
}

impl Kept {
    /// The accuracy table at `now`: the kept blocks brought up to date (or loaded: the first
    /// time, when the served horizons changed, when too much was scored at once, and every
    /// [`ACCURACY_RELOAD_S`]). A failed read drops them (the next refresh loads them again).
    async fn accuracy(&mut self, state: &AppState, now: i64) -> Result<AccuracyTable, DbErr> {
        let horizons: BTreeSet<Horizon> = state.registry.all().iter().map(|m| m.card.horizon).collect();
        let mut kept = self.accuracy.take();
        self.scored = None;
        if let Some((live, loaded_at)) = kept.as_mut() {
            let current = live.keeps(&horizons) && now - *loaded_at < ACCURACY_RELOAD_S && now >= *loaded_at;
            self.scored = if current {
                live.update(&state.db).await?
            } else {
                None
            };
            if self.scored.is_none() {
                kept = None;
            }
        }
        let (mut live, loaded_at) = match kept {
            Some(k) => k,
            None => (LiveAccuracy::load(&state.db, horizons, now).await?, now),
        };
        let table = live.table(&state.db, now).await?;
        self.accuracy = Some((live, loaded_at));
        Ok(table)
    }

    /// Each served model's newest prediction at `now`: the kept rows, the rows stored since and
    /// the kept rows again as they are now (scored since, say): two statements. Read whole the
    /// first time, after a failed read, after many rows, and every [`NEWEST_RELOAD_S`].
    async fn newest(&mut self, state: &AppState, now: i64) -> Result<&predictions::Newest, DbErr> {
        let mut current = None;
        if let Some((mut newest, id_upto, loaded_at)) = self.newest.take()
            && now >= loaded_at
            && now - loaded_at < NEWEST_RELOAD_S
        {
            let ids: Vec<i64> = newest.values().map(|p| p.id).collect();
            let rows = db::predictions::stored_after_and(&state.db, id_upto, &ids, NEWEST_ROWS).await?;
            let fresh = rows.iter().filter(|r| r.id > id_upto).count() as u64;
            if fresh < NEWEST_ROWS {
                let id_upto = rows.iter().map(|r| r.id).fold(id_upto, i64::max);
                for row in rows {
                    let (Ok(coin), Ok(horizon)) = (row.coin.parse(), row.horizon.parse()) else {
                        continue;
                    };
                    let newer = newest
                        .get(&(coin, horizon))
                        .is_none_or(|p| p.made_at <= row.made_at);
                    if newer {
                        newest.insert((coin, horizon), row);
                    }
                }
                // Only the served models'.
                let served: BTreeSet<(Coin, Horizon)> = state
                    .registry
                    .all()
                    .iter()
                    .map(|m| (m.card.coin, m.card.horizon))
                    .collect();
                newest.retain(|k, _| served.contains(k));
                current = Some((newest, id_upto, loaded_at));
            }
        }
        let current = match current {
            Some(c) => c,
            None => {
                let id_upto = db::predictions::newest_id(&state.db).await?.unwrap_or(0);
                (predictions::newest_rows(state).await?, id_upto, now)
            }
        };
        Ok(&self.newest.insert(current).0)
    }

    /// Every served model's trading figures at `now`: those of models with live predictions
    /// scored since, with a prediction waiting for its exit candle, or whose oldest prediction
    /// left the live window are computed again (one read of its ledger each), the others kept;
    /// all of them every [`ACCURACY_RELOAD_S`] and whenever what was scored is not known.
    async fn performance(
        &mut self,
        state: &AppState,
        charts: &Charts,
        now: i64,
    ) -> Result<shared::PerformanceResponse, DbErr> {
        let (mut last, computed_at) = std::mem::take(&mut self.performance);
        let whole =
            self.scored.is_none() || computed_at.is_none_or(|t| now < t || now - t >= ACCURACY_RELOAD_S);
        if whole {
            last.clear();
        }
        let mut kept = HashMap::new();
        let mut models = Vec::new();
        for model in state.registry.all() {
            let card = &model.card;
            let scored = self
                .scored
                .as_ref()
                .is_none_or(|s| s.contains(&(card.coin, card.horizon)));
            let current = last
                .remove(&card.id)
                .filter(|e| !scored && !e.awaits_candles && e.changes_at.is_none_or(|t| now <= t));
            let entry = match current {
                Some(e) => e,
                None => performance::entry(state, charts, card, now).await?,
            };
            models.push(entry.figures.clone());
            kept.insert(card.id.clone(), entry);
        }
        self.performance = (kept, if whole { Some(now) } else { computed_at });
        Ok(shared::PerformanceResponse {
            mode: state.mode().await?,
            models,
        })
    }
}

/// Every answer, from the database as it is now (the accuracy blocks `kept` brought up to date):
/// read here, serialized off the async threads.
async fn build(
    state: &AppState,
    charts: &Charts,
    kept: &mut Kept,
    generation: u64,
) -> Result<Snapshot, DbErr> {
    let now = state.clock.now();
    let started = std::time::Instant::now();
    let ms = |since: std::time::Instant| since.elapsed().as_secs_f64() * 1e3;
    // Every served model's accuracy windows, once for the three answers that show them.
    let table = kept.accuracy(state, now).await?;
    let accuracy_ms = ms(started);
    let newest = kept.newest(state, now).await?;
    let all_predictions = predictions::build(state, &table, newest, now).await?;
    let predictions_ms = ms(started) - accuracy_ms;
    let all_accuracy = accuracy::build(state, &table).await?;
    let all_models = models::build(state, &table).await?;
    let read_ms = ms(started);
    let all_performance = kept.performance(state, charts, now).await?;
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
    // The last rebuild's lists go in and the new ones come back (lost on an error: the next
    // rebuild serializes everything).
    let last = std::mem::take(&mut kept.joined);
    let (snapshot, lists) = tokio::task::spawn_blocking(move || serialize(parts, last))
        .await
        .map_err(|e| DbErr::Custom(format!("building the published answers: {e}")))??;
    kept.joined = lists;
    tracing::debug!(
        accuracy_ms,
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

/// Every answer of a snapshot, serialized once (CPU work: run off the async threads); the list
/// answers reuse what `last` serialized where nothing changed.
fn serialize(parts: Parts, last: Lists) -> Result<(Snapshot, Lists), DbErr> {
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
    let served = &parts.served;
    let predictions = Joined::new(
        last.predictions,
        served,
        &all_predictions.mode,
        "predictions",
        all_predictions.predictions.clone(),
        |x| (x.coin, x.horizon),
    )
    .map_err(serialization)?;
    let accuracy = Joined::new(
        last.accuracy,
        served,
        &parts.all_accuracy.mode,
        "rows",
        parts.all_accuracy.rows,
        |x| (x.coin, x.horizon),
    )
    .map_err(serialization)?;
    let performance = Joined::new(
        last.performance,
        served,
        &parts.all_performance.mode,
        "models",
        parts.all_performance.models,
        |x| (x.coin, x.horizon),
    )
    .map_err(serialization)?;
    let snapshot = Snapshot {
        predictions: predictions.bodies.clone(),
        all_predictions,
        performance: performance.bodies.clone(),
        accuracy: accuracy.bodies.clone(),
        models: Body::json(&parts.all_models).map_err(serialization)?,
        model_by_id,
        prices_latest: Body::json(&parts.prices_latest).map_err(serialization)?,
        sources: Body::json(&parts.sources).map_err(serialization)?,
        coins: Body::json(&parts.coins).map_err(serialization)?,
        built_at: parts.now,
        published_minute,
        generation: parts.generation,
        mode: parts.mode,
    };
    let lists = Lists {
        predictions: Some(predictions),
        accuracy: Some(accuracy),
        performance: Some(performance),
    };
    Ok((snapshot, lists))
}

/// A list answer `{"mode":..,"<field>":[..]}` (one entry per model) answered for every filter
/// (`filters`): each entry is serialized once and each filter's answer is its entries' bytes
/// joined, the bytes serde gives the filtered answer (`mode` then the list, as
/// `PredictionsResponse`, `AccuracyResponse` and `PerformanceResponse` declare them; a test holds
/// them equal). An entry equal to the last rebuild's at the same place keeps its bytes, and a
/// filter none of whose entries changed keeps its body (and ETag): the performance answer's
/// equity curves (1.8 MB for 60 models) are not serialized and hashed again for every filter
/// after every commit.
#[derive(Clone)]
struct Joined<T> {
    mode: Vec<u8>,
    entries: Vec<(T, Bytes)>,
    bodies: HashMap<Filter, Body>,
}

impl<T: serde::Serialize + PartialEq> Joined<T> {
    fn new(
        last: Option<Joined<T>>,
        served: &[Coin],
        mode: &shared::DataMode,
        field: &str,
        entries: Vec<T>,
        key: impl Fn(&T) -> (Coin, Horizon),
    ) -> Result<Joined<T>, serde_json::Error> {
        let mode = serde_json::to_vec(mode)?;
        // What was last published, where it can still be reused: the same mode and as many
        // entries.
        let last = last.filter(|l| l.mode == mode && l.entries.len() == entries.len());
        let mut changed = Vec::with_capacity(entries.len());
        let mut kept = Vec::with_capacity(entries.len());
        for (i, e) in entries.into_iter().enumerate() {
            let same = last
                .as_ref()
                .and_then(|l| l.entries.get(i))
                .filter(|(old, _)| key(old) == key(&e) && *old == e);
            let bytes = match same {
                Some((_, bytes)) => bytes.clone(),
                None => Bytes::from(serde_json::to_vec(&e)?),
            };
            changed.push(same.is_none());
            kept.push((e, bytes));
        }
        let head = [b"{\"mode\":".as_slice(), &mode, b",\"", field.as_bytes(), b"\":["].concat();
        let mut bodies = HashMap::new();
        for f in filters(served) {
            let passing = || {
                kept.iter().zip(&changed).filter(|((e, _), _)| {
                    let (coin, horizon) = key(e);
                    passes(&f, coin, horizon)
                })
            };
            let reused = last
                .as_ref()
                .filter(|_| passing().all(|(_, changed)| !changed))
                .and_then(|l| l.bodies.get(&f));
            let body = match reused {
                Some(body) => body.clone(),
                None => {
                    let mut out = head.clone();
                    for (i, ((_, bytes), _)) in passing().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        out.extend_from_slice(bytes);
                    }
                    out.extend_from_slice(b"]}");
                    Body::from_json_bytes(out)
                }
            };
            bodies.insert(f, body);
        }
        Ok(Joined {
            mode,
            entries: kept,
            bodies,
        })
    }
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

    #[test]
    fn each_filters_joined_answer_is_what_serde_gives_the_filtered_answer_and_unchanged_ones_are_kept() {
        let served = [Coin::BTC, Coin::ETH];
        let mode = shared::DataMode::Live;
        let row = |coin, horizon: Horizon, n: u32| shared::AccuracyRow {
            coin,
            horizon,
            live: vec![crate::predict::accuracy::stats(
                "24h",
                &crate::db::predictions::ScoredSums {
                    n: i64::from(n),
                    ..Default::default()
                },
            )],
            backfilled: Vec::new(),
        };
        let rows: Vec<_> = served
            .iter()
            .flat_map(|&c| [row(c, Horizon::H1, 1), row(c, Horizon::H12, 2)])
            .collect();
        let join = |last, rows: &Vec<shared::AccuracyRow>| {
            Joined::new(last, &served, &mode, "rows", rows.clone(), |r| {
                (r.coin, r.horizon)
            })
            .unwrap()
        };
        let same_as_serde = |joined: &Joined<shared::AccuracyRow>, rows: &Vec<shared::AccuracyRow>| {
            assert_eq!(joined.bodies.len(), 3 * 7);
            for (f, body) in &joined.bodies {
                let mut rows = rows.clone();
                rows.retain(|r| passes(f, r.coin, r.horizon));
                let whole = shared::AccuracyResponse {
                    mode: mode.clone(),
                    rows,
                };
                assert_eq!(body.bytes, serde_json::to_vec(&whole).unwrap(), "{f:?}");
            }
        };
        let first = join(None, &rows);
        same_as_serde(&first, &rows);
        // A filter nothing passes is an empty list.
        assert_eq!(
            &first.bodies[&(Some(Coin::ETH), Some(Horizon::M30))].bytes[..],
            br#"{"mode":{"kind":"live"},"rows":[]}"#.as_slice()
        );
        // ETH 12 h changes: the answers that hold it are made again, the others kept as they were.
        let mut changed = rows.clone();
        changed[3] = row(Coin::ETH, Horizon::H12, 5);
        let second = join(Some(first.clone()), &changed);
        same_as_serde(&second, &changed);
        for (f, body) in &second.bodies {
            let holds_it = passes(f, Coin::ETH, Horizon::H12);
            let before = &first.bodies[f];
            assert_eq!(body.etag == before.etag, !holds_it, "{f:?}");
            // Kept: the same bytes, not a copy.
            assert_eq!(body.bytes.as_ptr() == before.bytes.as_ptr(), !holds_it, "{f:?}");
        }
    }
}
