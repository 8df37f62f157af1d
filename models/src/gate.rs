//! The champion/challenger gate: whether a newly trained model (the challenger) should replace the
//! running one (the champion).
//!
//! Both are scored on the same rows of a recent window that neither trained on. The test is
//! Diebold and Mariano's (1995) on the per-row log-loss difference `d = loss(champion) -
//! loss(challenger)`: `DM = mean(d) / sqrt(var_HAC(d) / n)`, where the long-run variance is
//! Newey and West's, with Bartlett weights over the lags at which two rows' horizons overlap
//! (rows every `step_s` whose outcomes span `horizon_s` share most of their label window, so
//! neighbouring differences are correlated and a plain variance would overstate the evidence).
//! Under the null of equal loss, DM is standard normal; the challenger is promoted only when DM
//! exceeds [`DM_CRITICAL`] (one-sided p < 0.05), that is, when its log loss is lower by more
//! than noise. Fewer than [`MIN_ROWS`] rows decide nothing: the champion stays.

use serde::{Deserialize, Serialize};

use crate::predicts_up;
use crate::stats::{newey_west_variance, normal_sf};

/// One-sided 5% critical value of the standard normal.
pub const DM_CRITICAL: f64 = 1.644_853_626_951_472_2;
/// The significance level the gate uses, as stated in every decision.
pub const ALPHA: f64 = shared::GATE_ALPHA;
/// Below this many common rows the gate keeps the champion.
pub const MIN_ROWS: usize = 200;

/// What the gate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The challenger replaces the champion.
    Promoted,
    /// The champion stays.
    Kept,
}

/// One model's figures on the gate's window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowScore {
    pub log_loss: f64,
    pub accuracy: f64,
}

/// Both models on the same rows, the test, and the decision with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    pub n: usize,
    pub champion: WindowScore,
    pub challenger: WindowScore,
    /// Mean of `loss(champion) - loss(challenger)` per row (positive: the challenger is better).
    pub mean_difference: f64,
    /// The Diebold-Mariano statistic (NaN-free: 0 when the variance is 0).
    pub dm_statistic: f64,
    /// One-sided p-value of the challenger being better by chance.
    pub p_value: f64,
    /// Newey-West lags used (the rows whose horizons overlap).
    pub lags: usize,
    pub decision: Decision,
    pub reason: String,
}

fn loss(y: bool, p: f64) -> f64 {
    let p = p.clamp(1e-7, 1.0 - 1e-7);
    if y { -p.ln() } else { -(1.0 - p).ln() }
}

fn accuracy(y: &[bool], p: &[f64]) -> f64 {
    let hits = y.iter().zip(p).filter(|(y, p)| predicts_up(**p) == **y).count();
    hits as f64 / y.len().max(1) as f64
}

/// The lags at which rows `step_s` apart have overlapping horizons.
pub fn overlap_lags(horizon_s: i64, step_s: i64) -> usize {
    let step = step_s.max(1);
    ((horizon_s + step - 1) / step).saturating_sub(1).max(0) as usize
}

