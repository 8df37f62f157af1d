//! Every query of the `predictions` table: storing, scoring, the newest per coin and horizon,
//! history pages, the rows behind live accuracy and the stream's events.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use shared::{Coin, Direction, Horizon, Prediction, Signal};

use crate::clock::to_utc;
use crate::db::entities::prediction::{self, Outcome};

/// Rows per INSERT statement.
const BATCH: usize = 500;

/// Stored rows that could not be turned into API values since the process started (each is
/// logged); `/api/health` would show a corrupt table through this.
static UNREADABLE_ROWS: AtomicU64 = AtomicU64::new(0);

/// How many stored prediction rows could not be read since the process started.
pub fn unreadable_rows() -> u64 {
    UNREADABLE_ROWS.load(Ordering::Relaxed)
}

/// Why a stored row is not a valid prediction.
#[derive(Debug, thiserror::Error)]
#[error("prediction row {id}: {what}")]
pub struct RowError {
    id: i64,
    what: String,
}

/// Seconds after a minute boundary by which that minute's predictions are published: the
/// `predict` job's deadline is second 20 (`jobs.predict_cron`), inference and the commit take
/// well under a second more, and the rest is margin. A prediction is the current one of its coin
/// and horizon until the next one's `made_at` plus this (`Prediction::valid_until`).
pub const PUBLISHED_WITHIN_S: i64 = 30;

/// A stored prediction as the API shows it, where base bars are `base_s` long (its successor is
/// due one `Horizon::cadence_on(base_s)` later).
pub fn to_dto(p: &prediction::Model, base_s: i64) -> Result<Prediction, RowError> {
    let bad = |what: String| RowError { id: p.id, what };
    let time = |t: i64, name: &str| to_utc(t).ok_or_else(|| bad(format!("{name} {t} is not a time")));
    let horizon: Horizon = p.horizon.parse().map_err(|e| bad(format!("horizon: {e}")))?;
    let next_due = p
        .made_at
        .saturating_add(horizon.cadence_on(base_s))
        .saturating_add(PUBLISHED_WITHIN_S);
    Ok(Prediction {
        id: p.id,
        coin: p.coin.parse().map_err(|e| bad(format!("coin: {e}")))?,
        horizon,
        direction: Direction::from_p_up(p.p_up),
        p_up: p.p_up,
        confidence: shared::confidence(p.p_up),
        signal: p
            .signal_threshold
            .map_or(Signal::Flat, |t| Signal::from_p_up(p.p_up, t)),
        signal_threshold: p.signal_threshold,
        band_accuracy: p.band_accuracy,
        made_at: time(p.made_at, "made_at")?,
        target_at: time(p.target_at, "target_at")?,
        published_at: time(p.published_at.unwrap_or(p.made_at), "published_at")?,
        valid_until: time(next_due, "valid_until")?,
        reference_price: p.reference_price,
        model_id: p.model_id.clone(),
        backfilled: p.backfilled,
        outcome: p.outcome.into(),
        realized_price: p.realized_price,
        correct: p.correct,
    })
}

/// The rows that convert, in order; each one that does not is logged and counted (never
/// silently dropped).
pub fn to_dtos<'a>(rows: impl IntoIterator<Item = &'a prediction::Model>, base_s: i64) -> Vec<Prediction> {
    rows.into_iter()
        .filter_map(|r| readable(to_dto(r, base_s)))
        .collect()
}

/// A converted row, or `None` after logging and counting why it is unreadable.
pub fn readable(row: Result<Prediction, RowError>) -> Option<Prediction> {
    match row {
        Ok(p) => Some(p),
        Err(e) => {
            UNREADABLE_ROWS.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "unreadable prediction row");
            None
        }
    }
}

