//! How good are predictions, honestly: accuracy with its interval next to the baselines on the
//! same rows (the majority class, and where the last bar is known the momentum rule and its
//! reversal), each fixed before the test, with paired, overlap-aware p-values against them
//! (`stats::paired_hac`), Brier score, log loss, and accuracy on the most confident predictions.

use serde::{Deserialize, Serialize};

use crate::predicts_up;
use crate::stats::{effective_n, paired_hac};

/// A 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Scores of probabilistic UP/DOWN predictions against outcomes (as stored in model cards).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub n: usize,
    pub hits: usize,
    pub accuracy: f64,
    /// The mean of the recall on UP and on DOWN rows (0.5 for always saying one side).
    pub balanced_accuracy: f64,
    pub brier: f64,
    pub log_loss: f64,
    /// The 95% Wilson interval of the accuracy, over `n_effective` outcomes (over `n` in cards
    /// written before it was recorded).
    pub wilson_low: f64,
    pub wilson_high: f64,
    /// The accuracy of always predicting the majority class fixed before the test (see
    /// `baselines`; the majority of these same rows in cards written before it).
    pub baseline_accuracy: f64,
    /// The paired, overlap-aware one-sided p-value of the model's per-row hits against the
    /// majority class's (Newey-West over `lags` lags): small means better than the baseline beyond
    /// chance. In cards written before `lags` was recorded, the binomial value.
    pub p_value: f64,
    /// The naive binomial p-value, `P(at least hits | each hit at the baseline's rate)`: it takes
    /// overlapping rows as independent and overstates the evidence. Shown for comparison only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value_binomial: Option<f64>,
    /// The effective sample size of the model's hits: how many independent rows would give the
    /// accuracy the same precision (`stats::effective_n`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_effective: Option<f64>,
    /// The lags of every HAC variance here (`stats::hac_lags`: twice the horizon in rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lags: Option<usize>,
    /// The simple rules as fixed before these rows were scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baselines: Option<FixedBaselines>,
    /// The accuracy of the momentum rule on these rows: UP when the last closed bar rose (close
    /// above the previous close), DOWN otherwise. Absent when the rows carry no last bar (and in
    /// cards written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momentum_accuracy: Option<f64>,
    /// The accuracy of the reversal rule, the opposite of momentum (`1 - momentum_accuracy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversal_accuracy: Option<f64>,
    /// The strongest of the majority class, momentum and reversal (fixed before the test), its
    /// accuracy on these rows, and the model's p-value against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strongest_baseline: Option<StrongestBaseline>,
}

/// A rule that uses no model, scored on the same rows as the model (the wire type: the API names
/// the strongest one).
pub use shared::BaselineRule as Baseline;

/// Where the simple rules were fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChosenOn {
    /// On the selection folds, before any scored row: the honest comparison.
    SelectionFolds,
    /// On the scored rows themselves, in hindsight (a card that recorded none): generous to the
    /// rules, so conservative for the model.
    ScoredRows,
}

impl ChosenOn {
    pub fn as_str(self) -> &'static str {
        match self {
            ChosenOn::SelectionFolds => "selection folds",
            ChosenOn::ScoredRows => "the scored rows (hindsight)",
        }
    }
}

/// The majority class and the strongest simple rule, fixed before the scored rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedBaselines {
    /// The majority class: UP (true) or DOWN.
    pub majority_up: bool,
    /// The most accurate of majority, momentum and reversal where they were chosen (the majority
    /// class on a tie, then momentum).
    pub strongest: Baseline,
    pub chosen_on: ChosenOn,
}

impl FixedBaselines {
    /// Chooses on rows with outcomes `up` whose last bar rose where `last_up` says (`None` when
    /// empty or the lengths differ).
    pub fn choose(up: &[bool], last_up: &[bool], chosen_on: ChosenOn) -> Option<FixedBaselines> {
        if up.is_empty() || up.len() != last_up.len() {
            return None;
        }
        let ups = up.iter().filter(|&&u| u).count();
        let majority_up = 2 * ups >= up.len();
        let n = up.len();
        let majority_hits = if majority_up { ups } else { n - ups };
        let momentum_hits = up.iter().zip(last_up).filter(|(y, l)| y == l).count();
        let mut strongest = (Baseline::Majority, majority_hits);
        for candidate in [
            (Baseline::Momentum, momentum_hits),
            (Baseline::Reversal, n - momentum_hits),
        ] {
            if candidate.1 > strongest.1 {
                strongest = candidate;
            }
        }
        Some(FixedBaselines {
            majority_up,
            strongest: strongest.0,
            chosen_on,
        })
    }

