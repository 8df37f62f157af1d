//! Prediction: the served models (`registry`), features from stored data (`features`), the tick
//! and the start-up backfill (`tick`), scoring once a horizon has passed (`score`), live
//! accuracy (`accuracy`), and retraining behind the champion/challenger gate (`retrain`).
//!
//! Times: a prediction made at `t` (a multiple of the base bar: a minute live, the replay's bar
//! when replaying) uses every base candle that closed by `t`; its reference price is the close of
//! the base bar `[t - base, t)`. Its target is `t + h`, judged on the close of the base bar
//! `[t + h - base, t + h)`: UP is right when that close is above the reference. This is exactly
//! how the training labels were made.

pub mod accuracy;
pub mod features;
pub mod history;
pub mod minutes;
pub mod registry;
pub mod retrain;
pub mod score;
pub mod tick;

use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::predict::minutes::MinuteCache;
use crate::predict::registry::Registry;

/// What one scheduled prediction run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TickReport {
    pub made: usize,
    pub skipped: usize,
    pub scored: usize,
    pub unscorable: usize,
}

/// The scheduled run: predicts what is due at minute `t` on base bars of `base_s`
/// (`collect::base_s`), then scores what has come due by `now`. A skipped prediction (stale data, a gap, a missing series) is recorded with its reason
/// and is not a failure.
pub async fn run(
    db: &(impl ConnectionTrait + TransactionTrait<Transaction = sea_orm::DatabaseTransaction>),
    registry: &Registry,
    kept: &MinuteCache,
    base_s: i64,
    t: i64,
    now: i64,
) -> anyhow::Result<TickReport> {
    let outcome = tick::tick(db, registry, kept, base_s, t, now).await?;
    let (scored, unscorable) = score::score_due(db, base_s, now).await?;
    Ok(TickReport {
        made: outcome.made,
        skipped: outcome.skipped.len(),
        scored,
        unscorable,
    })
}

/// Whether a model's predictions in this process are out of sample: always on live data; on a
/// replay, only when the recording lies wholly outside the model's training span. A model
/// retrained on this installation's database learnt from replayed minutes, and the replay
/// repeats its recording: its live figures may be on rows it trained on, so they are not.
pub fn out_of_sample(
    card: &models::card::ModelCard,
    replay: Option<&crate::collect::replay::Replay>,
) -> bool {
    let Some(replay) = replay else {
        return true;
    };
    if card.training.learnt_from_database() {
        return false;
    }
    let info = replay.info(0);
    let parse = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.timestamp())
    };
    match (parse(&card.training.from), parse(&card.training.to)) {
        (Some(from), Some(to)) => info.recorded_to.timestamp() < from || info.recorded_from.timestamp() > to,
        _ => false,
    }
}
