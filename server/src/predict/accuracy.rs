//! Live accuracy: the scored live predictions of a coin and horizon over a trailing window, next
//! to the majority-class baseline of the same rows, with n and a Wilson interval.

use models::metrics::Metrics;
use sea_orm::{ConnectionTrait, DbErr};
use shared::{AccuracyStats, Coin, Horizon};

use crate::clock::DAY_S;
use crate::db;

/// Trailing windows of the accuracy figures.
pub const WINDOWS: [(&str, i64); 3] = [("24h", DAY_S), ("7d", 7 * DAY_S), ("30d", 30 * DAY_S)];
/// The window `/api/predictions` shows beside each prediction (7 days).
pub const PREDICTIONS_WINDOW: (&str, i64) = WINDOWS[1];

/// Accuracy of the scored predictions of a coin and horizon made in the trailing window.
pub async fn accuracy(
    db: &impl ConnectionTrait,
    coin: Coin,
    horizon: Horizon,
    window: (&str, i64),
    backfilled: bool,
    now: i64,
) -> Result<AccuracyStats, DbErr> {
    let rows = db::predictions::scored_since(db, coin, horizon, backfilled, now - window.1).await?;
    let (mut up, mut p) = (Vec::new(), Vec::new());
    for r in &rows {
        if let Some(realized) = r.realized_price {
            up.push(realized > r.reference_price);
            p.push(r.p_up);
        }
    }
    let m = Metrics::compute(&up, &p);
    Ok(AccuracyStats {
        window: window.0.to_owned(),
        n: up.len() as u32,
        hits: m.as_ref().map_or(0, |m| m.hits as u32),
        accuracy: m.as_ref().map(|m| m.accuracy),
        wilson_low: m.as_ref().map(|m| m.wilson_low),
        wilson_high: m.as_ref().map(|m| m.wilson_high),
        brier: m.as_ref().map(|m| m.brier),
        baseline_accuracy: m.as_ref().map(|m| m.baseline_accuracy),
    })
}
