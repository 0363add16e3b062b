// SPDX-License-Identifier: GPL-2.0
//! The statistics of a figure: median, min and max of its repetitions.

use serde::{Deserialize, Serialize};

/// Median, min and max of a figure's repetitions, ns per operation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Stat {
    /// Median.
    pub median: f64,
    /// Fastest repetition.
    pub min: f64,
    /// Slowest repetition.
    pub max: f64,
}

impl Stat {
    /// From per-repetition picoseconds.
    pub(super) fn of(ps: &[u64]) -> Option<Self> {
        let mut ns: Vec<f64> = ps.iter().map(|&p| p as f64 / 1000.0).collect();
        if ns.is_empty() || ns.iter().any(|&v| v <= 0.0) {
            return None;
        }
        ns.sort_by(f64::total_cmp);
        let mid = ns.len() / 2;
        let median = if ns.len() % 2 == 1 {
            ns[mid]
        } else {
            (ns[mid - 1] + ns[mid]) / 2.0
        };
        Some(Self {
            median,
            min: ns[0],
            max: ns[ns.len() - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Stat;

    #[test]
    fn median_min_max_of_repetitions() {
        let s = Stat::of(&[5000, 1000, 3000, 2000, 4000]).unwrap();
        assert_eq!((s.median, s.min, s.max), (3.0, 1.0, 5.0));
        let s = Stat::of(&[1000, 4000, 2000, 3000]).unwrap();
        assert_eq!(s.median, 2.5);
        assert!(Stat::of(&[]).is_none());
        assert!(
            Stat::of(&[1000, 0]).is_none(),
            "a zero time is not a measurement"
        );
    }
}
