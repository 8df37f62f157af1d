//! coincast's machine-learning crate.
//!
//! It will hold the one feature pipeline used by both training and the server at prediction time,
//! the labels, walk-forward evaluation, ONNX export and tract inference. Trained artefacts (ONNX
//! files and their JSON model cards) live in `models/artifacts/`.
//!
//! Modules: reading history files (`history`), the one bar builder and gap rule (`bars`), the feature pipeline and labels (`features`),
//! walk-forward splits with purge and embargo (`walkforward`), honest metrics next to the
//! majority, momentum and reversal baselines (`metrics`), trading the signals after fees
//! (`strategy`), the champion/challenger gate (`gate`), training (`nn` and `gbm`, one `fitted` model of either kind, calibrated by `calibration`, `train`), ONNX export and tract inference (`onnx`), model cards
//! (`card`) and the report (`report`).

pub mod bars;
pub mod calibration;
pub mod card;
pub mod confidence;
pub mod features;
pub mod fills;
pub mod fitted;
pub mod gate;
pub mod gbm;
pub mod history;
pub mod metrics;
pub mod nn;
pub mod onnx;
pub mod report;
pub mod series;
pub mod stats;
pub mod strategy;
pub mod train;
pub mod walkforward;

use shared::Horizon;

/// The direction label of one sample: `Some(true)` (UP) when the close `horizon` later is strictly
/// above the close at prediction time, `Some(false)` (DOWN) otherwise, and `None` when either price
/// is missing or not a positive finite number (such a sample is dropped, never guessed).
pub fn label_up(close_now: f64, close_later: f64) -> Option<bool> {
    let valid = |p: f64| p.is_finite() && p > 0.0;
    (valid(close_now) && valid(close_later)).then_some(close_later > close_now)
}

/// The number of bars of `bar_seconds` that a horizon spans, or `None` when the horizon is not a
/// whole number of bars (a 30-minute horizon cannot be labelled from hourly bars).
pub fn horizon_bars(horizon: Horizon, bar_seconds: i64) -> Option<usize> {
    let horizon_s = horizon.seconds();
    (bar_seconds > 0 && horizon_s % bar_seconds == 0).then(|| (horizon_s / bar_seconds) as usize)
}

/// Whether a probability of UP calls the direction UP: the one rule for the shown direction, the
/// stored `correct`, live accuracy, the metrics and the strategy's signals. Defined in `shared` (the
/// web app draws directions too) and re-exported here: UP only when `p_up > 0.5`; a tie (0.5)
/// says DOWN, the side the label gives an unchanged price.
pub use shared::{UP_ABOVE, predicts_up};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_only_when_strictly_higher() {
        assert_eq!(label_up(100.0, 100.5), Some(true));
        assert_eq!(
            label_up(100.0, 100.0),
            Some(false),
            "an unchanged price is not UP"
        );
        assert_eq!(label_up(100.0, 99.0), Some(false));
    }

    #[test]
    fn missing_prices_give_no_label() {
        assert_eq!(label_up(f64::NAN, 1.0), None);
        assert_eq!(label_up(1.0, 0.0), None);
        assert_eq!(label_up(-1.0, 2.0), None);
    }

    #[test]
    fn a_tie_says_down_like_an_unchanged_price() {
        assert!(predicts_up(0.500_001));
        assert!(!predicts_up(0.5), "a tie says DOWN");
        assert!(!predicts_up(0.499));
        assert!(!predicts_up(f64::NAN));
        assert_eq!(label_up(100.0, 100.0), Some(predicts_up(0.5)));
        assert_eq!(
            shared::Direction::from_p_up(0.5),
            shared::Direction::Down,
            "the shown direction follows the same rule"
        );
    }

    #[test]
    fn horizon_bars_needs_whole_bars() {
        assert_eq!(horizon_bars(Horizon::M30, 300), Some(6));
        assert_eq!(horizon_bars(Horizon::H12, 3600), Some(12));
        assert_eq!(horizon_bars(Horizon::M30, 3600), None);
        assert_eq!(horizon_bars(Horizon::H1, 0), None);
    }
}
