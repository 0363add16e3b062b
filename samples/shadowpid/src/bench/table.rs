// SPDX-License-Identifier: GPL-2.0
//! The report as a text table, and the sanity check of `make check`.

use super::{Report, Stat};
use std::fmt::Write as _;

/// The report as a table.
pub fn table(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "shadowpid bench: Linux {}, {} vCPU, {}, pid hash {} buckets; median (min..max) of {} repetitions",
        r.kernel, r.cpus, r.accel, r.hash_buckets, r.reps
    );
    let stat = |st: &Option<Stat>| {
        st.map_or("-".to_string(), |st| {
            format!("{:.1} ({:.1}..{:.1})", st.median, st.min, st.max)
        })
    };
    let _ = writeln!(
        s,
        "{} pids in the initial namespace before the run (the state \"as is\" starts from), pid_max {}",
        r.initial_pids, r.pid_max
    );
    let ratio = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.2}"));
    let _ = writeln!(
        s,
        "{:<3} {:<52} {:<46} {:<14} {:>26} {:>26} {:>26} {:>7} {:>7}",
        "fig", "what", "params", "unit", "shadow", "rebuild", "kernel", "s/reb", "s/kern"
    );
    for row in &r.rows {
        let _ = writeln!(
            s,
            "{:<3} {:<52} {:<46} {:<14} {:>26} {:>26} {:>26} {:>7} {:>7}",
            row.figure,
            row.name,
            row.params,
            row.unit,
            stat(&row.shadow),
            stat(&row.rebuild),
            stat(&row.kernel),
            ratio(row.ratio_rebuild),
            ratio(row.ratio_kernel),
        );
        if row.figure == 6 {
            let _ = writeln!(
                s,
                "    work of the worst allocation: {} pages visited, {} words scanned",
                row.work[0], row.work[1]
            );
        }
    }
    for (state, curve) in scaling(r) {
        let _ = writeln!(
            s,
            "scaling, {state}: throughput at N CPUs / at 1 CPU, per column:"
        );
        for (cpus, [sh, reb, ker]) in curve {
            let f = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.2}"));
            let _ = writeln!(
                s,
                "    {cpus} CPUs: shadow {}, rebuild {}, kernel {}",
                f(sh),
                f(reb),
                f(ker)
            );
        }
    }
    let _ = writeln!(s, "targets ({}):", r.accel);
    for t in &r.targets {
        let _ = writeln!(
            s,
            "  [{}] {}: {:.3} (bound {:.3})",
            if t.met { "met " } else { "MISS" },
            t.name,
            t.value,
            t.bound
        );
    }
    s
}

/// A scaling curve: per CPU count, the shadow's, the rebuild's and the
/// kernel's normalised throughput.
pub type Curve = Vec<(u64, [Option<f64>; 3])>;

/// The scaling curves of figure 5: per state, per CPU count, each column's
/// throughput normalised to its own 1-CPU figure (wall time per pair at 1
/// CPU over wall time per pair at N).
pub fn scaling(r: &Report) -> Vec<(String, Curve)> {
    let state = |row: &super::Row| row.params.split_once(' ').map_or("", |p| p.1).to_string();
    let mut out: Vec<(String, Curve)> = vec![];
    for row in r.rows.iter().filter(|row| row.figure == 5) {
        let st = state(row);
        let Some(one) = r
            .rows
            .iter()
            .find(|o| o.figure == 5 && o.x == 1 && state(o) == st)
        else {
            continue;
        };
        let norm =
            |a: &Option<Stat>, b: &Option<Stat>| a.zip(*b).map(|(one, n)| one.median / n.median);
        let point = (
            row.x,
            [
                norm(&one.shadow, &row.shadow),
                norm(&one.rebuild, &row.rebuild),
                norm(&one.kernel, &row.kernel),
            ],
        );
        match out.iter_mut().find(|(s, _)| *s == st) {
            Some((_, curve)) => curve.push(point),
            None => out.push((st, vec![point])),
        }
    }
    out
}

/// Whether every row has positive numbers on every column it should have:
/// the shadow always; the rebuild but for the floor (8); the running kernel
/// on the figures whose function the kernel has (2, 3, 4, 5, 7, 10).
pub fn sane(r: &Report) -> bool {
    let positive = |s: &Option<Stat>| s.is_some_and(|s| s.min > 0.0);
    r.rows.iter().all(|row| {
        positive(&row.shadow)
            && (row.figure == 8 || positive(&row.rebuild))
            && (![2, 3, 4, 5, 7, 10].contains(&row.figure) || positive(&row.kernel))
    }) && !r.targets.is_empty()
}
