// SPDX-License-Identifier: GPL-2.0
//! `shadowpid bench`: the in-kernel benchmark (`SHADOWPID_IOC_BENCH`) driven
//! figure by figure, in named states: three columns (the shadow, the rebuild
//! of 7.3's allocator, the running kernel's own functions), summarised
//! (each column's mean with its 95 % interval; the ratios paired per
//! repetition, their geometric mean with its interval), and checked against
//! the targets. Every request that has a kernel column is
//! made from a process in a PID namespace at the figure's depth ([`level`]).
//!
//! `shadowpid plot` draws the columns against the population, and the
//! scaling with CPUs, from the JSON.

mod level;
pub(crate) mod stats;
mod svg;
mod table;
mod targets;

pub use self::{
    stats::Interval,
    svg::{plot, plot_scaling},
    table::{sane, scaling, table},
    targets::Target,
};

use crate::{abi, interrupt, knobs::Knobs, Device};
use serde::{Deserialize, Serialize};
use std::{fs, io};

/// How much to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Repetitions of every timed figure (at least 10 for the real run).
    pub reps: u32,
    /// A short pass that only proves every figure and column works (make
    /// check).
    pub smoke: bool,
    /// Figures to run (1..10); all if empty.
    pub only: Vec<u32>,
}

/// One measured row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// Figure number (1..8; 9 is the occupancy sweep, 10 the lookups that
    /// read the pid found, 11 the lookups that miss).
    pub figure: u32,
    /// What was measured.
    pub name: String,
    /// Its parameters and state, e.g. "depth=1 pop=32768 scattered".
    pub params: String,
    /// Unit of the stats: "ns/pair", "ns/op", "ns/pid", "bytes/pid".
    pub unit: String,
    /// The shadow: mean and 95 % interval of the repetitions.
    pub shadow: Option<Interval>,
    /// The rebuild of 7.3's allocator in the module (the controlled column).
    pub rebuild: Option<Interval>,
    /// The running kernel's own functions; none where it has no such
    /// function (or could not be called, or was not asked for).
    pub kernel: Option<Interval>,
    /// shadow / rebuild, paired per repetition: the geometric mean of the
    /// ratios and its 95 % interval.
    pub ratio_rebuild: Option<Interval>,
    /// shadow / kernel, the same.
    pub ratio_kernel: Option<Interval>,
    /// ns per operation of the `rcu_barrier()` after each repetition of
    /// the shadow, the rebuild and the kernel (the frees they queued behind
    /// a grace period, and the grace period): not in their figures.
    pub drain: [Option<Interval>; 3],
    /// Lookups: the same loop over the same keys calling an empty function,
    /// ns per key.
    pub baseline: Option<Interval>,
    /// MEMORY: bytes per pid of pidfs's table of every pid (the kernel's
    /// figure holds the added pids' share); none where the kernel could
    /// not say (no CONFIG_KALLSYMS_ALL).
    pub pidfs: Option<f64>,
    /// FULL: pidfs's part of the kernel's pair timed alone (its table's
    /// remove and add), ns per pid; none where the kernel column did not
    /// run or pidfs's functions could not be resolved.
    #[serde(default)]
    pub pidfs_time: Option<Interval>,
    /// Its raw picoseconds per repetition (paired with the kernel's).
    #[serde(default)]
    pub pidfs_ps: Vec<u64>,
    /// FULL: the pair cut short, raw picoseconds per repetition, per
    /// `enum shadowpid_bench_part` (the shadow's numbers, its numbers and
    /// struct pid; the rebuild's the same): paired with the columns.
    #[serde(default)]
    pub parts_ps: Vec<Vec<u64>>,
    /// Raw picoseconds per repetition, per column.
    pub shadow_ps: Vec<u64>,
    /// The rebuild's.
    pub rebuild_ps: Vec<u64>,
    /// The kernel's.
    pub kernel_ps: Vec<u64>,
    /// WORST: most pages visited and words scanned by one allocation.
    pub work: [u64; 2],
    /// The figure's variable: live pids, CPUs, depth or occupancy (ppm).
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
    /// Processes (pids) in the initial namespace before the run: the state
    /// "as is" starts from.
    pub initial_pids: u32,
    /// pid_max of the initial namespace (raised for the requests whose
    /// population needs it, and put back after each).
    pub pid_max: u32,
    /// Every row.
    pub rows: Vec<Row>,
    /// Targets and whether they were met.
    pub targets: Vec<Target>,
}

