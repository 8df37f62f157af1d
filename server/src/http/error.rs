//! `ApiError`: the one error type of the HTTP handlers, mapped to the shared JSON error body.
//!
//! Use a typed variant for what the client did wrong (it gets a stable `code` and a helpful
//! message); use `Database`/`Unexpected` (via `?` on `DbErr`/`anyhow::Error`) for what went wrong
//! inside: the cause chain is logged, the client sees only a generic message.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use shared::{ApiErrorBody, ErrorCode};

/// An error an HTTP handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    InvalidParameter { parameter: String, message: String },
    #[error("{0}")]
    InvalidBody(String),
    /// The path exists with other methods (listed, for the `Allow` header).
    #[error("method not allowed here; allowed: {0}")]
    MethodNotAllowed(String),
    #[error("database error")]
    Database(#[from] sea_orm::DbErr),
    /// The published answers are not built yet (the database has not answered since start).
    #[error("the service is starting: its data is not readable yet")]
    NotReady,
    #[error("unexpected error")]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    /// A bad query or path parameter.
    pub fn invalid_parameter(parameter: impl Into<String>, message: impl ToString) -> Self {
        ApiError::InvalidParameter {
            parameter: parameter.into(),
            message: message.to_string(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::InvalidParameter { .. } => ErrorCode::InvalidParameter,
            ApiError::InvalidBody(_) => ErrorCode::InvalidBody,
            ApiError::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            ApiError::Database(_) | ApiError::NotReady => ErrorCode::DatabaseUnavailable,
            ApiError::Unexpected(_) => ErrorCode::Internal,
        }
    }

    /// The JSON body sent to the client.
    pub fn body(&self) -> ApiErrorBody {
        let parameter = match self {
            ApiError::InvalidParameter { parameter, .. } => Some(parameter.clone()),
            _ => None,
        };
        ApiErrorBody {
            code: self.code(),
            message: self.to_string(),
            parameter,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::InvalidParameter { .. } | ApiError::InvalidBody(_) => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Database(_) | ApiError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Database(e) => tracing::error!(error = %e, "database error in a request"),
            ApiError::Unexpected(e) => {
                tracing::error!(error = format!("{e:#}"), "unexpected error in a request")
            }
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        if let ApiError::MethodNotAllowed(allowed) = self {
            res.insert_header((actix_web::http::header::ALLOW, allowed.as_str()));
        }
        res.json(self.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_never_reach_the_client() {
        let err = ApiError::from(anyhow::anyhow!("disk /secret/path is full"));
        let body = err.body();
        assert_eq!(body.code, ErrorCode::Internal);
        assert!(!body.message.contains("secret"), "{}", body.message);
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn invalid_parameter_names_the_parameter() {
        let err = ApiError::invalid_parameter("coin", "unknown coin \"DOGE\"");
        assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
        let body = err.body();
        assert_eq!(body.parameter.as_deref(), Some("coin"));
        assert_eq!(body.code, ErrorCode::InvalidParameter);
    }
}
