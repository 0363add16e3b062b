// SPDX-License-Identifier: GPL-2.0

//! The pid hash: every number of every pid, keyed by `(nr, ns)`.
//!
//! As in 2.6.24: one table of `2^pidhash_shift` buckets for the whole module,
//! sized from the machine's memory at load; chains changed only under
//! `pidmap_lock`, walked locklessly under the RCU read lock. A chain is an
//! RCU hlist: each entry has a `next` pointer, published with a release
//! store after the entry is filled in, and a back-link to the pointer that
//! points at it (`pprev`), so unlinking is O(1) (`hlist_del_rcu`) and
//! leaves the unlinked entry's `next` intact for a reader standing on it.
//! The memory of an unlinked entry may be reused only after a grace period
//! (see `pid::free_pid`).
//!
//! Beyond 2.6.24, and only when the `pidhash_resize` parameter asks for it,
//! the table follows the number of hashed entries ([`resize`]). Without the
//! parameter, no count is kept and no table ever has a future: the hot path
//! is 2.6.24's, but for one more load (the table's descriptor) and the
//! marker test at a chain's end.
//!
//! This file takes all it needs from [`super::hash_env`] (and `pidmap_lock`
//! from [`super::pidmap_env`]), so the same file builds on the host, where
//! `loom` checks this very protocol (tools/testing/shadowpid-loom).

use super::{
    hash_env::{
        self, hash_statics, rcu, static_lock_class, AtomicBool, AtomicPtr, KBox, KVVec, Ordering,
        PidNamespace, Result, GFP_KERNEL,
    },
    pidmap_env::{self, PidmapGuard},
};
use core::ptr::{self, NonNull};
use resize::{counted, RESIZER};
pub(crate) use resize::{rehash, settle, target_shift, RESIZE_MAX_SHIFT};

mod resize;

pub(crate) use super::hash_env::MIN_SHIFT;
/// Most hash bits (4096 buckets), as 2.6.24's `pidhash_init`.
pub(crate) const MAX_SHIFT: u32 = 12;
/// Most hash bits the `pidhash_shift` parameter may ask for (a million
/// buckets, 8 MiB): past 2.6.24's limit, for a million live pids.
pub(crate) const PARAM_MAX_SHIFT: u32 = 20;

hash_statics! {
    /// The table lookups start from: published before the device exists,
    /// freed after it is gone; replaced only by a resize.
    static CURRENT: AtomicPtr<Buckets> = AtomicPtr::new(ptr::null_mut());
    /// Whether the table resizes (the `pidhash_resize` parameter), set once
    /// at load.
    static RESIZABLE: AtomicBool = AtomicBool::new(false);
}

/// The part of a `struct upid` the hash sees: its key and its chain links.
///
/// # Invariants
///
/// `ns` points to a namespace that outlives the entry (its owner holds a
/// reference on it). `pprev` is meaningful only while the entry is hashed,
/// and is read and written only under `pidmap_lock`.
#[repr(C)]
pub(crate) struct HashEntry {
    pub(crate) nr: i32,
    ns: NonNull<PidNamespace>,
    /// Next entry of the chain, or the chain's end marker; read under RCU.
    next: AtomicPtr<HashEntry>,
    /// The pointer that points at this entry: the bucket head or the
    /// previous entry's `next`.
    pprev: AtomicPtr<AtomicPtr<HashEntry>>,
}

impl HashEntry {
    /// An unhashed entry for number `nr` of `ns`.
    ///
    /// # Safety
    ///
    /// `ns` must outlive the entry.
    pub(crate) unsafe fn new(nr: i32, ns: &PidNamespace) -> Self {
        // INVARIANT: `ns` outlives the entry (the caller's guarantee).
        Self {
            nr,
            ns: NonNull::from(ns),
            next: AtomicPtr::new(ptr::null_mut()),
            pprev: AtomicPtr::new(ptr::null_mut()),
        }
    }

