// SPDX-License-Identifier: GPL-2.0

//! What [`crate::hash`] takes from its surroundings, on the host: the twin of
//! the module's `rust/allocator/hash_env.rs`, item for item. The chains, the markers,
//! the move and the `future` table are `hash.rs`'s own; only what differs
//! from the kernel is here.
//!
//! - RCU is a registry of readers ([`rcu`]): `read_lock` claims a slot,
//!   `synchronize_rcu` waits for every reader that held one when it began.
//! - Allocations are boxes. Under `loom`, a freed table is not given back
//!   at once but dropped in place and buried until the execution ends, its
//!   heads marked freed ([`Liveness`]): a lookup that reads them after the
//!   free, or without its read happening before the free, fails the model
//!   instead of reading freed memory. `loom`'s leak detector tracks every
//!   box.
//! - The namespace is a stand-in that carries its part of the key, so the
//!   buckets of a model do not depend on where the namespace was allocated
//!   (the kernel adds its address).
//! - Under `loom` the tables are tiny: [`MIN_SHIFT`] 1 (two buckets) and
//!   [`MOVE_BATCH`] 1 (`pidmap_lock` taken per bucket during a move), so
//!   that a model's resize is a handful of steps and inserts and removals
//!   can fall between any two buckets' moves. On `std`, the kernel's.
//! - The resizer's work item never runs: the models call `rehash`
//!   themselves, and leave the table fixed (not `pidhash_resize`) otherwise.

use crate::host::{self, host_static, Liveness, Mutex, MutexGuard};
use core::{
    alloc::Layout,
    ffi::CStr,
    marker::PhantomData,
    ops::Deref,
    ptr::{self, NonNull},
};

pub(crate) use crate::host::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
pub(crate) use crate::pidmap_env::{Error, Result};

/// Fewest hash bits: two buckets under `loom` (the kernel has 16, as does
/// the `std` build).
pub(crate) const MIN_SHIFT: u32 = if cfg!(loom) { 1 } else { 4 };
/// Buckets moved per hold of `pidmap_lock` during a resize: one under
/// `loom` (the kernel moves 64, as does the `std` build).
pub(crate) const MOVE_BATCH: usize = if cfg!(loom) { 1 } else { 64 };

/// A namespace, as the hash sees one: something that outlives the entries
/// of its numbers, compared by address, with a part of the key.
#[derive(Debug)]
pub(crate) struct PidNamespace {
    /// Added to the number to form the key.
    key: u64,
}

impl PidNamespace {
    /// A namespace whose numbers hash as `nr + key`.
    pub(crate) const fn new(key: u64) -> Self {
        Self { key }
    }
}

/// The part of the key that names the namespace.
pub(crate) fn ns_key(ns: &PidNamespace) -> u64 {
    ns.key
}

/// Called by a lookup that walks its chain again because a move carried it
/// into another: it waits for the mover, so under `loom` it yields (without
/// it, `loom` would run the reader's retries forever with the mover
/// stopped).
pub(crate) fn restart_hint() {
    host::yield_now();
}

/// Statics of the hash's own state, made anew for every `loom` execution.
macro_rules! hash_statics {
    ($($t:tt)*) => {
        $crate::host::host_static! { $($t)* }
    };
}
pub(crate) use hash_statics;

/// A failed allocation, which becomes an [`Error`] through `?`, as the
/// kernel's `AllocError` does (the host's allocations do not fail).
#[derive(Clone, Copy, Debug)]
pub(crate) struct AllocError;

impl From<AllocError> for Error {
    fn from(_: AllocError) -> Self {
        Error::NoMem
    }
}

/// Allocation flags; the host has one kind.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flags;

/// The kernel's `GFP_KERNEL`.
pub(crate) const GFP_KERNEL: Flags = Flags;

/// The memory of freed boxes, given back when the execution ends: until
/// then a late reader reads memory that is still there, and is told.
struct Grave(Vec<(NonNull<u8>, Layout)>);

// SAFETY: the pointers are allocations nobody else owns any more.
unsafe impl Send for Grave {}
// SAFETY: as above; only reached through the mutex.
unsafe impl Sync for Grave {}

impl Drop for Grave {
    fn drop(&mut self) {
        for &(p, layout) in &self.0 {
            // SAFETY: allocated by the global allocator with `layout` (a
            // box's), its value dropped already, buried once.
            unsafe { std::alloc::dealloc(p.as_ptr(), layout) };
        }
    }
}

