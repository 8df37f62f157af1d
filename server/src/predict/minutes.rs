//! The base candles (minutes live, the replay's bars when replaying) the prediction tick reads,
//! kept between ticks. A quarter-hour tick needs
//! two days of minutes per coin (the 12 h models' window); reading them row by row from the
//! database took about 100 ms a tick. Here each tick reads only the newest minutes again (the
//! collectors rewrite those) and counts the rest in SQL: when the count differs from what is kept
//! (an import or a backfill filled a gap), the window is read again whole, as it is at least every
//! [`FULL_RELOAD`] (so an older candle rewritten in place by another process is seen by then).
//! What a tick gets is exactly the rows the database holds, as `db::candles::all_of` returns them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use models::history::Bar;
use sea_orm::{ConnectionTrait, DbErr};
use shared::Coin;
use tokio::sync::Mutex;

use crate::clock::{DAY_S, MINUTE_S};
use crate::db;

/// The newest minutes read again on every tick: the candle collector rewrites the last ones it
/// fetched (a minute's candle can change until the exchange closes it).
pub const REREAD_S: i64 = 15 * MINUTE_S;
/// A kept window is read again whole at least this often.
pub const FULL_RELOAD: Duration = Duration::from_secs(3600);

/// One coin's kept bars: every stored base candle (of `base_s`) in `[from, to)`, oldest first.
#[derive(Debug)]
struct Window {
    base_s: i64,
    from: i64,
    to: i64,
    bars: Vec<Bar>,
    loaded: Instant,
}

impl Window {
    fn new(base_s: i64, from: i64, to: i64, bars: &[Bar], loaded: Instant) -> Window {
        Window {
            base_s,
            from,
            to,
            bars: bars.to_vec(),
            loaded,
        }
    }
}

/// Where the kept window came from on a read (tests and the benchmark look).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The whole window from the database.
    Full,
    /// The kept window with its newest minutes read again.
    Incremental,
}

/// The kept windows, one a coin (bounded: each is one tick's reach, about 3,000 bars).
#[derive(Debug, Default)]
pub struct MinuteCache {
    coins: Mutex<HashMap<Coin, Window>>,
}

impl MinuteCache {
    /// The stored base candles (of `base_s`) of `coin` in `[from, to)`, oldest first.
    pub async fn bars(
        &self,
        db: &impl ConnectionTrait,
        coin: Coin,
        base_s: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<Bar>, DbErr> {
        Ok(self.read(db, coin, base_s, from, to).await?.0)
    }

    /// [`MinuteCache::bars`], saying how it was read.
    pub async fn read(
        &self,
        db: &impl ConnectionTrait,
        coin: Coin,
        base_s: i64,
        from: i64,
        to: i64,
    ) -> Result<(Vec<Bar>, Read), DbErr> {
        let mut coins = self.coins.lock().await;
        if let Some(w) = coins.get(&coin).filter(|w| w.base_s == base_s)
            && let Some(bars) = incremental(db, coin, w, from, to).await?
        {
            let loaded = w.loaded;
            coins.insert(coin, Window::new(base_s, from, to, &bars, loaded));
            return Ok((bars, Read::Incremental));
        }
        let bars = db::candles::all_of(db, coin, base_s, from, to).await?;
        coins.insert(coin, Window::new(base_s, from, to, &bars, Instant::now()));
        Ok((bars, Read::Full))
    }

    /// Forgets every kept window (the next reads are whole).
    pub async fn clear(&self) {
        self.coins.lock().await.clear();
    }
}

/// `[from, to)` from the kept window and a read of its newest minutes, or `None` when it must be
/// read whole (the window does not cover it, is too old, or the count in SQL disagrees).
async fn incremental(
    db: &impl ConnectionTrait,
    coin: Coin,
    w: &Window,
    from: i64,
    to: i64,
) -> Result<Option<Vec<Bar>>, DbErr> {
    let covers = w.from <= from && w.to <= to && to - w.to <= DAY_S && from < w.to;
    if !covers || w.loaded.elapsed() >= FULL_RELOAD {
        return Ok(None);
    }
    let split = (w.to - REREAD_S).max(from);
    let mut bars: Vec<Bar> = w
        .bars
        .iter()
        .filter(|b| b.ts >= from && b.ts < split)
        .copied()
        .collect();
    let fresh = db::candles::all_of(db, coin, w.base_s, split, to).await?;
    bars.extend(fresh);
    let stored = db::candles::count_of(db, coin, w.base_s, from, to).await?;
    Ok((stored == bars.len() as u64).then_some(bars))
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrations::MigratorTrait;
    use sea_orm::{Database, DatabaseConnection};

    const T: i64 = 1_764_633_600;

    fn bar(ts: i64, close: f64) -> Bar {
        Bar {
            ts,
            open: close,
            high: close,
            low: close,
            close,
            volume: 1.0,
        }
    }

    async fn store(db: &DatabaseConnection, bars: &[Bar]) {
        db::candles::upsert_candles(
            db,
            Coin::BTC,
            MINUTE_S,
            bars,
            "test",
            crate::clock::now(),
            &mut |_| {},
        )
        .await
        .unwrap();
    }

    /// What a tick reads through the cache is what the database holds, whatever was written
    /// between ticks: new minutes, a rewritten newest minute, a filled gap.
    #[tokio::test]
    async fn kept_minutes_equal_the_database_after_every_kind_of_write() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        migrations::Migrator::up(&db, None).await.unwrap();
        let reach = 120 * MINUTE_S;
        // Two hours of minutes with a gap of ten (minutes 30..40 missing).
        let first: Vec<Bar> = (0..120)
            .filter(|i| !(30..40).contains(i))
            .map(|i| bar(T - reach + i * MINUTE_S, 100.0 + i as f64))
            .collect();
        store(&db, &first).await;
        let kept = MinuteCache::default();
        let check = |t: i64, want: Read| {
            let (db, kept) = (&db, &kept);
            async move {
                let (bars, read) = kept.read(db, Coin::BTC, MINUTE_S, t - reach, t).await.unwrap();
                let whole = db::candles::all_of(db, Coin::BTC, MINUTE_S, t - reach, t)
                    .await
                    .unwrap();
                assert_eq!(bars, whole, "at {t}");
                assert_eq!(read, want, "at {t}");
            }
        };
        check(T, Read::Full).await;
        check(T, Read::Incremental).await;
        // The next minute arrives, and the newest one is rewritten (the collector's overlap).
        store(&db, &[bar(T - MINUTE_S, 7.0), bar(T, 8.0)]).await;
        check(T + MINUTE_S, Read::Incremental).await;
        // The gap, far older than the minutes read again, is filled: the count tells.
        let gap: Vec<Bar> = (30..40).map(|i| bar(T - reach + i * MINUTE_S, 1.0)).collect();
        store(&db, &gap).await;
        check(T + MINUTE_S, Read::Full).await;
        // A wider window than the kept one is read whole.
        let (bars, read) = kept
            .read(&db, Coin::BTC, MINUTE_S, T - 2 * reach, T + MINUTE_S)
            .await
            .unwrap();
        assert_eq!(read, Read::Full);
        assert_eq!(bars.len(), 121);
    }
}