/// A state the figures run in: pids added at the leaf, and their layout
/// (or, POPULATED, the occupancy the leaf's numbers are taken at).
#[derive(Clone, Copy)]
struct Population {
    /// Live pids added.
    live: u32,
    /// `enum shadowpid_bench_layout`.
    layout: u32,
    /// POPULATED: parts per million taken.
    occupancy: u32,
    /// POPULATED: every level's pid_max is the limit (4194304), not the
    /// machine's: for occupancies that would leave the machine's none free.
    wide: bool,
}

impl Population {
    /// Its name in a row's params.
    fn name(self) -> String {
        match (self.live, self.layout) {
            (_, abi::SHADOWPID_BENCH_POPULATED) => {
                let of = if self.wide {
                    format!(" of {}", abi::SHADOWPID_PID_MAX_LIMIT)
                } else {
                    String::new()
                };
                format!("populated {}%{of}", f64::from(self.occupancy) / 10_000.0)
            }
            (0, _) => "as is".into(),
            (n, abi::SHADOWPID_BENCH_SCATTERED) => format!("+{n} scattered 50%"),
            (n, abi::SHADOWPID_BENCH_SWEPT) => format!("+{n} after a full sweep"),
            (n, _) => format!("+{n} dense"),
        }
    }
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
    /// Layout of the live pids.
    layout: u32,
    /// The columns asked for: 0 for every one that can run, or SHADOW |
    /// REBUILD to leave the kernel's out.
    columns: u32,
    /// POPULATED: every level's pid_max the limit, not the machine's.
    wide: bool,
}

impl Ask {
    /// `iterations` operations at `depth`, with the state `p`.
    fn in_state(p: Population, depth: u32, iterations: u32) -> Self {
        Self {
            iterations,
            depth,
            live: p.live,
            layout: p.layout,
            occupancy: p.occupancy,
            wide: p.wide,
            ..Default::default()
        }
    }

    /// The same without the kernel column.
    fn without_kernel(self) -> Self {
        Self {
            columns: abi::SHADOWPID_BENCH_SHADOW | abi::SHADOWPID_BENCH_REBUILD,
            ..self
        }
    }
}

/// Runs figure `figure` with `ask` and `reps`, from a process at level
/// `depth - 1` when the figure has a depth.
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
        layout: ask.layout,
        columns: ask.columns,
        ..Default::default()
    };
    // Room at level 0 for a large population (every number of a nested
    // namespace is also one of the initial namespace's), for this request
    // only: the other states keep the machine's own pid_max.
    // A sweep goes over the whole of pid_max: make it the limit's.
    // A populated state keeps every level's pid_max at the machine's (the
    // nested ones set to it: level::at), so that every level's cursor runs
    // through numbers taken at the occupancy and wraps among them.
    let populated = ask.layout == abi::SHADOWPID_BENCH_POPULATED;
    let room = if ask.layout == abi::SHADOWPID_BENCH_SWEPT || ask.wide {
        u64::MAX
    } else if populated {
        0
    } else {
        u64::from(ask.live) * 2 + 4096
    };
    let machine = PidMax::get()?;
    let _pid_max = if room > u64::from(machine) {
        Some(PidMax::raise(abi::SHADOWPID_PID_MAX_LIMIT)?)
    } else {
        None
    };
    let nested_pid_max = match ask.wide {
        true => Some(abi::SHADOWPID_PID_MAX_LIMIT),
        false => populated.then_some(machine),
    };
    level::at(ask.depth.saturating_sub(1), nested_pid_max, move || {
        dev.bench_raw(&mut b)?;
        Ok(b)
    })
}

