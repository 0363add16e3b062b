// SPDX-License-Identifier: GPL-2.0

//! The `loom` models of the RCU pid hash's resize (`rust/allocator/hash/`).
//!
//! Each model starts from a table of two buckets (shift 1) with a few
//! entries hashed, grows it to four (shift 2) with `rehash` on one thread,
//! and looks up or inserts on the others. With `GOLDEN_RATIO_64` hashing, the
//! bucket of a key in a table of four is its bucket in a table of two
//! followed by one more bit: the entries of old bucket 0 go to new buckets 0
//! and 1, and the models pick numbers so that a chain splits (a reader
//! standing on a moved entry is carried into a chain that is not its own,
//! ends on a foreign marker and walks again) or lands in one chain.
//!
//! What every model checks in every execution: a lookup of a hashed entry
//! finds it, itself, from whichever table it started; an entry inserted
//! during the move is found, during and after; every entry is in the table
//! once the resize is done, counted once; no table is read after it is
//! freed, nor read without that read happening before the free (RCU's
//! grace period, modelled by the host `rcu`'s reader registry, see
//! `hash_env`); no table leaks.

use super::{check_bounded, Outcomes};
use crate::{
    hash::{self, bucket, HashEntry, Table},
    hash_env::{rcu, PidNamespace},
    pidmap_env,
};
use core::{mem::MaybeUninit, ptr};
use loom::{cell::UnsafeCell, sync::Arc, thread};

/// The namespace of every model's numbers; its key part is 0, so the
/// buckets of a number are the same in every run.
static NS: PidNamespace = PidNamespace::new(0);

/// The table's size (log2) before the resize, and after.
const OLD: u32 = 1;
/// See [`OLD`].
const NEW: u32 = 2;

/// The first `n` numbers from 1 whose buckets before and after the resize
/// are `old` and `new`.
fn numbers(n: usize, old: usize, new: usize) -> Vec<i32> {
    (1..)
        .filter(|&nr| bucket(nr, &NS, OLD) == old && bucket(nr, &NS, NEW) == new)
        .take(n)
        .collect()
}

/// Entries shared by a model's threads, each of number `nrs[k]` in [`NS`].
struct Entries(Vec<HashEntry>);

// SAFETY: an entry's fields are atomics but for its number and namespace
// pointer, written once before the entries are shared and then only read;
// the namespace is a static.
unsafe impl Sync for Entries {}
// SAFETY: as above.
unsafe impl Send for Entries {}

impl Entries {
    /// Unhashed entries for `nrs`.
    fn new(nrs: &[i32]) -> Arc<Self> {
        // SAFETY: `NS` is static, it outlives every entry.
        Arc::new(Self(
            nrs.iter()
                .map(|&nr| unsafe { HashEntry::new(nr, &NS) })
                .collect(),
        ))
    }

    /// Hashes every entry, the first one first (the last one ends at the
    /// head of its chain).
    fn hash_all(&self) {
        let g = pidmap_env::lock();
        for e in &self.0 {
            // SAFETY: not hashed yet; the entries outlive the table (the
            // models drop the table first).
            unsafe { hash::insert(e, &g) };
        }
    }

    /// Unhashes every entry.
    fn unhash_all(&self) {
        let g = pidmap_env::lock();
        for e in &self.0 {
            // SAFETY: hashed by `hash_all`, removed once.
            unsafe { hash::remove(e, &g) };
        }
    }
}

/// The table of the models, two buckets.
fn table() -> Table {
    // SAFETY: one table per execution, made before any thread uses the hash
    // and dropped after they are done (each execution has its own statics).
    unsafe { Table::new(OLD, false) }.expect("model: no table")
}

/// Whether a lookup of `e`'s key under `rcu` finds `e` itself.
fn finds(e: &HashEntry, rcu: &rcu::Guard) -> bool {
    hash::find(e.nr, e.ns(), rcu).is_some_and(|f| ptr::eq(f, e))
}

/// Asserts that `entries` are all found, and the only ones hashed, after
/// the threads are done.
fn assert_hashed(entries: &[&HashEntry]) {
    let rcu = rcu::read_lock();
    for e in entries {
        assert!(finds(e, &rcu), "model: {} not found after the resize", e.nr);
    }
    drop(rcu);
    let (total, _) = hash::census();
    assert_eq!(
        total as usize,
        entries.len(),
        "model: entries counted after the resize"
    );
    assert_eq!(
        hash::buckets(),
        1 << NEW,
        "model: the table was not resized"
    );
}

