//! The published state and the event fan-out: what the writers commit is what the read routes
//! serve, at once; stream clients get each event once, in order.

use std::collections::HashSet;
use std::time::Duration;

use coincast::clock::Clock;
use coincast::http::routes::{accuracy, models, performance, predictions, prices, sources};
use coincast::jobs::{Job, Runner};
use shared::{PredictionsResponse, SourcesResponse};

use crate::helpers::{Frontend, TestApp, spawn_app_at};

/// Serializing any answer type to the bytes the server would send.
mod erased {
    pub trait Json {
        fn to_vec(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_vec(&self) -> Vec<u8> {
            serde_json::to_vec(self).unwrap()
        }
    }
}

/// A replaying server without scheduled jobs on a fixed clock (30 s into the current minute: it
/// moves only when the test moves it), its warm-up stored, and a runner with its models that tells
/// the server's published state when it commits, as the service's own runner does.
pub async fn replaying() -> (TestApp, Runner) {
    replaying_at(Clock::fixed(coincast::clock::current_minute() + 30), |_| {}).await
}

/// [`replaying`] on `clock`, with settings changed by `tweak` first.
pub async fn replaying_at(
    clock: Clock,
    tweak: impl FnOnce(&mut coincast::config::Settings),
) -> (TestApp, Runner) {
    let app = spawn_app_at(clock, Frontend::Fixture, |s| {
        s.replay.enabled = true;
        s.jobs.enabled = false;
        tweak(s);
    })
    .await;
    let upstream = crate::helpers::default_settings().upstream;
    let mut runner = app.runner(app.collectors(upstream));
    runner.run(Job::Candles).await.unwrap();
    // With its models only now: the candles above did not trigger predictions.
    runner.registry = Some(app.state.registry.clone());
    (app, runner)
}

/// The SSE frames of a stream until `enough` says stop (or 60 s pass).
async fn read_events(
    mut res: reqwest::Response,
    enough: impl Fn(&[(String, Option<String>)]) -> bool,
) -> Vec<(String, Option<String>)> {
    let mut events = Vec::new();
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !enough(&events) {
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .expect("events in time")
            .unwrap();
        let Some(chunk) = chunk else { break };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let mut kind = None;
            let mut id = None;
            for line in frame.lines() {
                if let Some(k) = line.strip_prefix("event: ") {
                    kind = Some(k.to_owned());
                } else if let Some(i) = line.strip_prefix("id: ") {
                    id = Some(i.to_owned());
                }
            }
            if let Some(kind) = kind {
                events.push((kind, id));
            }
        }
    }
    events
}

#[tokio::test]
async fn a_tick_shows_in_the_published_answers_with_a_new_etag_at_once() {
    let (app, runner) = replaying().await;
    let before = app.get("/api/predictions").await;
    let etag_before = before.headers()["etag"].to_str().unwrap().to_owned();
    let old: PredictionsResponse = before.json().await.unwrap();
    assert!(
        old.predictions.iter().all(|p| p.prediction.is_none()),
        "nothing predicted yet: {:?}",
        old.predictions
            .iter()
            .filter_map(|p| p.prediction.as_ref())
            .collect::<Vec<_>>()
    );

    let minute = app.state.clock.current_minute();
    runner.run(Job::Predict).await.unwrap();
    // No waiting: the tick returned after its answers were published.
    let after = app.get("/api/predictions").await;
    let etag_after = after.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(etag_before, etag_after);
    let new: PredictionsResponse = after.json().await.unwrap();
    let made: Vec<_> = new
        .predictions
        .iter()
        .filter_map(|p| p.prediction.as_ref())
        .collect();
    assert!(!made.is_empty());
    assert!(made.iter().all(|p| p.made_at.timestamp() >= minute), "{made:?}");

    // Every published answer is, byte for byte, what the database says now.
    same_as_a_fresh_build(&app).await;
    // A filtered answer is the full one, filtered.
    let btc: PredictionsResponse = app.get("/api/predictions?coin=BTC").await.json().await.unwrap();
    assert_eq!(btc.predictions.len(), 6);
    assert!(btc.predictions.iter().all(|p| p.coin == shared::Coin::BTC));
}