host_static! {
    /// Freed boxes of this execution.
    static GRAVEYARD: std::sync::Mutex<Grave> = std::sync::Mutex::new(Grave(Vec::new()));
}

/// What a [`KBox`] allocates: the value first, so that a pointer to one is
/// a pointer to the other.
#[repr(C)]
struct Boxed<T> {
    /// The value.
    value: T,
    /// `loom` reports the box if an execution ends with it alive.
    _leak: host::Track,
}

/// The kernel's `KBox`: a box whose leaks `loom` reports.
///
/// # Invariants
///
/// `boxed` came from `Box::leak` and is owned by this box.
pub(crate) struct KBox<T> {
    /// The allocation.
    boxed: NonNull<Boxed<T>>,
}

impl<T> KBox<T> {
    /// Boxes `value`.
    pub(crate) fn new(value: T, _flags: Flags) -> Result<Self, AllocError> {
        let b = Box::new(Boxed {
            value,
            _leak: host::track(),
        });
        // INVARIANT: a fresh box, now ours.
        Ok(Self {
            boxed: NonNull::from(Box::leak(b)),
        })
    }

    /// Gives up ownership: the value stays until [`Self::from_raw`].
    pub(crate) fn into_raw(b: Self) -> *mut T {
        let p = b.boxed;
        core::mem::forget(b);
        // The value is the first field of a `repr(C)` struct.
        p.as_ptr().cast()
    }

    /// Takes back a value given up by [`Self::into_raw`].
    ///
    /// # Safety
    ///
    /// `p` came from [`Self::into_raw`] and is taken back once.
    pub(crate) unsafe fn from_raw(p: *mut T) -> Self {
        // INVARIANT: the allocation `into_raw` gave up (the caller's
        // guarantee).
        Self {
            // SAFETY: `into_raw` returned a box's pointer, never null.
            boxed: unsafe { NonNull::new_unchecked(p.cast()) },
        }
    }
}

impl<T> Deref for KBox<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: owned and alive (type invariant).
        unsafe { &self.boxed.as_ref().value }
    }
}

impl<T> Drop for KBox<T> {
    fn drop(&mut self) {
        let p = self.boxed.as_ptr();
        if cfg!(loom) {
            // SAFETY: owned (type invariant) and dropped once, here; the
            // memory is buried, not freed, so a reader that should not be
            // there any more reads a value marked freed.
            unsafe { ptr::drop_in_place(p) };
            GRAVEYARD
                .lock()
                .unwrap_or_else(|_| unreachable!("a model panicked"))
                .0
                .push((self.boxed.cast(), Layout::new::<Boxed<T>>()));
        } else {
            // SAFETY: from `Box::leak`, owned (type invariant), given back
            // once, here.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

/// The kernel's `KVVec`, whose contents lookups read without a lock: every
/// use of its items is checked against its free ([`Liveness`]).
pub(crate) struct KVVec<T> {
    /// The items.
    items: Vec<T>,
    /// Whether the vector is freed, and who read it.
    live: Liveness,
}

impl<T> KVVec<T> {
    /// An empty vector with room for `n` items.
    pub(crate) fn with_capacity(n: usize, _flags: Flags) -> Result<Self, AllocError> {
        Ok(Self {
            items: Vec::with_capacity(n),
            live: Liveness::new(),
        })
    }

    /// Appends `item`.
    pub(crate) fn push(&mut self, item: T, _flags: Flags) -> Result<(), AllocError> {
        self.items.push(item);
        Ok(())
    }
}

impl<T> Deref for KVVec<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.live.read();
        &self.items
    }
}

impl<T> Drop for KVVec<T> {
    fn drop(&mut self) {
        self.live.free();
    }
}

/// `pr_warn_once!`: said on the host's stderr, every time.
macro_rules! pr_warn_once {
    ($($arg:tt)*) => {
        eprint!($($arg)*)
    };
}
pub(crate) use pr_warn_once;

/// The lockdep class of the resizer's work item: none on the host.
macro_rules! static_lock_class {
    () => {
        ()
    };
}
pub(crate) use static_lock_class;

/// What a [`StaticWork`] runs.
pub(crate) trait StaticWorkFn {
    /// The job (never called on the host).
    #[allow(dead_code)]
    fn run();
}

/// The resizer's work item. Never run: the models resize by calling
/// `rehash` from a thread of their own.
pub(crate) struct StaticWork<F: StaticWorkFn> {
    /// The job.
    _f: PhantomData<F>,
}

impl<F: StaticWorkFn> StaticWork<F> {
    /// A work item.
    pub(crate) const fn new() -> Self {
        Self { _f: PhantomData }
    }

