//! The database: opening it and applying migrations here, the entities and every query in the
//! modules below (one per table, named for what they hold).
//!
//! The embedded default is a SQLite file `<data_dir>/coincast.db` in WAL mode (readers never wait
//! for the writer); `database.url` points at PostgreSQL for several API and worker processes.

pub mod candles;
pub mod entities;
pub mod meta;
pub mod predictions;
pub mod series;
pub mod status;

use anyhow::Context;
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
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(settings.database.max_connections)
        .min_connections(1)
        .sqlx_logging(false)
        // A pragma run once would reach one pooled connection only: set it on each.
        .map_sqlx_sqlite_opts(|o| o.busy_timeout(SQLITE_BUSY_TIMEOUT));
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
