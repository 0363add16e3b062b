// SPDX-License-Identifier: GPL-2.0

//! The contention figure's threads: one kthread pinned per CPU, started at
//! once, each running its pairs on the column whose turn it is. The only
//! `unsafe` of the figures: the threads share a [`Hammer`] through the raw
//! pointer `kthread_create_on_cpu()` passes.

use crate::{
    allocator::{namespace::PidNamespace, pid},
    bench::{
        kernel_pid::KernelNsView,
        now,
        rebuild::{self, RebuildNs},
    },
};
use core::{
    ffi::c_void,
    sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, Ordering},
};
use kernel::{bindings, prelude::*, sync::aref::ARef};

/// What the threads of the contention figure share.
pub(crate) struct Hammer<'a> {
    /// The column whose turn it is.
    pub(crate) side: Side<'a>,
    /// Pairs per thread.
    pub(crate) iterations: u32,
    /// Threads ready to start.
    pub(crate) ready: AtomicU32,
    /// Set to start them all at once.
    pub(crate) go: AtomicBool,
    /// Set with `go` when not every thread could be made: no work then.
    pub(crate) abort: AtomicBool,
    /// Threads done.
    pub(crate) done: AtomicU32,
    /// When the last one finished, ns.
    pub(crate) end: AtomicI64,
    /// The first error of a thread (a negative errno), or 0.
    pub(crate) error: AtomicI32,
}

/// A column of the contention figure: the namespace its threads allocate in.
#[derive(Clone, Copy)]
pub(crate) enum Side<'a> {
    /// The shadow's leaf.
    Shadow(&'a ARef<PidNamespace>),
    /// The rebuild's leaf.
    Rebuild(&'a RebuildNs),
    /// The running kernel, in the caller's namespace.
    Kernel(KernelNsView<'a>),
}

// The threads share a `Hammer` through a raw pointer: it must be `Sync`.
const _: () = {
    const fn assert_sync<T: Sync>() {}
    assert_sync::<Hammer<'static>>();
};

impl Hammer<'_> {
    /// One thread's work: `iterations` alloc_pid + free_pid pairs.
    pub(crate) fn work(&self) -> Result {
        for _ in 0..self.iterations {
            match self.side {
                Side::Shadow(ns) => {
                    let pid = pid::alloc_pid(ns, &[])?;
                    pid::free_pid(&pid)?;
                }
                Side::Rebuild(ns) => drop(ns.alloc_pid()?),
                Side::Kernel(k) => drop(k.alloc_pid()?),
            }
        }
        Ok(())
    }
}

/// The body of a contention thread.
///
/// # Safety
///
/// `data` is a [`Hammer`] that outlives the thread (its creator stops the
/// thread with `kthread_stop()` before letting it go).
pub(crate) unsafe extern "C" fn hammer_thread(data: *mut c_void) -> i32 {
    // SAFETY: by the function's safety requirement.
    let h = unsafe { &*data.cast::<Hammer<'_>>() };
    h.ready.fetch_add(1, Ordering::AcqRel);
    while !h.go.load(Ordering::Acquire) {
        core::hint::spin_loop();
    }
    if h.abort.load(Ordering::Acquire) {
        // Made, but the others could not be: nothing to measure.
    } else if let Err(e) = h.work() {
        let _ = h
            .error
            .compare_exchange(0, e.to_errno(), Ordering::AcqRel, Ordering::Relaxed);
    }
    h.end.fetch_max(now(), Ordering::AcqRel);
    h.done.fetch_add(1, Ordering::AcqRel);
    // SAFETY: called from a kthread.
    while !unsafe { bindings::kthread_should_stop() } {
        // SAFETY: sleeping is fine in a kthread.
        unsafe { bindings::msleep(1) };
    }
    0
}

/// Runs `h` on `cpus` kernel threads, one pinned to each of the first
/// `cpus` online CPUs; returns the wall time from the start to the last end.
pub(crate) fn hammer(h: &Hammer<'_>, cpus: u32) -> Result<i64> {
    let mut tasks: KVec<*mut bindings::task_struct> = KVec::new();
    let mut result = Ok(());
    for i in 0..cpus {
        let Some(cpu) = rebuild::nth_online_cpu(i) else {
            result = Err(EINVAL);
            break;
        };
        // SAFETY: `hammer_thread` takes a `Hammer`, which outlives the
        // thread: every thread made here is stopped below before return.
        let task = unsafe {
            bindings::kthread_create_on_cpu(
                Some(hammer_thread),
                core::ptr::from_ref(h).cast_mut().cast(),
                cpu,
                c"shadowpid_bench/%u".as_char_ptr(),
            )
        };
        if let Err(e) = kernel::error::from_err_ptr(task) {
            result = Err(e);
            break;
        }
        // SAFETY: a new kthread; the reference keeps its task_struct for
        // `kthread_stop()` whatever the thread does.
        unsafe { bindings::get_task_struct(task) };
        if let Err(e) = tasks.push(task, GFP_KERNEL) {
            // SAFETY: the thread has not run: stopping it never runs it.
            unsafe {
                bindings::kthread_stop(task);
                bindings::put_task_struct(task);
            }
            result = Err(e.into());
            break;
        }
        // SAFETY: a new kthread, waiting to be woken.
        unsafe { bindings::wake_up_process(task) };
    }
    let mut start = 0;
    if result.is_ok() {
        while h.ready.load(Ordering::Acquire) < cpus {
            // SAFETY: process context.
            unsafe { bindings::msleep(1) };
        }
        start = now();
        h.go.store(true, Ordering::Release);
        while h.done.load(Ordering::Acquire) < cpus {
            // SAFETY: process context.
            unsafe { bindings::msleep(1) };
        }
    }
    if result.is_err() {
        // Threads already made spin until `go`: let them out, idle.
        h.abort.store(true, Ordering::Release);
        h.go.store(true, Ordering::Release);
    }
    for &task in tasks.iter() {
        // SAFETY: our reference keeps `task` valid; `kthread_stop()` waits
        // for the thread to return from `hammer_thread`.
        unsafe {
            bindings::kthread_stop(task);
            bindings::put_task_struct(task);
        }
    }
    result?;
    match h.error.load(Ordering::Acquire) {
        0 => Ok(h.end.load(Ordering::Acquire) - start),
        e => Err(Error::from_errno(e)),
    }
}
