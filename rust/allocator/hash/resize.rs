// SPDX-License-Identifier: GPL-2.0

//! The resizable pid hash (the `pidhash_resize` parameter, beyond 2.6.24):
//! the table follows the number of hashed entries: it is replaced by one of
//! about 1.5 buckets per entry when the load passes 3/4 or falls under 3/10
//! (`lib/rhashtable.c`'s thresholds), by a work item, while lookups go on
//! without a lock. The move is rhashtable's:
//! - the new table is hung off the old one as its `future`, where inserts
//!   go from then on;
//! - entries move one at a time under `pidmap_lock`, each chain's tail
//!   first, linked into the new table before they are unlinked from the
//!   old, so a lookup meets every entry in one table or the other;
//! - a chain ends in a marker naming its bucket, not in null: a reader that
//!   stood on a moving tail and was carried into a chain of the new table
//!   ends on a foreign marker and walks its own chain again;
//! - a reader that finds nothing in a table looks in its `future`;
//! - once every entry moved, the new table is published and the old one is
//!   freed a grace period later.
//!
//! Every entry is counted in or out under `pidmap_lock` ([`counted`]); the
//! work item [`RESIZER`] runs [`rehash`] until the table fits the count.

use super::{
    end_of,
    hash_env::{
        self, hash_statics, pr_warn_once, AtomicPtr, AtomicU32, KBox, Ordering, Result, StaticWork,
        StaticWorkFn, MIN_SHIFT, MOVE_BATCH,
    },
    is_end, link,
    pidmap_env::{self, PidmapGuard},
    Buckets, HashEntry, CURRENT, RESIZABLE,
};
use core::ptr;

/// Most hash bits a resize may reach: one bucket per number a namespace
/// can hold (`PID_MAX_LIMIT`), 32 MiB.
pub(crate) const RESIZE_MAX_SHIFT: u32 = 22;

hash_statics! {
    /// Entries hashed, counted only when [`RESIZABLE`](super::RESIZABLE); changed only under
    /// `pidmap_lock` (plain load and store, no read-modify-write).
    static HASHED: AtomicU32 = AtomicU32::new(0);
    /// The size (log2) the last resize could not allocate, 0 if it
    /// succeeded: not asked for again until the count asks for another size.
    static FAILED_SHIFT: AtomicU32 = AtomicU32::new(0);
}
/// The work item that resizes the table.
pub(super) static RESIZER: StaticWork<Resizer> = StaticWork::new();

/// The size a resizable table should have for `n` entries, given its
/// `shift` now: the same while the load is within [3/10, 3/4], else about
/// 1.5 buckets per entry (`rhashtable`'s rule), within
/// [`MIN_SHIFT`]..=[`RESIZE_MAX_SHIFT`].
pub(crate) fn target_shift(n: u32, shift: u32) -> u32 {
    let (n, size) = (u64::from(n), 1u64 << shift);
    if n * 4 <= size * 3 && n * 10 >= size * 3 {
        return shift;
    }
    let want = (n * 3 / 2).max(1).next_power_of_two().trailing_zeros();
    want.clamp(MIN_SHIFT, RESIZE_MAX_SHIFT)
}

/// Counts an entry in or out of a resizable table whose newest part is
/// `t`, and asks for a resize when the load leaves its bounds.
pub(super) fn counted(delta: i32, t: &Buckets) {
    // Only under `pidmap_lock` (the callers hold it): no lost update.
    let n = HASHED.load(Ordering::Relaxed).wrapping_add_signed(delta);
    HASHED.store(n, Ordering::Relaxed);
    let want = target_shift(n, t.shift);
    if want != t.shift && want != FAILED_SHIFT.load(Ordering::Relaxed) {
        // SAFETY: `Table` set the resizer up, and cancels it only when
        // nothing hashes any more.
        unsafe { RESIZER.schedule() };
    }
}

