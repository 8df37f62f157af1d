//! Candles: idempotent upserts, and reading them back, over a range at a resolution, with gaps
//! filled at read time (and flagged) by `models::bars::chart_bars`, never in storage.

use models::bars::CARRY_S;
use models::history::Bar;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Select,
};
use shared::Coin;

use crate::db::entities::candle;

/// Rows per INSERT statement (11 columns: well under SQLite's and PostgreSQL's bind limits).
const BATCH: usize = 1000;

/// The stored bars of a coin at one bar size (60: the minute candles every reader uses).
pub fn of(coin: Coin, interval_s: i64) -> Select<candle::Entity> {
    candle::Entity::find()
        .filter(candle::Column::Coin.eq(coin))
        .filter(candle::Column::IntervalS.eq(i32::try_from(interval_s).unwrap_or(i32::MAX)))
}

/// How many bars of a coin at one bar size are stored in `[from, to)` (counted in SQL).
pub async fn count_of(
    db: &impl ConnectionTrait,
    coin: Coin,
    interval_s: i64,
    from: i64,
    to: i64,
) -> Result<u64, DbErr> {
    of(coin, interval_s)
        .filter(candle::Column::Ts.gte(from))
        .filter(candle::Column::Ts.lt(to))
        .count(db)
        .await
}

/// The newest stored bar of a coin at one bar size.
pub async fn latest_of(
    db: &impl ConnectionTrait,
    coin: Coin,
    interval_s: i64,
) -> Result<Option<candle::Model>, DbErr> {
    of(coin, interval_s)
        .order_by_desc(candle::Column::Ts)
        .one(db)
        .await
}

/// The newest bar of a coin at one bar size opening in `(after, at]`.
pub async fn bar_in(
    db: &impl ConnectionTrait,
    coin: Coin,
    interval_s: i64,
    after: i64,
    at: i64,
) -> Result<Option<candle::Model>, DbErr> {
    of(coin, interval_s)
        .filter(candle::Column::Ts.lte(at))
        .filter(candle::Column::Ts.gt(after))
        .order_by_desc(candle::Column::Ts)
        .one(db)
        .await
}

/// The stored bars of a coin at one bar size opening in `[from, to)`, oldest first.
pub async fn all_of(
    db: &impl ConnectionTrait,
    coin: Coin,
    interval_s: i64,
    from: i64,
    to: i64,
) -> Result<Vec<Bar>, DbErr> {
    Ok(of(coin, interval_s)
        .filter(candle::Column::Ts.gte(from))
        .filter(candle::Column::Ts.lt(to))
        .order_by_asc(candle::Column::Ts)
        .all(db)
        .await?
        .iter()
        .map(candle::Model::bar)
        .collect())
}

