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
use crate::stats::{hac_lags, newey_west_variance, normal_sf};

/// One-sided 5% critical value of the standard normal.
pub const DM_CRITICAL: f64 = 1.644_853_626_951_472_2;
/// The significance level the gate uses, as stated in every decision.
pub const ALPHA: f64 = shared::GATE_ALPHA;
/// Below this many common rows the gate keeps the champion.
pub const MIN_ROWS: usize = 200;

/// What the gate decided: the API's own type (`promoted`, `kept` in cards and answers alike).
pub use shared::GateDecision as Decision;

/// One model's figures on the gate's window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowScore {
    pub log_loss: f64,
    pub accuracy: f64,
}

/// The challenger against the no-skill forecast: the constant share of UP in its own training rows
/// (fixed before the window), which knows nothing about any row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NoSkill {
    /// The constant P(UP).
    pub up_rate: f64,
    /// Its log loss on the window.
    pub log_loss: f64,
    /// Diebold-Mariano of `loss(no-skill) - loss(challenger)`.
    pub dm_statistic: f64,
    /// One-sided p-value of the challenger beating it by chance.
    pub p_value: f64,
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
    /// Newey-West lags used (`stats::hac_lags`: twice the horizon in rows).
    pub lags: usize,
    /// The challenger against the no-skill forecast (absent in decisions made before it was
    /// part of the gate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_skill: Option<NoSkill>,
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

/// Diebold-Mariano of the per-row loss differences `d` over `lags` lags: (mean, statistic, p).
fn diebold_mariano(d: &[f64], lags: usize) -> (f64, f64, f64) {
    let n = d.len();
    let mean = d.iter().sum::<f64>() / n.max(1) as f64;
    let var = newey_west_variance(d, lags);
    let dm = if var > 0.0 && n > 0 {
        mean / (var / n as f64).sqrt()
    } else {
        0.0
    };
    (mean, dm, normal_sf(dm))
}

