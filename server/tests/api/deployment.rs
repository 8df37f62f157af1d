//! The default deployment end to end: the ten default coins replaying the bundled sample of
//! 5-minute candles (2025-06, after every shipped model's training and gate spans), and a
//! four-coin list on the same sample. Every route, the stream's filter and the charts serve
//! exactly the configured coins; predictions come every 5 minutes (the 4 h to 12 h ones every
//! quarter hour) and are scored on the 5-minute closes.

use coincast::clock::Clock;
use coincast::jobs::{Job, Runner};
use shared::{
    ApiErrorBody, CandlesResponse, Coin, CoinsResponse, DataMode, HealthResponse, Horizon, ModelsResponse,
    PredictionHistory, PredictionsResponse, PricesResponse,
};

use crate::helpers::{TestApp, default_deployment};

/// A server of `coins` (the default list when `None`) replaying the default sample, without
/// scheduled jobs, on a fixed clock 30 s after a quarter hour (every horizon is due there), its
/// warm-up stored, and a runner with its models.
async fn replaying(coins: Option<&[Coin]>) -> (TestApp, Runner) {
    let quarter = coincast::clock::current_minute() / 900 * 900;
    crate::published::replaying_at(Clock::fixed(quarter + 30), |s| {
        default_deployment(s);
        if let Some(coins) = coins {
            s.coins = coincast::coins::Coins::of(coins);
        }
    })
    .await
}

async fn predictions(app: &TestApp) -> PredictionsResponse {
    app.get("/api/predictions").await.json().await.unwrap()
}

#[tokio::test]
async fn the_default_deployment_serves_ten_coins_from_five_minute_candles_end_to_end() {
    let (app, runner) = replaying(None).await;
    let quarter = app.state.clock.current_minute();
    let default = coincast::coins::DEFAULT;

    // The coins: the ten, in the configured order, with their names.
    let coins: CoinsResponse = app.get("/api/coins").await.json().await.unwrap();
    assert_eq!(coins.coins.iter().map(|c| c.coin).collect::<Vec<_>>(), default);
    assert_eq!(coins.get(Coin::SOL).unwrap().name, "Solana");
    let models: ModelsResponse = app.get("/api/models").await.json().await.unwrap();
    assert_eq!(models.models.len(), 60);

    // The replay says what it replays, and its bar size.
    let health: HealthResponse = app.get("/api/health").await.json().await.unwrap();
    let DataMode::Replay(info) = health.mode else {
        panic!("not replaying: {:?}", health.mode);
    };
    assert!(info.dataset.starts_with("binance-5m-2025-06"), "{}", info.dataset);
    assert_eq!(info.bar_seconds, 300);
    assert_eq!(info.recorded_from.to_rfc3339(), "2025-06-01T00:00:00+00:00");

    // Every coin's newest candle is the 5-minute one that closed at the quarter hour.
    let latest: PricesResponse = app.get("/api/prices/latest").await.json().await.unwrap();
    assert_eq!(latest.prices.iter().map(|p| p.coin).collect::<Vec<_>>(), default);
    for p in &latest.prices {
        assert_eq!(p.at.timestamp(), quarter - 300, "{}", p.coin);
        assert!(p.price_24h_ago.is_some(), "{}", p.coin);
    }

    // A quarter-hour tick: all 60 models predict, none skipped.
    runner.run(Job::Predict).await.unwrap();
    let all = predictions(&app).await;
    assert_eq!(all.predictions.len(), 60);
    let missing: Vec<String> = all
        .predictions
        .iter()
        .filter(|l| l.prediction.is_none())
        .map(|l| format!("{} {}: {:?}", l.coin, l.horizon, l.not_made_reason))
        .collect();
    assert!(missing.is_empty(), "{missing:?}");
    for l in &all.predictions {
        let p = l.prediction.as_ref().unwrap();
        assert_eq!(p.made_at.timestamp(), quarter);
        let cadence = if l.horizon.minutes() <= 120 { 5 } else { 15 };
        assert_eq!(l.cadence_minutes, cadence, "{} {}", l.coin, l.horizon);
        assert_eq!(
            p.valid_until.timestamp(),
            quarter + i64::from(cadence) * 60 + 30,
            "the next one is due a cadence later"
        );
    }

    // A minute later nothing is due (no 5-minute candle has closed) and the answers stay current.
    app.state.clock.advance(60);
    runner.run(Job::Candles).await.unwrap();
    runner.run(Job::Predict).await.unwrap();
    let later = predictions(&app).await;
    assert!(later.predictions.iter().all(|l| l.prediction.is_some()));
    assert!(
        later
            .predictions
            .iter()
            .all(|l| l.prediction.as_ref().unwrap().made_at.timestamp() == quarter)
    );

    // Between two 5-minute candles every replayed source is fresh, not stale.
    let sources: shared::SourcesResponse = app.get("/api/sources").await.json().await.unwrap();
    let replayed: Vec<_> = sources
        .sources
        .iter()
        .filter(|s| s.state != shared::SourceState::Disabled)
        .collect();
    assert_eq!(replayed.len(), 11, "ten coins' candles and the markets");
    for s in replayed {
        assert_eq!(s.state, shared::SourceState::Ok, "{}: {s:?}", s.source);
        assert!(!s.description.contains("minute candles replayed") || s.description.contains("5-minute"));
    }

    // Five minutes after the quarter: one new candle a coin, and the short horizons predict.
    app.state.clock.advance(240);
    runner.run(Job::Candles).await.unwrap();
    runner.run(Job::Predict).await.unwrap();
    let next = predictions(&app).await;
    for l in &next.predictions {
        let made = l.prediction.as_ref().unwrap().made_at.timestamp();
        let want = if l.horizon.minutes() <= 120 {
            quarter + 300
        } else {
            quarter
        };
        assert_eq!(made, want, "{} {}", l.coin, l.horizon);
    }

    // Half an hour on (and the minute scoring waits for the target's candle to settle), the 30 min
    // predictions of the quarter hour are scored on the closes of the 5-minute candles that ended
    // at their targets.
    app.state.clock.advance(1560);
    runner.run(Job::Candles).await.unwrap();
    runner.run(Job::Predict).await.unwrap();
    for coin in default {
        let h: PredictionHistory = app
            .get(&format!("/api/predictions/history?coin={coin}&horizon=30m"))
            .await
            .json()
            .await
            .unwrap();
        let first = h
            .predictions
            .iter()
            .find(|p| p.made_at.timestamp() == quarter)
            .unwrap_or_else(|| panic!("{coin}: the quarter hour's 30 min prediction"));
        assert!(first.correct.is_some(), "{coin}: {first:?}");
        let target_close = app
            .get(&format!(
                "/api/prices?coin={coin}&resolution=5m&from={}&to={}",
                quarter + 1500,
                quarter + 1800
            ))
            .await
            .json::<CandlesResponse>()
            .await
            .unwrap();
        assert_eq!(
            first.realized_price,
            Some(target_close.candles[0].c),
            "{coin}: scored on the close of the candle ending at the target"
        );
    }

    // Charts start at 5 minutes: a 1-minute chart comes as 5-minute bars and says so; a 15-minute
    // one has its bars.
    let r = app.get("/api/prices?coin=AVAX&resolution=1m").await;
    assert_eq!(r.status(), 200);
    let fine: CandlesResponse = r.json().await.unwrap();
    assert_eq!(fine.resolution, shared::Resolution::M5);
    assert!(
        fine.candles
            .windows(2)
            .all(|w| w[1].t.timestamp() - w[0].t.timestamp() == 300)
    );
    let chart: CandlesResponse = app
        .get("/api/prices?coin=AVAX&resolution=15m")
        .await
        .json()
        .await
        .unwrap();
    assert!(chart.candles.len() >= 190, "{}", chart.candles.len());
    assert!(chart.candles.iter().all(|c| !c.filled));
}