/// Compares the champion's and the challenger's probabilities of UP on the same rows (`y` what
/// happened), rows `step_s` apart with outcomes `horizon_s` ahead.
pub fn compare(y: &[bool], champion: &[f64], challenger: &[f64], horizon_s: i64, step_s: i64) -> GateResult {
    let n = y.len().min(champion.len()).min(challenger.len());
    let (y, champion, challenger) = (&y[..n], &champion[..n], &challenger[..n]);
    let d: Vec<f64> = (0..n)
        .map(|i| loss(y[i], champion[i]) - loss(y[i], challenger[i]))
        .collect();
    let score = |p: &[f64]| WindowScore {
        log_loss: y.iter().zip(p).map(|(&y, &p)| loss(y, p)).sum::<f64>() / n.max(1) as f64,
        accuracy: accuracy(y, p),
    };
    let lags = overlap_lags(horizon_s, step_s).min(n / 4);
    let mean = d.iter().sum::<f64>() / n.max(1) as f64;
    let var = newey_west_variance(&d, lags);
    let dm = if var > 0.0 && n > 0 {
        mean / (var / n as f64).sqrt()
    } else {
        0.0
    };
    let p_value = normal_sf(dm);
    let (decision, reason) = if n < MIN_ROWS {
        (
            Decision::Kept,
            format!("only {n} rows in the window (at least {MIN_ROWS} needed): the champion stays"),
        )
    } else if dm > DM_CRITICAL {
        (
            Decision::Promoted,
            format!(
                "the challenger's log loss is lower by {mean:.5} per row (Diebold-Mariano {dm:.2} > {DM_CRITICAL:.3}, one-sided p = {p_value:.4} < {ALPHA})"
            ),
        )
    } else if mean > 0.0 {
        (
            Decision::Kept,
            format!(
                "the challenger's log loss is lower by {mean:.5} per row, but not by more than noise (Diebold-Mariano {dm:.2} <= {DM_CRITICAL:.3}, p = {p_value:.4})"
            ),
        )
    } else {
        (
            Decision::Kept,
            format!(
                "the challenger is not better: its log loss is higher by {:.5} per row (Diebold-Mariano {dm:.2}, p = {p_value:.4})",
                -mean
            ),
        )
    };
    GateResult {
        n,
        champion: score(champion),
        challenger: score(challenger),
        mean_difference: mean,
        dm_statistic: dm,
        p_value,
        lags,
        decision,
        reason,
    }
}

