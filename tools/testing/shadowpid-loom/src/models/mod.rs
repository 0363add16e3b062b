// SPDX-License-Identifier: GPL-2.0

//! The `loom` models of the pidmap's lockless paths, here, and of the pid
//! hash's resize, in [`hash`].
//!
//! Each model sets a map up from one thread, starts two or three threads on
//! it, joins them and checks the map. `loom` runs it once per interleaving
//! and per value each load may return under the C11 memory model (as loom
//! implements it: a relaxed load may return an older store, a
//! read-modify-write reads a newest one): all of them for models of two
//! threads, those within `LOOM_MAX_PREEMPTIONS` for models of three.
//! Assertions inside a model hold in every execution; after `loom` is done,
//! a model also checks that every outcome it allows was reached, so that
//! "exactly these cases" is proven in both directions.
//!
//! The cycle of the wrap models is `[300, pid_max)` with pid_max just over
//! `RESERVED_PIDS`: a cursor past pid_max starts it at 300, a cursor inside
//! scans to pid_max, then from 300 back up. Numbers 256..319 share word 0
//! of page 2, 320..383 its word 1; page 3 (384..511) starts missing.
//!
//! # When the lockless scan says "full"
//!
//! Bits are set only by allocations and cleared only by frees, and every
//! set is a read-modify-write, so a number is never handed out twice. A
//! scan returns `None` only after it saw every number of its cycle taken: a
//! word read with the number's bit set, or the page's `nr_free` read as 0.
//! Without a concurrent free a bit, once set, stays set, so `None` then means
//! the cycle is full when the scan returns. With a free that does not happen
//! before the scan (one "in flight"), the scan may say full while the freed
//! number is free, in exactly these cases, as in 2.6.24:
//!
//! 1. the scan's read of the freed number's word came before the free's
//!    clear in that word's modification order: the scan read the word before
//!    the free ran, or (the load being relaxed, and nothing ordering it after
//!    the clear) it returned the older value although the free had run;
//! 2. the scan read the page's `nr_free` as 0 although the free had cleared
//!    its bit: between the free's clear and its increment, or with the
//!    increment not yet visible to the relaxed load. The page is skipped
//!    unread.
//!
//! The number is not lost: it is clear in the page and counted in `nr_free`
//! once the free returns, and the next allocation finds it. A free that
//! happens before the scan starts (here: published by a release store that
//! the scan's thread acquires first) is always seen: coherence makes its
//! clear and its increment visible. [`full_while_a_free_is_in_flight`] and
//! [`full_page_skipped_while_a_free_is_in_flight`] reach both cases (the
//! older value of case 1 in the latter: there the freed number is in a word
//! the scan only reads, while in the former the scan's test-and-set in the
//! same word orders its read after any clear that came before) and no other
//! outcome.

use crate::pidmap::{Pidmap, ScanCounter, BITS_PER_PAGE, PIDMAP_ENTRIES, RESERVED_PIDS};
use crate::pidmap_env::{self, Error, MaySleep, PageAlloc, Result, ZeroedPage};
use loom::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread,
};
use std::{collections::BTreeSet, fmt::Debug};

mod hash;

/// The map of the models.
type Map = Pidmap<MaySleep>;

/// A pid_max just over `RESERVED_PIDS`: the cycle after the wrap is 300,
/// 301, 302, all in word 0 of page 2.
const PID_MAX: i32 = RESERVED_PIDS + 3;
/// A pid_max whose cycle `[300, 322)` crosses from word 0 to word 1.
const PID_MAX_WIDE: i32 = 322;
/// First number of page 2, which holds every cycle of the models.
const PAGE2: i32 = 2 * BITS_PER_PAGE;
/// First number of page 3, which starts missing.
const PAGE3: i32 = 3 * BITS_PER_PAGE;

// The geometry the models rely on.
const _: () = {
    assert!(BITS_PER_PAGE == 128 && PIDMAP_ENTRIES == 4);
    assert!(PAGE2 <= RESERVED_PIDS && PID_MAX_WIDE <= PAGE3);
    assert!((RESERVED_PIDS - PAGE2) / 64 == 0 && (PID_MAX - 1 - PAGE2) / 64 == 0);
    assert!((PID_MAX_WIDE - 1 - PAGE2) / 64 == 1);
};

