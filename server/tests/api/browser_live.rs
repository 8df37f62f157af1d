//! Browser tests of pages that change while they are open: a prediction event, the API going
//! down and coming back, a retrain watched in the models card, a deployment of six coins on a
//! phone. Same setup as `browser.rs`.

use std::time::Duration;

use coincast::predict::retrain::{Progress, Report};

use crate::browser::{H1, HEALTH};
use crate::helpers::{Frontend, spawn_app};
use crate::webdriver::Browser;

#[tokio::test]
async fn a_new_prediction_event_updates_a_card_without_reload() {
    if crate::helpers::sqlite_only("drives the web app in Chromium, the same whatever the database") {
        return;
    }
    let app = spawn_app(Frontend::Built).await;
    let browser = Browser::start(1280, 900).await;
    browser.goto(&format!("{}/Litecoin", app.address)).await;
    let card = "return document.querySelector('.horizon-card[data-horizon=\"2h\"]')?.textContent ?? ''";
    browser.wait_text(card, "no prediction").await;
    browser.js("window.__coincastMarker = 7; return null").await;
    // A prediction lands in the database (as the engine stores them): the stream announces it.
    insert_prediction(&app, "2h", 0.61).await;
    let text = browser.wait_text(card, "P(up) 61%").await;
    assert!(text.contains("UP"), "{text}");
    assert_eq!(
        browser.js("return window.__coincastMarker ?? null").await,
        7,
        "the page reloaded"
    );
}

#[tokio::test]
async fn the_api_down_banner_appears_when_the_server_stops_and_goes_when_it_returns() {
    if crate::helpers::sqlite_only("drives the web app in Chromium, the same whatever the database") {
        return;
    }
    let mut app = spawn_app(Frontend::Built).await;
    let browser = Browser::start(1280, 900).await;
    browser.goto(&format!("{}/Litecoin", app.address)).await;
    browser.wait_text(HEALTH, "sqlite database reachable").await;
    let card = "return document.querySelector('.horizon-card[data-horizon=\"1h\"]')?.textContent ?? ''";
    browser.wait_text(card, "no prediction").await;
    browser.js("window.__coincastMarker = 9; return null").await;
    const BANNER: &str = "return document.querySelector('[data-testid=api-down]')?.textContent ?? ''";
    assert_eq!(browser.js(BANNER).await, "", "no banner while the API answers");

    app.stop().await;
    // The event stream drops at once; the app checks the API and says it is unreachable.
    let banner = browser.wait_text(BANNER, "The coincast API is unreachable").await;
    assert!(banner.contains("Retry now"), "{banner}");
    browser.wait_text(HEALTH, "API unreachable").await;
    // What was loaded stays on the page.
    assert!(browser.js(card).await.as_str().unwrap().contains("1 h"));
    browser.screenshot("api-down-desktop.png").await;

    app.restart().await;
    // Polled every 3 s while down (and the stream reconnects by itself): the banner goes.
    browser
        .wait_text_for(
            "return document.querySelector('[data-testid=api-down]') ? 'still down' : 'gone'",
            "gone",
            Duration::from_secs(20),
        )
        .await;
    browser.wait_text(HEALTH, "sqlite database reachable").await;
    // The event stream is back: a new prediction reaches the card without a reload.
    insert_prediction(&app, "1h", 0.42).await;
    let text = browser
        .wait_text_for(card, "P(up) 42%", Duration::from_secs(20))
        .await;
    assert!(text.contains("DOWN"), "{text}");
    assert_eq!(
        browser.js("return window.__coincastMarker ?? null").await,
        9,
        "the page reloaded"
    );
}

