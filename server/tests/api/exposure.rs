//! Abuse and exposure: rate limits, security headers, the event-stream cap, shutdown with open
//! streams, and path traversal on the static files.

use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};
use shared::{ApiErrorBody, ErrorCode};

use crate::helpers::{
    FIXTURE_INDEX, Frontend, TestApp, eventually, listening_port, repo_root, spawn_app, spawn_app_with,
};

async fn assert_rate_limited(res: reqwest::Response) {
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=5).contains(&retry), "Retry-After {retry}");
    let body: ApiErrorBody = res.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::RateLimited);
}

#[tokio::test]
async fn an_address_over_its_rate_gets_429_with_retry_after_and_others_do_not() {
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        s.server.rate_limit_per_second = 1;
        s.server.rate_limit_burst = 3;
    })
    .await;
    for i in 0..3 {
        let res = app.get("/api/health").await;
        assert_ne!(res.status(), 429, "request {i}");
    }
    let res = app.get("/api/health").await;
    assert!(res.headers().contains_key("content-security-policy"));
    assert_rate_limited(res).await;
    // Every API path counts; the web app's files do not.
    assert_rate_limited(app.get("/api/nope").await).await;
    for path in ["/", "/Bitcoin", "/assets/0123abcd/frontend.js", "/docs/"] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    // Another address (127.0.0.2 is loopback on Linux) has its own allowance.
    let other = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    if let Ok(res) = other.get(format!("{}/api/health", app.address)).send().await {
        assert_ne!(res.status(), 429);
    }
}

#[tokio::test]
async fn forwarded_for_is_the_client_only_behind_a_trusted_proxy() {
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        s.server.rate_limit_per_second = 1;
        s.server.rate_limit_burst = 1;
        s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let get = |client: &'static str| {
        app.client
            .get(format!("{}/api/health", app.address))
            .header("x-forwarded-for", client)
            .send()
    };
    assert_ne!(get("203.0.113.5").await.unwrap().status(), 429);
    assert_rate_limited(get("203.0.113.5").await.unwrap()).await;
    assert_ne!(get("203.0.113.6").await.unwrap().status(), 429);
    // A forged leftmost hop does not buy a new allowance.
    assert_rate_limited(get("198.51.100.1, 203.0.113.6").await.unwrap()).await;
}

#[tokio::test]
async fn zero_turns_the_rate_limit_off() {
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        s.server.rate_limit_per_second = 0;
    })
    .await;
    for _ in 0..20 {
        assert_ne!(app.get("/api/nope").await.status(), 429);
    }
}

fn assert_security_headers(path: &str, res: &reqwest::Response) -> String {
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
    assert_eq!(h["x-frame-options"], "DENY", "{path}");
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    csp
}

#[tokio::test]
async fn every_response_has_the_security_headers() {
    let app = spawn_app(Frontend::Fixture).await;
    for (path, status) in [
        ("/", 200),
        ("/Bitcoin", 200),
        ("/assets/0123abcd/frontend.js", 200),
        ("/assets/0123abcd/frontend_bg.wasm", 200),
        ("/assets/0123abcd/missing.js", 404),
        ("/favicon.ico", 404),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), status, "{path}");
        let csp = assert_security_headers(path, &res);
        assert!(csp.starts_with("default-src 'self';"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("object-src 'none'"), "{path}: {csp}");
    }
    // JSON is never a page: the API allows nothing to load and nothing to frame it.
    for (path, status) in [
        ("/api/health", 200),
        ("/api/nope", 404),
        ("/api/predictions?coin=DOGE", 400),
        ("/api-docs/openapi.json", 200),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), status, "{path}");
        let csp = assert_security_headers(path, &res);
        assert_eq!(csp, "default-src 'none'; frame-ancestors 'none'", "{path}");
    }
    let res = app
        .client
        .post(format!("{}/api/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_security_headers("POST /api/health", &res);
    // The Swagger UI styles elements inline and has data: icons: its own, looser policy.
    for path in ["/docs/", "/docs/swagger-initializer.js"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let csp = assert_security_headers(path, &res);
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(csp.contains("style-src 'self' 'unsafe-inline'"), "{path}: {csp}");
    }
}

/// A web app folder under a parent that holds a file the server must never serve.
fn dist_with_secret(index_html: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("secret.txt"), "TOP-SECRET-CONTENT").unwrap();
    std::fs::write(outer.path().join("Cargo.toml"), "[package] TOP-SECRET-CONTENT").unwrap();
    let dist = outer.path().join("dist");
    std::fs::create_dir_all(dist.join("assets/0123abcd")).unwrap();
    std::fs::write(dist.join("index.html"), index_html).unwrap();
    std::fs::write(dist.join("assets/0123abcd/frontend.js"), "export default 1;\n").unwrap();
    (outer, dist)
}

