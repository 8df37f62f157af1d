//! `Core`: what every long-running process opens the same way, whatever its role (`serve`, with
//! or without jobs, or `worker`): the settings, the database (connected and migrated), the clock,
//! the replay, the model registry (checked against the served coins), this process's end of the
//! change channel between processes, and the tasks it supervises. The roles add what is theirs on
//! top: `http::Application` the HTTP server and its published state, `worker` the health file.
//!
//! Tasks handed to [`Core::supervise`] live exactly as long as the `Core`: none is detached.

use std::sync::Arc;

use anyhow::Context;
use sea_orm::{DatabaseConnection, DbBackend};

use crate::clock::Clock;
use crate::collect::replay::Replay;
use crate::collect::run::Collectors;
use crate::config::Settings;
use crate::db;
use crate::db::changes::{Changes, Feed, Origin};
use crate::jobs::{Notify, Runner};
use crate::predict::registry::{Registry, reload_logged};

/// A task that ends with its owner.
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What every process role opens (see the module's documentation).
pub struct Core {
    pub settings: Settings,
    pub db: DatabaseConnection,
    /// "Now" for everything this process does (the system clock; tests fix it).
    pub clock: Clock,
    /// The recording replayed instead of live candles, if any.
    pub replay: Option<Arc<Replay>>,
    /// The models served, loaded from `models.dir` with the promoted versions applied.
    pub registry: Arc<Registry>,
    /// Who this process is when it announces a change, and what it hears (PostgreSQL only).
    pub changes: Changes,
    /// The change listener and the roles' tasks: aborted when the `Core` is dropped.
    tasks: Vec<AbortOnDrop>,
}

impl Core {
    /// Connects to the database and migrates it (or checks that it is: `database.migrate_on_start`),
    /// loads the replay and the models of the served coins (refusing to start when a served coin has
    /// none), and on PostgreSQL starts listening to the other processes.
    pub async fn open(settings: Settings, clock: Clock) -> anyhow::Result<Core> {
        let db = db::connect(&settings).await?;
        let applied = db::prepare(&db, settings.database.migrate_on_start).await?;
        tracing::info!(applied, backend = db::backend_name(&db), "database ready");
        let replay = Replay::from_settings(&settings.replay)?.map(Arc::new);
        let registry = Arc::new(
            Registry::load_serving(&settings.models.dir, settings.coins.served())
                .with_context(|| format!("loading the models in {}", settings.models.dir.display()))?,
        );
        reload_logged(&db, &registry, "start: the promoted versions").await;
        settings.coins.check_models(&registry.served())?;
        tracing::info!(models = registry.all().len(), dir = %settings.models.dir.display(), "models loaded");
        let origin = Origin::new();
        let mut tasks = Vec::new();
        let feed = match (&settings.database.url, db.get_database_backend()) {
            (Some(url), DbBackend::Postgres) => {
                let (feed, task) = Feed::listen(url.clone(), origin.clone());
                tasks.push(AbortOnDrop(task));
                Some(feed)
            }
            _ => None,
        };
        tasks.push(AbortOnDrop(tokio::spawn(crate::memory::trim_periodically(
            crate::memory::TRIM_EVERY,
        ))));
        Ok(Core {
            settings,
            db,
            clock,
            replay,
            registry,
            changes: Changes { origin, feed },
            tasks,
        })
    }

    /// The collectors of the configured coins, on this process's database and clock.
    pub fn collectors(&self) -> anyhow::Result<Collectors> {
        Ok(Collectors::new(
            self.db.clone(),
            self.settings.upstream.clone(),
            self.replay.clone(),
            self.clock.clone(),
        )?
        .with_coins(self.settings.coins.clone()))
    }

    /// The jobs' runner: the collectors, the models, and who is told after each run.
    pub fn runner(&self, notify: Arc<dyn Notify>) -> anyhow::Result<Runner> {
        Ok(Runner {
            collectors: self.collectors()?,
            registry: Some(self.registry.clone()),
            notify: Some(notify),
            retention: self.settings.retention.clone(),
            predicted: Default::default(),
            minutes: Default::default(),
            retrain: self.settings.retrain.clone(),
            store_dir: self.settings.model_store_dir(),
        })
    }

    /// Keeps `task` running for as long as this `Core` lives.
    pub fn supervise(&mut self, task: tokio::task::JoinHandle<()>) {
        self.tasks.push(AbortOnDrop(task));
    }

    /// `kill -HUP <pid>` reloads the models (e.g. after `coincast train`) without a restart;
    /// `then` runs after each reload that changed something (the roles publish and announce it).
    #[cfg(unix)]
    pub fn reload_on_hangup<F, Fut>(&mut self, then: F) -> anyhow::Result<()>
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("listening for SIGHUP")?;
        let (db, registry) = (self.db.clone(), self.registry.clone());
        self.supervise(tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                if reload_logged(&db, &registry, "SIGHUP").await {
                    then().await;
                }
            }
        }));
        Ok(())
    }
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
