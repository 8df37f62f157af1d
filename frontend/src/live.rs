//! The app's link to the server: one event stream for the whole app, the API's health and the
//! sources' state polled, the banner shown while the API is unreachable, and the status strip.
//!
//! Sections read [`Live`]'s counters inside their resources, so a pushed event, or the API
//! coming back after an outage, refetches exactly what it concerns.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use shared::{Coin, CoinsResponse, DataMode, HealthResponse, HealthStatus, SourceState, SourcesResponse};

use crate::{api, format};

/// How often the health and the sources are read while the API answers, and while it does not.
const POLL_OK_SECS: u32 = 15;
const POLL_DOWN_SECS: u32 = 3;

/// What every section can read about the server; provided once by `App`.
#[derive(Clone, Copy)]
pub struct Live {
    /// Bumped on each `prediction` event of the stream.
    pub predictions: RwSignal<u32>,
    /// Bumped on each `score` event.
    pub scores: RwSignal<u32>,
    /// Bumped on each `price` event.
    pub prices: RwSignal<u32>,
    /// Bumped when the API answers again after it was unreachable: every section refetches.
    pub reconnected: RwSignal<u32>,
    /// `Some(why)` while the API is unreachable.
    pub down: RwSignal<Option<String>>,
    /// When the page last heard from the API (an event or a status answer).
    pub last_update: RwSignal<Option<DateTime<Utc>>>,
    /// The coins the server serves (`GET /api/coins`), once it has answered.
    pub coins: RwSignal<Option<CoinsResponse>>,
    health: RwSignal<Option<HealthResponse>>,
    sources: RwSignal<Option<SourcesResponse>>,
    /// Bumped to read the status now.
    check: RwSignal<u32>,
}

impl Live {
    /// A coin's name as the server configures it (its known name, or its ticker, until the
    /// server has said).
    pub fn coin_name(&self, coin: Coin) -> String {
        self.coins
            .with_untracked(|c| c.as_ref().and_then(|c| c.get(coin)).map(|i| i.name.clone()))
            .unwrap_or_else(|| coin.label())
    }

    /// The server's finest candles, seconds (60, or 300 while it replays 5-minute candles): the
    /// charts offer no finer resolution. Tracked: the charts follow the health answer.
    pub fn finest_s(&self) -> i64 {
        self.health.with(|h| match h.as_ref().map(|h| &h.mode) {
            Some(DataMode::Replay(r)) => i64::from(r.bar_seconds),
            _ => 60,
        })
    }

    /// A coin's page path (`/Bitcoin`), named as the server configures it.
    pub fn coin_path(&self, coin: Coin) -> String {
        shared::page_path(&self.coin_name(coin))
    }

    /// Creates the signals, opens the event stream, starts polling, and provides the context.
    pub fn provide() -> Live {
        let live = Live {
            predictions: RwSignal::new(0),
            scores: RwSignal::new(0),
            prices: RwSignal::new(0),
            reconnected: RwSignal::new(0),
            down: RwSignal::new(None),
            last_update: RwSignal::new(None),
            coins: RwSignal::new(None),
            health: RwSignal::new(None),
            sources: RwSignal::new(None),
            check: RwSignal::new(0),
        };
        provide_context(live);

        let status = LocalResource::new(move || {
            live.check.track();
            // The coins are read until the server has answered them once.
            let known = live.coins.get_untracked().is_some();
            async move {
                let coins = if known { None } else { api::coins().await.ok() };
                (api::health().await, api::sources().await, coins)
            }
        });
        Effect::new(move |_| {
            let Some((health, sources, coins)) = status.get() else {
                return;
            };
            if coins.is_some() {
                live.coins.set(coins);
            }
            match health {
                Ok(h) => {
                    if live.down.get_untracked().is_some() {
                        live.down.set(None);
                        live.reconnected.update(|n| *n += 1);
                    }
                    live.health.set(Some(h));
                    live.last_update.set(Some(Utc::now()));
                }
                Err(api::ApiClientError::Unreachable(e)) => live.down.set(Some(e)),
                Err(e) => live.down.set(Some(e.to_string())),
            }
            if let Ok(s) = sources {
                live.sources.set(Some(s));
            }
        });

        // Poll: every POLL_OK_SECS while the API answers, every POLL_DOWN_SECS while it does not.
        let seconds = StoredValue::new(0u32);
        let handle = set_interval_with_handle(
            move || {
                let elapsed = seconds.get_value() + 1;
                let period = if live.down.get_untracked().is_some() {
                    POLL_DOWN_SECS
                } else {
                    POLL_OK_SECS
                };
                if elapsed >= period {
                    seconds.set_value(0);
                    live.retry();
                } else {
                    seconds.set_value(elapsed);
                }
            },
            std::time::Duration::from_secs(1),
        );

        let stream = StoredValue::new_local(api::subscribe(move |kind| {
            match kind {
                "prediction" => live.predictions.update(|n| *n += 1),
                "score" => live.scores.update(|n| *n += 1),
                "price" => live.prices.update(|n| *n += 1),
                // Events were not replayed (a resume from far back, or after the server's events
                // were reset): everything the page shows is read again.
                "skipped" | "reset" => {
                    live.predictions.update(|n| *n += 1);
                    live.scores.update(|n| *n += 1);
                    live.prices.update(|n| *n += 1);
                }
                // The stream dropped (the server stopped?) or came back: read the status now.
                _ => {
                    live.retry();
                    return;
                }
            }
            live.last_update.set(Some(Utc::now()));
        }));
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
            stream.update_value(|s| *s = None);
        });
        live
    }

    /// The app's `Live` (provided by `App`).
    pub fn get() -> Live {
        expect_context::<Live>()
    }

    /// Reads the API's status now (the banner's button, a dropped stream).
    pub fn retry(&self) {
        self.check.update(|n| *n += 1);
    }

    /// Tracks every change that should refetch a section showing predictions or scores.
    pub fn track_predictions(&self) {
        self.predictions.track();
        self.scores.track();
        self.reconnected.track();
    }
}

