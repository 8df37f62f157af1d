//! Hostile input on every parameter of every GET route: each is a quick JSON 400
//! `invalid_parameter` naming the parameter, and `/api/health` keeps answering throughout.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use shared::{ApiErrorBody, ErrorCode};

use crate::helpers::{Frontend, TestApp, spawn_app_with};

/// A hang guard, not a benchmark.
const HANG_GUARD: Duration = Duration::from_secs(2);

/// Values no parameter accepts (raw, as they go in the URL).
fn hostile_values() -> Vec<String> {
    vec![
        "-9223372036854775808".into(),
        "9223372036854775807".into(),
        "-9223372036000000000".into(),
        "99999999999999999999999999999".into(),
        "-1".into(),
        "1764633600000".into(),
        String::new(),
        "x".repeat(10 * 1024),
        "%00".into(),
        "BTC%00".into(),
        "%FF%FE".into(),
        "%ZZ".into(),
        "%".into(),
    ]
}

/// Sends `url` (with `headers`) and checks the answer is a quick JSON 400 naming `parameter`.
async fn refused(app: &TestApp, url: &str, headers: HeaderMap, parameter: &str) {
    let started = Instant::now();
    let r = app
        .client
        .get(format!("{}{url}", app.address))
        .headers(headers)
        .timeout(HANG_GUARD)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", &url[..url.len().min(200)]));
    let shown = &url[..url.len().min(200)];
    assert_eq!(r.status(), 400, "{shown}");
    let body: ApiErrorBody = r.json().await.unwrap();
    assert!(
        started.elapsed() < HANG_GUARD,
        "{shown} took {:?}",
        started.elapsed()
    );
    assert_eq!(body.code, ErrorCode::InvalidParameter, "{shown}");
    assert_eq!(
        body.parameter.as_deref(),
        Some(parameter),
        "{shown}: {}",
        body.message
    );
    assert!(!body.message.is_empty());
}

