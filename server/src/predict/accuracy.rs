//! Live accuracy: the scored live predictions of a coin and horizon over a trailing window, next
//! to the majority-class baseline of the same rows, with n, the effective sample size and a
//! Wilson interval over it.
//!
//! Predictions of a 1 h model made every minute overlap: sixty in a row share most of the hour
//! they predict, so they are far from sixty independent outcomes. The effective sample size
//! counts one outcome per horizon-length block of time that holds scored predictions
//! (`ScoredSums::blocks`), and the interval is Wilson's at that size: 30-120 times fewer
//! outcomes than rows at 30 min to 2 h, 4 times fewer at 4 h to 12 h.
//!
//! The database sums the rows (count, hits, ups, squared error, blocks: `db::predictions`'
//! `scored_sums_by_block` and `scored_sums_in_parts`), [`LiveAccuracy`] keeps them by block, and
//! the figures are computed here from those sums exactly as `models::metrics::Metrics` computes
//! them from the rows, so no rebuild loads a window's rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use models::metrics::{Z95, wilson_rate};
use sea_orm::{ConnectionTrait, DbErr};
use shared::{AccuracyStats, AccuracyWindow, Coin, Horizon};

use crate::db;
use crate::db::predictions::{SQUARED_ERROR_UNIT, ScoredSums};

/// Trailing windows of the accuracy figures.
pub const WINDOWS: [AccuracyWindow; 3] = AccuracyWindow::ALL;
/// The window `/api/predictions` shows beside each prediction (7 days).
pub const PREDICTIONS_WINDOW: AccuracyWindow = AccuracyWindow::Week;

/// Every coin's live and backfilled accuracy over every window for some horizons at `now`, and
/// each model version's live accuracy: what one rebuild of the published state shows. Built by
/// [`LiveAccuracy::table`].
#[derive(Debug, Default, PartialEq)]
pub struct AccuracyTable {
    by_coin: HashMap<(Coin, Horizon, AccuracyWindow, bool), AccuracyStats>,
    /// Live predictions only, by the model version that made them.
    by_version: HashMap<(Coin, Horizon, String, AccuracyWindow), AccuracyStats>,
}

impl AccuracyTable {
    /// The figures of every coin of `horizons` at `now`, read afresh (every block of the widest
    /// window, then the table): what a [`LiveAccuracy`] kept up to date gives.
    pub async fn read(
        db: &impl ConnectionTrait,
        horizons: impl IntoIterator<Item = Horizon>,
        now: i64,
    ) -> Result<Self, DbErr> {
        LiveAccuracy::load(db, horizons, now).await?.table(db, now).await
    }

    /// A coin and horizon's figures over `window` (live, or backfilled): nothing scored gives the
    /// empty figures.
    pub fn get(
        &self,
        coin: Coin,
        horizon: Horizon,
        window: AccuracyWindow,
        backfilled: bool,
    ) -> AccuracyStats {
        self.by_coin
            .get(&(coin, horizon, window, backfilled))
            .cloned()
            .unwrap_or_else(|| empty(window))
    }

    /// One model version's live figures over `window` (each version keeps its own record, so a
    /// promotion never mixes the old model's rows into the new one's).
    pub fn of_version(
        &self,
        coin: Coin,
        horizon: Horizon,
        model_id: &str,
        window: AccuracyWindow,
    ) -> AccuracyStats {
        self.by_version
            .get(&(coin, horizon, model_id.to_owned(), window))
            .cloned()
            .unwrap_or_else(|| empty(window))
    }
}

/// The figures of a window where nothing was scored.
fn empty(window: AccuracyWindow) -> AccuracyStats {
    stats(window.as_str(), &ScoredSums::default())
}

/// The widest window: what [`LiveAccuracy`] keeps.
const WIDEST_S: i64 = 30 * crate::clock::DAY_S;
/// Most rows scored since the last update that [`LiveAccuracy::update`] reads to find the blocks
/// they changed; more (a backfill was scored) reloads every block.
pub const UPDATE_ROWS: u64 = 20_000;

/// One block's sums of each model version with rows in it.
type Block = Vec<(String, ScoredSums)>;

