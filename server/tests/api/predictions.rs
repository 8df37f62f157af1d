//! The prediction engine on the replayed real data, scoring, live accuracy and the predictions API.

use coincast::db::entities::prediction;
use coincast::jobs::{Job, Runner};
use coincast::predict::minutes::MinuteCache;
use coincast::predict::tick;
use coincast::predict::{features, score};
use sea_orm::{ActiveValue::Set, EntityTrait};
use shared::{
    AccuracyResponse, ApiErrorBody, Coin, Direction, ErrorCode, Horizon, ModelsResponse, Outcome,
    PredictionHistory, PredictionsResponse,
};

use crate::helpers::{Frontend, TestApp, spawn_app};

/// A server replaying the bundled sample with its five days of warm-up stored (by one run of the
/// candles job, so nothing moves while a test runs), and the minute after the newest candle.
async fn replaying() -> (TestApp, i64) {
    let app = replaying_with(coincast::clock::Clock::system(), |_| {}).await;
    let newest = crate::helpers::newest_minute_of_every_coin(&app).await;
    (app, newest + 60)
}

/// [`replaying`] on `clock`, with settings changed by `tweak` first.
async fn replaying_with(
    clock: coincast::clock::Clock,
    tweak: impl FnOnce(&mut coincast::config::Settings),
) -> TestApp {
    let app = crate::helpers::spawn_app_at(clock, Frontend::Fixture, |s| {
        s.replay.enabled = true;
        s.jobs.enabled = false;
        tweak(s);
    })
    .await;
    let upstream = crate::helpers::default_settings().upstream;
    let collectors = Runner::collecting(app.collectors(upstream));
    collectors.run(Job::Candles).await.unwrap();
    app
}

#[tokio::test]
async fn all_18_shipped_models_predict_on_replayed_data() {
    let (app, t) = replaying().await;
    // The production tick, as the job runs it: at the quarter hour every model is due, at the
    // minutes between only the 30 min to 2 h ones (the 4 h to 12 h ones stay current 15 minutes).
    let quarter = t / 900 * 900;
    let kept = MinuteCache::default();
    let outcome = tick::tick(
        &app.state.db,
        &app.state.registry,
        &kept,
        60,
        quarter,
        coincast::clock::now(),
    )
    .await
    .unwrap();
    // The replay carries the market series too: every model can predict.
    assert_eq!((outcome.made, outcome.skipped), (18, vec![]));
    let mut made = 18;
    if t != quarter {
        let outcome = tick::tick(
            &app.state.db,
            &app.state.registry,
            &kept,
            60,
            t,
            coincast::clock::now(),
        )
        .await
        .unwrap();
        assert_eq!((outcome.made, outcome.skipped), (9, vec![]));
        made += 9;
    }
    for row in prediction::Entity::find().all(&app.state.db).await.unwrap() {
        assert!(
            (0.0..=1.0).contains(&row.p_up) && row.reference_price > 0.0,
            "{row:?}"
        );
    }

    app.refresh().await;
    let body: PredictionsResponse = app.get("/api/predictions").await.json().await.unwrap();
    assert_eq!(body.predictions.len(), 18);
    for p in &body.predictions {
        match &p.prediction {
            Some(pred) => {
                let at = if p.horizon.cadence_minutes() == 1 {
                    t
                } else {
                    quarter
                };
                assert_eq!(pred.made_at.timestamp(), at, "{p:?}");
                assert_eq!(pred.target_at.timestamp(), at + p.horizon.seconds());
                assert_eq!(pred.direction, Direction::from_p_up(pred.p_up));
                assert_eq!(pred.outcome, Outcome::Pending);
                assert!(!pred.backfilled);
            }
            None => assert!(
                p.not_made_reason
                    .as_deref()
                    .unwrap_or_default()
                    .contains("missing series"),
                "{p:?}"
            ),
        }
    }
    let btc: PredictionsResponse = app
        .get("/api/predictions?coin=BTC&horizon=1h")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(btc.predictions.len(), 1);
    assert_eq!(
        (btc.predictions[0].coin, btc.predictions[0].horizon),
        (Coin::BTC, Horizon::H1)
    );

    // Predicting the same minute again stores nothing new (the job is idempotent).
    tick::tick(
        &app.state.db,
        &app.state.registry,
        &kept,
        60,
        t,
        coincast::clock::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        prediction::Entity::find().all(&app.state.db).await.unwrap().len(),
        made
    );
}

