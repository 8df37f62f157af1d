//! Pure view logic, kept out of components so it is unit-tested natively, by subject:
//! `numbers` (prices, percentages, times), `geometry` (chart geometry: ticks, frames, paths),
//! `trading` (signals and trading figures), `cards` (model cards, sources, history); here, the
//! coin routing and the other coins' table. Everything is re-exported: callers say `format::x`.

use chrono::{DateTime, Utc};
use shared::{
    AccuracyStats, BaselineRule, Coin, CoinsResponse, Direction, GateDecision, GateDecisionInfo, Horizon,
    ModelOrigin, ModelPerformance, ModelVersion, Outcome, Prediction, RetrainStatus, Signal, Skill,
    StrategyFigures, StrategyResult,
};

mod cards;
mod geometry;
mod numbers;
mod trading;

pub use cards::*;
pub use geometry::*;
pub use numbers::*;
pub use trading::*;

/// The coin a client path names (`/Litecoin`, `/bitcoin-cash`, `/LTC/...`), if the server
/// serves it; until the server has listed its coins (`served` is `None`), a coin coincast knows.
pub fn coin_from_path(path: &str, served: Option<&CoinsResponse>) -> Option<Coin> {
    let segment = path.trim_start_matches('/').split('/').next()?;
    match served {
        Some(served) => served.find(segment).map(|c| c.coin),
        None => segment.parse::<Coin>().ok().filter(|c| c.known_info().is_some()),
    }
}

/// What the other coins' table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSort {
    Name,
    Price,
    Change,
}

/// Sorts the other coins' rows (`(name, price, 24 h change)`) by `key`, ascending or not; a coin
/// without a 24 h change sorts last either way, and ties keep the name order.
pub fn sort_prices<T>(rows: &mut [(String, f64, Option<f64>, T)], key: PriceSort, ascending: bool) {
    rows.sort_by_key(|r| r.0.to_lowercase());
    let order = |o: std::cmp::Ordering| if ascending { o } else { o.reverse() };
    match key {
        PriceSort::Name => {
            if !ascending {
                rows.reverse();
            }
        }
        PriceSort::Price => rows.sort_by(|a, b| order(a.1.total_cmp(&b.1))),
        PriceSort::Change => rows.sort_by(|a, b| match (a.2, b.2) {
            (Some(x), Some(y)) => order(x.total_cmp(&y)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }),
    }
}

/// How many served coins the header shows as buttons; more get a menu (a phone has room for
/// about five).
pub const COIN_BUTTONS_MAX: usize = 5;

#[cfg(test)]
mod tests;
