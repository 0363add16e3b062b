// SPDX-License-Identifier: GPL-2.0

//! The pidmap: one bit per number of a namespace, in lazily allocated pages.
//!
//! As in 2.6.24: `PID_MAX_LIMIT / BITS_PER_PAGE` entries, each a free counter
//! and a page allocated zeroed on first use and kept until the namespace
//! goes. Allocation is a lockless test-and-set; pages whose `nr_free` is 0 are
//! skipped without being read; freeing is one atomic clear. The worst case,
//! every number but one taken, visits each entry once and scans one page.
//!
//! This file is a leaf: all it takes from its surroundings comes from
//! [`super::pidmap_env`], so the same file builds on the host under `loom`,
//! and the models check this very code, the page slot's publication
//! included.

use super::pidmap_env::{
    self, AtomicI32, AtomicPtr, MaySleep, Ordering, PageAlloc, PageWords, Result, ZeroedPage,
    PAGE_WORDS,
};
use core::{
    marker::PhantomData,
    ptr::{self, NonNull},
};

pub(crate) use super::pidmap_env::{PID_MAX_LIMIT, RESERVED_PIDS};

/// Bits in one word of a page.
const BITS_PER_WORD: i32 = 64;
/// Bits in one pidmap page.
pub(crate) const BITS_PER_PAGE: i32 = PAGE_WORDS as i32 * BITS_PER_WORD;
/// Entries of a pidmap: enough pages for `PID_MAX_LIMIT` numbers.
pub(crate) const PIDMAP_ENTRIES: usize =
    ((PID_MAX_LIMIT + BITS_PER_PAGE - 1) / BITS_PER_PAGE) as usize;

/// What an allocation scan visits, for whoever wants to count it (the
/// benchmark's worst-case figure). The allocator itself passes `()`, whose
/// methods are empty: the production path carries no bookkeeping.
pub(crate) trait ScanCounter {
    /// One map entry visited (skipped on `nr_free`, or scanned).
    #[inline(always)]
    fn entry(&mut self) {}
    /// `n` words of a page read.
    #[inline(always)]
    fn words(&mut self, _n: u32) {}
}

impl ScanCounter for () {}

/// A pidmap's page pointer: null until the page is first needed, then set
/// once (under what its source serialises installs with: `pidmap_lock` for
/// the allocator's own maps) and kept until the slot is dropped with its
/// namespace; read without the lock.
///
/// # Invariants
///
/// `page` is null or the address of a [`ZeroedPage`] this slot owns.
struct PageSlot {
    /// The page, or null.
    page: AtomicPtr<PageWords>,
}

