//! The database: opening it and applying migrations here, the entities and every query in the
//! modules below (one per table, named for what they hold).
//!
//! The embedded default is a SQLite file `<data_dir>/coincast.db` in WAL mode (readers never wait
//! for the writer); `database.url` points at PostgreSQL for several API and worker processes.

pub mod candles;
pub mod changes;
pub mod entities;
pub mod events;
pub mod meta;
pub mod predictions;
pub mod series;
pub mod status;
pub mod versions;

use std::time::Duration;

use anyhow::Context;
use backon::Retryable;
use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

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
        .with_max_delay(crate::retry::MAX_BACKOFF)
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

/// The PostgreSQL advisory lock held while migrations run ("coincast" in ASCII): processes
/// starting together (a worker and API processes, `coincast migrate`) apply them one at a time,
/// the later ones finding nothing left to do.
pub const MIGRATION_LOCK: i64 = 0x636f_696e_6361_7374;

/// Applies pending migrations; returns how many are applied in all. On PostgreSQL under
/// [`MIGRATION_LOCK`], held by one pooled connection for the whole run (a process that dies
/// releases it with its session); SQLite's single writer needs no lock.
pub async fn migrate(conn: &DatabaseConnection) -> anyhow::Result<usize> {
    if conn.get_database_backend() == DbBackend::Postgres {
        use sea_orm::sqlx;
        let mut session = conn
            .get_postgres_connection_pool()
            .acquire()
            .await
            .context("a connection for the migration lock")?;
        let waited = std::time::Instant::now();
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *session)
            .await
            .context("taking the migration lock")?;
        tracing::debug!(
            waited_ms = waited.elapsed().as_millis() as u64,
            "migration lock taken"
        );
        let result = Migrator::up(conn, None).await.context("applying migrations");
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *session)
            .await;
        if let Err(e) = unlocked {
            // The lock goes with the session: close it rather than return it to the pool.
            tracing::warn!(error = %e, "could not release the migration lock; closing its connection");
            drop(session.detach());
        }
        result?;
    } else {
        Migrator::up(conn, None).await.context("applying migrations")?;
    }
    applied_migrations(conn).await
}

/// How a starting `serve` or `worker` treats the schema (`database.migrate_on_start`): apply what
/// is pending (under the lock), or refuse to start on a database `coincast migrate` has not
/// brought up to date, naming what is missing.
pub async fn prepare(conn: &DatabaseConnection, migrate_on_start: bool) -> anyhow::Result<usize> {
    if migrate_on_start {
        return migrate(conn).await;
    }
    let pending = Migrator::get_pending_migrations_read_only(conn)
        .await
        .context("reading migrations")?;
    if !pending.is_empty() {
        let names: Vec<&str> = pending.iter().map(|m| m.name()).collect();
        anyhow::bail!(
            "the database is not migrated: {} migration(s) pending ({}); run `coincast migrate` \
             first (database.migrate_on_start is off)",
            names.len(),
            names.join(", ")
        );
    }
    applied_migrations(conn).await
}

/// How many migrations the database has applied (read only: no `CREATE TABLE` of the migration
/// table, which processes asking at once on PostgreSQL would race on).
pub async fn applied_migrations(conn: &DatabaseConnection) -> anyhow::Result<usize> {
    Ok(Migrator::get_applied_migrations_read_only(conn)
        .await
        .context("reading migrations")?
        .len())
}

/// The PostgreSQL advisory lock a writer of `predictions` holds until it commits (see
/// [`serialized`]).
const PREDICTION_WRITES: i64 = 0x636f_696e_0000_0001;

/// Runs `write` in a transaction that, on PostgreSQL, first takes a transaction-scoped advisory
/// lock, so writers of predictions and events (inserts, scoring, price events, from any process)
/// commit one after the other, in the order they took their ids and score times. The event stream reads rows after a
/// cursor (`id > n`, `(scored_at, id) > (t, n)`): with two writers committing out of order it
/// would pass over the earlier one's rows for good. SQLite has one writer at a time anyway.
pub async fn serialized<T, F>(
    db: &impl TransactionTrait<Transaction = DatabaseTransaction>,
    write: F,
) -> Result<T, DbErr>
where
    T: Send,
    F: for<'c> FnOnce(&'c DatabaseTransaction) -> futures_util::future::BoxFuture<'c, Result<T, DbErr>>
        + Send,
{
    let txn = begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PREDICTION_WRITES})"))
            .await?;
    }
    let out = write(&txn).await?;
    txn.commit().await?;
    Ok(out)
}

/// Begins a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken
/// at once, waiting up to [`SQLITE_BUSY_TIMEOUT`] for another writer. A plain (deferred)
/// transaction that reads before it writes fails *at once* with "database is locked" whenever
/// another writer committed in between (SQLite cannot upgrade a stale read snapshot, and the busy
/// timeout does not apply): that is how price events were lost while an import or scoring wrote.
/// Every writer's transaction starts here. PostgreSQL ignores the mode.
pub async fn begin_write(
    db: &impl TransactionTrait<Transaction = DatabaseTransaction>,
) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
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
