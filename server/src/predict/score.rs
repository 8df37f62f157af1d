//! Scoring: once a prediction's horizon has passed, the realized close decides whether its
//! direction was right. Set-based: a tick scores everything due in a few statements, whatever
//! the number of pending rows.

use sea_orm::{DbErr, TransactionTrait};

use crate::clock::HOUR_S;
use crate::db;

/// A prediction whose target minute has no price this long after the target is unscorable.
pub const SCORE_GIVE_UP_S: i64 = HOUR_S;

/// Scores every pending prediction whose target has passed by `now`, on the close of the base
/// bar (`base_s`, see `collect::base_s`) that ends at its target: the realized close,
/// return and whether the direction was right (`models::predicts_up`: a tie counts as DOWN;
/// `models::label_up`: UP only when strictly higher), or `unscorable` when the stored price is not
/// a valid one; and gives up (unscorable) on those whose target has had no price for an hour.
/// Returns how many had a price (scored or unscorable) and how many were given up. One
/// transaction, serialized with the other writers of predictions (`db::serialized`), its rows
/// stamped after every earlier score (`db::predictions::score_stamp`); the live ones get their
/// `score` event (`db::events`) in the same transaction.
pub async fn score_due(
    db: &impl TransactionTrait<Transaction = sea_orm::DatabaseTransaction>,
    base_s: i64,
    now: i64,
) -> Result<(usize, usize), DbErr> {
    db::serialized(db, move |txn| {
        Box::pin(async move {
            let stamp = db::predictions::score_stamp(txn, now).await?;
            let scored = db::predictions::score_with_prices(txn, base_s, now, stamp).await?;
            let gave_up = db::predictions::give_up(txn, base_s, stamp, now - SCORE_GIVE_UP_S).await?;
            if scored + gave_up > 0 {
                db::events::record_scores(txn, stamp).await?;
            }
            Ok((scored, gave_up))
        })
    })
    .await
}