/// A new pending prediction's row.
pub fn new_row(
    coin: Coin,
    horizon: Horizon,
    made_at: i64,
    p_up: f64,
    reference_price: f64,
    model_id: &str,
    backfilled: bool,
) -> prediction::ActiveModel {
    prediction::ActiveModel {
        coin: Set(coin.ticker().to_owned()),
        horizon: Set(horizon.as_str().to_owned()),
        made_at: Set(made_at),
        target_at: Set(made_at + horizon.seconds()),
        p_up: Set(p_up),
        reference_price: Set(reference_price),
        model_id: Set(model_id.to_owned()),
        backfilled: Set(backfilled),
        outcome: Set(Outcome::Pending),
        ..Default::default()
    }
}

/// Stores predictions, published now; one that exists already (same coin, horizon and minute) is
/// left as it is. The live ones get their `prediction` event (`db::events`). One transaction,
/// [`crate::db::serialized`] with every other writer of predictions and events, so ids commit in
/// the order they were taken (what the event stream's `id > cursor` needs).
pub async fn insert(
    db: &impl TransactionTrait<Transaction = sea_orm::DatabaseTransaction>,
    mut rows: Vec<prediction::ActiveModel>,
    now: i64,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    for row in &mut rows {
        row.published_at = Set(Some(now));
    }
    crate::db::serialized(db, move |txn| {
        Box::pin(async move {
            for chunk in rows.chunks(BATCH) {
                prediction::Entity::insert_many(chunk.to_vec())
                    .on_conflict(
                        OnConflict::columns([
                            prediction::Column::Coin,
                            prediction::Column::Horizon,
                            prediction::Column::MadeAt,
                        ])
                        .do_nothing()
                        .to_owned(),
                    )
                    .exec_without_returning(txn)
                    .await?;
            }
            crate::db::events::record_predictions(txn, now).await?;
            Ok(())
        })
    })
    .await
}

fn of(coin: Coin, horizon: Horizon) -> sea_orm::Select<prediction::Entity> {
    prediction::Entity::find()
        .filter(prediction::Column::Coin.eq(coin))
        .filter(prediction::Column::Horizon.eq(horizon))
}

/// The minutes at or after `since` with a prediction of this coin and horizon.
pub async fn made_since(
    db: &impl ConnectionTrait,
    coin: Coin,
    horizon: Horizon,
    since: i64,
) -> Result<HashSet<i64>, DbErr> {
    let minutes: Vec<i64> = of(coin, horizon)
        .filter(prediction::Column::MadeAt.gte(since))
        .select_only()
        .column(prediction::Column::MadeAt)
        .into_tuple()
        .all(db)
        .await?;
    Ok(minutes.into_iter().collect())
}

/// The newest prediction of a coin and horizon.
pub async fn newest(
    db: &impl ConnectionTrait,
    coin: Coin,
    horizon: Horizon,
) -> Result<Option<prediction::Model>, DbErr> {
    of(coin, horizon)
        .order_by_desc(prediction::Column::MadeAt)
        .one(db)
        .await
}

