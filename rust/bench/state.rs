// SPDX-License-Identifier: GPL-2.0

//! The state every column of a figure starts from: the numbers the caller's
//! real namespaces hold, level by level, then the figure's live pids laid
//! out as `enum shadowpid_bench_layout` says, built outside the timed
//! region, the same in every column.

use super::{
    interrupted,
    kernel_pid::{Kernel, KernelNsView},
    rebuild::Rebuild,
    shadow::Shadow,
    Caller,
};
use crate::{
    allocator::{namespace::PID_MAX_DEFAULT, pid, pidmap::RESERVED_PIDS},
    uapi,
};
use core::sync::atomic::Ordering;
use kernel::prelude::*;

/// Whether number `nr` is taken at `occupancy` parts per million: a fixed
/// scatter (a hash of the number), the same on both sides.
pub(crate) fn occupied(nr: i32, occupancy: u32) -> bool {
    let mut x = (nr as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 29;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 32;
    (x % 1_000_000) < u64::from(occupancy)
}

/// Every column of a figure, in the same state.
pub(crate) struct State<'k> {
    pub(crate) shadow: Shadow,
    pub(crate) rebuild: Rebuild,
    /// The running kernel, where it runs.
    pub(crate) kernel: Option<Kernel<'k>>,
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
    pub(crate) fn new(
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
            rebuild: Rebuild::new(depth, max_at, true)?,
            kernel: column.map(|r| Kernel {
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
            let pid = st.rebuild.leaf().alloc_pid()?;
            if keep {
                st.rebuild.pids.push(pid, GFP_KERNEL)?;
            }
            if let Some(k) = st.kernel.as_mut() {
                let pid = k.leaf.alloc_pid()?;
                if keep {
                    k.pids.push(pid, GFP_KERNEL)?;
                }
            }
        }
        // A resizable pid hash (`pidhash_resize=1`) fits the count before
        // anything is timed: the steady state, not a resize in flight.
        crate::allocator::hash::settle();
        // The frees the state's making queued behind grace periods run now,
        // untimed, not in the first column's first repetition.
        kernel::sync::rcu::rcu_barrier();
        Ok(st)
    }

    /// The state a figure of pairs (1, 2, 5) asks for in `out`: its depth,
    /// its live pids or occupancy, pid_max the default.
    pub(crate) fn for_pairs(out: &uapi::shadowpid_bench, real: Option<&'k Caller>) -> Result<Self> {
        Self::new(
            out.depth,
            real,
            PID_MAX_DEFAULT,
            out.live,
            out.layout,
            out.occupancy,
        )
    }

    /// The numbers of the real namespace `real` and its cursor, copied into
    /// level `level` of the shadow and the rebuild; returns how many it
    /// holds.
    pub(crate) fn copy_level(&self, real: KernelNsView<'_>, level: usize) -> Result<u64> {
        let (shadow, rebuild) = (&self.shadow.chain[level], &self.rebuild.chain[level]);
        let mut held = 0;
        for nr in real.numbers() {
            held += 1;
            // Taken already (by one of our inits): the same state.
            shadow.pidmap.alloc_exact(nr)?;
            match rebuild.take_nr(nr) {
                Ok(_) => {}
                Err(e) if e == ENOMEM => return Err(e),
                Err(_) => {}
            }
        }
        let cursor = real.cursor();
        if cursor > 0 {
            shadow.last_pid.store(cursor - 1, Ordering::Relaxed);
            rebuild.set_cursor(cursor);
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
    pub(crate) fn populate(&mut self, occupancy: u32) -> Result {
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
        let rebuild = &mut self.rebuild;
        rebuild.leaf().set_cursor(first);
        fill(first, || {
            let pid = rebuild.leaf().alloc_pid()?;
            let nr = pid.nr();
            let keep = occupied(nr, occupancy);
            if keep {
                rebuild.pids.push(pid, GFP_KERNEL)?;
            }
            Ok((nr, keep))
        })?;
        rebuild.leaf().set_cursor(first);
        if let Some(k) = self.kernel.as_mut() {
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
    pub(crate) fn sweep(&mut self) -> Result {
        let shadow = || -> Result<i32> {
            let pid = self.shadow.alloc_pid()?;
            let nr = pid.nr_ns(self.shadow.leaf());
            pid::free_pid(&pid)?;
            Ok(nr)
        };
        full_circle(shadow)?;
        full_circle(|| Ok(self.rebuild.leaf().alloc_pid()?.nr()))?;
        if let Some(k) = self.kernel.as_ref() {
            full_circle(|| Ok(k.leaf.alloc_pid()?.nr()))?;
        }
        Ok(())
    }
}

/// Allocates with `take` (which returns the number it got, having kept it
/// or given it back) from a cursor at `first` until the cursor wraps: a
/// number at or below the last one means the pass went round (it is one
/// the pass gave back, so `take` gave it back again).
pub(crate) fn fill(first: i32, mut take: impl FnMut() -> Result<(i32, bool)>) -> Result {
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
pub(crate) fn full_circle(mut pair: impl FnMut() -> Result<i32>) -> Result {
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

/// The shadow's and the rebuild's number spaces up to `pid_max`, with every
/// number taken for which `taken` holds (number 0 is never handed out).
pub(crate) fn numbers_taken(
    pid_max: i32,
    taken: impl Fn(i32) -> bool,
) -> Result<(Shadow, Rebuild)> {
    let shadow = Shadow::new(1, |_| pid_max, false)?;
    let rebuild = Rebuild::new(1, |_| pid_max, false)?;
    let map = &shadow.leaf().pidmap;
    for nr in 1..pid_max {
        if nr % 65536 == 0 {
            interrupted()?;
        }
        if taken(nr) {
            map.alloc_exact(nr)?;
            rebuild.leaf().take_nr(nr)?;
        }
    }
    Ok((shadow, rebuild))
}