    /// Sets the item up.
    ///
    /// # Safety
    ///
    /// None on the host; the kernel's contract is kept for the same callers.
    pub(crate) unsafe fn init(&'static self, _name: &'static CStr, _key: ()) {}

    /// Would queue the item.
    ///
    /// # Safety
    ///
    /// None on the host.
    pub(crate) unsafe fn schedule(&'static self) {}

    /// Would wait for the item.
    ///
    /// # Safety
    ///
    /// None on the host.
    pub(crate) unsafe fn flush(&'static self) {}

    /// Would cancel the item and wait for it.
    ///
    /// # Safety
    ///
    /// None on the host.
    pub(crate) unsafe fn cancel_sync(&'static self) {}
}

host_static! {
    /// The resize mutex, one per execution.
    static RESIZE_LOCK: Mutex<()> = Mutex::new(());
}

/// Holding this proves a resize is serialised with every other.
pub(crate) type ResizeGuard = MutexGuard<'static, ()>;

/// Sets up the resize mutex: nothing to do on the host.
///
/// # Safety
///
/// None on the host.
pub(crate) unsafe fn init() {}

/// Takes the resize mutex.
pub(crate) fn resize_lock() -> ResizeGuard {
    RESIZE_LOCK
        .lock()
        .unwrap_or_else(|_| unreachable!("a model panicked"))
}

/// RCU as a registry of readers: the read lock claims a slot, the grace
/// period waits for every slot held when it began.
///
/// A slot counts up: odd while a reader holds it. The claim and the grace
/// period's read of it are both read-modify-writes of the slot, so one of
/// them reads the other's value: either the reader's claim comes after the
/// grace period began, and then everything the updater did before
/// `synchronize_rcu` happens before the reader's critical section (it
/// cannot see what the updater unpublished), or the grace period sees the
/// slot held and waits for its release, after which nothing the reader did
/// is still to come. That is RCU's guarantee, and all a model may rely on;
/// `loom` (which treats `SeqCst` as acquire-release) needs no fence for it.
pub(crate) mod rcu {
    #[cfg(loom)]
    use crate::host::host_static;
    use crate::host::{
        atomic::{AtomicUsize, Ordering},
        yield_now,
    };
    use core::marker::PhantomData;

    /// Readers at once: two models' threads at most under `loom`; a host
    /// benchmark's threads on `std`.
    const SLOTS: usize = if cfg!(loom) { 2 } else { 64 };

    #[cfg(loom)]
    host_static! {
        /// The readers' slots of this execution.
        static READERS: [AtomicUsize; SLOTS] = core::array::from_fn(|_| AtomicUsize::new(0));
    }
    /// The readers' slots of this process.
    #[cfg(not(loom))]
    static READERS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

    /// An RCU read-side critical section, open while this lives.
    ///
    /// # Invariants
    ///
    /// Slot `slot` of [`READERS`] is odd, claimed by this guard.
    pub(crate) struct Guard {
        /// The slot claimed.
        slot: usize,
        /// As the kernel's: released on the thread that took it.
        _not_send: PhantomData<*mut ()>,
    }

    /// `rcu_read_lock()`.
    pub(crate) fn read_lock() -> Guard {
        for (slot, s) in READERS.iter().enumerate() {
            let v = s.load(Ordering::Relaxed);
            if v % 2 == 0
                && s.compare_exchange(v, v + 1, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            {
                // INVARIANT: claimed, odd.
                return Guard {
                    slot,
                    _not_send: PhantomData,
                };
            }
        }
        panic!("model: more readers at once than the registry's {SLOTS} slots");
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            // Release: the critical section happens before the end of any
            // grace period that waited for it.
            READERS[self.slot].fetch_add(1, Ordering::Release);
        }
    }

    /// `synchronize_rcu()`: returns once every reader that was in a critical
    /// section when it was called has left it.
    // Not called by the variant that frees the old table without it.
    #[cfg_attr(feature = "broken-no-grace", allow(dead_code))]
    pub(crate) fn synchronize_rcu() {
        for s in READERS.iter() {
            let held = s.fetch_add(0, Ordering::AcqRel);
            if held % 2 == 1 {
                while s.load(Ordering::Acquire) == held {
                    yield_now();
                }
            }
        }
    }
}