#[tokio::test]
async fn stored_candles_start_that_minutes_predictions_without_waiting_for_the_cron() {
    let (app, runner) = replaying().await;
    // The candles of the minute arrive (the replay's next minute, or the same one again): the
    // predictions of the minute follow in the same run, with no `predict` tick.
    runner.run(Job::Candles).await.unwrap();
    let p: PredictionsResponse = app.get("/api/predictions").await.json().await.unwrap();
    let minute = app.state.clock.current_minute();
    let made: Vec<_> = p
        .predictions
        .iter()
        .filter_map(|p| p.prediction.as_ref())
        .collect();
    assert!(!made.is_empty());
    assert!(
        made.iter().all(|p| p.made_at.timestamp() >= minute - 60),
        "{made:?}"
    );
    // The deadline tick of the same minute (the clock stands still) finds it done and makes
    // nothing twice.
    let before = app.state.published.cursor();
    runner.run(Job::Predict).await.unwrap();
    assert_eq!(app.state.published.cursor(), before);
    // The next minute's candles start the next minute's predictions.
    assert!(app.state.clock.advance(60));
    runner.run(Job::Candles).await.unwrap();
    assert!(
        app.state.published.cursor() > before,
        "the next minute is predicted"
    );
}

#[tokio::test]
async fn stream_clients_get_each_event_of_a_tick_once_and_in_order() {
    let (app, runner) = replaying().await;
    let open = || async {
        app.client
            .get(format!("{}/api/stream", app.address))
            .send()
            .await
            .unwrap()
    };
    let (a, b) = (open().await, open().await);
    assert_eq!(a.status(), 200);
    // Both clients are subscribed once their response has started.
    runner.run(Job::Predict).await.unwrap();
    let made = app.state.published.cursor();
    assert!(made > 0);
    let predictions =
        |events: &[(String, Option<String>)]| events.iter().filter(|e| e.0 == "prediction").count();
    let expected = {
        let p: PredictionsResponse = app.get("/api/predictions").await.json().await.unwrap();
        p.predictions.iter().filter(|p| p.prediction.is_some()).count()
    };
    for res in [a, b] {
        let events = read_events(res, |e| predictions(e) >= expected).await;
        let ids: Vec<i64> = events
            .iter()
            .filter(|e| e.0 == "prediction")
            .map(|e| e.1.as_deref().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ids.len(), expected, "{events:?}");
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "in order, once each: {ids:?}"
        );
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    }

    // A client resuming from before the tick gets the same events again, with the same ids.
    let first_id = (made - expected as i64).to_string();
    let resumed = app
        .client
        .get(format!("{}/api/stream", app.address))
        .header("Last-Event-ID", &first_id)
        .send()
        .await
        .unwrap();
    let events = read_events(resumed, |e| predictions(e) >= expected).await;
    assert_eq!(predictions(&events), expected);
}

/// Every published answer is, byte for byte, what a fresh build from the database gives now
/// (the accuracy read afresh, not from the blocks the published state keeps).
async fn same_as_a_fresh_build(app: &TestApp) {
    let state = &app.state;
    let now = state.clock.now();
    let table = coincast::predict::accuracy::AccuracyTable::read(&state.db, shared::Horizon::ALL, now)
        .await
        .unwrap();
    let bytes = |path: &'static str| async move { app.get(path).await.bytes().await.unwrap().to_vec() };
    let json = |v: &dyn erased::Json| v.to_vec();
    assert_eq!(
        bytes("/api/predictions").await,
        json(
            &predictions::build(
                state,
                &table,
                &predictions::newest_rows(state).await.unwrap(),
                now
            )
            .await
            .unwrap()
        )
    );
    assert_eq!(
        bytes("/api/accuracy").await,
        json(&accuracy::build(state, &table).await.unwrap())
    );
    assert_eq!(
        bytes("/api/models").await,
        json(&models::build(state, &table).await.unwrap())
    );
    assert_eq!(
        bytes("/api/performance").await,
        json(
            &performance::build(state, &state.published.charts, now)
                .await
                .unwrap()
        )
    );
    assert_eq!(
        bytes("/api/prices/latest").await,
        json(&prices::build_latest(state).await.unwrap())
    );
    // Source ages are computed when the answer is built; the rest must agree.
    let mut published: SourcesResponse = app.get("/api/sources").await.json().await.unwrap();
    let mut fresh = sources::build(state, now).await.unwrap();
    let strip = |s: &mut SourcesResponse| s.sources.iter_mut().for_each(|x| x.data_age_seconds = None);
    strip(&mut published);
    strip(&mut fresh);
    assert_eq!(published, fresh);
}

