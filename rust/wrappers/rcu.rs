// SPDX-License-Identifier: GPL-2.0

//! `call_rcu()`: free an object after a grace period, without waiting for it.

use kernel::{bindings, types::Opaque};

/// The `callback_head` an object embeds to be freed after a grace period.
pub(crate) type RcuHead = Opaque<bindings::callback_head>;

/// Queues `func(head)` to run after an RCU grace period (in softirq
/// context: `func` must not sleep).
///
/// # Safety
///
/// `head` must stay valid and unused until `func` runs, and `func` must be
/// sound to call with it then.
pub(crate) unsafe fn call_rcu(
    head: &RcuHead,
    func: unsafe extern "C" fn(*mut bindings::callback_head),
) {
    // SAFETY: by the caller's guarantee.
    unsafe { bindings::call_rcu(head.get(), Some(func)) };
}
