// SPDX-License-Identifier: GPL-2.0

//! What [`crate::pidmap`] takes from its surroundings, on the host: the
//! host twin of the module's `rust/allocator/pidmap_env.rs`, item for item. Only what
//! differs from the kernel is here (pages as boxes, `pidmap_lock` as a
//! mutex, the error type); the page slot and its publication protocol are
//! `pidmap.rs`'s own.
//!
//! Under `loom` every atomic is a `loom::sync` atomic and `pidmap_lock` a
//! `loom` mutex ([`crate::host`]), so `loom` sees each access of `pidmap.rs`
//! and can run every interleaving of them. The geometry is shrunk to keep its state small: two words (128
//! numbers) a page, four pages, and the kernel's `RESERVED_PIDS` (300), so a
//! pid_max just over 300 reaches the wrap within one page.
//!
//! Pages are counted ([`pages_allocated`], [`pages_freed`]) and tracked by
//! `loom`'s leak detector, so a model can tell that the loser of a page
//! install gave its page back and that nothing leaks.
//!
//! The `broken-fetch-or` and `broken-fetch-and` features make the page words'
//! `fetch_or` (the allocation's test-and-set) or `fetch_and` (the free's
//! clear) a load then a store: bugs the models must catch (`scripts/loom`
//! checks that they do).

use crate::host::{self, host_static};
#[cfg(loom)]
use crate::host::{Mutex, MutexGuard};
use core::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub(crate) use crate::host::atomic::{AtomicI32, AtomicPtr, Ordering};

/// Words in one pidmap page: two under `loom`, so that a model crosses
/// pages in a few numbers; on `std` (a host benchmark) the kernel's
/// `PAGE_SIZE / 8`.
pub(crate) const PAGE_WORDS: usize = if cfg!(loom) { 2 } else { 4096 / 8 };
/// Largest pid_max, and one past the largest number: four pages of 128
/// under `loom`; the kernel's `PID_MAX_LIMIT` (4M on 64-bit) on `std`.
pub(crate) const PID_MAX_LIMIT: i32 = if cfg!(loom) { 512 } else { 4 * 1024 * 1024 };
/// Numbers below this are skipped once allocation has wrapped (the kernel's
/// value).
pub(crate) const RESERVED_PIDS: i32 = 300;

/// A page word: `loom`'s `AtomicU64`, unless a `broken-*` feature asks for
/// the broken one of `mod broken`.
#[cfg(not(any(feature = "broken-fetch-or", feature = "broken-fetch-and")))]
pub(crate) type Word = host::atomic::AtomicU64;
#[cfg(any(feature = "broken-fetch-or", feature = "broken-fetch-and"))]
pub(crate) use broken::Word;

/// The words of one page.
pub(crate) type PageWords = [Word; PAGE_WORDS];

/// The errors of this shim: the only one is a failed page allocation, which
/// only the models' failing page source gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Error {
    /// `ENOMEM`.
    NoMem,
}

/// The kernel's `Result`: `()` by default, [`Error`] on failure.
pub(crate) type Result<T = (), E = Error> = core::result::Result<T, E>;

/// Pages allocated and freed in the current `loom` execution.
struct PageCount {
    /// [`ZeroedPage::new`] calls.
    allocated: AtomicUsize,
    /// [`ZeroedPage`] drops.
    freed: AtomicUsize,
}

/// `pidmap_lock` on `std`: a spinlock, as the kernel's is (and as the host
/// benchmark's kernel column takes it: csrc/kidr.c).
#[cfg(not(loom))]
static PIDMAP_LOCK: host::SpinLock = host::SpinLock::new();

host_static! {
    /// `pidmap_lock`, one per execution.
    #[cfg(loom)]
    static PIDMAP_LOCK: Mutex<()> = Mutex::new(());
    /// The page counts of this execution. Plain (not `loom`) atomics: they
    /// are bookkeeping for the models, not part of what is checked, and
    /// `loom` runs its threads one at a time on one host thread.
    static PAGES: PageCount = PageCount {
        allocated: AtomicUsize::new(0),
        freed: AtomicUsize::new(0),
    };
}

/// Pages allocated so far in this execution.
pub(crate) fn pages_allocated() -> usize {
    PAGES.allocated.load(Relaxed)
}

/// Pages freed so far in this execution.
pub(crate) fn pages_freed() -> usize {
    PAGES.freed.load(Relaxed)
}

/// Holding this proves `pidmap_lock` is held.
#[cfg(loom)]
pub(crate) type PidmapGuard = MutexGuard<'static, ()>;
/// Holding this proves `pidmap_lock` is held.
#[cfg(not(loom))]
pub(crate) type PidmapGuard = host::SpinGuard<'static>;

/// Takes `pidmap_lock`.
#[cfg(not(loom))]
pub(crate) fn lock() -> PidmapGuard {
    PIDMAP_LOCK.lock()
}

/// Takes `pidmap_lock`.
#[cfg(loom)]
pub(crate) fn lock() -> PidmapGuard {
    PIDMAP_LOCK
        .lock()
        .unwrap_or_else(|_| unreachable!("a model panicked"))
}