/// The rows stored after `after_id` (primary key range), at most `limit`, and the rows of `ids`
/// as they are now: what the published state reads to keep each model's newest prediction.
pub async fn stored_after_and(
    db: &impl ConnectionTrait,
    after_id: i64,
    ids: &[i64],
    limit: u64,
) -> Result<Vec<prediction::Model>, DbErr> {
    let mut rows = prediction::Entity::find()
        .filter(prediction::Column::Id.gt(after_id))
        .order_by_asc(prediction::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    if !ids.is_empty() {
        rows.extend(
            prediction::Entity::find()
                .filter(prediction::Column::Id.is_in(ids.iter().copied()))
                .all(db)
                .await?,
        );
    }
    Ok(rows)
}

/// The largest prediction id (a cheap "has anything been stored since" check).
pub async fn newest_id(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    Ok(prediction::Entity::find()
        .select_only()
        .column_as(prediction::Column::Id.max(), "newest")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten())
}

/// The pending predictions whose target has passed by `{now}` and whose realized base bar (of
/// `base_s`, ending at the target) is stored (as candles `c`): the predicate of both scoring
/// statements. The target bar has closed once `now` is past the target (the collectors store a
/// bar only once it has closed).
fn due_with_price(base_s: i64, now: i64) -> String {
    format!(
        "predictions.outcome = {} AND predictions.target_at <= {now} - 60 \
         AND c.coin = predictions.coin AND c.interval_s = {base_s} AND c.ts = predictions.target_at - {base_s}",
        literal(Outcome::Pending)
    )
}

/// An outcome as an SQL string literal, from its stored value (no state is spelt in SQL).
fn literal(outcome: Outcome) -> String {
    use sea_orm::ActiveEnum;
    format!("'{}'", outcome.to_value())
}

/// Scores, in two statements, every due pending prediction whose realized minute is stored: with
/// valid prices (both positive) it is `scored` with its realized close and return and whether the
/// direction was right (UP when the close is strictly above the reference; the prediction said UP
/// when `p_up > models::UP_ABOVE`, as `models::predicts_up`); otherwise `unscorable`. `stamp` is the
/// `scored_at` written (see [`score_stamp`]). Returns how many.
pub async fn score_with_prices(
    db: &impl ConnectionTrait,
    base_s: i64,
    now: i64,
    stamp: i64,
) -> Result<usize, DbErr> {
    let due = due_with_price(base_s, now);
    let up_above = models::UP_ABOVE;
    let (scored, unscorable) = (literal(Outcome::Scored), literal(Outcome::Unscorable));
    let scored = format!(
        "UPDATE predictions SET outcome = {scored}, scored_at = {stamp}, realized_price = c.close, \
         realized_return = (c.close - predictions.reference_price) / predictions.reference_price, \
         correct = ((c.close > predictions.reference_price) = (predictions.p_up > {up_above})) \
         FROM candles c WHERE {due} AND c.close > 0 AND predictions.reference_price > 0"
    );
    let invalid = format!(
        "UPDATE predictions SET outcome = {unscorable}, scored_at = {stamp}, realized_price = c.close \
         FROM candles c WHERE {due}"
    );
    let a = db.execute_unprepared(&scored).await?.rows_affected();
    let b = db.execute_unprepared(&invalid).await?.rows_affected();
    Ok(usize::try_from(a + b).unwrap_or(usize::MAX))
}

/// Marks `unscorable` (at `stamp`, see [`score_stamp`]) the pending predictions whose target
/// minute closed before `cutoff` with no price (a base bar of `base_s` ending at the target)
/// stored for it. Returns how many.
pub async fn give_up(
    db: &impl ConnectionTrait,
    base_s: i64,
    stamp: i64,
    cutoff: i64,
) -> Result<usize, DbErr> {
    let (pending, unscorable) = (literal(Outcome::Pending), literal(Outcome::Unscorable));
    let sql = format!(
        "UPDATE predictions SET outcome = {unscorable}, scored_at = {stamp} \
         WHERE outcome = {pending} AND target_at < {cutoff} AND NOT EXISTS (SELECT 1 FROM candles c \
         WHERE c.coin = predictions.coin AND c.interval_s = {base_s} AND c.ts = predictions.target_at - {base_s})"
    );
    let n = db.execute_unprepared(&sql).await?.rows_affected();
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The `scored_at` a scoring run at `now` writes: `now`, or one second after the newest stored
/// score time when that is not earlier (a second run in the same second, or a process whose clock
/// is behind). Every run's rows then come after every earlier run's in the event stream's
/// `(scored_at, id)` order, whatever their ids; read under [`crate::db::serialized`].
pub async fn score_stamp(db: &impl ConnectionTrait, now: i64) -> Result<i64, DbErr> {
    let newest: Option<i64> = prediction::Entity::find()
        .select_only()
        .column_as(prediction::Column::ScoredAt.max(), "newest")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    Ok(newest.map_or(now, |t| now.max(t + 1)))
}

/// The predictions made at minute `t` (what one tick stored), by id.
pub async fn made_at(db: &impl ConnectionTrait, t: i64) -> Result<Vec<prediction::Model>, DbErr> {
    prediction::Entity::find()
        .filter(prediction::Column::MadeAt.eq(t))
        .order_by_asc(prediction::Column::Id)
        .all(db)
        .await
}

/// Sums over the scored predictions of a coin and horizon, all a live accuracy figure needs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScoredSums {
    /// Scored rows with a realized price.
    pub n: i64,
    /// Rows whose direction (`models::predicts_up`: `p_up > 0.5` is UP) matched what happened.
    pub hits: i64,
    /// Rows where the price went up (realized above the reference).
    pub up: i64,
    /// The sum of squared errors of `p_up` (clamped to `[1e-7, 1 - 1e-7]` as
    /// `models::metrics::Metrics` does) against what happened, n times the Brier score, in whole
    /// [`SQUARED_ERROR_UNIT`]s: each row's error is rounded to the unit before the sum, so sums of
    /// parts (`predict::accuracy::LiveAccuracy` adds up blocks) equal the sum of the whole exactly,
    /// in any order, which a sum of floating-point numbers does not.
    pub squared_error_units: i64,
    /// How many horizon-length blocks of time (`made_at / horizon`) hold at least one of the
    /// rows: predictions in one block share most of their future, so this, not `n`, is about how
    /// many independent outcomes the rows saw (the effective sample size).
    pub blocks: i64,
}

/// One [`ScoredSums::squared_error_units`] (1e-12: a Brier score is exact to twelve places).
pub const SQUARED_ERROR_UNIT: f64 = 1e-12;
/// Units per 1.0 of squared error, as the SQL writes it.
const SQUARED_ERROR_UNIT_INV: &str = "1e12";

/// COUNT, SUM(hits), SUM(ups), SUM(squared error units), COUNT(DISTINCT block) as the database
/// returns them (SUM of no rows is NULL).
type SumsRow = (i64, Option<i64>, Option<i64>, Option<i64>, i64);
/// A part's index ([`scored_sums_in_parts`]), the coin's stored text, the version, then its
/// [`SumsRow`].
type PartSumsRow = (
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
);
/// A coin's stored text, the model version, the block (`made_at / horizon`), then its [`SumsRow`].
type BlockSumsRow = (
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
);

/// The [`ScoredSums`] of the scored predictions of a coin and horizon made at or after `since`,
/// live or backfilled (of one version, or all), in one statement over the whole window (index
/// `idx_predictions_accuracy`): what the tests hold the blocks kept by
/// `predict::accuracy::LiveAccuracy` equal to.
#[cfg(test)]
pub async fn scored_sums(
    db: &impl ConnectionTrait,
    coin: Coin,
    horizon: Horizon,
    backfilled: bool,
    since: i64,
    model_id: Option<&str>,
) -> Result<ScoredSums, DbErr> {
    let mut rows = of(coin, horizon);
    if let Some(id) = model_id {
        rows = rows.filter(prediction::Column::ModelId.eq(id));
    }
    let row: Option<SumsRow> = sums(scored(rows, backfilled, since).select_only(), horizon)
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map_or_else(ScoredSums::default, ScoredSums::from_row))
}

