// SPDX-License-Identifier: GPL-2.0

//! The pid hash: every number of every pid, keyed by `(nr, ns)`.
//!
//! As in 2.6.24: one table of `2^pidhash_shift` buckets for the whole module,
//! sized from the machine's memory at load; chains changed only under
//! `pidmap_lock`, walked locklessly under the RCU read lock. A chain is an
//! RCU hlist: each entry has a `next` pointer, published with a release
//! store after the entry is filled in, and a back-link to the pointer that
//! points at it (`pprev`), so unlinking is O(1) (`hlist_del_rcu`) and
//! leaves the unlinked entry's `next` intact for a reader standing on it.
//! The memory of an unlinked entry may be reused only after a grace period
//! (see `pid::free_pid`).

use crate::{namespace::PidNamespace, pidmap_env::PidmapGuard};
use core::{
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, AtomicU32, Ordering},
};
use kernel::{prelude::*, sync::rcu};

/// Fewest hash bits (16 buckets), as 2.6.24's `pidhash_init`.
pub(crate) const MIN_SHIFT: u32 = 4;
/// Most hash bits (4096 buckets), as 2.6.24's `pidhash_init`.
pub(crate) const MAX_SHIFT: u32 = 12;
/// Most hash bits the `pidhash_shift` parameter may ask for (a million
/// buckets, 8 MiB): past 2.6.24's limit, for a million live pids.
pub(crate) const PARAM_MAX_SHIFT: u32 = 20;

/// The buckets, `2^SHIFT` of them, owned by the [`Table`] of the loaded
/// module: published before the device exists, gone after it.
static BUCKETS: AtomicPtr<AtomicPtr<HashEntry>> = AtomicPtr::new(ptr::null_mut());
/// `pidhash_shift`: log2 of the buckets.
static SHIFT: AtomicU32 = AtomicU32::new(MIN_SHIFT);

/// The part of a `struct upid` the hash sees: its key and its chain links.
///
/// # Invariants
///
/// `ns` points to a namespace that outlives the entry (its owner holds a
/// reference on it). `pprev` is meaningful only while the entry is hashed,
/// and is read and written only under `pidmap_lock`.
#[repr(C)]
pub(crate) struct HashEntry {
    /// The number.
    pub(crate) nr: i32,
    /// The namespace the number belongs to.
    ns: NonNull<PidNamespace>,
    /// Next entry of the chain (null at its end); read under RCU.
    next: AtomicPtr<HashEntry>,
    /// The pointer that points at this entry: the bucket head or the
    /// previous entry's `next`.
    pprev: AtomicPtr<AtomicPtr<HashEntry>>,
}

impl HashEntry {
    /// An unhashed entry for number `nr` of `ns`.
    ///
    /// # Safety
    ///
    /// `ns` must outlive the entry.
    pub(crate) unsafe fn new(nr: i32, ns: &PidNamespace) -> Self {
        // INVARIANT: `ns` outlives the entry (the caller's guarantee).
        Self {
            nr,
            ns: NonNull::from(ns),
            next: AtomicPtr::new(ptr::null_mut()),
            pprev: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The namespace this number belongs to.
    pub(crate) fn ns(&self) -> &PidNamespace {
        // SAFETY: alive as long as `self` (type invariant).
        unsafe { self.ns.as_ref() }
    }
}

/// 2.6.24's `pidhash_init()`: `fls(megabytes * 4)` clamped to [4, 12].
pub(crate) fn shift_for_memory(bytes: u64) -> u32 {
    let megabytes = bytes >> 20;
    let fls = u64::BITS - (megabytes * 4).leading_zeros();
    fls.clamp(MIN_SHIFT, MAX_SHIFT)
}

/// The pid hash's buckets, allocated when the module loads and freed when it
/// unloads.
///
/// # Invariants
///
/// While a `Table` exists, [`BUCKETS`] points to its `2^SHIFT` buckets,
/// allocated as a `KVVec` of capacity `cap`.
pub(crate) struct Table {
    /// Capacity of the vector the buckets came from.
    cap: usize,
}

impl Table {
    /// `2^shift` empty buckets (`shift` clamped to
    /// [`MIN_SHIFT`]..=[`PARAM_MAX_SHIFT`]).
    ///
    /// # Safety
    ///
    /// Called once, from the module initializer, before any other use of
    /// this file; the table lives until after the last use.
    pub(crate) unsafe fn new(shift: u32) -> Result<Self> {
        let shift = shift.clamp(MIN_SHIFT, PARAM_MAX_SHIFT);
        let n = 1usize << shift;
        let mut buckets = KVVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            buckets.push(AtomicPtr::new(ptr::null_mut()), GFP_KERNEL)?;
        }
        let (addr, _, cap) = buckets.into_raw_parts();
        SHIFT.store(shift, Ordering::Relaxed);
        // INVARIANT: the buckets are published, and owned by the table.
        BUCKETS.store(addr, Ordering::Release);
        Ok(Self { cap })
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        let addr = BUCKETS.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: the vector `new` took apart (type invariant); the module
        // is going, so nothing hashes or looks up any more.
        drop(unsafe { KVVec::from_raw_parts(addr, buckets() as usize, self.cap) });
    }
}

/// The buckets.
fn table() -> &'static [AtomicPtr<HashEntry>] {
    // SAFETY: `Table` publishes `2^SHIFT` buckets before the device that
    // leads to every caller exists, and frees them after it is gone.
    unsafe { core::slice::from_raw_parts(BUCKETS.load(Ordering::Acquire), buckets() as usize) }
}

