//! Handing freed memory back to the system.
//!
//! glibc's allocator gives busy threads arenas of their own and keeps what they free for reuse;
//! only the top of each heap goes back by itself. Start-up (loading the replay and the models)
//! and bursts of requests allocate and free a lot once, so a server that used 20 MB held about
//! 63 MB resident an hour later (measured: `malloc_trim(0)` from a debugger took it from 63 MB to
//! 20 MB of anonymous memory). Every process therefore asks glibc to return its free pages every
//! [`TRIM_EVERY`], off the async threads. Other allocators (musl, macOS) return memory
//! themselves; there this does nothing.

use std::time::Duration;

/// How often free pages are returned.
pub const TRIM_EVERY: Duration = Duration::from_secs(30);

/// Returns the allocator's free pages to the system; `true` when something was released.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free() -> bool {
    // SAFETY: `malloc_trim` takes no pointers and touches only glibc's own free lists, under
    // each arena's lock; any thread may call it at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Returns the allocator's free pages to the system (nothing to do off glibc).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free() -> bool {
    false
}

/// Returns free pages every `every` for as long as the task runs (the caller aborts it).
pub async fn trim_periodically(every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // It walks every arena under its lock: a blocking call, kept off the async threads.
        match tokio::task::spawn_blocking(release_free).await {
            Ok(released) => tracing::trace!(released, "returned free memory"),
            Err(e) => tracing::warn!(error = %e, "returning free memory failed"),
        }
    }
}
