//! Answers of the routes whose queries have too many values to publish each one ahead (chart
//! ranges, history pages), kept once made until the published state changes: the first request
//! for a query builds its answer, every other one until the next refresh copies the bytes.
//!
//! Each cache is keyed by the query as the route normalized it (aligned times, defaults filled
//! in) and belongs to one published generation (`Snapshot::generation`): a refresh, which is
//! what changes the data behind these answers, empties it. It holds at most [`MAX_BYTES`] of
//! answers (full: emptied, then refilled by the queries people make), so a client that asks for
//! many different ranges costs memory only up to that bound.
//!
//! Reads that miss and must touch the database take one of [`SLOW_READS`] permits: a client
//! that asks for uncached ranges as fast as its rate limit allows waits for its own earlier
//! requests, and never holds more than that many database connections and blocking threads.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use tokio::sync::Semaphore;

use crate::http::body::Body;

/// Most bytes of answers one cache holds.
pub const MAX_BYTES: usize = 32 << 20;
/// Database reads of uncached answers at once, per process.
pub const SLOW_READS: usize = 2;

/// Answers by normalized query, for one published generation.
pub struct Pages<K> {
    inner: Mutex<Inner<K>>,
}

struct Inner<K> {
    generation: u64,
    bytes: usize,
    entries: HashMap<K, Body>,
}

impl<K> Default for Pages<K> {
    fn default() -> Self {
        Pages {
            inner: Mutex::new(Inner {
                generation: 0,
                bytes: 0,
                entries: HashMap::new(),
            }),
        }
    }
}

impl<K: Hash + Eq> Pages<K> {
    /// The answer to `key` made in `generation`, if there is one.
    pub fn get(&self, generation: u64, key: &K) -> Option<Body> {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if inner.generation != generation {
            return None;
        }
        inner.entries.get(key).cloned()
    }

    /// Keeps `body` as the answer to `key` in `generation` (a newer generation empties the
    /// cache; an answer of an older one is not kept).
    pub fn put(&self, generation: u64, key: K, body: &Body) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if generation < inner.generation {
            return;
        }
        if generation > inner.generation || inner.bytes + body.bytes.len() > MAX_BYTES {
            inner.entries.clear();
            inner.bytes = 0;
            inner.generation = generation;
        }
        if body.bytes.len() <= MAX_BYTES {
            inner.bytes += body.bytes.len();
            if let Some(old) = inner.entries.insert(key, body.clone()) {
                inner.bytes -= old.bytes.len();
            }
        }
    }

    /// Whether no answer is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Answers kept now.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entries
            .len()
    }
}

/// The permits of reads that touch the database per request.
pub fn slow_reads() -> Semaphore {
    Semaphore::new(SLOW_READS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_hold_for_their_generation_and_within_the_byte_bound() {
        let pages = Pages::<u32>::default();
        let body = Body::json(&"x".repeat(1000)).unwrap();
        pages.put(1, 7, &body);
        assert_eq!(pages.get(1, &7).map(|b| b.etag), Some(body.etag.clone()));
        assert!(pages.get(2, &7).is_none(), "a refresh made it old");
        pages.put(2, 8, &body);
        assert!(pages.get(2, &7).is_none() && pages.get(2, &8).is_some());
        pages.put(1, 9, &body);
        assert!(
            pages.get(1, &9).is_none() && pages.len() == 1,
            "an older answer is not kept"
        );
        let big = Body::json(&"y".repeat(MAX_BYTES / 3)).unwrap();
        for k in 0..10 {
            pages.put(2, 100 + k, &big);
        }
        assert!(pages.len() <= 3, "{}", pages.len());
        assert!(pages.get(2, &109).is_some());
    }
}