/// Upserts bars of one coin and bar size inside an open transaction or connection, fetched at
/// `fetched_at` (the caller's clock).
pub async fn upsert_candles<C: sea_orm::ConnectionTrait>(
    conn: &C,
    coin: Coin,
    interval_s: i64,
    bars: &[Bar],
    source: &str,
    fetched_at: i64,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<(), sea_orm::DbErr> {
    let interval = i32::try_from(interval_s).unwrap_or(i32::MAX);
    for chunk in bars.chunks(BATCH) {
        let models = chunk.iter().map(|b| candle::ActiveModel {
            coin: sea_orm::Set(coin),
            interval_s: sea_orm::Set(interval),
            ts: sea_orm::Set(b.ts),
            open: sea_orm::Set(b.open),
            high: sea_orm::Set(b.high),
            low: sea_orm::Set(b.low),
            close: sea_orm::Set(b.close),
            volume: sea_orm::Set(b.volume),
            source: sea_orm::Set(source.to_owned()),
            fetched_at: sea_orm::Set(fetched_at),
        });
        candle::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([
                    candle::Column::Coin,
                    candle::Column::IntervalS,
                    candle::Column::Ts,
                ])
                .update_columns([
                    candle::Column::Open,
                    candle::Column::High,
                    candle::Column::Low,
                    candle::Column::Close,
                    candle::Column::Volume,
                    candle::Column::Source,
                    candle::Column::FetchedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        progress(chunk.len());
    }
    Ok(())
}

pub use models::bars::{ReadBar, chart_bars, fill_gaps, resample_read};

/// Base bars (of `base_s`: the deployment's finest, see `collect::Collectors::base_s`) of a coin
/// in `[from, to)`, gap-filled and resampled to `resolution_s` ([`chart_bars`]: the rule the
/// in-memory chart bars follow too).
pub async fn read_candles(
    db: &impl ConnectionTrait,
    coin: Coin,
    base_s: i64,
    from: i64,
    to: i64,
    resolution_s: i64,
) -> Result<Vec<ReadBar>, DbErr> {
    // The minutes a gap at the start may be carried from come too. The caller bounds the span
    // (`/api/prices` reads at most 70 days of minutes), which bounds the rows and the slots.
    let mut bars = all_of(db, coin, base_s, from.saturating_sub(CARRY_S), to).await?;
    // The first minute at or after `to`, if any: gaps at the end of the range are filled up to
    // `to` when the data goes on past it.
    let later = of(coin, base_s)
        .filter(candle::Column::Ts.gte(to))
        .order_by_asc(candle::Column::Ts)
        .one(db)
        .await?;
    bars.extend(later.as_ref().map(candle::Model::bar));
    Ok(chart_bars(&bars, base_s, from, to, resolution_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(ts: i64, close: f64) -> Bar {
        Bar {
            ts,
            open: close - 1.0,
            high: close + 1.0,
            low: close - 2.0,
            close,
            volume: 2.0,
        }
    }

    #[test]
    fn a_gap_in_minutes_is_filled_at_read_time_and_flagged() {
        // Minutes 0, 1, then 4: minutes 2 and 3 are missing.
        let bars = [bar(0, 10.0), bar(60, 11.0), bar(240, 14.0)];
        let out = fill_gaps(&bars, 60, 0, 300);
        let ts: Vec<i64> = out.iter().map(|r| r.bar.ts).collect();
        assert_eq!(ts, [0, 60, 120, 180, 240]);
        let filled: Vec<bool> = out.iter().map(|r| r.filled).collect();
        assert_eq!(filled, [false, false, true, true, false]);
        assert_eq!(
            out[2].bar,
            Bar {
                ts: 120,
                open: 11.0,
                high: 11.0,
                low: 11.0,
                close: 11.0,
                volume: 0.0
            }
        );
    }

    #[test]
    fn a_gap_at_the_start_carries_the_bar_before_the_range() {
        let bars = [bar(0, 10.0), bar(180, 13.0)];
        let out = fill_gaps(&bars, 60, 60, 240);
        assert_eq!(
            out.iter().map(|r| (r.bar.ts, r.filled)).collect::<Vec<_>>(),
            [(60, true), (120, true), (180, false)]
        );
        assert_eq!(out[0].bar.close, 10.0);
        assert!(fill_gaps(&[], 60, 0, 600).is_empty(), "nothing to carry forward");
    }

    #[test]
    fn resampling_flags_buckets_with_filled_minutes() {
        let bars = [bar(0, 10.0), bar(60, 11.0), bar(240, 14.0), bar(300, 15.0)];
        let out = resample_read(&fill_gaps(&bars, 60, 0, 360), 180);
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].bar.ts, out[0].filled), (0, true));
        assert_eq!(
            (out[0].bar.open, out[0].bar.high, out[0].bar.low, out[0].bar.close),
            (9.0, 12.0, 8.0, 11.0)
        );
        assert_eq!(
            (out[1].bar.ts, out[1].filled, out[1].bar.close, out[1].bar.volume),
            (180, true, 15.0, 4.0)
        );
    }
}
