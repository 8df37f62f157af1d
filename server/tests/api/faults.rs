//! The fault matrix: every way an upstream can misbehave, against the real collectors (a runner
//! called directly, no cron) and a running server. After each fault: the server answers, the
//! stored rows are exactly what they were (a refused payload writes nothing), `/api/sources` says
//! what went wrong in a few stable words, and a later good run stores the right rows and reports
//! the source ok. Each fault prints one `fault |` line (the matrix for the hardening note).
//!
//! The candles are real (the BTC minute fixture) shifted in time so the newest is the last
//! completed minute: the source is fresh (`ok`) after a good run, and "the future" is near.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use coincast::clock;
use coincast::db::entities::{candle, series_point};
use coincast::jobs::{Job, Runner};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use shared::{PricesResponse, SourceHealth, SourceState, SourcesResponse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Frontend, TestApp, spawn_app_with};
use crate::upstream::{BitstampPages, payload, point_at, upstream_settings};

/// The collectors' per-request timeout here.
const TIMEOUT_MS: u64 = 700;

/// A real minute candle: open time, then open, high, low, close, volume.
type Row = (i64, [f64; 5]);

/// The 1500 real BTC minutes of the fixture, shifted by whole minutes so the newest opens at the
/// last completed minute.
fn real_minutes() -> Vec<Row> {
    let rows = BitstampPages::from_fixture("BTC_USDT-1m.json").rows;
    let newest = rows.last().unwrap()[0] as i64 / 1000;
    let shift = clock::last_completed_minute() - newest;
    rows.iter()
        .map(|r| (r[0] as i64 / 1000 + shift, [r[1], r[2], r[3], r[4], r[5]]))
        .collect()
}

/// A Bitstamp OHLC answer with these candles, values as strings like the real API.
fn bitstamp_body(rows: &[Row]) -> String {
    let ohlc: Vec<serde_json::Value> = rows
        .iter()
        .map(|(ts, [o, h, l, c, v])| {
            serde_json::json!({
                "timestamp": ts.to_string(), "open": o.to_string(), "high": h.to_string(),
                "low": l.to_string(), "close": c.to_string(), "volume": v.to_string(),
            })
        })
        .collect();
    serde_json::json!({"data": {"pair": "BTC/USD", "ohlc": ohlc}}).to_string()
}

/// What a raw (non-wiremock) upstream does after reading the request.
#[derive(Clone, Copy)]
enum Raw {
    /// A small valid body, announced with its length, one byte every 100 ms.
    Trickle,
    /// 64 KiB blocks of spaces, no length, until the client goes away.
    Endless,
}