impl PageSlot {
    /// An empty slot.
    fn new() -> Self {
        Self {
            page: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The page, if one was installed.
    #[inline]
    fn get(&self) -> Option<&PageWords> {
        // Acquire: pairs with the install's release, so the zeroed words are
        // seen zeroed.
        let p = self.page.load(Ordering::Acquire);
        // SAFETY: a non-null pointer is a page this slot owns until it is
        // dropped, which the `&self` borrow outlasts; its words are atomics.
        NonNull::new(p).map(|p| unsafe { p.as_ref() })
    }

    /// Installs `page` unless a page is there already, in which case `page`
    /// is freed (2.6.24's alloc_pidmap(), under `pidmap_lock`): `_serialised`
    /// is what keeps installs into this slot's map apart.
    ///
    /// Returns the slot's page, and whether it is `page`.
    fn install<G>(&self, page: ZeroedPage, _serialised: &G) -> (&PageWords, bool) {
        // Relaxed: installs are serialised by the lock, which orders this
        // load after any earlier install.
        let empty = self.page.load(Ordering::Relaxed).is_null();
        if empty {
            // INVARIANT: ownership of the page moves into the slot.
            self.page.store(page.into_raw().as_ptr(), Ordering::Release);
        }
        // A page was installed just above or before.
        (self.get().unwrap_or_else(|| unreachable!()), empty)
    }
}

impl Drop for PageSlot {
    fn drop(&mut self) {
        if let Some(addr) = NonNull::new(pidmap_env::get_mut(&mut self.page)) {
            // SAFETY: the slot owned this page (type invariant) and gives it
            // back once, here.
            drop(unsafe { ZeroedPage::from_raw(addr) });
        }
    }
}

/// One page of the map.
struct PidmapEntry {
    /// Zero bits in the page; the page itself need not exist yet.
    nr_free: AtomicI32,
    /// The bits, once needed.
    page: PageSlot,
}

/// The number bitmap of one namespace; its pages come from `P`.
pub(crate) struct Pidmap<P: PageAlloc = MaySleep> {
    /// One entry per page of numbers.
    maps: [PidmapEntry; PIDMAP_ENTRIES],
    _pages: PhantomData<P>,
}

impl<P: PageAlloc> Drop for Pidmap<P> {
    fn drop(&mut self) {
        // The slots free the pages; the source hears how many first.
        P::released(self.pages());
    }
}

/// Page and bit of number `nr` (never negative: unsigned division is a
/// shift).
#[inline(always)]
fn split(nr: i32) -> (usize, i32) {
    let nr = nr as u32;
    (
        (nr / BITS_PER_PAGE as u32) as usize,
        (nr % BITS_PER_PAGE as u32) as i32,
    )
}

/// Word index and mask of bit `off` of a page.
#[inline(always)]
fn bit(off: i32) -> (usize, u64) {
    let off = off as u32;
    (
        (off / BITS_PER_WORD as u32) as usize,
        1u64 << (off % BITS_PER_WORD as u32),
    )
}

/// First bit at or after `off`, below `end`, that is `set` (or clear), in
/// `page`.
#[inline(always)]
fn find_next<C: ScanCounter>(
    page: &PageWords,
    off: i32,
    end: i32,
    set: bool,
    count: &mut C,
) -> Option<i32> {
    if off >= end {
        return None;
    }
    let (first, _) = bit(off);
    let (last, _) = bit(end - 1);
    let flip = if set { 0 } else { !0u64 };
    let hit = |k: usize, word: u64| {
        let found = (first + k) as i32 * BITS_PER_WORD + word.trailing_zeros() as i32;
        (found < end).then_some(found)
    };
    // The first word, without its bits below `off`: where a dense walk or
    // a nearly free page finds its bit.
    let word = (page[first].load(Ordering::Relaxed) ^ flip) & (!0u64 << (off as u32 % 64));
    count.words(1);
    if word != 0 {
        return hit(0, word);
    }
    for (k, w) in page[first + 1..=last].iter().enumerate() {
        let word = w.load(Ordering::Relaxed) ^ flip;
        if word != 0 {
            count.words(k as u32 + 1);
            return hit(k + 1, word);
        }
    }
    count.words((last - first) as u32);
    None
}

impl<P: PageAlloc> Pidmap<P> {
    /// An empty map: no pages yet, every number free.
    pub(crate) fn new() -> Self {
        Self {
            maps: core::array::from_fn(|_| PidmapEntry {
                nr_free: AtomicI32::new(BITS_PER_PAGE),
                page: PageSlot::new(),
            }),
            _pages: PhantomData,
        }
    }

    /// Makes `slot` an empty map in place: a map is 2 KiB, too big to build
    /// on a kprobe handler's stack and move into its box.
    pub(crate) fn new_in(slot: &mut core::mem::MaybeUninit<Self>) {
        let p = slot.as_mut_ptr();
        // SAFETY: `p` points into `slot`; the place is only addressed, not
        // read or referenced.
        let maps = unsafe { &raw mut (*p).maps }.cast::<PidmapEntry>();
        for i in 0..PIDMAP_ENTRIES {
            // SAFETY: `maps` points to the array of `PIDMAP_ENTRIES` entries
            // inside `slot`, valid for writes; each entry is written once,
            // and `_pages` is zero-sized: `slot` is then initialised.
            unsafe {
                maps.add(i).write(PidmapEntry {
                    nr_free: AtomicI32::new(BITS_PER_PAGE),
                    page: PageSlot::new(),
                })
            };
        }
    }

    /// The page of entry `i`, allocated if it does not exist yet.
    #[inline]
    fn page(&self, i: usize) -> Result<&PageWords> {
        match self.maps[i].page.get() {
            Some(page) => Ok(page),
            None => self.install_page(i),
        }
    }

    /// Allocates the page of entry `i` (outside the lock: it may sleep) and
    /// installs it under `pidmap_lock` (or what else the source serialises
    /// its maps' installs with) unless another thread did first.
    #[cold]
    fn install_page(&self, i: usize) -> Result<&PageWords> {
        let new = P::zeroed_page()?;
        let (page, installed) = self.maps[i].page.install(new, &P::serialise());
        if installed {
            P::installed();
        }
        Ok(page)
    }

    /// Reserves number 0, which is never handed out (2.6.24 does this when it
    /// creates a namespace, allocating page 0 at once).
    pub(crate) fn reserve_zero(&self) -> Result {
        let page = self.page(0)?;
        if page[0].fetch_or(1, Ordering::AcqRel) & 1 == 0 {
            self.maps[0].nr_free.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Tries to take the number at bit `off` of entry `i`.
    #[inline(always)]
    fn test_and_set(&self, page: &PageWords, i: usize, off: i32) -> bool {
        let (w, mask) = bit(off);
        if page[w].fetch_or(mask, Ordering::AcqRel) & mask != 0 {
            return false;
        }
        self.maps[i].nr_free.fetch_sub(1, Ordering::Relaxed);
        true
    }

    /// The cyclic allocation of a namespace whose IDR-style cursor (one past
    /// the number last handed out) is `cursor` and whose pid_max is
    /// `pid_max`, under 7.3's wrap rule (`alloc_pid()`): numbers from 1 while
    /// the cursor is at most `RESERVED_PIDS`, from `RESERVED_PIDS` after;
    /// from the cursor up to `pid_max - 1`, then from the bottom. `None`
    /// once a full cycle found nothing.
    #[inline]
    pub(crate) fn alloc_cyclic(&self, cursor: i32, pid_max: i32) -> Result<Option<i32>> {
        self.alloc_cyclic_counted(cursor, pid_max, &mut ())
    }

    /// [`Self::alloc_cyclic`], telling `count` what the scan visits.
    #[inline(always)]
    pub(crate) fn alloc_cyclic_counted<C: ScanCounter>(
        &self,
        cursor: i32,
        pid_max: i32,
        count: &mut C,
    ) -> Result<Option<i32>> {
        let pid_min = if cursor > RESERVED_PIDS {
            RESERVED_PIDS
        } else {
            1
        };
        let mut start = cursor.max(pid_min);
        if start >= pid_max {
            start = pid_min;
        }
        self.scan(start, pid_min, pid_max, count)
    }

    /// alloc_pidmap(): the first free number in the cycle that starts at
    /// `start` and runs to `pid_max - 1`, then from `pid_min` back up to
    /// `start - 1`; `None` once a full cycle found nothing.
    ///
    /// `start` must lie in `[pid_min, pid_max)`.
    #[inline(always)]
    fn scan<C: ScanCounter>(
        &self,
        start: i32,
        pid_min: i32,
        pid_max: i32,
        count: &mut C,
    ) -> Result<Option<i32>> {
        // Two legs: [start, pid_max), then [pid_min, start).
        for (from, to) in [(start, pid_max), (pid_min, start)] {
            let mut nr = from;
            while nr < to {
                let (i, off) = split(nr);
                let page_end = ((i as i32 + 1) * BITS_PER_PAGE).min(to);
                count.entry();
                if self.maps[i].nr_free.load(Ordering::Relaxed) > 0 {
                    let page = self.page(i)?;
                    let end = page_end - i as i32 * BITS_PER_PAGE;
                    // 2.6.24's fast path: the number the cycle is at is
                    // usually free, so try it before reading any word.
                    if off < end && self.test_and_set(page, i, off) {
                        return Ok(Some(nr));
                    }
                    let mut off = off;
                    while let Some(free) = find_next(page, off, end, false, count) {
                        if self.test_and_set(page, i, free) {
                            return Ok(Some(i as i32 * BITS_PER_PAGE + free));
                        }
                        // Lost a race for this bit: go on after it.
                        off = free + 1;
                    }
                }
                nr = page_end;
            }
        }
        Ok(None)
    }

    /// Takes exactly `nr` (clone3's set_tid); `false` if it is taken.
    pub(crate) fn alloc_exact(&self, nr: i32) -> Result<bool> {
        let (i, off) = split(nr);
        let page = self.page(i)?;
        Ok(self.test_and_set(page, i, off))
    }

    /// free_pidmap(): releases `nr`. O(1).
    pub(crate) fn free(&self, nr: i32) {
        let (i, off) = split(nr);
        let (w, mask) = bit(off);
        if let Some(page) = self.maps[i].page.get() {
            if page[w].fetch_and(!mask, Ordering::AcqRel) & mask != 0 {
                self.maps[i].nr_free.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// next_pidmap(): the first taken number after `last`, if any.
    pub(crate) fn next(&self, last: i32) -> Option<i32> {
        let first = last.checked_add(1)?.max(0);
        let (mut i, mut off) = split(first);
        while i < PIDMAP_ENTRIES {
            if let Some(page) = self.maps[i].page.get() {
                if let Some(found) = find_next(page, off, BITS_PER_PAGE, true, &mut ()) {
                    return Some(i as i32 * BITS_PER_PAGE + found);
                }
            }
            i += 1;
            off = 0;
        }
        None
    }

    /// Whether `nr` is taken.
    pub(crate) fn test(&self, nr: i32) -> bool {
        let (i, off) = split(nr);
        let (w, mask) = bit(off);
        self.maps[i]
            .page
            .get()
            .is_some_and(|p| p[w].load(Ordering::Relaxed) & mask != 0)
    }

    /// Pages allocated so far.
    pub(crate) fn pages(&self) -> u32 {
        self.maps.iter().filter(|m| m.page.get().is_some()).count() as u32
    }

    /// Bits set (number 0 included), counted from the pages; and whether
    /// every entry's `nr_free` agrees with its page.
    pub(crate) fn count_checked(&self) -> (u32, bool) {
        let mut total = 0;
        let mut consistent = true;
        for m in &self.maps {
            let set = m.page.get().map_or(0, |p| {
                p.iter()
                    .map(|w| w.load(Ordering::Relaxed).count_ones())
                    .sum::<u32>()
            });
            consistent &= m.nr_free.load(Ordering::Relaxed) == BITS_PER_PAGE - set as i32;
            total += set;
        }
        (total, consistent)
    }
}

/// KUnit: allocation, wrap-around, exhaustion, page skipping.
#[cfg(not(shadowpid_host))]
#[kernel::prelude::kunit_tests(shadowpid_pidmap)]
mod tests {
    use super::*;
    use kernel::prelude::*;

    /// Runs `f` on a fresh map.
    fn with_map(f: impl FnOnce(&Pidmap)) {
        let map = KBox::new(Pidmap::<MaySleep>::new(), GFP_KERNEL).unwrap();
        f(&map);
    }

    /// Counts what a scan visits.
    #[derive(Default)]
    struct Work {
        /// Entries visited.
        entries: u32,
        /// Words read.
        words: u32,
    }

    impl ScanCounter for Work {
        fn entry(&mut self) {
            self.entries += 1;
        }
        fn words(&mut self, n: u32) {
            self.words += n;
        }
    }

    /// From the start, then wrapping to pid_min (7.3's rule: 1 until the
    /// cursor passes RESERVED_PIDS, RESERVED_PIDS after).
    #[test]
    fn cyclic_from_start_then_wrap() {
        with_map(|map| {
            map.reserve_zero().unwrap();
            assert_eq!(map.alloc_cyclic(1, 400).unwrap(), Some(1));
            assert_eq!(map.alloc_cyclic(398, 400).unwrap(), Some(398));
            assert_eq!(map.alloc_cyclic(399, 400).unwrap(), Some(399));
            // Past pid_max: wraps to RESERVED_PIDS, not to 2.
            assert_eq!(map.alloc_cyclic(400, 400).unwrap(), Some(300));
            assert!(map.test(300) && map.test(398) && !map.test(301));
            // A cursor still at most RESERVED_PIDS starts from 1.
            assert_eq!(map.alloc_cyclic(0, 400).unwrap(), Some(2));
            // A cursor at exactly RESERVED_PIDS is not past it: with
            // [300, 400) full, the cycle wraps to 1, not to RESERVED_PIDS
            // (7.3: `idr_get_cursor() > RESERVED_PIDS`).
            for nr in 301..398 {
                assert!(map.alloc_exact(nr).unwrap());
            }
            assert_eq!(map.alloc_cyclic(300, 400).unwrap(), Some(3));
        });
    }

    /// A full map, then a freed number found again.
    #[test]
    fn exhaustion_then_free() {
        with_map(|map| {
            map.reserve_zero().unwrap();
            for nr in 1..400 {
                assert_eq!(map.alloc_cyclic(nr, 400).unwrap(), Some(nr));
            }
            assert_eq!(map.alloc_cyclic(351, 400).unwrap(), None);
            map.free(333);
            assert_eq!(map.alloc_cyclic(351, 400).unwrap(), Some(333));
            assert_eq!(map.count_checked(), (400, true));
        });
    }

    /// Full pages are skipped on nr_free without reading their words.
    #[test]
    fn crosses_pages_and_skips_full_ones() {
        with_map(|map| {
            let top = 3 * BITS_PER_PAGE;
            for nr in 0..2 * BITS_PER_PAGE + 5 {
                assert!(map.alloc_exact(nr).unwrap());
            }
            let mut w = Work::default();
            assert_eq!(
                map.alloc_cyclic_counted(RESERVED_PIDS, top, &mut w)
                    .unwrap(),
                Some(2 * BITS_PER_PAGE + 5)
            );
            // Pages 0 and 1 are full: skipped on nr_free, their words unread.
            assert_eq!(w.entries, 3);
            assert_eq!(w.words, 1);
            assert_eq!(map.next(BITS_PER_PAGE - 1), Some(BITS_PER_PAGE));
            assert_eq!(map.next(2 * BITS_PER_PAGE + 5), None);
            assert!(!map.alloc_exact(7).unwrap());
            assert_eq!(map.pages(), 3);
        });
    }
}
