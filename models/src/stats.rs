//! The statistics every figure coincast prints is built on: overlap-aware (HAC) standard errors
//! and paired tests, the effective sample size of overlapping rows, a moving-block bootstrap, and
//! multiple-testing corrections.
//!
//! Rows come every 5 minutes for 30 min horizons and every hour for 2-12 h, so consecutive
//! labels share most of their future: treating them as independent overstates the evidence
//! several times over. Every test here takes the number of lags over which rows overlap
//! ([`hac_lags`]: at least the horizon in rows).

use crate::nn::Rng;

/// Standard normal upper tail, `P(Z > z)`.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// The lags of a HAC variance for rows `step_s` apart whose outcomes lie `horizon_s` ahead:
/// twice the horizon in rows. Every pair of rows whose outcomes overlap is within the horizon,
/// but a forecaster's calls persist too, and Bartlett weights shrink the longer lags: with the
/// horizon alone a true null is rejected at 8-9% instead of 5% (the simulation in the tests),
/// with twice it at about 6%.
pub fn hac_lags(horizon_s: i64, step_s: i64) -> usize {
    let step = step_s.max(1);
    let rows = usize::try_from((horizon_s.max(1) + step - 1) / step).unwrap_or(1);
    2 * rows.max(1)
}

/// The typical spacing of rows made at times `ts` (ascending): the median gap between
/// neighbours, so a few long gaps (between folds, over outages) do not count (1 with fewer than two
/// rows).
pub fn row_step(ts: &[i64]) -> i64 {
    let mut gaps: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).filter(|g| *g > 0).collect();
    if gaps.is_empty() {
        return 1;
    }
    let mid = gaps.len() / 2;
    *gaps.select_nth_unstable(mid).1
}

