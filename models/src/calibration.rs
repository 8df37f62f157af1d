//! Calibration and feature importance, measured on the selection folds (never a later window).
//!
//! - [`Platt`]: P(UP) recalibrated as sigmoid(a · logit(p) + b), `a` and `b` fitted by Newton's
//!   method on log loss. Platt rather than isotonic because it folds exactly into every exported
//!   graph: the last layer's logit (or every tree's leaf weight and the intercept) scaled by `a`,
//!   `b` added, so the served ONNX file stays the one source of a probability.
//! - [`permutation_importance`]: how much a model's log loss grows when one feature's column is
//!   shuffled (its tie to the label cut, its distribution kept), averaged over seeded repeats.

use crate::card::ConfidenceDecile;
use crate::metrics::{log_loss_of, wilson_rate};
use crate::stats::{hac_lags, newey_west_variance, row_step};

/// A fitted Platt scaling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

/// Probabilities are kept this far from 0 and 1 before taking their logit.
const EDGE: f64 = 1e-7;

fn logit(p: f64) -> f64 {
    let p = p.clamp(EDGE, 1.0 - EDGE);
    (p / (1.0 - p)).ln()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Platt {
    /// The identity (a = 1, b = 0).
    pub const IDENTITY: Platt = Platt { a: 1.0, b: 0.0 };

    /// Fits `a` and `b` on `p` (the model's P(UP)) against what happened (`up`), by Newton's method
    /// on the mean log loss with a small ridge on `a - 1` and `b` (so that a constant or separable
    /// input stays finite). Fewer than 2 rows: the identity.
    pub fn fit(p: &[f64], up: &[bool]) -> Platt {
        const RIDGE: f64 = 1e-3;
        let n = p.len().min(up.len());
        if n < 2 {
            return Platt::IDENTITY;
        }
        let z: Vec<f64> = p[..n].iter().map(|&p| logit(p)).collect();
        let (mut a, mut b) = (1.0, 0.0);
        for _ in 0..50 {
            // Gradient and Hessian of the mean log loss plus the ridge.
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) =
                (RIDGE * (a - 1.0), RIDGE * b, RIDGE, 0.0, RIDGE);
            for (zi, &yi) in z.iter().zip(&up[..n]) {
                let q = sigmoid(a * zi + b);
                let r = (q - f64::from(u8::from(yi))) / n as f64;
                let w = q * (1.0 - q) / n as f64;
                ga += r * zi;
                gb += r;
                haa += w * zi * zi;
                hab += w * zi;
                hbb += w;
            }
            let det = haa * hbb - hab * hab;
            if det.abs() < 1e-18 {
                break;
            }
            let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
            a -= da;
            b -= db;
            if da.abs() + db.abs() < 1e-12 {
                break;
            }
        }
        Platt { a, b }
    }

    /// The calibrated probability of `p`.
    pub fn apply(&self, p: f64) -> f64 {
        sigmoid(self.a * logit(p) + self.b)
    }
}

/// How much the mean log loss of `predict` grows when each feature's column is shuffled, averaged
/// over `repeats` seeded shuffles (one value per feature; larger means more important; about 0 or
/// below: the model does not use it). `predict` gives P(UP) per row.
pub fn permutation_importance(
    predict: &dyn Fn(&[Vec<f32>]) -> Vec<f32>,
    rows: &[Vec<f32>],
    up: &[bool],
    repeats: usize,
    seed: u64,
) -> Vec<f64> {
    let features = rows.first().map_or(0, Vec::len);
    let loss = |rows: &[Vec<f32>]| {
        let p: Vec<f64> = predict(rows).into_iter().map(f64::from).collect();
        log_loss_of(&p, up)
    };
    let base = loss(rows);
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    (0..features)
        .map(|f| {
            let repeats = repeats.max(1);
            let mut grew = 0.0;
            for _ in 0..repeats {
                // A seeded Fisher-Yates shuffle of column f.
                let mut column: Vec<f32> = rows.iter().map(|r| r[f]).collect();
                for i in (1..column.len()).rev() {
                    let j = usize::try_from(next() % (i as u64 + 1)).unwrap_or(0);
                    column.swap(i, j);
                }
                let shuffled: Vec<Vec<f32>> = rows
                    .iter()
                    .zip(&column)
                    .map(|(r, &v)| {
                        let mut r = r.clone();
                        r[f] = v;
                        r
                    })
                    .collect();
                grew += loss(&shuffled) - base;
            }
            grew / repeats as f64
        })
        .collect()
}

