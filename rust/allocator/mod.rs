// SPDX-License-Identifier: GPL-2.0

//! The allocator's core, as kernel/pid.c of 2.6.24 holds it: the numbers
//! ([`pidmap`]), the namespaces that own them ([`namespace`]), the hash that
//! finds a pid by `(nr, ns)` ([`hash`]), and `struct pid` with its task links
//! ([`pid`]). Each uses only those before it.
//!
//! [`pidmap_env`] and [`hash_env`] are the seam: all that `pidmap.rs` and
//! `hash/` take from the kernel (atomics, pages, `pidmap_lock`, RCU, work
//! items, errors). The loom models and the host benchmark
//! (`tools/testing/shadowpid-loom`, `tools/testing/shadowpid-bench-host`)
//! swap these two for host twins and build the very same files, so what they
//! check and time is this code, not a copy. The files of the seam's side
//! name their neighbours through `super::`, which is this folder here and
//! the host crate's root there.
//!
//! Nothing here knows the device, the benchmark or the mirror.

pub(crate) mod hash;
pub(crate) mod hash_env;
pub(crate) mod namespace;
pub(crate) mod pid;
pub(crate) mod pidmap;
pub(crate) mod pidmap_env;

/// What the core holds module-wide, every universe's together: the
/// statistics' module figures.
pub(crate) struct Census {
    /// Pid objects allocated and not freed yet, all depths.
    pub(crate) pids: u32,
    /// Namespace objects allocated and not freed yet.
    pub(crate) namespaces: u32,
    /// Buckets of the pid hash's current table.
    pub(crate) hash_buckets: u32,
    /// Entries hashed (a walk: see [`hash::census`]).
    pub(crate) hash_entries: u32,
    /// The longest chain.
    pub(crate) hash_longest: u32,
    /// Pidmap pages of the allocator's maps (counted as they come and go).
    pub(crate) pages: u64,
}

/// The core's module-wide figures now.
pub(crate) fn census() -> Census {
    let (hash_entries, hash_longest) = hash::census();
    Census {
        pids: pid::objects() as u32,
        namespaces: namespace::NS_CACHE.objects() as u32,
        hash_buckets: hash::buckets(),
        hash_entries,
        hash_longest,
        pages: pidmap_env::pages(),
    }
}
