// SPDX-License-Identifier: GPL-2.0

//! The host primitives the environment twins ([`crate::pidmap_env`],
//! [`crate::hash_env`]) are made of: `loom`'s under `cfg(loom)` (the models),
//! `std`'s otherwise (the `host-std` feature: the module's files on plain
//! atomics, as a host benchmark runs them).
//!
//! Besides atomics and a mutex, two checks that only `loom` can make, and
//! that cost nothing on `std`:
//! - [`Track`]: an allocation `loom`'s leak detector reports if an
//!   execution ends with it alive;
//! - [`Liveness`]: a use-after-free detector for memory the module frees
//!   while others may still read it (the pid hash's tables). Every read of
//!   the memory is a `loom` read access, its free a write access: a read
//!   that does not happen before the free (no grace period between them) is
//!   a race `loom` reports, and a read after the free is a panic.

#[cfg(loom)]
pub(crate) use loom::{
    sync::{atomic, Mutex, MutexGuard},
    thread::yield_now,
};
#[cfg(not(loom))]
pub(crate) use std::{
    sync::{atomic, Mutex, MutexGuard},
    thread::yield_now,
};

/// Statics made of host atomics: per execution under `loom` (its
/// `lazy_static!`, reset before every execution).
#[cfg(loom)]
macro_rules! host_static {
    ($($(#[$attr:meta])* static $name:ident: $ty:ty = $init:expr;)*) => {
        loom::lazy_static! {
            $($(#[$attr])* static ref $name: $ty = $init;)*
        }
    };
}
/// Statics made of host atomics: plain statics on `std`, as the kernel's
/// are (no lazy initialisation to test at every use: a host benchmark times
/// the code that reads them).
#[cfg(not(loom))]
macro_rules! host_static {
    ($($(#[$attr:meta])* static $name:ident: $ty:ty = $init:expr;)*) => {
        $($(#[$attr])* static $name: $ty = $init;)*
    };
}
pub(crate) use host_static;

/// An allocation `loom` reports as leaked if an execution ends with it.
#[cfg(loom)]
pub(crate) type Track = loom::alloc::Track<()>;
/// Nothing on `std`.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct Track;

/// A fresh [`Track`].
pub(crate) fn track() -> Track {
    #[cfg(loom)]
    return loom::alloc::Track::new(());
    #[cfg(not(loom))]
    Track
}

/// Whether memory that others read without a lock is still allocated, and
/// who read it: see the module documentation.
#[derive(Debug)]
pub(crate) struct Liveness {
    /// A read access per use, a write access at the free.
    #[cfg(loom)]
    cell: loom::cell::UnsafeCell<()>,
    /// Set by the free. Not a `loom` atomic: `loom` runs one thread at a
    /// time, so this says whether the free ran before the read in the
    /// execution's real order, which `loom` does not order for us.
    freed: std::sync::atomic::AtomicBool,
}

impl Liveness {
    /// Live memory, just allocated.
    pub(crate) fn new() -> Self {
        Self {
            #[cfg(loom)]
            cell: loom::cell::UnsafeCell::new(()),
            freed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A read of the memory: it must not be freed, and must happen before
    /// the free. Nothing on `std`, where freed memory is given back at once
    /// (the flag could not be read after the free) and a host benchmark
    /// times the reads.
    pub(crate) fn read(&self) {
        #[cfg(loom)]
        {
            assert!(
                !self.freed.load(std::sync::atomic::Ordering::Relaxed),
                "model: use after free (memory read after it was freed)"
            );
            self.cell.with(|_| ());
        }
    }

    /// The free: every read before it must happen before it (`loom`).
    pub(crate) fn free(&self) {
        #[cfg(loom)]
        self.cell.with_mut(|_| ());
        self.freed.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A test-and-set spinlock on `std` (`loom` models take a `Mutex`): the
/// kernel's `pidmap_lock` is a spinlock, and a host benchmark must not time
/// a sleeping mutex in its place. The kernel's qspinlock takes an
/// uncontended lock with one compare-and-exchange, as this does.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct SpinLock(std::sync::atomic::AtomicBool);

#[cfg(not(loom))]
impl SpinLock {
    /// An unlocked lock.
    pub(crate) const fn new() -> Self {
        Self(std::sync::atomic::AtomicBool::new(false))
    }

    /// Spins until the lock is taken.
    pub(crate) fn lock(&self) -> SpinGuard<'_> {
        use std::sync::atomic::Ordering::{Acquire, Relaxed};
        while self
            .0
            .compare_exchange_weak(false, true, Acquire, Relaxed)
            .is_err()
        {
            while self.0.load(Relaxed) {
                core::hint::spin_loop();
            }
        }
        SpinGuard(self)
    }
}

/// Proof that a [`SpinLock`] is held; releases it on drop.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct SpinGuard<'a>(&'a SpinLock);

#[cfg(not(loom))]
impl Drop for SpinGuard<'_> {
    fn drop(&mut self) {
        self.0 .0.store(false, std::sync::atomic::Ordering::Release);
    }
}
