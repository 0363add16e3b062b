// SPDX-License-Identifier: GPL-2.0
//! `shadowpid bench`: the in-kernel benchmark (`SHADOWPID_IOC_BENCH`) driven
//! figure by figure, summarised (median, min, max of the repetitions; the
//! shadow/native ratio of the medians), checked against the targets, and
//! the real native `alloc_pid()`/`free_pid()` timed by the function_graph
//! tracer during a fork/exit storm in a fresh PID namespace.
//!
//! `shadowpid plot` draws the latency against occupancy from the JSON.

use crate::{abi, Device};
use serde::{Deserialize, Serialize};
use std::{fmt::Write as _, fs, io};

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
    fn of(ps: &[u64]) -> Option<Self> {
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

/// The real native allocator, timed by the tracer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Traced {
    /// Forks made in the storm.
    pub forks: u32,
    /// `alloc_pid()` calls seen, and their duration.
    pub alloc_pid: Option<Stat>,
    /// Calls of `alloc_pid()` traced.
    pub alloc_calls: usize,
    /// `free_pid()` durations.
    pub free_pid: Option<Stat>,
    /// Calls of `free_pid()` traced.
    pub free_calls: usize,
    /// Why there is no figure, if there is none.
    pub note: String,
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
        Some(trace_native(2000))
    };
    let targets = targets(&rows);
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

/// The first row of `figure` whose params are `params`.
fn find<'a>(rows: &'a [Row], figure: u32, params: &str) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.figure == figure && r.params.starts_with(params))
}

/// The issue's targets, evaluated on this run's rows.
fn targets(rows: &[Row]) -> Vec<Target> {
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
    let ratio = |f, p: &str| find(rows, f, p).and_then(|r| r.ratio);
    let median = |f, p: &str| find(rows, f, p).and_then(|r| r.shadow).map(|s| s.median);
    at_most(
        "(1) numbers: shadow/native <= 0.5".into(),
        ratio(1, ""),
        0.5,
    );
    at_most(
        "(2) full, depth 1: shadow/native <= 0.8".into(),
        ratio(2, "depth=1"),
        0.8,
    );
    at_most(
        "(2) full, depth 4: shadow/native <= 0.8".into(),
        ratio(2, "depth=4"),
        0.8,
    );
    for r in rows.iter().filter(|r| r.figure == 3) {
        at_most(
            format!("(3) lookup, {}: shadow/native <= 1.0", r.params),
            r.ratio,
            1.0,
        );
    }
    // Throughput is the inverse of the wall time per pair.
    at_most(
        "(5) 2 CPUs: native/shadow time (shadow throughput / native) >= 1.5, as 1/x <= 1/1.5"
            .into(),
        ratio(5, "cpus=2"),
        1.0 / 1.5,
    );
    at_most(
        "(6) worst case <= 50 x the fast-path pair of figure 1".into(),
        median(6, "").zip(median(1, "")).map(|(w, f)| w / f),
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
        "(1) numbers within 4 x the floor (8)".into(),
        median(1, "").zip(median(8, "")).map(|(a, f)| a / f),
        4.0,
    );
    for live in ["live=32768", "live=1048576"] {
        at_most(
            format!("(7) memory, {live}: shadow/native <= 1.0"),
            ratio(7, live),
            1.0,
        );
    }
    t
}

/// Writes `value` to tracefs file `name`.
fn tracefs(name: &str, value: &str) -> io::Result<()> {
    fs::write(format!("/sys/kernel/tracing/{name}"), value)
}

