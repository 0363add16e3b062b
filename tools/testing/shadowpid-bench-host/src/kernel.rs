// SPDX-License-Identifier: GPL-2.0
//! The kernel's column: Linux 7.3's `lib/idr.c` on `lib/radix-tree.c` and
//! `lib/xarray.c`, built for userspace by `build.rs` and driven by
//! `csrc/kidr.c` as `kernel/pid.c` drives them. The only `unsafe` of the
//! kernel column is here.

use std::{ffi::c_void, marker::PhantomData, ptr::NonNull};

/// `struct kidr_ns` (csrc/kidr.c): one namespace's IDR and its `pid_max`.
#[repr(C)]
struct RawNs {
    /// Opaque.
    _opaque: [u8; 0],
}

extern "C" {
    fn kidr_thread_enter();
    fn kidr_thread_exit();
    fn kidr_ns_new(pid_max: i32) -> *mut RawNs;
    fn kidr_ns_destroy(ns: *mut RawNs);
    fn kidr_alloc(ns: *mut RawNs, p: *mut c_void) -> i32;
    fn kidr_alloc_exact(ns: *mut RawNs, nr: i32, p: *mut c_void) -> i32;
    fn kidr_find_held(ns: *mut RawNs, nr: i32) -> *mut c_void;
    fn kidr_next_held(ns: *mut RawNs, nr: i32, entry: *mut *mut c_void) -> i32;
    fn kidr_remove(ns: *mut RawNs, nr: i32) -> *mut c_void;
    fn kidr_set_cursor(ns: *mut RawNs, c: i32);
    fn kidr_rcu_read_lock();
    fn kidr_rcu_read_unlock();
    fn kidr_rcu_barrier();
    fn kidr_node_size() -> usize;
    fn kidr_nodes_total() -> usize;
    fn kidr_tree_nodes() -> isize;
    fn kidr_has_sys_membarrier() -> i32;
    fn kidr_slab_pair_ns(n: i32) -> f64;
}

/// What the IDR maps a number to: a stand-in for `struct pid`, aligned as
/// one (the radix tree reserves pointers with bit 1 set).
#[repr(C, align(8))]
#[derive(Debug, Default)]
pub(crate) struct Object {
    /// The number it was allocated as.
    pub(crate) nr: i32,
}

/// A thread registered with the IDR's RCU (liburcu) and owning a preload
/// pool, as a CPU does in the kernel; unregistered on drop.
pub(crate) struct Thread {
    /// Bound to the thread that registered.
    _not_send: PhantomData<*mut ()>,
}

impl Thread {
    /// Registers the calling thread.
    pub(crate) fn enter() -> Self {
        // SAFETY: registers the calling thread; `drop` unregisters it on
        // the same thread (the type is not `Send`).
        unsafe { kidr_thread_enter() };
        Self {
            _not_send: PhantomData,
        }
    }

    /// `rcu_read_lock()`: a read-side critical section while the guard lives.
    pub(crate) fn read_lock(&self) -> ReadGuard<'_> {
        // SAFETY: the thread is registered (`self`).
        unsafe { kidr_rcu_read_lock() };
        ReadGuard { _thread: self }
    }

    /// `rcu_barrier()`: every callback queued so far has run (the IDR's
    /// node frees).
    pub(crate) fn rcu_barrier(&self) {
        // SAFETY: the thread is registered and not in a read-side section
        // (a `ReadGuard` borrows `self` only shared, but `rcu_barrier` is
        // only called by the figures outside one).
        unsafe { kidr_rcu_barrier() };
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        // SAFETY: registered by `enter` on this thread.
        unsafe { kidr_thread_exit() };
    }
}

/// An RCU read-side critical section of the kernel column.
pub(crate) struct ReadGuard<'t> {
    /// The registered thread it runs on.
    _thread: &'t Thread,
}

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: opened by `Thread::read_lock` on this thread.
        unsafe { kidr_rcu_read_unlock() };
    }
}

/// One namespace's IDR.
///
/// # Invariants
///
/// `raw` came from `kidr_ns_new` and is destroyed once, by `drop`.
pub(crate) struct Ns {
    /// The namespace.
    raw: NonNull<RawNs>,
}

// SAFETY: the IDR is changed only under csrc/kidr.c's `pidmap_lock` and read
// under RCU, from any registered thread, as in the kernel.
unsafe impl Send for Ns {}
// SAFETY: as for `Send`.
unsafe impl Sync for Ns {}

