// SPDX-License-Identifier: GPL-2.0

//! The module's hash and pidmap on `std` atomics (the `host-std` feature):
//! one run of each through the seam a host benchmark uses, so that it
//! cannot rot. No interleavings are checked here; the models do that.

use crate::{
    hash::{self, HashEntry, Table},
    hash_env::{rcu, PidNamespace},
    pidmap::Pidmap,
    pidmap_env,
};
use core::ptr;

/// Inserts, finds, grows, shrinks and removes, on one thread.
#[test]
fn hash_on_std_atomics() {
    static NS: PidNamespace = PidNamespace::new(0x1000);
    // SAFETY: the only table of this process (one test uses the hash), made
    // before and dropped after every use.
    let table = unsafe { Table::new(4, false) }.unwrap();
    // SAFETY: `NS` is static.
    let entries: Vec<HashEntry> = (1..=200)
        .map(|nr| unsafe { HashEntry::new(nr, &NS) })
        .collect();
    let found = |e: &HashEntry| {
        let rcu = rcu::read_lock();
        hash::find(e.nr, &NS, &rcu).is_some_and(|f| ptr::eq(f, e))
    };
    {
        let g = pidmap_env::lock();
        for e in &entries {
            // SAFETY: not hashed; the entries outlive the table.
            unsafe { hash::insert(e, &g) };
        }
    }
    for shift in [8, 4] {
        assert!(hash::rehash(|_| shift).unwrap());
        assert_eq!(hash::buckets(), 1 << shift);
        assert!(entries.iter().all(found));
        assert_eq!(hash::census().0, 200);
    }
    {
        let g = pidmap_env::lock();
        for e in &entries {
            // SAFETY: hashed above, removed once.
            unsafe { hash::remove(e, &g) };
        }
    }
    assert!(!entries.iter().any(found));
    drop(table);
}

/// Allocates, wraps and frees.
#[test]
fn pidmap_on_std_atomics() {
    let map = Pidmap::<pidmap_env::MaySleep>::new();
    map.reserve_zero().unwrap();
    assert_eq!(map.alloc_cyclic(1, 303).unwrap(), Some(1));
    assert_eq!(map.alloc_cyclic(303, 303).unwrap(), Some(300));
    map.free(300);
    assert!(!map.test(300) && map.test(1));
}
