//! Collectors against a fake upstream serving recorded real payloads: the happy path, and every
//! failure leaving stored data intact and `/api/sources` (and `/api/health`) truthful.

use std::time::Duration;

use coincast::db::entities::{candle, series_point};
use coincast::jobs::{Job, Runner};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use shared::{HealthResponse, SourceHealth, SourceState, SourcesResponse};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Frontend, TestApp, spawn_app_with};
use crate::upstream::{payload, point_at, upstream_settings};

async fn setup() -> (TestApp, MockServer, Runner) {
    let server = MockServer::start().await;
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        point_at(s, &server, 500);
    })
    .await;
    let collectors = app.runner(app.collectors(upstream_settings(&server, 500)));
    (app, server, collectors)
}

async fn sources(app: &TestApp) -> Vec<SourceHealth> {
    let r = app.get("/api/sources").await;
    assert_eq!(r.status(), 200);
    r.json::<SourcesResponse>().await.unwrap().sources
}

fn source<'a>(all: &'a [SourceHealth], id: &str) -> &'a SourceHealth {
    all.iter()
        .find(|s| s.source == id)
        .unwrap_or_else(|| panic!("no source {id}"))
}

async fn candles(app: &TestApp) -> Vec<candle::Model> {
    candle::Entity::find().all(&app.state.db).await.unwrap()
}

async fn serve_bitstamp(server: &MockServer, body: ResponseTemplate) {
    server.reset().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v2/ohlc/(btc|ltc|xrp)usd/$"))
        .respond_with(body)
        .mount(server)
        .await;
}

