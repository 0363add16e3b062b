// SPDX-License-Identifier: GPL-2.0

//! What [`crate::pidmap`] takes from its surroundings, in the module: core
//! atomics, the page slot over the kernel's zeroed pages, `pidmap_lock` and
//! its guard, and the kernel's `Result`.
//!
//! `pidmap.rs` names nothing else, so the very same file also builds on the
//! host against a shim of the same shape made of `loom` types, where every
//! interleaving of its lockless paths can be checked.

pub(crate) use crate::wrappers::page::{PageWords, ZeroedPage};

/// Words in one pidmap page.
pub(crate) const PAGE_WORDS: usize = kernel::page::PAGE_SIZE / 8;
/// Largest pid_max, and one past the largest number (`PID_MAX_LIMIT`).
pub(crate) const PID_MAX_LIMIT: i32 = crate::uapi::SHADOWPID_PID_MAX_LIMIT as i32;
/// Numbers below this are skipped once allocation has wrapped.
pub(crate) const RESERVED_PIDS: i32 = crate::uapi::SHADOWPID_RESERVED_PIDS as i32;
pub(crate) use core::sync::atomic::{AtomicI32, Ordering};
pub(crate) use kernel::error::Result;

use core::{
    pin::Pin,
    ptr::{self, NonNull},
    sync::atomic::AtomicPtr,
};
use kernel::sync::GlobalGuard;

kernel::sync::global_lock! {
    // SAFETY: `init()` runs in the module initializer, before the device
    // that leads to every other use exists.
    /// `pidmap_lock`: serialises pidmap page installs, pid hash changes and
    /// the pid accounting of namespaces, as in 2.6.24.
    pub(crate) unsafe(uninit) static PIDMAP_LOCK: SpinLock<()> = ();
}

/// Holding this proves `pidmap_lock` is held: functions that need the lock
/// take it by reference, and no other value has this type.
pub(crate) type PidmapGuard = GlobalGuard<PIDMAP_LOCK>;

/// Sets up `pidmap_lock`.
///
/// # Safety
///
/// Called once, from the module initializer, before any other use.
pub(crate) unsafe fn init() {
    // SAFETY: once, before any use (the caller's guarantee).
    unsafe { PIDMAP_LOCK.init() };
}

/// Takes `pidmap_lock`.
#[inline]
pub(crate) fn lock() -> PidmapGuard {
    PIDMAP_LOCK.lock()
}

/// Where a pidmap gets its pages: the allocator's own maps may sleep for one
/// ([`MaySleep`]); a map updated where sleeping is not allowed brings its
/// own source.
pub(crate) trait PageAlloc {
    /// A zeroed page.
    fn zeroed_page() -> Result<ZeroedPage>;
}

/// Pages from `GFP_KERNEL`: process context, may sleep.
pub(crate) struct MaySleep;

impl PageAlloc for MaySleep {
    #[inline]
    fn zeroed_page() -> Result<ZeroedPage> {
        ZeroedPage::new()
    }
}

/// A pidmap's page pointer: null until the page is first needed, then set
/// once (under `pidmap_lock`) and kept until the slot is dropped with its
/// namespace; read without the lock.
///
/// # Invariants
///
/// `page` is null or the address of a [`ZeroedPage`] this slot owns.
pub(crate) struct PageSlot {
    /// The page, or null.
    page: AtomicPtr<PageWords>,
}

impl PageSlot {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        Self {
            page: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The page, if one was installed.
    #[inline]
    pub(crate) fn get(&self) -> Option<&PageWords> {
        let p = self.page.load(Ordering::Acquire);
        // SAFETY: a non-null pointer is a page this slot owns until it is
        // dropped, which the `&self` borrow outlasts; its words are atomics.
        NonNull::new(p).map(|p| unsafe { p.as_ref() })
    }

    /// Installs `page` unless a page is there already, in which case `page`
    /// is freed (2.6.24's alloc_pidmap(), under `pidmap_lock`).
    pub(crate) fn install(&self, page: ZeroedPage, _lock: &PidmapGuard) -> &PageWords {
        if self.page.load(Ordering::Relaxed).is_null() {
            // INVARIANT: ownership of the page moves into the slot.
            self.page.store(page.into_raw().as_ptr(), Ordering::Release);
        }
        // A page was installed just above or before.
        self.get().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for PageSlot {
    fn drop(&mut self) {
        if let Some(addr) = NonNull::new(*self.page.get_mut()) {
            // SAFETY: the slot owned this page (type invariant) and gives it
            // back once, here.
            drop(unsafe { ZeroedPage::from_raw(addr) });
        }
    }
}
