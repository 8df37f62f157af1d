//! `coincast worker`: the jobs without the HTTP API, the one job process of a scaled-out setup
//! (API processes run `serve --no-jobs` on the same PostgreSQL database and hear this one's
//! commits through `db::changes`). Health for probes goes to a file (`worker.health_file`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;

use crate::clock::Clock;
use crate::config::Settings;
use crate::core::{Core, stop_signal};
use crate::db::changes::{self, Change, Feed, Origin};
use crate::jobs::{self, Job, Notify};
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
    let mut core = Core::open(settings, Clock::system()).await?; // clock: the process's own
    let notify = Arc::new(Announcer {
        db: core.db.clone(),
        origin: core.changes.origin.clone(),
    });
    let runner = Arc::new(core.runner(notify)?);
    let _workers = jobs::start(runner, &core.settings.jobs, core.settings.models.backfill_hours).await?;
    if let Some(feed) = core.changes.feed.clone() {
        let task = reload_when_announced(feed, core.db.clone(), core.registry.clone());
        core.supervise(tokio::spawn(task));
    }
    #[cfg(unix)]
    {
        // A reload here is told to every other process on the same database.
        let (db, origin) = (core.db.clone(), core.changes.origin.clone());
        core.reload_on_hangup(move || {
            let (db, origin) = (db.clone(), origin.clone());
            async move {
                if let Err(e) = changes::announce(&db, &origin, Change::Models).await {
                    tracing::warn!(error = %e, "could not announce the model reload");
                }
            }
        })?;
    }
    if let Some(path) = core.settings.worker.health_file.clone() {
        let expected: Vec<Job> = Job::ALL
            .into_iter()
            .filter(|j| j.runs(core.replay.is_some(), true))
            .collect();
        let every = Duration::from_secs(core.settings.worker.health_every_s.max(1));
        let listening = core.changes.feed.clone();
        let (db, clock, stall_after_s) = (
            core.db.clone(),
            core.clock.clone(),
            core.settings.jobs.stall_after_s,
        );
        let since = clock.now();
        core.supervise(tokio::spawn(async move {
            loop {
                let now = clock.now();
                let report = health(&db, &expected, stall_after_s, since, now, listening.as_ref()).await;
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
    drop(core);
    Ok(())
}

async fn health(
    db: &DatabaseConnection,
    expected: &[Job],
    stall_after_s: i64,
    since: i64,
    now: i64,
    feed: Option<&Feed>,
) -> WorkerHealth {
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