async fn health_still_answers(app: &TestApp) {
    let r = app
        .client
        .get(format!("{}/api/health", app.address))
        .timeout(HANG_GUARD)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// A GET route, a valid query for it, and a valid value for each of its parameters (the base
/// query the hostile value replaces, and the value a repeated parameter repeats).
struct Route {
    path: &'static str,
    params: Vec<(&'static str, String)>,
    required: Vec<&'static str>,
}

/// Every case of one route: each parameter with each hostile value and repeated, and unknown
/// parameters (a plain one, an overlong name, a name that is not UTF-8). Returns the count.
async fn attack(app: &TestApp, route: &Route) -> usize {
    let mut count = 0;
    let base = |skip: &str| -> Vec<String> {
        route
            .params
            .iter()
            .filter(|(n, _)| route.required.contains(n) && *n != skip)
            .map(|(n, v)| format!("{n}={v}"))
            .collect()
    };
    let url = |pairs: Vec<String>| {
        if pairs.is_empty() {
            route.path.to_owned()
        } else {
            format!("{}?{}", route.path, pairs.join("&"))
        }
    };
    for (name, valid) in &route.params {
        for value in hostile_values() {
            let mut pairs = base(name);
            pairs.push(format!("{name}={value}"));
            refused(app, &url(pairs), HeaderMap::new(), name).await;
            count += 1;
        }
        let mut pairs = base(name);
        pairs.push(format!("{name}={valid}"));
        pairs.push(format!("{name}={valid}"));
        refused(app, &url(pairs), HeaderMap::new(), name).await;
        count += 1;
    }
    let long_name = "n".repeat(10 * 1024);
    for (pair, parameter) in [
        ("horizn=1h".to_owned(), "horizn".to_owned()),
        ("coin_=BTC".to_owned(), "coin_".to_owned()),
        (format!("{long_name}=1"), "n".repeat(64)),
        ("%FF%FE=1".to_owned(), "%FF%FE".to_owned()),
        ("x%00=1".to_owned(), "x\0".to_owned()),
    ] {
        let mut pairs = base("");
        pairs.push(pair);
        refused(app, &url(pairs), HeaderMap::new(), &parameter).await;
        count += 1;
    }
    count
}

#[tokio::test]
async fn hostile_parameters_get_quick_400s_naming_them_and_health_keeps_answering() {
    // Hundreds of requests in a burst: the rate limit (tested in `exposure`) is off here.
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        s.server.rate_limit_per_second = 0;
    })
    .await;
    let now = chrono::Utc::now().timestamp();
    let (hour_ago, day_ago) = ((now - 3600).to_string(), (now - 86_400).to_string());
    let p = |n: &'static str, v: &str| (n, v.to_owned());
    let routes = [
        Route {
            path: "/api/health",
            params: vec![],
            required: vec![],
        },
        Route {
            path: "/api/sources",
            params: vec![],
            required: vec![],
        },
        Route {
            path: "/api/prices/latest",
            params: vec![],
            required: vec![],
        },
        Route {
            path: "/api/models",
            params: vec![],
            required: vec![],
        },
        Route {
            path: "/api/prices",
            params: vec![
                p("coin", "BTC"),
                p("resolution", "1h"),
                p("from", &day_ago),
                p("to", &hour_ago),
            ],
            required: vec!["coin"],
        },
        Route {
            path: "/api/predictions",
            params: vec![p("coin", "BTC"), p("horizon", "1h")],
            required: vec![],
        },
        Route {
            path: "/api/predictions/history",
            params: vec![
                p("coin", "BTC"),
                p("horizon", "1h"),
                p("from", &day_ago),
                p("to", &hour_ago),
                p("step_minutes", "15"),
                p("limit", "10"),
                p("cursor", &format!("{hour_ago}.1")),
            ],
            required: vec![],
        },
        Route {
            path: "/api/accuracy",
            params: vec![p("coin", "BTC"), p("horizon", "1h")],
            required: vec![],
        },
        // Its filters; the event id (`last_event_id`, or the Last-Event-ID header below) takes
        // any whole number up to 2^53 - 1, so some hostile values are valid ids.
        Route {
            path: "/api/stream",
            params: vec![p("coin", "BTC"), p("horizon", "1h"), p("type", "price")],
            required: vec![],
        },
    ];
    health_still_answers(&app).await;
    let mut counts = Vec::new();
    for route in &routes {
        let n = attack(&app, route).await;
        health_still_answers(&app).await;
        counts.push((route.path.to_owned(), n));
    }

    // The stream's Last-Event-ID header.
    let mut stream_cases = 0;
    let header = |v: &[u8]| {
        let mut h = HeaderMap::new();
        h.insert("last-event-id", HeaderValue::from_bytes(v).unwrap());
        h
    };
    let long = "1".repeat(10 * 1024);
    for value in [
        b"9223372036854775807-0-0".as_slice(),
        b"0-9223372036854775807-0",
        b"0-0-9223372036854775807",
        b"-9223372036854775808-0-0",
        b"-9223372036000000000",
        b"0--9223372036000000000-0",
        b"99999999999999999999999-0-0",
        b"-1-0-0",
        b"0-1-0",
        b"",
        long.as_bytes(),
        b"\xFF\xFE",
        b"1-2",
        b"a-b-c",
    ] {
        refused(&app, "/api/stream", header(value), "Last-Event-ID").await;
        stream_cases += 1;
    }
    let mut twice = HeaderMap::new();
    twice.append("last-event-id", HeaderValue::from_static("0-0-0"));
    twice.append("last-event-id", HeaderValue::from_static("0-0-0"));
    refused(&app, "/api/stream", twice, "Last-Event-ID").await;
    stream_cases += 1;
    health_still_answers(&app).await;
    if let Some(c) = counts.iter_mut().find(|(p, _)| p == "/api/stream") {
        c.1 += stream_cases;
    }

    // The requests: a `from` whose range overflows is refused; `1d` over a year
    // (millions of minute rows to read) reads the widest range allowed, ending at `to`, and says
    // where it starts; history reads 32 days per page.
    refused(
        &app,
        "/api/prices?coin=BTC&resolution=1m&from=-9223372036000000000",
        HeaderMap::new(),
        "from",
    )
    .await;
    let year_ago = now - 365 * 86_400;
    for url in [
        format!("/api/prices?coin=BTC&resolution=1d&from={year_ago}"),
        format!("/api/prices?coin=BTC&resolution=1h&from={year_ago}&to={now}"),
    ] {
        let started = Instant::now();
        let r = app.get(&url).await;
        assert_eq!(r.status(), 200, "{url}");
        let body: shared::CandlesResponse = r.json().await.unwrap();
        assert!(started.elapsed() < HANG_GUARD, "{url}");
        let span = body.to.timestamp() - body.from.timestamp();
        assert!(span <= 70 * 86_400 && span > 60 * 86_400, "{url}: {span}");
    }
    let r = app
        .get(&format!("/api/predictions/history?from={year_ago}"))
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .get(&format!(
            "/api/prices?coin=BTC&resolution=1m&from={}000",
            now - 60
        ))
        .await;
    assert_eq!(r.status(), 400);
    let body: ApiErrorBody = r.json().await.unwrap();
    assert!(body.message.contains("milliseconds"), "{}", body.message);
    health_still_answers(&app).await;

    // What the web app asks stays fine: 30 days at 15 m and 1 d, history over 30 days.
    let month_ago = now - 30 * 86_400;
    for url in [
        format!("/api/prices?coin=BTC&resolution=15m&from={month_ago}"),
        format!("/api/prices?coin=BTC&resolution=1d&from={month_ago}"),
        "/api/prices?coin=BTC&resolution=1d".to_owned(),
        format!("/api/predictions/history?coin=BTC&horizon=1h&from={month_ago}&step_minutes=15&limit=1000"),
        "/api/predictions?coin=BTC".to_owned(),
        "/api/predictions/history?coin=BTC".to_owned(),
    ] {
        assert_eq!(app.get(&url).await.status(), 200, "{url}");
    }

    let total: usize = counts.iter().map(|(_, n)| n).sum();
    for (path, n) in &counts {
        eprintln!("hostile cases {path}: {n}");
    }
    eprintln!("hostile cases in all: {total}");
}
