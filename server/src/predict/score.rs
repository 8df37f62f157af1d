//! Scoring: once a prediction's horizon has passed, the realized close decides whether its
//! direction was right. Set-based: a tick scores everything due in a few statements, whatever
//! the number of pending rows.

use sea_orm::{ConnectionTrait, DbErr};

use crate::clock::HOUR_S;
use crate::db;

/// A prediction whose target minute has no price this long after the target is unscorable.
pub const SCORE_GIVE_UP_S: i64 = HOUR_S;

/// Scores every pending prediction whose target minute has closed by `now`: the realized close,
/// return and whether the direction was right (`models::predicts_up`: a tie counts as UP;
/// `models::label_up`: UP only when strictly higher), or `unscorable` when the stored price is not
/// a valid one; and gives up (unscorable) on those whose target has had no price for an hour.
/// Returns how many had a price (scored or unscorable) and how many were given up.
pub async fn score_due(db: &impl ConnectionTrait, now: i64) -> Result<(usize, usize), DbErr> {
    let scored = db::predictions::score_with_prices(db, now).await?;
    let gave_up = db::predictions::give_up(db, now, now - SCORE_GIVE_UP_S).await?;
    if scored + gave_up > 0 {
        db::events::record_scores(db, now).await?;
    }
    Ok((scored, gave_up))
}