/// Moves every entry of the chain at `head` (an old table's) into `new`,
/// the tail first.
///
/// Each entry is linked into `new` before the old chain lets go of it: a
/// lookup meets it in one table or the other at every moment. A reader
/// standing on it follows its new `next` into `new`, reaches a marker that
/// is not its chain's, and walks its chain again. Moving tails, not heads,
/// sends only readers already at the end of the chain round again.
fn move_chain(head: &AtomicPtr<HashEntry>, new: &Buckets, pidmap_lock: &PidmapGuard) {
    let mut tail = head.load(Ordering::Relaxed);
    if is_end(tail) {
        return;
    }
    loop {
        // SAFETY: an entry in a chain is valid, and links change only under
        // `pidmap_lock`, which the guard proves held.
        let next = unsafe { (*tail).next.load(Ordering::Relaxed) };
        if is_end(next) {
            break;
        }
        tail = next;
    }
    let end = end_of(head);
    loop {
        // SAFETY: as above.
        let entry = unsafe { &*tail };
        let pprev = entry.pprev.load(Ordering::Relaxed);
        // SAFETY: `pprev` points to `head` or to a hashed entry's `next`.
        #[cfg(all(loom, feature = "broken-unlink-first"))]
        unsafe {
            (*pprev).store(end, Ordering::Release)
        };
        // SAFETY: hashed, hence valid until a grace period after it is
        // unhashed, which `remove` does in whichever table it is then.
        unsafe { link(entry, new.head(entry.nr, entry.ns()), pidmap_lock) };
        // The old chain now ends before it. Release: a reader that sees the
        // marker sees the entry in `new`.
        // SAFETY: `pprev` points to `head` or to a hashed entry's `next`.
        #[cfg(not(all(loom, feature = "broken-unlink-first")))]
        unsafe {
            (*pprev).store(end, Ordering::Release)
        };
        if ptr::eq(pprev, head) {
            return;
        }
        // The entry whose `next` `pprev` is: the one before, now the tail.
        tail = pprev
            .wrapping_byte_sub(core::mem::offset_of!(HashEntry, next))
            .cast::<HashEntry>();
    }
}

/// Replaces the current table by one of `2^target(shift)` buckets, `shift`
/// being the current table's, moving every entry while lookups go on;
/// returns after the old table is freed, with whether it was replaced
/// (not when the target is its size). ENOMEM leaves the table as it was.
pub(crate) fn rehash(target: impl FnOnce(u32) -> u32) -> Result<bool> {
    let _serial = hash_env::resize_lock();
    // SAFETY: the current table is freed only by a rehash, and the mutex
    // held keeps any other from running.
    let old = unsafe { &*CURRENT.load(Ordering::Acquire) };
    let shift = target(old.shift);
    if shift == old.shift {
        return Ok(false);
    }
    let new = KBox::into_raw(Buckets::new(shift)?);
    {
        // From here, inserts go to the new table.
        let _guard = pidmap_env::lock();
        old.future.store(new, Ordering::Release);
    }
    // SAFETY: published as the future above; freed by nobody but a later
    // rehash, which the mutex keeps out.
    let new_ref = unsafe { &*new };
    for batch in old.heads.chunks(MOVE_BATCH) {
        let guard = pidmap_env::lock();
        for head in batch {
            move_chain(head, new_ref, &guard);
        }
    }
    {
        let _guard = pidmap_env::lock();
        CURRENT.store(new, Ordering::Release);
    }
    // The old table keeps its future: a reader that started from it and
    // found its chains emptied must still be led to the new one. Such
    // readers are gone after this; nobody links into it any more.
    #[cfg(not(all(loom, feature = "broken-no-grace")))]
    hash_env::rcu::synchronize_rcu();
    // SAFETY: leaked by `Buckets::new` (via `Table::new` or a rehash) and
    // no longer reachable.
    drop(unsafe { KBox::from_raw(ptr::from_ref(old).cast_mut()) });
    Ok(true)
}

/// The job of [`RESIZER`]: resize until the table fits the count.
pub(super) struct Resizer;

impl StaticWorkFn for Resizer {
    fn run() {
        // Entries come and go meanwhile: again until the table fits.
        loop {
            let mut want = 0;
            let target = |shift| {
                want = target_shift(HASHED.load(Ordering::Relaxed), shift);
                want
            };
            match rehash(target) {
                Ok(true) => FAILED_SHIFT.store(0, Ordering::Relaxed),
                Ok(false) => return,
                // The table stays, lookups get slower; asked again only
                // for another size.
                Err(_) => {
                    FAILED_SHIFT.store(want, Ordering::Relaxed);
                    pr_warn_once!("pid hash: no memory to resize\n");
                    return;
                }
            }
        }
    }
}

/// Waits for a resize that is queued or running to finish: figures taken
/// afterwards see a table that fits the count.
pub(crate) fn settle() {
    if RESIZABLE.load(Ordering::Relaxed) {
        // SAFETY: `Table` set the resizer up before the device that leads
        // to every caller existed, and cancels it after.
        unsafe { RESIZER.flush() };
    }
}
