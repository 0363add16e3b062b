// SPDX-License-Identifier: GPL-2.0

//! `SHADOWPID_IOC_BENCH`: the shadow allocator timed beside the rebuild of
//! 7.3's ([`rebuild`]) and the running kernel's own functions ([`running`]),
//! in the same call, on the same machine, in the same state.
//!
//! Every figure builds its state on every column outside the timed region:
//! the numbers the caller's real namespaces hold, level by level, then the
//! figure's live pids (`enum shadowpid_bench_layout`). It then runs the
//! repetitions, every column once per repetition in balanced orders (each
//! rotation of the columns, then each reversed), so that a drift of the machine, and what one column leaves behind in the
//! caches, the slabs and RCU, falls on each in turn. A repetition times
//! `iterations` operations with `ktime_get()` and reports picoseconds per
//! operation; the `rcu_barrier()` after it, which lets through the frees it
//! queued behind a grace period, is timed and reported on its own. Only
//! one benchmark runs at a time (EBUSY otherwise), and a signal ends one
//! between steps (EINTR) after it has torn its state down.

mod figures;
mod kernel_pid;
mod rebuild;
mod shadow;
mod state;
mod timing;

use crate::{
    allocator::{
        namespace::{MAX_LEVEL, PID_MAX_MIN},
        pidmap::PID_MAX_LIMIT,
    },
    uapi,
};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;
use kernel_pid::KernelNs;
pub(crate) use state::{numbers_taken, occupied, State};
pub(crate) use timing::{alternate, interrupted, now, per_op, ps_per_op, Extra, Rep, Sequence};

/// Set while a benchmark runs.
static BUSY: AtomicBool = AtomicBool::new(false);

/// Most operations per repetition.
const MAX_ITERATIONS: u32 = 1 << 24;
/// Most live pids for LOOKUP, WALK and MEMORY.
const MAX_LIVE: u32 = 1 << 20;
/// Most steps of one WALK repetition (iterations x live): its timed loop
/// checks no signal, so a repetition stays within seconds.
const MAX_WALK_STEPS: u64 = 1 << 26;

/// Whether figure `figure` has a kernel column: the kernel has the function.
fn has_kernel_column(figure: u32) -> bool {
    matches!(
        figure,
        uapi::SHADOWPID_BENCH_FULL
            | uapi::SHADOWPID_BENCH_LOOKUP
            | uapi::SHADOWPID_BENCH_LOOKUP_READ
            | uapi::SHADOWPID_BENCH_LOOKUP_MISS
            | uapi::SHADOWPID_BENCH_WALK
            | uapi::SHADOWPID_BENCH_CONTENTION
            | uapi::SHADOWPID_BENCH_MEMORY
    )
}

/// Checks the inputs of `b`: every one the figure reads in range, every
/// other one zero. A zero depth reads as 1.
fn validate(b: &mut uapi::shadowpid_bench) -> Result {
    let (live, depth, cpus) = (b.live != 0, b.depth != 0, b.cpus != 0);
    let (occ, max, layout) = (b.occupancy != 0, b.pid_max != 0, b.layout != 0);
    let pid_max_ok = (PID_MAX_MIN..=PID_MAX_LIMIT).contains(&(b.pid_max as i32));
    let depth_ok = b.depth <= MAX_LEVEL;
    let layout_ok = match b.figure {
        uapi::SHADOWPID_BENCH_MEMORY => b.layout <= uapi::SHADOWPID_BENCH_SWEPT,
        _ => b.layout <= uapi::SHADOWPID_BENCH_SCATTERED,
    };
    // NUMBERS, FULL and CONTENTION also run in a populated namespace: no
    // live pids then, an occupancy instead.
    let populated = b.layout == uapi::SHADOWPID_BENCH_POPULATED;
    let state_ok = if populated {
        !live && b.occupancy < 1_000_000
    } else {
        layout_ok && b.live <= MAX_LIVE && !occ
    };
    let reads = match b.figure {
        uapi::SHADOWPID_BENCH_FLOOR => !(live || depth || cpus || occ || max || layout),
        uapi::SHADOWPID_BENCH_NUMBERS | uapi::SHADOWPID_BENCH_FULL => {
            depth_ok && state_ok && !(cpus || max)
        }
        uapi::SHADOWPID_BENCH_LOOKUP
        | uapi::SHADOWPID_BENCH_LOOKUP_READ
        | uapi::SHADOWPID_BENCH_LOOKUP_MISS
        | uapi::SHADOWPID_BENCH_WALK
        | uapi::SHADOWPID_BENCH_MEMORY => {
            depth_ok && (1..=MAX_LIVE).contains(&b.live) && layout_ok && !(cpus || occ || max)
        }
        uapi::SHADOWPID_BENCH_CONTENTION => {
            depth_ok && (1..=rebuild::online_cpus()).contains(&b.cpus) && state_ok && !max
        }
        uapi::SHADOWPID_BENCH_WORST => pid_max_ok && !(live || depth || cpus || occ || layout),
        uapi::SHADOWPID_BENCH_OCCUPANCY => {
            pid_max_ok && b.occupancy < 1_000_000 && !(live || depth || cpus || layout)
        }
        _ => false,
    };
    // A walk's timed loop checks no signal: bound its steps.
    let walk_ok = b.figure != uapi::SHADOWPID_BENCH_WALK
        || u64::from(b.iterations) * u64::from(b.live) <= MAX_WALK_STEPS;
    if !reads
        || !walk_ok
        || !(1..=uapi::SHADOWPID_BENCH_MAX_REPS).contains(&b.reps)
        || !(1..=MAX_ITERATIONS).contains(&b.iterations)
    {
        return Err(EINVAL);
    }
    if has_kernel_column(b.figure) || b.figure == uapi::SHADOWPID_BENCH_NUMBERS {
        b.depth = b.depth.max(1);
    }
    Ok(())
}