/// The sums of `scored_sums` for every coin and model version (`model_id`) at once, by horizon-length block
/// of time (`made_at / horizon`), of the rows of a horizon made in `[from, until)`, live or
/// backfilled: what `predict::accuracy::LiveAccuracy` keeps and re-reads. Every group's `blocks`
/// is 1. A row whose coin does not parse is left out (readers of `predictions` skip such rows).
pub async fn scored_sums_by_block(
    db: &impl ConnectionTrait,
    horizon: Horizon,
    backfilled: bool,
    from: i64,
    until: i64,
) -> Result<Vec<(Coin, String, i64, ScoredSums)>, DbErr> {
    let block = Expr::cust(format!("made_at / {}", horizon.seconds()));
    let rows = prediction::Entity::find()
        .filter(prediction::Column::Horizon.eq(horizon))
        .filter(prediction::Column::MadeAt.lt(until));
    let grouped = scored(rows, backfilled, from)
        .select_only()
        .column(prediction::Column::Coin)
        .column(prediction::Column::ModelId)
        .column_as(block.clone(), "block")
        .group_by(prediction::Column::Coin)
        .group_by(prediction::Column::ModelId)
        .group_by(block);
    let rows: Vec<BlockSumsRow> = sums(grouped, horizon).into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(coin, model_id, block, n, hits, up, se, blocks)| {
            Some((
                coin.parse().ok()?,
                model_id,
                block,
                ScoredSums::from_row((n, hits, up, se, blocks)),
            ))
        })
        .collect())
}

