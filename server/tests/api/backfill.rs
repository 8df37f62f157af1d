//! `coincast backfill` against a fake Bitstamp serving real minute candles in Bitstamp's format.

use std::time::Duration;

use coincast::commands::backfill::Backfill;
use coincast::db::entities::candle;
use sea_orm::{EntityTrait, PaginatorTrait};
use shared::Coin;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Frontend, spawn_app};
use crate::upstream::BitstampPages;

#[tokio::test]
async fn backfill_pages_through_history_and_resumes_after_a_failure() {
    let app = spawn_app(Frontend::Fixture).await;
    let pages = BitstampPages::from_fixture("BTC_USDT-1m.json");
    let first = pages.rows[0][0] as i64 / 1000;
    let last = pages.rows[1499][0] as i64 / 1000;
    let server = MockServer::start().await;
    // The first page works; every later one fails.
    Mock::given(method("GET"))
        .and(path("/api/v2/ohlc/btcusd/"))
        .and(query_param("start", first.to_string()))
        .respond_with(BitstampPages::from_fixture("BTC_USDT-1m.json"))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .with_priority(2)
        .mount(&server)
        .await;
    let client = coincast::collect::http_client(Duration::from_secs(2)).unwrap();
    let uri = server.uri();
    let job = Backfill {
        db: &app.state.db,
        base_url: &uri,
        client: &client,
        timeout: Duration::from_secs(2),
        pause: Duration::ZERO,
        retries: 1,
        coins: &Default::default(),
    };
    let mut seen = Vec::new();
    let err = job
        .run(Coin::BTC, first, last, &mut |c| seen.push(c))
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("run the same command again to resume"),
        "{err:#}"
    );
    assert_eq!(seen, [first + 1000 * 60]);
    assert_eq!(candle::Entity::find().count(&app.state.db).await.unwrap(), 1000);

    // The exchange is back: the same command resumes at the cursor.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/ohlc/btcusd/"))
        .respond_with(pages)
        .mount(&server)
        .await;
    let report = job.run(Coin::BTC, first, last, &mut |_| {}).await.unwrap();
    assert!(report.resumed);
    assert_eq!((report.pages, report.rows), (1, 500));
    assert_eq!(candle::Entity::find().count(&app.state.db).await.unwrap(), 1500);
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests[0]
            .url
            .query()
            .unwrap()
            .contains(&format!("start={}", first + 60_000))
    );
    // Finished: running it again fetches nothing.
    let again = job.run(Coin::BTC, first, last, &mut |_| {}).await.unwrap();
    assert_eq!((again.pages, again.rows), (0, 0));
}
