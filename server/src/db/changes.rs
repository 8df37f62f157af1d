//! Changes across processes. On PostgreSQL a writer announces a commit with `NOTIFY` on
//! [`CHANNEL`] and every process `LISTEN`s ([`Feed::listen`], sqlx's `PgListener`) to refresh
//! what it publishes (or reload its models) at once; SQLite has no such channel, and a process
//! without jobs there polls (`http::published`).
//!
//! The payload is a small JSON object: which [`Change`], and from which process instance
//! ([`Origin`]), so a process skips what it announced itself (it has acted already).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// The `LISTEN`/`NOTIFY` channel.
pub const CHANNEL: &str = "coincast_changes";
/// The longest wait between two attempts to (re)connect the listener.
const MAX_RECONNECT: Duration = Duration::from_secs(30);
/// Changes a slow consumer may fall behind by before it is told it lagged (then it refreshes
/// anyway: one refresh covers any number of changes).
const FEED_BUFFER: usize = 64;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Stored data: predictions, scores, prices, series, status rows (a job run committed).
    Data,
    /// The model files were reloaded (SIGHUP or a promotion): every process reloads its own.
    Models,
    /// The listener was (re)connected: changes made while it was away were not heard, so
    /// everything is refreshed once.
    Resync,
}

impl Change {
    /// Whether what a subscriber heard means the running models may have changed: a reload
    /// announced, or something missed that may have been one (the listener reconnected:
    /// [`Change::Resync`]; the subscriber fell behind its channel: `Lagged`). A promotion
    /// announced while the listener was away is then loaded all the same.
    pub fn may_change_models(heard: &Result<Change, broadcast::error::RecvError>) -> bool {
        matches!(
            heard,
            Ok(Change::Models | Change::Resync) | Err(broadcast::error::RecvError::Lagged(_))
        )
    }
}

/// One process instance (several `Application`s can share a process in tests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin(String);

impl Origin {
    /// A fresh, unique one: the process id, a random number (the standard library's randomly
    /// keyed hasher: no clock read) and a count within the process.
    pub fn new() -> Origin {
        use std::hash::{BuildHasher, Hasher};
        static MADE: AtomicU64 = AtomicU64::new(0);
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Origin(format!(
            "{}-{random:x}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed)
        ))
    }
}

impl Default for Origin {
    fn default() -> Self {
        Origin::new()
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    change: Change,
    from: Origin,
}

/// Tells the other processes that `change` has committed (PostgreSQL `NOTIFY`; nothing on
/// SQLite, where the writer's own process refreshes in-process and others poll). Call it after
/// the commit: a notification is delivered when the transaction that sends it commits, and this
/// runs in its own.
pub async fn announce(db: &DatabaseConnection, origin: &Origin, change: Change) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let payload = serde_json::to_string(&Payload {
        change,
        from: origin.clone(),
    })
    .map_err(|e| DbErr::Custom(format!("encoding a change: {e}")))?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

/// One process instance's end of the channel: who it is when it announces, and (on PostgreSQL)
/// what it hears.
#[derive(Clone, Default)]
pub struct Changes {
    pub origin: Origin,
    pub feed: Option<Feed>,
}

impl Changes {
    /// How this process learns of other processes' changes, for logs and `/api/health`:
    /// `listen` (PostgreSQL, connected), `poll` (SQLite, or the listener is down).
    pub fn mode(&self) -> &'static str {
        match &self.feed {
            Some(f) if f.is_listening() => "listen",
            _ => "poll",
        }
    }
}

/// The changes other processes announce, as this process hears them.
#[derive(Clone)]
pub struct Feed {
    changes: broadcast::Sender<Change>,
    listening: Arc<AtomicBool>,
}

impl Feed {
    /// Listens on [`CHANNEL`] of the PostgreSQL database at `url` on a connection of its own
    /// (not one of the pool's), skipping what `origin` announced. The listener reconnects by
    /// itself (backoff up to 30 s), logs each loss, and sends [`Change::Resync`] after each
    /// (re)connection. Ends with the returned task.
    pub fn listen(url: String, origin: Origin) -> (Feed, tokio::task::JoinHandle<()>) {
        let feed = Feed {
            changes: broadcast::channel(FEED_BUFFER).0,
            listening: Arc::new(AtomicBool::new(false)),
        };
        let task = tokio::spawn(feed.clone().run(url, origin));
        (feed, task)
    }

    /// A receiver of the changes heard from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Whether the listener is connected (else changes are only seen by polling).
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    async fn run(self, url: String, origin: Origin) {
        let shown = crate::config::redact_url(&url);
        let mut wait = Duration::from_millis(500);
        loop {
            let mut listener = match connect(&url).await {
                Ok(l) => l,
                Err(e) => {
                    if self.listening.swap(false, Ordering::Relaxed) {
                        tracing::warn!(url = %shown, error = %e, "change listener: lost; polling until it is back");
                    } else {
                        tracing::warn!(url = %shown, error = %e, retry_in_ms = wait.as_millis() as u64,
                            "change listener: cannot connect; polling until it can");
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(MAX_RECONNECT);
                    continue;
                }
            };
            wait = Duration::from_millis(500);
            self.listening.store(true, Ordering::Relaxed);
            tracing::info!(url = %shown, channel = CHANNEL, "change listener: listening");
            let _ = self.changes.send(Change::Resync);
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => match serde_json::from_str::<Payload>(n.payload()) {
                        Ok(p) if p.from == origin => {}
                        Ok(p) => {
                            tracing::debug!(change = ?p.change, from = ?p.from, "change heard");
                            let _ = self.changes.send(p.change);
                        }
                        Err(e) => {
                            tracing::warn!(payload = n.payload(), error = %e, "change listener: unknown payload")
                        }
                    },
                    // The connection dropped and was made again: what was said meanwhile is lost.
                    Ok(None) => {
                        tracing::warn!(
                            "change listener: connection lost and made again; refreshing everything"
                        );
                        let _ = self.changes.send(Change::Resync);
                    }
                    Err(e) => {
                        self.listening.store(false, Ordering::Relaxed);
                        tracing::warn!(error = %e, "change listener: lost; polling until it is back");
                        break;
                    }
                }
            }
        }
    }
}

async fn connect(url: &str) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_or_anything_missed_may_change_the_models() {
        use broadcast::error::RecvError;
        assert!(Change::may_change_models(&Ok(Change::Models)));
        assert!(Change::may_change_models(&Ok(Change::Resync)));
        assert!(Change::may_change_models(&Err(RecvError::Lagged(3))));
        assert!(!Change::may_change_models(&Ok(Change::Data)));
        assert!(!Change::may_change_models(&Err(RecvError::Closed)));
    }
}
