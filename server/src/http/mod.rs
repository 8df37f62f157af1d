//! Serving: `Application::build(settings)` opens the [`Core`] (database, migrations, models, the
//! change channel), binds the listener (port 0 picks a free port: tests use that), starts the jobs
//! (when this process runs them) and assembles the HTTP server: the API (`routes/`, one module per resource), the docs UI
//! (`openapi`) and the web app's files (`spa`), all reading one `AppState`.

pub mod access;
pub mod body;
pub mod charts;
pub mod error;
pub mod events;
pub mod headers;
pub mod limits;
pub mod openapi;
pub mod pages;
pub mod published;
pub mod routes;
pub mod spa;
pub mod state;

use std::net::TcpListener;
use std::str::FromStr;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle, Service};
use actix_web::http::Method;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use futures_util::future::{Either, ready};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::clock::Clock;
use crate::config::Settings;
use crate::core::Core;
use crate::db::changes::Change;
use crate::http::state::AppState;
use crate::jobs;

/// Where the OpenAPI document is served.
pub const OPENAPI_JSON_PATH: &str = "/api-docs/openapi.json";

/// A built, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    /// The scheduled collectors (stopped when the application is dropped).
    _workers: Option<jobs::Workers>,
    /// The database, the models and the supervised tasks (the change listener, the published
    /// state's watcher, SIGHUP): they end with the application.
    _core: Core,
}

impl Application {
    /// Opens the [`Core`] on the system clock, binds the listener and builds the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_at(settings, Clock::system()).await // clock: the process's own
    }

    /// [`Application::build`] with its clock given (tests fix it).
    pub async fn build_at(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let mut core = Core::open(settings, clock).await?;
        let settings = &core.settings;
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| format!("binding {}:{}", settings.server.host, settings.server.port))?;
        let port = listener.local_addr()?.port();
        // Predictions follow each minute's candles: answers stay fresh until the next collection.
        let tick_schedule = cron::Schedule::from_str(&settings.jobs.candles_cron)
            .with_context(|| format!("jobs: bad cron {:?} for candles", settings.jobs.candles_cron))?;
        let state = AppState::new(&core, tick_schedule);
        // The answers exist before the first request (a database that does not answer yet is
        // retried by the watcher or the next job run).
        if let Err(e) = state.published.refresh(&state).await {
            tracing::warn!(error = %e, "could not build the published state at start");
        }
        let workers = if settings.jobs.enabled {
            let runner = Arc::new(core.runner(Arc::new(published::Refresher(state.clone())))?);
            Some(jobs::start(runner, &settings.jobs, settings.models.backfill_hours).await?)
        } else {
            tracing::info!("scheduled collectors are off in this process (jobs.enabled = false)");
            None
        };
        // Another process's jobs (or model reloads) change what is published here: watch for
        // them, once for the whole process: heard at once on PostgreSQL, polled on SQLite.
        if !settings.jobs.enabled || state.changes.feed.is_some() {
            core.supervise(tokio::spawn(published::Published::watch(
                state.clone(),
                published::FULL_REFRESH,
            )));
        }
        #[cfg(unix)]
        {
            // After a reload: publish it here, and announce it to every other process on the same
            // database.
            let state = state.clone();
            core.reload_on_hangup(move || {
                let state = state.clone();
                async move {
                    if let Err(e) = state.published.refresh(&state).await {
                        tracing::warn!(error = %e, "could not refresh the published state");
                    }
                    published::announce(&state, Change::Models).await;
                }
            })?;
        }
        let server = run(listener, state.clone(), &core.settings)?;
        Ok(Application {
            port,
            server,
            state,
            _workers: workers,
            _core: core,
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

    /// Serves until the process gets SIGINT/SIGTERM, then ends the event streams and drains the
    /// other connections for at most `server.shutdown_timeout_s`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Resolves on SIGINT or SIGTERM, after telling the event streams to end.
async fn stop_signal(state: AppState) {
    crate::core::stop_signal().await;
    state.begin_shutdown();
}

/// `/docs` is the docs UI's folder: send the browser to `/docs/` (its relative links need the
/// slash) rather than to the web app.
async fn docs_redirect() -> actix_web::HttpResponse {
    actix_web::HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

fn run(listener: TcpListener, state: AppState, settings: &Settings) -> anyhow::Result<Server> {
    let stop = stop_signal(state.clone());
    let data = web::Data::new(state);
    let rate_limit = web::Data::new(limits::RateLimit::new(&settings.server));
    let security = Arc::new(headers::SecurityHeaders::new(&settings.frontend.dist_dir));
    let known_routes = web::Data::new(routes::KnownRoutes::from_document(&openapi::document()));
    let served = settings.coins.served().to_vec();
    let dist = settings.frontend.dist_dir.clone();
    let mut server = HttpServer::new(move || {
        let known = known_routes.clone();
        let security = security.clone();
        let (app, api) = App::new()
            .into_utoipa_app()
            .openapi(openapi::ApiDoc::openapi())
            .app_data(data.clone())
            .app_data(known_routes.clone())
            .app_data(rate_limit.clone())
            .app_data(routes::query_config())
            .configure(routes::configure)
            .split_for_parts();
        let api = openapi::finish(api, &served);
        app.service(web::resource("/docs").route(web::get().to(docs_redirect)))
            .service(SwaggerUi::new("/docs/{_:.*}").url(OPENAPI_JSON_PATH, api))
            .service(web::scope("/api").default_service(web::to(routes::api_not_found)))
            .configure(spa::service(&dist))
            .wrap(from_fn(limits::rate_limit))
            .wrap_fn(move |mut req, srv| {
                let security = security.clone();
                let kind = headers::PathKind::of(req.path());
                // HEAD on an API route is its GET without the body (the HTTP layer leaves the body
                // out and keeps the headers: length, ETag, cache). Not for the endless event stream.
                if req.method() == Method::HEAD
                    && kind == headers::PathKind::Api
                    && req.path() != "/api/stream"
                {
                    req.head_mut().method = Method::GET;
                }
                // Every GET of an API route with a query string first has it checked against the
                // parameters the route documents: unknown, repeated or malformed ones are a 400
                // naming the parameter, before any handler parses them.
                let rejected = (req.method() == Method::GET
                    && kind == headers::PathKind::Api
                    && !req.query_string().is_empty())
                .then(|| known.query_for(req.path()))
                .flatten()
                .and_then(|allowed| routes::params::check_query(req.query_string(), allowed).err());
                // Only the web app's files need their path once answered (their cache headers).
                let app_path = kind.has_file_cache_headers().then(|| req.path().to_owned());
                let fut = match rejected {
                    Some(e) => Either::Left(ready(Ok(req.error_response(e)))),
                    None => {
                        let call = srv.call(req);
                        Either::Right(async move { call.await.map(|r| r.map_into_boxed_body()) })
                    }
                };
                async move {
                    let mut res = fut.await?;
                    if let Some(path) = app_path {
                        spa::set_cache_headers(&path, res.headers_mut());
                    }
                    security.apply(kind, res.headers_mut());
                    Ok(res)
                }
            })
            .wrap(Compress::default())
            .wrap(from_fn(access::access_log))
    })
    .shutdown_signal(stop)
    .shutdown_timeout(settings.server.shutdown_timeout_s)
    .listen(listener)?;
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}
