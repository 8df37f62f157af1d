//! Every query of the `events` table: the event stream's one sequence (`/api/stream` ids).
//!
//! The writers record an event in the same run that stores what it is about: a prediction tick
//! its live predictions (`record_predictions`), scoring the predictions it scored
//! (`record_scores`), a candle collection every candle it stored (`record_prices`, in the
//! transaction that stores the candles). Each is one set-based `INSERT .. SELECT` whose rows take
//! ids from the table's auto-increment in order, and
//! `ON CONFLICT DO NOTHING` on (kind, coin, subject) makes recording twice harmless. Readers
//! (`after`, `newest_id`) only read. Backfilled predictions are history, not news: no events.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use shared::{Coin, EventType, Horizon};

use crate::db::entities::event;

/// Records a `prediction` event for each live prediction stored at `published_at` (what one
/// insert stored), in id order.
pub async fn record_predictions(db: &impl ConnectionTrait, published_at: i64) -> Result<u64, DbErr> {
    record_about_predictions(db, EventType::Prediction, "published_at", published_at).await
}

/// Records a `score` event for each live prediction scored (or found unscorable) at `scored_at`,
/// in id order.
pub async fn record_scores(db: &impl ConnectionTrait, scored_at: i64) -> Result<u64, DbErr> {
    record_about_predictions(db, EventType::Score, "scored_at", scored_at).await
}

/// An event of `kind` for each live prediction whose `column` (one of the two time columns the
/// callers name) is `at`, in id order. The kind and the times are bound values, never text in
/// the SQL.
async fn record_about_predictions(
    db: &impl ConnectionTrait,
    kind: EventType,
    column: &'static str,
    at: i64,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => format!(
            "INSERT INTO events (kind, coin, horizon, subject, price, at) \
             SELECT $1, coin, horizon, id, NULL, $2 FROM predictions \
             WHERE {column} = $3 AND backfilled = $4 ORDER BY id \
             ON CONFLICT (kind, coin, subject) DO NOTHING"
        ),
        _ => format!(
            "INSERT INTO events (kind, coin, horizon, subject, price, at) \
             SELECT ?, coin, horizon, id, NULL, ? FROM predictions \
             WHERE {column} = ? AND backfilled = ? ORDER BY id \
             ON CONFLICT (kind, coin, subject) DO NOTHING"
        ),
    };
    let stmt =
        Statement::from_sql_and_values(backend, sql, [kind.into(), at.into(), at.into(), false.into()]);
    Ok(db.execute_raw(stmt).await?.rows_affected())
}

/// How far back from the run that stores them minutes are news: a collection run records a
/// `price` event for each minute it stored within this span of its `now`. Older minutes a run
/// fills in (a fresh database's history, the heal after a long outage) are history, read with
/// `GET /api/prices`, as backfilled predictions are.
pub const PRICE_EVENT_SPAN_S: i64 = 3_600;

/// Records a `price` event for each stored base bar (`base_s`: minutes live, the replay's bars
/// when replaying) of `coin` opening in `[from, to]` (and within [`PRICE_EVENT_SPAN_S`] of
/// `now`) that has none, oldest first. Collection runs call it in the transaction that stores the
/// bars, so a bar and its event commit together or not at all.
pub async fn record_prices(
    db: &impl ConnectionTrait,
    coin: Coin,
    base_s: i64,
    from: i64,
    to: i64,
    now: i64,
) -> Result<u64, DbErr> {
    let from = from.max(now - PRICE_EVENT_SPAN_S);
    if from > to {
        return Ok(0);
    }
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "INSERT INTO events (kind, coin, horizon, subject, price, at) \
             SELECT $1, coin, NULL, ts, close, $2 FROM candles \
             WHERE coin = $3 AND interval_s = $4 AND ts >= $5 AND ts <= $6 ORDER BY ts \
             ON CONFLICT (kind, coin, subject) DO NOTHING"
        }
        _ => {
            "INSERT INTO events (kind, coin, horizon, subject, price, at) \
             SELECT ?, coin, NULL, ts, close, ? FROM candles \
             WHERE coin = ? AND interval_s = ? AND ts >= ? AND ts <= ? ORDER BY ts \
             ON CONFLICT (kind, coin, subject) DO NOTHING"
        }
    };
    let stmt = Statement::from_sql_and_values(
        backend,
        sql,
        [
            EventType::Price.into(),
            now.into(),
            coin.into(),
            base_s.into(),
            from.into(),
            to.into(),
        ],
    );
    Ok(db.execute_raw(stmt).await?.rows_affected())
}

/// Which events a stream client wants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub coin: Option<Coin>,
    pub horizon: Option<Horizon>,
    pub kind: Option<EventType>,
}

impl EventFilter {
    /// Whether an event of this kind, coin and horizon passes (price events have no horizon and
    /// pass every horizon filter).
    pub fn passes(&self, kind: EventType, coin: Coin, horizon: Option<Horizon>) -> bool {
        self.kind.is_none_or(|k| k == kind)
            && self.coin.is_none_or(|c| c == coin)
            && (self.horizon.is_none() || horizon.is_none() || self.horizon == horizon)
    }

    fn apply(&self, mut q: sea_orm::Select<event::Entity>) -> sea_orm::Select<event::Entity> {
        if let Some(k) = self.kind {
            q = q.filter(event::Column::Kind.eq(k));
        }
        if let Some(c) = self.coin {
            q = q.filter(event::Column::Coin.eq(c));
        }
        if let Some(h) = self.horizon {
            q = q.filter(
                sea_orm::Condition::any()
                    .add(event::Column::Horizon.is_null())
                    .add(event::Column::Horizon.eq(h)),
            );
        }
        q
    }
}

/// The events after id `after`, oldest first, at most `limit`, of every kind and coin.
pub async fn after(db: &impl ConnectionTrait, after: i64, limit: u64) -> Result<Vec<event::Model>, DbErr> {
    event::Entity::find()
        .filter(event::Column::Id.gt(after))
        .order_by_asc(event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The newest `limit` events after id `after` that pass `filter`, newest first (a resume reads
/// `limit + 1` to tell whether it must skip some).
pub async fn newest_after(
    db: &impl ConnectionTrait,
    after: i64,
    filter: &EventFilter,
    limit: u64,
) -> Result<Vec<event::Model>, DbErr> {
    filter
        .apply(event::Entity::find().filter(event::Column::Id.gt(after)))
        .order_by_desc(event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The largest event id (0 when there is none).
pub async fn newest_id(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    Ok(event::Entity::find()
        .select_only()
        .column_as(event::Column::Id.max(), "newest")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// The smallest event id still stored (`None` when there is none).
pub async fn oldest_id(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    Ok(event::Entity::find()
        .select_only()
        .column_as(event::Column::Id.min(), "oldest")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten())
}

/// Deletes events recorded before `cutoff`, at most `limit`; returns how many went.
pub async fn prune(db: &impl ConnectionTrait, cutoff: i64, limit: u64) -> Result<u64, DbErr> {
    let ids: Vec<i64> = event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .filter(event::Column::At.lt(cutoff))
        .order_by_asc(event::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(event::Entity::delete_many()
        .filter(event::Column::Id.is_in(ids))
        .exec(db)
        .await?
        .rows_affected)
}