    /// The majority class of `up` alone (no last bar: the strongest rule is the majority class).
    pub fn majority_of(up: &[bool], chosen_on: ChosenOn) -> Option<FixedBaselines> {
        let ups = up.iter().filter(|&&u| u).count();
        (!up.is_empty()).then_some(FixedBaselines {
            majority_up: 2 * ups >= up.len(),
            strongest: Baseline::Majority,
            chosen_on,
        })
    }

    /// A rule's call on a row whose last bar rose (`last_up`): UP is true.
    pub fn call(&self, rule: Baseline, last_up: bool) -> bool {
        match rule {
            Baseline::Majority => self.majority_up,
            Baseline::Momentum => last_up,
            Baseline::Reversal => !last_up,
        }
    }
}

/// The strongest baseline on a set of rows and whether the model beats it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StrongestBaseline {
    pub name: Baseline,
    pub accuracy: f64,
    /// The paired, overlap-aware one-sided p-value of the model's per-row hits against this
    /// rule's on the same rows (Newey-West; `Metrics::lags`): small means the model beats it
    /// beyond chance. Uncorrected for the other models compared (see `stats::holm`). In cards
    /// written before `p_value_binomial`, the binomial value.
    pub p_value: f64,
    /// The naive binomial value at the rule's rate (rows taken as independent, the rule's rate
    /// as known), for comparison only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value_binomial: Option<f64>,
    /// The effective sample size of the per-row hit differences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_effective: Option<f64>,
}

impl StrongestBaseline {
    /// Whether the model beats this baseline at the 5% level (one-sided, uncorrected: a table of
    /// several models corrects with `stats::holm`).
    pub fn beaten(&self) -> bool {
        self.p_value < 0.05
    }
}

/// The per-row hits (1 or 0) of calls `said_up` against `up`.
fn hits_of(up: &[bool], said_up: impl Iterator<Item = bool>) -> Vec<f64> {
    up.iter()
        .zip(said_up)
        .map(|(&y, s)| f64::from(u8::from(s == y)))
        .collect()
}

impl Metrics {
    /// Scores `p_up` (probabilities of UP) against `up` (what happened) as if the rows were
    /// independent (`lags` 0) next to the majority class of these same rows: for the selection
    /// folds' log loss and the shuffled-split contrast, never for a figure shown as evidence
    /// (see [`Metrics::evaluate`]). `None` when empty or the lengths differ.
    pub fn compute(up: &[bool], p_up: &[f64]) -> Option<Metrics> {
        Metrics::evaluate(
            up,
            p_up,
            None,
            FixedBaselines::majority_of(up, ChosenOn::ScoredRows)?,
            0,
        )
    }

