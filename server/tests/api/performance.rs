//! Trading figures: prediction signals, `?min_confidence=`, `GET /api/performance`.

use coincast::db::entities::prediction::{self, Outcome};
use sea_orm::Set;
use shared::{Coin, Horizon, ModelsResponse, PerformanceResponse, PredictionsResponse, Signal};

use crate::helpers::{Frontend, TestApp, spawn_app, store_minutes};

const H: i64 = 3600;

/// A live (or backfilled) BTC 1 h prediction of `model`, scored when `realized` is given.
fn row(
    model: &str,
    made_at: i64,
    p_up: f64,
    realized: Option<f64>,
    backfilled: bool,
) -> prediction::ActiveModel {
    let mut r =
        coincast::db::predictions::new_row(Coin::BTC, Horizon::H1, made_at, p_up, 100.0, model, backfilled);
    r.signal_threshold = Set(Some(0.4));
    if let Some(price) = realized {
        r.outcome = Set(Outcome::Scored);
        r.realized_price = Set(Some(price));
        r.correct = Set(Some(shared::predicts_up(p_up) == (price > 100.0)));
        r.scored_at = Set(Some(made_at + H));
    }
    r
}

async fn btc_1h_model(app: &TestApp) -> String {
    let models: ModelsResponse = app.get("/api/models").await.json().await.unwrap();
    models
        .models
        .into_iter()
        .find(|m| m.coin == Coin::BTC && m.horizon == Horizon::H1)
        .unwrap()
        .id
}

#[tokio::test]
async fn the_live_ledger_follows_only_live_scored_predictions_of_the_running_model() {
    let app = spawn_app(Frontend::Fixture).await;
    let model = btc_1h_model(&app).await;
    let now = chrono::Utc::now().timestamp() / 60 * 60;
    let t0 = now - 20 * H;
    let rows = vec![
        // LONG (confidence 0.8), the coin rises 2%.
        row(&model, t0, 0.9, Some(102.0), false),
        // Inside the open position: skipped by the ledger, counted in n.
        row(&model, t0 + H / 2, 0.9, Some(90.0), false),
        // SHORT, the coin falls 1%.
        row(&model, t0 + 2 * H, 0.1, Some(99.0), false),
        // FLAT: below the 0.4 threshold.
        row(&model, t0 + 4 * H, 0.55, Some(150.0), false),
        // Not followed: backfilled, pending, another model.
        row(&model, t0 + 6 * H, 0.9, Some(200.0), true),
        row(&model, t0 + 8 * H, 0.9, None, false),
        row("BTC-1h-00000000", t0 + 10 * H, 0.9, Some(200.0), false),
    ];
    coincast::db::predictions::insert(&app.state.db, rows, coincast::clock::now())
        .await
        .unwrap();
    // The minutes a bot fills at: the open of the first minute after publication (5 s after the
    // prediction), and the open one horizon later. The LONG earns 2%, the SHORT 1%, whatever the
    // scored prices said (they were scored at the closes).
    let minute = |ts: i64, open: f64| models::history::Bar {
        ts,
        open,
        high: open,
        low: open,
        close: open,
        volume: 1.0,
    };
    let fills = [
        minute(t0 + 60, 100.0),
        minute(t0 + 60 + H, 102.0),
        minute(t0 + 2 * H + 60, 100.0),
        minute(t0 + 3 * H + 60, 99.0),
    ];
    store_minutes(&app.state.db, Coin::BTC, &fills).await;
    let db = app.state.db.clone();
    app.state
        .published
        .charts
        .refresh(
            &db,
            coincast::clock::now() + coincast::http::charts::RECOUNT_EVERY_S + 1,
        )
        .await
        .unwrap();
    app.refresh().await;

    let res = app.get("/api/performance?coin=BTC&horizon=1h").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("etag"));
    let body: PerformanceResponse = res.json().await.unwrap();
    assert_eq!(body.models.len(), 1);
    let m = &body.models[0];
    assert_eq!(m.model_id, model);
    let threshold = m.threshold.expect("the shipped card has a threshold");
    assert!(threshold <= 0.8, "{threshold}");
    let live = &m.live;
    assert_eq!(live.n, 4, "live scored rows of this model only");
    assert_eq!(live.from.map(|t| t.timestamp()), Some(t0));
    let fee = (m.fee_bps + m.slippage_bps) / 10_000.0;
    let expected = (1.02 - 2.0 * fee) * (1.01 - 2.0 * fee) - 1.0;
    assert_eq!(live.long_short.trades, 2);
    assert!(
        (live.long_short.net_return - expected).abs() < 1e-9,
        "{}",
        live.long_short.net_return
    );
    assert_eq!(live.long_flat.trades, 1);
    assert!(live.momentum.is_none());
    assert_eq!(
        live.long_short.equity.len(),
        3,
        "the start and one point per position"
    );
    // Walk-forward figures come from the card, with buy-and-hold and momentum beside them.
    let wf = m.walk_forward.as_ref().expect("walk-forward figures");
    assert!(wf.n > 1000 && !wf.long_short.equity.is_empty() && wf.momentum.is_some());
    assert!(m.fee_source.contains("Binance"), "{}", m.fee_source);

    let all: PerformanceResponse = app.get("/api/performance").await.json().await.unwrap();
    assert_eq!(all.models.len(), 18);
    assert_eq!(app.get("/api/performance?coin=DOGE").await.status(), 400);
}

