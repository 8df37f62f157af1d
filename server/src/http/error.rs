//! `ApiError`: the one error type of the HTTP handlers, mapped to the shared JSON error body.
//!
//! Use a typed variant for what the client did wrong (it gets a stable `code` and a helpful
//! message); use `Database`/`Unexpected` (via `?` on `DbErr`/`anyhow::Error`) for what went wrong
//! inside: the cause chain is logged, the client sees only a generic message. A database error is
//! `database_unavailable` (503) only when the database could not be reached (connection, pool,
//! I/O, busy); any other (a query the database refused, a row that does not decode) is a bug on
//! our side: `internal` (500).

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
    #[error("{}", if is_unavailable(.0) { "the database is unavailable" } else { "unexpected error" })]
    Database(#[from] sea_orm::DbErr),
    /// The published answers are not built yet (the database has not answered since start).
    #[error("the service is starting: its data is not readable yet")]
    NotReady,
    #[error("unexpected error")]
    Unexpected(#[from] anyhow::Error),
    /// Over this client's request rate; retry after this many seconds.
    #[error("too many requests; retry in {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },
    /// The server cannot take this request now (the message says why); retry after this many
    /// seconds.
    #[error("{message}; retry in {retry_after_s} s")]
    Unavailable { message: String, retry_after_s: u64 },
}

/// Whether a database error means the database could not be reached (the client may retry), as
/// opposed to a query that failed on its own (a bug: retrying will not help).
pub fn is_unavailable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => sqlx_unavailable(e),
        _ => false,
    }
}

fn sqlx_unavailable(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match err {
        Error::PoolTimedOut | Error::PoolClosed | Error::Io(_) | Error::Tls(_) | Error::WorkerCrashed => true,
        Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or_default();
            // SQLite: SQLITE_BUSY (5), SQLITE_LOCKED (6), and their extended codes.
            // PostgreSQL: connection exceptions (08…), insufficient resources (53…), operator
            // intervention such as a shutdown (57P…).
            matches!(code.parse::<i64>().map(|c| c & 0xff), Ok(5 | 6))
                || code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
        }
        _ => false,
    }
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
            ApiError::Database(e) if is_unavailable(e) => ErrorCode::DatabaseUnavailable,
            ApiError::Database(_) | ApiError::Unexpected(_) => ErrorCode::Internal,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Unavailable { .. } => ErrorCode::Unavailable,
            ApiError::NotReady => ErrorCode::DatabaseUnavailable,
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
            ApiError::Database(e) if is_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Database(_) | ApiError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Database(e) if is_unavailable(e) => {
                tracing::error!(error = %e, "database unavailable in a request")
            }
            ApiError::Database(e) => tracing::error!(error = %e, "database query failed in a request"),
            ApiError::Unexpected(e) => {
                tracing::error!(error = format!("{e:#}"), "unexpected error in a request")
            }
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        match self {
            ApiError::MethodNotAllowed(allowed) => {
                res.insert_header((actix_web::http::header::ALLOW, allowed.as_str()));
            }
            ApiError::RateLimited { retry_after_s } | ApiError::Unavailable { retry_after_s, .. } => {
                res.insert_header((actix_web::http::header::RETRY_AFTER, retry_after_s.to_string()));
            }
            _ => {}
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

    fn sqlx(e: sea_orm::sqlx::Error) -> sea_orm::RuntimeErr {
        sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e))
    }

    #[test]
    fn only_an_unreachable_database_is_database_unavailable() {
        use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
        let unavailable = [
            DbErr::Conn(RuntimeErr::Internal("connection refused".into())),
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            DbErr::Query(sqlx(sea_orm::sqlx::Error::PoolTimedOut)),
            DbErr::Exec(sqlx(sea_orm::sqlx::Error::PoolClosed)),
            DbErr::Query(sqlx(sea_orm::sqlx::Error::Io(std::io::Error::other("reset")))),
        ];
        for e in unavailable {
            let err = ApiError::from(e);
            assert_eq!(err.status_code(), StatusCode::SERVICE_UNAVAILABLE, "{err:?}");
            assert_eq!(err.code(), ErrorCode::DatabaseUnavailable, "{err:?}");
        }
        let bugs = [
            DbErr::Query(sqlx(sea_orm::sqlx::Error::ColumnNotFound("nope".into()))),
            DbErr::Exec(sqlx(sea_orm::sqlx::Error::RowNotFound)),
            DbErr::Query(RuntimeErr::Internal("bad statement".into())),
            DbErr::Type("i64 from text".into()),
            DbErr::RecordNotFound("prediction 7".into()),
            DbErr::Custom("/secret/path".into()),
        ];
        for e in bugs {
            let err = ApiError::from(e);
            assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR, "{err:?}");
            let body = err.body();
            assert_eq!(body.code, ErrorCode::Internal, "{err:?}");
            assert!(!body.message.contains("secret"), "{}", body.message);
        }
    }

    #[tokio::test]
    async fn a_query_the_database_refuses_is_internal_and_a_closed_pool_unavailable() {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let e = db
            .execute_unprepared("SELECT no_such_column FROM no_such_table")
            .await
            .unwrap_err();
        let err = ApiError::from(e);
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR, "{err:?}");
        assert_eq!(err.code(), ErrorCode::Internal);
        db.close_by_ref().await.unwrap();
        let e = db.execute_unprepared("SELECT 1").await.unwrap_err();
        let err = ApiError::from(e);
        assert_eq!(err.status_code(), StatusCode::SERVICE_UNAVAILABLE, "{err:?}");
        assert_eq!(err.code(), ErrorCode::DatabaseUnavailable);
    }

    #[test]
    fn limits_say_when_to_retry() {
        let err = ApiError::RateLimited { retry_after_s: 3 };
        assert_eq!(err.status_code(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(err.error_response().headers().get("retry-after").unwrap(), "3");
        assert_eq!(err.body().code, ErrorCode::RateLimited);
        let err = ApiError::Unavailable {
            message: "too many event streams".into(),
            retry_after_s: 10,
        };
        assert_eq!(err.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(err.error_response().headers().get("retry-after").unwrap(), "10");
        assert_eq!(err.body().code, ErrorCode::Unavailable);
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
