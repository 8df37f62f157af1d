//! Security headers on every response (API, docs, web app files, errors): `nosniff`, no referrer,
//! no framing, and a Content-Security-Policy.
//!
//! The web app's policy allows only our own files, WebAssembly compilation (`'wasm-unsafe-eval'`)
//! and the inline boot script of `index.html` by its hash. The hash is computed from the
//! `index.html` being served (every inline `<script>` and `<style>` body), at start and again
//! whenever the file changes (a rebuild while the server runs), so it cannot drift from the page.
//! The Swagger UI under `/docs/` gets its own policy: its scripts are files, but it styles
//! elements inline and draws icons from `data:` images. API answers (JSON, never rendered as a
//! page) get the short policy OWASP advises for APIs: nothing may load, nothing may frame them.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use actix_web::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderMap, HeaderValue, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The Swagger UI's policy (only under `/docs/`).
pub const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The API's policy (`/api/...`, `/api-docs/...`): JSON is never a page that loads anything.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Which part of the site a path is in: it decides the policy and the cache headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// `/api/...`: the JSON API.
    Api,
    /// `/api-docs/...`: the OpenAPI document.
    ApiDocs,
    /// `/docs` and `/docs/...`: the Swagger UI.
    Docs,
    /// Everything else: the web app's files and pages.
    App,
}

impl PathKind {
    /// The part `path` is in.
    pub fn of(path: &str) -> PathKind {
        if path.starts_with("/api/") {
            PathKind::Api
        } else if path.starts_with("/api") {
            PathKind::ApiDocs
        } else if path == "/docs" || path.starts_with("/docs/") {
            PathKind::Docs
        } else {
            PathKind::App
        }
    }

    /// Whether the answer gets the file cache headers (`spa::set_cache_headers`): everything
    /// but the API and its document, which set their own.
    pub fn has_file_cache_headers(self) -> bool {
        matches!(self, PathKind::Docs | PathKind::App)
    }
}

/// What identifies a version of `index.html` without reading it.
type Stamp = Option<(SystemTime, u64)>;

/// The headers, with the web app's policy for the `index.html` currently served.
pub struct SecurityHeaders {
    index: PathBuf,
    app: RwLock<(Stamp, HeaderValue)>,
}

impl SecurityHeaders {
    /// For the web app in `dist` (built or not).
    pub fn new(dist: &Path) -> Self {
        let index = dist.join("index.html");
        let (stamp, policy) = read_policy(&index);
        SecurityHeaders {
            index,
            app: RwLock::new((stamp, policy)),
        }
    }

    /// The web app's policy; with `recheck`, first re-hashes `index.html` if it changed.
    pub fn app_policy(&self, recheck: bool) -> HeaderValue {
        if recheck {
            let now = stamp(&self.index);
            let stale = self.app.read().map(|g| g.0 != now).unwrap_or(true);
            if stale {
                let (stamp, policy) = read_policy(&self.index);
                if let Ok(mut g) = self.app.write() {
                    *g = (stamp, policy.clone());
                }
                return policy;
            }
        }
        match self.app.read() {
            Ok(g) => g.1.clone(),
            Err(poisoned) => poisoned.into_inner().1.clone(),
        }
    }

    /// Sets the headers on the response to a request in the `kind` part of the site.
    pub fn apply(&self, kind: PathKind, headers: &mut HeaderMap) {
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        let policy = match kind {
            PathKind::Api | PathKind::ApiDocs => HeaderValue::from_static(API_CSP),
            PathKind::Docs => HeaderValue::from_static(DOCS_CSP),
            PathKind::App => {
                // Only an HTML page's policy matters to the browser: check the file for those.
                let html = headers
                    .get(CONTENT_TYPE)
                    .is_some_and(|ct| ct.as_bytes().starts_with(b"text/html"));
                self.app_policy(html)
            }
        };
        headers.insert(CONTENT_SECURITY_POLICY, policy);
    }
}

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

fn read_policy(index: &Path) -> (Stamp, HeaderValue) {
    let stamp = stamp(index);
    let html = std::fs::read_to_string(index).unwrap_or_default();
    let policy = app_csp(&html);
    let value = HeaderValue::from_str(&policy).unwrap_or_else(|e| {
        tracing::error!(error = %e, "content security policy is not a header value");
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'")
    });
    (stamp, value)
}