#[tokio::test]
async fn predictions_carry_their_signal_and_min_confidence_filters_them() {
    let app = spawn_app(Frontend::Fixture).await;
    let model = btc_1h_model(&app).await;
    let now = chrono::Utc::now().timestamp() / 60 * 60;
    // This minute's predictions: current (an expired one is no signal and is not offered).
    let mut ltc = coincast::db::predictions::new_row(Coin::LTC, Horizon::H1, now, 0.45, 100.0, "m", false);
    ltc.signal_threshold = Set(Some(0.4));
    // Made before thresholds existed: FLAT, no threshold.
    let xrp = coincast::db::predictions::new_row(Coin::XRP, Horizon::H1, now, 0.95, 100.0, "m", false);
    coincast::db::predictions::insert(
        &app.state.db,
        vec![row(&model, now, 0.2, None, false), ltc, xrp],
        coincast::clock::now(),
    )
    .await
    .unwrap();
    app.refresh().await;

    let all: PredictionsResponse = app.get("/api/predictions?horizon=1h").await.json().await.unwrap();
    let of = |c: Coin| {
        all.predictions
            .iter()
            .find(|e| e.coin == c)
            .and_then(|e| e.prediction.clone())
            .unwrap()
    };
    let btc = of(Coin::BTC);
    assert!((btc.confidence - 0.6).abs() < 1e-12);
    assert_eq!((btc.signal, btc.signal_threshold), (Signal::Short, Some(0.4)));
    assert_eq!(of(Coin::LTC).signal, Signal::Flat, "0.1 is below the threshold");
    let xrp = of(Coin::XRP);
    assert_eq!((xrp.signal, xrp.signal_threshold), (Signal::Flat, None));

    let res = app.get("/api/predictions?horizon=1h&min_confidence=0.5").await;
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].clone();
    let confident: PredictionsResponse = res.json().await.unwrap();
    let coins: Vec<Coin> = confident.predictions.iter().map(|e| e.coin).collect();
    assert_eq!(coins, vec![Coin::BTC, Coin::XRP]);
    // The same answer has the same ETag.
    let again = app
        .client
        .get(format!(
            "{}/api/predictions?horizon=1h&min_confidence=0.5",
            app.address
        ))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    for bad in ["1.5", "-0.1", "high", "NaN"] {
        let res = app.get(&format!("/api/predictions?min_confidence={bad}")).await;
        assert_eq!(res.status(), 400, "{bad}");
        let e: shared::ApiErrorBody = res.json().await.unwrap();
        assert_eq!(e.parameter.as_deref(), Some("min_confidence"), "{bad}");
    }
}