/// Per-repetition picoseconds as nanoseconds, if every one is a time.
fn ns(ps: &[u64]) -> Option<Vec<f64>> {
    (!ps.is_empty() && ps.iter().all(|&p| p > 0))
        .then(|| ps.iter().map(|&p| p as f64 / 1000.0).collect())
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
    let column = |bit: u32, ps: &[u64]| {
        if b.columns & bit != 0 {
            ps[..n].to_vec()
        } else {
            vec![]
        }
    };
    let shadow_ps = column(abi::SHADOWPID_BENCH_SHADOW, &b.shadow_ps);
    let rebuild_ps = column(abi::SHADOWPID_BENCH_REBUILD, &b.rebuild_ps);
    let kernel_ps = column(abi::SHADOWPID_BENCH_KERNEL, &b.kernel_ps);
    let (s, r, k) = (ns(&shadow_ps), ns(&rebuild_ps), ns(&kernel_ps));
    // Zero where it did not run: the kernel column's, or pidfs's resolution.
    let pidfs_ps =
        if b.figure == abi::SHADOWPID_BENCH_FULL && b.pidfs_ps[..n].iter().all(|&p| p > 0) {
            b.pidfs_ps[..n].to_vec()
        } else {
            vec![]
        };
    let parts_ps = if b.figure == abi::SHADOWPID_BENCH_FULL {
        b.parts_ps.iter().map(|p| p[..n].to_vec()).collect()
    } else {
        vec![]
    };
    let mean = |v: &Option<Vec<f64>>| v.as_deref().map(stats::mean);
    let ratio = |a: &Option<Vec<f64>>, b: &Option<Vec<f64>>| {
        a.as_deref()
            .zip(b.as_deref())
            .map(|(a, b)| stats::ratio(a, b))
    };
    // A drain of nothing (the lookups) reads as a few ns of an empty
    // rcu_barrier(): reported as measured.
    let drain = |bit: u32, ps: &[u64]| {
        (b.columns & bit != 0)
            .then(|| {
                ps[..n]
                    .iter()
                    .map(|&p| p as f64 / 1000.0)
                    .collect::<Vec<_>>()
            })
            .map(|v| stats::mean(&v))
    };
    let lookups = [
        abi::SHADOWPID_BENCH_LOOKUP,
        abi::SHADOWPID_BENCH_LOOKUP_READ,
        abi::SHADOWPID_BENCH_LOOKUP_MISS,
    ];
    Row {
        figure,
        name: name.into(),
        params,
        unit: unit.into(),
        shadow: mean(&s),
        rebuild: mean(&r),
        kernel: mean(&k),
        ratio_rebuild: ratio(&s, &r),
        ratio_kernel: ratio(&s, &k),
        drain: [
            drain(abi::SHADOWPID_BENCH_SHADOW, &b.shadow_drain_ps),
            drain(abi::SHADOWPID_BENCH_REBUILD, &b.rebuild_drain_ps),
            drain(abi::SHADOWPID_BENCH_KERNEL, &b.kernel_drain_ps),
        ],
        baseline: if lookups.contains(&b.figure) {
            mean(&ns(&b.baseline_ps[..n]))
        } else {
            None
        },
        pidfs: None,
        pidfs_time: mean(&ns(&pidfs_ps)),
        pidfs_ps,
        parts_ps,
        shadow_ps,
        rebuild_ps,
        kernel_ps,
        work: b.work,
        x,
    }
}

/// A row of bytes per live pid from a MEMORY answer.
fn memory_row(b: &abi::shadowpid_bench, params: String, live: u32) -> Row {
    let per = |bit: u32, bytes: u64| {
        (b.columns & bit != 0).then(|| Interval::exact(bytes as f64 / f64::from(live)))
    };
    let shadow = per(abi::SHADOWPID_BENCH_SHADOW, b.shadow_bytes);
    let rebuild = per(abi::SHADOWPID_BENCH_REBUILD, b.rebuild_bytes);
    let kernel = per(abi::SHADOWPID_BENCH_KERNEL, b.kernel_bytes);
    let ratio = |a: Option<Interval>, b: Option<Interval>| {
        a.zip(b).map(|(a, b)| Interval::exact(a.mean / b.mean))
    };
    Row {
        figure: 7,
        name: "memory: pidmap pages+pids+hash / IDR nodes+pids+pidfs table".into(),
        params,
        unit: "bytes/pid".into(),
        ratio_rebuild: ratio(shadow, rebuild),
        ratio_kernel: ratio(shadow, kernel),
        shadow,
        rebuild,
        kernel,
        drain: [None; 3],
        baseline: None,
        pidfs: (b.columns & abi::SHADOWPID_BENCH_KERNEL != 0 && b.pidfs_entries != 0)
            .then(|| b.pidfs_bytes as f64 / b.pidfs_entries as f64),
        pidfs_time: None,
        pidfs_ps: vec![],
        parts_ps: vec![],
        shadow_ps: vec![],
        rebuild_ps: vec![],
        kernel_ps: vec![],
        work: [b.shadow_bytes, b.rebuild_bytes],
        x: live.into(),
    }
}