    pub(crate) fn ns(&self) -> &PidNamespace {
        // SAFETY: alive as long as `self` (type invariant).
        unsafe { self.ns.as_ref() }
    }
}

/// The end marker of the chain that starts at `head`: its address with the
/// low bit set (entries are aligned, so no entry has such an address).
fn end_of(head: &AtomicPtr<HashEntry>) -> *mut HashEntry {
    ptr::from_ref(head)
        .cast_mut()
        .cast::<HashEntry>()
        .wrapping_byte_add(1)
}

/// The address of `entry`'s `next`, as a `pprev` points to it: derived
/// from the whole entry, so that [`move_chain`] may step back from it to
/// the entry.
fn next_of(entry: &HashEntry) -> *mut AtomicPtr<HashEntry> {
    ptr::from_ref(entry)
        .cast_mut()
        .wrapping_byte_add(core::mem::offset_of!(HashEntry, next))
        .cast()
}

/// Whether a link is a chain's end marker rather than an entry.
fn is_end(link: *mut HashEntry) -> bool {
    link.addr() & 1 != 0
}

/// 2.6.24's `pidhash_init()`: `fls(megabytes * 4)` clamped to [4, 12].
pub(crate) fn shift_for_memory(bytes: u64) -> u32 {
    let megabytes = bytes >> 20;
    let fls = u64::BITS - (megabytes * 4).leading_zeros();
    fls.clamp(MIN_SHIFT, MAX_SHIFT)
}

/// One table: `2^shift` chain heads, and the table a resize is moving its
/// entries to.
///
/// # Invariants
///
/// Each head is the first entry of its chain or the chain's end marker
/// ([`end_of`] the head). `future` is null, or the table a resize moves
/// the entries to; it is set once, under `pidmap_lock`, and never cleared
/// (the table is replaced by its future, then freed).
struct Buckets {
    /// log2 of the number of heads.
    shift: u32,
    /// Where entries are moving to, during a resize.
    future: AtomicPtr<Buckets>,
    /// The chain heads; never resized, so their addresses are stable.
    heads: KVVec<AtomicPtr<HashEntry>>,
}

impl Buckets {
    /// A table of `2^shift` empty chains.
    fn new(shift: u32) -> Result<KBox<Self>> {
        let n = 1usize << shift;
        let mut heads = KVVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            heads.push(AtomicPtr::new(ptr::null_mut()), GFP_KERNEL)?;
        }
        // The vector has its final size: the markers name stable addresses.
        for head in heads.iter() {
            head.store(end_of(head), Ordering::Relaxed);
        }
        // INVARIANT: every chain is empty (its own end marker); no future.
        Ok(KBox::new(
            Self {
                shift,
                future: AtomicPtr::new(ptr::null_mut()),
                heads,
            },
            GFP_KERNEL,
        )?)
    }

    /// The chain head of `(nr, ns)`.
    fn head(&self, nr: i32, ns: &PidNamespace) -> &AtomicPtr<HashEntry> {
        &self.heads[bucket(nr, ns, self.shift)]
    }

    /// The table entries move to, if a resize runs.
    fn future<'a>(&self, _rcu: &'a rcu::Guard) -> Option<&'a Buckets> {
        // SAFETY: a future table becomes the current one and is freed no
        // earlier than a grace period after it stops being current, so it
        // outlives the read-side critical section `_rcu` holds open.
        unsafe { self.future.load(Ordering::Acquire).as_ref() }
    }

    /// Bytes of the heads.
    fn bytes(&self) -> u64 {
        (size_of::<AtomicPtr<HashEntry>>() << self.shift) as u64
    }
}

/// The table lookups start from, valid for the read-side critical section
/// `_rcu` holds open.
fn current(_rcu: &rcu::Guard) -> &Buckets {
    // SAFETY: `Table` publishes a table before the device that leads to
    // every caller exists and frees the last one after it is gone; a resize
    // frees a replaced table only a grace period after replacing it.
    unsafe { &*CURRENT.load(Ordering::Acquire) }
}

