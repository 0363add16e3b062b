// SPDX-License-Identifier: GPL-2.0

//! What [`super::pidmap`] takes from its surroundings, in the module: core
//! atomics, the kernel's zeroed pages, `pidmap_lock` and its guard, and the
//! kernel's `Result`.
//!
//! `pidmap.rs` names nothing else, so the very same file (its page slot's
//! publication protocol included) also builds on the host against a twin of
//! this one made of `loom` types, where every interleaving of its lockless
//! paths can be checked. Only what differs between the two places is here:
//! where pages come from, what the lock is, what an error is.

pub(crate) use crate::wrappers::page::{PageWords, ZeroedPage};

/// Words in one pidmap page.
pub(crate) const PAGE_WORDS: usize = kernel::page::PAGE_SIZE / 8;
/// Largest pid_max, and one past the largest number (`PID_MAX_LIMIT`).
pub(crate) const PID_MAX_LIMIT: i32 = crate::uapi::SHADOWPID_PID_MAX_LIMIT as i32;
/// Numbers below this are skipped once allocation has wrapped.
pub(crate) const RESERVED_PIDS: i32 = crate::uapi::SHADOWPID_RESERVED_PIDS as i32;
use core::sync::atomic::AtomicU64;
pub(crate) use core::sync::atomic::{AtomicI32, AtomicPtr, Ordering};
pub(crate) use kernel::error::Result;

// `Pin` is named by what `global_lock!` expands to.
use core::pin::Pin;
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

/// Where a pidmap gets its pages, what keeps two installs of a page into
/// one of its maps apart, and who counts the pages its maps hold.
pub(crate) trait PageAlloc {
    /// Held while a page is installed; while one value lives, no other
    /// install into a map of this source runs.
    type Serialised;
    /// A zeroed page.
    fn zeroed_page() -> Result<ZeroedPage>;
    /// What serialises installs ([`Self::Serialised`]).
    fn serialise() -> Self::Serialised;
    /// A page went into one of this source's maps.
    fn installed() {}
    /// A map of this source is dropped with `pages` pages.
    fn released(_pages: u32) {}
}

/// Pages held by the maps of [`MaySleep`]: the allocator's own.
static PAGES: AtomicU64 = AtomicU64::new(0);

/// Pages the allocator's own maps hold now, every universe's (and the
/// benchmark's) together.
pub(crate) fn pages() -> u64 {
    PAGES.load(Ordering::Relaxed)
}

/// Pages from `GFP_KERNEL`: process context, may sleep; installs under
/// `pidmap_lock`, as in 2.6.24.
pub(crate) struct MaySleep;

impl PageAlloc for MaySleep {
    type Serialised = PidmapGuard;

    #[inline]
    fn zeroed_page() -> Result<ZeroedPage> {
        ZeroedPage::new()
    }

    #[inline]
    fn serialise() -> PidmapGuard {
        lock()
    }

    fn installed() {
        PAGES.fetch_add(1, Ordering::Relaxed);
    }

    fn released(pages: u32) {
        PAGES.fetch_sub(u64::from(pages), Ordering::Relaxed);
    }
}

/// The value of `atomic`, read through exclusive access (no other thread
/// can see it): a plain read here; the host twin tells `loom` of it.
#[inline]
pub(crate) fn get_mut<T>(atomic: &mut AtomicPtr<T>) -> *mut T {
    *atomic.get_mut()
}
