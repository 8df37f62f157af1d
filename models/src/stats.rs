//! Multiple-testing corrections: when several models are tested at once, some pass a 5% test by
//! chance alone. Every "beats" mark coincast shows across a family of models uses these, and
//! says which.

/// Holm's step-down adjustment (family-wise error rate): the adjusted p-values, in the order of
/// `p`. A model is significant at level `a` across the family when its adjusted value is below
/// `a`. Holm is uniformly more powerful than Bonferroni and valid under any dependence.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
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
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![1.0; m];
    let mut running: f64 = 1.0;
    for (rank, &i) in order.iter().enumerate().rev() {
        let adjusted = (p[i] * m as f64 / (rank + 1) as f64).min(1.0);
        running = running.min(adjusted);
        out[i] = running;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