/// Lookups race a resize that splits a chain of two, `a` (the tail, moved
/// first, to new bucket 0) and `b` (the head, moved last, to new bucket 1):
/// both are found, from the old table or the new. A reader standing on `b`
/// when it moves ends on new bucket 1's marker, foreign to its chain, and
/// walks the chain again; a reader that finds the old chain emptied looks
/// in the future table; the old table is freed only once the reader left
/// it.
#[test]
fn lookups_race_a_move() {
    let (a, b) = (numbers(1, 0, 0)[0], numbers(1, 0, 1)[0]);
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check_bounded(2, 0, move || {
        let table = table();
        let entries = Entries::new(&[a, b]);
        entries.hash_all();
        let r = thread::spawn(|| hash::rehash(|_| NEW).expect("model: no memory"));
        let readers = entries.clone();
        let l = thread::spawn(move || {
            let rcu = rcu::read_lock();
            // The head first: the reader may stand on it when it moves.
            let found = [finds(&readers.0[1], &rcu), finds(&readers.0[0], &rcu)];
            // Which table the reader ends in: the new one once it is
            // current.
            let late = hash::buckets() == 1 << NEW;
            drop(rcu);
            (found, late)
        });
        assert!(r.join().unwrap(), "model: the table was not replaced");
        let (found, late) = l.join().unwrap();
        assert!(
            found.iter().all(|&f| f),
            "model: a lookup during the move missed a hashed entry (head, tail: {found:?})"
        );
        assert_hashed(&[&entries.0[0], &entries.0[1]]);
        entries.unhash_all();
        drop(table);
        reached.record(late);
    });
    outcomes.assert_exactly([false, true]);
}

/// An insert races a resize: it goes to the future table once there is
/// one, and a lookup right after it (same thread) finds it, from the old
/// table through its future or from the new one; after the resize both the
/// inserted entry and the one moved are hashed. The inserted number shares
/// old bucket 0 with the moved one, so it can land in the old chain before
/// its move, or in the new table after.
#[test]
fn an_insert_during_a_move_is_found() {
    let nrs = numbers(2, 0, 0);
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check_bounded(2, 0, move || {
        let table = table();
        let entries = Entries::new(&nrs);
        {
            let g = pidmap_env::lock();
            // SAFETY: not hashed; the entries outlive the table.
            unsafe { hash::insert(&entries.0[0], &g) };
        }
        let r = thread::spawn(|| hash::rehash(|_| NEW).expect("model: no memory"));
        let inserter = entries.clone();
        let i = thread::spawn(move || {
            {
                let g = pidmap_env::lock();
                // SAFETY: not hashed; the entries outlive the table.
                unsafe { hash::insert(&inserter.0[1], &g) };
            }
            let rcu = rcu::read_lock();
            let found = finds(&inserter.0[1], &rcu);
            let late = hash::buckets() == 1 << NEW;
            drop(rcu);
            (found, late)
        });
        assert!(r.join().unwrap(), "model: the table was not replaced");
        let (found, late) = i.join().unwrap();
        assert!(found, "model: an entry just inserted was not found");
        assert_hashed(&[&entries.0[0], &entries.0[1]]);
        entries.unhash_all();
        drop(table);
        reached.record(late);
    });
    outcomes.assert_exactly([false, true]);
}

/// An entry made and inserted by one thread during a resize, found by a
/// lookup on another, is seen filled in: the lookup's reads of it happen
/// after its making. The entry shares new bucket 0 with an old entry that
/// the resize moves after it: the lookup can reach it through the moved
/// entry's `next`, from the old chain, and only that link's release store
/// orders the two (the entry's own publication was to the new table,
/// which the lookup did not read).
#[test]
fn a_moved_entry_publishes_what_it_links_to() {
    let nrs = numbers(2, 0, 0);
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    // One preemption fewer than the others: at 4 this model takes about a
    // minute alone (537,761 executions), at 3 seven seconds (58,271), and
    // its broken variant (`broken-relaxed-next`) fails it at 2 already.
    check_bounded(3, 1, move || {
        let table = table();
        let entries = Entries::new(&nrs[..1]);
        entries.hash_all();
        let fresh = Fresh::new();
        let r = thread::spawn(|| hash::rehash(|_| NEW).expect("model: no memory"));
        let (made, nr) = (fresh.clone(), nrs[1]);
        let i = thread::spawn(move || {
            let e = made.make(nr);
            let g = pidmap_env::lock();
            // SAFETY: not hashed; the entry outlives the table (the model
            // drops the table first).
            unsafe { hash::insert(e, &g) };
        });
        let seen = fresh.clone();
        let l = thread::spawn(move || {
            let rcu = rcu::read_lock();
            let found = hash::find(nr, &NS, &rcu).map(|e| {
                assert!(ptr::eq(e, seen.entry()), "model: found another entry");
                // What the lookup read of the entry (its number, to
                // compare): loom fails the model if this read does not
                // happen after the entry was made.
                seen.read();
            });
            drop(rcu);
            found.is_some()
        });
        assert!(r.join().unwrap(), "model: the table was not replaced");
        i.join().unwrap();
        let found = l.join().unwrap();
        assert_hashed(&[&entries.0[0], fresh.entry()]);
        {
            let g = pidmap_env::lock();
            // SAFETY: hashed by the inserter, removed once.
            unsafe { hash::remove(fresh.entry(), &g) };
        }
        entries.unhash_all();
        drop(table);
        reached.record(found);
    });
    outcomes.assert_exactly([false, true]);
}