#[tokio::test]
async fn candles_happy_path_then_every_failure_keeps_data_and_reports_truthfully() {
    let (app, server, collectors) = setup().await;
    let before = sources(&app).await;
    assert_eq!(source(&before, "bitstamp/BTC").state, SourceState::Pending);

    // The recorded real payload, for every pair.
    serve_bitstamp(
        &server,
        ResponseTemplate::new(200).set_body_string(payload("bitstamp_ohlc_btcusdt.json")),
    )
    .await;
    collectors.run(Job::Candles).await.unwrap();
    let stored = candles(&app).await;
    assert_eq!(stored.len(), 3, "one candle per coin");
    let btc = stored.iter().find(|c| c.coin == shared::Coin::BTC).unwrap();
    assert_eq!(
        (btc.ts, btc.close, btc.volume),
        (1_710_327_600, 73285.0, 0.01076655)
    );
    assert_eq!(btc.source, "bitstamp");
    let after = sources(&app).await;
    let s = source(&after, "bitstamp/BTC");
    assert_eq!(s.consecutive_failures, 0);
    assert!(s.last_success_at.is_some());
    assert_eq!(s.latest_data_at.unwrap().timestamp(), 1_710_327_600);
    // The data is old (2024), so the working source is truthfully `stale`.
    assert_eq!(s.state, SourceState::Stale, "{s:?}");

    // Same minute again: no duplicate (only `fetched_at` may move, when a second passed).
    collectors.run(Job::Candles).await.unwrap();
    let without_fetch_time = |rows: Vec<_>| {
        rows.into_iter()
            .map(|mut c: coincast::db::entities::candle::Model| {
                c.fetched_at = 0;
                c
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        without_fetch_time(candles(&app).await),
        without_fetch_time(stored.clone())
    );
    let stored = candles(&app).await;

    let failures: Vec<(&str, ResponseTemplate, &str)> = vec![
        (
            "HTTP 500",
            ResponseTemplate::new(500).set_body_string("oops"),
            "HTTP 500",
        ),
        (
            "timeout",
            ResponseTemplate::new(200)
                .set_body_string(payload("bitstamp_ohlc_btcusdt.json"))
                .set_delay(Duration::from_secs(3)),
            "timed out",
        ),
        (
            "malformed JSON",
            ResponseTemplate::new(200).set_body_string("{\"data\": [1, 2"),
            "malformed payload",
        ),
        (
            "a number that is a word",
            ResponseTemplate::new(200)
                .set_body_string(payload("bitstamp_ohlc_btcusdt.json").replace("\"73285\"", "\"n/a\"")),
            // The public form; the detail ("close \"n/a\" is not a valid number") is in the log.
            "malformed payload",
        ),
    ];
    for (i, (what, response, expect)) in failures.into_iter().enumerate() {
        serve_bitstamp(&server, response).await;
        let err = collectors.run(Job::Candles).await.unwrap_err().to_string();
        assert!(err.contains("3 of 3 sources failed"), "{what}: {err}");
        assert_eq!(candles(&app).await, stored, "{what}: stored data changed");
        let now = sources(&app).await;
        let s = source(&now, "bitstamp/LTC");
        assert_eq!(s.state, SourceState::Failing, "{what}");
        assert_eq!(s.consecutive_failures as usize, i + 1, "{what}");
        let message = s.last_error.clone().unwrap();
        assert_eq!(message, expect, "{what}: the short public description");
        assert!(s.last_success_at.is_some(), "{what}: the last success is kept");
    }
    let health: HealthResponse = app.get("/api/health").await.json().await.unwrap();
    assert!(
        health.failing_sources.contains(&"bitstamp/XRP".to_owned()),
        "{health:?}"
    );

    // An empty list is a success that brings nothing new: data and freshness are kept.
    serve_bitstamp(
        &server,
        ResponseTemplate::new(200).set_body_string(r#"{"data": {"pair": "BTC/USD", "ohlc": []}}"#),
    )
    .await;
    collectors.run(Job::Candles).await.unwrap();
    assert_eq!(candles(&app).await, stored);
    let now = sources(&app).await;
    let s = source(&now, "bitstamp/BTC");
    assert_eq!(s.consecutive_failures, 0);
    assert_eq!(s.latest_data_at.unwrap().timestamp(), 1_710_327_600);
    assert!(s.last_error.is_some(), "the last error stays visible for context");
}

#[tokio::test]
async fn on_chain_market_and_tweet_sources_store_their_series() {
    let (app, server, collectors) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/mempool"))
        .respond_with(ResponseTemplate::new(200).set_body_string(payload("mempool_api_mempool.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/charts/transactions-per-second"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(payload("blockchain_transactions_per_second.json")),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v8/finance/chart/GC=F"))
        .respond_with(ResponseTemplate::new(200).set_body_string(payload("yahoo_chart_gc_f.json")))
        .mount(&server)
        .await;
    // The other three symbols are not recorded: Yahoo answers 404 for them here; so is the
    // mempool-count chart (same envelope as the TPS chart, but no recorded payload).
    let err = collectors.run(Job::Chain).await.unwrap_err().to_string();
    assert!(
        err.contains("1 of 3") && err.contains("blockchain/mempool-count"),
        "{err}"
    );
    let err = collectors.run(Job::Markets).await.unwrap_err().to_string();
    assert!(err.contains("3 of 4"), "{err}");
    // No tweets page recorded: the source fails (404) and nothing else suffers.
    assert!(collectors.run(Job::Tweets).await.is_err());

    let count = |series: &'static str| {
        let db = app.state.db.clone();
        async move {
            series_point::Entity::find()
                .filter(series_point::Column::Series.eq(series))
                .count(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("mempool_space_count").await, 1);
    assert_eq!(count("mempool_space_vsize").await, 1);
    assert_eq!(count("mempool_count").await, 0);
    assert_eq!(count("tps").await, 22);
    assert_eq!(count("gold").await, 1);
    let gold = series_point::Entity::find_by_id(("gold".to_owned(), 1_577_941_200))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((gold.value, gold.source.as_str()), (1524.5, "yahoo"));

    // Re-running is idempotent.
    collectors.run(Job::Chain).await.unwrap_err();
    assert_eq!(count("tps").await, 22);

    let all = sources(&app).await;
    assert_eq!(source(&all, "mempool").state, SourceState::Ok);
    assert_eq!(source(&all, "blockchain/tps").consecutive_failures, 0);
    assert_eq!(source(&all, "blockchain/mempool-count").consecutive_failures, 2);
    assert_eq!(source(&all, "yahoo/GC=F").consecutive_failures, 0);
    assert_eq!(source(&all, "yahoo/^GSPC").state, SourceState::Failing);
    assert_eq!(source(&all, "bitinfocharts/BTC").state, SourceState::Failing);
    assert_eq!(source(&all, "bitstamp/BTC").state, SourceState::Pending);
}

/// Live collection follows the configured list: the ten default coins and an eleventh collected
/// only (`serve = false`) are each asked for at their own Bitstamp pair, once, and stored.
#[tokio::test]
async fn every_configured_pair_is_collected_the_ten_defaults_and_an_eleventh() {
    let server = MockServer::start().await;
    let mut entries: Vec<coincast::coins::CoinEntry> = coincast::coins::DEFAULT
        .iter()
        .map(|c| coincast::coins::CoinEntry {
            symbol: c.ticker().to_owned(),
            name: None,
            bitstamp: None,
            binance: None,
            serve: None,
        })
        .collect();
    entries.push(coincast::coins::CoinEntry {
        symbol: "AAVE".into(),
        name: Some("Aave".into()),
        bitstamp: Some("aaveusd".into()),
        binance: Some("AAVEUSDT".into()),
        serve: Some(false),
    });
    let coins = coincast::coins::Coins::try_from(entries).unwrap();
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        s.coins = coins;
        point_at(s, &server, 500);
    })
    .await;
    let collectors = app.runner(app.collectors(upstream_settings(&server, 500)));
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v2/ohlc/[a-z]+usd/$"))
        .respond_with(ResponseTemplate::new(200).set_body_string(payload("bitstamp_ohlc_btcusdt.json")))
        .mount(&server)
        .await;
    collectors.run(Job::Candles).await.unwrap();

    let mut asked: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .filter(|p| p.starts_with("/api/v2/ohlc/"))
        .collect();
    asked.sort();
    let mut expected: Vec<String> = [
        "btc", "eth", "sol", "xrp", "ltc", "doge", "ada", "bch", "link", "avax", "aave",
    ]
    .iter()
    .map(|p| format!("/api/v2/ohlc/{p}usd/"))
    .collect();
    expected.sort();
    assert_eq!(asked, expected);
    let stored = candles(&app).await;
    let mut coins: Vec<String> = stored.iter().map(|c| c.coin.ticker().to_owned()).collect();
    coins.sort();
    assert_eq!(coins.len(), 11, "one candle per configured coin: {coins:?}");
    let all = sources(&app).await;
    for coin in [
        "BTC", "ETH", "SOL", "XRP", "LTC", "DOGE", "ADA", "BCH", "LINK", "AVAX", "AAVE",
    ] {
        let s = source(&all, &format!("bitstamp/{coin}"));
        assert_eq!(s.consecutive_failures, 0, "{s:?}");
        assert!(s.last_success_at.is_some(), "{s:?}");
    }
    // Collected, not served.
    assert_eq!(app.get("/api/predictions?coin=AAVE").await.status(), 400);
}
