// SPDX-License-Identifier: GPL-2.0

//! The mirror's work item: it copies namespaces and keeps the handlers'
//! memory ready, in process context, so that no handler walks an IDR or
//! allocates.
//!
//! A copy is exact by construction. A shadow's log begins inside the handler
//! of one of its namespace's allocations or removals, with `pidmap_lock`
//! held: no other allocation of the namespace is half made then (its
//! number a NULL entry of the IDR), and from then on every number taken or
//! given back reaches the log, in the kernel's order. The walk reads the IDR
//! without the lock, a batch at a time under RCU: each number as it was at
//! some moment after the log began. Then, with the kernel's `pidmap_lock`
//! held (every event that happened has been handled, none is under way),
//! the log is replayed over the walk: a number the log touches ends as its
//! last event left it, one it does not touch did not change during the
//! walk. The map is then the IDR's, and the kernel's cursor, read in the
//! same locked region, the shadow's. The locked part is bounded by the log
//! ([`LOG_CAP`](super::shadow::LOG_CAP) events), never by the namespace's size. A number whose
//! allocation was half made when the mirror was armed (only across
//! `alloc_pid()`'s unlocked retry after an IDR ENOMEM) is the one thing a
//! copy can miss; it shows as a divergence at worst, never as silence.

use super::{
    probes,
    shadow::{new_map, Map, Phase, Spare, POOL, POOL_TARGET, SPARES},
    Gone, State, MIRROR,
};
use crate::{
    uapi,
    wrappers::work::{StaticWork, StaticWorkFn},
};
use kernel::prelude::*;

/// Copies begun again this many times without settling: the namespace is
/// untracked.
const MAX_RESTARTS: u32 = 16;
/// Numbers read per RCU section of a walk (the walk yields between them).
const BATCH: usize = 256;

/// The work item.
pub(super) static WORK: StaticWork<CopyWork> = StaticWork::new();

/// Queues the work (any context).
pub(super) fn kick() {
    // SAFETY: `init()` ran; detach cancels the item only once the handlers
    // that queue it are gone and the mirror is disarmed.
    unsafe { WORK.schedule() };
}

/// Sets the work item up.
///
/// # Safety
///
/// Once, from the module initializer, before any other use.
pub(super) unsafe fn init() {
    // SAFETY: once, before any use (the caller's guarantee); a static item.
    unsafe { WORK.init(c"shadowpid_mirror_copy", kernel::static_lock_class!()) };
}

/// The job: refills, then copies until no shadow waits for one.
pub(super) struct CopyWork;

impl StaticWorkFn for CopyWork {
    fn run() {
        while MIRROR.lock().active {
            refill_pool();
            refill_spares();
            let job = {
                let s = MIRROR.lock();
                s.shadows.iter().find_map(|sh| match sh.phase {
                    Phase::Copying { generation, .. } => Some((sh.idr, generation)),
                    Phase::Tracked => None,
                })
            };
            let Some((idr, generation)) = job else {
                return;
            };
            match walk(idr) {
                Ok(map) => reconcile(idr, generation, map),
                Err(_) => {
                    failed();
                    give_up(idr, generation);
                }
            }
        }
    }
}

/// Counts an allocation of the work that failed (tried again at its next
/// run, or, for a copy's map, the namespace untracked).
fn failed() {
    MIRROR.lock().counters.refill_failures += 1;
}

/// Fills the page pool to [`POOL_TARGET`]; false if a page could not be had.
fn refill_pool() -> bool {
    loop {
        if POOL.lock().len() >= POOL_TARGET {
            return true;
        }
        let Ok(page) = crate::wrappers::page::ZeroedPage::new() else {
            failed();
            return false;
        };
        // The pool's room was reserved at attach; a full pool frees this
        // one outside the lock.
        let rejected = POOL.lock().push_within_capacity(page).err();
        drop(rejected);
    }
}

/// Keeps [`SPARES`] spares ready, and room for as many more shadows.
fn refill_spares() {
    loop {
        let (spares, room) = {
            let s = MIRROR.lock();
            (s.spares.len(), s.shadows.capacity() - s.shadows.len())
        };
        if room < SPARES {
            grow_shadows();
        }
        if spares >= SPARES {
            return;
        }
        let Ok(spare) = Spare::new() else {
            failed();
            return;
        };
        let rejected = MIRROR.lock().spares.push_within_capacity(spare).err();
        drop(rejected);
    }
}

/// Moves the shadows into a vector with room for more: allocated here,
/// filled under the lock (a move per namespace), the old one freed after.
fn grow_shadows() {
    let want = {
        let s = MIRROR.lock();
        s.shadows.len() * 2 + 2 * SPARES
    };
    let Ok(mut bigger) = KVec::with_capacity(want, GFP_KERNEL) else {
        failed();
        return;
    };
    {
        let mut s = MIRROR.lock();
        if bigger.capacity() - s.shadows.len() < SPARES {
            return;
        }
        for sh in s.shadows.drain_all() {
            // Room was checked just above.
            let _ = bigger.push_within_capacity(sh);
        }
        core::mem::swap(&mut s.shadows, &mut bigger);
    }
    drop(bigger);
}

