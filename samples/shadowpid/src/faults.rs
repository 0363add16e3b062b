// SPDX-License-Identifier: GPL-2.0
//! `shadowpid faults`: the kernel's fault injection aimed at the module.
//!
//! Two targets, each configured through debugfs (a kernel with
//! `CONFIG_FAULT_INJECTION_DEBUG_FS`, `CONFIG_FAILSLAB`, `CONFIG_FAIL_PAGE_ALLOC`
//! and `CONFIG_FAULT_INJECTION_STACKTRACE_FILTER`, i.e. the debug kernel):
//!
//! - `slab`: failslab with its cache filter on, and the filter flag set on the
//!   module's own caches only (`/sys/kernel/slab/shadowpid_*/failslab`; the
//!   module never lets them merge): every `struct pid` and namespace object.
//! - `page`: fail_page_alloc with a stack-trace filter holding the address
//!   range of the module function that allocates pidmap pages
//!   (`shadowpid_zeroed_page_alloc`, an unmangled symbol kept out of line
//!   for this, found in `/proc/kallsyms`): pidmap pages only.
//!
//! Both use the task filter, so only this thread's allocations can fail, and
//! let the kernel count the failures it injected (`times` counts down).
//!
//! The workload: rounds of a chain of nested namespaces, each given its init,
//! then allocations (with scattered set_tid numbers in `page` mode, so that
//! new pidmap pages are needed all the time) and frees, then the chain zapped.
//! After every injected ENOMEM the namespaces of the chain must pass `check`
//! and hold exactly the pids this program knows are live: a failed allocation
//! left no number taken. At the end of each round, with injection paused for
//! the thread, one allocation in every namespace must succeed. Finally every
//! injected failure must have surfaced as an ENOMEM, and once the universe is
//! closed, the module's caches and pidmap pages must be back to zero.
//!
//! Every knob is put back to what it held before the run (a
//! [`Knobs`]), however the run ends: a signal (SIGINT, SIGTERM, SIGQUIT, SIGHUP;
//! see [`crate::interrupt`]) stops it between two operations, and what it
//! put back is said.

use crate::{
    interrupt,
    knobs::Knobs,
    ops::{Op, Outcome},
    progress::Progress,
    pseudofs,
    random::Rng,
    settle, Device,
};
use serde::Serialize;
use std::{fs, io, path::Path};

/// Where debugfs lives.
const DEBUGFS: &str = "/sys/kernel/debug";

/// The fault injection point aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// failslab on the module's kmem caches.
    Slab,
    /// fail_page_alloc on pidmap pages.
    Page,
}

impl Target {
    /// Its debugfs directory.
    fn dir(self) -> String {
        match self {
            Target::Slab => format!("{DEBUGFS}/failslab"),
            Target::Page => format!("{DEBUGFS}/fail_page_alloc"),
        }
    }
}

/// What a fault run did and found.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Allocations attempted (ALLOC operations).
    pub allocs: u64,
    /// Namespace creations attempted.
    pub creates: u64,
    /// Failures the kernel injected (its own count).
    pub injected: u64,
    /// Operations that answered ENOMEM.
    pub enomem: u64,
    /// Answers that are neither a success, ENOMEM nor an expected EEXIST
    /// (a set_tid number taken twice): each one is a bug.
    pub unexpected: u64,
    /// Checks after a failure that found a namespace inconsistent or
    /// holding another number of pids than were allocated: bugs.
    pub broken: u64,
    /// Allocations with injection paused that failed: bugs.
    pub stuck: u64,
    /// Objects and pages the module still held after the close: leaks.
    pub leaked: u64,
}

impl Summary {
    /// Whether the run found nothing wrong.
    pub fn clean(&self) -> bool {
        self.unexpected == 0
            && self.broken == 0
            && self.stuck == 0
            && self.leaked == 0
            && self.injected == self.enomem
            && self.injected > 0
    }
}

/// Mounts debugfs if it is not mounted yet.
fn mount_debugfs() -> io::Result<()> {
    if pseudofs::mounted(DEBUGFS, &["fault_around_bytes", "failslab"]) {
        return Ok(());
    }
    match pseudofs::mount(c"debugfs", DEBUGFS, 0) {
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(()),
        other => other,
    }
}

/// The address range `[start, end)` of the module function whose name
/// contains `needle`, from `/proc/kallsyms` (the end is the next symbol).
fn symbol_range(needle: &str) -> io::Result<(u64, u64)> {
    let text = fs::read_to_string("/proc/kallsyms")?;
    let mut addrs: Vec<u64> = vec![];
    let mut start = None;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(addr), Some(_kind), Some(name)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let Ok(addr) = u64::from_str_radix(addr, 16) else {
            continue;
        };
        addrs.push(addr);
        if words.next() == Some("[shadowpid]") && name == needle {
            start = Some(addr);
        }
    }
    let start = start.filter(|&a| a != 0).ok_or_else(|| {
        io::Error::other(format!("no shadowpid symbol {needle} in /proc/kallsyms"))
    })?;
    let end = addrs
        .into_iter()
        .filter(|&a| a > start)
        .min()
        .ok_or_else(|| io::Error::other("no symbol after the target"))?;
    Ok((start, end))
}

