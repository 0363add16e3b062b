// SPDX-License-Identifier: GPL-2.0

//! `SHADOWPID_IOC_BENCH`: the shadow allocator timed beside the rebuild of
//! 7.3's ([`native`]) and the running kernel's own functions ([`running`]),
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

mod native;
mod running;

use crate::{
    namespace::{PidNamespace, MAX_LEVEL, PID_MAX_MIN},
    pid::{self, Pid},
    pidmap::{ScanCounter, BITS_PER_PAGE, PID_MAX_LIMIT, RESERVED_PIDS},
    uapi,
};
use core::{
    ffi::c_void,
    sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, Ordering},
};
use kernel::{
    bindings,
    prelude::*,
    sync::{aref::ARef, rcu},
};
use native::{NativeNs, NativePid};
use running::{KernelNs, KernelNsView, KernelPid};

/// Set while a benchmark runs.
static BUSY: AtomicBool = AtomicBool::new(false);

/// Most operations per repetition.
const MAX_ITERATIONS: u32 = 1 << 24;
/// Most live pids for LOOKUP, WALK and MEMORY.
const MAX_LIVE: u32 = 1 << 20;
/// Most steps of one WALK repetition (iterations x live): its timed loop
/// checks no signal, so a repetition stays within seconds.
const MAX_WALK_STEPS: u64 = 1 << 26;

/// Monotonic nanoseconds.
fn now() -> i64 {
    // SAFETY: `ktime_get()` may be called from any context.
    unsafe { bindings::ktime_get() }
}

/// Picoseconds per operation of `ops` operations that took `ns` ns.
fn ps_per_op(ns: i64, ops: u64) -> u64 {
    (ns.max(0) as u64).saturating_mul(1000) / ops.max(1)
}

/// EINTR if a signal is pending for the caller.
fn interrupted() -> Result {
    if kernel::current!().signal_pending() {
        return Err(EINTR);
    }
    Ok(())
}

/// A cheap, reproducible sequence (xorshift64*) shared by both sides.
struct Sequence(u64);

impl Sequence {
    /// The next value.
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `lo..hi`.
    fn within(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() % (hi - lo) as u64) as i32
    }
}

/// Whether number `nr` is taken at `occupancy` parts per million: a fixed
/// scatter (a hash of the number), the same on both sides.
fn occupied(nr: i32, occupancy: u32) -> bool {
    let mut x = (nr as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 29;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 32;
    (x % 1_000_000) < u64::from(occupancy)
}

/// The shadow side of a figure: a chain of namespaces, each with its init.
struct Shadow {
    /// Root first.
    chain: KVec<ARef<PidNamespace>>,
    /// The inits, root first, and any other pids held (up to a million:
    /// kvmalloc'd).
    pids: KVVec<ARef<Pid>>,
}

impl Shadow {
    /// `depth` nested namespaces, level `l` with pid_max `pid_max(l)`; with
    /// their inits if `inits`.
    fn new(depth: u32, pid_max: impl Fn(u32) -> i32, inits: bool) -> Result<Self> {
        let mut s = Self {
            chain: KVec::new(),
            pids: KVVec::new(),
        };
        for level in 0..depth {
            let ns = PidNamespace::create(s.chain.last())?;
            ns.set_pid_max(pid_max(level).into())?;
            s.chain.push(ns, GFP_KERNEL)?;
            if inits {
                let init = s.alloc_pid()?;
                s.pids.push(init, GFP_KERNEL)?;
            }
        }
        Ok(s)
    }

    /// The most nested namespace.
    fn leaf(&self) -> &ARef<PidNamespace> {
        // `new` made at least one.
        &self.chain[self.chain.len() - 1]
    }

    /// `alloc_pid()` in the most nested namespace.
    fn alloc_pid(&self) -> Result<ARef<Pid>> {
        pid::alloc_pid(self.leaf(), &[])
    }
}

impl Drop for Shadow {
    fn drop(&mut self) {
        // Most recent first, inits last: the namespaces die with them.
        while let Some(pid) = self.pids.pop() {
            let _ = pid::free_pid(&pid);
        }
    }
}

/// The rebuild's side of a figure, shaped as [`Shadow`].
struct Native {
    /// Root first.
    chain: KVec<NativeNs>,
    /// The inits, root first, and any other pids held.
    pids: KVVec<NativePid>,
}

impl Native {
    /// As [`Shadow::new`].
    fn new(depth: u32, pid_max: impl Fn(u32) -> i32, inits: bool) -> Result<Self> {
        let mut s = Self {
            chain: KVec::new(),
            pids: KVVec::new(),
        };
        for level in 0..depth {
            let ns = NativeNs::new(s.chain.last(), pid_max(level))?;
            s.chain.push(ns, GFP_KERNEL)?;
            if inits {
                let init = s.leaf().alloc_pid()?;
                s.pids.push(init, GFP_KERNEL)?;
            }
        }
        Ok(s)
    }

    /// The most nested namespace.
    fn leaf(&self) -> &NativeNs {
        &self.chain[self.chain.len() - 1]
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        while let Some(pid) = self.pids.pop() {
            drop(pid);
        }
        // The pids' deferred frees use their namespace's cache, and level 0
        // is not counted by its pids (as 7.3's initial namespace): let them
        // finish before the chain goes.
        kernel::sync::rcu::rcu_barrier();
    }
}

/// The kernel column of a figure: the caller's own namespace, and the real
/// pids the figure added to it (given back when this goes).
struct Running<'k> {
    /// The caller's namespace, the most nested level.
    leaf: KernelNsView<'k>,
    /// The pids added, in order.
    pids: KVVec<KernelPid<'k>>,
    /// The leaf's cursor before the figure moved it (POPULATED), put back
    /// when this goes: the machine's own forks go on where they were.
    cursor: Option<i32>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        // Most recent first, as the other columns.
        while let Some(pid) = self.pids.pop() {
            drop(pid);
        }
        if let Some(cursor) = self.cursor {
            self.leaf.set_cursor(cursor);
        }
    }
}