#[tokio::test]
async fn the_apps_inline_boot_script_is_allowed_by_its_hash() {
    // The real page shell, as scripts/build-frontend writes it.
    let template = std::fs::read_to_string(repo_root().join("frontend/index.html")).unwrap();
    let index = template.replace("__ASSETS__", "/assets/0123abcd");
    let start = index.find("<script type=\"module\">").unwrap() + "<script type=\"module\">".len();
    let end = index[start..].find("</script>").unwrap() + start;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&index[start..end]));
    let (_outer, dist) = dist_with_secret(&index);
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        s.frontend.dist_dir = dist.clone();
    })
    .await;
    let res = app.get("/Litecoin").await;
    assert_eq!(res.status(), 200);
    let csp = assert_security_headers("/Litecoin", &res);
    assert!(
        csp.contains(&format!("script-src 'self' 'wasm-unsafe-eval' 'sha256-{hash}';")),
        "{csp}"
    );
    assert_eq!(res.text().await.unwrap(), index);

    // A rebuild while the server runs: the new page's script is allowed without a restart.
    let rebuilt = index.replace("/assets/0123abcd", "/assets/4567ef01");
    std::fs::write(dist.join("index.html"), &rebuilt).unwrap();
    let start = rebuilt.find("<script type=\"module\">").unwrap() + "<script type=\"module\">".len();
    let end = rebuilt[start..].find("</script>").unwrap() + start;
    let new_hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&rebuilt[start..end]));
    let res = app.get("/").await;
    let csp = assert_security_headers("/", &res);
    assert!(csp.contains(&format!("'sha256-{new_hash}'")), "{csp}");
    assert!(!csp.contains(&hash), "{csp}");
}

/// Sends `GET <path>` as written (no client-side normalisation of `..` or `%2e`) and returns the
/// status and the whole response.
async fn raw_get(app: &TestApp, path: &str) -> (u16, String) {
    let host = app.address.trim_start_matches("http://").to_owned();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(&host).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, text)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn static_files_never_come_from_outside_the_apps_folder() {
    let (_outer, dist) = dist_with_secret(FIXTURE_INDEX);
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        s.frontend.dist_dir = dist.clone();
    })
    .await;
    // The server answers raw requests at all.
    let (status, text) = raw_get(&app, "/assets/0123abcd/frontend.js").await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("export default 1;"));
    let deep = "/..".repeat(12);
    let enc = "/%2e%2e".repeat(12);
    for path in [
        "/../secret.txt".to_owned(),
        "/assets/../../secret.txt".to_owned(),
        "/assets/0123abcd/../../../secret.txt".to_owned(),
        "/assets/%2e%2e/%2e%2e/secret.txt".to_owned(),
        "/assets/%2e%2e/%2e%2e/Cargo.toml".to_owned(),
        "/%2e%2e/Cargo.toml".to_owned(),
        "/%2E%2E/%2E%2E/secret.txt".to_owned(),
        "/.%2e/secret.txt".to_owned(),
        "/assets/..%2f..%2fsecret.txt".to_owned(),
        "/assets/%2e%2e%2f%2e%2e%2fsecret.txt".to_owned(),
        "/assets/0123abcd/..%2F..%2F..%2Fsecret.txt".to_owned(),
        "/..%5csecret.txt".to_owned(),
        "/assets/..%5c..%5csecret.txt".to_owned(),
        "/assets/..\\..\\secret.txt".to_owned(),
        "/%252e%252e/secret.txt".to_owned(),
        "/..%252fsecret.txt".to_owned(),
        format!("{deep}/etc/passwd"),
        format!("/assets{deep}/etc/passwd"),
        format!("{enc}/etc/passwd"),
        format!("/assets{enc}/etc/passwd"),
        "//etc/passwd".to_owned(),
        "/assets//etc/passwd".to_owned(),
        format!("{}", repo_root().join("Cargo.toml").display()),
    ] {
        let (status, text) = raw_get(&app, &path).await;
        assert!(
            !text.contains("TOP-SECRET-CONTENT") && !text.contains("root:x:0:0"),
            "{path} served a file outside the app: {text}"
        );
        assert!(
            !text.contains("[workspace]"),
            "{path} served the repository's Cargo.toml"
        );
        // Either refused, or a client route answered with the app's page.
        assert!(
            status >= 400 || (status == 200 && text.contains(FIXTURE_INDEX)),
            "{path}: {status} {text}"
        );
    }
}

