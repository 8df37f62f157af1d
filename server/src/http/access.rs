//! The access log, kept cheap: bots poll at tens of thousands of requests per second, and a span
//! with formatted fields per request (what `tracing-actix-web` builds) cost about as much as the
//! handler itself. Every request is logged at DEBUG (off by default: a disabled event costs a
//! branch), slow ones at INFO and server errors at WARN.

use std::time::{Duration, Instant};

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// A request whose answer took longer than this is logged at INFO.
pub const SLOW: Duration = Duration::from_secs(1);

/// Middleware (`actix_web::middleware::from_fn`): logs each request after its answer is ready
/// (for the event stream: when its headers are).
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let start = Instant::now();
    let res = next.call(req).await?;
    let elapsed = start.elapsed();
    let (status, request) = (res.status(), res.request());
    let ms = elapsed.as_secs_f64() * 1e3;
    if status.is_server_error() {
        tracing::warn!(method = %request.method(), path = request.path(), status = status.as_u16(), ms, "request failed");
    } else if elapsed > SLOW {
        tracing::info!(method = %request.method(), path = request.path(), status = status.as_u16(), ms, "slow request");
    } else {
        tracing::debug!(method = %request.method(), path = request.path(), status = status.as_u16(), ms, "request");
    }
    Ok(res)
}