/// Accuracy by confidence decile of predictions `p` (made at times `ts`, ascending, labels
/// `horizon_s` ahead) against what happened (`up`). Each decile's interval comes from its
/// effective sample size: the variance of its accuracy is the Newey-West long-run variance of
/// `1[row in decile] * (hit - accuracy)` over every row in time order (a ratio estimator, so
/// neighbouring rows of a decile that share an outcome window count as the evidence they are).
/// Fewer than 10 rows, or fewer than 10 distinct confidences: none.
pub fn confidence_deciles(up: &[bool], p: &[f64], ts: &[i64], horizon_s: i64) -> Vec<ConfidenceDecile> {
    let n = up.len().min(p.len()).min(ts.len());
    // With fewer than ten distinct confidences (a model that makes one constant call), ten
    // "deciles" would be slices of time, not of confidence: none.
    let distinct: std::collections::HashSet<u64> = p[..n].iter().map(|q| (q - 0.5).abs().to_bits()).collect();
    if n < 10 || distinct.len() < 10 {
        return Vec::new();
    }
    let confidence = |i: usize| (p[i] - 0.5).abs();
    let hit = |i: usize| (p[i] > 0.5) == up[i];
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| confidence(a).total_cmp(&confidence(b)).then(a.cmp(&b)));
    let lags = hac_lags(horizon_s, row_step(&ts[..n]));
    (0..10)
        .map(|d| {
            let members = &order[d * n / 10..(d + 1) * n / 10];
            let rows = members.len() as f64;
            let accuracy = members.iter().filter(|&&i| hit(i)).count() as f64 / rows;
            let mut z = vec![0.0; n];
            for &i in members {
                z[i] = f64::from(u8::from(hit(i))) - accuracy;
            }
            let variance = n as f64 * newey_west_variance(&z, lags) / (rows * rows);
            let n_effective = if variance > 0.0 {
                (accuracy * (1.0 - accuracy) / variance).clamp(1.0, rows)
            } else {
                rows
            };
            let (low, high) = wilson_rate(accuracy, n_effective, 1.96);
            ConfidenceDecile {
                decile: d + 1,
                min_confidence: members.first().map_or(0.0, |&i| confidence(i)),
                accuracy,
                n: members.len(),
                n_effective,
                low,
                high,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made over-confident forecaster: the true P(UP) of each row is `q`, the model says
    /// the logit of `q` doubled. Platt must find a ≈ 0.5, b ≈ 0.
    #[test]
    fn platt_undoes_a_known_overconfidence() {
        let mut p = Vec::new();
        let mut up = Vec::new();
        for k in 1..20 {
            let q = f64::from(k) / 20.0;
            // 200 rows at q: exactly round(200 q) of them UP.
            let ups = (200.0 * q).round() as usize;
            for i in 0..200 {
                p.push(sigmoid(2.0 * logit(q)));
                up.push(i < ups);
            }
        }
        let fit = Platt::fit(&p, &up);
        assert!((fit.a - 0.5).abs() < 0.01, "{fit:?}");
        assert!(fit.b.abs() < 0.01, "{fit:?}");
        assert!((fit.apply(sigmoid(2.0 * logit(0.8))) - 0.8).abs() < 0.005);
        // It never makes the log loss worse on what it was fitted on.
        let before = log_loss_of(&p, &up);
        let after: Vec<f64> = p.iter().map(|&x| fit.apply(x)).collect();
        assert!(log_loss_of(&after, &up) < before);
    }

    #[test]
    fn deciles_order_by_confidence_and_shrink_overlapping_evidence() {
        // 2,000 hourly rows; confidence grows with the row's index modulo 100, and the call is
        // right exactly when the index modulo 100 is at least 50 (the confident half).
        let n = 2_000;
        let ts: Vec<i64> = (0..n as i64).map(|i| i * 3600).collect();
        let p: Vec<f64> = (0..n).map(|i| 0.5 + 0.004 * (i % 100) as f64 + 0.001).collect();
        let up: Vec<bool> = (0..n).map(|i| i % 100 >= 50).collect();
        let d = confidence_deciles(&up, &p, &ts, 3600);
        assert_eq!(d.len(), 10);
        assert_eq!(d.iter().map(|d| d.n).sum::<usize>(), n);
        assert!(d.windows(2).all(|w| w[0].min_confidence <= w[1].min_confidence));
        assert_eq!(d[0].accuracy, 0.0);
        assert_eq!(d[9].accuracy, 1.0);
        // Labels of 12 hours on hourly rows: hits repeated in runs of 12 (each run's value a
        // seeded coin flip) are worth far fewer independent rows than their count.
        let mut s = 5_u64;
        let flips: Vec<bool> = (0..n / 12 + 1)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                s >> 63 == 1
            })
            .collect();
        let runs: Vec<bool> = (0..n).map(|i| flips[i / 12]).collect();
        // UP calls whose confidence grows with time: each decile a stretch of 200 hours.
        let flat: Vec<f64> = (0..n).map(|i| 0.6 + i as f64 * 1e-5).collect();
        let short = confidence_deciles(&runs, &flat, &ts, 3600);
        let long = confidence_deciles(&runs, &flat, &ts, 12 * 3600);
        let total = |d: &[ConfidenceDecile]| d.iter().map(|d| d.n_effective).sum::<f64>();
        assert!(
            total(&long) < 0.5 * total(&short),
            "{} vs {}",
            total(&long),
            total(&short)
        );
        assert!(total(&long) < 0.5 * n as f64, "{}", total(&long));
        assert!(long.iter().all(|d| d.low <= d.accuracy && d.accuracy <= d.high));
        // One constant call has no confidence order: no deciles.
        assert!(confidence_deciles(&runs, &vec![0.6; n], &ts, 3600).is_empty());
    }

    #[test]
    fn platt_stays_finite_on_degenerate_input() {
        assert_eq!(Platt::fit(&[0.7], &[true]), Platt::IDENTITY);
        let all_up = Platt::fit(&[0.6; 50], &[true; 50]);
        assert!(all_up.a.is_finite() && all_up.b.is_finite(), "{all_up:?}");
        let separable = Platt::fit(&[0.2, 0.3, 0.7, 0.8], &[false, false, true, true]);
        assert!(
            separable.a.is_finite() && separable.b.is_finite(),
            "{separable:?}"
        );
    }

    #[test]
    fn permutation_importance_ranks_a_planted_feature_first() {
        // Three features: the label is the sign of feature 1; features 0 and 2 are noise the
        // "model" below also reads a little.
        let mut s = 7_u64;
        let mut next = || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 33) as f32) / ((1_u64 << 31) as f32) - 0.5
        };
        let rows: Vec<Vec<f32>> = (0..2_000).map(|_| vec![next(), next(), next()]).collect();
        let up: Vec<bool> = rows.iter().map(|r| r[1] > 0.0).collect();
        let model = |rows: &[Vec<f32>]| -> Vec<f32> {
            rows.iter()
                .map(|r| 1.0 / (1.0 + (-(6.0 * r[1] + 0.5 * r[0] - 0.5 * r[2])).exp()))
                .collect()
        };
        let imp = permutation_importance(&model, &rows, &up, 3, 1);
        assert_eq!(imp.len(), 3);
        assert!(imp[1] > imp[0] && imp[1] > imp[2], "{imp:?}");
        assert!(imp[1] > 0.1, "{imp:?}");
        // Seeded: the same numbers again.
        assert_eq!(imp, permutation_importance(&model, &rows, &up, 3, 1));
    }
}