async fn open_stream(app: &TestApp) -> reqwest::Response {
    let mut res = app.get("/api/stream").await;
    assert_eq!(res.status(), 200);
    let first = res.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("connected"));
    res
}

#[tokio::test]
async fn event_streams_are_capped_and_a_closed_one_frees_its_slot() {
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        s.server.max_streams = 2;
        // The slot of a client that went away is freed when a write to it fails: the second
        // keep-alive line after it left at the latest.
        s.server.stream_keepalive_s = 1;
    })
    .await;
    let first = open_stream(&app).await;
    let _second = open_stream(&app).await;
    let res = app.get("/api/stream").await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "10");
    assert_security_headers("/api/stream", &res);
    let body: ApiErrorBody = res.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::Unavailable);
    assert_eq!(app.state.streams.open(), 2);

    drop(first);
    // The server notices the closed connection (at the latest on its second keep-alive write).
    eventually(Duration::from_secs(30), || async {
        (app.state.streams.open() <= 1).then_some(())
    })
    .await
    .expect("the closed stream gives its slot back");
    let _third = open_stream(&app).await;
}

#[tokio::test]
async fn streams_end_when_the_server_begins_to_stop() {
    let app = spawn_app(Frontend::Fixture).await;
    let mut stream = open_stream(&app).await;
    app.state.begin_shutdown();
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(_chunk) = stream.chunk().await.unwrap() {}
    })
    .await;
    assert!(end.is_ok(), "the stream did not end");
    eventually(Duration::from_secs(10), || async {
        (app.state.streams.open() == 0).then_some(())
    })
    .await
    .expect("the ended stream gives its slot back");
}

fn log_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
}

#[tokio::test]
async fn sigterm_stops_the_binary_promptly_with_streams_open() {
    coincast::collect::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    // COINCAST_BIN: another build of the binary (several work trees may share one target dir).
    let bin = std::env::var("COINCAST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_coincast").into());
    let mut child = std::process::Command::new(bin)
        .current_dir(dir.path())
        .args(["--data-dir"])
        .arg(dir.path().join("data"))
        .args(["serve", "--host", "127.0.0.1", "--port", "0"])
        .env("COINCAST__JOBS__ENABLED", "false")
        .env("COINCAST__MODELS__BACKFILL_HOURS", "0")
        .env("COINCAST__MODELS__DIR", repo_root().join("models/artifacts"))
        .env("COINCAST__FRONTEND__DIST_DIR", dir.path().join("no-dist"))
        .env("COINCAST__LOG__FILTER", "info")
        .env_remove("RUST_LOG")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let started = eventually(Duration::from_secs(60), || {
        let exited = child.try_wait().unwrap().is_some();
        let port = listening_port(&log_of(dir.path()));
        let client = client.clone();
        async move {
            if exited {
                return Some(None);
            }
            let address = format!("http://127.0.0.1:{}", port?);
            let res = client.get(format!("{address}/api/health")).send().await.ok()?;
            res.status().is_success().then_some(Some(address))
        }
    })
    .await;
    let Ok(Some(address)) = started else {
        let _ = child.kill();
        panic!("the server did not start ({started:?}):\n{}", log_of(dir.path()));
    };
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut res = client.get(format!("{address}/api/stream")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.chunk().await.unwrap().is_some());
        streams.push(res);
    }

    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let ended = eventually(Duration::from_secs(15), || {
        std::future::ready(child.try_wait().unwrap())
    })
    .await;
    let Ok(status) = ended else {
        let _ = child.kill();
        panic!("still running 15 s after SIGTERM:\n{}", log_of(dir.path()));
    };
    assert!(status.success(), "{status}:\n{}", log_of(dir.path()));
    // The streams were ended by the server, not cut: each finished its body cleanly.
    for mut s in streams {
        let rest = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match s.chunk().await {
                    Ok(Some(_)) => continue,
                    other => break other.map(|_| ()),
                }
            }
        })
        .await
        .expect("the stream ended");
        assert!(rest.is_ok(), "{rest:?}\n{}", log_of(dir.path()));
    }
}