/// Runs `model`, which starts `threads` threads, in every execution `loom`
/// explores, then says how many there were and how long they took (seen
/// with `--nocapture` or `--show-output`).
///
/// Models of two threads explore every interleaving (no preemption bound:
/// `loom`'s DPOR alone, under a second each). Models of three threads are
/// bounded by `LOOM_MAX_PREEMPTIONS` (`scripts/loom` sets it): unbounded,
/// `nr_free_matches_the_bits` had not finished after five minutes. Limits of
/// time or executions from the environment are ignored, so a model that
/// passes has explored all it was asked to.
fn check(threads: usize, model: impl Fn() + Send + Sync + 'static) {
    explore(threads, (threads > 2).then_some(0), model);
}

/// As [`check`], bounded by `LOOM_MAX_PREEMPTIONS` less `fewer`, but at
/// least one, whatever the number of threads: for models whose every
/// interleaving is too many for the time `scripts/loom` has (the hash's: a
/// resize is many more steps than a pidmap operation).
fn check_bounded(threads: usize, fewer: usize, model: impl Fn() + Send + Sync + 'static) {
    explore(threads, Some(fewer), model);
}

/// Runs `model`, which starts `threads` threads, in every execution `loom`
/// explores: with no preemption bound if `fewer` is `None`, else with
/// `LOOM_MAX_PREEMPTIONS` less `fewer`, at least 1; says how many executions
/// there were and how long they took.
fn explore(threads: usize, fewer: Option<usize>, model: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = match fewer {
        None => None,
        Some(fewer) => builder
            .preemption_bound
            .map(|n| n.saturating_sub(fewer).max(1)),
    };
    builder.max_duration = None;
    builder.max_permutations = None;
    // Setting a model up (a whole page taken, one access at a time) is
    // single-threaded but still counts towards loom's branch limit.
    builder.max_branches = 20_000;
    let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = executions.clone();
    let start = std::time::Instant::now();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        model();
    });
    println!(
        "loom-model {}: {} threads, {} executions, {:.1} s, {}",
        std::thread::current().name().unwrap_or("?"),
        threads,
        executions.load(std::sync::atomic::Ordering::Relaxed),
        start.elapsed().as_secs_f64(),
        builder
            .preemption_bound
            .map_or("exhaustive".to_string(), |n| format!(
                "LOOM_MAX_PREEMPTIONS={n}"
            )),
    );
}

/// A map with the numbers of `taken` taken, set up before any thread starts.
fn map_with(taken: impl IntoIterator<Item = i32>) -> Arc<Map> {
    let map = Map::new();
    for nr in taken {
        assert!(map.alloc_exact(nr).unwrap(), "model: setup took {nr} twice");
    }
    Arc::new(map)
}

/// Runs `f` on `map` in a new thread.
fn spawn<P: PageAlloc + Send + Sync + 'static, T: Send + 'static>(
    map: &Arc<Pidmap<P>>,
    f: impl FnOnce(&Pidmap<P>) -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    let map = Arc::clone(map);
    thread::spawn(move || f(&map))
}

/// Asserts that `map` holds exactly the numbers of `held`, which are
/// distinct, and that every entry's `nr_free` counts its page's zero bits.
fn assert_holds<P: PageAlloc>(map: &Pidmap<P>, held: &[i32]) {
    let distinct: BTreeSet<_> = held.iter().collect();
    assert_eq!(
        distinct.len(),
        held.len(),
        "model: a number was handed out twice: {held:?}"
    );
    for &nr in held {
        assert!(map.test(nr), "model: {nr} is held but clear in the map");
    }
    let (set, consistent) = map.count_checked();
    assert!(consistent, "model: nr_free disagrees with the page's bits");
    assert_eq!(
        set as usize,
        held.len(),
        "model: the map has bits set that nobody holds (held: {held:?})"
    );
}

/// The outcomes a model reached, over all its executions.
struct Outcomes<T>(std::sync::Arc<std::sync::Mutex<BTreeSet<T>>>);

impl<T> Clone for Outcomes<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Ord + Debug> Outcomes<T> {
    /// None yet.
    fn new() -> Self {
        Self(Default::default())
    }

    /// Notes that an execution ended in `outcome`.
    fn record(&self, outcome: T) {
        self.0.lock().unwrap().insert(outcome);
    }