/// Every column of a figure, in the same state.
struct State<'k> {
    /// The shadow.
    shadow: Shadow,
    /// The rebuild.
    native: Native,
    /// The running kernel, where it runs.
    running: Option<Running<'k>>,
}

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

impl<'k> State<'k> {
    /// `depth` levels, each with its init. With `real` (the caller, at
    /// level `depth - 1`), the shadow and the rebuild first hold the numbers
    /// the caller's real namespaces hold, level by level, with their cursors
    /// and pid_max (as numbers without pids: the pids are the kernel's), and
    /// the kernel column runs in the caller's namespace if `real` allows it;
    /// without, pid_max is `pid_max`. Then `live` pids are added at the leaf
    /// of every column, laid out by `layout` (POPULATED: the leaf's numbers
    /// taken at `occupancy`, see [`Self::populate`]).
    fn new(
        depth: u32,
        real: Option<&'k Caller>,
        pid_max: i32,
        live: u32,
        layout: u32,
        occupancy: u32,
    ) -> Result<Self> {
        let column = real.and_then(|c| c.column.then_some(&c.ns));
        let real = real.map(|c| &c.ns);
        let max_at = |l: u32| real.map_or(pid_max, |r| r.at(l).pid_max());
        let mut st = Self {
            shadow: Shadow::new(depth, max_at, true)?,
            native: Native::new(depth, max_at, true)?,
            running: column.map(|r| Running {
                leaf: r.view(),
                pids: KVVec::new(),
                cursor: None,
            }),
        };
        let (keep_every, total) = match layout {
            uapi::SHADOWPID_BENCH_SCATTERED => (2, 2 * live),
            _ => (1, live),
        };
        // The most numbers the figure holds at once at every level.
        let added = match layout {
            uapi::SHADOWPID_BENCH_POPULATED => {
                let region = (max_at(depth - 1) - RESERVED_PIDS).max(0) as u64;
                region * u64::from(occupancy) / 1_000_000 + 1
            }
            _ => u64::from(total),
        };
        if let Some(r) = real {
            for level in 0..depth {
                interrupted()?;
                let ns = r.at(level);
                let held = st.copy_level(ns, level as usize)?;
                // The kernel column takes real numbers at every level, the
                // initial namespace's included: never so many there that
                // the machine's own forks would run out (ENOSPC instead).
                // The nested levels are the caller's own.
                let room = (ns.pid_max() as u64).saturating_sub(held);
                if level == 0
                    && column.is_some()
                    && added + u64::from(RESERVED_PIDS as u32) + 1024 > room
                {
                    return Err(ENOSPC);
                }
            }
        }
        match layout {
            uapi::SHADOWPID_BENCH_SWEPT => st.sweep()?,
            uapi::SHADOWPID_BENCH_POPULATED => st.populate(occupancy)?,
            _ => {}
        }
        for i in 0..total {
            if i % 65536 == 0 {
                interrupted()?;
            }
            let keep = i % keep_every == 0;
            let pid = st.shadow.alloc_pid()?;
            if keep {
                st.shadow.pids.push(pid, GFP_KERNEL)?;
            } else {
                pid::free_pid(&pid)?;
            }
            let pid = st.native.leaf().alloc_pid()?;
            if keep {
                st.native.pids.push(pid, GFP_KERNEL)?;
            }
            if let Some(k) = st.running.as_mut() {
                let pid = k.leaf.alloc_pid()?;
                if keep {
                    k.pids.push(pid, GFP_KERNEL)?;
                }
            }
        }
        // A resizable pid hash (`pidhash_resize=1`) fits the count before
        // anything is timed: the steady state, not a resize in flight.
        crate::hash::settle();
        // The frees the state's making queued behind grace periods run now,
        // untimed, not in the first column's first repetition.
        kernel::sync::rcu::rcu_barrier();
        Ok(st)
    }

    /// The numbers of the real namespace `real` and its cursor, copied into
    /// level `level` of the shadow and the rebuild; returns how many it
    /// holds.
    fn copy_level(&self, real: KernelNsView<'_>, level: usize) -> Result<u64> {
        let (shadow, native) = (&self.shadow.chain[level], &self.native.chain[level]);
        let mut held = 0;
        for nr in real.numbers() {
            held += 1;
            // Taken already (by one of our inits): the same state.
            shadow.pidmap.alloc_exact(nr)?;
            match native.take_nr(nr) {
                Ok(_) => {}
                Err(e) if e == ENOMEM => return Err(e),
                Err(_) => {}
            }
        }
        let cursor = real.cursor();
        if cursor > 0 {
            shadow.last_pid.store(cursor - 1, Ordering::Relaxed);
            native.set_cursor(cursor);
        }
        Ok(held)
    }

