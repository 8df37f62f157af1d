//! A load client for `/api/stream` (`scripts/load`): opens N event-stream connections, waits for
//! the next `prediction` event on each, and prints when each got it (`received <made_at> <unix
//! seconds>`), for scripts/load to set against the tick's commit in the server's log.
//!
//! Usage: `stream_clients HOST:PORT CLIENTS TIMEOUT_S`
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
    let timeout = Duration::from_secs(args[3].parse().unwrap());
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
    // One line per client that got a prediction: its `made_at` and when it arrived; scripts/load
    // sets these against the time the server logged the tick that made it.
    for (made, at) in &got {
        println!("received {made} {at:.6}");
    }
    println!("clients {n}, received a prediction {}", got.len());
}