/// Stores a pending LTC prediction made this minute, as the engine would: the event stream
/// announces it to open pages.
async fn insert_prediction(app: &crate::helpers::TestApp, horizon: &str, p_up: f64) {
    use sea_orm::ActiveValue::Set;
    let now = chrono::Utc::now().timestamp() / 60 * 60;
    let h: shared::Horizon = horizon.parse().unwrap();
    let row = coincast::db::entities::prediction::ActiveModel {
        coin: Set("LTC".into()),
        horizon: Set(h.as_str().to_owned()),
        made_at: Set(now),
        target_at: Set(now + i64::from(h.minutes()) * 60),
        p_up: Set(p_up),
        reference_price: Set(292.43),
        model_id: Set(format!("LTC-{horizon}-test")),
        backfilled: Set(false),
        outcome: Set(coincast::db::entities::prediction::Outcome::Pending),
        ..Default::default()
    };
    // As the engine stores them: published now, with its `prediction` event.
    coincast::db::predictions::insert(&app.state.db, vec![row], coincast::clock::now())
        .await
        .unwrap();
    app.refresh().await;
}

/// A retrain's progress, stored for the app as the job stores it ([`StoredProgress`]), held at
/// its first step until the test has seen it in the browser.
struct HeldProgress<'a> {
    stored: coincast::jobs::StoredProgress<'a>,
    release: std::sync::Arc<tokio::sync::Notify>,
}

impl Report for HeldProgress<'_> {
    fn step(&self, progress: &Progress) -> futures_util::future::BoxFuture<'_, ()> {
        let first = progress.done == 0 && progress.finished_at.is_none();
        let stored = self.stored.step(progress);
        Box::pin(async move {
            stored.await;
            if first {
                self.release.notified().await;
            }
        })
    }
}

#[tokio::test]
async fn a_retrain_can_be_watched_in_the_models_card_and_its_decision_shows_in_the_version_column() {
    use coincast::predict::retrain::{self, Options};
    if crate::helpers::sqlite_only("drives the web app in Chromium, the same whatever the database") {
        return;
    }
    let mut settings = None;
    let (app, t) = crate::training::replaying_with(Frontend::Built, |s| settings = Some(s.clone())).await;
    let settings = settings.unwrap();
    coincast::commands::import::import_file(&app.state.db, &crate::training::five_minutes(), &mut |_| {})
        .await
        .unwrap();
    let runner = crate::training::runner(&app, &settings);
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let report = HeldProgress {
        stored: coincast::jobs::StoredProgress { runner: &runner },
        release: release.clone(),
    };
    let options = Options::from_settings(
        &settings.retrain,
        &app.data_dir.path().join("models"),
        &coincast::clock::Clock::fixed(t),
        &app.state.registry.coins(),
    );
    let browser = Browser::start(1280, 900).await;
    const STATUS: &str = "return document.querySelector('[data-testid=retrain-status]')?.textContent ?? ''";
    const VERSION_30M: &str = "return [...document.querySelectorAll('[data-testid=models] tbody tr')].find(r => r.querySelector('th')?.textContent === '30 min')?.querySelector('[data-testid=model-version]')?.textContent ?? ''";
    let watch = async {
        browser.goto(&format!("{}/Bitcoin", app.address)).await;
        // Before any retrain: the shipped model, not retrained here yet.
        let before = browser
            .wait_text_for(VERSION_30M, "not retrained here yet", Duration::from_secs(30))
            .await;
        assert!(before.starts_with("shipped, trained on 20"), "{before}");
        // The retrain runs: the card says so, and what it is doing.
        let running = browser
            .wait_text_for(STATUS, "Retraining now: 0 of 1 done", Duration::from_secs(60))
            .await;
        assert!(running.contains("BTC 30m: training the challenger"), "{running}");
        browser
            .js("document.querySelector('[data-testid=retrain-status]').scrollIntoView(); return null")
            .await;
        browser.screenshot("retrain-running-desktop.png").await;
        release.notify_one();
        // It ends without a reload: the card reads the models again every few seconds.
        let finished = browser
            .wait_text_for(STATUS, "Last retrain finished", Duration::from_secs(300))
            .await;
        assert!(
            finished.ends_with("of 1 new models replaced the running ones"),
            "{finished}"
        );
        let version = browser
            .wait_text_for(VERSION_30M, " · last retrain ", Duration::from_secs(30))
            .await;
        let last = version
            .split(" · last retrain ")
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        assert!(
            last.contains("replaced the previous model (p") || last.contains("kept the previous model"),
            "{version}"
        );
        let reason = browser
            .js("return [...document.querySelectorAll('[data-testid=models] tbody tr')].find(r => r.querySelector('th')?.textContent === '30 min').querySelector('[data-testid=model-version]').title")
            .await;
        assert!(
            !reason.as_str().unwrap_or_default().is_empty(),
            "the decision's reason on hover"
        );
        browser.screenshot("retrain-finished-desktop.png").await;
        (finished, version, last)
    };
    let (outcomes, (finished, version, last)) = tokio::join!(
        retrain::run(&app.state.db, &app.state.registry, &options, &report),
        watch
    );
    let outcomes = outcomes.unwrap();
    assert_eq!(outcomes.len(), 1);
    let promoted = outcomes[0].decision == models::gate::Decision::Promoted;
    assert!(
        finished.contains(&format!(": {} of 1 new models", usize::from(promoted))),
        "{finished} vs {:?}",
        outcomes[0].decision
    );
    assert_eq!(
        last.contains("replaced the previous model"),
        promoted,
        "{version}"
    );
    assert_eq!(version.starts_with("retrained here on 20"), promoted, "{version}");
    // The other horizons were not retrained.
    let others = browser
        .js("return [...document.querySelectorAll('[data-testid=model-version]')].filter(c => c.textContent.includes('not retrained here yet')).length")
        .await;
    assert_eq!(others, 5);
}