    /// Asserts that the executions reached exactly `expected`.
    fn assert_exactly(&self, expected: impl IntoIterator<Item = T>) {
        let expected: BTreeSet<T> = expected.into_iter().collect();
        assert_eq!(
            *self.0.lock().unwrap(),
            expected,
            "model: reached outcomes (left) differ from the allowed ones (right)"
        );
    }
}

loom::lazy_static! {
    /// Whether the first page allocation of this execution has failed yet: a
    /// `loom` atomic, since which thread allocates first decides the outcome.
    static ref FAILED: AtomicBool = AtomicBool::new(false);
}

/// A page source whose first allocation in each execution fails.
struct FirstFails;

impl PageAlloc for FirstFails {
    type Serialised = pidmap_env::PidmapGuard;

    fn serialise() -> Self::Serialised {
        pidmap_env::lock()
    }

    fn zeroed_page() -> Result<ZeroedPage> {
        if FAILED.swap(true, Ordering::Relaxed) {
            ZeroedPage::new()
        } else {
            Err(Error::NoMem)
        }
    }
}

/// Counts what an allocation scan visits.
#[derive(Default)]
struct Scan {
    /// Words read by the scan; 0 if every page was skipped on `nr_free`.
    words: u32,
}

impl ScanCounter for Scan {
    fn words(&mut self, n: u32) {
        self.words += n;
    }
}

/// Two allocations race for the last two free numbers of a cycle that
/// crosses a word boundary, one of them from past pid_max (the wrap): both
/// get one, never the same.
#[test]
fn two_allocs_take_the_last_two() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(2, move || {
        let taken: Vec<i32> = (RESERVED_PIDS..320).collect();
        let map = map_with(taken.iter().copied());
        let a = spawn(&map, |m| m.alloc_cyclic(310, PID_MAX_WIDE).unwrap());
        let b = spawn(&map, |m| {
            m.alloc_cyclic(PID_MAX_WIDE, PID_MAX_WIDE).unwrap()
        });
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        let (Some(a), Some(b)) = (a, b) else {
            panic!("model: full with two numbers for two allocations: {a:?} {b:?}");
        };
        assert!(
            (320..PID_MAX_WIDE).contains(&a) && (320..PID_MAX_WIDE).contains(&b),
            "model: only 320 and 321 were free, got {a} {b}"
        );
        assert_holds(&map, &[taken, vec![a, b]].concat());
        reached.record(a);
    });
    outcomes.assert_exactly([320, 321]);
}

/// Two allocations race for the last free number: one gets it, the other
/// finds the cycle full (and it is).
#[test]
fn two_allocs_one_number() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(2, move || {
        let map = map_with([300, 301]);
        let a = spawn(&map, |m| m.alloc_cyclic(301, PID_MAX).unwrap());
        let b = spawn(&map, |m| m.alloc_cyclic(PID_MAX, PID_MAX).unwrap());
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        let winner = match (a, b) {
            (Some(302), None) => 'a',
            (None, Some(302)) => 'b',
            _ => panic!("model: one number, two allocations: {a:?} {b:?}"),
        };
        assert_holds(&map, &[300, 301, 302]);
        reached.record(winner);
    });
    outcomes.assert_exactly(['a', 'b']);
}

/// Three allocations race for the last two free numbers: two get one each,
/// the third finds the cycle full; any of the three can be that one.
#[test]
fn three_allocs_two_numbers() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(3, move || {
        let map = map_with([300]);
        let a = spawn(&map, |m| m.alloc_cyclic(301, PID_MAX).unwrap());
        let b = spawn(&map, |m| m.alloc_cyclic(PID_MAX, PID_MAX).unwrap());
        let c = spawn(&map, |m| m.alloc_cyclic(302, PID_MAX).unwrap());
        let got = [a.join().unwrap(), b.join().unwrap(), c.join().unwrap()];
        let numbers: Vec<i32> = got.iter().flatten().copied().collect();
        assert_eq!(
            numbers.len(),
            2,
            "model: two numbers, three allocations: {got:?}"
        );
        assert!(
            numbers.iter().all(|nr| (301..PID_MAX).contains(nr)),
            "model: only 301 and 302 were free, got {got:?}"
        );
        assert_holds(&map, &[vec![300], numbers].concat());
        reached.record(got.iter().position(Option::is_none).unwrap());
    });
    outcomes.assert_exactly([0, 1, 2]);
}

