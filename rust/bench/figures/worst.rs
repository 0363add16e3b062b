// SPDX-License-Identifier: GPL-2.0

//! Figure 6: every number but one taken, and the allocation that finds it,
//! with the work of its scan counted against 2.6.24's bound.

use crate::{
    allocator::pidmap::{ScanCounter, BITS_PER_PAGE, RESERVED_PIDS},
    bench::{interrupted, now, numbers_taken, ps_per_op, Sequence},
    uapi,
};
use core::sync::atomic::Ordering;
use kernel::{bindings, prelude::*};

/// What one allocation scan visited: for the worst-case figure.
#[derive(Default, Clone, Copy)]
pub(crate) struct ScanWork {
    /// Map entries visited (skipped by `nr_free` or scanned).
    pub(crate) pages: u32,
    /// 64-bit words read while looking for a zero bit.
    pub(crate) words: u32,
}

impl ScanCounter for ScanWork {
    fn entry(&mut self) {
        self.pages = self.pages.wrapping_add(1);
    }

    fn words(&mut self, n: u32) {
        self.words = self.words.wrapping_add(n);
    }
}

/// Figure 6: every number but one taken; the allocation that finds it.
pub(crate) fn run(out: &mut uapi::shadowpid_bench) -> Result {
    let (n, pid_max) = (out.iterations, out.pid_max as i32);
    let (shadow, rebuild) = numbers_taken(pid_max, |_| true)?;
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
        let ns = rebuild.leaf();
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
