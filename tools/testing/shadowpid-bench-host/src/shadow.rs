// SPDX-License-Identifier: GPL-2.0
//! The shadow's column: the module's own `rust/allocator/pidmap.rs` and `rust/allocator/hash/`
//! (crate root, through the loom crate's host-std twins of their
//! environments), with the few lines of `rust/allocator/namespace.rs` and
//! `rust/allocator/pid.rs` that drive them copied in shape, each beside its origin.

use crate::{
    hash::{self, HashEntry},
    hash_env::{rcu, PidNamespace},
    pidmap::Pidmap,
    pidmap_env::{self, MaySleep},
};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

/// Keys of the namespaces made so far: stand-ins for their addresses,
/// which `pid_hashfn` adds to the number (slab objects 4 KiB apart).
static NEXT_KEY: AtomicU64 = AtomicU64::new(0xffff_8880_0100_0000);

/// One namespace: its pidmap and cursor, and an entry (the hash's part of a
/// `struct upid`) for every number below `pid_max`.
pub(crate) struct Ns {
    /// The bitmap.
    pub(crate) map: Pidmap<MaySleep>,
    /// `last_pid`.
    last_pid: AtomicI32,
    /// `pid_max`.
    pid_max: i32,
    /// The namespace as the hash sees it; lives as long as the process.
    ns: &'static PidNamespace,
    /// Entry `nr` is number `nr`'s. Between the callers' operations every
    /// taken number but 0 is hashed (they take a number and insert it, or
    /// take it and free it at once), which `drop` relies on.
    entries: Box<[HashEntry]>,
}

// SAFETY: as the module shares its namespaces and pids between CPUs: the
// pidmap is atomics, `last_pid` an atomic, the entries' links change only
// under `pidmap_lock` and are read under RCU, their keys never change.
unsafe impl Sync for Ns {}
// SAFETY: as for `Sync`; nothing in it is bound to a thread.
unsafe impl Send for Ns {}

impl Drop for Ns {
    fn drop(&mut self) {
        // Unhash every number before the entries go.
        let mut nr = 0;
        while let Some(next) = self.map.next(nr) {
            self.remove(next);
            nr = next;
        }
    }
}

impl Ns {
    /// An empty namespace (number 0 reserved, as the module's are) whose
    /// numbers stay below `pid_max`.
    pub(crate) fn new(pid_max: i32) -> Self {
        let key = NEXT_KEY.fetch_add(0x1000, Ordering::Relaxed);
        let ns: &'static PidNamespace = Box::leak(Box::new(PidNamespace::new(key)));
        let map = Pidmap::new();
        map.reserve_zero().expect("out of memory");
        // SAFETY: `ns` is leaked: it outlives every entry.
        let entries = (0..pid_max)
            .map(|nr| unsafe { HashEntry::new(nr, ns) })
            .collect();
        Self {
            map,
            last_pid: AtomicI32::new(0),
            pid_max,
            ns,
            entries,
        }
    }

    /// `PidNamespace::alloc_cyclic` (rust/allocator/namespace.rs): the next free
    /// number from `last_pid + 1`, wrapping to 300; `None` when full.
    pub(crate) fn alloc(&self) -> Option<i32> {
        let cursor = self.last_pid.load(Ordering::Relaxed) + 1;
        let nr = self
            .map
            .alloc_cyclic(cursor, self.pid_max)
            .expect("out of memory")?;
        self.last_pid.store(nr, Ordering::Relaxed);
        Some(nr)
    }

    /// `ns_last_pid`: cyclic allocation resumes after `nr`.
    pub(crate) fn set_last_pid(&self, nr: i32) {
        self.last_pid.store(nr, Ordering::Relaxed);
    }

    /// The set_tid path: exactly `nr`; false if taken.
    pub(crate) fn alloc_exact(&self, nr: i32) -> bool {
        self.map.alloc_exact(nr).expect("out of memory")
    }

    /// `free_pidmap()`.
    pub(crate) fn free(&self, nr: i32) {
        self.map.free(nr);
    }

    /// `alloc_pid()`'s hashing of a number taken by [`Self::alloc`] or
    /// [`Self::alloc_exact`] (rust/allocator/pid.rs: under `pidmap_lock`).
    pub(crate) fn insert(&self, nr: i32) {
        let g = pidmap_env::lock();
        // SAFETY: number `nr` is taken by the caller and not hashed (it is
        // hashed once per allocation, and unhashed before it is freed);
        // the entries live as long as `self`, which unhashes every number
        // before it goes (the callers' discipline). No reader runs beside
        // a figure that reuses an entry at once.
        unsafe { hash::insert(&self.entries[nr as usize], &g) };
    }

    /// `free_pid()`: unhashed under `pidmap_lock`, then the number freed
    /// (rust/allocator/pid.rs's order).
    pub(crate) fn remove(&self, nr: i32) {
        let g = pidmap_env::lock();
        // SAFETY: hashed by `insert`, unhashed once.
        unsafe { hash::remove(&self.entries[nr as usize], &g) };
        drop(g);
        self.free(nr);
    }

    /// `find_pid_ns()`: the entry of `nr`, under the caller's RCU read lock.
    #[inline(never)]
    pub(crate) fn find<'g>(&self, rcu: &'g rcu::Guard, nr: i32) -> Option<&'g HashEntry> {
        hash::find(nr, self.ns, rcu)
    }

    /// `find_ge_pid_rcu()` (rust/allocator/pid.rs, 2.6.24's): the first hashed number
    /// at or above `nr`: `find_pid_ns()`, then `next_pidmap()` past numbers
    /// without a hashed entry.
    #[inline(never)]
    pub(crate) fn next<'g>(&self, rcu: &'g rcu::Guard, nr: i32) -> Option<&'g HashEntry> {
        let mut nr = nr.max(0);
        loop {
            if let Some(e) = hash::find(nr, self.ns, rcu) {
                return Some(e);
            }
            nr = self.map.next(nr)?;
        }
    }

    /// Pidmap pages allocated.
    pub(crate) fn pages(&self) -> u32 {
        self.map.pages()
    }
}

/// Bytes a hashed number costs the shadow beyond 7.3's `struct upid` (which
/// has the number and the namespace too): the chain links.
pub(crate) const LINK_BYTES: usize = 2 * core::mem::size_of::<usize>();

/// Makes the one table of this process: `2^shift` buckets, fixed (the
/// module's default, 2.6.24's); [`hash::rehash`] resizes it.
pub(crate) fn table(shift: u32) -> hash::Table {
    // SAFETY: called once, by `main`, before any use of the hash; the table
    // lives until `main` returns.
    unsafe { hash::Table::new(shift, false) }.expect("out of memory")
}

/// Resizes the table to what the resizable hash (`pidhash_resize`) gives
/// `n` entries, or to `shift` when `None`.
pub(crate) fn resize(n: Option<u32>, shift: u32) {
    hash::rehash(|cur| n.map_or(shift, |n| hash::target_shift(n, cur))).expect("out of memory");
}

/// Buckets of the table now, and its bytes.
pub(crate) fn table_size() -> (u32, u64) {
    (hash::buckets(), hash::table_bytes())
}

/// `rcu_read_lock()` of the shadow's column: the host twin's reader
/// registry (one atomic per section, taken outside the timed loops).
pub(crate) fn read_lock() -> rcu::Guard {
    rcu::read_lock()
}