    /// Scores `p_up` against `up` next to the simple rules `fixed` before the test: the majority
    /// class, and with `last_up` (whether each row's last closed bar rose) momentum, reversal and
    /// the strongest of the three. Every p-value is the paired test of the model's per-row hits
    /// against a rule's with a Newey-West variance over `lags` lags (`stats::hac_lags`), and the
    /// interval is Wilson's over the effective sample size. `None` when empty or the lengths
    /// differ.
    pub fn evaluate(
        up: &[bool],
        p_up: &[f64],
        last_up: Option<&[bool]>,
        fixed: FixedBaselines,
        lags: usize,
    ) -> Option<Metrics> {
        if up.is_empty() || up.len() != p_up.len() || last_up.is_some_and(|l| l.len() != up.len()) {
            return None;
        }
        let n = up.len();
        let mut hits = 0;
        let (mut tp, mut pos, mut tn) = (0usize, 0usize, 0usize);
        let (mut brier, mut log_loss) = (0.0, 0.0);
        for (&y, &p) in up.iter().zip(p_up) {
            let p = p.clamp(1e-7, 1.0 - 1e-7);
            let said_up = predicts_up(p);
            if said_up == y {
                hits += 1;
            }
            if y {
                pos += 1;
                tp += usize::from(said_up);
            } else {
                tn += usize::from(!said_up);
            }
            let t = if y { 1.0 } else { 0.0 };
            brier += (p - t) * (p - t);
            log_loss -= if y { p.ln() } else { (1.0 - p).ln() };
        }
        let neg = n - pos;
        let recall = |k: usize, of: usize| if of == 0 { None } else { Some(k as f64 / of as f64) };
        let balanced_accuracy = match (recall(tp, pos), recall(tn, neg)) {
            (Some(a), Some(b)) => (a + b) / 2.0,
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => 0.0,
        };
        let model = hits_of(up, p_up.iter().map(|&p| predicts_up(p.clamp(1e-7, 1.0 - 1e-7))));
        let majority = hits_of(up, std::iter::repeat(fixed.majority_up));
        let rate = |h: &[f64]| h.iter().sum::<f64>() / n as f64;
        let baseline = rate(&majority);
        let accuracy = hits as f64 / n as f64;
        let n_effective = effective_n(&model, lags);
        let (wilson_low, wilson_high) = wilson_rate(accuracy, n_effective, Z95);
        let versus_majority = paired_hac(&model, &majority, lags)?;
        let mut m = Metrics {
            n,
            hits,
            accuracy,
            balanced_accuracy,
            brier: brier / n as f64,
            log_loss: log_loss / n as f64,
            wilson_low,
            wilson_high,
            baseline_accuracy: baseline,
            p_value: versus_majority.p_value,
            p_value_binomial: Some(binomial_sf(hits, n, baseline)),
            n_effective: Some(n_effective),
            lags: Some(lags),
            baselines: Some(fixed),
            momentum_accuracy: None,
            reversal_accuracy: None,
            strongest_baseline: None,
        };
        let Some(last_up) = last_up else {
            return Some(m);
        };
        let momentum_hits = up.iter().zip(last_up).filter(|(y, l)| y == l).count();
        m.momentum_accuracy = Some(momentum_hits as f64 / n as f64);
        m.reversal_accuracy = Some((n - momentum_hits) as f64 / n as f64);
        let rule = hits_of(up, last_up.iter().map(|&l| fixed.call(fixed.strongest, l)));
        let test = paired_hac(&model, &rule, lags)?;
        let rule_rate = rate(&rule);
        m.strongest_baseline = Some(StrongestBaseline {
            name: fixed.strongest,
            accuracy: rule_rate,
            p_value: test.p_value,
            p_value_binomial: Some(binomial_sf(hits, n, rule_rate)),
            n_effective: Some(test.n_effective),
        });
        Some(m)
    }
}

/// The Wilson score interval of `hits` out of `n` (`(0, 1)` for n = 0).
pub fn wilson(hits: usize, n: usize, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    wilson_rate(hits as f64 / n as f64, n as f64, z)
}

/// The Wilson score interval of a rate `p` seen over `n` outcomes, where `n` may be an effective
/// sample size (fewer than the rows when the rows overlap); `(0, 1)` for n <= 0.
pub fn wilson_rate(p: f64, n: f64, z: f64) -> (f64, f64) {
    if n <= 0.0 || !p.is_finite() {
        return (0.0, 1.0);
    }
    let n_f = n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n_f)) / (1.0 + z2 / n_f);
    let half = z * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt() / (1.0 + z2 / n_f);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// P(X >= k) for X ~ Binomial(n, p), summed exactly in log space.
