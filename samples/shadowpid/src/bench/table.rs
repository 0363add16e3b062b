// SPDX-License-Identifier: GPL-2.0
//! The report as a text table, and the sanity check of `make check`.

use super::{Interval, Report, Row};
use crate::abi;
use std::fmt::Write as _;

/// A mean and its interval, to the precision its size asks for.
fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// "mean (lo..hi)", or "-".
fn interval(st: &Option<Interval>) -> String {
    st.map_or("-".to_string(), |st| {
        if st.lo == st.hi {
            num(st.mean)
        } else {
            format!("{} ({}..{})", num(st.mean), num(st.lo), num(st.hi))
        }
    })
}

/// The mean of `a[i]` less every `b[j][i]` over the repetitions of one
/// figure, in ns, with its 95 % interval.
fn paired_difference(a: &[u64], b: &[&[u64]]) -> Option<Interval> {
    if a.is_empty() || b.iter().any(|b| a.len() != b.len()) {
        return None;
    }
    let d: Vec<f64> = (0..a.len())
        .map(|i| (a[i] as f64 - b.iter().map(|b| b[i] as f64).sum::<f64>()) / 1000.0)
        .collect();
    Some(super::stats::mean(&d))
}

/// The report as a table.
pub fn table(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "shadowpid bench: Linux {}, {} vCPU, {}, pid hash {} buckets; mean (95 % interval) of {} \
         repetitions, the columns in balanced orders; ratios paired per repetition \
         (geometric mean, 95 % interval)",
        r.kernel, r.cpus, r.accel, r.hash_buckets, r.reps
    );
    let _ = writeln!(
        s,
        "{} pids in the initial namespace before the run (the state \"as is\" starts from), pid_max {}",
        r.initial_pids, r.pid_max
    );
    let _ = writeln!(
        s,
        "{:<3} {:<52} {:<40} {:<14} {:>24} {:>24} {:>24} {:>18} {:>18}",
        "fig", "what", "params", "unit", "shadow", "rebuild", "kernel", "s/reb", "s/kern"
    );
    for row in &r.rows {
        let _ = writeln!(
            s,
            "{:<3} {:<52} {:<40} {:<14} {:>24} {:>24} {:>24} {:>18} {:>18}",
            row.figure,
            row.name,
            row.params,
            row.unit,
            interval(&row.shadow),
            interval(&row.rebuild),
            interval(&row.kernel),
            interval(&row.ratio_rebuild),
            interval(&row.ratio_kernel),
        );
        if row.figure == 6 {
            let _ = writeln!(
                s,
                "    work of the worst allocation: {} pages visited, {} words scanned",
                row.work[0], row.work[1]
            );
        }
        if [1, 2, 5].contains(&row.figure) && row.drain.iter().any(Option::is_some) {
            let _ = writeln!(
                s,
                "    rcu_barrier() after each repetition, ns per op (not above): shadow {}, rebuild {}, kernel {}",
                interval(&row.drain[0]),
                interval(&row.drain[1]),
                interval(&row.drain[2])
            );
        }
        if let Some(b) = row.baseline {
            let _ = writeln!(
                s,
                "    the same loop over the same keys, an empty call, ns per key: {}",
                interval(&Some(b))
            );
        }
        match row.pidfs {
            Some(p) => {
                let _ = writeln!(
                    s,
                    "    of the kernel's: pidfs's table of every pid, {p:.1} bytes per pid"
                );
            }
            None if row.figure == 7 && row.kernel.is_some() => {
                let _ = writeln!(
                    s,
                    "    pidfs's table not counted: its size cannot be read on this kernel (no CONFIG_KALLSYMS_ALL)"
                );
            }
            None => {}
        }
    }
    let breakdown = phases(r);
    if !breakdown.is_empty() {
        let _ = writeln!(
            s,
            "the pair in steps, ns, each a difference paired per repetition (figure 2's pair cut \
             short after each step, timed as further columns in the same repetitions):"
        );
        for (state, [num_s, num_r, obj_s, obj_r, pub_s, pub_r, kernel_only, pidfs, other]) in
            breakdown
        {
            let _ = writeln!(
                s,
                "    {state}: numbers shadow {}, rebuild {} (its IDR insertions); struct pid \
                 shadow {}, rebuild {}; publishing (the shadow: pidmap_lock, the hash's insert \
                 and remove; the rebuild: idr_replace() under the lock it holds) shadow {}, \
                 rebuild {}; the kernel's beyond the rebuild {}: pidfs's table (timed alone) {}, \
                 the rest (the namespace reference, the set_tid pre-pass, the real pidmap_lock) {}",
                interval(&num_s),
                interval(&num_r),
                interval(&obj_s),
                interval(&obj_r),
                interval(&pub_s),
                interval(&pub_r),
                interval(&kernel_only),
                interval(&pidfs),
                interval(&other)
            );
        }
    }
    for (state, curve) in scaling(r) {
        let _ = writeln!(
            s,
            "scaling, {state}: throughput at N CPUs / at 1 CPU, per column ({}: {}):",
            r.accel,
            if r.accel == "TCG" {
                "vCPUs are QEMU's threads on the host's cores, this is not the allocators' scaling"
            } else {
                "vCPUs"
            }
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

/// The pair of figure 2 in steps, for every row that has them, each paired
/// per repetition: the numbers (the pair cut short after them: shadow,
/// rebuild), the struct pid (cut short after it, less the numbers), the
/// publishing (the whole pair less that), and what the kernel does beyond
/// the rebuild (kernel less rebuild), of it pidfs's part (timed alone), and
/// the rest (kernel less rebuild less pidfs).
pub fn phases(r: &Report) -> Vec<(String, [Option<Interval>; 9])> {
    use abi::{
        SHADOWPID_BENCH_PART_REBUILD_NUMBERS as RN, SHADOWPID_BENCH_PART_REBUILD_OBJECT as RO,
        SHADOWPID_BENCH_PART_SHADOW_NUMBERS as SN, SHADOWPID_BENCH_PART_SHADOW_OBJECT as SO,
    };
    let mut out = vec![];
    for full in r.rows.iter().filter(|row| row.figure == 2) {
        let part = |p: u32| full.parts_ps.get(p as usize).map(Vec::as_slice);
        let (Some(sn), Some(so), Some(rn), Some(ro)) = (part(SN), part(SO), part(RN), part(RO))
        else {
            continue;
        };
        out.push((
            full.params.clone(),
            [
                paired_difference(sn, &[]),
                paired_difference(rn, &[]),
                paired_difference(so, &[sn]),
                paired_difference(ro, &[rn]),
                paired_difference(&full.shadow_ps, &[so]),
                paired_difference(&full.rebuild_ps, &[ro]),
                paired_difference(&full.kernel_ps, &[&full.rebuild_ps]),
                full.pidfs_time,
                paired_difference(&full.kernel_ps, &[&full.rebuild_ps, &full.pidfs_ps]),
            ],
        ));
    }
    out
}

/// A scaling curve: per CPU count, the shadow's, the rebuild's and the
/// kernel's normalised throughput.
pub type Curve = Vec<(u64, [Option<f64>; 3])>;

/// The scaling curves of figure 5: per state, per CPU count, each column's
/// throughput normalised to its own 1-CPU figure (wall time per pair at 1
/// CPU over wall time per pair at N).
pub fn scaling(r: &Report) -> Vec<(String, Curve)> {
    let state = |row: &Row| row.params.split_once(' ').map_or("", |p| p.1).to_string();
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
        let norm = |a: &Option<Interval>, b: &Option<Interval>| {
            a.zip(*b).map(|(one, n)| one.mean / n.mean)
        };
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
/// on the figures whose function the kernel has (2, 3, 4, 5, 7, 10, 11),
/// except the rows that leave it out by design (populated past 90 %); and
/// pidfs's part beside the kernel's pair (2), and every step of the pair (2).
pub fn sane(r: &Report) -> bool {
    let positive = |s: &Option<Interval>| s.is_some_and(|s| s.mean > 0.0);
    let kernel_expected = |row: &Row| {
        [2, 3, 4, 5, 7, 10, 11].contains(&row.figure) && !row.params.contains("populated 99")
    };
    r.rows.iter().all(|row| {
        positive(&row.shadow)
            && (row.figure == 8 || positive(&row.rebuild))
            && (!kernel_expected(row) || positive(&row.kernel))
            && (row.figure != 2 || row.kernel.is_none() || positive(&row.pidfs_time))
            && (row.figure != 2
                || (row.parts_ps.len() == abi::SHADOWPID_BENCH_PARTS as usize
                    && row.parts_ps.iter().flatten().all(|&p| p > 0)))
    }) && !r.targets.is_empty()
}
