//! The jobs: the handler a cron tick runs (called directly, never by waiting for a clock), and
//! the real apalis workers on the app's database.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::Data;
use apalis_cron::Tick;
use coincast::jobs::{Job, JobCtx, handle_tick};
use sea_orm::ConnectionTrait;
use shared::{SourceState, SourcesResponse};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Frontend, TestApp, eventually, spawn_app, spawn_app_with};
use crate::upstream::{payload, point_at, upstream_settings};

/// The context a worker gives its handler, for `job` against `server`.
fn ctx(app: &TestApp, server: &MockServer, job: Job, retries: usize) -> Data<JobCtx> {
    let collectors = app.collectors(upstream_settings(server, 2_000));
    Data::new(JobCtx {
        runner: Arc::new(app.runner(collectors)),
        job,
        retries,
        backoff: Duration::from_millis(20),
    })
}

async fn sources(app: &TestApp) -> SourcesResponse {
    app.get("/api/sources").await.json().await.unwrap()
}

#[tokio::test]
async fn a_job_that_fails_twice_then_succeeds_is_retried_with_backoff() {
    let server = MockServer::start().await;
    for pair in ["btcusd", "ltcusd", "xrpusd"] {
        let p = format!("/api/v2/ohlc/{pair}/");
        // Mounted first, so it answers first, until used up.
        Mock::given(method("GET"))
            .and(path(p.clone()))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(2)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_string(payload("bitstamp_ohlc_btcusdt.json")))
            .with_priority(2)
            .mount(&server)
            .await;
    }
    let app = spawn_app(Frontend::Fixture).await;
    handle_tick(Tick::new(0), ctx(&app, &server, Job::Candles, 3))
        .await
        .unwrap();
    let sources = sources(&app).await;
    for s in sources
        .sources
        .iter()
        .filter(|x| x.source.starts_with("bitstamp/"))
    {
        assert!(s.last_success_at.is_some(), "{s:?}");
        assert_eq!(s.consecutive_failures, 0, "{s:?}");
        assert!(
            s.last_error.as_deref().unwrap_or_default().contains("HTTP 503"),
            "{s:?}"
        );
        assert!(s.last_error_at.is_some());
    }
    // Each pair answers 503 twice, then 200: two failed attempts and one that worked, three
    // requests each.
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests.len(),
        9,
        "{:?}",
        requests.iter().map(|r| r.url.to_string()).collect::<Vec<_>>()
    );
    let pending = sources.sources.iter().find(|x| x.source == "mempool").unwrap();
    assert_eq!(
        pending.state,
        SourceState::Pending,
        "the 15-minute jobs have not run"
    );
}

#[tokio::test]
async fn a_job_that_keeps_failing_stops_after_its_retries_and_leaves_the_api_up() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let app = spawn_app(Frontend::Fixture).await;
    let err = handle_tick(Tick::new(0), ctx(&app, &server, Job::Candles, 1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("3 of 3 sources failed"), "{err}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 6, "one try and one retry per pair, then no more");
    for s in sources(&app)
        .await
        .sources
        .iter()
        .filter(|x| x.source.starts_with("bitstamp/"))
    {
        assert_eq!(s.consecutive_failures, 2, "{s:?}");
    }
    let health = app.get("/api/health").await;
    assert_eq!(health.status(), 200);
    let body: shared::HealthResponse = health.json().await.unwrap();
    assert_eq!(body.failing_sources.len(), 3, "{body:?}");
}

#[tokio::test]
async fn the_apalis_workers_run_the_scheduled_jobs_through_the_job_table() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/ohlc/btcusd/"))
        .respond_with(ResponseTemplate::new(200).set_body_string(payload("bitstamp_ohlc_btcusdt.json")))
        .mount(&server)
        .await;
    let app = spawn_app_with(Frontend::Fixture, |s| {
        point_at(s, &server, 2_000);
        s.jobs.enabled = true;
        s.jobs.run_at_start = false;
        // Every second: the test waits for the first run, whenever it comes.
        s.jobs.candles_cron = "* * * * * *".into();
        s.jobs.slow_cron = "0 0 0 1 1 * 2099".into();
        s.jobs.predict_cron = "0 0 0 1 1 * 2099".into();
    })
    .await;
    eventually(Duration::from_secs(60), || async {
        let s = sources(&app).await;
        let btc = s.sources.iter().find(|x| x.source == "bitstamp/BTC").unwrap();
        btc.last_success_at.map(|_| ())
    })
    .await
    .expect("the candles job runs within a minute");
    let rows = app
        .state
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.state.db.get_database_backend(),
            // apalis's job table: `Jobs` on SQLite, `apalis.jobs` on PostgreSQL.
            if crate::helpers::on_postgres() {
                "SELECT COUNT(*) FROM apalis.jobs WHERE job_type LIKE '%candles%'"
            } else {
                "SELECT COUNT(*) FROM Jobs WHERE job_type LIKE '%candles%'"
            },
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = rows.try_get_by_index(0).unwrap();
    assert!(n >= 1, "the ticks went through apalis's job table");
}