    /// Every column's leaf numbers from RESERVED_PIDS to its pid_max taken at
    /// `occupancy` parts per million ([`occupied`]: the same numbers in
    /// every column), by one cyclic pass from RESERVED_PIDS that keeps the
    /// numbers to be taken and gives the others back at once (so that the
    /// real namespace never holds more than the state), then every cursor
    /// back at RESERVED_PIDS. Numbers held already (the machine's own, the
    /// inits) stay held.
    fn populate(&mut self, occupancy: u32) -> Result {
        let first = RESERVED_PIDS;
        self.shadow
            .leaf()
            .last_pid
            .store(first - 1, Ordering::Relaxed);
        let shadow = &mut self.shadow;
        let leaf = shadow.leaf().clone();
        fill(first, || {
            let pid = shadow.alloc_pid()?;
            let nr = pid.nr_ns(&leaf);
            if occupied(nr, occupancy) {
                shadow.pids.push(pid, GFP_KERNEL)?;
                Ok((nr, true))
            } else {
                pid::free_pid(&pid)?;
                Ok((nr, false))
            }
        })?;
        leaf.last_pid.store(first - 1, Ordering::Relaxed);
        let native = &mut self.native;
        native.leaf().set_cursor(first);
        fill(first, || {
            let pid = native.leaf().alloc_pid()?;
            let nr = pid.nr();
            let keep = occupied(nr, occupancy);
            if keep {
                native.pids.push(pid, GFP_KERNEL)?;
            }
            Ok((nr, keep))
        })?;
        native.leaf().set_cursor(first);
        if let Some(k) = self.running.as_mut() {
            k.cursor = Some(k.leaf.cursor());
            k.leaf.set_cursor(first);
            let leaf = k.leaf;
            fill(first, || {
                let pid = leaf.alloc_pid()?;
                let nr = pid.nr();
                let keep = occupied(nr, occupancy);
                if keep {
                    k.pids.push(pid, GFP_KERNEL)?;
                }
                Ok((nr, keep))
            })?;
            k.leaf.set_cursor(first);
            // The real namespace's cursor is set without its lock, as the
            // ns_last_pid sysctl sets it: a fork of the machine's in between
            // could have started the pass elsewhere, leaving part of the
            // region unpopulated in this column alone. About the same count
            // (the machine's own forks may hold a few numbers), or EAGAIN.
            let (shadow_kept, kernel_kept) = (self.shadow.pids.len(), k.pids.len());
            if kernel_kept + 64 < shadow_kept || kernel_kept > shadow_kept + 64 {
                return Err(EAGAIN);
            }
        }
        Ok(())
    }

    /// Every column's leaf cursor goes once all the way round its pid_max
    /// (each number taken and given back, from the cursor up to pid_max,
    /// then from the wrap back to where it started): what stays is what a
    /// namespace keeps after a long life of forks.
    fn sweep(&mut self) -> Result {
        let shadow = || -> Result<i32> {
            let pid = self.shadow.alloc_pid()?;
            let nr = pid.nr_ns(self.shadow.leaf());
            pid::free_pid(&pid)?;
            Ok(nr)
        };
        full_circle(shadow)?;
        full_circle(|| Ok(self.native.leaf().alloc_pid()?.nr()))?;
        if let Some(k) = self.running.as_ref() {
            full_circle(|| Ok(k.leaf.alloc_pid()?.nr()))?;
        }
        Ok(())
    }
}

/// Allocates with `take` (which returns the number it got, having kept it
/// or given it back) from a cursor at `first` until the cursor wraps: a
/// number at or below the last one means the pass went round (it is one
/// the pass gave back, so `take` gave it back again).
fn fill(first: i32, mut take: impl FnMut() -> Result<(i32, bool)>) -> Result {
    let mut last = first - 1;
    loop {
        let (nr, _) = take()?;
        if nr <= last {
            return Ok(());
        }
        last = nr;
        if nr % 4096 == 0 {
            interrupted()?;
        }
    }
}

/// Takes and gives back numbers with `pair` (which returns the number it
/// had) until the cursor has wrapped and come back to where it started.
fn full_circle(mut pair: impl FnMut() -> Result<i32>) -> Result {
    let first = pair()?;
    let (mut last, mut wrapped) = (first, false);
    loop {
        let nr = pair()?;
        wrapped |= nr < last;
        if wrapped && nr >= first {
            return Ok(());
        }
        last = nr;
        if nr % 65536 == 0 {
            interrupted()?;
        }
    }
}

/// One column's timed repetition: ps per operation.
type Rep<'a> = &'a mut dyn FnMut() -> Result<u64>;

