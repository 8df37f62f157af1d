//! `GET /api/prices/latest` and `GET /api/prices` on stored candles.

use models::history::Bar;
use shared::{ApiErrorBody, CandlesResponse, Coin, ErrorCode, PricesResponse};

use crate::helpers::{Frontend, TestApp, spawn_app, store_minutes};

fn bar(ts: i64, close: f64) -> Bar {
    Bar {
        ts,
        open: close,
        high: close + 1.0,
        low: close - 1.0,
        close,
        volume: 1.5,
    }
}

/// A multiple of five minutes.
const T0: i64 = 1_700_000_100;

async fn seeded() -> TestApp {
    let app = spawn_app(Frontend::Fixture).await;
    // Minutes 0..=4 and 7..=9 (5 and 6 missing), then one a day later.
    let mut bars: Vec<Bar> = (0..10)
        .filter(|m| *m != 5 && *m != 6)
        .map(|m| bar(T0 + m * 60, 100.0 + m as f64))
        .collect();
    bars.push(bar(T0 + 86_400 + 240, 120.0));
    store_minutes(&app.state.db, Coin::BTC, &bars).await;
    app
}

fn iso(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .unwrap()
        .to_rfc3339()
        .replace("+00:00", "Z")
}

#[tokio::test]
async fn candles_fill_gaps_at_read_time_and_flag_them() {
    let app = seeded().await;
    let url = format!(
        "/api/prices?coin=BTC&resolution=1m&from={}&to={}",
        iso(T0),
        iso(T0 + 600)
    );
    let r = app.get(&url).await;
    assert_eq!(r.status(), 200);
    let body: CandlesResponse = r.json().await.unwrap();
    assert_eq!(body.coin, Coin::BTC);
    let flags: Vec<bool> = body.candles.iter().map(|c| c.filled).collect();
    assert_eq!(
        flags,
        [false, false, false, false, false, true, true, false, false, false]
    );
    assert_eq!(body.candles[5].c, 104.0, "carried forward from minute 4");
    assert_eq!(body.candles[5].v, 0.0);

    let five: CandlesResponse = app
        .get(&format!(
            "/api/prices?coin=BTC&resolution=5m&from={}&to={}",
            iso(T0),
            iso(T0 + 600)
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(five.candles.len(), 2);
    assert!(!five.candles[0].filled && five.candles[1].filled);
    assert_eq!(
        (five.candles[0].o, five.candles[0].c, five.candles[0].h),
        (100.0, 104.0, 105.0)
    );
    // Storage holds no filled rows: only what the source said.
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        coincast::db::entities::candle::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        9
    );
}

#[tokio::test]
async fn prices_report_the_latest_close_and_the_24h_change() {
    let app = seeded().await;
    app.refresh().await;
    let body: PricesResponse = app.get("/api/prices/latest").await.json().await.unwrap();
    assert_eq!(body.prices.len(), 1);
    let p = &body.prices[0];
    assert_eq!(
        (p.coin, p.price, p.at.timestamp()),
        (Coin::BTC, 120.0, T0 + 86_400 + 240)
    );
    assert_eq!(
        p.price_24h_ago,
        Some(104.0),
        "the newest minute at or before 24 h earlier"
    );
    assert!((p.change_24h_pct.unwrap() - (120.0 - 104.0) / 104.0 * 100.0).abs() < 1e-9);
}

#[tokio::test]
async fn bad_candle_requests_get_clear_json_errors() {
    let app = seeded().await;
    let cases = [
        ("/api/prices?coin=DOGE", "coin"),
        ("/api/prices", "coin"),
        ("/api/prices?coin=BTC&resolution=2h", "resolution"),
        ("/api/prices?coin=BTC&from=yesterday", "from"),
        ("/api/prices?coin=btc", "coin"),
        ("/api/prices?coin=BTC&to=1764633600000", "to"),
    ];
    for (url, parameter) in cases {
        let r = app.get(url).await;
        assert_eq!(r.status(), 400, "{url}");
        let body: ApiErrorBody = r.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::InvalidParameter, "{url}");
        assert_eq!(
            body.parameter.as_deref(),
            Some(parameter),
            "{url}: {}",
            body.message
        );
    }
    // Ranges the document allows are read: an empty one, and a too wide one moved up to the
    // widest (5,000 bars), which the answer's `from` says.
    let empty = format!(
        "/api/prices?coin=BTC&resolution=1m&from={}&to={}",
        iso(T0 + 600),
        iso(T0)
    );
    let body: CandlesResponse = app.get(&empty).await.json().await.unwrap();
    assert!(body.candles.is_empty());
    let wide = format!(
        "/api/prices?coin=BTC&resolution=1m&from={}&to={}",
        iso(T0),
        iso(T0 + 86_400 * 30)
    );
    let body: CandlesResponse = app.get(&wide).await.json().await.unwrap();
    assert_eq!(body.to.timestamp() - body.from.timestamp(), 5_000 * 60);
}

#[tokio::test]
async fn a_missing_coin_is_said_to_be_required() {
    let app = spawn_app(Frontend::Fixture).await;
    for url in ["/api/prices?resolution=1h", "/api/prices"] {
        let r = app.get(url).await;
        assert_eq!(r.status(), 400, "{url}");
        let body: ApiErrorBody = r.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::InvalidParameter, "{url}");
        assert_eq!(body.parameter.as_deref(), Some("coin"), "{url}");
        assert_eq!(body.message, "`coin` is required", "{url}");
    }
}
