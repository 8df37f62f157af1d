//! A load client for `/api/stream` (`scripts/load`): opens N event-stream connections, waits for
//! the next `prediction` event on each, and reports how many got it and when, relative to the
//! prediction tick that made it (the event's `made_at` plus the tick's second).
//!
//! Usage: `stream_clients HOST:PORT CLIENTS TICK_SECOND TIMEOUT_S`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Connects, and returns (made_at, received at) of the first prediction event.
async fn client(addr: String) -> Option<(i64, f64)> {
    let mut s = TcpStream::connect(&addr).await.ok()?;
    let req = format!("GET /api/stream HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut lines = BufReader::new(s).lines();
    let mut prediction = false;
    while let Ok(Some(line)) = lines.next_line().await {
        if line.starts_with("event: ") {
            prediction = line == "event: prediction";
        } else if prediction && let Some(data) = line.strip_prefix("data: ") {
            let at = now_s();
            let v: serde_json::Value = serde_json::from_str(data).ok()?;
            let made = chrono::DateTime::parse_from_rfc3339(v["made_at"].as_str()?).ok()?;
            return Some((made.timestamp(), at));
        }
    }
    None
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = args[1].clone();
    let n: usize = args[2].parse().unwrap();
    let tick_second: f64 = args[3].parse().unwrap();
    let timeout = Duration::from_secs(args[4].parse().unwrap());
    let mut tasks = Vec::new();
    for _ in 0..n {
        let addr = addr.clone();
        tasks.push(tokio::spawn(tokio::time::timeout(timeout, client(addr))));
        // Do not flood the listen backlog.
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    println!("connected {n} clients at {:.1}", now_s());
    let mut got = Vec::new();
    for t in tasks {
        if let Ok(Ok(Some(v))) = t.await {
            got.push(v);
        }
    }
    let mut delays: Vec<f64> = got
        .iter()
        .map(|(made, at)| at - (*made as f64 + tick_second))
        .collect();
    delays.sort_by(|a, b| a.total_cmp(b));
    let pct = |q: f64| {
        delays
            .get(((delays.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let spread = delays.last().copied().unwrap_or(f64::NAN) - delays.first().copied().unwrap_or(f64::NAN);
    println!(
        "clients {n}, received a prediction {}, after the tick started: p50 {:.3} s, p99 {:.3} s, max {:.3} s; first to last client {:.3} s",
        got.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0),
        spread
    );
}