/// A full cycle; one thread frees 301 then raises a flag, another reads the
/// flag then allocates. The allocation may find the cycle full (case 1 of
/// the module documentation) only if it did not see the flag; the number is
/// then free, and found by the next allocation.
#[test]
fn full_while_a_free_is_in_flight() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(2, move || {
        let map = map_with([300, 301, 302]);
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let f = spawn(&map, move |m| {
            m.free(301);
            flag.store(true, Ordering::Release);
        });
        let flag = done.clone();
        let a = spawn(&map, move |m| {
            let seen = flag.load(Ordering::Acquire);
            (seen, m.alloc_cyclic(302, PID_MAX).unwrap())
        });
        f.join().unwrap();
        let (seen, got) = a.join().unwrap();
        match got {
            Some(301) => assert_holds(&map, &[300, 301, 302]),
            None => {
                assert!(!seen, "model: full after a free that happened before");
                assert_holds(&map, &[300, 302]);
                let next = map.alloc_cyclic(302, PID_MAX).unwrap();
                assert_eq!(next, Some(301), "model: the freed number was lost");
            }
            _ => panic!("model: only 301 was free, got {got:?}"),
        }
        reached.record((seen, got));
    });
    outcomes.assert_exactly([(false, None), (false, Some(301)), (true, Some(301))]);
}

/// As [`full_while_a_free_is_in_flight`], on a page that is full, so that
/// its `nr_free` is 0 until the free's increment, and with the freed number
/// (321) in word 1 while the scan's fast path test-and-sets in word 0: the
/// scan may skip the page unread (case 2), or read `nr_free` after the
/// increment and still word 1 from before the clear (case 1, a relaxed load
/// returning the older value); it sees the number whenever it saw the flag.
#[test]
fn full_page_skipped_while_a_free_is_in_flight() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(2, move || {
        let map = map_with(PAGE2..PAGE3);
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let f = spawn(&map, move |m| {
            m.free(321);
            flag.store(true, Ordering::Release);
        });
        let flag = done.clone();
        let a = spawn(&map, move |m| {
            let seen = flag.load(Ordering::Acquire);
            let mut scan = Scan::default();
            let got = m
                .alloc_cyclic_counted(PID_MAX_WIDE, PID_MAX_WIDE, &mut scan)
                .unwrap();
            (seen, got, scan.words > 0)
        });
        f.join().unwrap();
        let (seen, got, read) = a.join().unwrap();
        let mut held: Vec<i32> = (PAGE2..PAGE3).collect();
        match got {
            Some(321) => {
                assert!(read, "model: found 321 without reading a word");
                assert_holds(&map, &held);
            }
            None => {
                assert!(!seen, "model: full after a free that happened before");
                held.retain(|&nr| nr != 321);
                assert_holds(&map, &held);
                let next = map.alloc_cyclic(PID_MAX_WIDE, PID_MAX_WIDE).unwrap();
                assert_eq!(next, Some(321), "model: the freed number was lost");
            }
            _ => panic!("model: only 321 was free, got {got:?}"),
        }
        reached.record((seen, got, read));
    });
    outcomes.assert_exactly([
        // Case 2: skipped on nr_free.
        (false, None, false),
        // Case 1: word 1 read from before the clear.
        (false, None, true),
        (false, Some(321), true),
        (true, Some(321), true),
    ]);
}

/// An allocation from the wrap races a free in the same word: it takes the
/// freed number or the free one; the freed number is neither lost (set again
/// with nobody holding it) nor doubled (counted twice in `nr_free`).
#[test]
fn alloc_races_a_free_in_the_same_word() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(2, move || {
        let map = map_with([300, 301]);
        let f = spawn(&map, |m| m.free(300));
        let a = spawn(&map, |m| m.alloc_cyclic(PID_MAX, PID_MAX).unwrap());
        f.join().unwrap();
        let got = a.join().unwrap();
        let Some(nr @ (300 | 302)) = got else {
            panic!("model: 300 or 302 was free, got {got:?}");
        };
        assert_holds(&map, &[301, nr]);
        reached.record(nr);
    });
    outcomes.assert_exactly([300, 302]);
}

