//! `AppState`: what every handler can reach. Cheap to clone (one `Arc`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use shared::DataMode;

use crate::clock::{self, Clock};
use crate::coins::Coins;
use crate::collect::replay::Replay;
use crate::collect::sources::{self, SourceSpec};
use crate::core::Core;
use crate::db::changes::Changes;
use crate::http::error::ApiError;
use crate::http::limits::StreamSlots;
use crate::http::published::{Published, Snapshot};
use crate::jobs::Job;
use crate::predict::out_of_sample;
use crate::predict::registry::Registry;

/// The second of the minute the candles (and so the predictions) arrive when the schedule cannot
/// tell (the default cron's).
pub const DEFAULT_TICK_SECOND: i64 = 5;

/// Shared state of the running server.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The fields behind [`AppState`].
pub struct Inner {
    pub db: DatabaseConnection,
    /// "Now" for every answer and cache lifetime (the process's `Core` clock).
    pub clock: Clock,
    pub started_at: DateTime<Utc>,
    /// When this process started, on the monotonic clock: `uptime_seconds` never jumps with the
    /// wall clock.
    pub started: std::time::Instant,
    /// The recording replayed instead of live candles, if any.
    pub replay: Option<Arc<Replay>>,
    /// The sources collected in this mode.
    pub sources: Vec<SourceSpec>,
    /// Whether this process runs the scheduled collectors.
    pub jobs_enabled: bool,
    /// The jobs that run in this mode (wherever they run), for `/api/health`.
    pub jobs_expected: Vec<Job>,
    /// `jobs.stall_after_s`: when a watched job this process runs counts as stalled.
    pub stall_after_s: i64,
    /// The models being served.
    pub registry: Arc<Registry>,
    /// The configured coins (`[[coins]]`); `coins.served()` is what every route's `coin` takes
    /// and lists.
    pub coins: Coins,
    /// What the read routes serve, and the event fan-out (`http::published`).
    pub published: Published,
    /// When the minute's candles are collected (`jobs.candles_cron`), after which that minute's
    /// predictions are made: how long an answer stays fresh.
    pub tick_schedule: cron::Schedule,
    /// The next tick (Unix seconds) after `next_tick_from` (both 0: not known yet): the schedule
    /// is walked once a tick, not once a request.
    next_tick: AtomicI64,
    next_tick_from: AtomicI64,
    /// The deployment's base bar size, seconds (`collect::base_s`: minutes live, the replay's bars
    /// when replaying): every read of candles reads bars of this size.
    pub base_s: i64,
    /// The open event streams and their cap (`server.max_streams`).
    pub streams: Arc<StreamSlots>,
    /// How long a stream waits without events before its keep-alive line
    /// (`server.stream_keepalive_s`).
    pub stream_keepalive: std::time::Duration,
    /// This process's end of the change channel between processes (`db::changes`): who it is
    /// when it announces, and what it hears (PostgreSQL only).
    pub changes: Changes,
    /// `/api/health`'s last database check.
    pub health: crate::http::routes::health::HealthCache,
    /// Becomes `true` when the server begins to stop: event streams end so it can.
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// State around an open [`Core`] (built once, in `Application::build`).
    pub fn new(core: &Core, tick_schedule: cron::Schedule) -> Self {
        let settings = &core.settings;
        let replay = core.replay.clone();
        let base_s = crate::collect::base_s(replay.as_deref());
        let jobs_expected = Job::ALL
            .into_iter()
            .filter(|j| j.runs(replay.is_some(), true))
            .collect();
        let coins = settings.coins.clone();
        let sources = sources::catalogue(&coins, replay.as_deref());
        AppState(Arc::new(Inner {
            db: core.db.clone(),
            clock: core.clock.clone(),
            started_at: core.clock.now_utc(),
            started: std::time::Instant::now(),
            replay,
            sources,
            jobs_enabled: settings.jobs.enabled,
            jobs_expected,
            stall_after_s: settings.jobs.stall_after_s,
            registry: core.registry.clone(),
            published: Published::new(coins.served(), base_s),
            base_s,
            coins,
            tick_schedule,
            next_tick: AtomicI64::new(0),
            next_tick_from: AtomicI64::new(0),
            streams: Arc::new(StreamSlots::new(settings.server.max_streams)),
            stream_keepalive: std::time::Duration::from_secs(settings.server.stream_keepalive_s.max(1)),
            changes: core.changes.clone(),
            health: Default::default(),
            shutdown: tokio::sync::watch::Sender::new(false),
        }))
    }

    /// Tells long-lived responses (event streams) that the server is stopping.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Follows [`AppState::begin_shutdown`].
    pub fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// The published answers, or 503 until the first build worked.
    pub fn snapshot(&self) -> Result<Arc<Snapshot>, ApiError> {
        self.published.snapshot().ok_or(ApiError::NotReady)
    }