/// Every coin's live accuracy sums kept in memory, by horizon-length block of time (`made_at /
/// horizon`, the blocks the effective sample size counts) and model version, so that a rebuild
/// of the published state reads what changed, not every scored row of the last 30 days.
///
/// A scoring run changes the blocks of the predictions it scored: [`LiveAccuracy::update`] finds
/// them from the rows scored since the last update (`db::predictions::scored_after`, stamps that
/// only grow) and re-reads exactly those blocks from the database, so an update is idempotent and
/// never adds a row twice. A window's figures ([`LiveAccuracy::table`]) are the sums of its whole
/// blocks, from memory, plus the one block its start cuts, read from the database (one statement
/// for every window's cut block, each less than one horizon of rows). The squared
/// error is summed in whole units (`db::predictions::ScoredSums`), so the parts add up exactly
/// to what one statement over the window gives (a test compares them, and the published answers
/// byte for byte). Memory: one entry per coin, horizon, kind, block of the last 30 days and
/// version (2,820 blocks over the six horizons; about 2 MB for ten coins).
#[derive(Debug, Default)]
pub struct LiveAccuracy {
    /// The horizons kept.
    horizons: BTreeSet<Horizon>,
    /// Each coin, horizon and kind's (live or backfilled) sums by block, then version.
    blocks: HashMap<(Coin, Horizon, bool), BTreeMap<i64, Block>>,
    /// The newest `scored_at` seen: rows scored later are read by the next update.
    scored_upto: i64,
    /// The newest prediction id when last read: rows stored later already scored are read too.
    id_upto: i64,
}

impl LiveAccuracy {
    /// Every block of `horizons` in the widest window before `now`.
    pub async fn load(
        db: &impl ConnectionTrait,
        horizons: impl IntoIterator<Item = Horizon>,
        now: i64,
    ) -> Result<Self, DbErr> {
        // First the stamp and the id, then the blocks: a row scored between the two is read
        // twice (its block again by the next update), never missed.
        let scored_upto = db::predictions::score_stamp(db, 0).await?.saturating_sub(1);
        let id_upto = db::predictions::newest_id(db).await?.unwrap_or(0);
        let mut out = LiveAccuracy {
            horizons: horizons.into_iter().collect(),
            blocks: HashMap::new(),
            scored_upto,
            id_upto,
        };
        for horizon in out.horizons.clone() {
            let h = horizon.seconds();
            let from = now.saturating_sub(WIDEST_S).div_euclid(h) * h;
            for backfilled in [false, true] {
                out.put(db, horizon, backfilled, from, i64::MAX).await?;
            }
        }
        Ok(out)
    }

    /// Whether it keeps exactly `horizons` (a model reload may serve others).
    pub fn keeps(&self, horizons: &BTreeSet<Horizon>) -> bool {
        &self.horizons == horizons
    }

    /// Re-reads the blocks of the rows scored since the last update (and of rows stored already
    /// scored since), and says which coins and horizons had live rows scored. `None` when too
    /// many were scored to read them one by one: [`LiveAccuracy::load`] again.
    pub async fn update(
        &mut self,
        db: &impl ConnectionTrait,
    ) -> Result<Option<BTreeSet<(Coin, Horizon)>>, DbErr> {
        let newest_id = db::predictions::newest_id(db).await?.unwrap_or(0);
        let rows = db::predictions::scored_after(db, self.scored_upto, self.id_upto, UPDATE_ROWS).await?;
        if rows.len() as u64 >= UPDATE_ROWS {
            return Ok(None);
        }
        let live = rows
            .iter()
            .filter(|r| !r.backfilled)
            .map(|r| (r.coin, r.horizon))
            .collect();
        self.id_upto = self.id_upto.max(newest_id);
        // Per horizon and kind: the span of the touched blocks, re-read in one statement.
        let mut spans: BTreeMap<(Horizon, bool), (i64, i64)> = BTreeMap::new();
        for r in &rows {
            self.scored_upto = self.scored_upto.max(r.scored_at);
            if !self.horizons.contains(&r.horizon) {
                continue;
            }
            let block = r.made_at.div_euclid(r.horizon.seconds());
            let span = spans.entry((r.horizon, r.backfilled)).or_insert((block, block));
            *span = (span.0.min(block), span.1.max(block));
        }
        for ((horizon, backfilled), (first, last)) in spans {
            let h = horizon.seconds();
            self.put(db, horizon, backfilled, first * h, (last + 1) * h)
                .await?;
        }
        Ok(Some(live))
    }

