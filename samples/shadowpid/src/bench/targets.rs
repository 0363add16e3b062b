// SPDX-License-Identifier: GPL-2.0
//! The issue's targets, evaluated on the rows of a run.

use super::Row;
use serde::{Deserialize, Serialize};

/// A target of the issue and whether this run met it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    /// The target, as the issue words it.
    pub name: String,
    /// The measured value.
    pub value: f64,
    /// The bound.
    pub bound: f64,
    /// Whether `value` is within `bound`.
    pub met: bool,
}

/// The first row of `figure` whose params are `params`.
fn find<'a>(rows: &'a [Row], figure: u32, params: &str) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.figure == figure && r.params.starts_with(params))
}

/// The issue's targets, evaluated on this run's rows: against the running
/// kernel's column where the kernel has the function, against the rebuild
/// where it has not (numbers alone).
pub(super) fn targets(rows: &[Row]) -> Vec<Target> {
    let mut t = vec![];
    let mut at_most = |name: String, value: Option<f64>, bound: f64| {
        if let Some(value) = value {
            t.push(Target {
                name,
                value,
                bound,
                met: value <= bound,
            });
        }
    };
    let vs_kernel = |f, p: &str| {
        find(rows, f, p)
            .and_then(|r| r.ratio_kernel)
            .map(|r| r.mean)
    };
    let mean = |f, p: &str| find(rows, f, p).and_then(|r| r.shadow).map(|s| s.mean);
    let as_is = "depth=1 pop=as is";
    for r in rows.iter().filter(|r| r.figure == 1 && r.x == 0) {
        at_most(
            format!(
                "(1) numbers, {}: shadow/rebuild <= 0.5 (the kernel has no numbers-only call)",
                r.params
            ),
            r.ratio_rebuild.map(|r| r.mean),
            0.5,
        );
    }
    for r in rows
        .iter()
        .filter(|r| r.figure == 2 && (r.params.contains("as is") || r.params.contains("populated")))
    {
        at_most(
            format!("(2) full, {}: shadow/kernel <= 0.8", r.params),
            r.ratio_kernel.map(|r| r.mean),
            0.8,
        );
    }
    for r in rows.iter().filter(|r| r.figure == 3 || r.figure == 4) {
        let what = if r.figure == 3 {
            "(3) lookup"
        } else {
            "(4) walk"
        };
        at_most(
            format!("{what}, {}: shadow/kernel <= 1.0", r.params),
            r.ratio_kernel.map(|r| r.mean),
            1.0,
        );
    }
    at_most(
        "(6) worst case <= 50 x the fast-path pair of figure 1 (as is)".into(),
        mean(6, "").zip(mean(1, as_is)).map(|(w, f)| w / f),
        50.0,
    );
    if let Some(w) = find(rows, 6, "") {
        let pid_max = w.x;
        let pages = pid_max.div_ceil(32768) + 1;
        at_most(
            format!("(6) pages visited <= {pages} (every page once, the hole's twice)"),
            Some(w.work[0] as f64),
            pages as f64,
        );
        at_most(
            "(6) words scanned <= 513 (one page of 512 words, + the wrap)".into(),
            Some(w.work[1] as f64),
            513.0,
        );
    }
    at_most(
        "(1) numbers, as is, within 4 x the floor (8)".into(),
        mean(1, as_is).zip(mean(8, "")).map(|(a, f)| a / f),
        4.0,
    );
    for p in ["depth=1 pop=+32768 dense", "depth=1 pop=+1048576 dense"] {
        at_most(
            format!("(7) memory, {p}: shadow/kernel <= 1.0"),
            vs_kernel(7, p),
            1.0,
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::targets;
    use crate::bench::fake;

    #[test]
    fn targets_follow_the_issue() {
        let mut w = fake(6, "pid_max=4194304", 400.0, 100.0);
        (w.x, w.work) = (4_194_304, [129, 513]);
        let rows = vec![
            fake(1, "depth=1 pop=as is (churn)", 10.0, 40.0),
            fake(2, "depth=1 pop=as is (churn)", 90.0, 100.0),
            fake(2, "depth=4 pop=populated 50%", 70.0, 100.0),
            fake(3, "depth=1 pop=+1000 dense", 120.0, 100.0),
            w,
            fake(8, "one word", 3.0, 0.0),
        ];
        let t = targets(&rows);
        let get = |prefix: &str| t.iter().find(|t| t.name.starts_with(prefix)).unwrap();
        assert!(get("(1) numbers, depth=1 pop=as is (churn): shadow/rebuild").met);
        assert!(!get("(2) full, depth=1").met, "0.9 > 0.8");
        assert!(get("(2) full, depth=4 pop=populated 50%").met, "0.7");
        assert!(!get("(3) lookup").met, "1.2 > 1.0");
        assert!(
            !t.iter().any(|t| t.name.starts_with("(5)")),
            "no scaling target under TCG"
        );
        assert!(get("(6) worst case").met, "40 x the fast path");
        assert!(get("(6) pages visited").met);
        assert!(get("(6) words scanned").met);
        assert!(
            get("(1) numbers, as is, within 4 x the floor").met,
            "10 / 3"
        );
    }
}