pub fn binomial_sf(k: usize, n: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let ln_choose =
        |i: usize| ln_gamma(n as f64 + 1.0) - ln_gamma(i as f64 + 1.0) - ln_gamma((n - i) as f64 + 1.0);
    let terms: Vec<f64> = (k..=n)
        .map(|i| ln_choose(i) + i as f64 * lp + (n - i) as f64 * lq)
        .collect();
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = terms.iter().map(|t| (t - max).exp()).sum();
    (max + sum.ln()).exp().min(1.0)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7; about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let a = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// One point of the accuracy-vs-coverage curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AtCoverage {
    pub accuracy: f64,
    /// Rows kept.
    pub n: usize,
    /// The |p - 0.5| of the least confident row kept: the threshold that gives this coverage.
    pub min_confidence: f64,
}

/// Accuracy on the `coverage` share (0..=1) of rows where the model was most confident
/// (largest |p - 0.5|), with the number of rows used and the confidence threshold.
pub fn accuracy_at_coverage(up: &[bool], p_up: &[f64], coverage: f64) -> Option<AtCoverage> {
    if up.is_empty() || up.len() != p_up.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..up.len()).collect();
    order.sort_by(|&a, &b| (p_up[b] - 0.5).abs().total_cmp(&(p_up[a] - 0.5).abs()));
    let take = ((up.len() as f64 * coverage.clamp(0.0, 1.0)).round() as usize).max(1);
    let hits = order[..take]
        .iter()
        .filter(|&&i| predicts_up(p_up[i]) == up[i])
        .count();
    let min_confidence = order[..take].last().map_or(0.0, |&i| (p_up[i] - 0.5).abs());
    Some(AtCoverage {
        accuracy: hits as f64 / take as f64,
        n: take,
        min_confidence,
    })
}

