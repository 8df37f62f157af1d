//! Scoring: once a prediction's horizon has passed, the realized close decides whether its
//! direction was right.

use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr};
use shared::Coin;

use crate::clock::{HOUR_S, MINUTE_S};
use crate::db;
use crate::db::entities::prediction::{self, Outcome};

/// A prediction whose target minute has no price this long after the target is unscorable.
pub const SCORE_GIVE_UP_S: i64 = HOUR_S;

/// Scores every pending prediction whose target minute has passed: the realized close, return and
/// whether the direction was right; `unscorable` when no price arrived within an hour of the
/// target. Returns how many were scored and given up.
pub async fn score_due(db: &impl ConnectionTrait, now: i64) -> Result<(usize, usize), DbErr> {
    let pending = db::predictions::pending_due(db, now).await?;
    let (mut scored, mut gave_up) = (0, 0);
    for p in pending {
        let Ok(coin) = p.coin.parse::<Coin>() else {
            tracing::error!(id = p.id, coin = %p.coin, "unreadable prediction row: not scored");
            continue;
        };
        let target = p.target_at - MINUTE_S;
        let realized = db::candles::minute_in(db, coin, target - 1, target).await?;
        let mut row: prediction::ActiveModel = p.clone().into();
        match realized {
            Some(c) => {
                let up = models::label_up(p.reference_price, c.close);
                row.realized_price = Set(Some(c.close));
                row.realized_return = Set(Some((c.close - p.reference_price) / p.reference_price));
                row.correct = Set(up.map(|up| up == models::predicts_up(p.p_up)));
                row.outcome = Set(if up.is_some() {
                    Outcome::Scored
                } else {
                    Outcome::Unscorable
                });
                scored += 1;
            }
            None if now - p.target_at > SCORE_GIVE_UP_S => {
                row.outcome = Set(Outcome::Unscorable);
                gave_up += 1;
            }
            None => continue,
        }
        row.scored_at = Set(Some(now));
        db::predictions::set_outcome(db, row).await?;
    }
    Ok((scored, gave_up))
}