/// The table changes go to: the future one while a resize runs.
fn newest(_pidmap_lock: &PidmapGuard) -> &Buckets {
    // SAFETY: the current table and its future are replaced and freed only
    // under `pidmap_lock` (the guard proves it held) or a grace period
    // after that, which cannot end while this CPU holds a spinlock.
    let current = unsafe { &*CURRENT.load(Ordering::Relaxed) };
    // SAFETY: as above.
    #[cfg(not(all(loom, feature = "broken-insert-current")))]
    let future = unsafe { current.future.load(Ordering::Relaxed).as_ref() };
    #[cfg(all(loom, feature = "broken-insert-current"))]
    let future = core::hint::black_box(None);
    future.unwrap_or(current)
}

/// The pid hash of the loaded module: its table, and its resizes.
///
/// # Invariants
///
/// While a `Table` exists, [`CURRENT`] points to a table allocated by
/// [`Buckets::new`] and leaked, and [`RESIZER`] is initialised.
pub(crate) struct Table(());

impl Table {
    /// `2^shift` empty buckets (`shift` clamped to
    /// [`MIN_SHIFT`]..=[`PARAM_MAX_SHIFT`]); with `resizable`, the table
    /// then follows the number of entries.
    ///
    /// # Safety
    ///
    /// Called once, from the module initializer, before any other use of
    /// this file; the table lives until after the last use.
    pub(crate) unsafe fn new(shift: u32, resizable: bool) -> Result<Self> {
        let buckets = Buckets::new(shift.clamp(MIN_SHIFT, PARAM_MAX_SHIFT))?;
        // SAFETY: once, before any use (the caller's guarantee).
        unsafe {
            hash_env::init();
            RESIZER.init(c"shadowpid_pidhash_resize", static_lock_class!());
        }
        RESIZABLE.store(resizable, Ordering::Relaxed);
        // INVARIANT: a table is published, and the resizer is set up.
        CURRENT.store(KBox::into_raw(buckets), Ordering::Release);
        Ok(Self(()))
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // SAFETY: initialised (type invariant); the module is going, so
        // nothing hashes or unhashes, hence nothing queues the resizer.
        unsafe { RESIZER.cancel_sync() };
        let addr = CURRENT.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: the table `new` or the last resize leaked (type
        // invariant), with no future: no resize runs any more, and one
        // that ran made its future current. Nothing looks up any more.
        drop(unsafe { KBox::from_raw(addr) });
    }
}

/// Buckets of the current table.
pub(crate) fn buckets() -> u32 {
    1 << current(&rcu::read_lock()).shift
}

/// Bytes of the buckets in use: the current table's, and its future's
/// while a resize runs.
pub(crate) fn table_bytes() -> u64 {
    let rcu = rcu::read_lock();
    let t = current(&rcu);
    t.bytes() + t.future(&rcu).map_or(0, Buckets::bytes)
}

/// `GOLDEN_RATIO_64` of `<linux/hash.h>`.
const GOLDEN_RATIO_64: u64 = 0x61c8_8646_80b5_83eb;

/// `pid_hashfn(nr, ns)`: `hash_long(nr + ns, shift)`, the bucket of
/// `(nr, ns)` in a table of `2^shift`.
pub(crate) fn bucket(nr: i32, ns: &PidNamespace, shift: u32) -> usize {
    let key = (nr as u64).wrapping_add(hash_env::ns_key(ns));
    (key.wrapping_mul(GOLDEN_RATIO_64) >> (64 - shift)) as usize
}

/// `hlist_add_head_rcu()` into `head`'s chain.
///
/// # Safety
///
/// `entry` is valid, not in any chain (or being moved: see [`move_chain`]),
/// and `head` belongs to a live table.
unsafe fn link(entry: &HashEntry, head: &AtomicPtr<HashEntry>, _pidmap_lock: &PidmapGuard) {
    let first = head.load(Ordering::Relaxed);
    // Release: while a resize moves it, the entry is visible in its old
    // chain, and a reader that follows this link must see `first` filled in.
    #[cfg(not(all(loom, feature = "broken-relaxed-next")))]
    entry.next.store(first, Ordering::Release);
    #[cfg(all(loom, feature = "broken-relaxed-next"))]
    entry.next.store(first, Ordering::Relaxed);
    entry
        .pprev
        .store(ptr::from_ref(head).cast_mut(), Ordering::Relaxed);
    #[cfg(not(all(loom, feature = "broken-stale-pprev")))]
    if !is_end(first) {
        // SAFETY: an entry in a chain is valid ([`insert`]'s contract), and
        // links change only under `pidmap_lock`, which the guard proves held.
        unsafe { (*first).pprev.store(next_of(entry), Ordering::Relaxed) };
    }
    // Publish: a reader that sees the entry sees it filled in.
    head.store(ptr::from_ref(entry).cast_mut(), Ordering::Release);
}

/// `hlist_add_head_rcu()`: links `entry` at the head of its chain.
///
/// # Safety
///
/// `entry` is not hashed, and stays at its address and valid until a grace
/// period after [`remove`] unlinks it.
pub(crate) unsafe fn insert(entry: &HashEntry, pidmap_lock: &PidmapGuard) {
    let t = newest(pidmap_lock);
    // SAFETY: not hashed (the caller's guarantee), into the newest table.
    unsafe { link(entry, t.head(entry.nr, entry.ns()), pidmap_lock) };
    if RESIZABLE.load(Ordering::Relaxed) {
        counted(1, t);
    }
}

/// What a removal touches beyond the entry it removes, for whoever wants to
/// count it (the KUnit test of O(1) removal). [`remove`] passes `()`, whose
/// method is empty: the production path carries no bookkeeping.
pub(crate) trait LinkCounter {
    /// One link of a neighbour (the head or the previous entry's `next`, the
    /// next entry's `pprev`) read or written.
    #[inline(always)]
    fn link(&mut self) {}
}

impl LinkCounter for () {}

/// `hlist_del_rcu()`: unlinks `entry` in O(1); a reader standing on it
/// still walks on through its `next`, which is left as it was.
///
/// # Safety
///
/// `entry` was hashed by [`insert`] and is not unlinked yet.
#[inline]
pub(crate) unsafe fn remove(entry: &HashEntry, pidmap_lock: &PidmapGuard) {
    // SAFETY: the caller's guarantee.
    unsafe { remove_counted(entry, pidmap_lock, &mut ()) }
}

/// [`remove`], telling `count` of every neighbour's link it touches.
///
/// # Safety
///
/// As [`remove`].
#[inline(always)]
pub(crate) unsafe fn remove_counted<C: LinkCounter>(
    entry: &HashEntry,
    pidmap_lock: &PidmapGuard,
    count: &mut C,
) {
    let next = entry.next.load(Ordering::Relaxed);
    let pprev = entry.pprev.load(Ordering::Relaxed);
    count.link();
    // SAFETY: a hashed entry's `pprev` points to a head of a live table or
    // to the `next` of a hashed entry, valid under the lock (the guard
    // proves it held, and `insert`'s contract keeps hashed entries valid).
    unsafe { (*pprev).store(next, Ordering::Release) };
    if !is_end(next) {
        count.link();
        // SAFETY: as above, `next` is a hashed entry.
        unsafe { (*next).pprev.store(pprev, Ordering::Relaxed) };
    }
    entry.pprev.store(ptr::null_mut(), Ordering::Relaxed);
    if RESIZABLE.load(Ordering::Relaxed) {
        counted(-1, newest(pidmap_lock));
    }
}

/// Walks the chain from `head` under the RCU read lock: its entries, and at
/// the end whether the walk ended on the chain's own marker (false when a
/// moved entry carried it into another chain).
fn chain<'g>(
    head: &'g AtomicPtr<HashEntry>,
    _rcu: &'g rcu::Guard,
) -> impl Iterator<Item = Result<&'g HashEntry, bool>> {
    let mut cur = head.load(Ordering::Acquire);
    let mut done = false;
    core::iter::from_fn(move || {
        if done {
            return None;
        }
        if is_end(cur) {
            done = true;
            return Some(Err(cur == end_of(head)));
        }
        // SAFETY: an entry reached from a head under the RCU read lock is
        // reused no earlier than a grace period after it was unlinked, and
        // the guard keeps this read-side critical section open for 'g.
        let entry = unsafe { &*cur };
        cur = entry.next.load(Ordering::Acquire);
        Some(Ok(entry))
    })
}