#[tokio::test]
async fn a_four_coin_list_serves_exactly_those_four_on_the_same_sample() {
    let four = [Coin::ETH, Coin::SOL, Coin::DOGE, Coin::BTC];
    let (app, runner) = replaying(Some(&four)).await;
    runner.run(Job::Predict).await.unwrap();
    let coins: CoinsResponse = app.get("/api/coins").await.json().await.unwrap();
    assert_eq!(coins.coins.iter().map(|c| c.coin).collect::<Vec<_>>(), four);
    let all = predictions(&app).await;
    assert_eq!(all.predictions.len(), 24);
    assert!(
        all.predictions
            .iter()
            .all(|l| four.contains(&l.coin) && l.prediction.is_some())
    );
    let latest: PricesResponse = app.get("/api/prices/latest").await.json().await.unwrap();
    assert_eq!(latest.prices.iter().map(|p| p.coin).collect::<Vec<_>>(), four);
    // Only the configured coins' candles are collected from the sample.
    for coin in [Coin::XRP, Coin::AVAX] {
        let stored = coincast::db::candles::latest_of(&app.state.db, coin, 300)
            .await
            .unwrap();
        assert!(stored.is_none(), "{coin} was collected");
    }
    for path in [
        "/api/predictions?coin=XRP",
        "/api/prices?coin=XRP",
        "/api/predictions/history?coin=LINK",
        "/api/stream?coin=AVAX",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 400, "{path}");
        let body: ApiErrorBody = r.json().await.unwrap();
        assert!(
            body.message.ends_with("expected one of ETH, SOL, DOGE, BTC"),
            "{path}: {}",
            body.message
        );
    }
    let h: PredictionHistory = app
        .get("/api/predictions/history?coin=DOGE&horizon=12h")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(h.predictions.len(), 1);
    assert_eq!(h.predictions[0].horizon, Horizon::H12);
}