/// Two allocations race a free in the same word: 302 is always handed out
/// once, the freed 300 at most once, and a scan that ends full does so only
/// with the free in flight.
#[test]
fn two_allocs_race_a_free_in_the_same_word() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(3, move || {
        let map = map_with([300, 301]);
        let f = spawn(&map, |m| m.free(300));
        let a = spawn(&map, |m| m.alloc_cyclic(301, PID_MAX).unwrap());
        let b = spawn(&map, |m| m.alloc_cyclic(PID_MAX, PID_MAX).unwrap());
        f.join().unwrap();
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        let numbers: Vec<i32> = [a, b].into_iter().flatten().collect();
        assert!(
            numbers.contains(&302) && numbers.iter().all(|&nr| nr == 300 || nr == 302),
            "model: 302 and the freed 300 were free, got {a:?} {b:?}"
        );
        assert_holds(&map, &[vec![301], numbers].concat());
        reached.record((a, b));
    });
    outcomes.assert_exactly([
        (Some(300), Some(302)),
        (Some(302), Some(300)),
        (Some(302), None),
        (None, Some(302)),
    ]);
}

/// Two first users of a missing page, both through the scan: each allocates
/// a page, exactly one is installed, the loser's is freed, and both set
/// their bits in the installed one.
#[test]
fn first_users_of_a_missing_page() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(2, move || {
        let map = map_with([]);
        let a = spawn(&map, |m| m.alloc_cyclic(PAGE3, PAGE3 + 2).unwrap());
        let b = spawn(&map, |m| m.alloc_cyclic(PAGE3 + 1, PAGE3 + 2).unwrap());
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        let (Some(a), Some(b)) = (a, b) else {
            panic!("model: two free numbers, two allocations: {a:?} {b:?}");
        };
        assert!(
            a >= PAGE3 && b >= PAGE3,
            "model: page 3 had free numbers, got {a} {b}"
        );
        assert_holds(&map, &[a, b]);
        assert_eq!(map.pages(), 1, "model: more than one page installed");
        let allocated = pidmap_env::pages_allocated();
        assert_eq!(
            pidmap_env::pages_freed(),
            allocated - 1,
            "model: a losing page was kept, or the installed one freed"
        );
        drop(map);
        assert_eq!(pidmap_env::pages_freed(), allocated, "model: a page leaked");
        reached.record(allocated);
    });
    outcomes.assert_exactly([1, 2]);
}

/// Three first users of a missing page: one page installed, up to two
/// freed, every bit in the installed one.
#[test]
fn three_first_users_of_a_missing_page() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(3, move || {
        let map = map_with([]);
        let users: Vec<_> = (0..3)
            .map(|k| spawn(&map, move |m| m.alloc_exact(PAGE3 + k).unwrap()))
            .collect();
        for user in users {
            assert!(user.join().unwrap(), "model: a free number was taken");
        }
        assert_holds(&map, &[PAGE3, PAGE3 + 1, PAGE3 + 2]);
        assert_eq!(map.pages(), 1, "model: more than one page installed");
        let allocated = pidmap_env::pages_allocated();
        assert_eq!(
            pidmap_env::pages_freed(),
            allocated - 1,
            "model: a losing page was kept, or the installed one freed"
        );
        drop(map);
        assert_eq!(pidmap_env::pages_freed(), allocated, "model: a page leaked");
        reached.record(allocated);
    });
    outcomes.assert_exactly([1, 2, 3]);
}

/// Allocations and frees of one word from three threads: whatever the
/// interleaving, once all have finished `nr_free` counts the page's zero
/// bits and the map holds exactly what the threads hold.
#[test]
fn nr_free_matches_the_bits() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(3, move || {
        let map = map_with([300]);
        // Takes 301 and gives it back, unless the scan took it first.
        let a = spawn(&map, |m| {
            if m.alloc_exact(301).unwrap() {
                m.free(301);
            }
        });
        // Gives back 300, held since the setup.
        let f = spawn(&map, |m| m.free(300));
        let c = spawn(&map, |m| m.alloc_cyclic(PID_MAX, PID_MAX).unwrap());
        a.join().unwrap();
        f.join().unwrap();
        let got = c.join().unwrap();
        let Some(nr) = got else {
            panic!("model: 301 and 302 stay free, got {got:?}");
        };
        assert_holds(&map, &[nr]);
        reached.record(nr);
    });
    outcomes.assert_exactly([300, 301, 302]);
}