/// The published answers, rebuilt from what each commit changed (the accuracy blocks the
/// published state keeps, re-read where a scoring run touched them), stay byte for byte what a
/// fresh build gives while predictions are made and scored and time passes.
#[tokio::test]
async fn answers_rebuilt_from_what_changed_equal_a_fresh_build_as_predictions_are_scored() {
    let (app, runner) = replaying().await;
    for _ in 0..16 {
        app.state.clock.advance(300);
        runner.run(Job::Candles).await.unwrap();
        runner.run(Job::Predict).await.unwrap();
        same_as_a_fresh_build(&app).await;
    }
    // Candles alone (a runner without models: no tick, no scoring): the scored predictions that
    // waited for their exit candle are traded now, in the published performance too.
    let candles_only = app.runner(app.collectors(crate::helpers::default_settings().upstream));
    for _ in 0..3 {
        app.state.clock.advance(60);
        candles_only.run(Job::Candles).await.unwrap();
        same_as_a_fresh_build(&app).await;
    }
    let accuracy: shared::AccuracyResponse = app.get("/api/accuracy?horizon=30m").await.json().await.unwrap();
    let scored: u32 = accuracy.rows.iter().map(|r| r.live[0].n).sum();
    assert!(
        scored >= 3 * 6,
        "the 30 min predictions of the first 40 minutes are scored: {scored}"
    );
}

/// A live prediction scored before the candle it exits at is stored is traded by the published
/// performance once that candle arrives, though nothing of its model is scored then: the kept
/// figures of a model waiting for an exit candle are computed again.
#[tokio::test]
async fn a_scored_prediction_waiting_for_its_exit_candle_is_traded_when_the_candle_arrives() {
    let (app, runner) = replaying().await;
    let state = &app.state;
    let (coin, horizon) = (shared::Coin::BTC, shared::Horizon::M30);
    let model = state.registry.get(coin, horizon).unwrap().card.id.clone();
    let base_s = state.base_s;
    let newest = coincast::db::candles::latest_of(&state.db, coin, base_s)
        .await
        .unwrap()
        .unwrap()
        .ts;
    // Its target is the newest stored bar's close, so it is scored a minute after it (the
    // scorer's margin); it exits at the open of the bar after that, which is not stored yet.
    // LONG: confidence 0.8 over a 0.4 threshold.
    let made_at = newest + base_s - horizon.seconds();
    let mut row = coincast::db::predictions::new_row(coin, horizon, made_at, 0.9, 100.0, &model, false);
    row.signal_threshold = sea_orm::Set(Some(0.4));
    coincast::db::predictions::insert(&state.db, vec![row], state.clock.now())
        .await
        .unwrap();
    let live_trades = || async {
        let answer: shared::PerformanceResponse = app.get("/api/performance").await.json().await.unwrap();
        let figures = answer
            .models
            .into_iter()
            .find(|m| m.coin == coin && m.horizon == horizon)
            .unwrap();
        (figures.live.n, figures.live.long_short.trades)
    };
    state.clock.advance(60);
    runner.run(Job::Predict).await.unwrap();
    let stored = coincast::db::predictions::made_at(&state.db, made_at)
        .await
        .unwrap();
    let row = stored
        .iter()
        .find(|p| p.coin == coin.ticker() && p.horizon == horizon.as_str());
    assert_eq!(
        row.map(|p| p.outcome),
        Some(coincast::db::entities::prediction::Outcome::Scored),
        "{stored:?}"
    );
    same_as_a_fresh_build(&app).await;
    assert_eq!(
        live_trades().await,
        (1, 0),
        "scored, not traded: no exit candle yet"
    );

    // The exit candle, through a runner without models: no tick, no score.
    let candles_only = app.runner(app.collectors(crate::helpers::default_settings().upstream));
    state.clock.advance(base_s);
    candles_only.run(Job::Candles).await.unwrap();
    same_as_a_fresh_build(&app).await;
    assert_eq!(live_trades().await, (1, 1), "traded at the exit candle's open");
}