/// A bare HTTP/1.1 server for what wiremock cannot do (a body that trickles or never ends). The
/// counter has the body bytes written so far.
async fn raw_upstream(mode: Raw) -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let sent = counter.clone();
            tokio::spawn(async move {
                let (mut buf, mut head) = (vec![0u8; 4096], Vec::new());
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                match mode {
                    Raw::Trickle => {
                        let body = br#"{"data": {"pair": "BTC/USD", "ohlc": []}}"#;
                        let header = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        );
                        if socket.write_all(header.as_bytes()).await.is_err() {
                            return;
                        }
                        for b in body {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            if socket.write_all(&[*b]).await.is_err() {
                                return;
                            }
                            sent.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Raw::Endless => {
                        let header =
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
                        if socket.write_all(header.as_bytes()).await.is_err() {
                            return;
                        }
                        let block = vec![b' '; 64 * 1024];
                        while socket.write_all(&block).await.is_ok() {
                            sent.fetch_add(block.len() as u64, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    (format!("http://{address}"), sent)
}

/// A base URL where nothing listens.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

/// The process's resident memory, KiB (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// What is stored, as compared before and after a fault.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    candles: u64,
    /// The close of the BTC minute `sample`.
    sample_close: Option<f64>,
    /// The newest BTC minute.
    newest: Option<i64>,
}

struct Matrix {
    app: TestApp,
    server: MockServer,
    runner: Runner,
    /// The fixture's minutes (shifted).
    rows: Vec<Row>,
    sample: Row,
}

impl Matrix {
    async fn stored(&self) -> Stored {
        let db = &self.app.state.db;
        let btc = |ts: i64| {
            candle::Entity::find()
                .filter(candle::Column::Coin.eq("BTC"))
                .filter(candle::Column::Ts.eq(ts))
        };
        let newest = coincast::db::candles::latest_of(db, shared::Coin::BTC, 60)
            .await
            .unwrap()
            .map(|c| c.ts);
        Stored {
            candles: candle::Entity::find().count(db).await.unwrap(),
            sample_close: btc(self.sample.0).one(db).await.unwrap().map(|c| c.close),
            newest,
        }
    }

    /// The stored closes of BTC at `rows`' times, or `None` where a minute is missing.
    async fn closes(&self, rows: &[Row]) -> Vec<Option<f64>> {
        let mut out = Vec::new();
        for (ts, _) in rows {
            let c = candle::Entity::find()
                .filter(candle::Column::Coin.eq("BTC"))
                .filter(candle::Column::Ts.eq(*ts))
                .one(&self.app.state.db)
                .await
                .unwrap();
            out.push(c.map(|c| c.close));
        }
        out
    }

    async fn source(&self, id: &str) -> SourceHealth {
        let r = self.app.get("/api/sources").await;
        assert_eq!(r.status(), 200);
        let all = r.json::<SourcesResponse>().await.unwrap().sources;
        all.into_iter().find(|s| s.source == id).unwrap()
    }

    async fn serve(&self, response: ResponseTemplate) {
        self.server.reset().await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/api/v2/ohlc/(btc|ltc|xrp)usd/$"))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    async fn serve_rows(&self, rows: &[Row]) {
        self.serve(ResponseTemplate::new(200).set_body_string(bitstamp_body(rows)))
            .await;
    }

    /// Checks the server is up and its newest price is the stored one, not from the future.
    async fn alive(&self, stored: &Stored) {
        assert_eq!(self.app.get("/api/health").await.status(), 200);
        let prices: PricesResponse = self.app.get("/api/prices/latest").await.json().await.unwrap();
        let btc = prices.prices.iter().find(|p| p.coin == shared::Coin::BTC);
        assert_eq!(btc.map(|p| p.at.timestamp()), stored.newest);
        assert!(btc.is_none_or(|p| p.at.timestamp() <= clock::now()));
    }

    /// Runs the candles job against a failing upstream (`runner`, or the wiremock one): it must
    /// fail for every coin with `public`, and change nothing stored.
    async fn expect_refused(&self, name: &str, runner: Option<&Runner>, public: &str) {
        let before = self.stored().await;
        let started = Instant::now();
        let err = runner
            .unwrap_or(&self.runner)
            .run(Job::Candles)
            .await
            .expect_err(name)
            .to_string();
        let ms = started.elapsed().as_millis();
        assert!(err.contains("3 of 3 sources failed"), "{name}: {err}");
        let after = self.stored().await;
        assert_eq!(after, before, "{name}: a refused payload changed stored rows");
        self.alive(&after).await;
        for coin in ["BTC", "LTC", "XRP"] {
            let s = self.source(&format!("bitstamp/{coin}")).await;
            assert_eq!(s.state, SourceState::Failing, "{name}");
            assert_eq!(s.last_error.as_deref(), Some(public), "{name}");
        }
        eprintln!(
            "fault | {name:<34} | refused: {public:<22} | {} candles kept, {ms} ms | /api/sources failing",
            after.candles
        );
    }

    /// A good run: stores `rows` for every coin, and the source is ok.
    async fn good_run(&self, rows: &[Row]) -> Stored {
        self.serve_rows(rows).await;
        self.runner.run(Job::Candles).await.unwrap();
        let s = self.source("bitstamp/BTC").await;
        assert_eq!((s.state, s.consecutive_failures), (SourceState::Ok, 0));
        let stored = self.stored().await;
        self.alive(&stored).await;
        assert_eq!(
            self.closes(rows).await,
            rows.iter().map(|r| Some(r.1[3])).collect::<Vec<_>>(),
            "the stored closes are the served ones"
        );
        stored
    }
}

fn runner_at(app: &TestApp, server: &MockServer, bitstamp: &str) -> Runner {
    let mut upstream = upstream_settings(server, TIMEOUT_MS);
    upstream.bitstamp = bitstamp.to_owned();
    app.runner(app.collectors(upstream))
}

#[tokio::test]
async fn the_candle_fault_matrix_keeps_the_server_up_the_rows_intact_and_the_sources_truthful() {
    let server = MockServer::start().await;
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        point_at(s, &server, TIMEOUT_MS);
    })
    .await;
    let runner = runner_at(&app, &server, &server.uri());
    let rows = real_minutes();
    let page = rows[1300..].to_vec();
    let m = Matrix {
        sample: rows[1400],
        app,
        server,
        runner,
        rows,
    };
    let baseline = m.good_run(&page).await;
    assert_eq!(baseline.candles, 3 * 200);
    assert_eq!(baseline.sample_close, Some(m.sample.1[3]));
    eprintln!(
        "fault | {:<34} | stored                 | {} candles, source ok",
        "baseline (200 real minutes)", baseline.candles
    );

    let good = bitstamp_body(&page);
    let now_minute = clock::current_minute();
    let mut future = page.clone();
    future.push((now_minute + 2 * 60, page[199].1));
    let mut ancient = page.clone();
    ancient[0].0 = 0;
    let html =
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>";
    let failures: Vec<(&str, ResponseTemplate, &str)> = vec![
        (
            "HTTP 500",
            ResponseTemplate::new(500).set_body_string("oops"),
            "HTTP 500",
        ),
        (
            "timeout (answer after 2.2 s)",
            ResponseTemplate::new(200)
                .set_body_string(good.clone())
                .set_delay(Duration::from_millis(TIMEOUT_MS + 1500)),
            "timed out",
        ),
        (
            "truncated JSON",
            ResponseTemplate::new(200).set_body_string(good[..good.len() / 2].to_owned()),
            "malformed payload",
        ),
        (
            "a close that is not a number",
            ResponseTemplate::new(200).set_body_string(bitstamp_body(&page).replacen(
                &format!("\"close\":\"{}\"", page[7].1[3]),
                "\"close\":\"n/a\"",
                1,
            )),
            "malformed payload",
        ),
        (
            "HTML error page with status 200",
            ResponseTemplate::new(200).set_body_raw(html, "text/html"),
            "malformed payload",
        ),
        (
            "huge body (20 MB, with length)",
            ResponseTemplate::new(200).set_body_string(" ".repeat(20 * 1024 * 1024)),
            "payload too large",
        ),
        (
            "a candle 2 minutes in the future",
            ResponseTemplate::new(200).set_body_string(bitstamp_body(&future)),
            "implausible timestamp",
        ),
        (
            "a candle from 1970",
            ResponseTemplate::new(200).set_body_string(bitstamp_body(&ancient)),
            "implausible timestamp",
        ),
    ];
    for (name, response, public) in failures {
        m.serve(response).await;
        m.expect_refused(name, None, public).await;
        assert_eq!(m.good_run(&page).await, baseline, "{name}: the good run after");
    }

    // What wiremock cannot serve: a trickle, an endless body, nobody listening.
    let (trickle, _) = raw_upstream(Raw::Trickle).await;
    m.expect_refused(
        "slow trickle (1 byte / 100 ms)",
        Some(&runner_at(&m.app, &m.server, &trickle)),
        "timed out",
    )
    .await;
    assert_eq!(m.good_run(&page).await, baseline);
    let (endless, sent) = raw_upstream(Raw::Endless).await;
    let rss_before = rss_kib();
    m.expect_refused(
        "endless body (no length)",
        Some(&runner_at(&m.app, &m.server, &endless)),
        "payload too large",
    )
    .await;
    eprintln!(
        "fault | {:<34} | {} MiB sent for 3 requests; RSS {} -> {} MiB",
        "  endless body: reading stopped",
        sent.load(Ordering::Relaxed) / (1024 * 1024),
        rss_before / 1024,
        rss_kib() / 1024
    );
    assert_eq!(m.good_run(&page).await, baseline);
    m.expect_refused(
        "connection refused",
        Some(&runner_at(&m.app, &m.server, &closed_port().await)),
        "connection failed",
    )
    .await;
    assert_eq!(m.good_run(&page).await, baseline);

    // Flapping: fail, ok, fail, ok; the failure count restarts after each success.
    for round in 0..2 {
        m.serve(ResponseTemplate::new(503)).await;
        m.expect_refused(&format!("flapping: fail (round {})", round + 1), None, "HTTP 503")
            .await;
        assert_eq!(m.source("bitstamp/XRP").await.consecutive_failures, 1);
        assert_eq!(m.good_run(&page).await, baseline);
        eprintln!(
            "fault | {:<34} | ok again               | {} candles, consecutive failures 0",
            format!("flapping: ok (round {})", round + 1),
            baseline.candles
        );
    }

    // Duplicated and out-of-order candles: stored once each, in place, with the served values.
    let older = m.rows[1100..1300].to_vec();
    let mut shuffled: Vec<Row> = older.iter().rev().copied().collect();
    shuffled.extend(older.iter().step_by(10).copied());
    let after = m.good_run(&shuffled).await;
    assert_eq!(after.candles, baseline.candles + 3 * 200);
    assert_eq!(
        m.closes(&older).await,
        older.iter().map(|r| Some(r.1[3])).collect::<Vec<_>>()
    );
    eprintln!(
        "fault | {:<34} | stored once each       | {} candles (+600), closes as served",
        "200 candles reversed + 20 repeated", after.candles
    );

    // A gap at the source: stored as is (no invented minutes); a later full page heals it.
    let span = m.rows[900..1100].to_vec();
    let holed: Vec<Row> = span
        .iter()
        .enumerate()
        .filter(|(i, _)| !(100..110).contains(i))
        .map(|(_, r)| *r)
        .collect();
    let gapped = m.good_run(&holed).await;
    assert_eq!(gapped.candles, after.candles + 3 * 190);
    assert!(m.closes(&span[100..110]).await.iter().all(Option::is_none));
    let healed = m.good_run(&span).await;
    assert_eq!(healed.candles, after.candles + 3 * 200);
    eprintln!(
        "fault | {:<34} | stored without the gap | {} candles (+570), then healed to {} by the full page",
        "a 10-minute gap", gapped.candles, healed.candles
    );
}

#[tokio::test]
async fn series_points_from_the_far_future_are_refused_whole() {
    let server = MockServer::start().await;
    let app = spawn_app_with(Frontend::Fixture, |s| {
        s.jobs.enabled = false;
        point_at(s, &server, TIMEOUT_MS);
    })
    .await;
    let runner = runner_at(&app, &server, &server.uri());
    let real = payload("blockchain_transactions_per_second.json");
    let mut doc: serde_json::Value = serde_json::from_str(&real).unwrap();
    let far = clock::now() + 10 * clock::DAY_S;
    doc["values"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"x": far, "y": 4.5}));
    let tps = |body: String| {
        Mock::given(method("GET"))
            .and(path("/charts/transactions-per-second"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
    };
    let count = || async {
        series_point::Entity::find()
            .filter(series_point::Column::Series.eq("tps"))
            .count(&app.state.db)
            .await
            .unwrap()
    };
    let source = || async {
        let all = app
            .get("/api/sources")
            .await
            .json::<SourcesResponse>()
            .await
            .unwrap();
        all.sources
            .into_iter()
            .find(|s| s.source == "blockchain/tps")
            .unwrap()
    };
    tps(doc.to_string()).mount(&server).await;
    runner.run(Job::Chain).await.unwrap_err();
    assert_eq!(count().await, 0, "one point 10 days ahead refuses the payload");
    let s = source().await;
    assert_eq!(s.state, SourceState::Failing);
    assert_eq!(s.last_error.as_deref(), Some("implausible timestamp"));
    assert_eq!(app.get("/api/health").await.status(), 200);
    eprintln!(
        "fault | {:<34} | refused: implausible timestamp | 0 points stored | /api/sources failing",
        "series point 10 days ahead (tps)"
    );

    server.reset().await;
    tps(real).mount(&server).await;
    runner.run(Job::Chain).await.unwrap_err(); // the other chain sources have no mock
    assert_eq!(count().await, 22);
    assert_eq!(source().await.consecutive_failures, 0);
}
