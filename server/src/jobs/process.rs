//! `coincast worker`: the jobs without the HTTP API, the one job process of a scaled-out setup
//! (API processes run `serve --no-jobs` on the same PostgreSQL database and hear this one's
//! commits through `db::changes`). Health for probes goes to a file (`worker.health_file`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use serde::Serialize;

use crate::clock;
use crate::collect::replay::Replay;
use crate::collect::run::Collectors;
use crate::config::Settings;
use crate::db;
use crate::db::changes::{self, Change, Feed, Origin};
use crate::jobs::{self, Job, Notify, Runner};
use crate::predict::registry::{Registry, reload_logged};

/// The jobs' hook in a process that publishes nothing itself: tells the other processes
/// (PostgreSQL `NOTIFY`) after every run.
pub struct Announcer {
    pub db: DatabaseConnection,
    pub origin: Origin,
}

impl Notify for Announcer {
    fn changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Err(e) = changes::announce(&self.db, &self.origin, Change::Data).await {
                tracing::warn!(error = %e, "could not announce a change to the other processes");
            }
        })
    }

    fn models_changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Err(e) = changes::announce(&self.db, &self.origin, Change::Models).await {
                tracing::warn!(error = %e, "could not announce the promoted models");
            }
        })
    }
}

/// What the health file says.
#[derive(Debug, Serialize)]
struct WorkerHealth {
    /// `ok`, or `degraded` when the database does not answer or a watched job has stalled (the
    /// API's `HealthStatus`, serialized the same way).
    status: shared::HealthStatus,
    at: i64,
    pid: u32,
    database_reachable: bool,
    /// How this process hears other processes' changes: `listen` or `poll`.
    changes: &'static str,
    jobs: Vec<shared::JobHealth>,
}

/// Runs the jobs until SIGINT or SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let conn = db::connect(&settings).await?;
    let applied = db::prepare(&conn, settings.database.migrate_on_start).await?;
    tracing::info!(applied, backend = db::backend_name(&conn), "database ready");
    let replay = Replay::from_settings(&settings.replay)?.map(Arc::new);
    let registry = Arc::new(
        Registry::load_serving(&settings.models.dir, settings.coins.served())
            .with_context(|| format!("loading the models in {}", settings.models.dir.display()))?,
    );
    reload_logged(&conn, &registry, "start: the promoted versions").await;
    settings.coins.check_models(&registry.served())?;
    tracing::info!(models = registry.all().len(), dir = %settings.models.dir.display(), "models loaded");
    let origin = Origin::new();
    let feed = match (&settings.database.url, conn.get_database_backend()) {
        (Some(url), DbBackend::Postgres) => Some(Feed::listen(url.clone(), origin.clone())),
        _ => None,
    };
    let expected: Vec<Job> = Job::ALL
        .into_iter()
        .filter(|j| j.runs(replay.is_some(), true))
        .collect();
    let runner = Arc::new(Runner {
        collectors: Collectors::new(conn.clone(), settings.upstream.clone(), replay)?
            .with_coins(settings.coins.clone()),
        registry: Some(registry.clone()),
        notify: Some(Arc::new(Announcer {
            db: conn.clone(),
            origin: origin.clone(),
        })),
        retention: settings.retention.clone(),
        predicted: Default::default(),
        minutes: Default::default(),
        retrain: settings.retrain.clone(),
        store_dir: settings.model_store_dir(),
    });
    let _workers = jobs::start(runner, &settings.jobs, settings.models.backfill_hours).await?;
    let mut tasks = vec![tokio::spawn(crate::memory::trim_periodically(
        crate::memory::TRIM_EVERY,
    ))];
    if let Some((feed, _)) = &feed {
        tasks.push(tokio::spawn(reload_when_announced(
            feed.clone(),
            conn.clone(),
            registry.clone(),
        )));
    }
    #[cfg(unix)]
    tasks.push(tokio::spawn(reload_on_hangup(
        registry.clone(),
        conn.clone(),
        origin.clone(),
    )?));
    if let Some(path) = settings.worker.health_file.clone() {
        let every = Duration::from_secs(settings.worker.health_every_s.max(1));
        let listening = feed.as_ref().map(|(f, _)| f.clone());
        let (db, stall_after_s) = (conn.clone(), settings.jobs.stall_after_s);
        let since = clock::now();
        tasks.push(tokio::spawn(async move {
            loop {
                let report = health(&db, &expected, stall_after_s, since, listening.as_ref()).await;
                // File work off the async threads.
                let file = path.clone();
                let written = tokio::task::spawn_blocking(move || write_atomically(&file, &report))
                    .await
                    .map_err(anyhow::Error::from)
                    .and_then(|r| r);
                if let Err(e) = written {
                    tracing::warn!(file = %path.display(), error = %format!("{e:#}"), "could not write the health file");
                }
                tokio::time::sleep(every).await;
            }
        }));
    }
    tracing::info!("worker running (no HTTP listener)");
    stop_signal().await;
    for t in tasks {
        t.abort();
    }
    if let Some((_, listener)) = feed {
        listener.abort();
    }
    Ok(())
}