/// A part of the scored rows: the rows of a horizon, live or backfilled, made in `[from, until)`.
pub type Part = (Horizon, bool, i64, i64);

/// The sums of every coin and model version in each of `parts`, in one statement
/// (each part's index, then the coin, the version and the sums): the cut blocks of a rebuild's
/// windows (`predict::accuracy::LiveAccuracy::table`), 36 of them, read at once. Each part
/// must lie within one horizon-length block of its horizon and not overlap another: its
/// `blocks` is 1.
pub async fn scored_sums_in_parts(
    db: &impl ConnectionTrait,
    parts: &[Part],
) -> Result<Vec<(usize, Coin, String, ScoredSums)>, DbErr> {
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    let part = |&(horizon, backfilled, from, until): &Part| {
        Condition::all()
            .add(prediction::Column::Horizon.eq(horizon))
            .add(prediction::Column::Backfilled.eq(backfilled))
            .add(prediction::Column::MadeAt.gte(from))
            .add(prediction::Column::MadeAt.lt(until))
    };
    let mut which = sea_orm::sea_query::CaseStatement::new();
    let mut any = Condition::any();
    for (i, p) in parts.iter().enumerate() {
        which = which.case(part(p), Expr::val(i as i64));
        any = any.add(part(p));
    }
    let rows = prediction::Entity::find()
        .filter(prediction::Column::Outcome.eq(Outcome::Scored))
        .filter(prediction::Column::RealizedPrice.is_not_null())
        .filter(any)
        .select_only()
        .expr_as(which, "part")
        .column(prediction::Column::Coin)
        .column(prediction::Column::ModelId)
        // The first column by its place: the CASE again would bind its values again, which
        // PostgreSQL does not take for the same expression.
        .group_by(Expr::cust("1"))
        .group_by(prediction::Column::Coin)
        .group_by(prediction::Column::ModelId);
    // The block divisor does not matter: each part lies in one block (its `blocks` is set below).
    let rows: Vec<PartSumsRow> = sums(rows, Horizon::M30).into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(part, coin, model_id, n, hits, up, se, _)| {
            let sums = ScoredSums::from_row((n, hits, up, se, 1));
            Some((usize::try_from(part).ok()?, coin.parse().ok()?, model_id, sums))
        })
        .collect())
}

/// A prediction scored (or found unscorable) after a time: what `predict::accuracy::LiveAccuracy`
/// re-reads the block of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoredRow {
    pub coin: Coin,
    pub horizon: Horizon,
    pub backfilled: bool,
    pub made_at: i64,
    pub scored_at: i64,
}

/// The predictions scored after `after` (`scored_at`, index `idx_predictions_scored_at_id`), and
/// those stored already scored with an id after `after_id` (an import), at most `limit` of them,
/// oldest score first. Scoring stamps each run later than every earlier one (`score_stamp`, under
/// `db::serialized`), so a reader that saw up to a stamp has seen every row scored at or before
/// it.
pub async fn scored_after(
    db: &impl ConnectionTrait,
    after: i64,
    after_id: i64,
    limit: u64,
) -> Result<Vec<ScoredRow>, DbErr> {
    // Two range reads (the score index, then the primary key), not one OR: the planner would
    // walk the whole score index for it.
    let scored = prediction::Entity::find()
        .filter(prediction::Column::ScoredAt.gt(after))
        .order_by_asc(prediction::Column::ScoredAt)
        .order_by_asc(prediction::Column::Id);
    let mut rows = scored_rows(db, scored, limit).await?;
    let stored = prediction::Entity::find()
        .filter(prediction::Column::Id.gt(after_id))
        .filter(prediction::Column::ScoredAt.is_not_null())
        .order_by_asc(prediction::Column::Id);
    rows.extend(scored_rows(db, stored, limit).await?);
    rows.sort_by_key(|r| r.scored_at);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(rows)
}