/// pid_max of the initial namespace, raised for a request and put back
/// after it (a [`Knobs`]: on a signal too).
struct PidMax;

impl PidMax {
    /// The sysctl.
    const PATH: &'static str = "/proc/sys/kernel/pid_max";

    /// Reads it.
    fn get() -> io::Result<u32> {
        Knobs::read(Self::PATH)?.parse().map_err(io::Error::other)
    }

    /// Raises it to at least `to`, until the value returned is dropped.
    fn raise(to: u32) -> io::Result<Knobs> {
        let mut knobs = Knobs::new("bench");
        if to > Self::get()? {
            knobs.set(Self::PATH, &to.to_string())?;
        }
        Ok(knobs)
    }
}

/// Tasks (processes and threads: each holds a pid) of the initial
/// namespace now, as its `/proc` lists them.
fn initial_pids() -> u32 {
    let Ok(procs) = fs::read_dir("/proc") else {
        return 0;
    };
    procs
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .map(|e| fs::read_dir(e.path().join("task")).map_or(0, |t| t.count() as u32))
        .sum()
}

/// The CPUs online in this machine.
fn online_cpus() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

/// Runs every figure; `progress` hears of each as it starts. A signal
/// (see [`crate::interrupt`]) ends the request under way and the run, with
/// pid_max put back.
pub fn run(cfg: Config, mut progress: impl FnMut(&str)) -> io::Result<Report> {
    let dev = Device::open()?;
    let mut progress = move |what: &str| {
        interrupt::check()?;
        progress(what);
        Ok::<_, io::Error>(())
    };
    let reps = cfg.reps;
    let wanted = |figure: u32| cfg.only.is_empty() || cfg.only.contains(&figure);
    let big = |full: u32, smoke: u32| if cfg.smoke { smoke } else { full };
    let (dense, scattered) = (abi::SHADOWPID_BENCH_DENSE, abi::SHADOWPID_BENCH_SCATTERED);
    let pop = |live, layout| Population {
        live,
        layout,
        occupancy: 0,
        wide: false,
    };
    // The states of the issue: the initial namespace as it is, then pids
    // added to it (1,000; 32,768 dense and 50 % scattered; 1M).
    let grown: Vec<Population> = if cfg.smoke {
        vec![pop(1000, dense), pop(1000, scattered)]
    } else {
        vec![
            pop(1000, dense),
            pop(32768, dense),
            pop(32768, scattered),
            pop(1 << 20, dense),
        ]
    };
    let mut states = vec![pop(0, dense)];
    states.extend(grown.iter().copied());
    // Populated namespaces: every level's numbers from 300 to pid_max taken
    // at these occupancies, the cursor wrapping among them. The kernel
    // column runs up to 90 %: past it the machine's own namespace would
    // keep fewer free numbers than its forks need (ENOSPC), so the rows at
    // 99 and 99.9 % compare the shadow with the rebuild alone. Figure 9's
    // last two, 99.99 and 99.999 %, would leave the machine's 32,468
    // numbers 3 and none free: those two take every level's pid_max to the
    // limit (4194304) instead, as figure 9 does.
    let occupancies: &[(u32, bool)] = if cfg.smoke {
        &[(500_000, false)]
    } else {
        &[
            (500_000, false),
            (900_000, false),
            (990_000, false),
            (999_000, false),
            (999_900, true),
            (999_990, true),
        ]
    };
    let populated: Vec<Population> = occupancies
        .iter()
        .map(|&(occupancy, wide)| Population {
            live: 0,
            layout: abi::SHADOWPID_BENCH_POPULATED,
            occupancy,
            wide,
        })
        .collect();
    let with_kernel = |p: Population| p.occupancy <= 900_000;
    let initial_pids = initial_pids();
    let pid_max = PidMax::get()?;
    // Where every pair's cursor runs into numbers no one holds (the IDR
    // makes and frees a leaf at every pair there): churn, labelled.
    let params = |depth: u32, p: Population| {
        let churn = if p.layout == abi::SHADOWPID_BENCH_POPULATED {
            ""
        } else {
            " (churn)"
        };
        format!("depth={depth} pop={}{churn}", p.name())
    };
    let lookup_params = |depth: u32, p: Population| format!("depth={depth} pop={}", p.name());
    let mut rows = vec![];

    let pair_states = states.iter().chain(&populated).copied();
    for p in pair_states.clone().filter(|_| wanted(1)) {
        progress(&format!("1 numbers, {}", p.name()))?;
        let ask = Ask::in_state(p, 1, big(200_000, 2_000));
        let b = measure(&dev, abi::SHADOWPID_BENCH_NUMBERS, reps, ask)?;
        let name = "alloc_pidmap+free_pidmap / idr_alloc_cyclic+idr_remove";
        rows.push(row(1, name, params(1, p), "ns/pair", &b, p.live.into()));
    }
    // Depth 1 in every state; depth 4 (from a process three namespaces
    // down) as the machine is and populated.
    let deep = [pop(0, dense)].into_iter().chain(populated.iter().copied());
    let full_runs = pair_states.map(|p| (1, p)).chain(deep.map(|p| (4, p)));
    for (depth, p) in full_runs.filter(|_| wanted(2)) {
        progress(&format!(
            "2 alloc_pid+free_pid, depth {depth}, {}",
            p.name()
        ))?;
        let mut ask = Ask::in_state(p, depth, big(100_000, 1_000));
        if !with_kernel(p) {
            ask = ask.without_kernel();
        }
        let b = measure(&dev, abi::SHADOWPID_BENCH_FULL, reps, ask)?;
        let x = if depth == 1 { p.live } else { depth };
        rows.push(row(
            2,
            "alloc_pid+free_pid",
            params(depth, p),
            "ns/pair",
            &b,
            x.into(),
        ));
    }
    // Figure 3, 10: the same lookups, each reading the pid it found, and 11:
    // lookups of numbers no pid has.
    let lookups = [
        (3, abi::SHADOWPID_BENCH_LOOKUP, "find_pid_ns, hits"),
        (
            10,
            abi::SHADOWPID_BENCH_LOOKUP_READ,
            "find_pid_ns, hits, then read the pid",
        ),
        (11, abi::SHADOWPID_BENCH_LOOKUP_MISS, "find_pid_ns, misses"),
    ];
    for (figure, code, name) in lookups.into_iter().filter(|l| wanted(l.0)) {
        for &p in &grown {
            progress(&format!("{figure} {name}, {}", p.name()))?;
            let ask = Ask::in_state(p, 1, big(200_000, 2_000));
            let b = measure(&dev, code, reps, ask)?;
            rows.push(row(
                figure,
                name,
                lookup_params(1, p),
                "ns/op",
                &b,
                p.live.into(),
            ));
        }
    }
    for &p in grown.iter().filter(|_| wanted(4)) {
        progress(&format!("4 walk, {}", p.name()))?;
        let ask = Ask::in_state(p, 1, (big(2_000_000, 2_000) / p.live).max(1));
        let b = measure(&dev, abi::SHADOWPID_BENCH_WALK, reps, ask)?;
        let name = "find_ge_pid walk (pid read from the pid found)";
        rows.push(row(
            4,
            name,
            lookup_params(1, p),
            "ns/pid",
            &b,
            p.live.into(),
        ));
    }
    // 1 and 2 CPUs for every column, as the machine is and populated at 50
    // %. Under TCG two vCPUs are two host threads beside QEMU's own: what
    // this measures is QEMU, not the allocators' scaling (make bench-host
    // has the figure on the host's cores).
    let scaled = [pop(0, dense), populated[0]];
    for p in scaled.into_iter().filter(|_| wanted(5)) {
        for cpus in 1..=online_cpus().min(2) {
            progress(&format!("5 contention, {cpus} CPUs, {}", p.name()))?;
            let ask = Ask {
                cpus,
                ..Ask::in_state(p, 1, big(100_000, 1_000))
            };
            let b = measure(&dev, abi::SHADOWPID_BENCH_CONTENTION, reps, ask)?;
            let params = format!("cpus={cpus} {}", params(1, p));
            let name = "alloc_pid+free_pid, pinned kthreads";
            rows.push(row(5, name, params, "ns/pair (wall)", &b, cpus.into()));
        }
    }
    if wanted(6) {
        progress("6 worst case (an extreme)")?;
        let ask = Ask {
            iterations: big(200, 10),
            pid_max: big(abi::SHADOWPID_PID_MAX_LIMIT, abi::SHADOWPID_PID_MAX_DEFAULT),
            ..Default::default()
        };
        let b = measure(&dev, abi::SHADOWPID_BENCH_WORST, reps, ask)?;
        let name = "extreme: all but one taken, free+alloc that finds it";
        let params = format!("pid_max={}", ask.pid_max);
        rows.push(row(6, name, params, "ns/pair", &b, ask.pid_max.into()));
    }
    let mut memory_states = grown.clone();
    if !cfg.smoke {
        // A cursor that went all the way round pid_max (the limit's): what
        // each column keeps for one live pid after it (seconds of sweeping
        // per column: not in the smoke pass).
        memory_states.push(pop(1, abi::SHADOWPID_BENCH_SWEPT));
    }
    for &p in memory_states.iter().filter(|_| wanted(7)) {
        progress(&format!("7 memory, {}", p.name()))?;
        let ask = Ask::in_state(p, 1, 1);
        let b = measure(&dev, abi::SHADOWPID_BENCH_MEMORY, 1, ask)?;
        rows.push(memory_row(&b, lookup_params(1, p), p.live));
    }
    if wanted(8) {
        progress("8 floor")?;
        let ask = Ask {
            iterations: big(1_000_000, 10_000),
            ..Default::default()
        };
        let b = measure(&dev, abi::SHADOWPID_BENCH_FLOOR, reps, ask)?;
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
        progress(&format!("9 occupancy {occupancy} ppm"))?;
        let pid_max = big(abi::SHADOWPID_PID_MAX_LIMIT, abi::SHADOWPID_PID_MAX_DEFAULT);
        let ask = Ask {
            iterations: big(20_000, 500),
            occupancy,
            pid_max,
            ..Default::default()
        };
        let b = measure(&dev, abi::SHADOWPID_BENCH_OCCUPANCY, reps, ask)?;
        let what = if occupancy == 0 {
            "extreme: empty; "
        } else {
            ""
        };
        let params = format!(
            "{what}{:.4}% taken, pid_max={pid_max}",
            f64::from(occupancy) / 10_000.0
        );
        rows.push(row(
            9,
            "alloc+free at occupancy",
            params,
            "ns/pair",
            &b,
            occupancy.into(),
        ));
    }
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
        initial_pids,
        pid_max,
        rows,
        targets,
    })
}

/// A row of `figure` with `params` and the given means (shadow, and
/// kernel where `kernel` is not zero, else the rebuild), for the tests.
#[cfg(test)]
fn fake(figure: u32, params: &str, shadow: f64, kernel: f64) -> Row {
    let stat = |v| Some(Interval::exact(v));
    Row {
        figure,
        name: String::new(),
        params: params.into(),
        unit: String::new(),
        shadow: stat(shadow),
        rebuild: stat(kernel),
        kernel: (kernel != 0.0).then(|| stat(kernel)).flatten(),
        ratio_rebuild: stat(shadow / kernel),
        ratio_kernel: stat(shadow / kernel),
        drain: [None; 3],
        baseline: None,
        pidfs: None,
        pidfs_time: None,
        pidfs_ps: vec![],
        parts_ps: vec![],
        shadow_ps: vec![],
        rebuild_ps: vec![],
        kernel_ps: vec![],
        work: [0; 2],
        x: 0,
    }
}