/// Buckets in use.
pub(crate) fn buckets() -> u32 {
    1 << SHIFT.load(Ordering::Relaxed)
}

/// Bytes of the buckets in use (one pointer each).
pub(crate) fn table_bytes() -> u64 {
    u64::from(buckets()) * size_of::<usize>() as u64
}

/// `GOLDEN_RATIO_64` of `<linux/hash.h>`.
const GOLDEN_RATIO_64: u64 = 0x61c8_8646_80b5_83eb;

/// `pid_hashfn(nr, ns)`: `hash_long(nr + ns, pidhash_shift)`.
fn bucket(nr: i32, ns: &PidNamespace) -> &'static AtomicPtr<HashEntry> {
    let key = (nr as u64).wrapping_add(ptr::from_ref(ns) as u64);
    let bits = SHIFT.load(Ordering::Relaxed);
    &table()[(key.wrapping_mul(GOLDEN_RATIO_64) >> (64 - bits)) as usize]
}

/// `hlist_add_head_rcu()`: links `entry` at the head of its chain.
///
/// # Safety
///
/// `entry` is not hashed, and stays at its address and valid until a grace
/// period after [`remove`] unlinks it.
pub(crate) unsafe fn insert(entry: &HashEntry, _pidmap_lock: &PidmapGuard) {
    let head = bucket(entry.nr, entry.ns());
    let first = head.load(Ordering::Relaxed);
    entry.next.store(first, Ordering::Relaxed);
    entry
        .pprev
        .store(ptr::from_ref(head).cast_mut(), Ordering::Relaxed);
    // SAFETY: a hashed entry is valid (this function's contract), and links
    // change only under `pidmap_lock`, which the guard proves held.
    if let Some(first) = unsafe { first.as_ref() } {
        first
            .pprev
            .store(ptr::from_ref(&entry.next).cast_mut(), Ordering::Relaxed);
    }
    // Publish: a reader that sees the entry sees it filled in.
    head.store(ptr::from_ref(entry).cast_mut(), Ordering::Release);
}

/// `hlist_del_rcu()`: unlinks `entry` in O(1); a reader standing on it
/// still walks on through its `next`, which is left as it was.
///
/// # Safety
///
/// `entry` was hashed by [`insert`] and is not unlinked yet.
pub(crate) unsafe fn remove(entry: &HashEntry, _pidmap_lock: &PidmapGuard) {
    let next = entry.next.load(Ordering::Relaxed);
    let pprev = entry.pprev.load(Ordering::Relaxed);
    // SAFETY: a hashed entry's `pprev` points to the bucket head or to the
    // `next` of a hashed entry, valid under the lock (the guard proves it
    // held, and `insert`'s contract keeps hashed entries valid).
    unsafe { (*pprev).store(next, Ordering::Release) };
    // SAFETY: as above, `next` is null or a hashed entry.
    if let Some(next) = unsafe { next.as_ref() } {
        next.pprev.store(pprev, Ordering::Relaxed);
    }
    entry.pprev.store(ptr::null_mut(), Ordering::Relaxed);
}

