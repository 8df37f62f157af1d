//! Retrying a failed run with exponential backoff and jitter (the `backon` crate), logging each
//! retry. Jobs and `coincast backfill` share it.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Runs `attempt` until it succeeds or has been retried `retries` times, waiting `first` (with
/// jitter) before the first retry and twice as long before each next one, at most [`MAX_BACKOFF`].
pub async fn with_backoff<T, E, F, Fut>(
    what: &str,
    retries: usize,
    first: Duration,
    attempt: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let policy = ExponentialBuilder::default()
        .with_min_delay(first)
        .with_max_delay(MAX_BACKOFF)
        .with_max_times(retries)
        .with_jitter();
    attempt
        .retry(policy)
        .notify(|e: &E, wait: Duration| {
            tracing::warn!(what, retry_in_ms = wait.as_millis() as u64, error = %e, "failed; retrying");
        })
        .await
}