/// `find_pid_ns()`'s lookup: the entry of `(nr, ns)`, if hashed.
pub(crate) fn find<'g>(nr: i32, ns: &PidNamespace, rcu: &'g rcu::Guard) -> Option<&'g HashEntry> {
    let mut t = current(rcu);
    loop {
        let head = t.head(nr, ns);
        'walk: loop {
            for link in chain(head, rcu) {
                match link {
                    Ok(e) if e.nr == nr && ptr::eq(e.ns(), ns) => return Some(e),
                    Ok(_) => {}
                    Err(true) => break 'walk,
                    // Carried into another chain: walk this one again,
                    // once the move has let go of the entry (it holds
                    // `pidmap_lock`, so at once, in the kernel).
                    Err(false) => {
                        hash_env::restart_hint();
                        continue 'walk;
                    }
                }
            }
        }
        #[cfg(not(all(loom, feature = "broken-no-future")))]
        let future = t.future(rcu);
        #[cfg(all(loom, feature = "broken-no-future"))]
        let future = None;
        t = future?;
    }
}

/// Entries hashed now, and the length of the longest chain: a walk of the
/// whole table (and of its future during a resize), for statistics (the
/// hot path keeps no count). Under RCU, not the lock: while a resize moves
/// entries, one may be counted twice or not at all.
pub(crate) fn census() -> (u32, u32) {
    let rcu = rcu::read_lock();
    let mut tables = Some(current(&rcu));
    let (mut total, mut longest) = (0, 0);
    while let Some(t) = tables {
        for head in t.heads.iter() {
            let n = chain(head, &rcu).filter(Result::is_ok).count() as u32;
            total += n;
            longest = longest.max(n);
        }
        tables = t.future(&rcu);
    }
    (total, longest)
}

