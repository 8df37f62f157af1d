//! Serving the built web app: its files from `frontend.dist_dir`, and `index.html` for every client
//! route (`/`, `/Bitcoin`, ...) so that deep links and reloads work.
//!
//! Cache policy: `/assets/<content-hash>/...` (the wasm bundle and its JS glue) never change under
//! their name and are cached for a year; everything else (index.html, styles) is revalidated on
//! each load with its ETag.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::dev::{HttpServiceFactory, ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderValue};
use actix_web::{HttpResponse, web};

/// Where content-hashed, immutable assets live.
pub const IMMUTABLE_PREFIX: &str = "/assets/";

/// The service that serves the app: files when it is built, a page saying how to build it when not.
pub fn service(dist: &Path) -> Box<dyn FnOnce(&mut web::ServiceConfig)> {
    let dist = dist.to_path_buf();
    Box::new(move |cfg: &mut web::ServiceConfig| {
        if dist.join("index.html").is_file() {
            cfg.service(files(dist));
        } else {
            tracing::warn!(dist = %dist.display(), "the web app is not built; serving the API only");
            cfg.default_service(web::to(not_built));
        }
    })
}

fn files(dist: PathBuf) -> impl HttpServiceFactory {
    let index = dist.join("index.html");
    Files::new("/", dist)
        .index_file("index.html")
        .use_etag(true)
        .use_last_modified(true)
        .default_handler(fn_service(move |req: ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                // A missing file (it has an extension) is a 404; any other path is a client route.
                let last = req.path().rsplit('/').next().unwrap_or_default();
                if last.contains('.') {
                    let res = HttpResponse::NotFound()
                        .content_type("text/plain; charset=utf-8")
                        .body("not found");
                    return Ok(ServiceResponse::new(req, res));
                }
                let res = NamedFile::open_async(&index).await?.into_response(&req);
                Ok(ServiceResponse::new(req, res))
            }
        }))
}

async fn not_built() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/html; charset=utf-8")
        .body(
            "<!doctype html><title>coincast</title><h1>coincast</h1>\
             <p>The web app is not built. Run <code>scripts/build-frontend</code> (or <code>scripts/start</code>), \
             then reload. The API is up: <a href=\"/api/health\">/api/health</a>, \
             docs at <a href=\"/docs/\">/docs/</a>.</p>",
        )
}

/// Sets `Cache-Control` on a non-API response that has none yet.
pub fn set_cache_headers(path: &str, headers: &mut HeaderMap) {
    if path.starts_with("/api") || headers.contains_key(CACHE_CONTROL) {
        return;
    }
    let immutable = path.starts_with(IMMUTABLE_PREFIX)
        && headers
            .get(CONTENT_TYPE)
            .is_some_and(|ct| !ct.as_bytes().starts_with(b"text/plain"));
    let value = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(value));
}