/// Shown over every page while the API is unreachable; gone when it answers again.
#[component]
pub fn ApiDownBanner() -> impl IntoView {
    let live = Live::get();
    move || {
        live.down.get().map(|why| {
            view! {
                <div class="error-banner api-down" role="alert" data-testid="api-down">
                    <strong>"The coincast API is unreachable"</strong>
                    " (" {why} "). What is on the page was loaded before; it reloads by itself when the API \
                     answers again (checking every " {POLL_DOWN_SECS} " s)."
                    <button type="button" on:click=move |_| live.retry()>"Retry now"</button>
                </div>
            }
        })
    }
}

/// The status strip: the API's health, each data source's state, the replay notice and the time
/// the page last heard from the server.
#[component]
pub fn StatusStrip() -> impl IntoView {
    let live = Live::get();
    let health_line = move || {
        if let Some(why) = live.down.get() {
            return view! { <span class="health error" data-testid="health">"API unreachable: " {why}</span> }.into_any();
        }
        let Some(h) = live.health.get() else {
            return view! { <span class="muted" data-testid="health-loading">"Checking the API…"</span> }
                .into_any();
        };
        let db = format!(
            "{} database {}",
            h.database.backend,
            if h.database.reachable {
                "reachable"
            } else {
                "unreachable"
            }
        );
        let class = match h.status {
            HealthStatus::Ok => "health ok",
            HealthStatus::Degraded => "health degraded",
        };
        view! {
            <span class=class data-testid="health">
                "API v" {h.version} " · " {db} " · up " {format::duration(h.uptime_seconds)}
            </span>
        }
        .into_any()
    };
    let mode = move || {
        live.health.get().map(|h| {
            let replaying = matches!(h.mode, DataMode::Replay(_));
            let text = match &h.mode {
                DataMode::Live => "live data".to_owned(),
                DataMode::Replay(r) => format!(
                    "replaying recorded history ({}, {} to {}), not today's market",
                    r.dataset,
                    r.recorded_from.format("%Y-%m-%d"),
                    r.recorded_to.format("%Y-%m-%d"),
                ),
            };
            view! { <span class="mode" class:replay=replaying data-testid="data-mode">{text}</span> }
        })
    };
    let sources = move || {
        live.sources.get().map(|s| {
            let items = s
                .sources
                .into_iter()
                .map(|src| {
                    let (class, word) = format::source_state(src.state);
                    let mut title = format!("{}: {word}", src.description);
                    if let Some(age) = src.data_age_seconds {
                        title.push_str(&format!(
                            ", newest data {} old",
                            format::duration(age.max(0) as u64)
                        ));
                    }
                    if src.state == SourceState::Failing
                        && let Some(e) = &src.last_error
                    {
                        title.push_str(&format!(", {} failures in a row: {e}", src.consecutive_failures));
                    }
                    let (id, name) = (src.source.clone(), src.source);
                    let said = title.clone();
                    view! {
                        <li class=format!("source {class}") title=title data-source=id>
                            <span class="visually-hidden">{said}</span>
                            <span aria-hidden="true">{name}</span>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <ul class="sources" aria-label="Data sources" data-testid="sources">{items}</ul>
            }
        })
    };
    let updated = move || {
        live.last_update.get().map(|t| {
            view! { <span class="updated muted" data-testid="last-update">"updated " {t.format("%H:%M:%S UTC").to_string()}</span> }
        })
    };
    view! {
        <footer class="status" data-testid="status">
            <div class="status-line">
                {health_line}
                {mode}
                {updated}
                <a class="docs-link" href="/docs/" rel="external">"API docs"</a>
            </div>
            {sources}
        </footer>
    }
}

/// A resource's value as sections show it: the newest answer, except that a failed re-read keeps
/// the last good answer on the page (the banner says the API is unreachable) rather than
/// replacing a section by an error. `None` until the first answer.
pub fn steady<T>(
    resource: LocalResource<Result<T, api::ApiClientError>>,
) -> impl Fn() -> Option<Result<T, api::ApiClientError>> + Copy + 'static
where
    T: Clone + Send + Sync + 'static,
{
    let good = RwSignal::new(None::<T>);
    Effect::new(move |_| {
        if let Some(Ok(v)) = resource.get() {
            good.set(Some(v));
        }
    });
    move || match resource.get()? {
        Ok(v) => Some(Ok(v)),
        Err(e) => Some(good.get_untracked().map(Ok).unwrap_or(Err(e))),
    }
}
