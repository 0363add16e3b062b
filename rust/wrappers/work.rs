// SPDX-License-Identifier: GPL-2.0

//! `DECLARE_WORK()`: one work item in static storage, its function fixed at
//! build time, queued from any context and cancelled before the module's code
//! goes away.
//!
//! The kernel crate's `Work` lives in a refcounted or boxed owner and has no
//! cancel; a module-wide job with no owner (here, resizing the pid hash)
//! needs a static item that `rmmod` can wait for.

use core::{marker::PhantomData, pin::Pin};
use kernel::{bindings, prelude::*, sync::LockClassKey, types::Opaque};

/// What a [`StaticWork`] runs.
pub(crate) trait StaticWorkFn {
    /// The job, in process context (it may sleep).
    fn run();
}

/// A work item in static storage that runs `F::run()`.
///
/// # Invariants
///
/// Between [`StaticWork::init`] and the end of [`StaticWork::cancel_sync`],
/// `work` is an initialised `struct work_struct` whose function is
/// [`trampoline::<F>`].
pub(crate) struct StaticWork<F: StaticWorkFn> {
    /// The C work item; zeroed until `init`.
    work: Opaque<bindings::work_struct>,
    _f: PhantomData<F>,
}

// SAFETY: a `work_struct` is made to be queued from any CPU and context: its
// pending bit is atomic and the workqueue serialises its executions.
unsafe impl<F: StaticWorkFn> Sync for StaticWork<F> {}
// SAFETY: as above; it holds no thread-bound state.
unsafe impl<F: StaticWorkFn> Send for StaticWork<F> {}

/// The `work_func_t` of a [`StaticWork<F>`].
///
/// # Safety
///
/// Called by the workqueue only, for a work item `init` set up.
unsafe extern "C" fn trampoline<F: StaticWorkFn>(_work: *mut bindings::work_struct) {
    F::run();
}

impl<F: StaticWorkFn> StaticWork<F> {
    /// A work item that is not initialised yet.
    pub(crate) const fn new() -> Self {
        Self {
            work: Opaque::zeroed(),
            _f: PhantomData,
        }
    }

    /// Sets the item up (`INIT_WORK()`).
    ///
    /// # Safety
    ///
    /// Called once, before any other use, with nothing else using the item.
    pub(crate) unsafe fn init(&'static self, name: &'static CStr, key: Pin<&'static LockClassKey>) {
        // INVARIANT: initialised with `trampoline::<F>`.
        // SAFETY: `work` is valid, unused memory for one work item (the
        // caller's guarantee) that lives forever; `name` and `key` are
        // static, as lockdep needs.
        unsafe {
            bindings::init_work_with_key(
                self.work.get(),
                Some(trampoline::<F>),
                false,
                name.as_char_ptr(),
                key.as_ptr(),
            )
        };
    }

    /// Queues the item on the unbound system workqueue (`system_dfl_wq`:
    /// `system_wq`, which `schedule_work()` uses, is deprecated in 7.3 and
    /// says so on the console), unless it is queued already; from any
    /// context. If it is running, it runs again.
    ///
    /// # Safety
    ///
    /// [`StaticWork::init`] ran, and [`StaticWork::cancel_sync`] has not
    /// begun.
    pub(crate) unsafe fn schedule(&'static self) {
        // SAFETY: an initialised item (the caller's guarantee; type
        // invariant) in static storage; `system_dfl_wq` always exists.
        unsafe {
            bindings::queue_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as kernel::ffi::c_int,
                bindings::system_dfl_wq,
                self.work.get(),
            )
        };
    }

    /// Waits until the item, if queued or running, has finished
    /// (`flush_work()`); may sleep.
    ///
    /// # Safety
    ///
    /// As for [`StaticWork::schedule`].
    pub(crate) unsafe fn flush(&'static self) {
        // SAFETY: an initialised item (the caller's guarantee).
        unsafe { bindings::flush_work(self.work.get()) };
    }

    /// Dequeues the item and waits for a running instance to finish
    /// (`cancel_work_sync()`); may sleep. Nothing may queue it afterwards.
    ///
    /// # Safety
    ///
    /// [`StaticWork::init`] ran, and nothing queues the item any more.
    pub(crate) unsafe fn cancel_sync(&'static self) {
        // SAFETY: an initialised item (the caller's guarantee).
        unsafe { bindings::cancel_work_sync(self.work.get()) };
    }
}
