//! The database: opening it and applying migrations here, the entities and every query in the
//! modules below (one per table, named for what they hold).
//!
//! The embedded default is a SQLite file `<data_dir>/coincast.db` in WAL mode (readers never wait
//! for the writer); `database.url` points at PostgreSQL for several API and worker processes.

pub mod candles;
pub mod entities;
pub mod events;
pub mod meta;
pub mod predictions;
pub mod series;
pub mod status;

use std::time::Duration;

use anyhow::Context;
use backon::Retryable;
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

use crate::config::Settings;

/// The name of the embedded database file inside the data directory.
pub const SQLITE_FILE: &str = "coincast.db";

/// How long a SQLite writer waits for another writer's lock before failing, on every pooled
/// connection. The longest write holds the lock well under a second (an import commits
/// [`crate::commands::import::TXN_ROWS`] rows at a time; a collection a page of candles); this
/// leaves room for a slow disk without letting a stuck writer hang a job for long.
pub const SQLITE_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Connects to the configured database, creating the data directory and SQLite file on first run.
///
/// A database that does not answer yet (a container starting beside this one) is retried
/// `database.connect_retries` times with a doubling backoff from `database.connect_backoff_ms`
/// (at most a minute apart), one log line per failed attempt; then the error is returned and the
/// process exits non-zero.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let url = match &settings.database.url {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(&settings.data_dir)
                .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
            let path = settings.data_dir.join(SQLITE_FILE);
            format!("sqlite://{}?mode=rwc", path.display())
        }
    };
    let shown = crate::config::redact_url(&url);
    let db = &settings.database;
    let attempts = db.connect_retries.saturating_add(1);
    let started = std::time::Instant::now();
    let mut attempt = 0usize;
    let policy = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(db.connect_backoff_ms.max(1)))
        .with_max_delay(crate::jobs::retry::MAX_BACKOFF)
        .with_max_times(db.connect_retries);
    let conn = (|| {
        attempt += 1;
        connect_once(&url, settings)
    })
    .retry(policy)
    .notify(|e: &anyhow::Error, wait: Duration| {
        tracing::warn!(
            url = %shown,
            attempts,
            retry_in_ms = wait.as_millis() as u64,
            error = format!("{e:#}"),
            "the database does not answer yet; retrying"
        );
    })
    .await
    .with_context(|| {
        format!(
            "the database at {shown} did not answer after {attempts} attempt(s) over {} s \
             (database.connect_retries = {})",
            started.elapsed().as_secs(),
            db.connect_retries
        )
    })?;
    if attempt > 1 {
        tracing::info!(url = %shown, attempts = attempt, "connected to the database");
    }
    Ok(conn)
}

/// One connection attempt (the pool and its first connection), with the pool's timeouts set so
/// that a query fails fast (503) while the database is down and the pool reconnects by itself
/// when it is back.
async fn connect_once(url: &str, settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let acquire = Duration::from_millis(settings.database.acquire_timeout_ms.max(1));
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(settings.database.max_connections)
        .min_connections(1)
        .connect_timeout(acquire)
        .acquire_timeout(acquire)
        // A connection that died with the server is noticed (and replaced) before a query uses it.
        .test_before_acquire(true)
        .sqlx_logging(false)
        // A pragma run once would reach one pooled connection only: set it on each.
        .map_sqlx_sqlite_opts(|o| {
            // In WAL mode, NORMAL syncs at checkpoints rather than at every commit (SQLite's
            // advice for WAL): a crash of the process loses nothing; a power cut can lose the
            // last commits, never consistency.
            o.busy_timeout(SQLITE_BUSY_TIMEOUT)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
        });
    let conn = Database::connect(options)
        .await
        .context("connecting to the database")?;
    if conn.get_database_backend() == DbBackend::Sqlite {
        // WAL is a property of the file (readers never wait for the writer).
        let pragma = "PRAGMA journal_mode = WAL";
        conn.execute_unprepared(pragma)
            .await
            .with_context(|| format!("setting {pragma}"))?;
    }
    Ok(conn)
}

/// Connects and applies pending migrations (what the one-shot commands need).
pub async fn open(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let conn = connect(settings).await?;
    migrate(&conn).await?;
    Ok(conn)
}

/// Applies pending migrations; returns how many are applied in all.
pub async fn migrate(conn: &DatabaseConnection) -> anyhow::Result<usize> {
    Migrator::up(conn, None).await.context("applying migrations")?;
    applied_migrations(conn).await
}

/// How many migrations the database has applied.
pub async fn applied_migrations(conn: &DatabaseConnection) -> anyhow::Result<usize> {
    Ok(Migrator::get_applied_migrations(conn)
        .await
        .context("reading migrations")?
        .len())
}

/// A short name of the backend for health output.
pub fn backend_name(conn: &DatabaseConnection) -> &'static str {
    match conn.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}

/// SQLite's journal mode (`wal`), for checks; `None` on other backends.
pub async fn sqlite_journal_mode(conn: &DatabaseConnection) -> anyhow::Result<Option<String>> {
    if conn.get_database_backend() != DbBackend::Sqlite {
        return Ok(None);
    }
    let row = conn
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA journal_mode"))
        .await?
        .context("PRAGMA journal_mode returned no row")?;
    Ok(Some(row.try_get_by_index::<String>(0)?))
}