/// Arms (or disarms) the injection for this thread only.
fn make_it_fail(on: bool) -> io::Result<()> {
    Knobs::write(
        Path::new("/proc/thread-self/make-it-fail"),
        if on { "1" } else { "0" },
    )
}

/// The kernel's countdown of failures still to inject: starts here.
const TIMES: u64 = 100_000_000;

/// Configures `target` at `probability` percent for this thread, in
/// `knobs` (which put every knob back as it was).
fn arm(knobs: &mut Knobs, target: Target, probability: u32) -> io::Result<()> {
    mount_debugfs()?;
    let dir = target.dir();
    if !Path::new(&dir).exists() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{dir} missing: the kernel lacks fault injection (use the debug kernel: make check-debug)"),
        ));
    }
    match target {
        Target::Slab => {
            knobs.set(format!("{dir}/cache-filter"), "Y")?;
            let mut flagged = 0;
            for entry in fs::read_dir("/sys/kernel/slab")? {
                let path = entry?.path();
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                if name.starts_with("shadowpid_") {
                    knobs.set(path.join("failslab"), "1")?;
                    flagged += 1;
                }
            }
            if flagged == 0 {
                return Err(io::Error::other("no shadowpid cache in /sys/kernel/slab"));
            }
        }
        Target::Page => {
            let (start, end) = symbol_range("shadowpid_zeroed_page_alloc")?;
            knobs.set(format!("{dir}/min-order"), "0")?;
            knobs.set(format!("{dir}/ignore-gfp-highmem"), "N")?;
            knobs.set(format!("{dir}/stacktrace-depth"), "32")?;
            knobs.set(format!("{dir}/require-start"), &start.to_string())?;
            knobs.set(format!("{dir}/require-end"), &end.to_string())?;
        }
    }
    // GFP_KERNEL allocations may reclaim: both filters skip them by default.
    knobs.set(format!("{dir}/ignore-gfp-wait"), "N")?;
    knobs.set(format!("{dir}/task-filter"), "Y")?;
    knobs.set(format!("{dir}/verbose"), "0")?;
    knobs.set(format!("{dir}/interval"), "1")?;
    knobs.set(format!("{dir}/space"), "0")?;
    knobs.set(format!("{dir}/times"), &TIMES.to_string())?;
    knobs.set(format!("{dir}/probability"), &probability.to_string())?;
    Ok(())
}

/// Undoes [`arm`]: injection off for this thread, every knob as it was;
/// returns the failures injected.
fn disarm(knobs: &mut Knobs, target: Target) -> io::Result<u64> {
    make_it_fail(false)?;
    let left: i64 = Knobs::read(format!("{}/times", target.dir()))?
        .parse()
        .map_err(io::Error::other)?;
    knobs.restore()?;
    Ok(TIMES - left.max(0) as u64)
}

/// One namespace of a round's chain and the pids this program allocated in
/// it (and in none deeper).
struct Level {
    /// Namespace id.
    id: u32,
    /// Its numbers of the pids allocated at this level, init first.
    live: Vec<i32>,
}

/// Numbers are scattered over this pid_max in `page` mode.
const PID_MAX: u32 = 4_194_304;

/// Runs `op`, retrying while it answers ENOMEM (each try counted).
fn until_not_enomem(dev: &Device, op: &Op, sum: &mut Summary) -> io::Result<Outcome> {
    loop {
        let out = dev.run(op)?;
        match op {
            Op::Alloc { .. } => sum.allocs += 1,
            Op::NsCreate { .. } => sum.creates += 1,
            _ => {}
        }
        if out != Outcome::Err(libc::ENOMEM) {
            return Ok(out);
        }
        sum.enomem += 1;
    }
}

