// SPDX-License-Identifier: GPL-2.0

//! `struct percpu_counter`: counting events on a hot path without a shared
//! atomic. An update adds to this CPU's slot (folded into the total every
//! `percpu_counter_batch` units); an exact read sums every CPU's slot.

use core::pin::Pin;
use kernel::{bindings, error::to_result, prelude::*, sync::LockClassKey, types::Opaque};

/// A per-CPU counter, usable from any context once initialised.
///
/// # Invariants
///
/// Between a successful [`PercpuCounter::init`] and [`PercpuCounter::destroy`],
/// `inner` is an initialised `struct percpu_counter`.
pub(crate) struct PercpuCounter {
    /// The C counter; zeroed (its per-CPU slots unallocated) until `init`.
    inner: Opaque<bindings::percpu_counter>,
}

// SAFETY: `struct percpu_counter` is made for concurrent use from any CPU:
// updates touch the local slot with preemption off, folds and sums take its
// own raw spinlock.
unsafe impl Sync for PercpuCounter {}
// SAFETY: as above; it holds no thread-bound state.
unsafe impl Send for PercpuCounter {}

impl PercpuCounter {
    /// A counter that is not initialised yet.
    pub(crate) const fn new() -> Self {
        Self {
            inner: Opaque::zeroed(),
        }
    }

    /// Allocates the per-CPU slots, the count starting at 0 (may sleep).
    ///
    /// # Safety
    ///
    /// The counter is not initialised (never, or destroyed since), nothing
    /// else uses it during the call, and it is not moved until destroyed.
    pub(crate) unsafe fn init(&self, key: Pin<&'static LockClassKey>) -> Result {
        // SAFETY: `inner` is valid memory for one counter, not in use (the
        // caller's guarantee); `key` is a static lock class.
        to_result(unsafe {
            bindings::__percpu_counter_init_many(
                self.inner.get(),
                0,
                bindings::GFP_KERNEL,
                1,
                key.as_ptr(),
            )
        })
    }

    /// Adds `amount` (negative to subtract).
    ///
    /// # Safety
    ///
    /// The counter is initialised and not being destroyed.
    #[inline]
    pub(crate) unsafe fn add(&self, amount: i64) {
        // SAFETY: initialised (the caller's guarantee); `percpu_counter_batch`
        // is set once at boot and only read after.
        unsafe {
            bindings::percpu_counter_add_batch(
                self.inner.get(),
                amount,
                core::ptr::read(&raw const bindings::percpu_counter_batch),
            )
        }
    }

    /// The exact count: every CPU's slot summed under the counter's lock.
    ///
    /// # Safety
    ///
    /// The counter is initialised and not being destroyed.
    pub(crate) unsafe fn sum(&self) -> i64 {
        // SAFETY: initialised (the caller's guarantee).
        unsafe { bindings::__percpu_counter_sum(self.inner.get()) }
    }

    /// Frees the per-CPU slots; the counter may be initialised again.
    ///
    /// # Safety
    ///
    /// The counter is initialised and nothing else uses it any more.
    pub(crate) unsafe fn destroy(&self) {
        // SAFETY: initialised and unused (the caller's guarantee).
        unsafe { bindings::percpu_counter_destroy_many(self.inner.get(), 1) }
    }
}