/// The coin menu's options, in order (the first is the empty prompt).
const COIN_MENU: &str =
    "return [...document.querySelectorAll('.coin-select option')].map(o => o.value).join(',')";

/// Chooses `symbol` in the coin menu, as a visitor does.
async fn choose_coin(browser: &Browser, symbol: &str) {
    browser
        .js(&format!(
            "const s = document.querySelector('.coin-select'); s.value = '{symbol}'; s.dispatchEvent(new Event('change')); return null"
        ))
        .await;
}

#[tokio::test]
async fn six_coins_get_a_menu_on_a_phone_and_a_new_coins_page_says_why_it_has_no_prediction() {
    if crate::helpers::sqlite_only("drives the web app in Chromium, the same whatever the database") {
        return;
    }
    use shared::Coin;
    let six = [Coin::BTC, Coin::ETH, Coin::SOL, Coin::XRP, Coin::LTC, Coin::DOGE];
    let models = crate::helpers::models_with(&[Coin::ETH, Coin::SOL, Coin::DOGE]);
    let app = crate::helpers::spawn_app_with(Frontend::Built, |s| {
        s.jobs.enabled = false;
        s.models.dir = models.path().to_path_buf();
        s.coins = coincast::coins::Coins::of(&six);
    })
    .await;
    let browser = Browser::start(1280, 900).await;
    browser.phone_viewport(375, 812).await;
    browser.goto(&format!("{}/", app.address)).await;
    browser.wait_text(H1, "Bitcoin").await;

    // More coins than buttons fit: one menu, in the configured order, the current coin chosen.
    let options = browser.wait_text(COIN_MENU, ",BTC,ETH,SOL,XRP,LTC,DOGE").await;
    assert_eq!(options, ",BTC,ETH,SOL,XRP,LTC,DOGE");
    assert_eq!(
        browser
            .js("return document.querySelectorAll('a.coin-button').length")
            .await,
        0
    );
    assert_eq!(
        browser
            .js("return document.querySelector('.coin-select').value")
            .await,
        "BTC"
    );

    // Choosing a coin opens its page without a reload.
    browser.js("window.__coincastMarker = 6; return null").await;
    choose_coin(&browser, "ETH").await;
    browser.wait_text(H1, "Ethereum").await;
    assert_eq!(browser.js("return location.pathname").await, "/Ethereum");
    assert_eq!(
        browser.js("return window.__coincastMarker ?? null").await,
        6,
        "the page reloaded"
    );
    // Nothing of ETH is stored here (no collector ran): each of its six cards says there is no
    // prediction rather than showing nothing.
    browser
        .wait_text(
            "return String(document.querySelectorAll('.coin-page[data-coin=ETH] .horizon-card.empty .why').length)",
            "6",
        )
        .await;
    assert_eq!(browser.js("return window.innerWidth").await, 375);
    browser.screenshot("ethereum-phone-six-coins.png").await;

    // A new coin's page by its name in any case.
    browser.goto(&format!("{}/dogecoin", app.address)).await;
    browser.wait_text(H1, "Dogecoin").await;
}

