//! Serving: `Application::build(settings)` opens the database, applies migrations, binds the
//! listener (port 0 picks a free port: tests use that), starts the jobs (when this process runs
//! them) and assembles the HTTP server: the API (`routes/`, one module per resource), the docs UI
//! (`openapi`) and the web app's files (`spa`), all reading one `AppState`.

pub mod error;
pub mod openapi;
pub mod routes;
pub mod spa;
pub mod state;

use std::net::TcpListener;
use std::str::FromStr;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle, Service};
use actix_web::http::Method;
use actix_web::middleware::Compress;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::collect::replay::Replay;
use crate::collect::run::Collectors;
use crate::config::Settings;
use crate::db;
use crate::http::state::AppState;
use crate::jobs::{self, Runner};
use crate::predict::registry::Registry;

/// Where the OpenAPI document is served.
pub const OPENAPI_JSON_PATH: &str = "/api-docs/openapi.json";

/// A built, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    /// The scheduled collectors (stopped when the application is dropped).
    _workers: Option<jobs::Workers>,
}

impl Application {
    /// Opens the database, migrates it, binds the listener and builds the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let conn = db::connect(&settings).await?;
        let applied = db::migrate(&conn).await?;
        tracing::info!(applied, backend = db::backend_name(&conn), "database ready");
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| format!("binding {}:{}", settings.server.host, settings.server.port))?;
        let port = listener.local_addr()?.port();
        let replay = if settings.replay.enabled {
            let replay = match &settings.replay.dir {
                Some(dir) => Replay::from_dir(dir)?,
                None => Replay::bundled()?,
            };
            tracing::info!(
                dataset = replay.dataset(),
                "replaying recorded candles instead of live ones"
            );
            Some(Arc::new(replay))
        } else {
            None
        };
        let registry = Arc::new(
            Registry::load(&settings.models.dir)
                .with_context(|| format!("loading the models in {}", settings.models.dir.display()))?,
        );
        tracing::info!(models = registry.all().len(), dir = %settings.models.dir.display(), "models loaded");
        let predict_schedule = cron::Schedule::from_str(&settings.jobs.predict_cron)
            .with_context(|| format!("jobs: bad cron {:?} for predict", settings.jobs.predict_cron))?;
        let state = AppState::new(
            conn.clone(),
            replay.clone(),
            settings.jobs.enabled,
            registry.clone(),
            predict_schedule,
            settings.jobs.stall_after_s,
        );
        let workers = if settings.jobs.enabled {
            let runner = Arc::new(Runner {
                collectors: Collectors::new(conn, settings.upstream.clone(), replay)?,
                registry: Some(registry),
                retention: settings.retention.clone(),
            });
            Some(jobs::start(runner, &settings.jobs, settings.models.backfill_hours).await?)
        } else {
            tracing::info!("scheduled collectors are off in this process (jobs.enabled = false)");
            None
        };
        #[cfg(unix)]
        {
            // `kill -HUP <pid>` reloads the models (e.g. after `coincast train`) without a restart.
            let registry = state.registry.clone();
            let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                .context("listening for SIGHUP")?;
            tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    let r = registry.clone();
                    match tokio::task::spawn_blocking(move || r.reload()).await {
                        Ok(Ok(n)) => tracing::info!(models = n, "models reloaded (SIGHUP)"),
                        Ok(Err(e)) => {
                            tracing::error!(error = %format!("{e:#}"), "model reload failed; the running models stay")
                        }
                        Err(e) => tracing::error!(error = %e, "model reload panicked"),
                    }
                }
            });
        }
        let server = run(listener, state.clone(), &settings)?;
        Ok(Application {
            port,
            server,
            state,
            _workers: workers,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server (tests stop and restart it).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The shared state (tests reach the database through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process gets SIGINT/SIGTERM, then drains connections.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn run(listener: TcpListener, state: AppState, settings: &Settings) -> anyhow::Result<Server> {
    let data = web::Data::new(state);
    let known_routes = web::Data::new(routes::KnownRoutes::from_document(&openapi::document()));
    let dist = settings.frontend.dist_dir.clone();
    let mut server = HttpServer::new(move || {
        let (app, api) = App::new()
            .into_utoipa_app()
            .openapi(openapi::ApiDoc::openapi())
            .app_data(data.clone())
            .app_data(known_routes.clone())
            .app_data(routes::query_config())
            .configure(routes::configure)
            .split_for_parts();
        app.service(SwaggerUi::new("/docs/{_:.*}").url(OPENAPI_JSON_PATH, api))
            .service(web::scope("/api").default_service(web::to(routes::api_not_found)))
            .configure(spa::service(&dist))
            .wrap_fn(|mut req, srv| {
                let path = req.path().to_owned();
                // HEAD on an API route is its GET without the body (the HTTP layer leaves the body
                // out and keeps the headers: length, ETag, cache). Not for the endless event stream.
                if req.method() == Method::HEAD && path.starts_with("/api/") && path != "/api/stream" {
                    req.head_mut().method = Method::GET;
                }
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    spa::set_cache_headers(&path, res.headers_mut());
                    Ok(res)
                }
            })
            .wrap(Compress::default())
            .wrap(TracingLogger::default())
    })
    .listen(listener)?;
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}
