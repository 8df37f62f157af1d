//! The one error body every failing API call returns.

use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes. Clients match on these, never on messages; a code, once
/// published, keeps its meaning. Serialized in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No API route or resource at this path.
    NotFound,
    /// The HTTP method is not allowed on this route.
    MethodNotAllowed,
    /// A query or path parameter is missing or malformed; `parameter` names it.
    InvalidParameter,
    /// The request body could not be read as the expected JSON.
    InvalidBody,
    /// The database could not be reached or failed; details are in the server log.
    DatabaseUnavailable,
    /// Something unexpected failed on the server; details are in the server log.
    Internal,
    /// Too many requests from this client; retry after the `Retry-After` header's seconds.
    RateLimited,
    /// The server cannot take this request now (e.g. every event-stream slot is taken); retry
    /// after the `Retry-After` header's seconds.
    Unavailable,
}

impl ErrorCode {
    /// The snake_case wire form, e.g. `invalid_parameter`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::DatabaseUnavailable => "database_unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
        }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({"code": "invalid_parameter", "message": "unknown coin \"PEPE\": expected one of BTC, ETH, SOL, XRP, LTC, DOGE, ADA, BCH, LINK, AVAX", "parameter": "coin"}))
)]
pub struct ApiErrorBody {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// Human-readable explanation; may change between versions.
    pub message: String,
    /// The offending parameter, for `invalid_parameter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_uses_snake_case_codes_and_omits_empty_parameter() {
        let body = ApiErrorBody {
            code: ErrorCode::NotFound,
            message: "no route".into(),
            parameter: None,
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "not_found", "message": "no route"})
        );
        assert_eq!(serde_json::from_value::<ApiErrorBody>(json).unwrap(), body);
    }

    #[test]
    fn as_str_matches_serde() {
        for code in [
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::InvalidParameter,
            ErrorCode::InvalidBody,
            ErrorCode::DatabaseUnavailable,
            ErrorCode::Internal,
            ErrorCode::RateLimited,
            ErrorCode::Unavailable,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
        }
    }
}