/// The rows `select` selects, as [`ScoredRow`]s (at most `limit`, in its order).
async fn scored_rows(
    db: &impl ConnectionTrait,
    select: sea_orm::Select<prediction::Entity>,
    limit: u64,
) -> Result<Vec<ScoredRow>, DbErr> {
    let rows: Vec<(String, String, bool, i64, Option<i64>)> = select
        .select_only()
        .column(prediction::Column::Coin)
        .column(prediction::Column::Horizon)
        .column(prediction::Column::Backfilled)
        .column(prediction::Column::MadeAt)
        .column(prediction::Column::ScoredAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(coin, horizon, backfilled, made_at, scored_at)| {
            Some(ScoredRow {
                coin: coin.parse().ok()?,
                horizon: horizon.parse().ok()?,
                backfilled,
                made_at,
                scored_at: scored_at?,
            })
        })
        .collect())
}

/// The scored rows (live or backfilled) made at or after `since`, with a realized price (index
/// `idx_predictions_accuracy`: coin, horizon, backfilled, outcome, made_at).
fn scored(
    rows: sea_orm::Select<prediction::Entity>,
    backfilled: bool,
    since: i64,
) -> sea_orm::Select<prediction::Entity> {
    rows.filter(prediction::Column::Backfilled.eq(backfilled))
        .filter(prediction::Column::Outcome.eq(Outcome::Scored))
        .filter(prediction::Column::MadeAt.gte(since))
        .filter(prediction::Column::RealizedPrice.is_not_null())
}

/// The columns of a [`SumsRow`], appended to `select` (portable SQL for SQLite and PostgreSQL:
/// CASE, comparisons and arithmetic on DOUBLE columns).
fn sums(
    select: sea_orm::Select<prediction::Entity>,
    horizon: Horizon,
) -> sea_orm::Select<prediction::Entity> {
    const WENT_UP: &str = "realized_price > reference_price";
    let said_up = format!("p_up > {}", models::UP_ABOVE);
    let p = "(CASE WHEN p_up < 1e-7 THEN 1e-7 WHEN p_up > 1.0 - 1e-7 THEN 1.0 - 1e-7 ELSE p_up END)";
    let t = format!("(CASE WHEN {WENT_UP} THEN 1.0 ELSE 0.0 END)");
    select
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(
            Expr::cust(format!(
                "SUM(CASE WHEN ({said_up} AND {WENT_UP}) OR (NOT ({said_up}) AND NOT ({WENT_UP})) THEN 1 ELSE 0 END)"
            )),
            "hits",
        )
        .column_as(Expr::cust(format!("SUM(CASE WHEN {WENT_UP} THEN 1 ELSE 0 END)")), "up")
        // Whole units per row, summed as integers (CAST of the SUM: PostgreSQL sums BIGINT to
        // NUMERIC).
        .column_as(
            Expr::cust(format!(
                "CAST(SUM(CAST(ROUND(({p} - {t}) * ({p} - {t}) * {SQUARED_ERROR_UNIT_INV}) AS BIGINT)) AS BIGINT)"
            )),
            "squared_error",
        )
        // Integer division on BIGINT in both SQLite and PostgreSQL (made_at is never negative).
        .column_as(
            Expr::cust(format!("COUNT(DISTINCT made_at / {})", horizon.seconds())),
            "blocks",
        )
}

impl ScoredSums {
    /// Adds the sums of rows disjoint from these (another block).
    pub fn add(&mut self, other: &ScoredSums) {
        self.n += other.n;
        self.hits += other.hits;
        self.up += other.up;
        self.squared_error_units += other.squared_error_units;
        self.blocks += other.blocks;
    }

    fn from_row((n, hits, up, se, blocks): SumsRow) -> Self {
        ScoredSums {
            n,
            hits: hits.unwrap_or(0),
            up: up.unwrap_or(0),
            squared_error_units: se.unwrap_or(0),
            blocks,
        }
    }
}