/// Forks `forks` short-lived children from the init of a fresh PID
/// namespace, with the function_graph tracer on `alloc_pid` and `free_pid`.
fn trace_native(forks: u32) -> Traced {
    let mut traced = Traced {
        forks,
        alloc_pid: None,
        alloc_calls: 0,
        free_pid: None,
        free_calls: 0,
        note: String::new(),
    };
    match storm_traced(forks) {
        Ok(trace) => {
            let durations = |f: &str| -> Vec<u64> {
                let call = format!("{f}();");
                trace
                    .lines()
                    .filter(|l| l.trim_end().ends_with(&call))
                    .filter_map(|l| {
                        let (before, _) = l.split_once(" us ")?;
                        let num = before.rsplit(' ').next()?;
                        num.parse::<f64>().ok().map(|us| (us * 1e6) as u64)
                    })
                    .collect()
            };
            let a = durations("alloc_pid");
            let f = durations("free_pid");
            traced.alloc_calls = a.len();
            traced.free_calls = f.len();
            traced.alloc_pid = Stat::of(&a);
            traced.free_pid = Stat::of(&f);
            if a.is_empty() {
                traced.note = "the tracer recorded no alloc_pid call".into();
            } else {
                traced.note = "function_graph entry/exit overhead included".into();
            }
        }
        Err(e) => traced.note = format!("tracer unavailable: {e}"),
    }
    traced
}