    /// Replaces the blocks of `[from, until)` (whole blocks) of a horizon and kind with what the
    /// database holds.
    async fn put(
        &mut self,
        db: &impl ConnectionTrait,
        horizon: Horizon,
        backfilled: bool,
        from: i64,
        until: i64,
    ) -> Result<(), DbErr> {
        let h = horizon.seconds();
        let (first, end) = (from.div_euclid(h), until.div_euclid(h));
        for (_, blocks) in self
            .blocks
            .iter_mut()
            .filter(|((_, hz, bf), _)| *hz == horizon && *bf == backfilled)
        {
            let gone: Vec<i64> = blocks.range(first..end).map(|(b, _)| *b).collect();
            for b in gone {
                blocks.remove(&b);
            }
        }
        for (coin, model_id, block, sums) in
            db::predictions::scored_sums_by_block(db, horizon, backfilled, from, until).await?
        {
            self.blocks
                .entry((coin, horizon, backfilled))
                .or_default()
                .entry(block)
                .or_default()
                .push((model_id, sums));
        }
        Ok(())
    }

    /// The figures of every coin at `now`: each window's whole blocks from memory, the block its
    /// start cuts from the database. Drops the blocks that left the widest window.
    pub async fn table(&mut self, db: &impl ConnectionTrait, now: i64) -> Result<AccuracyTable, DbErr> {
        // Every window's cut block, read in one statement.
        let mut parts = Vec::new();
        for &horizon in &self.horizons {
            let h = horizon.seconds();
            for backfilled in [false, true] {
                for window in WINDOWS {
                    let since = now.saturating_sub(window.seconds());
                    let cut = since.div_euclid(h);
                    parts.push((
                        (horizon, backfilled, window, cut),
                        (horizon, backfilled, since, (cut + 1) * h),
                    ));
                }
            }
        }
        let ranges: Vec<db::predictions::Part> = parts.iter().map(|(_, r)| *r).collect();
        let mut edges: HashMap<usize, HashMap<Coin, Block>> = HashMap::new();
        for (i, coin, model_id, sums) in db::predictions::scored_sums_in_parts(db, &ranges).await? {
            edges
                .entry(i)
                .or_default()
                .entry(coin)
                .or_default()
                .push((model_id, sums));
        }
        let mut out = AccuracyTable::default();
        for (i, &((horizon, backfilled, window, cut), _)) in parts.iter().enumerate() {
            let edge = edges.remove(&i).unwrap_or_default();
            let mut coins: BTreeSet<Coin> = edge.keys().copied().collect();
            coins.extend(
                self.blocks
                    .keys()
                    .filter(|(_, hz, bf)| *hz == horizon && *bf == backfilled)
                    .map(|(c, _, _)| *c),
            );
            for coin in coins {
                let kept = self.blocks.get(&(coin, horizon, backfilled));
                let blocks = edge
                    .get(&coin)
                    .into_iter()
                    .chain(kept.into_iter().flat_map(|b| b.range(cut + 1..).map(|(_, v)| v)));
                let mut whole = ScoredSums::default();
                let mut versions: HashMap<&str, ScoredSums> = HashMap::new();
                for block in blocks {
                    let mut any = false;
                    for (model_id, s) in block.iter().filter(|(_, s)| s.n > 0) {
                        any = true;
                        whole.add(&ScoredSums { blocks: 0, ..*s });
                        versions.entry(model_id).or_default().add(s);
                    }
                    whole.blocks += i64::from(any);
                }
                if whole.n > 0 {
                    out.by_coin.insert(
                        (coin, horizon, window, backfilled),
                        stats(window.as_str(), &whole),
                    );
                }
                if !backfilled {
                    for (model_id, s) in versions {
                        out.by_version.insert(
                            (coin, horizon, model_id.to_owned(), window),
                            stats(window.as_str(), &s),
                        );
                    }
                }
            }
        }
        // Bounded memory: what no window reaches any more.
        let oldest = now.saturating_sub(WIDEST_S);
        for ((_, horizon, _), blocks) in &mut self.blocks {
            let keep = oldest.div_euclid(horizon.seconds());
            *blocks = blocks.split_off(&keep);
        }
        self.blocks.retain(|_, b| !b.is_empty());
        Ok(out)
    }
}

