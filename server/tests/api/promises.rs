//! The bots' contract keeps its promises: every stored minute has exactly one `price` event even
//! while another writer commits; no `max-age` outlives its answer; a restart of the real binary
//! catches up before its first tick and starts its workers at once; a resume from beyond the
//! sequence is told so at once.

use std::collections::BTreeSet;
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use coincast::clock;
use coincast::jobs::Job;
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use shared::PredictionsResponse;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{Frontend, spawn_app_with};
use crate::kill::{lines_until, serve};
use crate::published::replaying;
use crate::upstream::{BitstampPages, upstream_settings};

/// Bitstamp's minute candles up to a moving end: real BTC minutes of the fixture laid on the
/// minutes before `end` (each request answers the newest `limit` of them), so every collection
/// run after the test moves `end` stores new minutes.
struct GrowingMinutes {
    rows: Vec<[f64; 6]>,
    end: Arc<AtomicI64>,
}

impl Respond for GrowingMinutes {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let limit = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "limit")
            .and_then(|(_, v)| v.parse::<i64>().ok())
            .unwrap_or(1000)
            .clamp(1, 1000);
        let end = self.end.load(Ordering::SeqCst);
        let ohlc: Vec<serde_json::Value> = (0..limit)
            .rev()
            .map(|back| {
                let ts = end - back * 60;
                let r = self.rows[(ts / 60).rem_euclid(self.rows.len() as i64) as usize];
                serde_json::json!({
                    "timestamp": ts.to_string(),
                    "open": r[1].to_string(), "high": r[2].to_string(), "low": r[3].to_string(),
                    "close": r[4].to_string(), "volume": r[5].to_string(),
                })
            })
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"data": {"pair": "BTC/USD", "ohlc": ohlc}}))
    }
}