/// A page as allocated here: the words first, so that a pointer to the page
/// is a pointer to its words; page-aligned on `std`, as the kernel's are.
#[repr(C)]
#[cfg_attr(not(loom), repr(align(4096)))]
struct Page {
    /// The words, zeroed.
    words: PageWords,
    /// `loom` reports the page if an execution ends with it not freed.
    _leak: host::Track,
}

/// A zeroed page, owned.
///
/// # Invariants
///
/// `page` came from `Box::<Page>::leak` and is owned by this value.
pub(crate) struct ZeroedPage {
    /// The page.
    page: NonNull<Page>,
}

impl ZeroedPage {
    /// Allocates a zeroed page.
    pub(crate) fn new() -> Result<Self> {
        let page = Box::new(Page {
            words: core::array::from_fn(|_| Word::new(0)),
            _leak: host::track(),
        });
        PAGES.allocated.fetch_add(1, Relaxed);
        // INVARIANT: a fresh box, now ours.
        Ok(Self {
            page: NonNull::from(Box::leak(page)),
        })
    }

    /// Gives up ownership: the page stays allocated until [`Self::from_raw`]
    /// takes it back.
    pub(crate) fn into_raw(self) -> NonNull<PageWords> {
        let page = self.page;
        core::mem::forget(self);
        // The words are the first field of a `repr(C)` struct.
        page.cast()
    }

    /// Takes back a page given up by [`Self::into_raw`].
    ///
    /// # Safety
    ///
    /// `words` came from [`Self::into_raw`] and is taken back once.
    pub(crate) unsafe fn from_raw(words: NonNull<PageWords>) -> Self {
        // INVARIANT: the caller gives back the page `into_raw` gave up.
        Self { page: words.cast() }
    }
}

impl Drop for ZeroedPage {
    fn drop(&mut self) {
        // SAFETY: the page came from `Box::leak` and is owned by this value
        // (type invariant), which gives it back once, here.
        drop(unsafe { Box::from_raw(self.page.as_ptr()) });
        PAGES.freed.fetch_add(1, Relaxed);
    }
}

/// Where a pidmap gets its pages, and what serialises their installs.
pub(crate) trait PageAlloc {
    /// Held while a page is installed.
    type Serialised;
    /// A zeroed page.
    fn zeroed_page() -> Result<ZeroedPage>;
    /// What serialises installs.
    fn serialise() -> Self::Serialised;
    /// A page went into one of this source's maps.
    fn installed() {}
    /// A map of this source is dropped with `pages` pages.
    fn released(_pages: u32) {}
}

/// The allocator's own page source (the kernel's `GFP_KERNEL`), installs
/// under `pidmap_lock`.
pub(crate) struct MaySleep;

impl PageAlloc for MaySleep {
    type Serialised = PidmapGuard;

    fn zeroed_page() -> Result<ZeroedPage> {
        ZeroedPage::new()
    }

    fn serialise() -> PidmapGuard {
        lock()
    }
}

/// The value of `atomic`, read through exclusive access: `loom` checks that
/// no other thread's access to it is concurrent.
pub(crate) fn get_mut<T>(atomic: &mut AtomicPtr<T>) -> *mut T {
    #[cfg(loom)]
    return atomic.with_mut(|p| *p);
    #[cfg(not(loom))]
    *atomic.get_mut()
}

/// Page words with a deliberately broken read-modify-write, for proving that
/// the models catch what they claim to.
#[cfg(any(feature = "broken-fetch-or", feature = "broken-fetch-and"))]
mod broken {
    use super::Ordering;
    use crate::host::atomic::AtomicU64;

    /// The ordering of the load half of a broken read-modify-write.
    fn load_half(order: Ordering) -> Ordering {
        match order {
            Ordering::AcqRel | Ordering::Acquire => Ordering::Acquire,
            Ordering::SeqCst => Ordering::SeqCst,
            _ => Ordering::Relaxed,
        }
    }

    /// The ordering of the store half of a broken read-modify-write.
    fn store_half(order: Ordering) -> Ordering {
        match order {
            Ordering::AcqRel | Ordering::Release => Ordering::Release,
            Ordering::SeqCst => Ordering::SeqCst,
            _ => Ordering::Relaxed,
        }
    }

    /// A page word whose `fetch_or` (`broken-fetch-or`) or `fetch_and`
    /// (`broken-fetch-and`) is a load then a store: another thread's update
    /// between the two is lost.
    pub(crate) struct Word(AtomicU64);

    impl Word {
        /// A word holding `v`.
        pub(crate) fn new(v: u64) -> Self {
            Self(AtomicU64::new(v))
        }

        /// Loads the word.
        pub(crate) fn load(&self, order: Ordering) -> u64 {
            self.0.load(order)
        }

        /// Sets the bits of `v`, returning the old word.
        pub(crate) fn fetch_or(&self, v: u64, order: Ordering) -> u64 {
            if cfg!(feature = "broken-fetch-or") {
                let old = self.0.load(load_half(order));
                self.0.store(old | v, store_half(order));
                old
            } else {
                self.0.fetch_or(v, order)
            }
        }

        /// Keeps only the bits of `v`, returning the old word.
        pub(crate) fn fetch_and(&self, v: u64, order: Ordering) -> u64 {
            if cfg!(feature = "broken-fetch-and") {
                let old = self.0.load(load_half(order));
                self.0.store(old & v, store_half(order));
                old
            } else {
                self.0.fetch_and(v, order)
            }
        }
    }
}