#[tokio::test]
async fn the_default_deployment_offers_ten_coins_and_a_new_coins_page_shows_its_replayed_predictions() {
    if crate::helpers::sqlite_only("drives the web app in Chromium, the same whatever the database") {
        return;
    }
    let app = crate::helpers::spawn_app_with(Frontend::Built, |s| {
        crate::helpers::default_deployment(s);
        s.replay.enabled = true;
        s.jobs.enabled = true;
        s.jobs.slow_cron = "0 0 0 1 1 * 2099".into();
    })
    .await;
    // The start-up backfill gives every horizon a current prediction at once: the short ones at
    // the newest 5-minute candle's close, the long ones at the newest quarter hour.
    let current = crate::helpers::eventually(Duration::from_secs(90), || async {
        let p: shared::PredictionsResponse = app.get("/api/predictions?coin=SOL").await.json().await.unwrap();
        (p.predictions.iter().filter(|l| l.prediction.is_some()).count() == 6).then_some(())
    })
    .await;
    if current.is_err() {
        let p: shared::PredictionsResponse = app.get("/api/predictions?coin=SOL").await.json().await.unwrap();
        panic!(
            "SOL has no six current predictions after 90 s: {:?}",
            p.predictions
        );
    }
    let browser = Browser::start(1280, 900).await;
    browser.phone_viewport(375, 812).await;
    browser.goto(&format!("{}/", app.address)).await;
    browser.wait_text(H1, "Bitcoin").await;
    let options = browser
        .wait_text(COIN_MENU, ",BTC,ETH,SOL,XRP,LTC,DOGE,ADA,BCH,LINK,AVAX")
        .await;
    assert_eq!(options, ",BTC,ETH,SOL,XRP,LTC,DOGE,ADA,BCH,LINK,AVAX");
    choose_coin(&browser, "SOL").await;
    browser.wait_text(H1, "Solana").await;
    assert_eq!(browser.js("return location.pathname").await, "/Solana");
    browser
        .wait_text(
            "return String(document.querySelectorAll('.coin-page[data-coin=SOL] .horizon-card.up, .coin-page[data-coin=SOL] .horizon-card.down').length)",
            "6",
        )
        .await;
    // The replay is named, and its 5-minute candles leave no 1-minute chart to offer.
    browser
        .wait_text(
            "const m = document.querySelector('[data-testid=data-mode]'); return m && m.textContent.includes('binance-5m-2025-06') ? 'named' : ''",
            "named",
        )
        .await;
    let resolutions = browser
        .wait_text(
            "return [...document.querySelectorAll('button.resolution')].map(b => b.textContent).join(',')",
            "5m,15m,1h",
        )
        .await;
    assert_eq!(resolutions, "5m,15m,1h", "the 24 h range on 5-minute candles");
    // The models table says how often each horizon is predicted here: the short ones every 5
    // minutes on 5-minute candles.
    let cadence = browser
        .wait_text(
            "const r = [...document.querySelectorAll('.coin-page[data-coin=SOL] [data-testid=models] tbody tr')].find(r => r.textContent.startsWith('30 min')); return r ? [...r.cells].map(c => c.textContent).join('|') : ''",
            "every 5 minutes",
        )
        .await;
    assert!(cadence.contains("updated every 5 minutes"), "{cadence}");
    browser.screenshot("solana-phone-ten-coins.png").await;
}