#[tokio::test]
async fn past_predictions_are_scored_against_the_real_close_and_counted_apart_when_backfilled() {
    let (app, now) = replaying().await;
    // The start-up backfill (production's), of LTC's 30 min model alone, over one hourly step:
    // one backfilled prediction, three hours back.
    let t = (now - 3 * 3600) / 3600 * 3600;
    let models = crate::helpers::models_only(&[(Coin::LTC, Horizon::M30)]);
    let registry = coincast::predict::registry::Registry::load(models.path()).unwrap();
    // As run a minute after `t` (a backfill leaves its own current minute to the live tick).
    assert_eq!(
        tick::backfill(&app.state.db, &registry, 60, t + 60, 1, 3600)
            .await
            .unwrap(),
        1
    );
    let row = prediction::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.made_at, row.backfilled), (t, true));
    let (p_up, reference_price) = (row.p_up, row.reference_price);
    let (scored, gave_up) = score::score_due(&app.state.db, 60, chrono::Utc::now().timestamp())
        .await
        .unwrap();
    assert_eq!((scored, gave_up), (1, 0));
    let row = prediction::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let target_close =
        coincast::db::entities::candle::Entity::find_by_id((shared::Coin::LTC, 60, t + 1800 - 60))
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap()
            .close;
    assert_eq!(row.realized_price, Some(target_close));
    assert_eq!(
        row.correct,
        Some((target_close > reference_price) == models::predicts_up(p_up))
    );
    assert_eq!(row.outcome, coincast::db::entities::prediction::Outcome::Scored);

    app.refresh().await;
    let acc: AccuracyResponse = app
        .get("/api/accuracy?coin=LTC&horizon=30m")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(acc.rows.len(), 1);
    assert_eq!(
        acc.rows[0].live[0].n, 0,
        "backfilled predictions are not live ones"
    );
    assert_eq!(acc.rows[0].backfilled[0].n, 1);
}

async fn insert(app: &TestApp, made_at: i64, p_up: f64, reference: f64, realized: f64) {
    let row = prediction::ActiveModel {
        coin: Set("XRP".into()),
        horizon: Set("1h".into()),
        made_at: Set(made_at),
        target_at: Set(made_at + 3600),
        p_up: Set(p_up),
        reference_price: Set(reference),
        model_id: Set("XRP-1h-test".into()),
        backfilled: Set(false),
        outcome: Set(coincast::db::entities::prediction::Outcome::Scored),
        realized_price: Set(Some(realized)),
        realized_return: Set(Some((realized - reference) / reference)),
        correct: Set(Some((realized > reference) == models::predicts_up(p_up))),
        scored_at: Set(Some(made_at + 3660)),
        ..Default::default()
    };
    prediction::Entity::insert(row).exec(&app.state.db).await.unwrap();
    app.refresh().await;
}