/// The figures of a window from its sums (`None` figures when nothing was scored).
pub fn stats(window: &str, s: &ScoredSums) -> AccuracyStats {
    let n = usize::try_from(s.n).unwrap_or(0);
    let hits = usize::try_from(s.hits).unwrap_or(0).min(n);
    let up = usize::try_from(s.up).unwrap_or(0).min(n);
    let some = n > 0;
    let n_f = n as f64;
    // At least one outcome when anything was scored; never more than the rows.
    let n_effective = usize::try_from(s.blocks).unwrap_or(0).clamp(usize::from(some), n);
    let (low, high) = wilson_rate(hits as f64 / n_f.max(1.0), n_effective as f64, Z95);
    AccuracyStats {
        window: window.to_owned(),
        // Live data is by nature unseen in training; callers correct it for a replay
        // (`AppState::out_of_sample`).
        out_of_sample: true,
        n: u32::try_from(n).unwrap_or(u32::MAX),
        n_effective: u32::try_from(n_effective).unwrap_or(u32::MAX),
        hits: u32::try_from(hits).unwrap_or(u32::MAX),
        accuracy: some.then(|| hits as f64 / n_f),
        wilson_low: some.then_some(low),
        wilson_high: some.then_some(high),
        brier: some.then(|| s.squared_error_units as f64 * SQUARED_ERROR_UNIT / n_f),
        baseline_accuracy: some.then(|| up.max(n - up) as f64 / n_f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::DAY_S;

    /// One statement over the whole window (`db::predictions::scored_sums`): what the kept
    /// blocks must add up to, for a coin and horizon.
    async fn accuracy(
        db: &impl ConnectionTrait,
        coin: Coin,
        horizon: Horizon,
        window: AccuracyWindow,
        backfilled: bool,
        now: i64,
    ) -> Result<AccuracyStats, DbErr> {
        let since = now.saturating_sub(window.seconds());
        let sums = db::predictions::scored_sums(db, coin, horizon, backfilled, since, None).await?;
        Ok(stats(window.as_str(), &sums))
    }

    /// [`accuracy`] of one model version's live predictions.
    async fn accuracy_of_model(
        db: &impl ConnectionTrait,
        coin: Coin,
        horizon: Horizon,
        model_id: &str,
        window: AccuracyWindow,
        now: i64,
    ) -> Result<AccuracyStats, DbErr> {
        let since = now.saturating_sub(window.seconds());
        let sums = db::predictions::scored_sums(db, coin, horizon, false, since, Some(model_id)).await?;
        Ok(stats(window.as_str(), &sums))
    }

    #[test]
    fn the_windows_are_a_day_a_week_and_a_month_named_as_on_the_wire() {
        let named: Vec<(&str, i64)> = WINDOWS.iter().map(|w| (w.as_str(), w.seconds())).collect();
        assert_eq!(named, [("24h", DAY_S), ("7d", 7 * DAY_S), ("30d", 30 * DAY_S)]);
        assert_eq!(PREDICTIONS_WINDOW.as_str(), "7d");
    }
    use crate::db::entities::prediction::{self, Outcome};
    use migrations::MigratorTrait;
    use models::metrics::Metrics;
    use sea_orm::{ActiveValue::Set, Database, EntityTrait};

    /// A hand-made set: every side of the 0.5 threshold (0.5 itself says DOWN), the clamped
    /// extremes, a flat price (not UP), and rows the window must leave out.
    #[tokio::test]
    async fn sums_in_sql_give_the_same_figures_as_metrics_on_the_rows() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        migrations::Migrator::up(&db, None).await.unwrap();
        let now = 1_764_633_600;
        let p_ups = [
            0.7, 0.6, 0.4, 0.8, 0.5, 0.0, 1.0, 0.51, 0.49, 0.93, 0.12, 0.5000001,
        ];
        let moves = [1.1, 0.9, 0.95, 1.2, 1.0, 0.7, 1.3, 1.0, 1.01, 0.99, 0.98, 1.05];
        let mut rows = Vec::new();
        let mut expected = (Vec::new(), Vec::new());
        for (i, (&p, &realized)) in p_ups.iter().zip(&moves).enumerate() {
            let i = i as i64;
            for (made_at, backfilled, outcome, counts) in [
                (now - 10_000 - i * 60, false, Outcome::Scored, true),
                (now - 2 * DAY_S - i * 60, false, Outcome::Scored, false),
                (now - 20_000 - i * 60, true, Outcome::Scored, false),
                (now - 30_000 - i * 60, false, Outcome::Unscorable, false),
            ] {
                rows.push(prediction::ActiveModel {
                    coin: Set("BTC".into()),
                    horizon: Set("1h".into()),
                    made_at: Set(made_at),
                    target_at: Set(made_at + 3_600),
                    p_up: Set(p),
                    reference_price: Set(1.0),
                    model_id: Set("test".into()),
                    backfilled: Set(backfilled),
                    outcome: Set(outcome),
                    realized_price: Set(Some(realized)),
                    scored_at: Set(Some(made_at + 3_660)),
                    ..Default::default()
                });
                if counts {
                    expected.0.push(realized > 1.0);
                    expected.1.push(p);
                }
            }
        }
        prediction::Entity::insert_many(rows).exec(&db).await.unwrap();
        let got = accuracy(&db, Coin::BTC, Horizon::H1, AccuracyWindow::Day, false, now)
            .await
            .unwrap();
        let m = Metrics::compute(&expected.0, &expected.1).unwrap();
        assert_eq!((got.n as usize, got.hits as usize), (m.n, m.hits));
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-12);
        assert!(close(got.accuracy, m.accuracy), "{got:?} {m:?}");
        // Twelve 1 h predictions a minute apart, in the 12 minutes before now - 10,000 s: one
        // or two hour-long blocks (as the hour boundary falls), not twelve outcomes.
        let blocks: std::collections::BTreeSet<i64> =
            (0..12).map(|i| (now - 10_000 - i * 60) / 3_600).collect();
        assert_eq!(got.n_effective as usize, blocks.len());
        let (low, high) = wilson_rate(m.accuracy, blocks.len() as f64, Z95);
        assert!(close(got.wilson_low, low), "{got:?}");
        assert!(close(got.wilson_high, high), "{got:?}");
        assert!(got.wilson_high.unwrap() - got.wilson_low.unwrap() > m.wilson_high - m.wilson_low);
        assert!(close(got.brier, m.brier), "{got:?} {m:?}");
        assert!(close(got.baseline_accuracy, m.baseline_accuracy), "{got:?} {m:?}");

        let none = accuracy(&db, Coin::LTC, Horizon::H1, AccuracyWindow::Day, false, now)
            .await
            .unwrap();
        assert_eq!((none.n, none.hits, none.accuracy, none.brier), (0, 0, None, None));
        assert_eq!(none.n_effective, 0);

        // The grouped read of every coin at once gives each coin, window and kind exactly what
        // the read of one gives: BTC's rows, a flipped copy as XRP's, nothing of LTC's.
        let mut flipped = Vec::new();
        for row in prediction::Entity::find().all(&db).await.unwrap() {
            flipped.push(prediction::ActiveModel {
                coin: Set("XRP".into()),
                horizon: Set(row.horizon),
                made_at: Set(row.made_at),
                target_at: Set(row.target_at),
                p_up: Set(1.0 - row.p_up),
                reference_price: Set(row.reference_price),
                model_id: Set(row.model_id),
                backfilled: Set(row.backfilled),
                outcome: Set(row.outcome),
                realized_price: Set(row.realized_price),
                scored_at: Set(row.scored_at),
                ..Default::default()
            });
        }
        prediction::Entity::insert_many(flipped).exec(&db).await.unwrap();
        let table = AccuracyTable::read(&db, [Horizon::H1, Horizon::H4], now)
            .await
            .unwrap();
        for coin in [Coin::BTC, Coin::XRP, Coin::LTC] {
            for horizon in [Horizon::H1, Horizon::H4] {
                for window in WINDOWS {
                    for backfilled in [false, true] {
                        let one = accuracy(&db, coin, horizon, window, backfilled, now)
                            .await
                            .unwrap();
                        assert_eq!(
                            table.get(coin, horizon, window, backfilled),
                            one,
                            "{coin} {horizon} {window:?} backfilled {backfilled}"
                        );
                    }
                }
            }
        }
        assert!(table.get(Coin::XRP, Horizon::H1, AccuracyWindow::Day, false).n > 0);
    }

    /// Kept blocks brought up to date as rows are scored and time passes give, at every step,
    /// exactly what a fresh read gives, and what the one-statement read of each window gives.
    #[tokio::test]
    async fn kept_blocks_brought_up_to_date_equal_a_fresh_read_as_rows_are_scored_and_time_passes() {
        use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
        let db = Database::connect("sqlite::memory:").await.unwrap();
        migrations::Migrator::up(&db, None).await.unwrap();
        let start = 1_764_633_600 + 1_234;
        let step = 1_200;
        let mut seed: u64 = 7;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let horizons = [Horizon::H1, Horizon::H4];
        // Predictions every 20 minutes for 35 days before `start` and 3 days after it.
        let mut rows = Vec::new();
        let mut made_at = (start - 35 * DAY_S) / step * step;
        while made_at < start + 3 * DAY_S {
            for coin in ["BTC", "XRP"] {
                for horizon in horizons {
                    // One row per coin, horizon and time: the backfilled ones 10 minutes later.
                    for (backfilled, at) in [(false, made_at), (true, made_at + 600)] {
                        rows.push(prediction::ActiveModel {
                            coin: Set(coin.into()),
                            horizon: Set(horizon.as_str().into()),
                            made_at: Set(at),
                            target_at: Set(at + horizon.seconds()),
                            p_up: Set(next()),
                            reference_price: Set(1.0),
                            model_id: Set("test".into()),
                            backfilled: Set(backfilled),
                            outcome: Set(Outcome::Pending),
                            realized_price: Set(Some(0.9 + 0.2 * next())),
                            ..Default::default()
                        });
                    }
                }
            }
            made_at += step;
        }
        for chunk in rows.chunks(500) {
            prediction::Entity::insert_many(chunk.to_vec())
                .exec(&db)
                .await
                .unwrap();
        }
        // Scores what is due at `now`, stamped `now` (later than every earlier run).
        let score = |now: i64| {
            let db = &db;
            async move {
                prediction::Entity::update_many()
                    .col_expr(prediction::Column::Outcome, Expr::value(Outcome::Scored))
                    .col_expr(prediction::Column::ScoredAt, Expr::value(now))
                    .filter(prediction::Column::Outcome.eq(Outcome::Pending))
                    .filter(prediction::Column::TargetAt.lte(now))
                    .exec(db)
                    .await
                    .unwrap();
            }
        };
        score(start).await;
        let mut live = LiveAccuracy::load(&db, horizons, start).await.unwrap();
        let mut now = start;
        // Steps of 7 h 13 min (windows cut blocks anywhere) over the three days.
        for i in 0..10 {
            now += 7 * 3_600 + 13 * 60;
            score(now).await;
            if i == 3 {
                // A row stored already scored, with an old stamp (an import): read by its id.
                prediction::Entity::insert(prediction::ActiveModel {
                    coin: Set("BTC".into()),
                    horizon: Set("1h".into()),
                    made_at: Set(now - 2 * DAY_S + 60),
                    target_at: Set(now - 2 * DAY_S + 3_660),
                    p_up: Set(0.9),
                    reference_price: Set(1.0),
                    model_id: Set("imported".into()),
                    backfilled: Set(false),
                    outcome: Set(Outcome::Scored),
                    realized_price: Set(Some(0.5)),
                    scored_at: Set(Some(start - 5 * DAY_S)),
                    ..Default::default()
                })
                .exec(&db)
                .await
                .unwrap();
            }
            assert!(live.update(&db).await.unwrap().is_some());
            let kept = live.table(&db, now).await.unwrap();
            let fresh = AccuracyTable::read(&db, horizons, now).await.unwrap();
            assert_eq!(kept, fresh, "at {now}");
            for coin in [Coin::BTC, Coin::XRP] {
                for horizon in horizons {
                    for window in WINDOWS {
                        for backfilled in [false, true] {
                            let one = accuracy(&db, coin, horizon, window, backfilled, now)
                                .await
                                .unwrap();
                            assert_eq!(kept.get(coin, horizon, window, backfilled), one);
                            assert!(one.n > 0);
                        }
                        // Each version's own rows (the imported one is BTC 1 h's second version).
                        for id in ["test", "imported"] {
                            let one = accuracy_of_model(&db, coin, horizon, id, window, now)
                                .await
                                .unwrap();
                            assert_eq!(kept.of_version(coin, horizon, id, window), one);
                        }
                    }
                }
            }
        }
        // Only the widest window's blocks stay.
        let oldest = now - WIDEST_S;
        assert!(
            live.blocks
                .iter()
                .all(|((_, h, _), b)| b.keys().all(|k| (k + 1) * h.seconds() > oldest))
        );
    }
}