/// The walkers of the walk models: every taken number above
/// `RESERVED_PIDS - 1`, one `next` at a time, as `/proc` is read.
fn walk(map: &Map) -> Vec<i32> {
    let mut walk = Vec::new();
    let mut last = RESERVED_PIDS - 1;
    while let Some(nr) = map.next(last) {
        assert!(nr > last, "model: the walk went back: {nr} after {last}");
        walk.push(nr);
        last = nr;
    }
    walk
}

/// Asserts that `walk` holds only numbers of `ever_set` and all of `always`.
fn assert_walk(walk: &[i32], ever_set: &[i32], always: &[i32]) {
    assert!(
        walk.iter().all(|nr| ever_set.contains(nr)),
        "model: the walk returned a number never set: {walk:?}"
    );
    assert!(
        always.iter().all(|nr| walk.contains(nr)),
        "model: the walk missed a number set throughout: {walk:?}"
    );
}

/// The walks allowed when each number of `maybe` may be seen or missed and
/// each of `always` is seen.
fn walks(maybe: &[i32], always: &[i32]) -> Vec<Vec<i32>> {
    (0..1 << maybe.len())
        .map(|mask: u32| {
            let mut walk: Vec<i32> = maybe
                .iter()
                .enumerate()
                .filter(|&(k, _)| mask & (1 << k) != 0)
                .map(|(_, &nr)| nr)
                .chain(always.iter().copied())
                .collect();
            walk.sort_unstable();
            walk
        })
        .collect()
}

/// The walk (`next`) races a free, then an allocation that installs a
/// missing page: it returns increasing numbers that were each set at some
/// point, and always the one that stays set throughout.
#[test]
fn walk_races_a_free_and_a_page_install() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(2, move || {
        let map = map_with([300, 320]);
        let a = spawn(&map, |m| {
            m.free(300);
            assert!(
                m.alloc_exact(PAGE3 + 6).unwrap(),
                "model: a free number was taken"
            );
        });
        let w = spawn(&map, walk);
        a.join().unwrap();
        let walk = w.join().unwrap();
        assert_walk(&walk, &[300, 320, PAGE3 + 6], &[320]);
        assert_holds(&map, &[320, PAGE3 + 6]);
        reached.record(walk);
    });
    outcomes.assert_exactly(walks(&[300, PAGE3 + 6], &[320]));
}

/// The walk (`next`) races a free, an allocation and the install of a
/// missing page: it returns increasing numbers that were each set at some
/// point, and always the one that stays set throughout.
#[test]
fn walk_races_alloc_and_free() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(3, move || {
        let map = map_with([300, 320]);
        let a = spawn(&map, |m| {
            m.free(300);
            assert!(
                m.alloc_exact(305).unwrap(),
                "model: a free number was taken"
            );
        });
        let b = spawn(&map, |m| {
            assert!(
                m.alloc_exact(PAGE3 + 6).unwrap(),
                "model: a free number was taken"
            );
            m.free(PAGE3 + 6);
        });
        let w = spawn(&map, walk);
        a.join().unwrap();
        b.join().unwrap();
        let walk = w.join().unwrap();
        assert_walk(&walk, &[300, 305, 320, PAGE3 + 6], &[320]);
        assert_holds(&map, &[305, 320]);
        reached.record(walk);
    });
    // Each of 300, 305 and the page-3 number may be seen or missed.
    outcomes.assert_exactly(walks(&[300, 305, PAGE3 + 6], &[320]));
}

