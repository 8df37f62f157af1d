//! The reference for `scripts/load`: the least an actix-web server can do to answer a route,
//! returning bytes it holds in memory (the same bytes coincast serves), with the same number of
//! workers. coincast's requests/s are reported as a percentage of this one's, measured in the
//! same run, so the figure means something on a noisy machine.
//!
//! Usage: `reference PORT WORKERS FILE...`: each FILE holds one route's answer; its first line is
//! the path and query (`/api/predictions?coin=BTC`), the rest the body. PORT 0 picks a free port;
//! the one bound is printed as `listening on http://127.0.0.1:PORT`, as `coincast serve` logs it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args[1].parse().expect("PORT");
    let workers: usize = args[2].parse().expect("WORKERS");
    let mut routes = HashMap::new();
    for file in &args[3..] {
        let text = std::fs::read(file)?;
        let split = text
            .iter()
            .position(|&b| b == b'\n')
            .expect("a first line with the path");
        let path = String::from_utf8_lossy(&text[..split]).trim().to_owned();
        routes.insert(path, web::Bytes::copy_from_slice(&text[split + 1..]));
    }
    let routes = Arc::new(routes);
    let server = HttpServer::new(move || {
        let routes = routes.clone();
        App::new().default_service(web::to(move |req: HttpRequest| {
            let body = routes.get(&req.uri().to_string()).cloned();
            async move {
                match body {
                    Some(b) => HttpResponse::Ok().content_type("application/json").body(b),
                    None => HttpResponse::NotFound().finish(),
                }
            }
        }))
    })
    .workers(workers)
    .bind(("127.0.0.1", port))?;
    for address in server.addrs() {
        println!("listening on http://{address}");
    }
    server.run().await
}
