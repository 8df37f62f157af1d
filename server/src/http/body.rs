//! An answer as it is sent: JSON bytes serialized once with their strong ETag (`Body`), and the
//! coin and horizon filter the read routes take (`Filter`). A leaf of `http`: the published
//! state, the chart and history pages and the routes all use it, and it uses none of them.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};
use shared::{Coin, Horizon};

/// A coin and horizon filter, as the query parameters give it.
pub type Filter = (Option<Coin>, Option<Horizon>);

/// Whether a coin and horizon pass `filter`.
pub fn passes(filter: &Filter, coin: Coin, horizon: Horizon) -> bool {
    filter.0.is_none_or(|c| c == coin) && filter.1.is_none_or(|h| h == horizon)
}

/// An answer ready to send: JSON bytes and their strong ETag.
#[derive(Debug, Clone)]
pub struct Body {
    pub bytes: Bytes,
    pub etag: String,
    /// `etag` as a header value, made once.
    etag_value: header::HeaderValue,
}

impl Body {
    /// Serializes `value` once.
    pub fn json(value: &impl Serialize) -> Result<Body, serde_json::Error> {
        Ok(Body::from_json_bytes(serde_json::to_vec(value)?))
    }

    /// `bytes`, which must already be JSON, with their ETag.
    pub fn from_json_bytes(bytes: Vec<u8>) -> Body {
        let hex = format!("{:x}", Sha256::digest(&bytes));
        let etag = format!("\"{}\"", &hex[..16]);
        Body {
            // Hex digits in quotes: always a valid header value.
            etag_value: header::HeaderValue::from_str(&etag)
                .unwrap_or(header::HeaderValue::from_static("\"\"")),
            etag,
            bytes: Bytes::from(bytes),
        }
    }

    /// Whether an `If-None-Match` header names this body (weak comparison, as RFC 9110 says
    /// for `If-None-Match`: `W/"x"` matches `"x"`; `*` matches anything).
    pub fn matches(&self, req: &HttpRequest) -> bool {
        req.headers()
            .get_all(header::IF_NONE_MATCH)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == self.etag || t == "*")
    }

    /// 304 when the client has this body, else 200 with it; both with the ETag and `cache`.
    pub fn respond(&self, req: &HttpRequest, cache: &str) -> HttpResponse {
        let fresh = self.matches(req);
        let mut res = if fresh {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        res.insert_header((header::ETAG, self.etag_value.clone()))
            .insert_header((header::CACHE_CONTROL, cache));
        if fresh {
            res.finish()
        } else {
            res.content_type(header::HeaderValue::from_static("application/json"))
                .body(self.bytes.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_strong_etags_match_if_none_match() {
        let body = Body::json(&serde_json::json!({"a": 1})).unwrap();
        let req = |v: &str| {
            actix_web::test::TestRequest::default()
                .insert_header((header::IF_NONE_MATCH, v))
                .to_http_request()
        };
        assert!(body.matches(&req(&body.etag)));
        assert!(body.matches(&req(&format!("W/{}", body.etag))));
        assert!(body.matches(&req(&format!("\"x\", {}", body.etag))));
        assert!(body.matches(&req("*")));
        assert!(!body.matches(&req("\"other\"")));
    }
}
