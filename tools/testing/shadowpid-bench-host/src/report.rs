// SPDX-License-Identifier: GPL-2.0
//! Runs the figures, and writes what they found: a table and JSON.

use crate::{
    figures::{self, Plan, Row},
    kernel::{self, Thread},
    shadow,
    stats::Interval,
};
use serde::Serialize;
use std::{fmt::Write as _, fs, path::Path};

/// Runs every figure (or those of `only`) on this thread, pinned to CPU 0,
/// with the process's one shadow table of 4096 buckets.
pub(crate) fn run(plan: &Plan, only: &[String]) -> Vec<Row> {
    let want = |f: &str| only.is_empty() || only.iter().any(|o| o == f);
    figures::pin(0);
    let t = Thread::enter();
    let table = shadow::table(12);
    let mut rows = Vec::new();
    if want("1") {
        figures::pairs(&t, plan, &mut rows);
    }
    if want("3") {
        figures::lookups(&t, plan, &mut rows);
    }
    if want("5") {
        figures::threads(&t, plan, &mut rows);
    }
    drop(table);
    t.rcu_barrier();
    rows
}

/// Where the figures were measured.
#[derive(Debug, Serialize)]
pub(crate) struct Machine {
    /// `/proc/cpuinfo`'s model name.
    pub(crate) cpu: String,
    /// CPUs online.
    pub(crate) cpus: usize,
    /// The running kernel (`uname -r`).
    pub(crate) kernel: String,
    /// Whether liburcu's readers are a compiler barrier (`sys_membarrier`).
    pub(crate) sys_membarrier: bool,
    /// `sizeof(struct xa_node)`.
    pub(crate) xa_node_bytes: usize,
    /// Repetitions per row.
    pub(crate) reps: usize,
}

impl Machine {
    /// This machine, and the plan's repetitions.
    pub(crate) fn read(plan: &Plan) -> Self {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown".into(), |(_, m)| m.trim().to_string());
        let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        Self {
            cpu,
            cpus: figures::num_cpus(),
            kernel: release.trim().into(),
            sys_membarrier: kernel::has_sys_membarrier(),
            xa_node_bytes: kernel::node_size(),
            reps: plan.reps,
        }
    }
}

/// `mean (lo..hi)`, to a precision that suits the magnitude.
fn iv(i: &Interval) -> String {
    let p = |x: f64| {
        if x.abs() >= 100.0 {
            format!("{x:.0}")
        } else if x.abs() >= 10.0 {
            format!("{x:.1}")
        } else {
            format!("{x:.2}")
        }
    };
    if i.lo == i.hi {
        p(i.mean)
    } else {
        format!("{} ({}..{})", p(i.mean), p(i.lo), p(i.hi))
    }
}

/// The table: one line per row, the extras indented under it.
pub(crate) fn table(m: &Machine, rows: &[Row]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "shadowpid-bench-host: {}, {} CPUs, Linux {}; mean (95 % interval) of {} paired \
         repetitions, ratio = geometric mean of shadow/kernel per repetition; liburcu \
         sys_membarrier {}, struct xa_node {} B",
        m.cpu,
        m.cpus,
        m.kernel,
        m.reps,
        if m.sys_membarrier { "yes" } else { "no" },
        m.xa_node_bytes
    );
    let _ = writeln!(
        s,
        "{:<4} {:<72} {:<60} {:>3} {:<15} {:>26} {:>26} {:>22}",
        "fig", "what", "state", "thr", "unit", "shadow", "kernel", "shadow/kernel"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:<4} {:<72} {:<60} {:>3} {:<15} {:>26} {:>26} {:>22}",
            r.fig,
            r.what,
            r.state,
            r.threads,
            r.unit,
            iv(&r.shadow),
            iv(&r.kernel),
            iv(&r.ratio)
        );
        for (what, i) in &r.extra {
            let _ = writeln!(s, "       {what}: {}", iv(i));
        }
    }
    s
}

/// The machine and the rows, as JSON, to `path`.
pub(crate) fn write_json(path: &Path, m: &Machine, rows: &[Row]) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct Out<'a> {
        machine: &'a Machine,
        rows: &'a [Row],
    }
    fs::write(
        path,
        serde_json::to_string_pretty(&Out { machine: m, rows })? + "\n",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every figure, tiny, on both columns: the seams hold (the figures
    /// assert what every lookup and walk must find) and every number is a
    /// positive time.
    #[test]
    fn smoke() {
        let plan = Plan {
            reps: 2,
            pairs: 100,
            lookups: 1_000,
            big: 5_000,
        };
        let rows = run(&plan, &[]);
        for fig in ["1", "3", "4", "5", "7"] {
            assert!(rows.iter().any(|r| r.fig == fig), "figure {fig} missing");
        }
        for r in &rows {
            assert!(r.shadow.mean > 0.0 && r.kernel.mean > 0.0, "{r:?}");
            assert!(r.ratio.mean.is_finite(), "{r:?}");
        }
        let m = Machine::read(&plan);
        assert_eq!(m.xa_node_bytes, 576);
        assert!(table(&m, &rows).lines().count() > rows.len());
    }
}
