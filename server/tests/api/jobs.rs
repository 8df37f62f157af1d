//! The scheduled collectors as real apalis workers on the app's database.

use std::time::Duration;

use chrono::{Datelike, Timelike, Utc};
use shared::{SourceState, SourcesResponse};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Frontend, TestApp, spawn_app_with};
use crate::upstream::{payload, point_at};

/// A cron expression (with seconds and year) that fires once, `secs` from now.
fn once_in(secs: i64) -> String {
    let t = Utc::now() + chrono::Duration::seconds(secs);
    format!(
        "{} {} {} {} {} * {}",
        t.second(),
        t.minute(),
        t.hour(),
        t.day(),
        t.month(),
        t.year()
    )
}

async fn wait_for(app: &TestApp, what: &str, pred: impl Fn(&SourcesResponse) -> bool) -> SourcesResponse {
    for _ in 0..120 {
        let s: SourcesResponse = app.get("/api/sources").await.json().await.unwrap();
        if pred(&s) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out waiting for {what}");
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
    let app = spawn_app_with(Frontend::Fixture, |s| {
        point_at(s, &server, 2_000);
        s.jobs.enabled = true;
        s.jobs.run_at_start = false;
        s.jobs.candles_cron = once_in(4);
        s.jobs.slow_cron = "0 0 0 1 1 * 2099".into();
        s.jobs.predict_cron = "0 0 0 1 1 * 2099".into();
        s.jobs.retries = 3;
        s.jobs.backoff_ms = 100;
    })
    .await;
    let sources = wait_for(&app, "the candles job to succeed", |s| {
        s.sources
            .iter()
            .filter(|x| x.source.starts_with("bitstamp/"))
            .all(|x| x.last_success_at.is_some())
    })
    .await;
    assert!(sources.jobs_enabled);
    for s in sources
        .sources
        .iter()
        .filter(|x| x.source.starts_with("bitstamp/"))
    {
        assert_eq!(s.consecutive_failures, 0, "{s:?}");
        assert!(
            s.last_error.as_deref().unwrap_or_default().contains("HTTP 503"),
            "{s:?}"
        );
        assert!(s.last_error_at.is_some());
    }
    // Two failed attempts and one that worked, per pair: the retries, not new ticks (the schedule
    // fires once).
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
    let app = spawn_app_with(Frontend::Fixture, |s| {
        point_at(s, &server, 2_000);
        s.jobs.enabled = true;
        s.jobs.run_at_start = false;
        s.jobs.candles_cron = once_in(4);
        s.jobs.slow_cron = "0 0 0 1 1 * 2099".into();
        s.jobs.predict_cron = "0 0 0 1 1 * 2099".into();
        s.jobs.retries = 1;
        s.jobs.backoff_ms = 100;
    })
    .await;
    wait_for(&app, "two failed attempts", |s| {
        s.sources
            .iter()
            .filter(|x| x.source.starts_with("bitstamp/"))
            .all(|x| x.consecutive_failures == 2)
    })
    .await;
    // Give apalis time to run it again, if it (wrongly) would.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 6, "one try and one retry per pair, then no more");
    let health = app.get("/api/health").await;
    assert_eq!(health.status(), 200);
    let body: shared::HealthResponse = health.json().await.unwrap();
    assert_eq!(body.failing_sources.len(), 3, "{body:?}");
}