/// The shipping tie-break (`coincast train --gate-against` only, never the retrain job): when
/// the gate kept the champion only because it could not tell the two apart (enough rows, and the
/// challenger not significantly worse: DM > -[`DM_CRITICAL`]), and the champion is disqualified
/// for a reason stated before any scoring (`disqualified`: say, its training span covers the
/// replay a new user is shown, so its live figures there are in-sample), the challenger replaces
/// it and the reason says why. Returns whether it did.
pub fn break_tie(result: &mut GateResult, disqualified: &str) -> bool {
    let tie = result.decision == Decision::Kept && result.n >= MIN_ROWS && result.dm_statistic > -DM_CRITICAL;
    if tie {
        result.decision = Decision::Promoted;
        result.reason = format!(
            "{}; the gate cannot tell the two apart (Diebold-Mariano {:.2} > -{DM_CRITICAL:.3}: the challenger is not significantly worse) and {disqualified}, so the challenger replaces it",
            result.reason, result.dm_statistic
        );
    }
    tie
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed pseudo-random sequence in [0, 1).
    fn uniform(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (s >> 11) as f64 / (1u64 << 53) as f64
            })
            .collect()
    }

    #[test]
    fn the_normal_tail_and_the_variance_by_hand() {
        assert!((normal_sf(0.0) - 0.5).abs() < 1e-12);
        assert!((normal_sf(DM_CRITICAL) - 0.05).abs() < 1e-9);
        assert!((normal_sf(1.96) - 0.024_997_895).abs() < 1e-8);
        // d = 1, -1, 1, -1: gamma0 = 1, gamma1 = -3/4; one lag, weight 1/2: 1 - 3/4 = 1/4.
        let d = [1.0, -1.0, 1.0, -1.0];
        assert!((newey_west_variance(&d, 0) - 1.0).abs() < 1e-12);
        assert!((newey_west_variance(&d, 1) - 0.25).abs() < 1e-12);
        assert_eq!(overlap_lags(3600, 60), 59);
        assert_eq!(overlap_lags(3600, 3600), 0);
        assert_eq!(overlap_lags(1800, 300), 5);
    }

    /// `n` outcomes, UP with probability 0.6 when a signal says so and 0.4 otherwise, and the
    /// informed model's probabilities (0.6 or 0.4).
    fn signalled(n: usize) -> (Vec<bool>, Vec<f64>) {
        let u = uniform(n, 3);
        let signal: Vec<bool> = uniform(n, 5).iter().map(|v| *v < 0.5).collect();
        let y = (0..n).map(|i| u[i] < if signal[i] { 0.6 } else { 0.4 }).collect();
        let informed = signal.iter().map(|&s| if s { 0.6 } else { 0.4 }).collect();
        (y, informed)
    }

    #[test]
    fn a_better_challenger_is_promoted_and_noise_is_not() {
        let n = 2000;
        let (y, informed) = signalled(n);
        let coin_flip = vec![0.5; n];
        let better = compare(&y, &coin_flip, &informed, 60, 60);
        assert_eq!(better.decision, Decision::Promoted, "{better:?}");
        assert!(better.p_value < 0.05 && better.mean_difference > 0.0);
        // The other way round: the worse model never replaces the better one.
        let worse = compare(&y, &informed, &coin_flip, 60, 60);
        assert_eq!(worse.decision, Decision::Kept);
        assert!(worse.reason.contains("not better"), "{}", worse.reason);
        // A challenger that is the champion plus noise is not promoted.
        let jitter = uniform(n, 9);
        let noisy: Vec<f64> = informed
            .iter()
            .zip(&jitter)
            .map(|(p, j)| p + (j - 0.5) * 0.002)
            .collect();
        assert_eq!(compare(&y, &informed, &noisy, 60, 60).decision, Decision::Kept);
        // Too few rows decide nothing.
        let few = compare(&y[..50], &coin_flip[..50], &informed[..50], 60, 60);
        assert_eq!(few.decision, Decision::Kept);
        assert!(few.reason.contains("only 50 rows"));
    }

    #[test]
    fn the_tie_break_replaces_a_disqualified_champion_only_on_a_tie() {
        let n = 2000;
        let (y, informed) = signalled(n);
        let coin_flip = vec![0.5; n];
        // A tie: two models as informed as each other, on alternate rows. The
        // challenger replaces the disqualified champion, and the reason says why.
        let half = |first: bool| -> Vec<f64> {
            (0..n)
                .map(|i| if (i % 2 == 0) == first { informed[i] } else { 0.5 })
                .collect()
        };
        let (a, b) = (half(true), half(false));
        let mut tie = compare(&y, &a, &b, 60, 60);
        assert!(tie.dm_statistic.abs() < DM_CRITICAL, "{tie:?}");
        assert_eq!(tie.decision, Decision::Kept);
        assert!(break_tie(&mut tie, "the champion trained on the replay"));
        assert_eq!(tie.decision, Decision::Promoted);
        assert!(
            tie.reason.contains("cannot tell the two apart")
                && tie.reason.ends_with("the challenger replaces it"),
            "{}",
            tie.reason
        );
        // A significantly worse challenger never does, nor one scored on too few rows.
        let mut worse = compare(&y, &informed, &coin_flip, 60, 60);
        assert!(worse.dm_statistic < -DM_CRITICAL, "{worse:?}");
        assert!(!break_tie(&mut worse, "the champion trained on the replay"));
        assert_eq!(worse.decision, Decision::Kept);
        let mut few = compare(&y[..50], &a[..50], &b[..50], 60, 60);
        assert!(!break_tie(&mut few, "the champion trained on the replay"));
        assert_eq!(few.decision, Decision::Kept);
        // A promotion stays a promotion, with its own reason.
        let mut better = compare(&y, &coin_flip, &informed, 60, 60);
        let reason = better.reason.clone();
        assert!(!break_tie(&mut better, "the champion trained on the replay"));
        assert_eq!(better.reason, reason);
    }

    #[test]
    fn overlapping_horizons_need_more_evidence() {
        // The same mean difference is weaker evidence when neighbouring rows repeat each other.
        let n = 3000;
        let blocks = uniform(n / 30, 11);
        let y: Vec<bool> = (0..n).map(|i| blocks[i / 30] < 0.55).collect();
        let champion = vec![0.5; n];
        let challenger = vec![0.52; n];
        let independent = compare(&y, &champion, &challenger, 60, 60);
        let overlapping = compare(&y, &champion, &challenger, 30 * 60, 60);
        assert_eq!(overlapping.lags, 29);
        assert!(
            overlapping.dm_statistic.abs() < independent.dm_statistic.abs(),
            "{} vs {}",
            overlapping.dm_statistic,
            independent.dm_statistic
        );
    }
}