#[tokio::test]
async fn live_accuracy_matches_a_hand_computed_example_and_304s_on_a_matching_etag() {
    let app = spawn_app(Frontend::Fixture).await;
    let now = chrono::Utc::now().timestamp() / 60 * 60;
    // UP right, UP wrong, DOWN right, UP right: 3 of 4; two went up, two down.
    insert(&app, now - 7200, 0.7, 1.0, 1.1).await;
    insert(&app, now - 7140, 0.6, 1.0, 0.9).await;
    insert(&app, now - 7080, 0.4, 1.0, 0.95).await;
    insert(&app, now - 7020, 0.8, 1.0, 1.2).await;
    // Older than 24 h: only in the 7-day window.
    insert(&app, now - 2 * 86_400, 0.9, 1.0, 0.8).await;

    app.refresh().await;
    let acc: AccuracyResponse = app
        .get("/api/accuracy?horizon=1h&coin=XRP")
        .await
        .json()
        .await
        .unwrap();
    let day = &acc.rows[0].live[0];
    assert_eq!((day.window.as_str(), day.n, day.hits), ("24h", 4, 3));
    assert_eq!(day.accuracy, Some(0.75));
    assert_eq!(day.baseline_accuracy, Some(0.5));
    assert!((day.brier.unwrap() - 0.1625).abs() < 1e-12);
    // The four 1 h predictions a minute apart fall in one or two hour-long blocks: that many
    // independent outcomes, not four.
    let blocks: std::collections::BTreeSet<i64> = [7200, 7140, 7080, 7020]
        .iter()
        .map(|back| (now - back) / 3600)
        .collect();
    assert_eq!(day.n_effective as usize, blocks.len());
    // Wilson 95% over the effective n: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n).
    let (p, n, z) = (0.75f64, blocks.len() as f64, 1.959_963_984_540_054f64);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    assert!(
        (day.wilson_low.unwrap() - (centre - half)).abs() < 1e-4,
        "{day:?}"
    );
    assert!(
        (day.wilson_high.unwrap() - (centre + half)).abs() < 1e-4,
        "{day:?}"
    );
    let week = &acc.rows[0].live[1];
    assert_eq!((week.n, week.hits), (5, 3));

    let first = app.get("/api/predictions").await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        first.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public, max-age=")
    );
    let body: PredictionsResponse = first.json().await.unwrap();
    let xrp = body
        .predictions
        .iter()
        .find(|p| p.coin == Coin::XRP && p.horizon == Horizon::H1)
        .unwrap();
    assert_eq!(xrp.accuracy_7d.n, 5);
    // Its newest prediction (made two hours ago, due again a minute later) has expired: it is no
    // current prediction, and the entry says so.
    assert!(xrp.prediction.is_none(), "{xrp:?}");
    let reason = xrp.not_made_reason.as_deref().unwrap();
    let made = chrono::DateTime::from_timestamp(now - 7020, 0).unwrap();
    assert!(
        reason.contains("expired") && reason.contains(&made.format("%Y-%m-%d %H:%M UTC").to_string()),
        "{reason}"
    );
    let again = app
        .client
        .get(format!("{}/api/predictions", app.address))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn no_data_means_no_prediction_and_a_recorded_reason() {
    let app = spawn_app(Frontend::Fixture).await;
    let t = coincast::clock::current_minute();
    let outcome = tick::tick(
        &app.state.db,
        &app.state.registry,
        &MinuteCache::default(),
        60,
        t,
        coincast::clock::now(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.made, 0, "predicted from nothing");
    let (_, _, reason) = outcome
        .skipped
        .into_iter()
        .find(|(c, h, _)| (*c, *h) == (Coin::BTC, Horizon::H2))
        .expect("BTC 2h skipped");
    assert!(reason.contains("no BTC minutes stored"), "{reason}");
    app.refresh().await;
    let body: PredictionsResponse = app
        .get("/api/predictions?coin=BTC&horizon=2h")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body.predictions[0].prediction, None);
    assert_eq!(
        body.predictions[0].not_made_reason.as_deref(),
        Some(reason.as_str())
    );
}

#[tokio::test]
async fn bad_prediction_parameters_get_400s_naming_them() {
    let app = spawn_app(Frontend::Fixture).await;
    for (url, parameter) in [
        ("/api/predictions?coin=DOGE", "coin"),
        ("/api/predictions?horizon=3h", "horizon"),
        ("/api/accuracy?horizon=week", "horizon"),
        ("/api/accuracy?coin=", "coin"),
    ] {
        let r = app.get(url).await;
        assert_eq!(r.status(), 400, "{url}");
        let body: ApiErrorBody = r.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::InvalidParameter, "{url}");
        assert_eq!(body.parameter.as_deref(), Some(parameter), "{url}");
    }
}