/// The numbers of the IDR at `idr` (alive: the shadow being copied holds a
/// reference on its namespace), walked without a lock; may sleep.
fn walk(idr: usize) -> Result<KBox<Map>> {
    let map = new_map()?;
    let mut batch = [0i32; BATCH];
    let mut from = 0;
    loop {
        // SAFETY: the namespace is alive (above).
        let n = unsafe { probes::idr_batch(idr, from, &mut batch) };
        for &nr in &batch[..n] {
            while map.alloc_exact(nr).is_err() {
                // The pool ran dry: refill it, where sleeping is allowed.
                if !refill_pool() {
                    return Err(ENOMEM);
                }
            }
        }
        if n < BATCH || !MIRROR.lock().active {
            return Ok(map);
        }
        from = batch[BATCH - 1] + 1;
        let pause = crate::mirror_copy_pause_ms();
        if pause > 0 {
            // A test's: the copy lasts long enough for events to land
            // behind the walk, which only the replay then sets right.
            kernel::time::delay::fsleep(kernel::time::Delta::from_millis(pause.into()));
        }
    }
}

/// Replays the log of the shadow of `idr` over `map` with the kernel's
/// `pidmap_lock` held, if the copy is still the one walked: the shadow is
/// then tracked.
fn reconcile(idr: usize, generation: u32, mut map: KBox<Map>) {
    let held = probes::KernelPidmapLock::lock();
    let start = probes::now_ns();
    let (done, gone) = {
        let mut s = MIRROR.lock();
        let st = &mut *s;
        // A missed event may be one of this walk's: begin it again.
        st.note_missed();
        match st.find(idr) {
            // Detached meanwhile, the walk may have stopped short: the
            // copy is dropped, and detach gives its reference back.
            Ok(i) if st.active && st.shadows[i].phase_is(generation) => st.settle(i, &mut map),
            _ => (false, None),
        }
    };
    drop(held);
    probes::hold_record(uapi::SHADOWPID_MIRROR_HOLD_COPY, probes::now_ns() - start);
    // The walked map, or the one it replaced, and a shadow given up: freed
    // without a lock held.
    drop(map);
    if done || gone.is_some() {
        // SAFETY: the reference the copy held, given back once.
        unsafe { probes::pidns_put(idr) };
    }
    drop(gone);
}

/// The copy of the shadow of `idr` could not be made (no memory even
/// here): the namespace is untracked.
fn give_up(idr: usize, generation: u32) {
    let gone = {
        let mut s = MIRROR.lock();
        match s.find(idr) {
            Ok(i) if s.shadows[i].phase_is(generation) => s.untrack(i),
            _ => None,
        }
    };
    if gone.is_some() {
        // SAFETY: the reference the copy held, given back once.
        unsafe { probes::pidns_put(idr) };
    }
    drop(gone);
}

impl State {
    /// Ends the copy of the shadow at `i` (its walk in `map`) with the
    /// kernel's `pidmap_lock` held: replays its log and makes it tracked,
    /// `map` then holding its old map; or begins the copy again; or, after
    /// too many restarts, removes it untracked. Whether the copy is over,
    /// and the shadow removed.
    fn settle(&mut self, i: usize, map: &mut KBox<Map>) -> (bool, Gone) {
        let sh = &mut self.shadows[i];
        let overflow = matches!(sh.phase, Phase::Copying { overflow: true, .. });
        let replayed = !overflow
            && !sh.stale
            && sh.log.iter().all(|&e| {
                if e > 0 {
                    map.alloc_exact(e).is_ok()
                } else {
                    if map.test(-e) {
                        map.free(-e);
                    }
                    true
                }
            });
        if !replayed {
            self.counters.copy_restarts += 1;
            sh.restarts += 1;
            if sh.restarts > MAX_RESTARTS {
                return (false, self.untrack(i));
            }
            sh.begin_copy();
            return (false, None);
        }
        core::mem::swap(&mut sh.map, map);
        // SAFETY: the namespace is alive (the copy's reference) and its IDR
        // cannot change: the kernel's pidmap_lock is held.
        let info = unsafe { probes::pidns_of_idr(sh.idr) };
        (sh.inum, sh.level) = (info.inum, info.level);
        // SAFETY: as above.
        sh.cursor = unsafe { probes::idr_cursor(sh.idr) };
        sh.phase = Phase::Tracked;
        sh.log.clear();
        sh.jump_allowed = false;
        sh.restarts = 0;
        self.counters.copies += 1;
        (true, None)
    }
}