/// Walks the chain from `head` under the RCU read lock.
fn chain<'g>(
    head: &AtomicPtr<HashEntry>,
    _rcu: &'g rcu::Guard,
) -> impl Iterator<Item = &'g HashEntry> {
    let mut cur = head.load(Ordering::Acquire);
    core::iter::from_fn(move || {
        // SAFETY: an entry reached from a bucket under the RCU read lock is
        // reused no earlier than a grace period after it was unlinked, and
        // the guard keeps this read-side critical section open for 'g.
        let entry = unsafe { cur.as_ref()? };
        cur = entry.next.load(Ordering::Acquire);
        Some(entry)
    })
}

/// `find_pid_ns()`'s lookup: the entry of `(nr, ns)`, if hashed.
pub(crate) fn find<'g>(nr: i32, ns: &PidNamespace, rcu: &'g rcu::Guard) -> Option<&'g HashEntry> {
    chain(bucket(nr, ns), rcu).find(|e| e.nr == nr && ptr::eq(e.ns(), ns))
}

/// Entries hashed now, and the length of the longest chain: a walk of the
/// whole table, for statistics (the hot path keeps no count).
pub(crate) fn census() -> (u32, u32) {
    let rcu = rcu::read_lock();
    table().iter().fold((0, 0), |(total, longest), head| {
        let n = chain(head, &rcu).count() as u32;
        (total + n, longest.max(n))
    })
}

/// KUnit: the table size rule, and O(1) removal.
#[kernel::prelude::kunit_tests(shadowpid_hash)]
mod tests {
    use super::*;
    use crate::pidmap_env;

    /// 2.6.24: 16 buckets for tiny machines, 4096 from 1 GiB up.
    #[test]
    fn pidhash_shift_from_memory() {
        assert_eq!(shift_for_memory(1 << 20), MIN_SHIFT);
        assert_eq!(shift_for_memory(256 << 20), 11);
        assert_eq!(shift_for_memory(1 << 30), MAX_SHIFT);
        assert_eq!(shift_for_memory(24 << 30), MAX_SHIFT);
    }

    /// Removing the oldest entries of a long chain (its tail) costs what
    /// removing the newest (its head) does: no walk of the chain. A singly
    /// linked chain, which must be walked to find the predecessor, takes
    /// thousands of times longer for the tail here.
    #[test]
    fn removal_does_not_walk_the_chain() {
        const N: usize = 20000;
        const K: usize = 1000;
        let ns = PidNamespace::create(None).unwrap();
        let mut entries = KVVec::with_capacity(N, GFP_KERNEL).unwrap();
        for _ in 0..N {
            // SAFETY: `ns` outlives the entries (dropped after them).
            let e = unsafe { HashEntry::new(7, &ns) };
            entries.push(e, GFP_KERNEL).unwrap();
        }
        let now = || {
            // SAFETY: `ktime_get()` may be called from any context.
            unsafe { kernel::bindings::ktime_get() }
        };
        {
            let g = pidmap_env::lock();
            // Same key, same bucket: one chain of N, newest at the head.
            for e in entries.iter() {
                // SAFETY: not hashed; the vector never moves its entries and
                // they are unhashed below, under this lock, before it drops
                // them (no reader can reach them: no pid has this key).
                unsafe { insert(e, &g) };
            }
        }
        let timed = |range: core::ops::Range<usize>| {
            let g = pidmap_env::lock();
            let t = now();
            for e in &entries[range] {
                // SAFETY: hashed above, removed once.
                unsafe { remove(e, &g) };
            }
            now() - t
        };
        let tail = timed(0..K);
        let head = timed(N - K..N);
        let rest = timed(K..N - K);
        let _ = rest;
        let rcu = rcu::read_lock();
        assert!(find(7, &ns, &rcu).is_none());
        drop(rcu);
        kernel::pr_info!(
            "hash removal: {K} from the tail {tail} ns, {K} from the head {head} ns\n"
        );
        assert!(tail <= 10 * head + 200_000);
    }
}