/// `SHADOWPID_IOC_BENCH`: reads the request, runs it, writes the answer.
pub(crate) fn ioctl(user: kernel::uaccess::UserSlice) -> Result<isize> {
    let (mut reader, mut writer) = user.reader_writer();
    let mut req: uapi::shadowpid_bench = reader.read()?;
    run(&mut req)?;
    writer.write(&req)?;
    Ok(0)
}

/// Frees what the reference allocator keeps (its caches) at unload.
///
/// # Safety
///
/// No benchmark runs or will.
pub(crate) unsafe fn exit() {
    // SAFETY: by the caller's guarantee.
    unsafe { rebuild::exit() };
}

/// The caller of a figure whose namespaces match the figure's depth: its
/// real namespace, whose state every column starts from.
pub(crate) struct Caller {
    /// The caller's active namespace, at level `depth - 1`.
    pub(crate) ns: KernelNs,
    /// Whether the kernel column runs: the kernel has the figure's function
    /// and its `alloc_pid()` and `free_pid()` can be called here.
    pub(crate) column: bool,
}

/// Whether request `b` leaves the kernel column to run where it can (its
/// `columns` 0, or all three), or out (the shadow and the rebuild only).
fn kernel_wanted(b: &uapi::shadowpid_bench) -> Result<bool> {
    const TWO: u32 = uapi::SHADOWPID_BENCH_SHADOW | uapi::SHADOWPID_BENCH_REBUILD;
    match b.columns {
        0 => Ok(true),
        TWO => Ok(false),
        c if c == TWO | uapi::SHADOWPID_BENCH_KERNEL => Ok(true),
        _ => Err(EINVAL),
    }
}

/// The caller, if figure `b` starts from real state: it builds its state
/// with [`State`] and the caller is at level `depth - 1`.
fn caller(b: &uapi::shadowpid_bench) -> Result<Option<Caller>> {
    let stateful = has_kernel_column(b.figure) || b.figure == uapi::SHADOWPID_BENCH_NUMBERS;
    if !stateful {
        return Ok(None);
    }
    let ns = KernelNs::current()?;
    if ns.level() + 1 != b.depth {
        return Ok(None);
    }
    let column = has_kernel_column(b.figure) && kernel_wanted(b)? && kernel_pid::resolve().is_ok();
    Ok(Some(Caller { ns, column }))
}

/// Runs the figure `b` asks for and fills in its outputs.
fn run(b: &mut uapi::shadowpid_bench) -> Result {
    validate(b)?;
    kernel_wanted(b)?;
    let real = caller(b)?;
    let real = real.as_ref();
    if BUSY.swap(true, Ordering::Acquire) {
        return Err(EBUSY);
    }
    b.columns = 0;
    b.shadow_ps = [0; uapi::SHADOWPID_BENCH_MAX_REPS as usize];
    b.rebuild_ps = [0; uapi::SHADOWPID_BENCH_MAX_REPS as usize];
    b.kernel_ps = [0; uapi::SHADOWPID_BENCH_MAX_REPS as usize];
    b.work = [0; 2];
    b.shadow_bytes = 0;
    b.rebuild_bytes = 0;
    b.kernel_bytes = 0;
    b.shadow_drain_ps = [0; uapi::SHADOWPID_BENCH_MAX_REPS as usize];
    b.rebuild_drain_ps = [0; uapi::SHADOWPID_BENCH_MAX_REPS as usize];
    b.kernel_drain_ps = [0; uapi::SHADOWPID_BENCH_MAX_REPS as usize];
    b.baseline_ps = [0; uapi::SHADOWPID_BENCH_MAX_REPS as usize];
    b.pidfs_ps = [0; uapi::SHADOWPID_BENCH_MAX_REPS as usize];
    b.pidfs_bytes = 0;
    b.pidfs_entries = 0;
    let result = match b.figure {
        uapi::SHADOWPID_BENCH_NUMBERS => figures::numbers::run(b, real),
        uapi::SHADOWPID_BENCH_FULL => figures::full::run(b, real),
        uapi::SHADOWPID_BENCH_LOOKUP => figures::lookup::run(b, real, false, true),
        uapi::SHADOWPID_BENCH_LOOKUP_READ => figures::lookup::run(b, real, true, true),
        uapi::SHADOWPID_BENCH_LOOKUP_MISS => figures::lookup::run(b, real, false, false),
        uapi::SHADOWPID_BENCH_WALK => figures::walk::run(b, real),
        uapi::SHADOWPID_BENCH_CONTENTION => figures::contention::run(b, real),
        uapi::SHADOWPID_BENCH_WORST => figures::worst::run(b),
        uapi::SHADOWPID_BENCH_MEMORY => figures::memory::run(b, real),
        uapi::SHADOWPID_BENCH_FLOOR => figures::floor::run(b),
        uapi::SHADOWPID_BENCH_OCCUPANCY => figures::occupancy::run(b),
        _ => Err(EINVAL),
    };
    // Let deferred frees of every column finish before the next caller.
    kernel::sync::rcu::rcu_barrier();
    BUSY.store(false, Ordering::Release);
    result
}