/// The long-run variance of `d` (Newey-West: Bartlett weights over `lags` lags); `lags = 0` is
/// the plain variance. The variance of `d`'s mean is this over `n`.
pub fn newey_west_variance(d: &[f64], lags: usize) -> f64 {
    let n = d.len();
    if n == 0 {
        return 0.0;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let c: Vec<f64> = d.iter().map(|x| x - mean).collect();
    let gamma = |k: usize| c[k..].iter().zip(&c).map(|(a, b)| a * b).sum::<f64>() / n as f64;
    let mut v = gamma(0);
    for k in 1..=lags.min(n - 1) {
        v += 2.0 * (1.0 - k as f64 / (lags as f64 + 1.0)) * gamma(k);
    }
    v.max(0.0)
}

/// The effective sample size of a series whose rows overlap over `lags` lags: `n` times its
/// plain variance over its long-run variance (how many independent rows would give its mean the
/// same precision). Independent rows (`lags = 0`) give `n`; it is kept within `[1, n]`.
pub fn effective_n(d: &[f64], lags: usize) -> f64 {
    let n = d.len() as f64;
    if d.is_empty() {
        return 0.0;
    }
    let (plain, long_run) = (newey_west_variance(d, 0), newey_west_variance(d, lags));
    if plain <= 0.0 || long_run <= 0.0 {
        return n;
    }
    (n * plain / long_run).clamp(1.0, n)
}

/// A paired one-sided test of `a` against `b` on the same rows (per-row hits, or the baseline's
/// loss against the model's): is the mean of `a - b` above 0?
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedTest {
    pub n: usize,
    /// The mean difference, `mean(a - b)`.
    pub mean: f64,
    /// Its HAC standard error.
    pub se: f64,
    /// `mean / se`.
    pub z: f64,
    /// One-sided, `P(Z > z)`.
    pub p_value: f64,
    /// The lags of the HAC variance.
    pub lags: usize,
    /// The effective sample size of the differences.
    pub n_effective: f64,
}

/// The paired test of `a` against `b` with a Newey-West standard error over `lags` lags (`None`
/// with fewer than two rows). With no variance at all, a positive mean is certain (p = 0) and a
/// zero one is no evidence (p = 1).
pub fn paired_hac(a: &[f64], b: &[f64], lags: usize) -> Option<PairedTest> {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = d.len();
    if n < 2 {
        return None;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let se = (newey_west_variance(&d, lags) / n as f64).sqrt();
    let (z, p_value) = if se > 0.0 {
        let z = mean / se;
        (z, normal_sf(z))
    } else if mean > 0.0 {
        (f64::INFINITY, 0.0)
    } else {
        (0.0, 1.0)
    };
    Some(PairedTest {
        n,
        mean,
        se,
        z,
        p_value,
        lags,
        n_effective: effective_n(&d, lags),
    })
}

/// The moving-block bootstrap standard error of the mean of `d`: `resamples` series made of
/// blocks of `block` consecutive rows drawn with replacement (so overlap within a block is kept),
/// seeded, so the same inputs give the same figure.
pub fn block_bootstrap_se(d: &[f64], block: usize, resamples: usize, seed: u64) -> f64 {
    let n = d.len();
    if n < 2 || resamples < 2 {
        return 0.0;
    }
    let block = block.clamp(1, n);
    let starts = (n - block + 1) as u64;
    let mut rng = Rng::new(seed);
    let means: Vec<f64> = (0..resamples)
        .map(|_| {
            let mut sum = 0.0;
            let mut taken = 0;
            while taken < n {
                let start = (rng.next_u64() % starts) as usize;
                for x in d.iter().skip(start).take(block.min(n - taken)) {
                    sum += x;
                    taken += 1;
                }
            }
            sum / n as f64
        })
        .collect();
    let m = means.iter().sum::<f64>() / resamples as f64;
    (means.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (resamples - 1) as f64).sqrt()
}

/// The standard normal quantile, `z` with `P(Z < z) = p` (Acklam's rational approximation,
/// relative error under 1.2e-9; infinite at 0 and 1).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.024_25;
    if p.is_nan() {
        return f64::NAN;
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The standard error of a Sharpe ratio `sr` (per period, not annualised) measured over
/// `periods` returns with this skewness and (non-excess) kurtosis: Lo (2002), with Mertens'
/// terms for non-normal returns; normal returns are skewness 0, kurtosis 3.
pub fn sharpe_se(sr: f64, periods: usize, skewness: f64, kurtosis: f64) -> f64 {
    if periods < 2 {
        return f64::INFINITY;
    }
    let v = 1.0 - skewness * sr + (kurtosis - 1.0) / 4.0 * sr * sr;
    (v.max(0.0) / (periods - 1) as f64).sqrt()
}

/// The Sharpe ratio the best of `trials` configurations with no skill reaches by luck alone,
/// when their Sharpe ratios scatter with standard deviation `sd` (Bailey and Lopez de Prado,
/// 2014: the expected maximum of `trials` normal draws, with the Euler-Mascheroni constant).
pub fn expected_max_sharpe(trials: usize, sd: f64) -> f64 {
    if trials < 2 {
        return 0.0;
    }
    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
    let n = trials as f64;
    sd * ((1.0 - EULER_GAMMA) * normal_quantile(1.0 - 1.0 / n)
        + EULER_GAMMA * normal_quantile(1.0 - 1.0 / (n * std::f64::consts::E)))
}

/// The deflated Sharpe ratio (Bailey and Lopez de Prado, 2014): the probability that a Sharpe
/// ratio `sr` (per period) over `periods` returns beats what the best of `trials`
/// configurations would show by luck ([`expected_max_sharpe`] with `sd` their scatter), given
/// the returns' skewness and (non-excess) kurtosis. Under 0.95: the figure may be selection luck.
pub fn deflated_sharpe(sr: f64, periods: usize, trials: usize, sd: f64, skewness: f64, kurtosis: f64) -> f64 {
    if periods < 2 {
        return 0.0;
    }
    let benchmark = expected_max_sharpe(trials, sd);
    let v = (1.0 - skewness * sr + (kurtosis - 1.0) / 4.0 * sr * sr).max(1e-12);
    1.0 - normal_sf((sr - benchmark) * ((periods - 1) as f64).sqrt() / v.sqrt())
}

/// Holm's step-down adjustment (family-wise error rate): the adjusted p-values, in the order of
/// `p`. A model is significant at level `a` across the family when its adjusted value is below
/// `a`. Holm is uniformly more powerful than Bonferroni and valid under any dependence.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let order = ascending(p);
    let mut out = vec![1.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let adjusted = ((m - rank) as f64 * p[i]).min(1.0);
        running = running.max(adjusted);
        out[i] = running;
    }
    out
}

/// Benjamini-Hochberg's step-up adjustment (false discovery rate), in the order of `p`.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let order = ascending(p);
    let mut out = vec![1.0; m];
    let mut running: f64 = 1.0;
    for (rank, &i) in order.iter().enumerate().rev() {
        let adjusted = (p[i] * m as f64 / (rank + 1) as f64).min(1.0);
        running = running.min(adjusted);
        out[i] = running;
    }
    out
}

/// The indices of `p`, smallest value first (the rank order both corrections step through).
fn ascending(p: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    order
}

/// The probability of backtest overfitting by combinatorially symmetric cross-validation (Bailey,
/// Borwein, Lopez de Prado and Zhu 2017). `perf[b][k]` is configuration `k`'s performance (a
/// return, summed over blocks) in time block `b`, blocks in time order (an odd last one is
/// dropped; at most 16 are used). For every way of taking half the blocks as "in sample", the
/// configuration best there is ranked among all on the other half; the PBO is the share of splits
/// where it ranks at or below the median out of sample (logit of its relative rank <= 0). Near 0:
/// the best configuration stays good; 0.5 or more: choosing the best is no better than chance.
/// `None` with fewer than 2 blocks or 2 configurations.
pub fn pbo(perf: &[Vec<f64>]) -> Option<f64> {
    let blocks = perf.len().min(16) / 2 * 2;
    let configs = perf.first()?.len();
    if blocks < 2 || configs < 2 || perf.iter().any(|r| r.len() != configs) {
        return None;
    }
    let half = blocks / 2;
    let (mut splits, mut overfit) = (0usize, 0usize);
    let mut is = vec![0.0; configs];
    let mut oos = vec![0.0; configs];
    for mask in 0u32..(1 << blocks) {
        if mask.count_ones() as usize != half {
            continue;
        }
        is.iter_mut().chain(oos.iter_mut()).for_each(|v| *v = 0.0);
        for (b, row) in perf.iter().take(blocks).enumerate() {
            let side = if mask & (1 << b) != 0 { &mut is } else { &mut oos };
            side.iter_mut().zip(row).for_each(|(acc, v)| *acc += v);
        }
        let best = (0..configs)
            .max_by(|&a, &b| is[a].total_cmp(&is[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        // Its relative rank out of sample, in (0, 1): ties share the middle.
        let below = oos.iter().filter(|v| **v < oos[best]).count() as f64;
        let ties = oos.iter().filter(|v| **v == oos[best]).count() as f64;
        let omega = (below + (ties + 1.0) / 2.0) / (configs as f64 + 1.0);
        splits += 1;
        overfit += usize::from(omega <= 0.5);
    }
    Some(overfit as f64 / splits as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A standard normal draw (Box-Muller).
    fn normal(rng: &mut Rng) -> f64 {
        let u = rng.uniform().max(1e-300);
        let v = rng.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// An AR(1) series `x_t = phi x_(t-1) + e_t` with standard normal innovations.
    fn ar1(n: usize, phi: f64, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                x = phi * x + normal(&mut rng);
                x
            })
            .collect()
    }

    #[test]
    fn pbo_tells_a_lasting_edge_from_noise() {
        // Configuration 2 earns in every block: choosing it is never overfitting.
        let lasting: Vec<Vec<f64>> = (0..8)
            .map(|b| vec![0.0, (b % 3) as f64 * 0.1 - 0.1, 1.0])
            .collect();
        assert_eq!(pbo(&lasting), Some(0.0));
        // Pure noise across 10 configurations: the best in sample is a coin toss out of sample.
        let mut rng = Rng::new(42);
        let noise: Vec<Vec<f64>> = (0..12)
            .map(|_| {
                (0..10)
                    .map(|_| (rng.next_u64() % 1000) as f64 / 1000.0 - 0.5)
                    .collect()
            })
            .collect();
        let p = pbo(&noise).unwrap();
        assert!((0.25..=0.75).contains(&p), "{p}");
        // What wins in one half loses in the other: always overfit.
        let flip: Vec<Vec<f64>> = (0..4)
            .map(|b| {
                if b % 2 == 0 {
                    vec![1.0, -1.0]
                } else {
                    vec![-1.0, 1.0]
                }
            })
            .collect();
        assert!(pbo(&flip).unwrap() >= 0.5);
        assert_eq!(pbo(&[vec![1.0, 2.0]]), None);
        assert_eq!(pbo(&[vec![1.0], vec![2.0]]), None);
    }

    #[test]
    fn the_row_step_is_the_median_gap() {
        assert_eq!(row_step(&[0, 300, 600, 900, 4500, 4800]), 300);
        assert_eq!(row_step(&[0, 3600, 7200, 7500]), 3600);
        assert_eq!(row_step(&[5]), 1);
        assert_eq!(hac_lags(1800, row_step(&[0, 300, 600])), 12);
    }

    #[test]
    fn newey_west_by_hand() {
        // d = 1, 2, 3, 4: centred -1.5, -0.5, 0.5, 1.5; gamma0 = 1.25, gamma1 = 0.3125,
        // gamma2 = -0.375. One lag: 1.25 + 2 (1/2) 0.3125. Two: 1.25 + 2 (2/3) 0.3125 + 2 (1/3) (-0.375).
        let d = [1.0, 2.0, 3.0, 4.0];
        assert!((newey_west_variance(&d, 0) - 1.25).abs() < 1e-12);
        assert!((newey_west_variance(&d, 1) - 1.5625).abs() < 1e-12);
        assert!((newey_west_variance(&d, 2) - (1.25 + 0.3125 * 4.0 / 3.0 - 0.25)).abs() < 1e-12);
        assert!((normal_sf(0.0) - 0.5).abs() < 1e-15);
        assert!((normal_sf(1.644_853_626_951_472_2) - 0.05).abs() < 1e-9);
        // Twice the horizon in rows (at least one row).
        assert_eq!(hac_lags(12 * 3600, 3600), 24);
        assert_eq!(hac_lags(1800, 300), 12);
        assert_eq!(hac_lags(5400, 3600), 4);
        assert_eq!(hac_lags(60, 3600), 2);
    }

    #[test]
    fn an_ar1_series_has_its_known_long_run_variance_by_hac_and_by_block_bootstrap() {
        // x_t = 0.5 x_(t-1) + e_t: long-run variance 1 / (1 - 0.5)^2 = 4, plain variance
        // 1 / (1 - 0.25) = 4/3, so the effective n is a third of n.
        let n = 200_000;
        let x = ar1(n, 0.5, 7);
        let lrv = newey_west_variance(&x, 60);
        assert!((lrv - 4.0).abs() < 0.3, "{lrv}");
        let plain = newey_west_variance(&x, 0);
        assert!((plain - 4.0 / 3.0).abs() < 0.05, "{plain}");
        let n_eff = effective_n(&x, 60);
        assert!((n_eff / n as f64 - 1.0 / 3.0).abs() < 0.03, "{n_eff}");
        let boot = block_bootstrap_se(&x, 200, 300, 11);
        let boot_lrv = boot * boot * n as f64;
        assert!((boot_lrv - 4.0).abs() < 0.8, "{boot_lrv}");
        // Seeded: the same inputs give the same figure.
        assert_eq!(boot, block_bootstrap_se(&x, 200, 300, 11));
    }

    #[test]
    fn independent_rows_have_an_effective_n_of_n() {
        let x = ar1(1_000, 0.0, 3);
        assert_eq!(effective_n(&x, 0), 1_000.0);
        let constant = [1.0; 10];
        assert_eq!(effective_n(&constant, 5), 10.0);
        assert_eq!(effective_n(&[], 5), 0.0);
        let t = paired_hac(&[1.0, 1.0, 1.0], &[0.0, 0.0, 0.0], 1).unwrap();
        assert_eq!((t.p_value, t.mean), (0.0, 1.0));
        assert!(paired_hac(&[1.0], &[0.0], 1).is_none());
    }

    /// One simulated comparison under the null: a random walk, labels `h` rows ahead (so they
    /// overlap), a "model" whose calls are random but persistent (one call per `h` rows) and the
    /// always-UP rule. Neither has skill; their per-row hit differences are autocorrelated.
    fn null_comparison(rows: usize, h: usize, rng: &mut Rng) -> (Vec<f64>, Vec<f64>) {
        let mut price = vec![0.0];
        for _ in 0..rows + h {
            let last = price[price.len() - 1];
            price.push(last + normal(rng));
        }
        let mut call = false;
        let (mut model, mut always_up) = (Vec::new(), Vec::new());
        for t in 0..rows {
            if t % h == 0 {
                call = rng.uniform() < 0.5;
            }
            let up = price[t + h] > price[t];
            model.push(f64::from(u8::from(call == up)));
            always_up.push(f64::from(u8::from(up)));
        }
        (model, always_up)
    }

    #[test]
    fn the_overlap_aware_test_rejects_a_true_null_at_about_its_level_and_the_naive_one_far_more() {
        let (series, rows, h) = (1_000, 3_000, 12);
        let mut rng = Rng::new(2026);
        let (mut hac, mut naive) = (0, 0);
        // Rows an hour apart, outcomes 12 hours ahead.
        let lags = hac_lags(12 * 3600, 3600);
        for _ in 0..series {
            let (model, baseline) = null_comparison(rows, h, &mut rng);
            hac += usize::from(paired_hac(&model, &baseline, lags).unwrap().p_value < 0.05);
            naive += usize::from(paired_hac(&model, &baseline, 0).unwrap().p_value < 0.05);
        }
        let (hac, naive) = (hac as f64 / series as f64, naive as f64 / series as f64);
        eprintln!("rejection at 5% under the null: HAC {hac:.3}, naive {naive:.3}");
        assert!((0.03..=0.08).contains(&hac), "HAC rejects {hac}");
        assert!(naive > 0.15, "naive rejects only {naive}");
    }

    #[test]
    fn the_normal_quantile_inverts_the_tail() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-8);
        assert!((normal_quantile(0.99) - 2.326_347_874_040_841).abs() < 1e-8);
        assert!((normal_quantile(0.5)).abs() < 1e-12);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813).abs() < 1e-7);
        for z in [-4.0, -1.3, 0.2, 2.7] {
            assert!((normal_quantile(1.0 - normal_sf(z)) - z).abs() < 1e-7, "{z}");
        }
    }

    #[test]
    fn the_deflated_sharpe_ratio_matches_the_papers_worked_example() {
        // Bailey and Lopez de Prado (2014): an annualised Sharpe of 2.5 over five years of daily
        // returns (T = 1,250, 250 a year), the best of N = 100 trials whose annualised Sharpe
        // ratios vary by 0.5, skewness -3, kurtosis 10: SR0 = 0.1132 per day, DSR = 0.9004.
        let per_year = 250f64;
        let sr = 2.5 / per_year.sqrt();
        let sd = (0.5 / per_year).sqrt();
        assert!(
            (expected_max_sharpe(100, sd) - 0.1132).abs() < 5e-4,
            "{}",
            expected_max_sharpe(100, sd)
        );
        let dsr = deflated_sharpe(sr, 1_250, 100, sd, -3.0, 10.0);
        assert!((dsr - 0.9004).abs() < 2e-3, "{dsr}");
        // One trial: no selection to deflate; normal returns: Lo's standard error.
        assert_eq!(expected_max_sharpe(1, sd), 0.0);
        assert!((sharpe_se(0.1, 101, 0.0, 3.0) - ((1.0 + 0.005) / 100.0f64).sqrt()).abs() < 1e-15);
        // More trials, the same Sharpe ratio: less likely to be skill.
        assert!(deflated_sharpe(sr, 1_250, 1_000, sd, -3.0, 10.0) < dsr);
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn holm_and_bh_match_a_worked_example() {
        // Sorted: 0.005, 0.01, 0.03, 0.04 (m = 4).
        // Holm: 4 x 0.005 = 0.02, 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, 1 x 0.04 = 0.04 -> 0.06 (monotone).
        // BH: 0.005 x 4/1 = 0.02, 0.01 x 4/2 = 0.02, 0.03 x 4/3 = 0.04, 0.04 x 4/4 = 0.04.
        let p = [0.01, 0.04, 0.03, 0.005];
        assert!(close(&holm(&p), &[0.03, 0.06, 0.06, 0.02]), "{:?}", holm(&p));
        assert!(
            close(&benjamini_hochberg(&p), &[0.02, 0.04, 0.04, 0.02]),
            "{:?}",
            benjamini_hochberg(&p)
        );
        // At 5%: Holm keeps two, BH all four.
        assert_eq!(holm(&p).iter().filter(|&&q| q < 0.05).count(), 2);
        assert_eq!(benjamini_hochberg(&p).iter().filter(|&&q| q < 0.05).count(), 4);
    }

    #[test]
    fn one_test_is_left_as_it_is_and_adjusted_values_stay_at_most_one() {
        assert!(close(&holm(&[0.2]), &[0.2]));
        assert!(close(&benjamini_hochberg(&[0.2]), &[0.2]));
        assert!(holm(&[0.5, 0.9, 0.7]).iter().all(|&q| q <= 1.0));
        assert!(holm(&[]).is_empty());
    }
}