/// Most rows one model's live ledger reads (30 days of 30 min predictions made every minute).
pub const LEDGER_ROWS: u64 = 50_000;

/// One scored live prediction, as a ledger follows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Traded {
    pub made_at: i64,
    pub p_up: f64,
    /// The coin's simple return from the reference to the realized close.
    pub ret: f64,
}

/// The scored live (never backfilled) predictions of `model_id` made since `since`, oldest
/// first, at most [`LEDGER_ROWS`] (the newest).
pub async fn live_scored(
    db: &impl ConnectionTrait,
    coin: Coin,
    horizon: Horizon,
    model_id: &str,
    since: i64,
) -> Result<Vec<Traded>, DbErr> {
    let mut rows: Vec<(i64, f64, f64, Option<f64>)> = of(coin, horizon)
        .filter(prediction::Column::ModelId.eq(model_id))
        .filter(prediction::Column::Backfilled.eq(false))
        .filter(prediction::Column::Outcome.eq(Outcome::Scored))
        .filter(prediction::Column::MadeAt.gte(since))
        .filter(prediction::Column::RealizedPrice.is_not_null())
        .select_only()
        .column(prediction::Column::MadeAt)
        .column(prediction::Column::PUp)
        .column(prediction::Column::ReferencePrice)
        .column(prediction::Column::RealizedPrice)
        .order_by_desc(prediction::Column::MadeAt)
        .limit(LEDGER_ROWS)
        .into_tuple()
        .all(db)
        .await?;
    rows.reverse();
    Ok(rows
        .into_iter()
        .filter_map(|(made_at, p_up, reference, realized)| {
            let realized = realized?;
            (reference > 0.0 && realized.is_finite()).then(|| Traded {
                made_at,
                p_up,
                ret: realized / reference - 1.0,
            })
        })
        .collect())
}

/// What a history page asks for.
#[derive(Debug, Clone, Copy)]
pub struct HistoryFilter {
    pub coin: Option<Coin>,
    pub horizon: Option<Horizon>,
    /// Made in `[from, to)`.
    pub from: i64,
    pub to: i64,
    /// Only predictions made on multiples of this many minutes.
    pub step_minutes: u32,
    /// After the previous page's last row, `(made_at, id)`.
    pub cursor: Option<(i64, i64)>,
    pub limit: u64,
}

/// A page of predictions, newest first (`limit + 1` rows tell whether another page follows).
pub async fn history(db: &impl ConnectionTrait, f: HistoryFilter) -> Result<Vec<prediction::Model>, DbErr> {
    let mut q = prediction::Entity::find()
        .filter(prediction::Column::MadeAt.gte(f.from))
        .filter(prediction::Column::MadeAt.lt(f.to));
    if let Some(c) = f.coin {
        q = q.filter(prediction::Column::Coin.eq(c));
    }
    if let Some(h) = f.horizon {
        q = q.filter(prediction::Column::Horizon.eq(h));
    }
    if let Some((t, id)) = f.cursor {
        q = q.filter(
            Condition::any().add(prediction::Column::MadeAt.lt(t)).add(
                Condition::all()
                    .add(prediction::Column::MadeAt.eq(t))
                    .add(prediction::Column::Id.lt(id)),
            ),
        );
    }
    if f.step_minutes > 1 {
        let step_s = i64::from(f.step_minutes) * 60;
        q = q.filter(Expr::cust(format!("made_at % {step_s} = 0")));
    }
    q.order_by_desc(prediction::Column::MadeAt)
        .order_by_desc(prediction::Column::Id)
        .limit(f.limit + 1)
        .all(db)
        .await
}

/// The most recently scored prediction.
pub async fn newest_scored(db: &impl ConnectionTrait) -> Result<Option<prediction::Model>, DbErr> {
    prediction::Entity::find()
        .filter(prediction::Column::ScoredAt.is_not_null())
        .order_by_desc(prediction::Column::ScoredAt)
        .order_by_desc(prediction::Column::Id)
        .one(db)
        .await
}

/// The predictions with these ids (any order; missing ones are left out).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<prediction::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    prediction::Entity::find()
        .filter(prediction::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}