/// Two first users of page 0, the reservation of number 0 and an allocation
/// from 1 (a cursor not past `RESERVED_PIDS`), and the first page allocation
/// fails: that user gets `ENOMEM` and leaves the map as it was, the other
/// allocates and installs the page.
#[test]
fn a_failed_page_allocation_changes_nothing() {
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check(2, move || {
        let map = Arc::new(Pidmap::<FirstFails>::new());
        let z = spawn(&map, |m| m.reserve_zero());
        let a = spawn(&map, |m| m.alloc_cyclic(0, PID_MAX));
        let (z, a) = (z.join().unwrap(), a.join().unwrap());
        let failed = match (z, a) {
            (Err(Error::NoMem), Ok(Some(1))) => {
                assert_holds(&map, &[1]);
                "reserve_zero"
            }
            (Ok(()), Err(Error::NoMem)) => {
                assert_holds(&map, &[0]);
                "alloc_cyclic"
            }
            _ => panic!("model: one page allocation fails: {z:?} {a:?}"),
        };
        assert_eq!(map.pages(), 1, "model: page 0 not installed once");
        assert_eq!(pidmap_env::pages_allocated(), 1, "model: pages allocated");
        drop(map);
        assert_eq!(pidmap_env::pages_freed(), 1, "model: a page leaked");
        reached.record(failed);
    });
    outcomes.assert_exactly(["alloc_cyclic", "reserve_zero"]);
}

/// Each deliberately broken variant of the crate (a cargo feature: one
/// point of the module's files, under `cfg(loom)`) and the models it must
/// fail, on the model's own assertion or on loom's report of a race.
/// scripts/loom reads this list (from [`must_fail_list`]) and runs each
/// variant on its models.
///
/// The pidmap's variants make a page word's read-modify-write a load then
/// a store (in the host seam): every model in which the broken operation
/// races another write to the same word must fail; the others have no such
/// race (no frees, or only a scan's reads beside them) and may pass. The
/// hash's each break one step of the resize: every model that runs it beside
/// a reader or an insert that depends on it must fail.
pub(crate) const MUST_FAIL: &[(&str, &[&str])] = &[
    (
        "broken-fetch-or",
        &[
            "two_allocs_take_the_last_two",
            "two_allocs_one_number",
            "three_allocs_two_numbers",
            "full_while_a_free_is_in_flight",
            "alloc_races_a_free_in_the_same_word",
            "two_allocs_race_a_free_in_the_same_word",
            "first_users_of_a_missing_page",
            "three_first_users_of_a_missing_page",
            "nr_free_matches_the_bits",
        ],
    ),
    (
        "broken-fetch-and",
        &[
            "full_while_a_free_is_in_flight",
            "alloc_races_a_free_in_the_same_word",
            "two_allocs_race_a_free_in_the_same_word",
            "nr_free_matches_the_bits",
        ],
    ),
    // A lookup misses an entry between its unlink and its link.
    (
        "broken-unlink-first",
        &[
            "hash::lookups_race_a_move",
            "hash::an_insert_during_a_move_is_found",
        ],
    ),
    // A lookup from the old table misses what moved or was inserted.
    (
        "broken-no-future",
        &[
            "hash::lookups_race_a_move",
            "hash::an_insert_during_a_move_is_found",
        ],
    ),
    // The old table is freed under a reader: every model has one.
    (
        "broken-no-grace",
        &[
            "hash::lookups_race_a_move",
            "hash::an_insert_during_a_move_is_found",
            "hash::a_moved_entry_publishes_what_it_links_to",
        ],
    ),
    // An insert into a chain already moved is lost with the old table.
    (
        "broken-insert-current",
        &[
            "hash::an_insert_during_a_move_is_found",
            "hash::a_moved_entry_publishes_what_it_links_to",
        ],
    ),
    // A lookup reaches a fresh entry through the moved one, unordered.
    (
        "broken-relaxed-next",
        &["hash::a_moved_entry_publishes_what_it_links_to"],
    ),
    // Unlinking through a stale back-link (a removal, or the move's own
    // unlink from the old chain) cuts off the entry before: every model
    // with two entries in one chain.
    (
        "broken-stale-pprev",
        &[
            "hash::a_removal_during_a_move",
            "hash::lookups_race_a_move",
            "hash::an_insert_during_a_move_is_found",
            "hash::a_moved_entry_publishes_what_it_links_to",
        ],
    ),
];

/// Prints [`MUST_FAIL`] for scripts/loom, a `must-fail VARIANT MODEL` line
/// each, once every variant is checked to be a feature of the crate.
#[test]
fn must_fail_list() {
    let features = include_str!("../../Cargo.toml");
    for (variant, models) in MUST_FAIL {
        assert!(
            features.contains(&format!("\n{variant} = ")),
            "{variant} is not a feature of the crate"
        );
        assert!(!models.is_empty(), "{variant} must fail some model");
        for model in *models {
            println!("must-fail {variant} {model}");
        }
    }
}
