//! Proof that Linux 7.3's lib/idr.c + lib/radix-tree.c, built for userspace
//! by build.rs, run from Rust: cyclic allocation as kernel/pid.c does it,
//! lookup, walk, free, wrap, exhaustion, two threads, memory per live pid.
use std::{ffi::c_void, ptr, thread, time::Instant};

#[repr(C)]
struct KidrNs {
    _opaque: [u8; 0],
}

extern "C" {
    fn kidr_thread_enter();
    fn kidr_thread_exit();
    fn kidr_ns_new(pid_max: i32) -> *mut KidrNs;
    fn kidr_ns_destroy(ns: *mut KidrNs);
    fn kidr_alloc(ns: *mut KidrNs, p: *mut c_void) -> i32;
    fn kidr_find(ns: *mut KidrNs, nr: i32) -> *mut c_void;
    fn kidr_next(ns: *mut KidrNs, nr: i32, entry: *mut *mut c_void) -> i32;
    fn kidr_remove(ns: *mut KidrNs, nr: i32) -> *mut c_void;
    fn kidr_set_cursor(ns: *mut KidrNs, c: i32);
    fn kidr_get_cursor(ns: *mut KidrNs) -> i32;
    fn kidr_pid_allocated(ns: *mut KidrNs) -> i32;
    fn kidr_node_size() -> usize;
    fn kidr_nodes_live() -> usize;
    fn kidr_nodes_total() -> usize;
    fn kidr_preloaded() -> i32;
    fn kidr_tree_nodes() -> isize;
    fn kidr_nr_allocated() -> i32;
    fn kidr_kmalloc_nr_allocated() -> i32;
    fn kidr_has_sys_membarrier() -> i32;
}

/// Stands for a struct pid: what the IDR maps a number to (8-aligned).
#[repr(C, align(8))]
struct FakePid {
    nr: i32,
}

const EAGAIN: i32 = 11;

/// Walks the IDR as find_ge_pid() callers do; returns the numbers seen.
fn walk(ns: *mut KidrNs) -> Vec<i32> {
    let mut seen = Vec::new();
    let mut nr = 0;
    loop {
        let mut e = ptr::null_mut();
        let got = unsafe { kidr_next(ns, nr, &mut e) };
        if got < 0 {
            break;
        }
        assert_eq!(unsafe { (*(e as *const FakePid)).nr }, got);
        seen.push(got);
        nr = got + 1;
    }
    seen
}

fn mem(label: &str, live: usize) {
    let nodes = unsafe { kidr_tree_nodes() };
    let size = unsafe { kidr_node_size() };
    let b = nodes as usize * size;
    println!(
        "mem {label}: {live} live pids, {nodes} tree nodes x {size} B = {b} B, {:.2} B/pid \
         (slab live {} incl. preload pool {}, total node allocs {})",
        if live > 0 {
            b as f64 / live as f64
        } else {
            0.0
        },
        unsafe { kidr_nodes_live() },
        unsafe { kidr_preloaded() },
        unsafe { kidr_nodes_total() },
    );
}

