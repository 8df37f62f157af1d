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
//! The database sums the rows (`db::predictions::scored_sums`: count, hits, ups, squared error);
//! the figures are computed here from those sums exactly as `models::metrics::Metrics` computes
//! them from the rows, so a request never loads a window's rows.

use std::collections::{BTreeSet, HashMap};

use models::metrics::{Z95, wilson_rate};
use sea_orm::{ConnectionTrait, DbErr};
use shared::{AccuracyStats, AccuracyWindow, Coin, Horizon};

use crate::db;
use crate::db::predictions::ScoredSums;

/// Trailing windows of the accuracy figures.
pub const WINDOWS: [AccuracyWindow; 3] = AccuracyWindow::ALL;
/// The window `/api/predictions` shows beside each prediction (7 days).
pub const PREDICTIONS_WINDOW: AccuracyWindow = AccuracyWindow::Week;

/// Accuracy of the scored predictions of a coin and horizon made in the trailing window.
pub async fn accuracy(
    db: &impl ConnectionTrait,
    coin: Coin,
    horizon: Horizon,
    window: AccuracyWindow,
    backfilled: bool,
    now: i64,
) -> Result<AccuracyStats, DbErr> {
    let sums = db::predictions::scored_sums(
        db,
        coin,
        horizon,
        backfilled,
        now.saturating_sub(window.seconds()),
        None,
    )
    .await?;
    Ok(stats(window.as_str(), &sums))
}

/// Every coin's live and backfilled accuracy over every window for some horizons at `now`, read
/// with one grouped statement per horizon, window and kind ([`db::predictions::scored_sums_by_coin`]):
/// 36 statements for the six horizons whatever the number of coins, where reading it model by model
/// took ten a model (600 for 60 models). What one rebuild of the published state reads.
#[derive(Debug, Default)]
pub struct AccuracyTable(HashMap<(Coin, Horizon, AccuracyWindow, bool), AccuracyStats>);

impl AccuracyTable {
    /// The figures of every coin of `horizons` at `now`.
    pub async fn read(
        db: &impl ConnectionTrait,
        horizons: impl IntoIterator<Item = Horizon>,
        now: i64,
    ) -> Result<Self, DbErr> {
        let horizons: BTreeSet<Horizon> = horizons.into_iter().collect();
        let mut out = HashMap::new();
        for horizon in horizons {
            for window in WINDOWS {
                for backfilled in [false, true] {
                    let since = now.saturating_sub(window.seconds());
                    for (coin, sums) in
                        db::predictions::scored_sums_by_coin(db, horizon, backfilled, since).await?
                    {
                        out.insert((coin, horizon, window, backfilled), stats(window.as_str(), &sums));
                    }
                }
            }
        }
        Ok(AccuracyTable(out))
    }

    /// A coin and horizon's figures over `window` (live, or backfilled), as [`accuracy`] gives
    /// them: nothing scored gives the empty figures.
    pub fn get(
        &self,
        coin: Coin,
        horizon: Horizon,
        window: AccuracyWindow,
        backfilled: bool,
    ) -> AccuracyStats {
        self.0
            .get(&(coin, horizon, window, backfilled))
            .cloned()
            .unwrap_or_else(|| stats(window.as_str(), &ScoredSums::default()))
    }
}

/// Live accuracy of one model version (its scored live predictions in the trailing window): each
/// version keeps its own record, so a promotion never mixes the old model's rows into the new one's.
pub async fn accuracy_of_model(
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
        brier: some.then(|| s.squared_error / n_f),
        baseline_accuracy: some.then(|| up.max(n - up) as f64 / n_f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::DAY_S;

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
}