/// Compares the champion's and the challenger's probabilities of UP on the same rows (`y` what
/// happened), rows `step_s` apart with outcomes `horizon_s` ahead. `up_rate` is the no-skill
/// forecast, fixed before the window (the share of UP in the challenger's training rows): the
/// challenger is promoted only when it beats both the champion and that constant, each by the
/// Diebold-Mariano test. Beating a champion that is itself worse than a constant proves nothing.
pub fn compare(
    y: &[bool],
    champion: &[f64],
    challenger: &[f64],
    up_rate: f64,
    horizon_s: i64,
    step_s: i64,
) -> GateResult {
    let n = y.len().min(champion.len()).min(challenger.len());
    let (y, champion, challenger) = (&y[..n], &champion[..n], &challenger[..n]);
    let score = |p: &[f64]| WindowScore {
        log_loss: y.iter().zip(p).map(|(&y, &p)| loss(y, p)).sum::<f64>() / n.max(1) as f64,
        accuracy: accuracy(y, p),
    };
    let lags = hac_lags(horizon_s, step_s).min(n / 4);
    let d: Vec<f64> = (0..n)
        .map(|i| loss(y[i], champion[i]) - loss(y[i], challenger[i]))
        .collect();
    let (mean, dm, p_value) = diebold_mariano(&d, lags);
    let constant = vec![up_rate.clamp(1e-3, 1.0 - 1e-3); n];
    let d0: Vec<f64> = (0..n)
        .map(|i| loss(y[i], constant[i]) - loss(y[i], challenger[i]))
        .collect();
    let (_, dm0, p0) = diebold_mariano(&d0, lags);
    let no_skill = NoSkill {
        up_rate: constant.first().copied().unwrap_or(up_rate),
        log_loss: score(&constant).log_loss,
        dm_statistic: dm0,
        p_value: p0,
    };
    let against_constant = format!(
        "against the no-skill forecast (P(UP) = {:.3}, its training share) Diebold-Mariano {dm0:.2}, p = {p0:.4}",
        no_skill.up_rate
    );
    let (decision, reason) = if n < MIN_ROWS {
        (
            Decision::Kept,
            format!("only {n} rows in the window (at least {MIN_ROWS} needed): the champion stays"),
        )
    } else if dm > DM_CRITICAL && dm0 > DM_CRITICAL {
        (
            Decision::Promoted,
            format!(
                "the challenger's log loss is lower by {mean:.5} per row (Diebold-Mariano {dm:.2} > {DM_CRITICAL:.3}, one-sided p = {p_value:.4} < {ALPHA}), and it beats the no-skill forecast ({against_constant})"
            ),
        )
    } else if dm > DM_CRITICAL {
        (
            Decision::Kept,
            format!(
                "the challenger beats the champion (Diebold-Mariano {dm:.2}, p = {p_value:.4}) but not the no-skill forecast by more than noise ({against_constant}): beating a champion no better than a constant proves nothing"
            ),
        )
    } else if mean > 0.0 {
        (
            Decision::Kept,
            format!(
                "the challenger's log loss is lower by {mean:.5} per row, but not by more than noise (Diebold-Mariano {dm:.2} <= {DM_CRITICAL:.3}, p = {p_value:.4}); {against_constant}"
            ),
        )
    } else {
        (
            Decision::Kept,
            format!(
                "the challenger is not better: its log loss is higher by {:.5} per row (Diebold-Mariano {dm:.2}, p = {p_value:.4}); {against_constant}",
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
        no_skill: Some(no_skill),
        decision,
        reason,
    }
}

/// The shipping tie-break (`coincast train --gate-against` only, never the retrain job): when
/// the gate kept the champion only because it could not tell the two apart (enough rows, and the
/// challenger not significantly worse than it nor than the no-skill forecast: DM > -[`DM_CRITICAL`]
/// for both), and the champion is disqualified
/// for a reason stated before any scoring (`disqualified`: say, its training span covers the
/// replay a new user is shown, so its live figures there are in-sample), the challenger replaces
/// it and the reason says why. Returns whether it did.
pub fn break_tie(result: &mut GateResult, disqualified: &str) -> bool {
    let no_worse_than_constant = result.no_skill.is_none_or(|c| c.dm_statistic > -DM_CRITICAL);
    let tie = result.decision == Decision::Kept
        && result.n >= MIN_ROWS
        && result.dm_statistic > -DM_CRITICAL
        && no_worse_than_constant;
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
        let better = compare(&y, &coin_flip, &informed, 0.5, 60, 60);
        assert_eq!(better.decision, Decision::Promoted, "{better:?}");
        assert!(better.p_value < 0.05 && better.mean_difference > 0.0);
        // The other way round: the worse model never replaces the better one.
        let worse = compare(&y, &informed, &coin_flip, 0.5, 60, 60);
        assert_eq!(worse.decision, Decision::Kept);
        assert!(worse.reason.contains("not better"), "{}", worse.reason);
        // A challenger that is the champion plus noise is not promoted.
        let jitter = uniform(n, 9);
        let noisy: Vec<f64> = informed
            .iter()
            .zip(&jitter)
            .map(|(p, j)| p + (j - 0.5) * 0.002)
            .collect();
        assert_eq!(
            compare(&y, &informed, &noisy, 0.5, 60, 60).decision,
            Decision::Kept
        );
        // Too few rows decide nothing.
        let few = compare(&y[..50], &coin_flip[..50], &informed[..50], 0.5, 60, 60);
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
        let mut tie = compare(&y, &a, &b, 0.5, 60, 60);
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
        let mut worse = compare(&y, &informed, &coin_flip, 0.5, 60, 60);
        assert!(worse.dm_statistic < -DM_CRITICAL, "{worse:?}");
        assert!(!break_tie(&mut worse, "the champion trained on the replay"));
        assert_eq!(worse.decision, Decision::Kept);
        let mut few = compare(&y[..50], &a[..50], &b[..50], 0.5, 60, 60);
        assert!(!break_tie(&mut few, "the champion trained on the replay"));
        assert_eq!(few.decision, Decision::Kept);
        // A promotion stays a promotion, with its own reason.
        let mut better = compare(&y, &coin_flip, &informed, 0.5, 60, 60);
        let reason = better.reason.clone();
        assert!(!break_tie(&mut better, "the champion trained on the replay"));
        assert_eq!(better.reason, reason);
    }

    #[test]
    fn beating_a_worse_than_chance_champion_is_not_enough() {
        let n = 2000;
        let (y, informed) = signalled(n);
        // A champion worse than a coin flip: the informed model upside down.
        let wrong: Vec<f64> = informed.iter().map(|p| 1.0 - p).collect();
        // A challenger with no skill at all: a coin flip with a little noise.
        let jitter = uniform(n, 13);
        let flip: Vec<f64> = jitter.iter().map(|j| 0.5 + (j - 0.5) * 0.01).collect();
        let r = compare(&y, &wrong, &flip, 0.5, 60, 60);
        assert!(r.dm_statistic > DM_CRITICAL, "it does beat the champion: {r:?}");
        assert!(r.champion.log_loss > std::f64::consts::LN_2);
        let constant = r.no_skill.unwrap();
        assert!(constant.dm_statistic < DM_CRITICAL, "{constant:?}");
        assert_eq!(r.decision, Decision::Kept);
        assert!(r.reason.contains("not the no-skill forecast"), "{}", r.reason);
        // The shipping tie-break (a champion disqualified for a reason stated before scoring)
        // may still replace it: the challenger is significantly worse than neither.
        let mut tie = r.clone();
        assert!(break_tie(&mut tie, "the champion trained on the replay"));
        // But never with a challenger worse than the constant.
        let mut worse = compare(
            &y,
            &wrong,
            &wrong.iter().map(|p| 0.5 + (p - 0.5) * 0.5).collect::<Vec<_>>(),
            0.5,
            60,
            60,
        );
        assert!(worse.no_skill.unwrap().dm_statistic < -DM_CRITICAL, "{worse:?}");
        assert!(!break_tie(&mut worse, "the champion trained on the replay"));
        // A challenger with skill beats both, and is promoted.
        let good = compare(&y, &wrong, &informed, 0.5, 60, 60);
        assert_eq!(good.decision, Decision::Promoted, "{}", good.reason);
        assert!(good.no_skill.unwrap().p_value < 0.05);
    }

    #[test]
    fn overlapping_horizons_need_more_evidence() {
        // The same mean difference is weaker evidence when neighbouring rows repeat each other.
        let n = 3000;
        let blocks = uniform(n / 30, 11);
        let y: Vec<bool> = (0..n).map(|i| blocks[i / 30] < 0.55).collect();
        let champion = vec![0.5; n];
        let challenger = vec![0.52; n];
        let independent = compare(&y, &champion, &challenger, 0.5, 60, 60);
        let overlapping = compare(&y, &champion, &challenger, 0.5, 30 * 60, 60);
        assert_eq!(overlapping.lags, 60, "twice the horizon in rows");
        assert!(
            overlapping.dm_statistic.abs() < independent.dm_statistic.abs(),
            "{} vs {}",
            overlapping.dm_statistic,
            independent.dm_statistic
        );
    }
}