async fn health(
    db: &DatabaseConnection,
    expected: &[Job],
    stall_after_s: i64,
    since: i64,
    feed: Option<&Feed>,
) -> WorkerHealth {
    let now = clock::now();
    let reachable = db.execute_unprepared("SELECT 1").await.is_ok();
    let jobs = match jobs::health(db, expected, true, stall_after_s, since, now).await {
        Ok(jobs) => Some(jobs),
        Err(e) => {
            tracing::warn!(error = %e, "worker health: could not read the jobs");
            None
        }
    };
    let ok = reachable && jobs.as_ref().is_some_and(|j| j.iter().all(|j| !j.stalled));
    WorkerHealth {
        status: if ok {
            shared::HealthStatus::Ok
        } else {
            shared::HealthStatus::Degraded
        },
        at: now,
        pid: std::process::id(),
        database_reachable: reachable,
        changes: match feed {
            Some(f) if f.is_listening() => "listen",
            _ => "poll",
        },
        jobs: jobs.unwrap_or_default(),
    }
}

/// Writes the file whole or not at all (a probe never reads half of it).
fn write_atomically(path: &Path, health: &WorkerHealth) -> anyhow::Result<()> {
    let mut tmp = PathBuf::from(path);
    tmp.as_mut_os_string().push(".tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(health)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

/// Reloads the models when another process announces a reload.
async fn reload_when_announced(feed: Feed, db: DatabaseConnection, registry: Arc<Registry>) {
    let mut heard = feed.subscribe();
    loop {
        let change = heard.recv().await;
        if matches!(change, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
            return;
        }
        // A reload announced, or one that may have been missed (reconnected, fell behind).
        if Change::may_change_models(&change) {
            reload_logged(&db, &registry, "announced by another process, or maybe missed").await;
        }
    }
}

/// `kill -HUP <pid>` reloads the models here and tells the other processes to.
#[cfg(unix)]
fn reload_on_hangup(
    registry: Arc<Registry>,
    db: DatabaseConnection,
    origin: Origin,
) -> anyhow::Result<impl std::future::Future<Output = ()>> {
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("listening for SIGHUP")?;
    Ok(async move {
        while hangups.recv().await.is_some() {
            if reload_logged(&db, &registry, "SIGHUP").await
                && let Err(e) = changes::announce(&db, &origin, Change::Models).await
            {
                tracing::warn!(error = %e, "could not announce the model reload");
            }
        }
    })
}

/// Resolves on SIGINT or SIGTERM (the worker's stop, and the HTTP server's first step of one).
pub async fn stop_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT: stopping"),
        () = terminate => tracing::info!("SIGTERM: stopping"),
    }
}