/// Runs `reps` repetitions of each column, in balanced orders (every
/// rotation of the columns, then every rotation reversed), and fills
/// `out.shadow_ps`, `out.rebuild_ps` and (if it runs) `out.kernel_ps`, with
/// the `rcu_barrier()` after each column's repetition timed into the
/// `*_drain_ps` beside them (per one of `ops` operations). `baseline`, if
/// given, is timed as a further column into `out.baseline_ps`, and `pidfs`
/// into `out.pidfs_ps`.
fn alternate<'a>(
    out: &mut uapi::shadowpid_bench,
    ops: u64,
    shadow: Rep<'a>,
    native: Rep<'a>,
    running: Option<Rep<'a>>,
    baseline: Option<Rep<'a>>,
    pidfs: Option<Rep<'a>>,
) -> Result {
    let kernel_runs = running.is_some();
    let mut columns: [Option<Rep<'a>>; 5] = [Some(shadow), Some(native), running, baseline, pidfs];
    // The columns that run, in the orders the repetitions take in turn:
    // every rotation of them, then every rotation reversed, so that each is
    // first, last and after each other one about equally often.
    let mut active = [0usize; 5];
    let mut count = 0;
    for (c, col) in columns.iter().enumerate() {
        if col.is_some() {
            active[count] = c;
            count += 1;
        }
    }
    for r in 0..out.reps as usize {
        interrupted()?;
        let (turn, reversed) = (r % count, (r / count) % 2 == 1);
        for i in 0..count {
            let k = if reversed { count - 1 - i } else { i };
            let c = active[(k + turn) % count];
            let Some(rep) = columns[c].as_mut() else {
                continue;
            };
            let ps = rep()?;
            let t = now();
            kernel::sync::rcu::rcu_barrier();
            let drain = ps_per_op(now() - t, ops);
            let (ps_out, drain_out) = match c {
                0 => (&mut out.shadow_ps, Some(&mut out.shadow_drain_ps)),
                1 => (&mut out.rebuild_ps, Some(&mut out.rebuild_drain_ps)),
                2 => (&mut out.kernel_ps, Some(&mut out.kernel_drain_ps)),
                3 => (&mut out.baseline_ps, None),
                _ => (&mut out.pidfs_ps, None),
            };
            ps_out[r] = ps;
            if let Some(d) = drain_out {
                d[r] = drain;
            }
        }
    }
    out.columns = uapi::SHADOWPID_BENCH_SHADOW
        | uapi::SHADOWPID_BENCH_REBUILD
        | if kernel_runs {
            uapi::SHADOWPID_BENCH_KERNEL
        } else {
            0
        };
    Ok(())
}

/// Times alloc + free pairs of numbers alone on both sides' leaves.
fn number_pairs(out: &mut uapi::shadowpid_bench, shadow: &Shadow, native: &Native) -> Result {
    let n = out.iterations;
    alternate(
        out,
        n.into(),
        &mut || {
            let ns = shadow.leaf();
            let t = now();
            for _ in 0..n {
                let nr = ns.alloc_cyclic()?;
                ns.pidmap.free(nr);
            }
            Ok(ps_per_op(now() - t, n.into()))
        },
        &mut || {
            let ns = native.leaf();
            let t = now();
            for _ in 0..n {
                let nr = ns.alloc_nr()?;
                ns.free_nr(nr);
            }
            Ok(ps_per_op(now() - t, n.into()))
        },
        None,
        None,
        None,
    )
}

/// Figure 1: numbers only, at the leaf of a figure's state (the kernel has
/// no such call: no kernel column).
fn numbers(out: &mut uapi::shadowpid_bench, real: Option<&Caller>) -> Result {
    let st = State::new(
        out.depth,
        real,
        crate::namespace::PID_MAX_DEFAULT,
        out.live,
        out.layout,
        out.occupancy,
    )?;
    number_pairs(out, &st.shadow, &st.native)
}

/// Figure 2: alloc_pid + free_pid at `depth`.
fn full(out: &mut uapi::shadowpid_bench, real: Option<&Caller>) -> Result {
    let n = out.iterations;
    let st = State::new(
        out.depth,
        real,
        crate::namespace::PID_MAX_DEFAULT,
        out.live,
        out.layout,
        out.occupancy,
    )?;
    let leaf = st.running.as_ref().map(|k| k.leaf);
    let mut kernel_rep = || {
        let t = now();
        if let Some(leaf) = leaf {
            for _ in 0..n {
                drop(leaf.alloc_pid()?);
            }
        }
        Ok(ps_per_op(now() - t, n.into()))
    };
    // pidfs's part of the kernel's pair, timed on its own on one pid of the
    // same namespace (in the table with the state's and the machine's).
    let probe = match leaf {
        Some(leaf) if running::pidfs_resolve().is_ok() => Some(leaf.alloc_pid()?),
        _ => None,
    };
    let mut pidfs_rep = || {
        let t = now();
        if let Some(p) = probe.as_ref() {
            p.pidfs_cycle(n)?;
        }
        Ok(ps_per_op(now() - t, n.into()))
    };
    alternate(
        out,
        n.into(),
        &mut || {
            let t = now();
            for _ in 0..n {
                let pid = st.shadow.alloc_pid()?;
                pid::free_pid(&pid)?;
            }
            Ok(ps_per_op(now() - t, n.into()))
        },
        &mut || {
            let t = now();
            for _ in 0..n {
                drop(st.native.leaf().alloc_pid()?);
            }
            Ok(ps_per_op(now() - t, n.into()))
        },
        leaf.map(|_| &mut kernel_rep as Rep<'_>),
        None,
        probe.as_ref().map(|_| &mut pidfs_rep as Rep<'_>),
    )
}

/// Every column's live numbers at the leaf, in order: what lookups ask for.
fn live_numbers(st: &State<'_>, live: u32) -> Result<[KVVec<i32>; 3]> {
    let skip = st.shadow.chain.len();
    let mut out = [KVVec::new(), KVVec::new(), KVVec::new()];
    for pid in st.shadow.pids.iter().skip(skip) {
        out[0].push(pid.leaf_nr(), GFP_KERNEL)?;
    }
    for pid in st.native.pids.iter().skip(skip) {
        out[1].push(pid.nr(), GFP_KERNEL)?;
    }
    if let Some(k) = st.running.as_ref() {
        for pid in k.pids.iter() {
            out[2].push(pid.nr(), GFP_KERNEL)?;
        }
    }
    if out[0].len() != live as usize || out[1].len() != live as usize {
        return Err(EUCLEAN);
    }
    Ok(out)
}

/// The numbers a miss asks for, given the live ones `live` (in order) and
/// the leaf's `pid_max`: each live number's successor that is not live
/// (the holes of a scattered layout), or, if there are none (dense),
/// `live.len()` numbers past the last, after a gap of 4,096 that the
/// machine's own forks (the kernel column's namespace is theirs) do not
/// cross during a figure, wrapping to RESERVED_PIDS at `pid_max`. `held` says whether a number is held in any
/// column (the machine's own pids too): those are left out.
fn absent_numbers(live: &[i32], pid_max: i32, held: impl Fn(i32) -> bool) -> Result<KVVec<i32>> {
    let mut out = KVVec::new();
    for w in live.windows(2) {
        if w[1] > w[0] + 1 && !held(w[0] + 1) {
            out.push(w[0] + 1, GFP_KERNEL)?;
        }
    }
    if out.is_empty() {
        // From past the gap up to pid_max, then on from RESERVED_PIDS (the
        // cursor may have been high: the numbers wrapped), never a number
        // held.
        let last = live.last().copied().unwrap_or(0);
        let span = (pid_max - RESERVED_PIDS).max(0);
        let first = (last + 4097 - RESERVED_PIDS).max(0);
        for i in 0..span {
            if out.len() == live.len() {
                break;
            }
            let nr = RESERVED_PIDS + (first + i).checked_rem(span).ok_or(EUCLEAN)?;
            if !held(nr) {
                out.push(nr, GFP_KERNEL)?;
            }
        }
    }
    if out.is_empty() {
        return Err(EUCLEAN);
    }
    Ok(out)
}

/// `n` lookup keys drawn from `set` before anything is timed: every member
/// once in a shuffled order, then again in the same order, until there are
/// `n` (the same seed in every column, so that each asks in the same
/// pattern).
fn keys(set: &[i32], n: u32) -> Result<KVVec<i32>> {
    let mut order = KVVec::with_capacity(set.len(), GFP_KERNEL)?;
    for &nr in set {
        order.push(nr, GFP_KERNEL)?;
    }
    let mut seq = Sequence(0x5eed);
    for i in (1..order.len()).rev() {
        order.swap(i, (seq.next() % (i as u64 + 1)) as usize);
    }
    let mut out = KVVec::with_capacity(n as usize, GFP_KERNEL)?;
    for &nr in order.iter().cycle().take(n as usize) {
        out.push(nr, GFP_KERNEL)?;
    }
    if out.len() != n as usize {
        return Err(EUCLEAN);
    }
    Ok(out)
}

/// The shadow's lookup as the benchmark calls it: out of line, with its
/// RCU read section inside, as the other columns' C entries are.
#[inline(never)]
fn shadow_find(ns: &PidNamespace, nr: i32, read: bool) -> Option<i32> {
    let guard = rcu::read_lock();
    let pid = pid::find_pid_ns(nr, ns, &guard)?;
    Some(if read { pid.nr_ns(ns) } else { nr })
}

/// Times `keys` lookups with `find` (which answers the number found, read
/// from the pid or not), each expected to find its key if `hit`, to find
/// nothing otherwise: ps per lookup, EUCLEAN if any answer was wrong.
fn time_lookups(keys: &[i32], hit: bool, mut find: impl FnMut(i32) -> Option<i32>) -> Result<u64> {
    let mut wrong = 0u32;
    let t = now();
    for &nr in keys {
        let got = find(nr);
        wrong += u32::from(if hit { got != Some(nr) } else { got.is_some() });
    }
    let elapsed = now() - t;
    if wrong != 0 {
        return Err(EUCLEAN);
    }
    Ok(ps_per_op(elapsed, keys.len() as u64))
}

/// Figures 3, 10 and 11: find_pid_ns over precomputed keys, `live` pids
/// live: hits (with `read`, each column also reads the number of the pid it
/// found: LOOKUP_READ) or misses (LOOKUP_MISS), beside an empty call over
/// the same keys.
fn lookup(out: &mut uapi::shadowpid_bench, real: Option<&Caller>, read: bool, hit: bool) -> Result {
    let (n, live) = (out.iterations, out.live);
    let st = State::new(out.depth, real, PID_MAX_LIMIT, live, out.layout, 0)?;
    let [s_nrs, n_nrs, k_nrs] = live_numbers(&st, live)?;
    let (s_ns, n_ns) = (st.shadow.leaf(), st.native.leaf());
    let leaf = st.running.as_ref().map(|k| k.leaf);
    // Misses: one set for every column, numbers none of them holds (the
    // shadow's pidmap holds every number the others do: the same state).
    let absent = if hit {
        KVVec::new()
    } else {
        let pid_max = s_ns.pid_max.load(Ordering::Relaxed);
        absent_numbers(&s_nrs, pid_max, |nr| {
            s_ns.pidmap.test(nr) || leaf.is_some_and(|l| l.find(nr, false).is_some())
        })?
    };
    let pick = |nrs: &[i32]| keys(if hit { nrs } else { &absent }, n);
    let (s_keys, n_keys) = (pick(&s_nrs)?, pick(&n_nrs)?);
    let k_keys = match leaf {
        Some(_) => pick(&k_nrs)?,
        None => KVVec::new(),
    };
    let mut kernel_rep = || match leaf {
        Some(l) => time_lookups(&k_keys, hit, |nr| {
            l.find(nr, read).map(|got| if read { got } else { nr })
        }),
        None => Err(EINVAL),
    };
    alternate(
        out,
        n.into(),
        &mut || time_lookups(&s_keys, hit, |nr| shadow_find(s_ns, nr, read)),
        &mut || {
            time_lookups(&n_keys, hit, |nr| {
                if read {
                    n_ns.find_nr(nr)
                } else {
                    n_ns.find(nr).then_some(nr)
                }
            })
        },
        leaf.map(|_| &mut kernel_rep as Rep<'_>),
        Some(&mut || time_lookups(&s_keys, true, |nr| Some(running::nop(nr, read)))),
        None,
    )
}

/// Figure 4: `find_ge_pid()` walks over the leaf, `iterations` walks, per
/// pid found; every column reads the number from the pid it found.
fn walk(out: &mut uapi::shadowpid_bench, real: Option<&Caller>) -> Result {
    let (n, live) = (out.iterations, out.live);
    let st = State::new(out.depth, real, PID_MAX_LIMIT, live, out.layout, 0)?;
    // Each walk finds at least the live pids; per pid found.
    let check = |seen: u64| {
        if seen < u64::from(n) * u64::from(live) {
            Err(EUCLEAN)
        } else {
            Ok(())
        }
    };
    let leaf = st.running.as_ref().map(|k| k.leaf);
    let mut kernel_rep = || {
        let mut seen = 0u64;
        let t = now();
        if let Some(leaf) = leaf {
            for _ in 0..n {
                let mut nr = 0;
                while let Some(found) = leaf.find_ge(nr) {
                    seen += 1;
                    nr = found + 1;
                }
            }
        }
        let elapsed = now() - t;
        check(seen)?;
        Ok(ps_per_op(elapsed, seen))
    };
    alternate(
        out,
        n.into(),
        &mut || {
            let ns = st.shadow.leaf();
            let mut seen = 0u64;
            let t = now();
            for _ in 0..n {
                let mut nr = 0;
                loop {
                    let guard = rcu::read_lock();
                    let Some(pid) = pid::find_ge_pid_rcu(nr, ns, &guard) else {
                        break;
                    };
                    seen += 1;
                    nr = pid.nr_ns(ns) + 1;
                }
            }
            let elapsed = now() - t;
            check(seen)?;
            Ok(ps_per_op(elapsed, seen))
        },
        &mut || {
            let ns = st.native.leaf();
            let mut seen = 0u64;
            let t = now();
            for _ in 0..n {
                let mut nr = 0;
                while let Some(found) = ns.next(nr) {
                    seen += 1;
                    nr = found + 1;
                }
            }
            let elapsed = now() - t;
            check(seen)?;
            Ok(ps_per_op(elapsed, seen))
        },
        leaf.map(|_| &mut kernel_rep as Rep<'_>),
        None,
        None,
    )
}

/// Figure 7: bytes for `live` live pids at the leaf, each column counting
/// everything it allocates for them.
fn memory(out: &mut uapi::shadowpid_bench, real: Option<&Caller>) -> Result {
    let live = u64::from(out.live);
    let st = State::new(out.depth, real, PID_MAX_LIMIT, out.live, out.layout, 0)?;
    let ns = st.shadow.leaf();
    let pid_bytes = st.shadow.pids.last().map_or(0, |p| p.slab_bytes());
    out.shadow_bytes = u64::from(ns.pidmap.pages()) * bindings::PAGE_SIZE as u64
        + live * (pid_bytes + pid::task_link_bytes()?)
        + crate::hash::table_bytes();
    let native_pid = st.native.pids.last().map_or(0, NativePid::bytes);
    out.rebuild_bytes = st.native.leaf().idr_bytes() + live * native_pid;
    if let Some(k) = st.running.as_ref() {
        let kernel_pid = k.pids.last().map_or(0, KernelPid::bytes);
        // The table of every pid on the machine: the figure's pids pay
        // their share of it (it grows in powers of two, so what it grew by
        // while they were added would say more about where the doubling
        // fell than about them). ENOENT: not on this kernel, not counted.
        let pidfs = match running::pidfs_table() {
            Ok((bytes, entries)) if entries > 0 => {
                (out.pidfs_bytes, out.pidfs_entries) = (bytes, entries);
                bytes * live / entries
            }
            Ok(_) | Err(_) => 0,
        };
        out.kernel_bytes = k.leaf.idr_bytes() + live * kernel_pid + pidfs;
        out.columns |= uapi::SHADOWPID_BENCH_KERNEL;
    }
    out.columns |= uapi::SHADOWPID_BENCH_SHADOW | uapi::SHADOWPID_BENCH_REBUILD;
    Ok(())
}

/// Figure 8: the floor, an atomic test-and-set + clear pair on one word.
fn floor(out: &mut uapi::shadowpid_bench) -> Result {
    let n = out.iterations;
    let word = core::sync::atomic::AtomicU64::new(0);
    for r in 0..out.reps as usize {
        interrupted()?;
        let t = now();
        for i in 0..n {
            let mask = 1u64 << (i % 64);
            if word.fetch_or(mask, Ordering::AcqRel) & mask == 0 {
                word.fetch_and(!mask, Ordering::AcqRel);
            }
        }
        out.shadow_ps[r] = ps_per_op(now() - t, n.into());
    }
    out.columns = uapi::SHADOWPID_BENCH_SHADOW;
    Ok(())
}

/// The shadow's and the native's number spaces up to `pid_max`, with every
/// number taken for which `taken` holds (number 0 is never handed out).
fn numbers_taken(pid_max: i32, taken: impl Fn(i32) -> bool) -> Result<(Shadow, Native)> {
    let shadow = Shadow::new(1, |_| pid_max, false)?;
    let native = Native::new(1, |_| pid_max, false)?;
    let map = &shadow.leaf().pidmap;
    for nr in 1..pid_max {
        if nr % 65536 == 0 {
            interrupted()?;
        }
        if taken(nr) {
            map.alloc_exact(nr)?;
            native.leaf().take_nr(nr)?;
        }
    }
    Ok((shadow, native))
}

/// Figure 6: every number but one taken; the allocation that finds it.
fn worst(out: &mut uapi::shadowpid_bench) -> Result {
    let (n, pid_max) = (out.iterations, out.pid_max as i32);
    let (shadow, native) = numbers_taken(pid_max, |_| true)?;
    let mut holes = Sequence(0xbad);
    let mut max_work = ScanWork::default();
    let pid_max_now = shadow.leaf().pid_max.load(Ordering::Relaxed);
    for r in 0..out.reps as usize {
        interrupted()?;
        // The hole, and the cursor just past it: the search goes all the way
        // round, every page skipped by nr_free but the hole's, scanned.
        let hole = holes.within(RESERVED_PIDS, pid_max);
        let ns = shadow.leaf();
        let t = now();
        for _ in 0..n {
            ns.pidmap.free(hole);
            ns.last_pid.store(hole, Ordering::Relaxed);
            let mut work = ScanWork::default();
            // The namespace's own allocation (`alloc_cyclic()`), with a
            // counter the production path does not carry.
            let got = ns
                .pidmap
                .alloc_cyclic_counted(hole + 1, pid_max_now, &mut work)?
                .ok_or(EAGAIN)?;
            ns.last_pid.store(got, Ordering::Relaxed);
            if got != hole {
                return Err(EUCLEAN);
            }
            max_work.pages = max_work.pages.max(work.pages);
            max_work.words = max_work.words.max(work.words);
        }
        out.shadow_ps[r] = ps_per_op(now() - t, n.into());
        let ns = native.leaf();
        let t = now();
        for _ in 0..n {
            ns.free_nr(hole);
            ns.set_cursor(hole + 1);
            if ns.alloc_nr()? != hole {
                return Err(EUCLEAN);
            }
        }
        out.rebuild_ps[r] = ps_per_op(now() - t, n.into());
    }
    out.columns = uapi::SHADOWPID_BENCH_SHADOW | uapi::SHADOWPID_BENCH_REBUILD;
    out.work = [max_work.pages.into(), max_work.words.into()];
    // The seed's bound: each page of the map visited once (the hole's
    // twice, as the search wraps into it), one page's words scanned once.
    let words_per_page = (bindings::PAGE_SIZE / 8) as u32;
    let pages = (pid_max as u32).div_ceil(BITS_PER_PAGE as u32);
    if max_work.pages > pages + 1 || max_work.words > words_per_page + 1 {
        return Err(EUCLEAN);
    }
    Ok(())
}

/// Figure 9: alloc + free pairs at an occupancy, scattered.
fn occupancy(out: &mut uapi::shadowpid_bench) -> Result {
    let occ = out.occupancy;
    let (shadow, native) = numbers_taken(out.pid_max as i32, |nr| occupied(nr, occ))?;
    number_pairs(out, &shadow, &native)
}

/// What the threads of the contention figure share.
struct Hammer<'a> {
    /// The column whose turn it is.
    side: Side<'a>,
    /// Pairs per thread.
    iterations: u32,
    /// Threads ready to start.
    ready: AtomicU32,
    /// Set to start them all at once.
    go: AtomicBool,
    /// Set with `go` when not every thread could be made: no work then.
    abort: AtomicBool,
    /// Threads done.
    done: AtomicU32,
    /// When the last one finished, ns.
    end: AtomicI64,
    /// The first error of a thread (a negative errno), or 0.
    error: AtomicI32,
}

/// A column of the contention figure: the namespace its threads allocate in.
#[derive(Clone, Copy)]
enum Side<'a> {
    /// The shadow's leaf.
    Shadow(&'a ARef<PidNamespace>),
    /// The rebuild's leaf.
    Native(&'a NativeNs),
    /// The running kernel, in the caller's namespace.
    Running(KernelNsView<'a>),
}

// The threads share a `Hammer` through a raw pointer: it must be `Sync`.
const _: () = {
    const fn assert_sync<T: Sync>() {}
    assert_sync::<Hammer<'static>>();
};

impl Hammer<'_> {
    /// One thread's work: `iterations` alloc_pid + free_pid pairs.
    fn work(&self) -> Result {
        for _ in 0..self.iterations {
            match self.side {
                Side::Shadow(ns) => {
                    let pid = pid::alloc_pid(ns, &[])?;
                    pid::free_pid(&pid)?;
                }
                Side::Native(ns) => drop(ns.alloc_pid()?),
                Side::Running(k) => drop(k.alloc_pid()?),
            }
        }
        Ok(())
    }
}

/// The body of a contention thread.
///
/// # Safety
///
/// `data` is a [`Hammer`] that outlives the thread (its creator stops the
/// thread with `kthread_stop()` before letting it go).
unsafe extern "C" fn hammer_thread(data: *mut c_void) -> i32 {
    // SAFETY: by the function's safety requirement.
    let h = unsafe { &*data.cast::<Hammer<'_>>() };
    h.ready.fetch_add(1, Ordering::AcqRel);
    while !h.go.load(Ordering::Acquire) {
        core::hint::spin_loop();
    }
    if h.abort.load(Ordering::Acquire) {
        // Made, but the others could not be: nothing to measure.
    } else if let Err(e) = h.work() {
        let _ = h
            .error
            .compare_exchange(0, e.to_errno(), Ordering::AcqRel, Ordering::Relaxed);
    }
    h.end.fetch_max(now(), Ordering::AcqRel);
    h.done.fetch_add(1, Ordering::AcqRel);
    // SAFETY: called from a kthread.
    while !unsafe { bindings::kthread_should_stop() } {
        // SAFETY: sleeping is fine in a kthread.
        unsafe { bindings::msleep(1) };
    }
    0
}

/// Runs `h` on `cpus` kernel threads, one pinned to each of the first
/// `cpus` online CPUs; returns the wall time from the start to the last end.
fn hammer(h: &Hammer<'_>, cpus: u32) -> Result<i64> {
    let mut tasks: KVec<*mut bindings::task_struct> = KVec::new();
    let mut result = Ok(());
    for i in 0..cpus {
        let Some(cpu) = native::nth_online_cpu(i) else {
            result = Err(EINVAL);
            break;
        };
        // SAFETY: `hammer_thread` takes a `Hammer`, which outlives the
        // thread: every thread made here is stopped below before return.
        let task = unsafe {
            bindings::kthread_create_on_cpu(
                Some(hammer_thread),
                core::ptr::from_ref(h).cast_mut().cast(),
                cpu,
                c"shadowpid_bench/%u".as_char_ptr(),
            )
        };
        if let Err(e) = kernel::error::from_err_ptr(task) {
            result = Err(e);
            break;
        }
        // SAFETY: a new kthread; the reference keeps its task_struct for
        // `kthread_stop()` whatever the thread does.
        unsafe { bindings::get_task_struct(task) };
        if let Err(e) = tasks.push(task, GFP_KERNEL) {
            // SAFETY: the thread has not run: stopping it never runs it.
            unsafe {
                bindings::kthread_stop(task);
                bindings::put_task_struct(task);
            }
            result = Err(e.into());
            break;
        }
        // SAFETY: a new kthread, waiting to be woken.
        unsafe { bindings::wake_up_process(task) };
    }
    let mut start = 0;
    if result.is_ok() {
        while h.ready.load(Ordering::Acquire) < cpus {
            // SAFETY: process context.
            unsafe { bindings::msleep(1) };
        }
        start = now();
        h.go.store(true, Ordering::Release);
        while h.done.load(Ordering::Acquire) < cpus {
            // SAFETY: process context.
            unsafe { bindings::msleep(1) };
        }
    }
    if result.is_err() {
        // Threads already made spin until `go`: let them out, idle.
        h.abort.store(true, Ordering::Release);
        h.go.store(true, Ordering::Release);
    }
    for &task in tasks.iter() {
        // SAFETY: our reference keeps `task` valid; `kthread_stop()` waits
        // for the thread to return from `hammer_thread`.
        unsafe {
            bindings::kthread_stop(task);
            bindings::put_task_struct(task);
        }
    }
    result?;
    match h.error.load(Ordering::Acquire) {
        0 => Ok(h.end.load(Ordering::Acquire) - start),
        e => Err(Error::from_errno(e)),
    }
}

/// Figure 5: alloc/free pairs on `cpus` pinned threads, one namespace.
fn contention(out: &mut uapi::shadowpid_bench, real: Option<&Caller>) -> Result {
    let (n, cpus) = (out.iterations, out.cpus);
    let st = State::new(
        out.depth,
        real,
        crate::namespace::PID_MAX_DEFAULT,
        out.live,
        out.layout,
        out.occupancy,
    )?;
    let pairs = u64::from(n) * u64::from(cpus);
    let run = |side: Side<'_>| -> Result<u64> {
        let h = Hammer {
            side,
            iterations: n,
            ready: AtomicU32::new(0),
            go: AtomicBool::new(false),
            abort: AtomicBool::new(false),
            done: AtomicU32::new(0),
            end: AtomicI64::new(0),
            error: AtomicI32::new(0),
        };
        Ok(ps_per_op(hammer(&h, cpus)?, pairs))
    };
    let leaf = st.running.as_ref().map(|k| k.leaf);
    let mut kernel_rep = || leaf.map_or(Err(EINVAL), |l| run(Side::Running(l)));
    alternate(
        out,
        pairs,
        &mut || run(Side::Shadow(st.shadow.leaf())),
        &mut || run(Side::Native(st.native.leaf())),
        leaf.map(|_| &mut kernel_rep as Rep<'_>),
        None,
        None,
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
            depth_ok && (1..=native::online_cpus()).contains(&b.cpus) && state_ok && !max
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

/// What one allocation scan visited: for the worst-case figure.
#[derive(Default, Clone, Copy)]
struct ScanWork {
    /// Map entries visited (skipped by `nr_free` or scanned).
    pages: u32,
    /// 64-bit words read while looking for a zero bit.
    words: u32,
}

impl ScanCounter for ScanWork {
    fn entry(&mut self) {
        self.pages = self.pages.wrapping_add(1);
    }

    fn words(&mut self, n: u32) {
        self.words = self.words.wrapping_add(n);
    }
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
    unsafe { native::exit() };
}

/// The caller of a figure whose namespaces match the figure's depth: its
/// real namespace, whose state every column starts from.
struct Caller {
    /// The caller's active namespace, at level `depth - 1`.
    ns: KernelNs,
    /// Whether the kernel column runs: the kernel has the figure's function
    /// and its `alloc_pid()` and `free_pid()` can be called here.
    column: bool,
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
    let column = has_kernel_column(b.figure) && kernel_wanted(b)? && running::resolve().is_ok();
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
        uapi::SHADOWPID_BENCH_NUMBERS => numbers(b, real),
        uapi::SHADOWPID_BENCH_FULL => full(b, real),
        uapi::SHADOWPID_BENCH_LOOKUP => lookup(b, real, false, true),
        uapi::SHADOWPID_BENCH_LOOKUP_READ => lookup(b, real, true, true),
        uapi::SHADOWPID_BENCH_LOOKUP_MISS => lookup(b, real, false, false),
        uapi::SHADOWPID_BENCH_WALK => walk(b, real),
        uapi::SHADOWPID_BENCH_CONTENTION => contention(b, real),
        uapi::SHADOWPID_BENCH_WORST => worst(b),
        uapi::SHADOWPID_BENCH_MEMORY => memory(b, real),
        uapi::SHADOWPID_BENCH_FLOOR => floor(b),
        uapi::SHADOWPID_BENCH_OCCUPANCY => occupancy(b),
        _ => Err(EINVAL),
    };
    // Let deferred frees of every column finish before the next caller.
    kernel::sync::rcu::rcu_barrier();
    BUSY.store(false, Ordering::Release);
    result
}