/// KUnit: the table size rules, O(1) removal, and resizes that lose no
/// entry.
#[cfg(not(shadowpid_host))]
#[kernel::prelude::kunit_tests(shadowpid_hash)]
mod tests {
    use super::*;

    /// 2.6.24: 16 buckets for tiny machines, 4096 from 1 GiB up.
    #[test]
    fn pidhash_shift_from_memory() {
        assert_eq!(shift_for_memory(1 << 20), MIN_SHIFT);
        assert_eq!(shift_for_memory(256 << 20), 11);
        assert_eq!(shift_for_memory(1 << 30), MAX_SHIFT);
        assert_eq!(shift_for_memory(24 << 30), MAX_SHIFT);
    }

    /// The resizable table keeps its size while the load is within
    /// [3/10, 3/4], and otherwise goes to about 1.5 buckets per entry.
    #[test]
    fn resize_rule() {
        assert_eq!(target_shift(12, 4), 4); // 12/16 = 3/4
        assert_eq!(target_shift(13, 4), 5); // 13 * 1.5 = 19 -> 32
        assert_eq!(target_shift(0, 4), MIN_SHIFT);
        assert_eq!(target_shift(1229, 12), 12); // 1229/4096 > 3/10
        assert_eq!(target_shift(1228, 12), 11); // 1842 -> 2048
        assert_eq!(target_shift(1_000_000, 12), 21); // 1.5M -> 2M
        assert_eq!(target_shift(u32::MAX, 12), RESIZE_MAX_SHIFT);
    }