fn main() {
    unsafe { kidr_thread_enter() };
    println!(
        "sizeof(struct xa_node) = {}, sys_membarrier {}",
        unsafe { kidr_node_size() },
        unsafe { kidr_has_sys_membarrier() }
    );

    // 1. N pids cyclically from an empty namespace, pid_max 32768.
    const N: i32 = 1000;
    let ns = unsafe { kidr_ns_new(32768) };
    let mut pids: Vec<Box<FakePid>> = (0..=40000).map(|_| Box::new(FakePid { nr: 0 })).collect();
    let mut got = Vec::new();
    for i in 1..=N as usize {
        let p = &mut *pids[i] as *mut FakePid;
        let nr = unsafe { kidr_alloc(ns, p.cast()) };
        unsafe { (*p).nr = nr };
        got.push(nr);
    }
    assert_eq!(got, (1..=N).collect::<Vec<_>>());
    println!(
        "alloc: {} pids, first {} last {}, cursor {}",
        got.len(),
        got[0],
        got[got.len() - 1],
        unsafe { kidr_get_cursor(ns) }
    );
    for nr in 1..=N {
        let e = unsafe { kidr_find(ns, nr) } as *const FakePid;
        assert!(!e.is_null() && unsafe { (*e).nr } == nr);
    }
    assert!(unsafe { kidr_find(ns, N + 1) }.is_null());
    println!("find: all {N} found, {} not found", N + 1);
    let w = walk(ns);
    assert_eq!(w, (1..=N).collect::<Vec<_>>());
    println!("walk: {} entries in order", w.len());
    mem("after 1000 allocs", N as usize);

    // 2. Free the odd ones.
    for nr in (1..=N).step_by(2) {
        let e = unsafe { kidr_remove(ns, nr) } as *const FakePid;
        assert!(unsafe { (*e).nr } == nr);
    }
    assert!(unsafe { kidr_find(ns, 1) }.is_null());
    assert!(unsafe { kidr_remove(ns, 1) }.is_null());
    let w = walk(ns);
    assert_eq!(w, (2..=N).step_by(2).collect::<Vec<_>>());
    println!(
        "free odd: walk {} entries, pid_allocated {}",
        w.len(),
        unsafe { kidr_pid_allocated(ns) }
    );

    // 3. Wrap: past pid_max the cursor restarts at RESERVED_PIDS (300).
    unsafe { kidr_set_cursor(ns, 32766) };
    let wrap: Vec<i32> = (0..3)
        .map(|k| {
            let p = &mut *pids[2000 + k] as *mut FakePid;
            let nr = unsafe { kidr_alloc(ns, p.cast()) };
            unsafe { (*p).nr = nr };
            nr
        })
        .collect();
    assert_eq!(wrap, [32766, 32767, 301]);
    println!("wrap: {wrap:?}");
    mem("sparse (500 + 3)", 503);
    unsafe { kidr_ns_destroy(ns) };

    // 4. Exhaustion: pid_max 310 -> 1..=309 then EAGAIN; a freed 305 comes back.
    let small = unsafe { kidr_ns_new(310) };
    let mut last = 0;
    let mut n = 0;
    loop {
        let p = &mut *pids[3000 + n] as *mut FakePid;
        let nr = unsafe { kidr_alloc(small, p.cast()) };
        if nr < 0 {
            assert_eq!(nr, -EAGAIN);
            break;
        }
        unsafe { (*p).nr = nr };
        last = nr;
        n += 1;
    }
    assert_eq!((n, last), (309, 309));
    unsafe { kidr_remove(small, 305) };
    let p = &mut *pids[3000 + 304] as *mut FakePid;
    let again = unsafe { kidr_alloc(small, p.cast()) };
    assert_eq!(again, 305);
    println!("exhaustion: {n} pids up to {last}, then -EAGAIN; freed 305 reallocated as {again}");
    unsafe { kidr_ns_destroy(small) };

    // 5. Dense: 30000 live pids in one namespace.
    let big = unsafe { kidr_ns_new(32768) };
    for i in 1..=30000usize {
        let p = &mut *pids[i] as *mut FakePid;
        let nr = unsafe { kidr_alloc(big, p.cast()) };
        assert_eq!(nr, i as i32);
        unsafe { (*p).nr = nr };
    }
    mem("dense 30000", 30000);
    unsafe { kidr_ns_destroy(big) };

    // 5b. One thread, steady churn over a base population (pids 1..=1000
    //     stay live): how many node allocations the churn itself costs.
    let base = unsafe { kidr_ns_new(32768) };
    for i in 1..=1000usize {
        let p = &mut *pids[i] as *mut FakePid;
        unsafe { (*p).nr = kidr_alloc(base, p.cast()) };
    }
    let before = unsafe { kidr_nodes_total() };
    let t0 = Instant::now();
    let rounds = 100_000;
    for k in 0..rounds {
        let p = &mut *pids[1001 + k % 64] as *mut FakePid;
        let nr = unsafe { kidr_alloc(base, p.cast()) };
        assert!(nr > 0);
        assert_eq!(unsafe { kidr_find(base, nr) }, p.cast());
        assert_eq!(unsafe { kidr_remove(base, nr) }, p.cast());
    }
    let dt = t0.elapsed();
    println!(
        "churn 1 thread over 1000 live: {rounds} alloc+find+free, {} node allocs, {:.0} ns per round trip",
        unsafe { kidr_nodes_total() } - before,
        dt.as_nanos() as f64 / rounds as f64
    );
    unsafe { kidr_ns_destroy(base) };

    // 6. Two threads (the per-thread preload overlay), alloc/find/free churn
    //    on one namespace; not a benchmark, a check the seams hold.
    let ns2 = unsafe { kidr_ns_new(32768) } as usize;
    let t0 = Instant::now();
    let per_thread = 100_000;
    let hs: Vec<_> = (0..2)
        .map(|_| {
            thread::spawn(move || {
                let ns = ns2 as *mut KidrNs;
                unsafe { kidr_thread_enter() };
                let mine: Vec<Box<FakePid>> =
                    (0..64).map(|_| Box::new(FakePid { nr: 0 })).collect();
                for k in 0..per_thread {
                    let p = &*mine[k % 64] as *const FakePid as *mut FakePid;
                    let nr = unsafe { kidr_alloc(ns, p.cast()) };
                    assert!(nr > 0);
                    unsafe { (*p).nr = nr };
                    assert_eq!(
                        unsafe { kidr_find(ns, nr) } as *const FakePid,
                        p as *const _
                    );
                    assert_eq!(
                        unsafe { kidr_remove(ns, nr) } as *const FakePid,
                        p as *const _
                    );
                }
                unsafe { kidr_thread_exit() };
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let dt = t0.elapsed();
    let ns2 = ns2 as *mut KidrNs;
    assert_eq!(unsafe { kidr_pid_allocated(ns2) }, 0);
    assert!(walk(ns2).is_empty());
    println!(
        "threads: 2 x {per_thread} alloc+find+free, cursor {} (wrapped), {:.0} ns per round trip",
        unsafe { kidr_get_cursor(ns2) },
        dt.as_nanos() as f64 / (2 * per_thread) as f64
    );
    mem("after churn (empty)", 0);
    unsafe { kidr_ns_destroy(ns2) };

    // 7. Everything back: only this thread's preload pool is left.
    let left = unsafe { kidr_tree_nodes() };
    println!(
        "end: tree nodes {left}, preload pool {}, nr_allocated (all caches) {}, kmalloc {}",
        unsafe { kidr_preloaded() },
        unsafe { kidr_nr_allocated() },
        unsafe { kidr_kmalloc_nr_allocated() }
    );
    assert_eq!(left, 0);
    unsafe { kidr_thread_exit() };
    assert_eq!(unsafe { kidr_nr_allocated() }, 0);
    drop(pids);
    println!("ok");
}
