// SPDX-License-Identifier: GPL-2.0
//! Paired repetitions: a mean with its 95 % interval (Student's t), and the
//! ratio of two columns measured in the same repetitions as the geometric
//! mean of the per-repetition ratios, with the interval of that mean (the
//! t interval of the log-ratios, exponentiated).
//!
//! One file for both benchmarks: the host benchmark
//! (`tools/testing/shadowpid-bench-host`) builds it through `#[path]`.

use serde::{Deserialize, Serialize};

/// Two-sided 95 % quantiles of Student's t for 1..=30 degrees of freedom.
const T95: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The t quantile for `df` degrees of freedom (past 30, 1.96: t is 2.04 at
/// 31, so the interval is up to 4 % narrow there; the benchmarks run at
/// most 16 repetitions).
fn t95(df: usize) -> f64 {
    match df {
        0 => f64::NAN,
        1..=30 => T95[df - 1],
        _ => 1.96,
    }
}

/// A mean and its 95 % interval (one value: an interval of no width).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Interval {
    /// The mean.
    pub mean: f64,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

impl Interval {
    /// One exact value.
    pub fn exact(v: f64) -> Self {
        Self {
            mean: v,
            lo: v,
            hi: v,
        }
    }
}

/// Mean and 95 % interval of `xs` (one value: itself; none: NaN).
pub fn mean(xs: &[f64]) -> Interval {
    match xs.len() {
        0 => return Interval::exact(f64::NAN),
        1 => return Interval::exact(xs[0]),
        _ => {}
    }
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    let half = t95(xs.len() - 1) * (var / n).sqrt();
    Interval {
        mean: m,
        lo: m - half,
        hi: m + half,
    }
}

/// The geometric mean of `a[i] / b[i]` and its 95 % interval.
pub fn ratio(a: &[f64], b: &[f64]) -> Interval {
    let logs: Vec<f64> = a.iter().zip(b).map(|(x, y)| (x / y).ln()).collect();
    let l = mean(&logs);
    Interval {
        mean: l.mean.exp(),
        lo: l.lo.exp(),
        hi: l.hi.exp(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_of_known_samples() {
        // mean 3, s = sqrt(2.5), n = 5: half = 2.776 * sqrt(2.5 / 5).
        let i = mean(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!((i.mean - 3.0).abs() < 1e-12);
        assert!((i.hi - 3.0 - 2.776 * 0.5f64.sqrt()).abs() < 1e-9);
        let one = mean(&[7.0]);
        assert_eq!((one.mean, one.lo, one.hi), (7.0, 7.0, 7.0));
    }

    #[test]
    fn ratio_is_paired() {
        // Both columns swing together: the ratio is exactly 0.5 each time.
        let a = [1.0, 10.0, 100.0];
        let b = [2.0, 20.0, 200.0];
        let r = ratio(&a, &b);
        assert!((r.mean - 0.5).abs() < 1e-12 && (r.hi - r.lo).abs() < 1e-12);
    }
}