    /// A rehash moves every entry, growing and shrinking: each is found
    /// again, itself, and counted once.
    ///
    /// With `pidhash_resize=1` the resizer runs beside the test (the
    /// inserts ask for it): it may have taken the table to a size before the
    /// test does, so only the test's own findings are checked then, not the
    /// sizes or the count.
    #[test]
    fn rehash_moves_every_entry() {
        const N: usize = 5000;
        let ns = PidNamespace::create(None).unwrap();
        let mut entries = KVVec::with_capacity(N, GFP_KERNEL).unwrap();
        for nr in 1..=N as i32 {
            // SAFETY: `ns` outlives the entries (dropped after them).
            let e = unsafe { HashEntry::new(nr, &ns) };
            entries.push(e, GFP_KERNEL).unwrap();
        }
        let resizable = RESIZABLE.load(Ordering::Relaxed);
        let before = current(&rcu::read_lock()).shift;
        let (base, _) = census();
        {
            let g = pidmap_env::lock();
            for e in entries.iter() {
                // SAFETY: not hashed; the vector never moves its entries,
                // which are unhashed below a grace period before it drops
                // them (a lookup of another key may walk over them).
                unsafe { insert(e, &g) };
            }
        }
        // Every check is recorded, and asserted once nothing is hashed: a
        // failed assert ends the test's thread, and must not leave the
        // entries in the hash or the namespace alive.
        let (mut rehashed, mut sized, mut found, mut counted) = (true, true, true, true);
        for shift in [MIN_SHIFT, 14, before] {
            match rehash(|_| shift) {
                Ok(moved) => rehashed &= moved || shift == before || resizable,
                Err(_) => rehashed = false,
            }
            sized &= resizable || buckets() == 1 << shift;
            let rcu = rcu::read_lock();
            found &= entries
                .iter()
                .all(|e| find(e.nr, &ns, &rcu).is_some_and(|f| ptr::eq(f, e)));
            drop(rcu);
            // A resize in flight may count an entry twice or not at all.
            counted &= resizable || census().0 == base + N as u32;
        }
        {
            let g = pidmap_env::lock();
            for e in entries.iter() {
                // SAFETY: hashed above, removed once.
                unsafe { remove(e, &g) };
            }
        }
        // A lookup of another key may still stand on one of them.
        rcu::synchronize_rcu();
        drop(entries);
        drop(ns);
        assert!(rehashed);
        assert!(sized);
        assert!(found);
        assert!(counted);
    }

