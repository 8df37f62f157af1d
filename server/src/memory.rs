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

/// How many arenas glibc's allocator may make (`M_ARENA_MAX`; its default is eight per core).
/// Each arena keeps its own free memory and fragments on its own: with the async workers, the
/// blocking pool and the HTTP workers each in an arena of their own, 1,000 event streams opened
/// after a burst of requests left the server 143-162 MiB resident, against 125-133 MiB with two
/// arenas (`scripts/load`, README).
pub const ARENAS: i32 = 2;

/// Limits glibc's arenas to `n`, unless `MALLOC_ARENA_MAX` is set (the operator's choice wins);
/// `true` when it was set here. Called first thing in `main`, before any other thread exists.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn limit_arenas(n: i32) -> bool {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return false;
    }
    // SAFETY: `mallopt` takes no pointers and only sets a parameter of glibc's allocator, under
    // its own lock; arenas made before it stay (there are none yet: no other thread exists).
    unsafe { libc::mallopt(libc::M_ARENA_MAX, n) == 1 }
}

/// Limits the allocator's arenas (nothing to do off glibc).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_arenas(_n: i32) -> bool {
    false
}

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
