//! A small WebDriver client for the browser tests: chromedriver and one headless Chromium
//! session (Debian's `chromium` + `chromium-driver`), over reqwest. `Browser::start` opens it,
//! `goto`, `js`, `click`, `wait_text` drive it, screenshots go to `test-output/`; both processes
//! end when it is dropped.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{eventually, repo_root};

/// A chromedriver process and one browser session, both ended on drop.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Browser {
    pub async fn start(width: u32, height: u32) -> Browser {
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
                    // Its own process group, with the browser it starts: dropping the `Browser`
                    // ends them all (killing chromedriver alone left every chromium running).
                    .process_group(0)
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

    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    pub async fn js(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Polls `script` until it returns a string containing `wanted` (10 s at most).
    pub async fn wait_text(&self, script: &str, wanted: &str) -> String {
        self.wait_text_for(script, wanted, Duration::from_secs(10)).await
    }

    /// Polls `script` until it returns a string containing `wanted`, `limit` at most.
    pub async fn wait_text_for(&self, script: &str, wanted: &str, limit: Duration) -> String {
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
    pub async fn phone_viewport(&self, width: u32, height: u32) {
        let params = json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": true});
        let body = json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": params});
        self.command(reqwest::Method::POST, "/goog/cdp/execute", body)
            .await;
    }

    /// Emulates the system's dark color scheme (`prefers-color-scheme: dark`).
    pub async fn dark_scheme(&self) {
        let params = json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]});
        let body = json!({"cmd": "Emulation.setEmulatedMedia", "params": params});
        self.command(reqwest::Method::POST, "/goog/cdp/execute", body)
            .await;
    }

    /// Presses a key on whatever has the focus (WebDriver key codes: "\u{E004}" is Tab).
    pub async fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
        ]}]});
        self.command(reqwest::Method::POST, "/actions", actions).await;
    }

    pub async fn click(&self, css: &str) {
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

    pub async fn screenshot(&self, name: &str) {
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
        // The whole group: chromedriver, chromium and its helpers.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