#[tokio::test]
async fn a_fresh_install_backfills_marked_predictions_the_same_as_live_ones() {
    let (app, now) = replaying().await;
    let made = tick::backfill(&app.state.db, &app.state.registry, app.state.base_s, now, 6, 900)
        .await
        .unwrap();
    assert_eq!(made, 6 * 4 * 18, "every 15 minutes over 6 hours, every model");
    let rows = prediction::Entity::find().all(&app.state.db).await.unwrap();
    assert!(rows.iter().all(|r| r.backfilled && r.made_at % 900 == 0));
    // The newest quarter-hour before now is included (unless it is the current minute, the live
    // tick's): the 4 h to 12 h models, due every 15 minutes, have a current prediction right
    // after a start, none expired (the others' current minute is the start's first live tick).
    if now % 900 != 0 {
        app.refresh().await;
        let current: PredictionsResponse = app.get("/api/predictions").await.json().await.unwrap();
        let quarterly: Vec<_> = current
            .predictions
            .iter()
            .filter(|e| e.cadence_minutes == 15)
            .collect();
        assert_eq!(quarterly.len(), 9);
        assert!(
            quarterly.iter().all(|e| e.prediction.is_some()),
            "{:?}",
            quarterly.iter().map(|e| &e.not_made_reason).collect::<Vec<_>>()
        );
    }
    assert!(
        rows.iter()
            .any(|r| r.outcome == coincast::db::entities::prediction::Outcome::Scored),
        "past targets are scored at once"
    );
    // Running it again adds nothing.
    assert_eq!(
        tick::backfill(&app.state.db, &app.state.registry, app.state.base_s, now, 6, 900)
            .await
            .unwrap(),
        0
    );

    // The batched path gives what a single live prediction at that minute gives.
    let sample = rows
        .iter()
        .find(|r| r.coin == "XRP" && r.horizon == "4h")
        .unwrap();
    let model = app.state.registry.get(Coin::XRP, Horizon::H4).unwrap();
    let (x, reference) = features::features_at(&app.state.db, model.reads(), 60, sample.made_at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reference, sample.reference_price);
    assert!((model.predict(&x).unwrap() - sample.p_up).abs() < 1e-9);

    app.refresh().await;
    let acc: AccuracyResponse = app
        .get("/api/accuracy?coin=XRP&horizon=30m")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(acc.rows[0].live[0].n, 0);
    assert!(
        acc.rows[0].backfilled[0].n >= 20,
        "{:?}",
        acc.rows[0].backfilled[0]
    );
}

/// A model the start-up backfill cannot run says why at once: a replayed folder has no market
/// series, which ADA's 4 h model reads; its other models predict.
#[tokio::test]
async fn a_model_the_backfill_cannot_run_says_why_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // Real BTC candles under ADA's name (the coin is read from the file name).
    std::fs::copy(
        crate::training::five_minutes(),
        dir.path().join("ADA_USDT-5m.json"),
    )
    .unwrap();
    let replay_dir = dir.path().to_path_buf();
    // Halfway through a 5-minute bar, never on a bar's first minute: that minute's predictions
    // are the live tick's, not the backfill's (on the system clock the test failed there).
    let at = coincast::clock::current_minute() / 300 * 300 + 150;
    let app = replaying_with(coincast::clock::Clock::fixed(at), |s| {
        s.replay.dir = Some(replay_dir);
        s.coins = coincast::coins::Coins::of(&[Coin::ADA]);
    })
    .await;
    let now = app.state.clock.now();
    let made = tick::backfill(&app.state.db, &app.state.registry, app.state.base_s, now, 6, 900)
        .await
        .unwrap();
    assert!(made > 0);
    app.refresh().await;
    let current: PredictionsResponse = app.get("/api/predictions").await.json().await.unwrap();
    assert_eq!(current.predictions.len(), 6);
    for entry in &current.predictions {
        if entry.horizon == Horizon::H4 {
            assert!(entry.prediction.is_none());
            let reason = entry.not_made_reason.as_deref().unwrap_or_default();
            assert!(
                reason.starts_with("missing series: the model needs gold"),
                "{reason}"
            );
        } else {
            assert!(entry.prediction.is_some(), "{entry:?}");
            assert_eq!(entry.not_made_reason, None);
        }
    }
}