/// A removal races a resize of its chain: the tail (`a`, the first entry
/// moved) is removed, under `pidmap_lock`, before the move, between the
/// move and the publish of the new table, or after; both entries share new
/// bucket 0, so the move relinks them and their back-links (`pprev`) must
/// follow. The remover's next lookups find the head (`b`) and not the tail;
/// after the resize only the head is hashed.
#[test]
fn a_removal_during_a_move() {
    let nrs = numbers(2, 0, 0);
    let outcomes = Outcomes::new();
    let reached = outcomes.clone();
    check_bounded(2, 0, move || {
        let table = table();
        let entries = Entries::new(&nrs);
        entries.hash_all();
        let r = thread::spawn(|| hash::rehash(|_| NEW).expect("model: no memory"));
        let remover = entries.clone();
        let d = thread::spawn(move || {
            {
                let g = pidmap_env::lock();
                // SAFETY: hashed by `hash_all`, removed once (not again
                // below).
                unsafe { hash::remove(&remover.0[0], &g) };
            }
            let rcu = rcu::read_lock();
            let kept = finds(&remover.0[1], &rcu);
            let gone = hash::find(remover.0[0].nr, &NS, &rcu).is_none();
            let late = hash::buckets() == 1 << NEW;
            drop(rcu);
            (kept, gone, late)
        });
        assert!(r.join().unwrap(), "model: the table was not replaced");
        let (kept, gone, late) = d.join().unwrap();
        assert!(kept, "model: removing the tail lost the head");
        assert!(gone, "model: the removed entry was still found");
        assert_hashed(&[&entries.0[1]]);
        {
            let g = pidmap_env::lock();
            // SAFETY: hashed by `hash_all`, removed once.
            unsafe { hash::remove(&entries.0[1], &g) };
        }
        drop(table);
        reached.record(late);
    });
    outcomes.assert_exactly([false, true]);
}

/// An entry made by a model's thread, whose making and reads `loom` sees as
/// a write and reads of one cell, and checks are ordered.
struct Fresh {
    /// The entry, once made.
    entry: std::cell::UnsafeCell<MaybeUninit<HashEntry>>,
    /// Stands for the entry's memory in `loom`'s eyes.
    access: UnsafeCell<()>,
}

// SAFETY: the entry is written once, by `make`, before it is hashed, and
// then only read; `loom` checks that every read happens after the write.
unsafe impl Sync for Fresh {}
// SAFETY: as above.
unsafe impl Send for Fresh {}

impl Fresh {
    /// Room for an entry.
    fn new() -> Arc<Self> {
        Arc::new(Self {
            entry: std::cell::UnsafeCell::new(MaybeUninit::uninit()),
            access: UnsafeCell::new(()),
        })
    }

    /// Makes the entry for number `nr` of [`NS`].
    fn make(&self, nr: i32) -> &HashEntry {
        self.access.with_mut(|_| ());
        // SAFETY: `NS` is static, it outlives the entry; nothing reads the
        // entry before this (nothing has its address yet but this thread).
        unsafe { (*self.entry.get()).write(HashEntry::new(nr, &NS)) };
        self.entry()
    }

    /// The entry's address.
    fn entry(&self) -> &HashEntry {
        // SAFETY: the cell lives as long as `self`; the callers dereference
        // it only after `make` (lookups reach it only once it is hashed),
        // which `read` checks.
        unsafe { &*self.entry.get().cast::<HashEntry>() }
    }

    /// A read of the entry, which `loom` checks happens after `make`.
    fn read(&self) {
        self.access.with(|_| ());
    }
}