    /// How this process learns of changes committed by others: `listen` (PostgreSQL, the
    /// listener connected), `poll` (SQLite without jobs, or the listener is down), `local`
    /// (SQLite with the jobs here: every writer is in this process).
    pub fn changes_mode(&self) -> &'static str {
        match (&self.changes.feed, self.jobs_enabled) {
            (None, true) => "local",
            _ => self.changes.mode(),
        }
    }

    /// The `Cache-Control` of an answer of `snapshot` that holds until the next prediction tick:
    /// `max-age` counts down to that tick only when the snapshot already holds this minute's
    /// tick (see [`max_age`]); until it does, the answer is about to change and gets `max-age=0`.
    pub fn cache_until_next_tick(&self, snapshot: &Snapshot) -> String {
        let now_ms = self.clock.now_ms();
        let now = now_ms.div_euclid(1000);
        let next_tick = now + self.seconds_to_next_tick(now);
        let age = max_age(now_ms, next_tick, snapshot.published_minute);
        format!("public, max-age={age}")
    }

    /// Seconds from `now` to the next prediction tick (at least 1).
    pub fn seconds_to_next_tick(&self, now: i64) -> i64 {
        let (from, known) = (
            self.next_tick_from.load(Ordering::Relaxed),
            self.next_tick.load(Ordering::Relaxed),
        );
        // The cached tick holds for any time between the one it was computed from and itself.
        if from <= now && now < known {
            return known - now;
        }
        let next = clock::to_utc(now)
            .and_then(|t| self.tick_schedule.after(&t).next())
            .map(|t| t.timestamp());
        if let Some(next) = next {
            self.next_tick_from.store(now, Ordering::Relaxed);
            self.next_tick.store(next, Ordering::Relaxed);
        }
        let fallback = (DEFAULT_TICK_SECOND - now).rem_euclid(clock::MINUTE_S);
        next.map_or(fallback, |next| next - now).max(1)
    }

    /// The mode as far as it is known without the database (the replay's shift unknown: 0).
    pub fn mode_without_db(&self) -> DataMode {
        match &self.replay {
            None => DataMode::Live,
            Some(r) => DataMode::Replay(r.info(0)),
        }
    }

    /// Whether this model's predictions here are out of sample ([`out_of_sample`]).
    pub fn out_of_sample(&self, card: &models::card::ModelCard) -> bool {
        out_of_sample(card, self.replay.as_deref())
    }

    /// Live, or which recording is replayed and with what shift.
    pub async fn mode(&self) -> Result<DataMode, sea_orm::DbErr> {
        Ok(match &self.replay {
            None => DataMode::Live,
            Some(r) => DataMode::Replay(r.info(r.stored_shift(&self.db).await?.unwrap_or(0))),
        })
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// How long (whole seconds, rounded down) an answer may be cached at `now_ms` (Unix ms), given
/// the next prediction tick (`next_tick`, Unix seconds) and the newest minute whose live
/// predictions the answer holds (`published`). The ticks fire once a minute at the same second:
/// once this minute's has fired, an answer without its predictions is already out of date (the
/// tick is committing, or its candles are late), so it gets 0; otherwise the answer holds until
/// the next tick, never past it.
pub fn max_age(now_ms: i64, next_tick: i64, published: Option<i64>) -> i64 {
    let now = now_ms.div_euclid(1000);
    let tick_second = next_tick.rem_euclid(clock::MINUTE_S);
    let minute = clock::minute_of(now);
    // The minute of the newest tick that has fired by now.
    let fired = if now - minute >= tick_second {
        minute
    } else {
        minute - clock::MINUTE_S
    };
    if published.is_none_or(|p| p < fired) {
        return 0;
    }
    (next_tick * 1000 - now_ms).div_euclid(1000).max(0)
}

#[cfg(test)]
mod tests {
    use super::max_age;

    const M: i64 = 1_700_000_040; // a minute boundary
    const MS: i64 = 1000;

    #[test]
    fn an_answer_is_cached_until_the_next_tick_only_once_it_holds_the_last_one() {
        // Second 30 of minute M: the tick at M + 5 has fired and was published.
        assert_eq!(max_age((M + 30) * MS, M + 65, Some(M)), 35);
        // Its predictions are not published yet (the second after the tick): not cacheable.
        assert_eq!(max_age((M + 5) * MS + 200, M + 65, Some(M - 60)), 0);
        assert_eq!(max_age((M + 30) * MS, M + 65, None), 0);
        // Before this minute's tick, the previous minute's answer holds until the tick.
        assert_eq!(max_age((M + 2) * MS, M + 5, Some(M - 60)), 3);
        // Rounded down, never up: 10 ms before the tick is 0 s, not 1.
        assert_eq!(max_age((M + 5) * MS - 10, M + 5, Some(M - 60)), 0);
        assert_eq!(max_age((M + 4) * MS + 500, M + 5, Some(M - 60)), 0);
        // Just after the tick was published: a whole minute less the moments gone.
        assert_eq!(max_age((M + 5) * MS + 300, M + 65, Some(M)), 59);
    }
}