/// The web app's policy for this `index.html`.
pub fn app_csp(index_html: &str) -> String {
    let hashes = |tag| {
        inline_bodies(index_html, tag)
            .into_iter()
            .map(|body| format!(" 'sha256-{}'", sha256_base64(body)))
            .collect::<String>()
    };
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{}; style-src 'self'{}; \
         connect-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'",
        hashes("script"),
        hashes("style")
    )
}

fn sha256_base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

/// The bodies of the inline `<tag>` elements (a `<script src=..>` is a file, not inline).
fn inline_bodies<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    // ASCII lowercasing keeps byte offsets, so indices found in `lower` slice `html`.
    let lower = html.to_ascii_lowercase();
    let open = format!("<{tag}");
    let close = format!("</{tag}");
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(&open).map(|i| i + at) {
        let after_name = i + open.len();
        // `<scripts>` or `<style-x>` are other elements.
        if !lower[after_name..].starts_with(|c: char| c == '>' || c.is_ascii_whitespace()) {
            at = after_name;
            continue;
        }
        let Some(tag_end) = lower[after_name..].find('>').map(|j| j + after_name) else {
            break;
        };
        let Some(end) = lower[tag_end..].find(&close).map(|j| j + tag_end) else {
            break;
        };
        let attrs = &lower[after_name..tag_end];
        if !(tag == "script" && attrs.contains("src=")) {
            out.push(&html[tag_end + 1..end]);
        }
        at = end + close.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_allowed_by_their_hash_and_files_are_not_hashed() {
        let html = "<html><head><script src=\"/a.js\"></script><SCRIPT type=module>alert(1)</SCRIPT>\
                    <scripts>x</scripts></head></html>";
        let csp = app_csp(html);
        // `printf 'alert(1)' | openssl dgst -sha256 -binary | base64`
        assert!(
            csp.contains(
                "script-src 'self' 'wasm-unsafe-eval' 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=';"
            ),
            "{csp}"
        );
        assert_eq!(csp.matches("'sha256-").count(), 1, "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
    }

    #[test]
    fn the_apps_page_shell_has_one_inline_script_and_no_inline_style() {
        // scripts/build-frontend only replaces __ASSETS__ in this file.
        let html = include_str!("../../../frontend/index.html");
        assert_eq!(inline_bodies(html, "script").len(), 1);
        assert!(inline_bodies(html, "style").is_empty());
        assert!(
            !html.contains(" style="),
            "inline style attributes need 'unsafe-inline'"
        );
        let body = inline_bodies(html, "script")[0];
        assert!(body.contains("import init from"), "{body}");
    }

    #[test]
    fn a_rebuilt_index_gets_a_new_hash() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index.html");
        std::fs::write(&index, "<script>one()</script>").unwrap();
        let headers = SecurityHeaders::new(dir.path());
        let first = headers.app_policy(true);
        assert_eq!(first, headers.app_policy(true));
        std::fs::write(&index, "<script>two_two()</script>").unwrap();
        let second = headers.app_policy(true);
        assert_ne!(first, second);
        assert!(second.to_str().unwrap().contains(&sha256_base64("two_two()")));
    }

    #[test]
    fn docs_and_the_api_get_their_own_policies() {
        let headers = SecurityHeaders::new(Path::new("/nonexistent"));
        let policy = |path: &str| {
            let mut map = HeaderMap::new();
            headers.apply(PathKind::of(path), &mut map);
            assert_eq!(map.get(X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
            map.get(CONTENT_SECURITY_POLICY)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(policy("/docs/index.html"), DOCS_CSP);
        assert_eq!(policy("/docs"), DOCS_CSP);
        assert_eq!(policy("/api/health"), API_CSP);
        assert_eq!(policy("/api-docs/openapi.json"), API_CSP);
        assert!(policy("/Bitcoin").starts_with("default-src 'self'; script-src 'self' 'wasm-unsafe-eval';"));
        assert!(policy("/docsx").starts_with("default-src 'self'; script-src 'self' 'wasm-unsafe-eval';"));
    }

    #[test]
    fn only_the_app_and_the_docs_get_file_cache_headers() {
        assert!(PathKind::of("/").has_file_cache_headers());
        assert!(PathKind::of("/assets/x/app.js").has_file_cache_headers());
        assert!(PathKind::of("/docs/").has_file_cache_headers());
        assert!(!PathKind::of("/api/predictions").has_file_cache_headers());
        assert!(!PathKind::of("/api-docs/openapi.json").has_file_cache_headers());
    }
}
