// SPDX-License-Identifier: GPL-2.0

//! What [`super::hash`] takes from its surroundings, in the module: core
//! atomics, the namespace type it keys on, the kernel's allocations, RCU,
//! the resize mutex, the resizer's work item, and a few sizes.
//!
//! `hash.rs` names nothing else of the kernel (but `pidmap_lock`, from
//! [`super::pidmap_env`]), so the very same file also builds on the host
//! against a twin of this one: under `loom`, where RCU is a registry of
//! readers that the grace period waits for and every interleaving of the
//! lookups, inserts, removals and a resize is checked, or on plain `std`
//! atomics. Only what differs between those places is here.

pub(crate) use super::namespace::PidNamespace;
pub(crate) use crate::wrappers::work::{StaticWork, StaticWorkFn};
pub(crate) use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
pub(crate) use kernel::{
    pr_warn_once,
    prelude::{KBox, KVVec, Result, GFP_KERNEL},
    static_lock_class,
    sync::rcu,
};

// `Pin` is named by what `global_lock!` expands to.
use core::pin::Pin;
use kernel::sync::GlobalGuard;

/// Fewest hash bits (16 buckets), as 2.6.24's `pidhash_init`.
pub(crate) const MIN_SHIFT: u32 = 4;
/// Buckets moved per hold of `pidmap_lock` during a resize: allocations wait
/// for a batch at most.
pub(crate) const MOVE_BATCH: usize = 64;

/// The part of the key that names the namespace: its address, as 2.6.24's
/// `pid_hashfn(nr, ns)` adds it to the number.
#[inline(always)]
pub(crate) fn ns_key(ns: &PidNamespace) -> u64 {
    core::ptr::from_ref(ns) as u64
}

/// Called by a lookup that walks its chain again because a move carried it
/// into another: it waits for the mover, which holds `pidmap_lock` with
/// preemption off and lets go of the entry a few instructions later.
/// Nothing to do here; under `loom` this is where the reader lets the mover
/// run (a spin `loom` must be told of).
#[inline(always)]
pub(crate) fn restart_hint() {}

/// Statics of the hash's own state. In the module, plain statics; the host
/// twin makes them anew for every `loom` execution.
macro_rules! hash_statics {
    ($($(#[$attr:meta])* static $name:ident: $ty:ty = $init:expr;)*) => {
        $($(#[$attr])* static $name: $ty = $init;)*
    };
}
pub(crate) use hash_statics;

kernel::sync::global_lock! {
    // SAFETY: `init()` runs in the module initializer, before the device
    // that leads to every other use exists.
    /// Serialises resizes: one table has at most one future.
    pub(crate) unsafe(uninit) static RESIZE_LOCK: Mutex<()> = ();
}

/// Holding this proves a resize is serialised with every other.
pub(crate) type ResizeGuard = GlobalGuard<RESIZE_LOCK>;

/// Sets up the resize mutex.
///
/// # Safety
///
/// Called once, from the module initializer, before any other use.
pub(crate) unsafe fn init() {
    // SAFETY: once, before any use (the caller's guarantee).
    unsafe { RESIZE_LOCK.init() };
}

/// Takes the resize mutex (may sleep).
pub(crate) fn resize_lock() -> ResizeGuard {
    RESIZE_LOCK.lock()
}
