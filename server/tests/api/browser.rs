//! Browser tests: headless Chromium (Debian's `chromium` + `chromium-driver`) driven over WebDriver
//! against the real server serving the real WebAssembly build (`frontend/dist`).
//!
//! They need `scripts/build-frontend` to have run; `scripts/test` does that first. Screenshots go
//! to `test-output/` (not committed) for people to look at.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use coincast::predict::retrain::{Progress, Report};
use serde_json::{Value, json};

use crate::helpers::{Frontend, eventually, repo_root, spawn_app};

/// A chromedriver process and one browser session, both ended on drop.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Browser {
    async fn start(width: u32, height: u32) -> Browser {
        let dist = repo_root().join("frontend/dist/index.html");
        assert!(
            dist.is_file(),
            "{} is missing: build the web app first with scripts/build-frontend",
            dist.display()
        );
        let driver_bin = std::env::var("COINCAST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let chromium = std::env::var("COINCAST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let http = reqwest::Client::new();
        // chromedriver cannot report a port it picked itself: it gets a free one, and a driver that
        // lost that port to another process meanwhile (it exits) is started again on another.
        let (driver, base) = 'started: {
            for _ in 0..3 {
                let port = TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap()
                    .port();
                let mut driver = Command::new(&driver_bin)
                    .arg(format!("--port={port}"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap_or_else(|e| {
                        panic!("starting {driver_bin} (apt-get install chromium-driver): {e}")
                    });
                let base = format!("http://127.0.0.1:{port}");
                let up = eventually(Duration::from_secs(20), || {
                    let exited = driver.try_wait().unwrap().is_some();
                    let status = http.get(format!("{base}/status")).send();
                    async move {
                        if exited {
                            return Some(false);
                        }
                        status.await.ok()?.status().is_success().then_some(true)
                    }
                })
                .await
                .expect("chromedriver answers within 20 s");
                if up {
                    break 'started (driver, base);
                }
            }
            panic!("chromedriver exited on start three times");
        };
        let profile = tempfile::tempdir().unwrap().keep();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {res}"))
            .to_owned();
        Browser {
            driver,
            base,
            session,
            http,
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if !body.is_null() {
            req = req.json(&body);
        }
        let res: Value = req.send().await.unwrap().json().await.unwrap();
        if let Some(err) = res["value"].get("error") {
            panic!("WebDriver {path}: {err}: {}", res["value"]["message"]);
        }
        res["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    async fn js(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Polls `script` until it returns a string containing `wanted` (10 s at most).
    async fn wait_text(&self, script: &str, wanted: &str) -> String {
        self.wait_text_for(script, wanted, Duration::from_secs(10)).await
    }

    /// Polls `script` until it returns a string containing `wanted`, `limit` at most.
    async fn wait_text_for(&self, script: &str, wanted: &str, limit: Duration) -> String {
        let last = std::sync::Mutex::new(Value::Null);
        eventually(limit, || async {
            let value = self.js(script).await;
            let text = value.as_str().unwrap_or_default().to_owned();
            *last.lock().unwrap() = value;
            text.contains(wanted).then_some(text)
        })
        .await
        .unwrap_or_else(|e| {
            panic!(
                "waited for {wanted:?} from `{script}`, last saw {} ({e})",
                last.lock().unwrap()
            )
        })
    }

    /// Emulates a phone's viewport (headless Chromium will not size a window below 500 px).
    async fn phone_viewport(&self, width: u32, height: u32) {
        let params = json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": true});
        let body = json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": params});
        self.command(reqwest::Method::POST, "/goog/cdp/execute", body)
            .await;
    }

    /// Emulates the system's dark color scheme (`prefers-color-scheme: dark`).
    async fn dark_scheme(&self) {
        let params = json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]});
        let body = json!({"cmd": "Emulation.setEmulatedMedia", "params": params});
        self.command(reqwest::Method::POST, "/goog/cdp/execute", body)
            .await;
    }

    /// Presses a key on whatever has the focus (WebDriver key codes: "\u{E004}" is Tab).
    async fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
        ]}]});
        self.command(reqwest::Method::POST, "/actions", actions).await;
    }

    async fn click(&self, css: &str) {
        let el = self
            .command(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        let id = el
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap()
            .to_owned();
        self.command(reqwest::Method::POST, &format!("/element/{id}/click"), json!({}))
            .await;
    }

    async fn screenshot(&self, name: &str) {
        let png = self
            .command(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let dir = repo_root().join("test-output");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

const H1: &str = "return document.querySelector('.coin-page h1')?.textContent ?? ''";
const HEALTH: &str = "return document.querySelector('[data-testid=health]')?.textContent ?? ''";

#[tokio::test]
async fn coin_pages_render_health_from_the_api_and_switch_without_reload() {
    if crate::helpers::sqlite_only("drives the web app in Chromium, the same whatever the database") {
        return;
    }
    let app = spawn_app(Frontend::Built).await;
    let browser = Browser::start(1280, 900).await;

    browser.goto(&format!("{}/Litecoin", app.address)).await;
    browser.wait_text(H1, "Litecoin").await;
    let health = browser.wait_text(HEALTH, "sqlite database reachable").await;
    assert!(
        health.contains(&format!("API v{}", env!("CARGO_PKG_VERSION"))),
        "{health}"
    );
    let current = browser
        .js("return document.querySelector('[aria-current=page]')?.dataset.coin")
        .await;
    assert_eq!(current, "LTC");
    browser.screenshot("litecoin-desktop.png").await;

    // Keyboard: the first Tab reaches the skip link, Enter on it moves the focus to the content;
    // the coin buttons follow the brand in the tab order.
    const FOCUSED: &str = "const e = document.activeElement; return (e?.className || e?.tagName || '') + ' ' + (e?.textContent ?? '').slice(0, 20)";
    browser.press("\u{E004}").await;
    browser.wait_text(FOCUSED, "skip-link Skip to content").await;
    browser.press("\u{E004}").await;
    browser.wait_text(FOCUSED, "brand coincast").await;
    browser.press("\u{E004}").await;
    browser.wait_text(FOCUSED, "coin-button Bitcoin").await;
    assert_eq!(
        browser
            .js("return getComputedStyle(document.activeElement).outlineStyle")
            .await,
        "solid",
        "a visible focus ring"
    );
    browser
        .js("document.querySelector('.skip-link').focus(); return null")
        .await;
    browser.press("\u{E007}").await;
    browser.wait_text(FOCUSED, "MAIN").await;

    // The dark theme follows the system setting.
    let light_bg = browser
        .js("return getComputedStyle(document.body).backgroundColor")
        .await;
    assert_eq!(light_bg, "rgb(247, 247, 248)");
    browser.dark_scheme().await;
    browser
        .wait_text(
            "return getComputedStyle(document.body).backgroundColor",
            "rgb(17, 19, 22)",
        )
        .await;
    browser.screenshot("litecoin-dark-desktop.png").await;

    // A marker on window survives client-side navigation but not a reload.
    browser.js("window.__coincastMarker = 42; return null").await;
    browser.click("a.coin-button[data-coin=XRP]").await;
    browser.wait_text(H1, "Ripple").await;
    assert_eq!(browser.js("return location.pathname").await, "/Ripple");
    assert_eq!(
        browser.js("return window.__coincastMarker ?? null").await,
        42,
        "the page reloaded"
    );
    let current = browser
        .js("return document.querySelector('[aria-current=page]')?.dataset.coin")
        .await;
    assert_eq!(current, "XRP");
}

#[tokio::test]
async fn root_goes_to_bitcoin_and_lowercase_paths_work() {
    if crate::helpers::sqlite_only("drives the web app in Chromium, the same whatever the database") {
        return;
    }
    let app = spawn_app(Frontend::Built).await;
    let browser = Browser::start(1280, 900).await;
    browser.phone_viewport(375, 812).await;

    browser.goto(&format!("{}/", app.address)).await;
    browser.wait_text(H1, "Bitcoin").await;
    browser.wait_text("return location.pathname", "/Bitcoin").await;

    browser.goto(&format!("{}/ripple", app.address)).await;
    browser.wait_text(H1, "Ripple").await;
    browser.wait_text(HEALTH, "API v").await;
    assert_eq!(browser.js("return window.innerWidth").await, 375);
    browser.screenshot("ripple-phone.png").await;

    browser.goto(&format!("{}/Dogecoin", app.address)).await;
    browser
        .wait_text(
            "return document.querySelector('.not-found h1')?.textContent ?? ''",
            "Page not found",
        )
        .await;
}

#[tokio::test]
async fn coin_pages_show_six_prediction_cards_from_the_replayed_data() {
    if crate::helpers::sqlite_only("drives the web app in Chromium, the same whatever the database") {
        return;
    }
    let app = crate::helpers::spawn_app_with(Frontend::Built, |s| {
        s.replay.enabled = true;
        s.jobs.enabled = true;
        s.jobs.slow_cron = "0 0 0 1 1 * 2099".into();
    })
    .await;
    // The start-up backfill gives every horizon a prediction, and scores the past ones, in seconds.
    let scored = eventually(Duration::from_secs(20), || async {
        let h: shared::PredictionHistory = app
            .get("/api/predictions/history?coin=BTC")
            .await
            .json()
            .await
            .unwrap();
        h.predictions.iter().any(|p| p.correct.is_some()).then_some(())
    })
    .await;
    assert!(
        scored.is_ok(),
        "no scored prediction in the last 3 hours after the backfill"
    );
    let browser = Browser::start(1280, 900).await;
    browser.goto(&format!("{}/Bitcoin", app.address)).await;
    browser
        .wait_text(
            "return String(document.querySelectorAll('.horizon-card.up, .horizon-card.down').length)",
            "6",
        )
        .await;
    // Time to first render: the app marks when the cards first show predictions (a fresh browser
    // profile: nothing cached). Recorded, not asserted: speed belongs in measurements.
    let timing = browser
        .wait_text(
            "const m = performance.getEntriesByName('coincast:first-render')[0]; const n = performance.getEntriesByType('navigation')[0]; return m ? `first render (six cards with predictions) ${m.startTime.toFixed(0)} ms after navigation start; DOMContentLoaded ${n.domContentLoadedEventEnd.toFixed(0)} ms; load ${n.loadEventEnd.toFixed(0)} ms; wasm ${performance.getEntriesByType('resource').filter(r => r.name.endsWith('.wasm')).map(r => `${(r.encodedBodySize / 1024).toFixed(0)} KiB on the wire, ${(r.decodedBodySize / 1024).toFixed(0)} KiB decoded, fetched in ${r.duration.toFixed(0)} ms`).join()}` : ''",
 "first render",
        )
        .await;
    eprintln!("{timing}");
    // The page says plainly whether any of the coin's models has shown an edge, as /api/coins does.
    let coins: shared::CoinsResponse = app.get("/api/coins").await.json().await.unwrap();
    let btc = coins.get(shared::Coin::BTC).unwrap();
    let note = browser
        .js("return document.querySelector('[data-testid=no-edge]')?.textContent ?? ''")
        .await;
    if btc.models_beating_baseline == 0 {
        assert!(
            note.as_str()
                .unwrap()
                .starts_with("None of Bitcoin's 6 models has beaten"),
            "{note}"
        );
    } else {
        assert_eq!(note, "", "{btc:?}");
    }
    let out = repo_root().join("test-output");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("first-render.txt"), format!("{timing}\n")).unwrap();
    // The status strip: every source with its state in words, the replay notice, the last update.
    let sources = browser
        .wait_text(
            "return [...document.querySelectorAll('[data-testid=sources] li')].map(l => l.className + ': ' + l.textContent).join('|')",
            "source ok",
        )
        .await;
    assert!(
        sources.contains("replay/BTC") && sources.contains("replayed from binance-1m-2021-05"),
        "{sources}"
    );
    assert!(sources.contains("not collected in this mode"), "{sources}");
    browser
        .wait_text(
            "return document.querySelector('[data-testid=last-update]')?.textContent ?? ''",
            "updated ",
        )
        .await;
    browser
        .js("document.querySelector('[data-testid=status]').scrollIntoView(); return null")
        .await;
    browser.screenshot("status-strip-desktop.png").await;
    browser.js("window.scrollTo(0, 0); return null").await;
    let cards = browser
        .js("return [...document.querySelectorAll('.horizon-card')].map(c => c.dataset.horizon + ' ' + c.querySelector('[data-testid=direction]').textContent + ' ' + c.querySelector('.p-up').textContent).join('|')")
        .await;
    let cards = cards.as_str().unwrap().to_owned();
    assert_eq!(cards.split('|').count(), 6, "{cards}");
    for card in cards.split('|') {
        assert!(card.contains("UP") || card.contains("DOWN"), "{card}");
        assert!(card.contains("P(up) ") && card.ends_with('%'), "{card}");
    }
    // Each card's signal beside its direction: the confidence against the model's threshold.
    let signals = browser
        .js("return [...document.querySelectorAll('.horizon-card [data-testid=signal]')].map(s => s.textContent).join('|')")
        .await;
    let signals = signals.as_str().unwrap().to_owned();
    assert_eq!(signals.split('|').count(), 6, "{signals}");
    for signal in signals.split('|') {
        let ok = (signal.starts_with("LONG · confidence ") || signal.starts_with("SHORT · confidence "))
            && signal.contains(" ≥ ")
            || signal.starts_with("FLAT · confidence ") && signal.ends_with("below the model's threshold");
        assert!(ok, "{signal}");
    }
    let first = browser
        .js("return document.querySelector('.horizon-card[data-horizon=\"30m\"]').textContent")
        .await;
    let first = first.as_str().unwrap();
    assert!(
        first.contains("updated every minute") && first.contains("walk-forward"),
        "{first}"
    );
    let mode = browser
        .wait_text(
            "return document.querySelector('[data-testid=data-mode]')?.textContent ?? ''",
            "replaying",
        )
        .await;
    assert!(mode.contains("binance-1m-2021-05"), "{mode}");
    // The history table: rows of 15-minute times by six horizons, from the backfilled predictions.
    browser
        .wait_text(
            "return document.querySelector('[data-testid=history]')?.textContent ?? ''",
            "UTC",
        )
        .await;
    let rows = browser
        .js("return String(document.querySelectorAll('[data-testid=history] tbody tr').length)")
        .await;
    let rows = rows.as_str().unwrap().to_owned();
    assert!(rows.parse::<usize>().unwrap() >= 10, "{rows} history rows");
    let header = browser
        .js("return document.querySelector('[data-testid=history] thead').textContent")
        .await;
    assert_eq!(header, "Made (UTC)30 min1 h2 h4 h6 h12 h");
    let marks = browser
        .js("return [...document.querySelectorAll('[data-testid=history] .mark')].map(m => m.textContent).join('')")
        .await;
    assert!(
        marks.as_str().unwrap().contains('✓') || marks.as_str().unwrap().contains('✗'),
        "scored cells are marked: {marks}"
    );
    let others = browser
        .wait_text(
            "return document.querySelector('.other-coins tbody')?.textContent ?? ''",
            "Ripple",
        )
        .await;
    assert!(
        others.contains("Litecoin") && others.contains('$') && others.contains("in 24 h"),
        "{others}"
    );
    assert!(!others.contains("Bitcoin"), "{others}");
    // A table sorted by name; a header click turns the order round.
    const ROWS: &str =
        "return [...document.querySelectorAll('.other-coins tbody tr')].map(r => r.dataset.coin).join(',')";
    assert_eq!(browser.js(ROWS).await, "LTC,XRP");
    browser.click(".other-coins button.sort[data-sort=Coin]").await;
    browser.wait_text(ROWS, "XRP,LTC").await;
    assert_eq!(
        browser
            .js("return document.querySelector('.other-coins th[aria-sort=descending]')?.textContent ?? ''")
            .await,
        "Coin"
    );
    // The price chart: a line over the replayed minutes, prediction markers, a hover readout.
    browser
        .wait_text(
            "return String((document.querySelector('[data-testid=chart] path.line')?.getAttribute('d') ?? '').length > 200)",
            "true",
        )
        .await;
    // Labelled axes: USD levels beside the plot, UTC times below it.
    let levels = browser
        .js("return [...document.querySelectorAll('.price-chart .value-axis text')].map(t => t.textContent).join('|')")
        .await;
    let levels = levels.as_str().unwrap().to_owned();
    assert!(
        levels.split('|').count() >= 3 && levels.split('|').all(|l| l.starts_with('$')),
        "price levels: {levels}"
    );
    let times = browser
        .js("return [...document.querySelectorAll('.price-chart .time-axis text')].map(t => t.textContent).join('|')")
        .await;
    let times = times.as_str().unwrap().to_owned();
    assert!(
        times.split('|').count() >= 3 && times.contains(':'),
        "times: {times}"
    );
    let markers = browser
        .js("return String(document.querySelectorAll('[data-testid=chart] circle.marker').length)")
        .await;
    assert!(
        markers.as_str().unwrap().parse::<usize>().unwrap() >= 20,
        "{markers} markers"
    );
    browser
        .js("const c = document.querySelector('[data-testid=chart]'); const r = c.getBoundingClientRect(); \
             c.dispatchEvent(new PointerEvent('pointermove', {clientX: r.left + r.width / 2, clientY: r.top + 10, bubbles: true})); return null")
        .await;
    let readout = browser
        .wait_text(
            "return document.querySelector('[data-testid=chart-readout]').textContent",
            "UTC · $",
        )
        .await;
    assert!(readout.starts_with("20"), "{readout}");
    // Keyboard: focus the chart and step through the points with the arrow keys.
    browser
        .js("const c = document.querySelector('[data-testid=chart]'); c.dispatchEvent(new PointerEvent('pointerleave')); \
             c.focus(); for (const key of ['End', 'ArrowLeft', 'ArrowLeft']) \
             c.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true, cancelable: true})); return null")
        .await;
    let by_key = browser
        .wait_text(
            "return document.querySelector('[data-testid=chart-readout]').textContent",
            "UTC · $",
        )
        .await;
    assert_ne!(
        by_key, readout,
        "the arrow keys moved the readout to the newest points"
    );
    assert_eq!(
        browser
            .js("return document.activeElement?.dataset?.testid ?? ''")
            .await,
        "chart"
    );
    let d24 = browser
        .js("return document.querySelector('[data-testid=chart] path.line').getAttribute('d')")
        .await;
    browser.click(".ranges button:nth-child(3)").await;
    browser
        .wait_text(
            "return document.querySelector('.ranges button[aria-pressed=true]')?.textContent ?? ''",
            "7 d",
        )
        .await;
    // The 7-day line replaces the 24-hour one, and the choice stays.
    let _ = eventually(Duration::from_secs(5), || async {
        let d = browser
            .js("return document.querySelector('[data-testid=chart] path.line')?.getAttribute('d') ?? ''")
            .await;
        (d != d24 && d.as_str().is_some_and(|d| d.len() > 200)).then_some(())
    })
    .await;
    assert_eq!(
        browser
            .js("return document.querySelector('.ranges button[aria-pressed=true]')?.textContent ?? ''")
            .await,
        "7 d"
    );
    assert_ne!(
        browser
            .js("return document.querySelector('[data-testid=chart] path.line')?.getAttribute('d') ?? ''")
            .await,
        d24
    );
    // A finer resolution for the same range: more points.
    const POINTS: &str = "return String((document.querySelector('[data-testid=chart] path.line')?.getAttribute('d') ?? '').split('L').length)";
    let hourly: usize = browser.js(POINTS).await.as_str().unwrap().parse().unwrap();
    browser
        .click(".ranges[aria-label=Resolution] button:nth-child(2)")
        .await;
    browser
        .wait_text(
            "return document.querySelector('.ranges[aria-label=Resolution] button[aria-pressed=true]')?.textContent ?? ''",
            "15m",
        )
        .await;
    let finer: usize = eventually(Duration::from_secs(5), || async {
        let points: usize = browser.js(POINTS).await.as_str().unwrap().parse().unwrap();
        (points > hourly).then_some(points)
    })
    .await
    .unwrap_or(hourly);
    assert!(finer >= 3 * hourly, "15-minute points {finer} vs hourly {hourly}");
    let models = browser
        .wait_text(
            "return document.querySelector('.models-card h2')?.textContent ?? ''",
            "6 models",
        )
        .await;
    assert_eq!(models, "6 models for Bitcoin currently running");
    let kinds = browser
        .js("return [...document.querySelectorAll('[data-testid=models] tbody tr')].map(r => r.textContent).join('|')")
        .await;
    let kinds = kinds.as_str().unwrap();
    assert_eq!(kinds.split('|').count(), 6, "{kinds}");
    assert!(
        kinds.contains("logistic regression") && kinds.contains("baseline"),
        "{kinds}"
    );
    // The strongest simple rule, and whether the model beats it, said in words.
    let strongest = browser
        .js("return [...document.querySelectorAll('[data-testid=strongest-baseline]')].map(c => c.textContent).join('|')")
        .await;
    let strongest = strongest.as_str().unwrap().to_owned();
    assert_eq!(strongest.split('|').count(), 6, "{strongest}");
    for cell in strongest.split('|') {
        assert!(
            ["majority", "momentum", "reversal"]
                .iter()
                .any(|r| cell.starts_with(r))
                && (cell.contains("the model beats it (p") || cell.contains("the model does not beat it (p")),
            "{cell}"
        );
    }
    browser.screenshot("bitcoin-cards-desktop.png").await;

    // The other coins' pages, reached through the header: the same sections with their own data.
    browser.js("window.__coincastMarker = 3; return null").await;
    for (ticker, name) in [("LTC", "Litecoin"), ("XRP", "Ripple")] {
        browser.click(&format!("a.coin-button[data-coin={ticker}]")).await;
        browser.wait_text(H1, name).await;
        browser
            .wait_text(
                "return String(document.querySelectorAll('.horizon-card.up, .horizon-card.down').length)",
                "6",
            )
            .await;
        browser
            .wait_text(
                "return String((document.querySelector('[data-testid=chart] path.line')?.getAttribute('d') ?? '').length > 200)",
                "true",
            )
            .await;
        browser
            .wait_text(
                "return String(document.querySelectorAll('[data-testid=history] tbody tr').length >= 10)",
                "true",
            )
            .await;
        browser
            .wait_text(
                "return document.querySelector('.models-card h2')?.textContent ?? ''",
                &format!("6 models for {name} currently running"),
            )
            .await;
        let others = browser
            .wait_text(
                "return document.querySelector('.other-coins tbody')?.textContent ?? ''",
                "Bitcoin",
            )
            .await;
        assert!(!others.contains(name), "{others}");
    }
    assert_eq!(
        browser.js("return window.__coincastMarker ?? null").await,
        3,
        "the page reloaded"
    );
    browser.click("a.coin-button[data-coin=BTC]").await;
    browser.wait_text(H1, "Bitcoin").await;
    browser.phone_viewport(375, 812).await;
    browser.screenshot("bitcoin-cards-phone.png").await;

    browser.click("a.about-link").await;
    browser
        .wait_text(
            "return document.querySelector('.about h1')?.textContent ?? ''",
            "About coincast",
        )
        .await;
    browser
        .wait_text(
            "return String(document.querySelectorAll('[data-testid=all-models] tbody tr').length)",
            "18",
        )
        .await;
    // The evaluation report: a reliability diagram and an accuracy-vs-coverage plot per coin, six
    // horizons each, and the numbers behind the curves.
    assert_eq!(
        browser
            .js("return [...document.querySelectorAll('[data-testid=reliability]')].map(s => s.querySelectorAll('g.series').length).join()")
            .await,
        "6,6,6"
    );
    assert_eq!(
        browser
            .js("return String(document.querySelectorAll('[data-testid=coverage] g.series circle').length)")
            .await,
        "72",
        "3 coins x 6 horizons x 4 coverage levels"
    );
    let coverage = browser
        .js("return document.querySelector('[data-testid=coverage-table]').textContent")
        .await;
    assert!(
        coverage.as_str().unwrap().contains("top 10%") && coverage.as_str().unwrap().contains("(n="),
        "{coverage}"
    );
    browser.screenshot("about-phone.png").await;
    browser.phone_viewport(1280, 900).await;
    browser.screenshot("about-desktop.png").await;
    browser
        .js("document.querySelector('.evaluation').scrollIntoView(); return null")
        .await;
    browser.screenshot("about-plots-desktop.png").await;
}

#[tokio::test]
async fn the_performance_section_shows_each_models_equity_curve_after_costs() {
    if crate::helpers::sqlite_only("drives the web app in Chromium, the same whatever the database") {
        return;
    }
    let app = spawn_app(Frontend::Built).await;
    let browser = Browser::start(1280, 900).await;
    browser.goto(&format!("{}/Bitcoin", app.address)).await;
    const SECTION: &str = "return document.querySelector('[data-testid=performance]')?.textContent ?? ''";
    let costs = browser
        .wait_text(
            "return document.querySelector('[data-testid=performance] [data-testid=costs]')?.textContent ?? ''",
            "after 10 bps fee and 2 bps slippage per side: ",
        )
        .await;
    assert!(costs.contains("Signals at confidence ≥ 0."), "{costs}");
    // A row per horizon in the overview, each with its walk-forward figure after costs.
    let rows = browser
        .js("return [...document.querySelectorAll('[data-testid=performance-overview] tbody tr')].map(r => r.dataset.horizon + ' ' + r.textContent).join('|')")
        .await;
    let rows = rows.as_str().unwrap().to_owned();
    assert_eq!(rows.split('|').count(), 6, "{rows}");
    assert!(rows.split('|').all(|r| r.contains('%')), "{rows}");
    // The walk-forward equity curve (long-short after costs) with buy-and-hold beside it, on the
    // shared line chart with labelled axes.
    browser
        .wait_text(
            "return String((document.querySelector('[data-testid=equity-chart] path.line')?.getAttribute('d') ?? '').split('L').length >= 20)",
            "true",
        )
        .await;
    let hold = browser
        .js("return String((document.querySelector('[data-testid=equity-chart] path.hold')?.getAttribute('d') ?? '').split('L').length)")
        .await;
    assert!(hold.as_str().unwrap().parse::<usize>().unwrap() >= 2, "{hold}");
    let levels = browser
        .js("return [...document.querySelectorAll('[data-testid=performance] .value-axis text')].map(t => t.textContent).join('|')")
        .await;
    assert!(levels.as_str().unwrap().contains('%'), "{levels}");
    assert!(
        browser
            .js(
                "return String(document.querySelectorAll('[data-testid=performance] .time-axis text').length)"
            )
            .await
            .as_str()
            .unwrap()
            .parse::<usize>()
            .unwrap()
            >= 2
    );
    // The numbers, and a plain verdict: nothing after fees, or how it compares with holding.
    let numbers = browser
        .js("return document.querySelector('[data-testid=strategy-numbers]').textContent")
        .await;
    let numbers = numbers.as_str().unwrap();
    for word in [
        "Signals, long-short",
        "Buy-and-hold",
        "Momentum rule",
        "Sharpe",
        "Break-even fee",
    ] {
        assert!(numbers.contains(word), "{word}: {numbers}");
    }
    let verdict = browser
        .js("return document.querySelector('[data-testid=verdict]').textContent")
        .await;
    let verdict = verdict.as_str().unwrap();
    assert!(
        verdict.starts_with("After fees this model earns nothing")
            || verdict.starts_with("Following the signals returned"),
        "{verdict}"
    );
    // No live predictions in this fresh database: the live record says so.
    let text = browser.js(SECTION).await;
    assert!(
        text.as_str().unwrap().contains("No scored live predictions yet"),
        "{text}"
    );
    browser
        .js("document.querySelector('[data-testid=performance]').scrollIntoView(); return null")
        .await;
    browser.screenshot("bitcoin-performance-desktop.png").await;
    // Another horizon: its own curve.
    let before = browser
        .js("return document.querySelector('[data-testid=equity-chart] path.line').getAttribute('d')")
        .await;
    browser
        .click("[data-testid=performance-overview] tr[data-horizon=\"12h\"] button")
        .await;
    browser
        .wait_text(
            "return document.querySelector('.perf-detail')?.dataset.horizon ?? ''",
            "12h",
        )
        .await;
    let after = browser
        .js("return document.querySelector('[data-testid=equity-chart] path.line')?.getAttribute('d') ?? ''")
        .await;
    assert_ne!(before, after, "the 12 h model's curve replaced the 30 min one");
    // Hovering the curve reads the returns so far at that time.
    browser
        .js("const c = document.querySelector('[data-testid=equity-chart]'); const r = c.getBoundingClientRect(); \
             c.dispatchEvent(new PointerEvent('pointermove', {clientX: r.left + r.width / 2, clientY: r.top + 10, bubbles: true})); return null")
        .await;
    let readout = browser
        .wait_text(
            "return document.querySelector('[data-testid=equity-chart-readout]').textContent",
            "signals, long-short ",
        )
        .await;
    assert!(
        readout.contains("UTC · ") && readout.contains("buy-and-hold "),
        "{readout}"
    );
    browser.phone_viewport(375, 812).await;
    browser
        .js("document.querySelector('[data-testid=performance]').scrollIntoView(); return null")
        .await;
    browser.screenshot("bitcoin-performance-phone.png").await;
    // The About page explains what the figures do and do not promise.
    browser.click("a.about-link").await;
    let caveats = browser
        .wait_text(
            "return document.querySelector('[data-testid=trading-caveats]')?.textContent ?? ''",
            "Not advice.",
        )
        .await;
    for promise in [
        "Past, not future.",
        "After the stated costs only.",
        "One position at a time.",
        "earlier data",
        "small samples",
    ] {
        assert!(caveats.contains(promise), "{promise}: {caveats}");
    }
}

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
        coin: Set(shared::Coin::LTC),
        horizon: Set(h),
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
    let options = browser
        .wait_text(
            "return [...document.querySelectorAll('.coin-select option')].map(o => o.value).join(',')",
            ",BTC,ETH,SOL,XRP,LTC,DOGE",
        )
        .await;
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
    browser
        .js("const s = document.querySelector('.coin-select'); s.value = 'ETH'; s.dispatchEvent(new Event('change')); return null")
        .await;
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
