//! `serve --replay`: the bundled real sample fills the database and advances with the clock, with
//! no internet; the API says it is replaying.

use std::sync::Arc;
use std::time::Duration;

use coincast::collect::replay::Replay;
use coincast::collect::run::Collectors;
use coincast::db::entities::candle;
use coincast::jobs::{Job, Runner};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use shared::{CandlesResponse, DataMode, HealthResponse, PricesResponse, SourceState, SourcesResponse};

use crate::helpers::{Frontend, TestApp, eventually, repo_root, spawn_app_with};

async fn btc_minutes(app: &TestApp) -> u64 {
    candle::Entity::find()
        .filter(candle::Column::Coin.eq("BTC"))
        .count(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn replay_fills_the_database_advances_and_says_so() {
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.replay.enabled = true;
        s.jobs.enabled = true;
        s.jobs.run_at_start = true;
        s.jobs.slow_cron = "0 0 0 1 1 * 2099".into();
        // Deliberately unreachable: replay must not need the network.
        s.upstream.bitstamp = "http://127.0.0.1:9".into();
    })
    .await;
    let prices = eventually(Duration::from_secs(60), || async {
        let p: PricesResponse = app.get("/api/prices/latest").await.json().await.unwrap();
        (p.prices.len() == 3).then_some(p)
    })
    .await
    .expect("replayed prices within a minute");
    let DataMode::Replay(info) = &prices.mode else {
        panic!("not replaying: {:?}", prices.mode)
    };
    assert!(info.dataset.contains("bundled sample"), "{info:?}");
    assert_eq!(info.shift_seconds % 60, 0);
    for p in &prices.prices {
        assert_eq!(p.source, "replay:binance-1m-2021-05", "{p:?}");
        let age = chrono::Utc::now() - p.at;
        assert!(
            age.num_seconds() >= 60 && age.num_seconds() < 180,
            "the newest replayed minute is now: {p:?}"
        );
        assert!(p.change_24h_pct.is_some(), "{p:?}");
    }
    // Five days of warm-up, one row per minute (a minute may have passed meanwhile).
    let n = btc_minutes(&app).await;
    assert!((7195..=7202).contains(&n), "{n}");

    let health: HealthResponse = app.get("/api/health").await.json().await.unwrap();
    assert!(matches!(health.mode, DataMode::Replay(_)));
    let sources: SourcesResponse = app.get("/api/sources").await.json().await.unwrap();
    let state = |id: &str| sources.sources.iter().find(|s| s.source == id).unwrap().state;
    assert_eq!(state("replay/BTC"), SourceState::Ok);
    assert_eq!(state("mempool"), SourceState::Disabled);
    assert!(sources.sources.iter().all(|s| !s.source.starts_with("bitstamp/")));

    let candles: CandlesResponse = app
        .get("/api/prices?coin=BTC&resolution=1h")
        .await
        .json()
        .await
        .unwrap();
    // Five days of minutes span 120 hours, 121 buckets when they do not start on the hour.
    assert!(
        (120..=121).contains(&candles.candles.len()),
        "{}",
        candles.candles.len()
    );
    assert!(candles.candles.iter().all(|c| !c.filled));
    assert!(candles.candles.last().unwrap().t <= chrono::Utc::now());

    // A restart continues the same timeline: same shift, nothing rewritten.
    let replay = Arc::new(Replay::bundled(coincast::config::ReplaySample::Minutes2021).unwrap());
    let shift = replay.stored_shift(&app.state.db).await.unwrap().unwrap();
    assert_eq!(shift, info.shift_seconds);
    let upstream = crate::helpers::default_settings().upstream;
    let again = Runner::collecting(
        Collectors::new(
            app.state.db.clone(),
            upstream,
            Some(replay.clone()),
            app.state.clock.clone(),
        )
        .unwrap(),
    );
    again.run(Job::Candles).await.unwrap();
    assert_eq!(replay.stored_shift(&app.state.db).await.unwrap(), Some(shift));
    let m = btc_minutes(&app).await;
    assert!(m >= n && m <= n + 2, "{n} -> {m}");
}

#[test]
fn a_folder_of_minute_files_can_be_replayed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_root().join("server/tests/fixtures/BTC_USDT-1m.json"),
        dir.path().join("BTC_USDT-1m.json"),
    )
    .unwrap();
    let replay = Replay::from_dir(dir.path()).unwrap();
    assert_eq!(replay.coins().collect::<Vec<_>>(), [shared::Coin::BTC]);
    assert!(replay.dataset().contains("files in"));
}
