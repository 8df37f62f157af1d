//! The read routes from memory: chart bars kept and rolled up as minutes arrive (equal to the
//! database read, gaps and flags included), history pages kept until the data changes, health
//! that checks the database at most once a second, and cheap requests that stay cheap while
//! slow ones run.

use coincast::clock::{self, DAY_S, MINUTE_S};
use coincast::db::candles::read_candles;
use coincast::http::charts::RECOUNT_EVERY_S;
use models::history::Bar;
use sea_orm::{ActiveModelTrait, Set};
use shared::{CandlesResponse, Coin, HealthResponse, PredictionHistory};

use crate::helpers::{Frontend, TestApp, spawn_app, store_minutes};

fn bar(ts: i64, close: f64) -> Bar {
    Bar {
        ts,
        open: close - 0.25,
        high: close + 1.0,
        low: close - 1.0,
        close,
        volume: 1.0 + (ts / 60 % 5) as f64,
    }
}

/// Two days of BTC minutes up to the current minute, with gaps of every kind: single minutes,
/// 90 minutes (longer than the hour a gap at a chart's start is carried from), across midnight.
async fn gappy(app: &TestApp) -> (i64, i64) {
    let newest = clock::current_minute() - MINUTE_S;
    let first = newest - 2 * DAY_S;
    let bars: Vec<Bar> = (0..=2 * 1440)
        .map(|i| first + i * MINUTE_S)
        .filter(|t| {
            let m = (t - first) / 60;
            !(m % 53 == 7 || (600..690).contains(&m) || t.rem_euclid(DAY_S) < 5 * MINUTE_S)
        })
        .map(|t| bar(t, 100.0 + ((t / 60) as f64 * 0.31).sin() * 4.0))
        .collect();
    store_minutes(&app.state.db, Coin::BTC, &bars).await;
    app.refresh().await;
    (first, newest)
}

/// `/api/prices` over `[from, to)` against the read-time rule on the database, bar for bar.
async fn same_as_database(app: &TestApp, step: i64, res: &str, from: i64, to: i64) -> usize {
    same_for(app, Coin::BTC, step, res, from, to).await
}

async fn same_for(app: &TestApp, coin: Coin, step: i64, res: &str, from: i64, to: i64) -> usize {
    let body: CandlesResponse = app
        .get(&format!(
            "/api/prices?coin={}&resolution={res}&from={from}&to={to}",
            coin.ticker()
        ))
        .await
        .json()
        .await
        .unwrap();
    let (from, to) = (
        from.div_euclid(step) * step,
        (to + step - 1).div_euclid(step) * step,
    );
    assert!(
        app.state
            .published
            .charts
            .with(coin, |c| c.bars(from, to, step).is_some())
            .unwrap(),
        "served from memory"
    );
    let want = read_candles(&app.state.db, coin, 60, from, to, step)
        .await
        .unwrap();
    let got: Vec<_> = body
        .candles
        .iter()
        .map(|c| (c.t.timestamp(), c.o, c.h, c.l, c.c, c.v, c.filled))
        .collect();
    let want: Vec<_> = want
        .iter()
        .map(|r| {
            (
                r.bar.ts,
                r.bar.open,
                r.bar.high,
                r.bar.low,
                r.bar.close,
                r.bar.volume,
                r.filled,
            )
        })
        .collect();
    // The same bars; prices to within a unit of their last digit (JSON's decimal form read back).
    let key = |v: &[(i64, f64, f64, f64, f64, f64, bool)]| -> Vec<(i64, bool)> {
        v.iter().map(|b| (b.0, b.6)).collect()
    };
    assert_eq!(key(&got), key(&want), "{res} from {from} to {to}");
    for (g, w) in got.iter().zip(&want) {
        for (a, b) in [(g.1, w.1), (g.2, w.2), (g.3, w.3), (g.4, w.4), (g.5, w.5)] {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "{res} at {}: {g:?} vs {w:?}",
                g.0
            );
        }
    }
    got.len()
}