    /// The key is the pair: an entry of another namespace with the same
    /// number, in the very chain looked up, is not the one found. The
    /// table is made its smallest (`MIN_SHIFT`), and one namespace more
    /// than it has buckets is made, so two of them share the chain of
    /// number 1 (a multiplicative hash of `nr + key` puts the same number
    /// of two namespaces in one chain of a large table only for rare pairs).
    #[test]
    fn the_key_is_number_and_namespace() {
        let before = current(&rcu::read_lock()).shift;
        let resized = rehash(|_| MIN_SHIFT).is_ok();
        let mut all = KVVec::with_capacity((1 << MIN_SHIFT) + 1, GFP_KERNEL).unwrap();
        for _ in 0..=1 << MIN_SHIFT {
            all.push(PidNamespace::create(None).unwrap(), GFP_KERNEL)
                .unwrap();
        }
        let shift = current(&rcu::read_lock()).shift;
        let mut pair = None;
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                if pair.is_none() && bucket(1, &all[i], shift) == bucket(1, &all[j], shift) {
                    pair = Some((i, j));
                }
            }
        }
        let (in_a, in_b) = match pair {
            Some((i, j)) => {
                // SAFETY: the namespace outlives the entry (`all` is
                // dropped after it).
                let e = unsafe { HashEntry::new(1, &all[i]) };
                {
                    let g = pidmap_env::lock();
                    // SAFETY: not hashed; unhashed below a grace period
                    // before it is dropped.
                    unsafe { insert(&e, &g) };
                }
                let rcu = rcu::read_lock();
                let in_a = find(1, &all[i], &rcu).is_some_and(|f| ptr::eq(f, &e));
                let in_b = find(1, &all[j], &rcu).is_some();
                drop(rcu);
                {
                    let g = pidmap_env::lock();
                    // SAFETY: hashed above, removed once.
                    unsafe { remove(&e, &g) };
                }
                // A lookup of another key may still stand on it until `e`
                // goes.
                rcu::synchronize_rcu();
                (in_a, in_b)
            }
            None => (false, true),
        };
        let restored = rehash(|_| before).is_ok();
        // With pidhash_resize=1 the resizer may have sized the table
        // otherwise meanwhile; the answers are right either way.
        assert!(resized && restored);
        assert!(in_a && !in_b);
    }

    /// Removing an entry touches at most two other links, wherever it is in
    /// its chain: the one that points at it (the head or the previous
    /// entry's `next`) and its successor's back-link. Counted, not timed: a
    /// singly linked chain could unlink its tail only after walking the
    /// `N - 1` entries before it, and each step of such a walk is a link
    /// read, which [`LinkCounter`] counts.
    ///
    /// One chain of `N` entries (one key, the newest at the head), emptied
    /// from the tail (the oldest entry first, each removal unlinking the
    /// chain's last entry), then filled again and emptied from the head.
    /// With `pidhash_resize=1` the resizer may move the chain between two
    /// removals; each removal still touches what it points at, no more.
    #[test]
    fn removal_does_not_walk_the_chain() {
        const N: usize = 1000;
        /// Links touched, per removal.
        struct Links(u32);
        impl LinkCounter for Links {
            fn link(&mut self) {
                self.0 += 1;
            }
        }
        let ns = PidNamespace::create(None).unwrap();
        let mut entries = KVVec::with_capacity(N, GFP_KERNEL).unwrap();
        for _ in 0..N {
            // SAFETY: `ns` outlives the entries (dropped after them).
            let e = unsafe { HashEntry::new(7, &ns) };
            entries.push(e, GFP_KERNEL).unwrap();
        }
        // The most links one removal touched, from the tail then the head.
        let mut most = [0u32; 2];
        let mut emptied = true;
        for (side, most) in most.iter_mut().enumerate() {
            let g = pidmap_env::lock();
            for e in entries.iter() {
                // SAFETY: not hashed (never, or removed in the previous
                // pass, a grace period ago); the vector never moves its
                // entries, which are unhashed a grace period before it
                // drops them (a lookup of another key may walk over them).
                unsafe { insert(e, &g) };
            }
            // The first inserted is the tail.
            for k in 0..N {
                let e = &entries[if side == 0 { k } else { N - 1 - k }];
                let mut links = Links(0);
                // SAFETY: hashed above, removed once.
                unsafe { remove_counted(e, &g, &mut links) };
                *most = (*most).max(links.0);
            }
            drop(g);
            let rcu = rcu::read_lock();
            emptied &= find(7, &ns, &rcu).is_none();
            drop(rcu);
            // The next pass reuses the entries: no lookup may still stand
            // on them when they are linked again, nor when they are freed.
            rcu::synchronize_rcu();
        }
        // Everything is unhashed: a failed assert ends the test's thread,
        // and must not leave entries in the hash or the namespace alive.
        drop(entries);
        drop(ns);
        kernel::pr_info!(
            "hash removal: at most {} links touched from the tail, {} from the head\n",
            most[0],
            most[1]
        );
        assert!(emptied);
        assert!(most[0] <= 2);
        assert!(most[1] <= 2);
    }
}