/// The storm itself; returns the trace text.
fn storm_traced(forks: u32) -> io::Result<String> {
    if !std::path::Path::new("/sys/kernel/tracing/trace").exists() {
        // SAFETY: plain mount(2) with NUL-terminated strings.
        let ret = unsafe {
            libc::mount(
                c"tracefs".as_ptr(),
                c"/sys/kernel/tracing".as_ptr(),
                c"tracefs".as_ptr(),
                0,
                std::ptr::null(),
            )
        };
        if ret != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    tracefs("tracing_on", "0")?;
    tracefs("current_tracer", "nop")?;
    tracefs("set_ftrace_filter", "alloc_pid free_pid")?;
    tracefs("buffer_size_kb", "8192")?;
    tracefs("current_tracer", "function_graph")?;
    tracefs("trace", "")?;
    tracefs("tracing_on", "1")?;
    let storm = fork_storm(forks);
    tracefs("tracing_on", "0")?;
    let trace = fs::read_to_string("/sys/kernel/tracing/trace");
    tracefs("current_tracer", "nop")?;
    tracefs("set_ftrace_filter", "")?;
    storm?;
    trace
}

/// A child in a new PID namespace whose init forks and reaps `forks`
/// children that exit at once.
fn fork_storm(forks: u32) -> io::Result<()> {
    // SAFETY: fork in a program whose other threads (none here) hold no
    // lock the child needs; the child only makes raw syscalls and exits.
    let outer = unsafe { libc::fork() };
    if outer < 0 {
        return Err(io::Error::last_os_error());
    }
    if outer == 0 {
        // SAFETY: async-signal-safe calls only, then _exit.
        unsafe {
            if libc::unshare(libc::CLONE_NEWPID) != 0 {
                libc::_exit(2);
            }
            let init = libc::fork();
            if init == 0 {
                for _ in 0..forks {
                    let child = libc::fork();
                    if child == 0 {
                        libc::_exit(0);
                    }
                    if child < 0 || libc::waitpid(child, std::ptr::null_mut(), 0) != child {
                        libc::_exit(3);
                    }
                }
                libc::_exit(0);
            }
            let mut status = 0;
            if init < 0 || libc::waitpid(init, &mut status, 0) != init {
                libc::_exit(4);
            }
            libc::_exit(libc::WEXITSTATUS(status));
        }
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    if unsafe { libc::waitpid(outer, &mut status, 0) } != outer || status != 0 {
        return Err(io::Error::other(format!(
            "fork storm failed (status {status:#x})"
        )));
    }
    Ok(())
}

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

/// An SVG of latency against occupancy (figure 9 and the worst case of
/// figure 6), shadow and native, log scale.
pub fn plot(r: &Report) -> String {
    let mut points: Vec<(String, Option<f64>, Option<f64>)> = r
        .rows
        .iter()
        .filter(|row| row.figure == 9)
        .map(|row| {
            (
                format!("{}%", f64::from(row.x as u32) / 10_000.0),
                row.shadow.map(|s| s.median),
                row.native.map(|n| n.median),
            )
        })
        .collect();
    if let Some(w) = r.rows.iter().find(|row| row.figure == 6) {
        points.push((
            "all but 1".into(),
            w.shadow.map(|s| s.median),
            w.native.map(|n| n.median),
        ));
    }
    let (w, h, left, right, top, bottom) = (760.0, 440.0, 80.0, 20.0, 50.0, 70.0);
    let values: Vec<f64> = points
        .iter()
        .flat_map(|(_, a, b)| [*a, *b])
        .flatten()
        .filter(|v| *v > 0.0)
        .collect();
    let lo = values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(1e-3);
    let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 10.0);
    let (llo, lhi) = (lo.log10().floor(), hi.log10().ceil());
    let x = |i: usize| left + (w - left - right) * (i as f64 + 0.5) / points.len().max(1) as f64;
    let y = |v: f64| top + (h - top - bottom) * (1.0 - (v.log10() - llo) / (lhi - llo));
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">Number allocation + free vs occupancy, pid_max 4194304 (Linux {}, {} vCPU, {})</text>"#,
        w / 2.0,
        r.kernel,
        r.cpus,
        r.accel
    );
    for decade in llo as i32..=lhi as i32 {
        let v = 10f64.powi(decade);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{v} ns</text>"##,
            w - right,
            left - 6.0,
            y(v) + 4.0,
            y = y(v)
        );
    }
    for (i, (label, _, _)) in points.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{label}</text>"#,
            x(i),
            h - bottom + 18.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">numbers taken</text>"#,
        (left + w - right) / 2.0,
        h - bottom + 40.0
    );
    for (k, (name, color)) in [
        ("shadow (pidmap)", "#c0392b"),
        ("native-style (IDR)", "#2471a3"),
    ]
    .iter()
    .enumerate()
    {
        let pts: Vec<String> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let v = if k == 0 { p.1 } else { p.2 }?;
                Some(format!("{:.1},{:.1}", x(i), y(v)))
            })
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        for p in &pts {
            let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(s, r#"<circle cx="{px}" cy="{py}" r="3" fill="{color}"/>"#);
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" fill="{color}">{name}</text>"#,
            left + 10.0,
            top + 16.0 + 16.0 * k as f64
        );
    }
    let _ = writeln!(s, "</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(median: f64) -> Option<Stat> {
        Some(Stat {
            median,
            min: median,
            max: median,
        })
    }

    fn fake(figure: u32, params: &str, shadow: f64, native: f64) -> Row {
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

    #[test]
    fn targets_follow_the_issue() {
        let mut w = fake(6, "pid_max=4194304", 400.0, 100.0);
        (w.x, w.work) = (4_194_304, [129, 513]);
        let rows = vec![
            fake(1, "pid_max=32768", 10.0, 40.0),
            fake(2, "depth=1", 90.0, 100.0),
            fake(5, "cpus=2", 50.0, 100.0),
            w,
            fake(8, "one word", 3.0, 0.0),
        ];
        let t = targets(&rows);
        let get = |prefix: &str| t.iter().find(|t| t.name.starts_with(prefix)).unwrap();
        assert!(get("(1) numbers: shadow/native").met);
        assert!(!get("(2) full, depth 1").met, "0.9 > 0.8");
        assert!(get("(5) 2 CPUs").met, "twice the throughput");
        assert!(get("(6) worst case").met, "40 x the fast path");
        assert!(get("(6) pages visited").met);
        assert!(get("(6) words scanned").met);
        assert!(get("(1) numbers within 4 x the floor").met, "10 / 3");
    }

    #[test]
    fn plot_draws_both_sides() {
        let rows = vec![
            fake(9, "0% taken", 10.0, 20.0),
            fake(9, "99% taken", 30.0, 25.0),
        ];
        let report = Report {
            kernel: "7.3".into(),
            cpus: 2,
            accel: "TCG".into(),
            reps: 5,
            smoke: false,
            hash_buckets: 4096,
            rows,
            targets: vec![],
            traced: None,
        };
        let svg = plot(&report);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 4);
    }
}