#[tokio::test]
async fn chart_bars_from_memory_equal_the_database_read_and_follow_new_and_late_minutes() {
    let app = spawn_app(Frontend::Fixture).await;
    let (first, newest) = gappy(&app).await;
    let mut bars = 0;
    for (step, res) in [(60, "1m"), (300, "5m"), (900, "15m"), (3600, "1h"), (DAY_S, "1d")] {
        // Starts across the two days (in and around the gaps), 200 bars or to the newest.
        for k in 0..12 {
            let from = first + CARRY_MARGIN + k * 3 * 3600 + k * 7 * MINUTE_S;
            // 200 bars, or the 70 days one request reads at most (the route's bound).
            let n = 200.min(60 * DAY_S / step);
            bars += same_as_database(&app, step, res, from, from + n * step).await;
            bars += same_as_database(&app, step, res, from, newest + 2 * MINUTE_S).await;
        }
    }
    assert!(bars > 10_000, "{bars}");

    // The next minute: each resolution's newest bar takes it in once.
    let hour: CandlesResponse = app
        .get(&format!(
            "/api/prices?coin=BTC&resolution=1h&from={}&to={}",
            newest - 3 * 3600,
            newest + 2 * 3600
        ))
        .await
        .json()
        .await
        .unwrap();
    let last = hour.candles.last().unwrap().clone();
    let next = bar(newest + MINUTE_S, 222.0);
    store_minutes(&app.state.db, Coin::BTC, &[next]).await;
    app.refresh().await;
    let from = next.ts.div_euclid(3600) * 3600;
    same_as_database(&app, 3600, "1h", from, from + 3600).await;
    let now: CandlesResponse = app
        .get(&format!(
            "/api/prices?coin=BTC&resolution=1h&from={from}&to={}",
            from + 3600
        ))
        .await
        .json()
        .await
        .unwrap();
    let bar = &now.candles[0];
    assert_eq!(bar.c, 222.0);
    if last.t.timestamp() == from {
        assert_eq!(bar.v, last.v + next.volume, "counted once");
    } else {
        assert_eq!(bar.v, next.volume);
    }

    // A minute stored late into the 90-minute gap (an import, a backfill): noticed when the
    // older minutes are next counted.
    let late = bar_at(first + 620 * MINUTE_S);
    store_minutes(&app.state.db, Coin::BTC, &[late]).await;
    let db = app.state.db.clone();
    let charts = &app.state.published.charts;
    charts
        .refresh(&db, clock::now() + RECOUNT_EVERY_S + 1)
        .await
        .unwrap();
    app.refresh().await;
    let from = first + CARRY_MARGIN;
    same_as_database(&app, 60, "1m", from, from + 1000 * 60).await;
    same_as_database(&app, 900, "15m", from, from + 200 * 900).await;
    let filled: CandlesResponse = app
        .get(&format!(
            "/api/prices?coin=BTC&resolution=1m&from={}&to={}",
            late.ts,
            late.ts + 60
        ))
        .await
        .json()
        .await
        .unwrap();
    assert!(!filled.candles[0].filled && filled.candles[0].c == late.close);
}

#[tokio::test]
async fn chart_bars_from_memory_equal_the_database_read_on_the_bundled_replay() {
    // The replay's warm-up: days of real minutes of every coin, shifted to now.
    let (app, _) = crate::published::replaying().await;
    let newest = app.state.clock.current_minute();
    let mut bars = 0;
    for coin in crate::helpers::COINS {
        for (step, res) in [(60, "1m"), (300, "5m"), (900, "15m"), (3600, "1h"), (DAY_S, "1d")] {
            // Within the 5,000 bars one request returns.
            for days in [1, 2, 3] {
                let from = newest - days * DAY_S + 17 * MINUTE_S;
                bars += same_for(&app, coin, step, res, from, newest + step).await;
            }
        }
    }
    assert!(bars > 10_000, "{bars}");
}

/// Chart starts begin this far after the first stored minute (the hour a gap is carried from).
const CARRY_MARGIN: i64 = 3600;

fn bar_at(ts: i64) -> Bar {
    bar(ts, 333.0)
}

