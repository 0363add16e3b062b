// SPDX-License-Identifier: GPL-2.0
//! `shadowpid bench`: the in-kernel benchmark (`SHADOWPID_IOC_BENCH`) driven
//! figure by figure, summarised (median, min, max of the repetitions; the
//! shadow/native ratio of the medians), checked against the targets, and
//! the real native `alloc_pid()`/`free_pid()` timed by the function_graph
//! tracer during a fork/exit storm in a fresh PID namespace.
//!
//! `shadowpid plot` draws the latency against occupancy from the JSON.

mod stats;
mod svg;
mod table;
mod targets;
mod trace;

pub use self::{
    stats::Stat,
    svg::plot,
    table::{sane, table},
    targets::Target,
    trace::Traced,
};

use crate::{abi, Device};
use serde::{Deserialize, Serialize};
use std::{fs, io};

/// How much to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Repetitions of every timed figure (at least 5 for the real run).
    pub reps: u32,
    /// A short pass that only proves every figure works (make check).
    pub smoke: bool,
    /// Figures to run (1..10); all if empty.
    pub only: Vec<u32>,
}

/// One measured row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// Figure number of the issue (1..8; 9 is the occupancy sweep, 10 the
    /// lookups that read the pid found).
    pub figure: u32,
    /// What was measured.
    pub name: String,
    /// Its parameters, e.g. "live=32768".
    pub params: String,
    /// Unit of the stats: "ns/op", "ns/pair", "ns/step", "bytes/pid".
    pub unit: String,
    /// The shadow.
    pub shadow: Option<Stat>,
    /// The native-style path.
    pub native: Option<Stat>,
    /// shadow median / native median.
    pub ratio: Option<f64>,
    /// Raw picoseconds per repetition, shadow.
    pub shadow_ps: Vec<u64>,
    /// Raw picoseconds per repetition, native.
    pub native_ps: Vec<u64>,
    /// WORST: most pages visited and words scanned by one allocation.
    pub work: [u64; 2],
    /// OCCUPANCY: parts per million taken; LOOKUP/WALK/MEMORY: live pids.
    pub x: u64,
}

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// `uname -r` of the guest.
    pub kernel: String,
    /// CPUs online.
    pub cpus: u32,
    /// "KVM" or "TCG" (as scripts/vm said), or "unknown".
    pub accel: String,
    /// Repetitions per figure.
    pub reps: u32,
    /// Short pass.
    pub smoke: bool,
    /// Buckets of the module's pid hash (its `pidhash_shift`).
    pub hash_buckets: u32,
    /// Every row.
    pub rows: Vec<Row>,
    /// Targets and whether they were met.
    pub targets: Vec<Target>,
    /// The traced native allocator.
    pub traced: Option<Traced>,
}

/// Inputs of one figure.
#[derive(Default, Clone, Copy)]
struct Ask {
    /// Operations per repetition.
    iterations: u32,
    /// Live pids.
    live: u32,
    /// Depth.
    depth: u32,
    /// Threads.
    cpus: u32,
    /// Parts per million taken.
    occupancy: u32,
    /// pid_max.
    pid_max: u32,
}

/// Runs figure `figure` with `ask` and `reps`.
fn measure(dev: &Device, figure: u32, reps: u32, ask: Ask) -> io::Result<abi::shadowpid_bench> {
    let mut b = abi::shadowpid_bench {
        figure,
        reps,
        iterations: ask.iterations,
        live: ask.live,
        depth: ask.depth,
        cpus: ask.cpus,
        occupancy: ask.occupancy,
        pid_max: ask.pid_max,
        ..Default::default()
    };
    dev.bench_raw(&mut b)?;
    Ok(b)
}

/// A row from a timed answer.
fn row(
    figure: u32,
    name: &str,
    params: String,
    unit: &str,
    b: &abi::shadowpid_bench,
    x: u64,
) -> Row {
    let n = b.reps as usize;
    let shadow_ps = b.shadow_ps[..n].to_vec();
    let native_ps: Vec<u64> = if b.native_ps[..n].iter().all(|&p| p == 0) {
        vec![]
    } else {
        b.native_ps[..n].to_vec()
    };
    let shadow = Stat::of(&shadow_ps);
    let native = Stat::of(&native_ps);
    Row {
        figure,
        name: name.into(),
        params,
        unit: unit.into(),
        ratio: shadow.zip(native).map(|(s, n)| s.median / n.median),
        shadow,
        native,
        shadow_ps,
        native_ps,
        work: b.work,
        x,
    }
}

