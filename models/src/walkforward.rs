//! Walk-forward splits: train on the past, test on the next block, roll forward.
//!
//! Samples are in time order and each one's label looks `horizon_s` ahead of its prediction time.
//! A training sample whose label window reaches into the test block would leak the test period's
//! prices into training, so it is purged; `embargo_s` keeps a further safety gap.

use std::ops::Range;

/// One fold: rows to train on and the rows right after them to test on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Range<usize>,
    pub test: Range<usize>,
}

/// How to cut the samples.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkForward {
    /// The number of test blocks.
    pub folds: usize,
    /// The share of samples before the first test block (the first training set).
    pub initial_train_fraction: f64,
    /// How far each label looks ahead, in seconds.
    pub horizon_s: i64,
    /// An extra gap between the last training label and the test block, in seconds.
    pub embargo_s: i64,
}

impl WalkForward {
    /// The splits for samples with prediction times `ts` (sorted ascending). Test blocks are
    /// consecutive and do not overlap; each training set ends where its labels are known before
    /// the test block starts (minus the embargo). Folds with no training rows are left out.
    pub fn splits(&self, ts: &[i64]) -> Vec<Split> {
        let n = ts.len();
        let folds = self.folds.max(1);
        let start = ((n as f64) * self.initial_train_fraction.clamp(0.0, 1.0)).round() as usize;
        if start >= n {
            return Vec::new();
        }
        let block = (n - start).div_ceil(folds);
        let mut out = Vec::new();
        let mut a = start;
        while a < n {
            let b = (a + block).min(n);
            // Training rows j need ts[j] + horizon + embargo <= ts[a].
            let limit = ts[a] - self.horizon_s - self.embargo_s;
            let train_end = ts[..a].partition_point(|&t| t <= limit);
            if train_end > 0 {
                out.push(Split {
                    train: 0..train_end,
                    test: a..b,
                });
            }
            a = b;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hourly(n: usize) -> Vec<i64> {
        (0..n as i64).map(|i| i * 3600).collect()
    }

    #[test]
    fn test_blocks_cover_the_tail_once_without_overlap() {
        let wf = WalkForward {
            folds: 4,
            initial_train_fraction: 0.5,
            horizon_s: 3600,
            embargo_s: 0,
        };
        let splits = wf.splits(&hourly(100));
        assert_eq!(splits.len(), 4);
        let tested: Vec<usize> = splits.iter().flat_map(|s| s.test.clone()).collect();
        assert_eq!(tested, (50..100).collect::<Vec<_>>());
        for s in &splits {
            assert!(s.train.end <= s.test.start);
        }
    }

    #[test]
    fn purge_and_embargo_keep_labels_out_of_the_test_block() {
        let ts = hourly(200);
        let wf = WalkForward {
            folds: 5,
            initial_train_fraction: 0.5,
            horizon_s: 6 * 3600,
            embargo_s: 2 * 3600,
        };
        for s in wf.splits(&ts) {
            let last_train = s.train.end - 1;
            // The last training label is known (plus embargo) by the start of the test block ...
            assert!(ts[last_train] + wf.horizon_s + wf.embargo_s <= ts[s.test.start]);
            // ... and the first purged row would not be.
            assert!(ts[s.train.end] + wf.horizon_s + wf.embargo_s > ts[s.test.start]);
            assert_eq!(
                s.test.start - s.train.end,
                7,
                "rows whose label + embargo end after the test start are purged"
            );
        }
    }

    #[test]
    fn degenerate_inputs_give_no_splits() {
        let wf = WalkForward {
            folds: 3,
            initial_train_fraction: 1.0,
            horizon_s: 60,
            embargo_s: 0,
        };
        assert!(wf.splits(&hourly(10)).is_empty());
        assert!(wf.splits(&[]).is_empty());
        let wf = WalkForward {
            folds: 3,
            initial_train_fraction: 0.1,
            horizon_s: 100 * 3600,
            embargo_s: 0,
        };
        assert!(
            wf.splits(&hourly(50)).is_empty(),
            "labels too long for any training row"
        );
    }
}
