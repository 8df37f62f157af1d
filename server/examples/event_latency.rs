//! Event latency between processes (`scripts/cluster`): how long after a prediction commits (in
//! the worker) a stream client of an API process has its event. Polls the database every 5 ms
//! for new prediction rows (the moment a row is first visible is its commit, to within the poll),
//! holds one `/api/stream` client on each API process, and reports, per prediction event
//! received, the time from its row's commit to its arrival: p50, p99 and max.
//!
//! Usage: `event_latency DATABASE_URL EVENTS_PER_CLIENT TIMEOUT_S HOST:PORT...`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A prediction: (made_at, coin, horizon).
type Key = (i64, String, String);

/// The prediction events of one client, with when each arrived.
async fn client(addr: String, want: usize, from_minute: i64) -> Vec<(Key, f64)> {
    let mut out = Vec::new();
    let Ok(mut s) = TcpStream::connect(&addr).await else {
        eprintln!("{addr}: cannot connect");
        return out;
    };
    let req = format!("GET /api/stream HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut lines = BufReader::new(s).lines();
    let mut prediction = false;
    while let Ok(Some(line)) = lines.next_line().await {
        if line.starts_with("event: ") {
            prediction = line == "event: prediction";
        } else if prediction && let Some(data) = line.strip_prefix("data: ") {
            let at = now_s();
            let v: serde_json::Value = serde_json::from_str(data).unwrap();
            let made = chrono::DateTime::parse_from_rfc3339(v["made_at"].as_str().unwrap()).unwrap();
            // Live ticks from now on only (not the start-up backfill of past hours).
            if made.timestamp() < from_minute {
                continue;
            }
            let key = (
                made.timestamp(),
                v["coin"].as_str().unwrap_or_default().to_owned(),
                v["horizon"].as_str().unwrap_or_default().to_owned(),
            );
            out.push((key, at));
            if out.len() >= want {
                break;
            }
        }
    }
    out
}

async fn scalar(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args[1].clone();
    let want: usize = args[2].parse().unwrap();
    let timeout = Duration::from_secs(args[3].parse().unwrap());
    let addrs = args[4..].to_vec();
    let db = Database::connect(url).await.unwrap();
    // When each prediction row was first seen committed.
    let seen: Arc<Mutex<HashMap<Key, f64>>> = Arc::default();
    let poller = {
        let seen = seen.clone();
        let mut last = scalar(&db, "SELECT COALESCE(MAX(id), 0) FROM predictions").await;
        tokio::spawn(async move {
            loop {
                let newest = scalar(&db, "SELECT COALESCE(MAX(id), 0) FROM predictions").await;
                if newest > last {
                    let at = now_s();
                    let rows = db
                        .query_all_raw(Statement::from_string(
                            DbBackend::Postgres,
                            format!(
                                "SELECT made_at, coin, horizon FROM predictions WHERE id > {last} AND id <= {newest}"
                            ),
                        ))
                        .await
                        .unwrap();
                    let mut seen = seen.lock().unwrap();
                    for r in rows {
                        let key = (
                            r.try_get_by_index::<i64>(0).unwrap(),
                            r.try_get_by_index::<String>(1).unwrap(),
                            r.try_get_by_index::<String>(2).unwrap(),
                        );
                        seen.entry(key).or_insert(at);
                    }
                    last = newest;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let from_minute = (now_s() as i64 / 60) * 60;
    let clients: Vec<_> = addrs
        .iter()
        .map(|a| {
            tokio::spawn(tokio::time::timeout(
                timeout,
                client(a.clone(), want, from_minute),
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    for (addr, c) in addrs.iter().zip(clients) {
        let events = match c.await.unwrap() {
            Ok(events) => events,
            Err(_) => {
                println!("{addr}: timed out before {want} prediction events");
                continue;
            }
        };
        let seen = seen.lock().unwrap();
        let mut matched = 0;
        for (key, at) in &events {
            if let Some(committed) = seen.get(key) {
                latencies.push((at - committed) * 1000.0);
                matched += 1;
            }
        }
        println!(
            "{addr}: {} prediction events from the worker, {matched} matched to their commit",
            events.len()
        );
    }
    poller.abort();
    if latencies.is_empty() {
        println!("event latency: no events measured");
        std::process::exit(1);
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "event latency commit -> stream client ({} events): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        latencies.len(),
        pct(0.5),
        pct(0.99),
        latencies[latencies.len() - 1]
    );
}