/// After a failure: every level consistent and holding exactly the pids
/// allocated at it or below.
fn verify(dev: &Device, chain: &[Level]) -> io::Result<bool> {
    for (i, level) in chain.iter().enumerate() {
        if dev.run(&Op::Check { ns: level.id })? != Outcome::Ok {
            return Ok(false);
        }
        let expected: usize = chain[i..].iter().map(|l| l.live.len()).sum();
        if dev.stats_raw(level.id)?.live_pids as usize != expected {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Builds a chain of `depth` namespaces below the root, each with its init.
fn build_chain(
    dev: &Device,
    target: Target,
    depth: usize,
    sum: &mut Summary,
) -> io::Result<Vec<Level>> {
    let mut chain: Vec<Level> = vec![];
    for _ in 0..depth {
        let parent = chain.last().map_or(0, |l| l.id);
        let id = match until_not_enomem(dev, &Op::NsCreate { parent }, sum)? {
            Outcome::Ns { id, .. } => id,
            other => {
                eprintln!("faults: ns {parent} -> {other}");
                sum.unexpected += 1;
                return Ok(chain);
            }
        };
        if target == Target::Page
            && dev.run(&Op::SetPidMax {
                ns: id,
                value: PID_MAX,
            })? != Outcome::Ok
        {
            sum.unexpected += 1;
        }
        chain.push(Level { id, live: vec![] });
        let init = Op::Alloc {
            ns: id,
            set_tid: vec![],
        };
        match until_not_enomem(dev, &init, sum)? {
            Outcome::Pid(_) => {
                let n = chain.len();
                chain[n - 1].live.push(1);
            }
            other => {
                eprintln!("faults: {init} -> {other}");
                sum.unexpected += 1;
            }
        }
    }
    Ok(chain)
}

/// Runs `allocs` allocations under `target` injection at `probability`%.
pub fn run(target: Target, allocs: u64, probability: u32, seed: u64) -> io::Result<Summary> {
    let mut sum = Summary::default();
    let mut rng = Rng::new(seed);
    let dev = Device::open()?;
    // Create every cache the workload uses before flagging them.
    let depth = match target {
        Target::Slab => 4,
        Target::Page => 1,
    };
    // The root's own init comes first (no pid can be made in a namespace
    // that has none); it lives until the end.
    let root_init = Op::Alloc {
        ns: 0,
        set_tid: vec![],
    };
    if !matches!(dev.run(&root_init)?, Outcome::Pid(_)) {
        return Err(io::Error::other("no init in the root namespace"));
    }
    let warm = build_chain(&dev, target, depth, &mut sum)?;
    if dev.run(&Op::Free {
        ns: warm[0].id,
        nr: 1,
    })? != Outcome::Ok
    {
        sum.unexpected += 1;
    }
    let mut knobs = Knobs::new("faults");
    let line = Progress::bar("faults", allocs, "allocations");
    let result = arm(&mut knobs, target, probability).and_then(|()| -> io::Result<()> {
        while sum.allocs < allocs {
            make_it_fail(true)?;
            let mut chain = build_chain(&dev, target, depth, &mut sum)?;
            for _ in 0..1000 {
                interrupt::check()?;
                line.set_position(sum.allocs);
                let at = rng.below(chain.len() as u64) as usize;
                let level = &chain[at];
                if rng.chance(30) && level.live.len() > 1 {
                    // Free one of its pids, never its init (that would zap).
                    let k = 1 + rng.below(level.live.len() as u64 - 1) as usize;
                    let nr = level.live[k];
                    if dev.run(&Op::Free { ns: level.id, nr })? != Outcome::Ok {
                        sum.unexpected += 1;
                    }
                    chain[at].live.swap_remove(k);
                    continue;
                }
                let set_tid = match target {
                    Target::Slab => vec![],
                    Target::Page => vec![2 + rng.below(u64::from(PID_MAX) - 2) as i32],
                };
                let op = Op::Alloc {
                    ns: level.id,
                    set_tid,
                };
                sum.allocs += 1;
                match dev.run(&op)? {
                    Outcome::Pid(nrs) => chain[at].live.push(*nrs.last().unwrap_or(&0)),
                    Outcome::Err(libc::ENOMEM) => {
                        sum.enomem += 1;
                        make_it_fail(false)?;
                        if !verify(&dev, &chain)? {
                            line.eprintln(&format!(
                                "faults: after {op} -> ENOMEM, the chain is inconsistent"
                            ));
                            sum.broken += 1;
                        }
                        make_it_fail(true)?;
                    }
                    Outcome::Err(libc::EEXIST) if target == Target::Page => {}
                    other => {
                        line.eprintln(&format!("faults: {op} -> {other}"));
                        sum.unexpected += 1;
                    }
                }
            }
            // Injection paused: the next allocation in every namespace works.
            make_it_fail(false)?;
            for level in &chain {
                let op = Op::Alloc {
                    ns: level.id,
                    set_tid: vec![],
                };
                if !matches!(dev.run(&op)?, Outcome::Pid(_)) {
                    sum.stuck += 1;
                }
            }
            // Zap the chain (its top init gone) and forget its names.
            if let Some(top) = chain.first() {
                if dev.run(&Op::Free { ns: top.id, nr: 1 })? != Outcome::Ok {
                    sum.unexpected += 1;
                }
            }
            for level in &chain {
                if dev.run(&Op::NsRelease { ns: level.id })? != Outcome::Ok {
                    sum.unexpected += 1;
                }
            }
        }
        Ok(())
    });
    line.finish();
    // Put back first, whatever happened (the knobs say it after a signal).
    let injected = disarm(&mut knobs, target);
    result?;
    sum.injected = injected?;
    for level in &warm {
        if dev.run(&Op::NsRelease { ns: level.id })? != Outcome::Ok {
            sum.unexpected += 1;
        }
    }
    drop(dev);
    sum.leaked = settle()?;
    Ok(sum)
}