/// The `(event, id, data)` frames of a stream until `enough` says stop (or 30 s pass).
async fn frames(
    mut res: reqwest::Response,
    enough: impl Fn(&[(String, i64, serde_json::Value)]) -> bool,
) -> Vec<(String, i64, serde_json::Value)> {
    let mut out = Vec::new();
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !enough(&out) {
        let Ok(chunk) = tokio::time::timeout_at(deadline, res.chunk()).await else {
            break;
        };
        let Some(chunk) = chunk.unwrap() else { break };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let (mut kind, mut id, mut data) = (None, None, None);
            for line in frame.lines() {
                if let Some(k) = line.strip_prefix("event: ") {
                    kind = Some(k.to_owned());
                } else if let Some(i) = line.strip_prefix("id: ") {
                    id = i.parse::<i64>().ok();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(d).ok();
                }
            }
            if let (Some(kind), Some(id), Some(data)) = (kind, id, data) {
                out.push((kind, id, data));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_stored_minute_has_one_price_event_while_another_writer_commits() {
    let upstream = MockServer::start().await;
    // Fifty minutes ago: every minute the runs below store is news (within the event span).
    let end = Arc::new(AtomicI64::new(clock::current_minute() - 50 * 60));
    Mock::given(method("GET"))
        .and(path_regex("^/api/v2/ohlc/[a-z]+/$"))
        .respond_with(GrowingMinutes {
            rows: BitstampPages::from_fixture("BTC_USDT-1m.json").rows,
            end: end.clone(),
        })
        .mount(&upstream)
        .await;
    let app = spawn_app_with(Frontend::Fixture, |s| s.jobs.enabled = false).await;
    let collectors = app.collectors(upstream_settings(&upstream, 5_000));
    let runner = app.runner(collectors);

    // Another process writes all the time: short write transactions on a pool of its own.
    let other = Database::connect(app.database_url()).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut writes = 0u64;
            while !stop.load(Ordering::SeqCst) {
                coincast::db::meta::meta_set(
                    &other,
                    "test:other-writer",
                    &writes.to_string(),
                    coincast::clock::now(),
                )
                .await
                .unwrap();
                writes += 1;
                tokio::task::yield_now().await;
            }
            writes
        })
    };
    let first_run = clock::now();
    for _ in 0..40 {
        runner
            .run(Job::Candles)
            .await
            .expect("the candles and their events are stored");
        end.fetch_add(60, Ordering::SeqCst);
    }
    stop.store(true, Ordering::SeqCst);
    let writes = writer.await.unwrap();
    assert!(writes > 40, "the other writer wrote only {writes} times");

    // What is stored: every BTC minute within the event span of the first run (a minute later,
    // so the second the first run read the clock cannot matter).
    let since = first_run - coincast::db::events::PRICE_EVENT_SPAN_S + 60;
    use coincast::db::entities::{candle, event};
    let stored: BTreeSet<i64> = candle::Entity::find()
        .select_only()
        .column(candle::Column::Ts)
        .filter(candle::Column::Coin.eq("BTC"))
        .filter(candle::Column::IntervalS.eq(60))
        .filter(candle::Column::Ts.gte(since))
        .order_by_asc(candle::Column::Ts)
        .into_tuple()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert!(stored.len() >= 40, "{} minutes stored", stored.len());
    let recorded = event::Entity::find()
        .filter(event::Column::Kind.eq("price"))
        .filter(event::Column::Coin.eq("BTC"))
        .all(&app.state.db)
        .await
        .unwrap()
        .len();

    // A bot resuming from 0 gets one price event per stored minute, in order, none twice.
    let res = app.get("/api/stream?type=price&coin=BTC&last_event_id=0").await;
    assert_eq!(res.status(), 200);
    let events = frames(res, |e| e.len() >= recorded).await;
    assert_eq!(events.len(), recorded);
    let minutes: Vec<i64> = events
        .iter()
        .filter(|(kind, _, _)| kind == "price")
        .map(|(_, _, d)| {
            chrono::DateTime::parse_from_rfc3339(d["at"].as_str().unwrap())
                .unwrap()
                .timestamp()
        })
        .collect();
    assert!(
        events.iter().all(|(kind, _, _)| kind == "price"),
        "nothing skipped: {:?}",
        events.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
    assert!(minutes.windows(2).all(|w| w[0] < w[1]), "in order, once each");
    assert!(
        minutes.iter().all(|m| *m >= since - 60),
        "no event for history older than the span: {minutes:?}"
    );
    let got: BTreeSet<i64> = minutes.into_iter().filter(|&m| m >= since).collect();
    assert_eq!(got, stored, "one price event per stored minute");
}

#[tokio::test]
async fn a_resume_from_beyond_the_sequence_is_told_where_it_is_now_at_once() {
    let (app, _) = replaying().await;
    let newest = coincast::db::events::newest_id(&app.state.db).await.unwrap();
    assert!(newest > 0, "the replay's newest minutes have their events");
    let started = Instant::now();
    for (header, query) in [(Some("999999"), ""), (None, "?last_event_id=999999")] {
        let mut req = app.client.get(format!("{}/api/stream{query}", app.address));
        if let Some(h) = header {
            req = req.header("Last-Event-ID", h);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        let events = frames(res, |e| !e.is_empty()).await;
        let (kind, id, data) = events.first().expect("an event at once, not silence");
        assert_eq!(kind, "reset");
        assert_eq!(
            *id, newest,
            "the reset carries the newest id: the next resume starts there"
        );
        assert_eq!(data["requested_id"], 999_999);
        assert_eq!(data["newest_id"], newest);
        assert!(data["message"].as_str().unwrap().contains("GET /api/predictions"));
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    // A resume within the sequence is an ordinary one: the events after it, no reset.
    let res = app
        .get(&format!("/api/stream?last_event_id={}", newest - 5))
        .await;
    let events = frames(res, |e| e.len() >= 5).await;
    let ids: Vec<i64> = events.iter().map(|e| e.1).collect();
    assert_eq!(ids, ((newest - 4)..=newest).collect::<Vec<_>>(), "{events:?}");
}

/// The `max-age` of a response's `Cache-Control` (panics without one).
fn max_age(res: &reqwest::Response) -> i64 {
    let cc = res.headers()["cache-control"].to_str().unwrap().to_owned();
    cc.split(',')
        .find_map(|d| d.trim().strip_prefix("max-age="))
        .unwrap_or_else(|| panic!("no max-age in {cc:?}"))
        .parse()
        .unwrap()
}

/// Unix seconds of the next candles tick (second 5, the default `jobs.candles_cron`) after `t`.
fn next_tick_after(t: i64) -> i64 {
    let at = clock::minute_of(t) + 5;
    if at > t { at } else { at + 60 }
}

#[tokio::test]
async fn max_age_never_outlives_the_answer_in_the_second_after_a_tick() {
    // The server's clock stands 30 s into a minute and moves only when told.
    let (app, runner) = replaying().await;
    let clock = app.state.clock.clone();
    // Nothing of this minute is published yet: an answer asked for now may be cached at most
    // until the tick that will replace it, and not at all once that tick has fired.
    let asked = clock.now_ms();
    let res = app.get("/api/predictions?coin=BTC&horizon=1h").await;
    let age = max_age(&res);
    let tick = next_tick_after(asked.div_euclid(1000));
    assert!(
        age == 0 || asked + age * 1000 <= tick * 1000,
        "max-age={age} asked at {asked} ms, next tick at {tick} s"
    );
    // The minute's tick commits: its answer holds until the next tick, never past it.
    let minute = clock.current_minute();
    runner.run(Job::Candles).await.unwrap();
    runner.run(Job::Predict).await.unwrap();
    let asked = clock.now_ms();
    let res = app.get("/api/predictions?coin=BTC&horizon=1h").await;
    let age = max_age(&res);
    let body: PredictionsResponse = res.json().await.unwrap();
    let made = body.predictions[0]
        .prediction
        .as_ref()
        .map(|p| p.made_at.timestamp());
    assert_eq!(made, Some(minute), "the tick made BTC's 1 h prediction");
    let tick = next_tick_after(asked.div_euclid(1000));
    assert!(
        asked + age * 1000 <= tick * 1000,
        "max-age={age} at {asked} ms outlives the tick at {tick}"
    );
    assert!(age > 0, "a published answer is cacheable until the next tick");
    for route in ["/api/accuracy", "/api/models", "/api/performance"] {
        let res = app.get(route).await;
        let tick = next_tick_after(clock.now());
        assert!(clock.now() + max_age(&res) <= tick, "{route}");
    }
    // The next minute's tick fires (second 5) and its predictions are not in yet: the answer
    // of the minute before is about to change, so it is not cached at all.
    assert!(clock.set(tick));
    let res = app.get("/api/predictions?coin=BTC&horizon=1h").await;
    assert_eq!(max_age(&res), 0, "in the second after a tick");
    // Once that minute is predicted, its answer is cacheable again, up to the tick after.
    runner.run(Job::Candles).await.unwrap();
    let res = app.get("/api/predictions?coin=BTC&horizon=1h").await;
    let age = max_age(&res);
    assert!(age > 0 && clock.now() + age <= tick + 60, "max-age={age}");
}

/// The job log at debug: each cron tick that goes through the job table says so.
const LOG: &str = "info,coincast::jobs=debug";

/// SIGTERM, then waits (at most 20 s) for the process to end.
async fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let ended = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await;
    assert!(
        matches!(ended, Ok(Ok(Ok(_)))),
        "the server did not stop on SIGTERM: {ended:?}"
    );
}

#[tokio::test]
async fn a_restart_catches_up_before_its_first_tick_and_starts_its_workers_at_once() {
    if crate::helpers::sqlite_only(
        "restarts the binary on its SQLite file (the worker registrations are SQLite's)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (child, logs) = serve(&data, LOG);
    lines_until(&logs, "predictions backfilled", Duration::from_secs(60));
    stop(child).await;

    // A deploy: the same command again at once.
    let (child, logs) = serve(&data, LOG);
    let restarted = clock::now();
    let first_tick = lines_until(&logs, "prediction tick", Duration::from_secs(60));
    let tick = first_tick.last().unwrap();
    assert!(
        tick.contains("skipped=0"),
        "the first tick after the restart: {tick}"
    );
    // The workers register at once: the next cron tick goes through the job table.
    let until_cron = lines_until(&logs, "job run", Duration::from_secs(75));
    let seen: Vec<&String> = first_tick.iter().chain(&until_cron).collect();
    for line in &seen {
        assert!(
            !line.contains("WORKER_ALREADY_EXISTS") && !line.contains("job worker failed"),
            "{line}"
        );
    }
    stop(child).await;
    eprintln!(
        "restart | first tick after the restart: {tick}; cron running {} s after the start",
        clock::now() - restarted
    );
}