async fn predict(app: &TestApp, made_at: i64, p_up: f64) {
    coincast::db::entities::prediction::ActiveModel {
        coin: Set("BTC".into()),
        horizon: Set("1h".into()),
        made_at: Set(made_at),
        target_at: Set(made_at + 3600),
        p_up: Set(p_up),
        reference_price: Set(100.0),
        model_id: Set("BTC-1h-test".into()),
        backfilled: Set(false),
        outcome: Set(coincast::db::entities::prediction::Outcome::Pending),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn history_pages_from_memory_equal_the_databases_until_the_data_changes() {
    let app = spawn_app(Frontend::Fixture).await;
    // On the page's 15-minute steps.
    let now = clock::current_minute() / 900 * 900;
    for k in 1..=40 {
        predict(&app, now - k * 15 * MINUTE_S, 0.5 + k as f64 / 100.0).await;
    }
    app.refresh().await;
    let url = "/api/predictions/history?coin=BTC&limit=7";
    let first = app.get(url).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let first: PredictionHistory = first.json().await.unwrap();
    assert_eq!(first.predictions.len(), 7);
    // Asked again: the same bytes (kept), and what the database holds.
    let again = app.get(url).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    let filter = coincast::db::predictions::HistoryFilter {
        coin: Some(Coin::BTC),
        horizon: None,
        from: now + 60 - 3 * 3600,
        to: now + 60,
        step_minutes: 15,
        cursor: None,
        limit: 7,
    };
    let rows = coincast::db::predictions::history(&app.state.db, filter)
        .await
        .unwrap();
    let want = coincast::db::predictions::to_dtos(&rows[..7], 60);
    let ids = |v: &[shared::Prediction]| -> Vec<(i64, i64)> {
        v.iter().map(|p| (p.id, p.made_at.timestamp())).collect()
    };
    assert_eq!(ids(&first.predictions), ids(&want));
    // The next page by its cursor, then a prediction made: a refresh makes the new one show.
    let cursor = first.next_cursor.clone().unwrap();
    let second: PredictionHistory = app
        .get(&format!("{url}&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(second.predictions[0].made_at < first.predictions[6].made_at);
    predict(&app, now, 0.9).await;
    app.refresh().await;
    let fresh: PredictionHistory = app.get(url).await.json().await.unwrap();
    assert_eq!(fresh.predictions[0].made_at.timestamp(), now);
    assert_eq!(ids(&fresh.predictions[1..]), ids(&first.predictions[..6]));
    // A page whose window ended two days ago no longer changes: caches may keep it.
    let old = app
        .get(&format!("/api/predictions/history?to={}", now - 3 * DAY_S))
        .await;
    assert_eq!(old.headers()["cache-control"], "public, max-age=300");
}

#[tokio::test]
async fn health_checks_the_database_at_most_once_a_second_unless_asked_to() {
    let app = spawn_app(Frontend::Fixture).await;
    let health = |q: &'static str| {
        let app = &app;
        async move {
            let r = app.get(&format!("/api/health{q}")).await;
            let body: HealthResponse = r.json().await.unwrap();
            body.database.latency_ms
        }
    };
    // A deep check now, then plain ones: those within the second reuse it (the same measured
    // latency, to the bit) instead of asking the database again.
    let started = std::time::Instant::now();
    let deep = health("?deep=1").await;
    let plain = [health("").await, health("").await];
    if started.elapsed() < coincast::http::routes::health::CHECK_EVERY {
        assert_eq!(plain, [deep, deep]);
    }
    let deeper = health("?deep=true").await;
    assert_ne!(deeper.to_bits(), deep.to_bits(), "a deep check asks again");
    let r = app.get("/api/health?deep=maybe").await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn cheap_reads_stay_fast_while_slow_reads_run() {
    let app = spawn_app(Frontend::Fixture).await;
    // Ten days of minutes long before the window kept in memory: charts there read the database.
    let old = clock::current_minute() - 200 * DAY_S;
    let bars: Vec<Bar> = (0..10 * 1440).map(|i| bar(old + i * MINUTE_S, 50.0)).collect();
    store_minutes(&app.state.db, Coin::BTC, &bars).await;
    app.refresh().await;
    let slow = |k: i64| {
        let app = &app;
        async move {
            let to = old + 5000 * 60 + k * 60;
            let started = std::time::Instant::now();
            let r = app
                .get(&format!(
                    "/api/prices?coin=BTC&resolution=1m&from={}&to={to}",
                    to - 5000 * 60
                ))
                .await;
            assert_eq!(r.status(), 200);
            assert_eq!(r.json::<CandlesResponse>().await.unwrap().candles.len(), 5000);
            started.elapsed()
        }
    };
    let cheap = || {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let r = app.get("/api/predictions").await;
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
            started.elapsed()
        }
    };
    // Sixteen slow reads at once (each a database read and 5,000 bars serialized), and cheap
    // ones one after another while they run.
    let slows = futures_util::future::join_all((0..16).map(slow));
    let cheaps = async {
        let mut out = Vec::new();
        for _ in 0..40 {
            out.push(cheap().await);
        }
        out
    };
    let (mut slows, mut cheaps) = tokio::join!(slows, cheaps);
    slows.sort();
    cheaps.sort();
    let slow_median = slows[slows.len() / 2];
    let cheap_p95 = cheaps[cheaps.len() * 95 / 100];
    assert!(
        cheap_p95 < slow_median,
        "cheap p95 {cheap_p95:?} while slow reads took {slow_median:?} (median)"
    );
}