/// The mean log loss of `p` (P(UP), clamped to `[1e-7, 1 - 1e-7]` as [`Metrics`] does) against
/// what happened; NaN for no rows.
pub fn log_loss_of(p: &[f64], up: &[bool]) -> f64 {
    let n = p.len().min(up.len());
    let total: f64 = p
        .iter()
        .zip(up)
        .map(|(&p, &y)| {
            let p = p.clamp(1e-7, 1.0 - 1e-7);
            -if y { p.ln() } else { (1.0 - p).ln() }
        })
        .sum();
    total / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_a_hand_computed_interval() {
        // 60 of 100: p = 0.6, z = 1.96 -> [0.5020, 0.6906] (standard tables).
        let (lo, hi) = wilson(60, 100, Z95);
        assert!((lo - 0.502_0).abs() < 5e-4, "{lo}");
        assert!((hi - 0.690_6).abs() < 5e-4, "{hi}");
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
        let (lo, hi) = wilson(10, 10, Z95);
        // All hits: the lower bound is n / (n + z^2).
        assert!((hi - 1.0).abs() < 1e-12, "{hi}");
        assert!((lo - 10.0 / (10.0 + Z95 * Z95)).abs() < 1e-12, "{lo}");
    }

    #[test]
    fn binomial_tail_is_exact_on_small_cases() {
        // P(X >= 2 | n = 3, p = 0.5) = 4/8.
        assert!((binomial_sf(2, 3, 0.5) - 0.5).abs() < 1e-12);
        // P(X >= 3 | n = 3, p = 0.25) = 1/64.
        assert!((binomial_sf(3, 3, 0.25) - 1.0 / 64.0).abs() < 1e-12);
        assert_eq!(binomial_sf(0, 5, 0.3), 1.0);
        // 5600 of 10000 against 0.5 is far beyond chance; 5050 is not.
        assert!(binomial_sf(5600, 10_000, 0.5) < 1e-20);
        assert!(binomial_sf(5050, 10_000, 0.5) > 0.1);
    }

    #[test]
    fn metrics_of_a_small_example() {
        let up = [true, true, false, true];
        let p = [0.9, 0.4, 0.2, 0.6];
        let m = Metrics::compute(&up, &p).unwrap();
        assert_eq!((m.n, m.hits), (4, 3));
        assert_eq!(m.accuracy, 0.75);
        assert_eq!(m.baseline_accuracy, 0.75, "3 of 4 went UP");
        assert!((m.balanced_accuracy - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
        let brier = (0.01 + 0.36 + 0.04 + 0.16) / 4.0;
        assert!((m.brier - brier).abs() < 1e-12);
        let ll = -(0.9f64.ln() + 0.4f64.ln() + 0.8f64.ln() + 0.6f64.ln()) / 4.0;
        assert!((m.log_loss - ll).abs() < 1e-12);
        assert!(Metrics::compute(&[], &[]).is_none());
        assert!(Metrics::compute(&[true], &[0.5, 0.5]).is_none());
    }

    #[test]
    fn a_tie_is_a_down_call_in_the_metrics() {
        let m = Metrics::compute(&[false, true], &[0.5, 0.5]).unwrap();
        assert_eq!(m.hits, 1, "0.5 says DOWN: right on the DOWN row only");
    }

    /// A hand-made series of closes; each row predicts the next bar.
    #[test]
    fn momentum_and_reversal_on_a_hand_made_series() {
        let closes = [100.0, 101.0, 102.0, 101.0, 100.0, 101.0, 102.0, 103.0, 102.0];
        // Row i (i = 1..=7): the last bar rose when closes[i] > closes[i - 1]; UP when
        // closes[i + 1] > closes[i].
        let rows: Vec<(bool, bool)> = (1..closes.len() - 1)
            .map(|i| (closes[i] > closes[i - 1], closes[i + 1] > closes[i]))
            .collect();
        let last_up: Vec<bool> = rows.iter().map(|r| r.0).collect();
        let up: Vec<bool> = rows.iter().map(|r| r.1).collect();
        // last rose: T T F F T T T; went up: T F F T T T F -> momentum right on rows 0, 2, 4, 5.
        assert_eq!(last_up, [true, true, false, false, true, true, true]);
        assert_eq!(up, [true, false, false, true, true, true, false]);
        // A model that always says DOWN: 3 of 7. The rules fixed on these same rows.
        let p = vec![0.2; up.len()];
        let fixed = FixedBaselines::choose(&up, &last_up, ChosenOn::ScoredRows).unwrap();
        assert_eq!(
            (fixed.majority_up, fixed.strongest),
            (true, Baseline::Majority),
            "4 of 7 went UP; a tie goes to the majority class"
        );
        let m = Metrics::evaluate(&up, &p, Some(&last_up), fixed, 0).unwrap();
        assert_eq!(m.hits, 3);
        assert_eq!(m.baseline_accuracy, 4.0 / 7.0, "4 of 7 went UP");
        assert_eq!(m.momentum_accuracy, Some(4.0 / 7.0));
        assert_eq!(m.reversal_accuracy, Some(3.0 / 7.0));
        let s = m.strongest_baseline.unwrap();
        assert_eq!(s.name, Baseline::Majority);
        assert_eq!(s.accuracy, 4.0 / 7.0);
        assert_eq!(s.p_value_binomial, Some(binomial_sf(3, 7, 4.0 / 7.0)));
        // The paired test: the model is right exactly where the majority class is wrong, so
        // d = -1 on 4 rows and +1 on 3: mean -1/7, far from beating it.
        assert!(s.p_value > 0.5, "{s:?}");
        // Against a series that keeps reversing, reversal is strongest and the model that
        // learned it is not better than the rule: no difference at all, p = 1.
        let up = [true, false, true, false, true, false];
        let last_up = [false, true, false, true, false, true];
        let p = [0.9, 0.1, 0.9, 0.1, 0.9, 0.1];
        let fixed = FixedBaselines::choose(&up, &last_up, ChosenOn::ScoredRows).unwrap();
        let m = Metrics::evaluate(&up, &p, Some(&last_up), fixed, 2).unwrap();
        assert_eq!(
            (m.accuracy, m.momentum_accuracy, m.reversal_accuracy),
            (1.0, Some(0.0), Some(1.0))
        );
        let s = m.strongest_baseline.unwrap();
        assert_eq!((s.name, s.accuracy, s.p_value), (Baseline::Reversal, 1.0, 1.0));
        assert!(!s.beaten());
        assert!(Metrics::evaluate(&up, &p, Some(&last_up[1..]), fixed, 0).is_none());
    }

    /// The rules are fixed where they were chosen: scored later, a rule chosen on earlier rows
    /// keeps its call even where the later rows' own majority differs.
    #[test]
    fn baselines_fixed_before_the_test_keep_their_call() {
        let earlier_up = [true, true, true, false];
        let earlier_last = [true, true, false, false];
        let fixed = FixedBaselines::choose(&earlier_up, &earlier_last, ChosenOn::SelectionFolds).unwrap();
        // Earlier: UP 3 of 4 (majority 75%), momentum right on 3 of 4 (75%): the tie goes to
        // the majority class.
        assert_eq!(
            fixed,
            FixedBaselines {
                majority_up: true,
                strongest: Baseline::Majority,
                chosen_on: ChosenOn::SelectionFolds
            }
        );
        // Later rows go DOWN 3 of 4: the fixed majority (UP) is right once, not three times.
        let up = [false, false, true, false];
        let last_up = [false, true, true, true];
        let m = Metrics::evaluate(&up, &[0.3, 0.3, 0.3, 0.3], Some(&last_up), fixed, 0).unwrap();
        assert_eq!(m.baseline_accuracy, 0.25);
        assert_eq!(m.strongest_baseline.unwrap().accuracy, 0.25);
        assert_eq!(m.baselines.unwrap().chosen_on, ChosenOn::SelectionFolds);
    }

    /// Overlapping rows: the same hits are weaker evidence, and the interval uses the effective
    /// sample size.
    #[test]
    fn overlap_widens_the_interval_and_weakens_the_p_value() {
        // Outcomes in runs of 12 (one 12-row horizon), the model right on 7 of every 12 runs
        // more often than the majority class.
        let mut up = Vec::new();
        let mut p = Vec::new();
        let mut state = 17u64;
        let mut coin = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % 100
        };
        for _ in 0..200 {
            let y = coin() < 48;
            let right = coin() < 56;
            for _ in 0..12 {
                up.push(y);
                p.push(if right == y { 0.6 } else { 0.4 });
            }
        }
        let fixed = FixedBaselines::majority_of(&up, ChosenOn::ScoredRows).unwrap();
        let naive = Metrics::evaluate(&up, &p, None, fixed, 0).unwrap();
        let honest = Metrics::evaluate(&up, &p, None, fixed, crate::stats::hac_lags(12, 1)).unwrap();
        assert_eq!(
            (naive.n_effective, naive.accuracy),
            (Some(2400.0), honest.accuracy)
        );
        let n_eff = honest.n_effective.unwrap();
        assert!(n_eff < 2400.0 / 5.0, "{n_eff}");
        assert!(honest.wilson_high - honest.wilson_low > 2.0 * (naive.wilson_high - naive.wilson_low));
        assert!(
            honest.p_value > naive.p_value,
            "{} vs {}",
            honest.p_value,
            naive.p_value
        );
    }

    #[test]
    fn cards_written_before_the_baselines_still_parse() {
        let old = r#"{"n":4,"hits":3,"accuracy":0.75,"balanced_accuracy":0.8,"brier":0.1,
            "log_loss":0.5,"wilson_low":0.3,"wilson_high":0.95,"baseline_accuracy":0.75,"p_value":0.7}"#;
        let m: Metrics = serde_json::from_str(old).unwrap();
        assert_eq!((m.momentum_accuracy, m.strongest_baseline), (None, None));
    }

    #[test]
    fn confident_predictions_are_scored_apart() {
        let up = [true, false, true, false];
        let p = [0.95, 0.9, 0.55, 0.45];
        // The most confident half: 0.95 (right) and 0.9 (wrong).
        let half = accuracy_at_coverage(&up, &p, 0.5).unwrap();
        assert_eq!((half.accuracy, half.n), (0.5, 2));
        let all = accuracy_at_coverage(&up, &p, 1.0).unwrap();
        assert_eq!((all.accuracy, all.n), (0.75, 4));
        // The threshold is the confidence of the least confident row kept.
        let mut conf: Vec<f64> = p.iter().map(|q| (q - 0.5).abs()).collect();
        conf.sort_by(|a, b| b.total_cmp(a));
        assert_eq!(half.min_confidence, conf[1]);
        assert_eq!(all.min_confidence, conf[3]);
    }
}
