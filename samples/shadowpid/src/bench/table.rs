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
        "{:<3} {:<56} {:<34} {:<14} {:>28} {:>28} {:>7}",
        "fig", "what", "params", "unit", "shadow", "native", "ratio"
    );
    for row in &r.rows {
        let _ = writeln!(
            s,
            "{:<3} {:<56} {:<34} {:<14} {:>28} {:>28} {:>7}",
            row.figure,
            row.name,
            row.params,
            row.unit,
            stat(&row.shadow),
            stat(&row.native),
            row.ratio.map_or("-".into(), |x| format!("{x:.2}")),
        );
        if row.figure == 6 {
            let _ = writeln!(
                s,
                "    work of the worst allocation: {} pages visited, {} words scanned",
                row.work[0], row.work[1]
            );
        }
    }
    if let Some(t) = &r.traced {
        let _ = writeln!(
            s,
            "real native (function_graph, {} forks in a new PID namespace): alloc_pid {} ns over {} calls, free_pid {} ns over {} calls; {}",
            t.forks,
            stat(&t.alloc_pid),
            t.alloc_calls,
            stat(&t.free_pid),
            t.free_calls,
            t.note
        );
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

/// Whether every row has positive numbers and every ratio was computed.
pub fn sane(r: &Report) -> bool {
    r.rows.iter().all(|row| {
        row.shadow.is_some_and(|s| s.min > 0.0)
            && (row.figure == 8 || row.native.is_some_and(|n| n.min > 0.0))
            && (row.figure == 8 || row.ratio.is_some_and(f64::is_finite))
    }) && !r.targets.is_empty()
}
