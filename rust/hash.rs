// SPDX-License-Identifier: GPL-2.0

//! The pid hash: every [`Upid`] of every universe, keyed by `(nr, ns)`.
//!
//! As in 2.6.24: one table of `2^pidhash_shift` buckets for the whole module,
//! sized from the machine's memory at load; chains changed only under
//! [`PIDMAP_LOCK`], walked locklessly under the RCU read lock. A chain is a
//! singly linked list of atomics: an entry is published with a release store
//! after its `next` is set, and unlinked by pointing its predecessor past it,
//! so a reader standing on it can still walk on. The memory of an unlinked
//! entry is reclaimed only after a grace period (see `pid::free_pid`).

use crate::{
    namespace::PidNamespace,
    pid::{Pid, Upid},
};
use core::{
    ptr,
    sync::atomic::{AtomicPtr, AtomicU32, Ordering},
};
use kernel::{prelude::*, sync::rcu};

kernel::sync::global_lock! {
    // SAFETY: `init()` runs in the module initializer, before the device
    // that leads to every other use exists.
    /// `pidmap_lock`: serialises hash changes, pidmap page installs and the
    /// pid accounting of namespaces.
    pub(crate) unsafe(uninit) static PIDMAP_LOCK: SpinLock<()> = ();
}

/// Fewest hash bits (16 buckets), as 2.6.24's `pidhash_init`.
pub(crate) const MIN_SHIFT: u32 = 4;
/// Most hash bits (4096 buckets), as 2.6.24's `pidhash_init`.
pub(crate) const MAX_SHIFT: u32 = 12;
/// Most hash bits the `pidhash_shift` parameter may ask for (a million
/// buckets, 8 MiB): past 2.6.24's limit, for a million live pids.
pub(crate) const PARAM_MAX_SHIFT: u32 = 20;

/// The buckets, `2^SHIFT` of them, owned by the [`Table`] of the loaded
/// module: published before the device exists, gone after it.
static BUCKETS: AtomicPtr<AtomicPtr<Upid>> = AtomicPtr::new(ptr::null_mut());
/// `pidhash_shift`: log2 of the buckets.
/// (Core atomics, as the other hot-path counters: the kernel crate's
/// `Atomic` calls out-of-line C helpers with this toolchain.)
static SHIFT: AtomicU32 = AtomicU32::new(MIN_SHIFT);
/// Upids hashed now.
static ENTRIES: AtomicU32 = AtomicU32::new(0);

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
    /// Sets up the lock and `2^shift` empty buckets (`shift` clamped to
    /// [`MIN_SHIFT`]..=[`PARAM_MAX_SHIFT`]).
    ///
    /// # Safety
    ///
    /// Called once, from the module initializer, before any other use of
    /// this file; the table lives until after the last use.
    pub(crate) unsafe fn new(shift: u32) -> Result<Self> {
        // SAFETY: called once, before any use (the caller's guarantee).
        unsafe { PIDMAP_LOCK.init() };
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
fn table() -> &'static [AtomicPtr<Upid>] {
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

/// Upids hashed now, module-wide.
pub(crate) fn entries() -> u32 {
    ENTRIES.load(Ordering::Relaxed)
}

/// `GOLDEN_RATIO_64` of `<linux/hash.h>`.
const GOLDEN_RATIO_64: u64 = 0x61c8_8646_80b5_83eb;

/// `pid_hashfn(nr, ns)`: `hash_long(nr + ns, pidhash_shift)`.
fn bucket(nr: i32, ns: &PidNamespace) -> &'static AtomicPtr<Upid> {
    let key = (nr as u64).wrapping_add(ptr::from_ref(ns) as u64);
    let bits = SHIFT.load(Ordering::Relaxed);
    &table()[(key.wrapping_mul(GOLDEN_RATIO_64) >> (64 - bits)) as usize]
}

/// Links `upid` at the head of its chain.
pub(crate) fn insert<G>(upid: &Upid, _pidmap_lock: &G) {
    let head = bucket(upid.nr, upid.ns());
    upid.next
        .store(head.load(Ordering::Relaxed), Ordering::Relaxed);
    head.store(ptr::from_ref(upid).cast_mut(), Ordering::Release);
    ENTRIES.fetch_add(1, Ordering::Relaxed);
}

/// Unlinks `upid` from its chain; readers already on it walk on.
pub(crate) fn remove<G>(upid: &Upid, _pidmap_lock: &G) {
    let target = ptr::from_ref(upid).cast_mut();
    let mut link = bucket(upid.nr, upid.ns());
    loop {
        let cur = link.load(Ordering::Relaxed);
        if cur.is_null() {
            // Not hashed: a caller bug, but never worth a crash.
            kernel::pr_warn_once!("shadowpid: upid missing from the pid hash\n");
            return;
        }
        if cur == target {
            link.store(upid.next.load(Ordering::Relaxed), Ordering::Release);
            ENTRIES.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        // SAFETY: entries of a chain are valid while hashed, and the chain
        // cannot change: we hold the pidmap lock.
        link = unsafe { &(*cur).next };
    }
}

/// Walks the chain of `(nr, ns)` under the RCU read lock.
fn chain<'g>(head: &AtomicPtr<Upid>, _rcu: &'g rcu::Guard) -> impl Iterator<Item = &'g Upid> {
    let mut cur = head.load(Ordering::Acquire);
    core::iter::from_fn(move || {
        // SAFETY: an entry reached from a bucket under the RCU read lock is
        // freed no earlier than a grace period after it was unlinked, and
        // the guard keeps this read-side critical section open for 'g.
        let upid = unsafe { cur.as_ref()? };
        cur = upid.next.load(Ordering::Acquire);
        Some(upid)
    })
}

/// `find_pid_ns()`: the pid numbered `nr` in `ns`, if hashed.
pub(crate) fn find<'g>(nr: i32, ns: &PidNamespace, rcu: &'g rcu::Guard) -> Option<&'g Pid> {
    chain(bucket(nr, ns), rcu)
        .find(|u| u.nr == nr && ptr::eq(u.ns(), ns))
        .map(Upid::pid)
}

/// Length of the longest chain now.
pub(crate) fn longest_chain() -> u32 {
    let rcu = rcu::read_lock();
    table()
        .iter()
        .map(|head| chain(head, &rcu).count() as u32)
        .max()
        .unwrap_or(0)
}

/// KUnit: the table size rule.
#[kernel::prelude::kunit_tests(shadowpid_hash)]
mod tests {
    use super::*;

    /// 2.6.24: 16 buckets for tiny machines, 4096 from 1 GiB up.
    #[test]
    fn pidhash_shift_from_memory() {
        assert_eq!(shift_for_memory(1 << 20), MIN_SHIFT);
        assert_eq!(shift_for_memory(256 << 20), 11);
        assert_eq!(shift_for_memory(1 << 30), MAX_SHIFT);
        assert_eq!(shift_for_memory(24 << 30), MAX_SHIFT);
    }
}