/// The CPUs online in this machine.
fn online_cpus() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

/// Runs every figure; `progress` hears of each as it starts.
pub fn run(cfg: Config, mut progress: impl FnMut(&str)) -> io::Result<Report> {
    let dev = Device::open()?;
    let reps = cfg.reps;
    let wanted = |figure: u32| cfg.only.is_empty() || cfg.only.contains(&figure);
    let big = |full: u32, smoke: u32| if cfg.smoke { smoke } else { full };
    let lives: &[u32] = if cfg.smoke {
        &[1000]
    } else {
        &[1000, 32768, 1 << 20]
    };
    let pid_max = big(abi::SHADOWPID_PID_MAX_LIMIT, abi::SHADOWPID_PID_MAX_DEFAULT);
    let mut rows = vec![];

    if wanted(1) {
        progress("1 numbers");
        let b = measure(
            &dev,
            abi::SHADOWPID_BENCH_NUMBERS,
            reps,
            Ask {
                iterations: big(200_000, 2_000),
                ..Default::default()
            },
        )?;
        rows.push(row(
            1,
            "alloc_pidmap+free_pidmap / idr_alloc_cyclic+idr_remove",
            "pid_max=32768".into(),
            "ns/pair",
            &b,
            0,
        ));
    }
    for depth in [1, 4].into_iter().filter(|_| wanted(2)) {
        progress(&format!("2 full depth {depth}"));
        let b = measure(
            &dev,
            abi::SHADOWPID_BENCH_FULL,
            reps,
            Ask {
                iterations: big(100_000, 1_000),
                depth,
                ..Default::default()
            },
        )?;
        rows.push(row(
            2,
            "alloc_pid+free_pid",
            format!("depth={depth}"),
            "ns/pair",
            &b,
            depth.into(),
        ));
    }
    // Figure 3, and 10: the same lookups, each reading the pid it found.
    let lookups = [
        (3, abi::SHADOWPID_BENCH_LOOKUP, "find_pid_ns / idr_find"),
        (
            10,
            abi::SHADOWPID_BENCH_LOOKUP_READ,
            "find_pid_ns / idr_find, then read the pid",
        ),
    ];
    for (figure, code, name) in lookups.into_iter().filter(|l| wanted(l.0)) {
        for &live in lives {
            progress(&format!("{figure} {name}, {live} live"));
            let b = measure(
                &dev,
                code,
                reps,
                Ask {
                    iterations: big(200_000, 2_000),
                    live,
                    ..Default::default()
                },
            )?;
            rows.push(row(
                figure,
                name,
                format!("live={live}"),
                "ns/op",
                &b,
                live.into(),
            ));
        }
    }
    for &live in lives.iter().filter(|_| wanted(4)) {
        progress(&format!("4 walk, {live} live"));
        let b = measure(
            &dev,
            abi::SHADOWPID_BENCH_WALK,
            reps,
            Ask {
                iterations: (big(2_000_000, 2_000) / live).max(1),
                live,
                ..Default::default()
            },
        )?;
        rows.push(row(
            4,
            "next_pidmap / idr_get_next",
            format!("live={live}"),
            "ns/step",
            &b,
            live.into(),
        ));
    }
    for cpus in (1..=online_cpus().min(2)).filter(|_| wanted(5)) {
        progress(&format!("5 contention, {cpus} CPUs"));
        let b = measure(
            &dev,
            abi::SHADOWPID_BENCH_CONTENTION,
            reps,
            Ask {
                iterations: big(100_000, 1_000),
                cpus,
                ..Default::default()
            },
        )?;
        rows.push(row(
            5,
            "alloc_pid+free_pid, pinned kthreads",
            format!("cpus={cpus}"),
            "ns/pair (wall)",
            &b,
            cpus.into(),
        ));
    }
    if wanted(6) {
        progress("6 worst case");
        let b = measure(
            &dev,
            abi::SHADOWPID_BENCH_WORST,
            reps,
            Ask {
                iterations: big(200, 10),
                pid_max,
                ..Default::default()
            },
        )?;
        rows.push(row(
            6,
            "all but one taken: free+alloc that finds it",
            format!("pid_max={pid_max}"),
            "ns/pair",
            &b,
            pid_max.into(),
        ));
    }
    for &live in lives.iter().filter(|_| wanted(7)) {
        progress(&format!("7 memory, {live} live"));
        let b = measure(
            &dev,
            abi::SHADOWPID_BENCH_MEMORY,
            1,
            Ask {
                iterations: 1,
                live,
                ..Default::default()
            },
        )?;
        let per = |bytes: u64| Stat {
            median: bytes as f64 / f64::from(live),
            min: bytes as f64 / f64::from(live),
            max: bytes as f64 / f64::from(live),
        };
        let (s, n) = (per(b.shadow_bytes), per(b.native_bytes));
        rows.push(Row {
            figure: 7,
            name: "memory: pidmap+pids+hash / IDR nodes+pids".into(),
            params: format!("live={live}"),
            unit: "bytes/pid".into(),
            ratio: Some(s.median / n.median),
            shadow: Some(s),
            native: Some(n),
            shadow_ps: vec![],
            native_ps: vec![],
            work: [b.shadow_bytes, b.native_bytes],
            x: live.into(),
        });
    }
    if wanted(8) {
        progress("8 floor");
        let b = measure(
            &dev,
            abi::SHADOWPID_BENCH_FLOOR,
            reps,
            Ask {
                iterations: big(1_000_000, 10_000),
                ..Default::default()
            },
        )?;
        rows.push(row(
            8,
            "atomic test-and-set + clear",
            "one word".into(),
            "ns/pair",
            &b,
            0,
        ));
    }
    let levels: &[u32] = if cfg.smoke {
        &[0, 990_000]
    } else {
        &[0, 500_000, 900_000, 990_000, 999_000, 999_900, 999_990]
    };
    for &occupancy in levels.iter().filter(|_| wanted(9)) {
        progress(&format!("9 occupancy {occupancy} ppm"));
        let b = measure(
            &dev,
            abi::SHADOWPID_BENCH_OCCUPANCY,
            reps,
            Ask {
                iterations: big(20_000, 500),
                occupancy,
                pid_max,
                ..Default::default()
            },
        )?;
        rows.push(row(
            9,
            "alloc+free at occupancy",
            format!(
                "{:.4}% taken, pid_max={pid_max}",
                f64::from(occupancy) / 10_000.0
            ),
            "ns/pair",
            &b,
            occupancy.into(),
        ));
    }
    let traced = if cfg.smoke || !cfg.only.is_empty() {
        None
    } else {
        progress("native alloc_pid/free_pid under function_graph");
        Some(trace::trace_native(2000))
    };
    let targets = targets::targets(&rows);
    Ok(Report {
        kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .into(),
        cpus: online_cpus(),
        accel: std::env::var("SHADOWPID_ACCEL")
            .map(|a| a.to_uppercase())
            .unwrap_or_else(|_| "unknown".into()),
        reps,
        smoke: cfg.smoke,
        hash_buckets: dev.stats_raw(abi::SHADOWPID_ROOT_NS)?.hash_buckets,
        rows,
        targets,
        traced,
    })
}

/// A row of `figure` with `params` and the given medians, for the tests.
#[cfg(test)]
fn fake(figure: u32, params: &str, shadow: f64, native: f64) -> Row {
    let stat = |median| {
        Some(Stat {
            median,
            min: median,
            max: median,
        })
    };
    Row {
        figure,
        name: String::new(),
        params: params.into(),
        unit: String::new(),
        shadow: stat(shadow),
        native: stat(native),
        ratio: Some(shadow / native),
        shadow_ps: vec![],
        native_ps: vec![],
        work: [0; 2],
        x: 0,
    }
}