impl Ns {
    /// An empty namespace whose numbers stay below `pid_max`.
    pub(crate) fn new(_thread: &Thread, pid_max: i32) -> Self {
        // SAFETY: the harness is initialised (`_thread`).
        let raw = NonNull::new(unsafe { kidr_ns_new(pid_max) }).expect("out of memory");
        // INVARIANT: fresh from `kidr_ns_new`.
        Self { raw }
    }

    /// `alloc_pid()`'s number for one level: the next free number from the
    /// cursor (wrapping to 300), mapped to `obj`; -EAGAIN when full.
    pub(crate) fn alloc(&self, _thread: &Thread, obj: &Object) -> i32 {
        // SAFETY: a live namespace (type invariant); `obj` is aligned and
        // outlives its number (the callers free it first).
        unsafe { kidr_alloc(self.raw.as_ptr(), obj as *const Object as *mut c_void) }
    }

    /// The set_tid path: exactly `nr`, mapped to `obj`; -EEXIST if taken.
    pub(crate) fn alloc_exact(&self, _thread: &Thread, nr: i32, obj: &Object) -> i32 {
        // SAFETY: as for `alloc`.
        unsafe { kidr_alloc_exact(self.raw.as_ptr(), nr, obj as *const Object as *mut c_void) }
    }

    /// `free_pid()`'s part: `nr` removed; whether it was there.
    pub(crate) fn remove(&self, _thread: &Thread, nr: i32) -> bool {
        // SAFETY: a live namespace.
        !unsafe { kidr_remove(self.raw.as_ptr(), nr) }.is_null()
    }

    /// `ns_last_pid` (`idr_set_cursor`): cyclic allocation starts at `nr`.
    pub(crate) fn set_cursor(&self, nr: i32) {
        // SAFETY: a live namespace; a plain store, as `ns_last_pid`'s.
        unsafe { kidr_set_cursor(self.raw.as_ptr(), nr) };
    }

    /// `find_pid_ns()`: the object numbered `nr`, under the caller's RCU
    /// read lock.
    #[inline(never)]
    pub(crate) fn find(&self, _rcu: &ReadGuard<'_>, nr: i32) -> Option<NonNull<Object>> {
        // SAFETY: a live namespace, read under RCU (`_rcu`).
        NonNull::new(unsafe { kidr_find_held(self.raw.as_ptr(), nr) }.cast())
    }

    /// `find_ge_pid()`: the first number at or above `nr` and its object.
    #[inline(never)]
    pub(crate) fn next(&self, _rcu: &ReadGuard<'_>, nr: i32) -> Option<(i32, NonNull<Object>)> {
        let mut e = core::ptr::null_mut();
        // SAFETY: a live namespace, read under RCU; `e` is a valid out
        // pointer.
        let got = unsafe { kidr_next_held(self.raw.as_ptr(), nr, &mut e) };
        (got >= 0).then(|| (got, NonNull::new(e.cast()).expect("a found entry")))
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        // SAFETY: from `kidr_ns_new`, destroyed once (type invariant).
        unsafe { kidr_ns_destroy(self.raw.as_ptr()) };
    }
}

/// Bytes of one radix-tree node (`struct xa_node`).
pub(crate) fn node_size() -> usize {
    // SAFETY: reads a cache's size; the harness is initialised by the
    // caller's `Thread`.
    unsafe { kidr_node_size() }
}

/// Radix-tree node allocations ever made.
pub(crate) fn nodes_total() -> usize {
    // SAFETY: reads a counter.
    unsafe { kidr_nodes_total() }
}

/// Nodes in trees now, once deferred frees have run (exact when no other
/// thread holds a preload pool).
pub(crate) fn tree_nodes(_thread: &Thread) -> usize {
    // SAFETY: the thread is registered (it waits for callbacks).
    unsafe { kidr_tree_nodes() }.max(0) as usize
}

/// What the harness's slab takes for one node's allocation and free, ns
/// (over `n` pairs).
pub(crate) fn slab_pair_ns(_thread: &Thread, n: i32) -> f64 {
    // SAFETY: the harness is initialised (`_thread`); the node is freed at
    // once.
    unsafe { kidr_slab_pair_ns(n) }
}

/// Whether liburcu's readers are a compiler barrier (`sys_membarrier`)
/// rather than a full fence each.
pub(crate) fn has_sys_membarrier() -> bool {
    // SAFETY: reads a flag.
    unsafe { kidr_has_sys_membarrier() != 0 }
}