#[tokio::test]
async fn history_pages_newest_first_and_models_describe_themselves() {
    let (app, now) = replaying().await;
    tick::backfill(&app.state.db, &app.state.registry, app.state.base_s, now, 6, 900)
        .await
        .unwrap();
    let to = now / 900 * 900;
    let url = |extra: &str| format!("/api/predictions/history?to={to}{extra}");
    // The default: 3 hours at 15-minute steps, every coin and horizon: 12 x 18 rows, 200 a page.
    let first: PredictionHistory = app.get(&url("")).await.json().await.unwrap();
    assert_eq!(first.predictions.len(), 200);
    let times: Vec<i64> = first.predictions.iter().map(|p| p.made_at.timestamp()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert_eq!(times[0], to - 900);
    let cursor = first.next_cursor.clone().expect("a second page");
    let second: PredictionHistory = app
        .get(&url(&format!("&cursor={cursor}")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second.predictions.len(), 12 * 18 - 200);
    assert_eq!(second.next_cursor, None);
    assert!(second.predictions[0].made_at <= first.predictions[199].made_at);
    let btc: PredictionHistory = app
        .get(&url("&coin=BTC&horizon=12h&limit=5"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(btc.predictions.len(), 5);
    assert!(
        btc.predictions
            .iter()
            .all(|p| p.coin == Coin::BTC && p.horizon == Horizon::H12 && p.backfilled)
    );

    for (extra, parameter) in [
        ("&limit=0", "limit"),
        ("&limit=5000", "limit"),
        ("&step_minutes=0", "step_minutes"),
        ("&cursor=abc", "cursor"),
        ("&from=1764633600000", "from"),
        ("&horizon=13h", "horizon"),
    ] {
        let r = app.get(&url(extra)).await;
        assert_eq!(r.status(), 400, "{extra}");
        let body: ApiErrorBody = r.json().await.unwrap();
        assert_eq!(
            body.parameter.as_deref(),
            Some(parameter),
            "{extra}: {}",
            body.message
        );
    }

    app.refresh().await;
    let models: ModelsResponse = app.get("/api/models").await.json().await.unwrap();
    assert_eq!(models.models.len(), 18);
    for m in &models.models {
        let card = &app.state.registry.get(m.coin, m.horizon).unwrap().card;
        assert_eq!(m.id, card.id);
        assert_eq!(m.walk_forward.n as usize, card.walk_forward.metrics.n);
        assert_eq!(m.live.len(), 3);
        // The evaluation report's curves, as the models crate measured them.
        assert_eq!(
            m.walk_forward.accuracy_vs_coverage.len(),
            card.walk_forward.accuracy_vs_coverage.len()
        );
        let full = m.walk_forward.accuracy_vs_coverage.last().unwrap();
        assert_eq!((full.coverage, full.accuracy), (1.0, m.walk_forward.accuracy));
        assert_eq!(full.n, m.walk_forward.n);
        let binned: u32 = m.walk_forward.reliability.iter().map(|b| b.n).sum();
        assert_eq!(
            binned, m.walk_forward.n,
            "every test row is in one reliability bin"
        );
    }
}

/// Reads server-sent events until one of `kind` arrives (or 15 s pass).
async fn next_event(resp: &mut reqwest::Response, buf: &mut String, kind: &str) -> (Option<String>, String) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
            };
            if field("event").as_deref() == Some(kind) {
                return (field("id"), field("data").unwrap_or_default());
            }
        }
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {kind} event within 15 s"))
            .unwrap()
            .expect("the stream ended");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Stores a live prediction as the tick does (published now, with its `prediction` event).
async fn publish(app: &TestApp, coin: Coin, made_at: i64, p_up: f64) {
    let row = coincast::db::predictions::new_row(coin, Horizon::H1, made_at, p_up, 1.0, "test", false);
    coincast::db::predictions::insert(&app.state.db, vec![row], coincast::clock::now())
        .await
        .unwrap();
    app.refresh().await;
}

async fn stream(app: &TestApp, query: &str, last_event_id: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}/api/stream{query}", app.address));
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn the_event_stream_sends_new_predictions_and_resumes_with_the_same_ids() {
    let app = spawn_app(Frontend::Fixture).await;
    let now = chrono::Utc::now().timestamp() / 60 * 60;
    publish(&app, Coin::XRP, now - 7200, 0.7).await;
    let mut resp = stream(&app, "", None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut buf = String::new();
    // Connected after the first prediction: only what comes next.
    publish(&app, Coin::XRP, now - 3600, 0.3).await;
    let (id, data) = next_event(&mut resp, &mut buf, "prediction").await;
    let p: shared::Prediction = serde_json::from_str(&data).unwrap();
    assert_eq!(
        (p.made_at.timestamp(), p.direction),
        (now - 3600, Direction::Down)
    );
    assert!(p.id > 0 && p.published_at >= p.made_at && p.valid_until > p.made_at);
    let id: i64 = id.expect("an event id").parse().unwrap();

    // Reconnecting from before everything replays both predictions with the same ids, as a
    // header or as a query parameter; given both (an `EventSource` reconnecting to a URL with
    // an old id), the header wins.
    let newest_in_query = format!("?last_event_id={id}");
    for (query, header) in [
        ("", Some("0")),
        ("?last_event_id=0", None),
        (&*newest_in_query, Some("0")),
    ] {
        let mut again = stream(&app, query, header).await;
        let mut buf2 = String::new();
        let (first_id, first) = next_event(&mut again, &mut buf2, "prediction").await;
        let (second_id, second) = next_event(&mut again, &mut buf2, "prediction").await;
        assert_eq!(second_id.as_deref(), Some(id.to_string().as_str()));
        assert!(first_id.unwrap().parse::<i64>().unwrap() < id);
        let first: shared::Prediction = serde_json::from_str(&first).unwrap();
        let second: shared::Prediction = serde_json::from_str(&second).unwrap();
        assert_eq!(second.id, p.id);
        assert!(first.id < second.id);
    }

    // `follow=false`: what was missed, then the end of the response (a bounded read).
    let body = stream(&app, "?last_event_id=0&follow=false", None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body.matches("event: prediction\n").count(), 2, "{body}");
    assert!(body.contains(&format!("id: {id}\n")), "{body}");
    let body = stream(&app, "?follow=0", None).await.text().await.unwrap();
    assert!(!body.contains("event:"), "nothing missed without an id: {body}");

    // A filter: only BTC's events, although the resume starts before the XRP ones.
    let mut btc = stream(&app, "?coin=BTC&type=prediction&last_event_id=0", None).await;
    publish(&app, Coin::BTC, now - 60, 0.6).await;
    let mut buf3 = String::new();
    let (_, data) = next_event(&mut btc, &mut buf3, "prediction").await;
    let p: shared::Prediction = serde_json::from_str(&data).unwrap();
    assert_eq!(p.coin, Coin::BTC);

    for (query, header) in [
        ("", Some("yesterday")),
        ("", Some("0-0-0")),
        ("?last_event_id=-1", None),
        ("?last_event_id=1", Some("x")),
        ("?last_event_id=x", Some("1")),
        ("?coin=btc", None),
        ("?type=prices", None),
        ("?horizon=1H", None),
        ("?follow=no", None),
    ] {
        let bad = stream(&app, query, header).await;
        assert_eq!(bad.status(), 400, "{query} {header:?}");
        let body: ApiErrorBody = bad.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::InvalidParameter);
    }
}

#[tokio::test]
async fn a_resume_from_far_back_is_capped_and_says_what_it_skipped() {
    let app = spawn_app(Frontend::Fixture).await;
    let start = chrono::Utc::now().timestamp() / 60 * 60 - 2000 * 60;
    let rows = (0..1005)
        .map(|i| {
            coincast::db::predictions::new_row(Coin::LTC, Horizon::H1, start + i * 60, 0.6, 1.0, "t", false)
        })
        .collect();
    coincast::db::predictions::insert(&app.state.db, rows, coincast::clock::now())
        .await
        .unwrap();
    app.refresh().await;
    let mut resp = stream(&app, "?last_event_id=0", None).await;
    let mut buf = String::new();
    let (id, data) = next_event(&mut resp, &mut buf, "skipped").await;
    let skipped: shared::SkippedEvents = serde_json::from_str(&data).unwrap();
    assert_eq!((skipped.first_id, skipped.last_id), (1, 5));
    assert_eq!(id.as_deref(), Some("5"));
    let (id, _) = next_event(&mut resp, &mut buf, "prediction").await;
    assert_eq!(id.as_deref(), Some("6"));
}
