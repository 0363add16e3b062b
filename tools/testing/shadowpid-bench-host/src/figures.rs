// SPDX-License-Identifier: GPL-2.0
//! The figures: each a state built on both columns, then repetitions that
//! time the same work on each, in rotating order, paired.

use crate::{
    kernel::{self, Object, Thread},
    shadow,
    stats::{self, Interval},
};
use serde::Serialize;
use std::{
    hint::black_box,
    sync::Barrier,
    thread,
    time::{Duration, Instant},
};

/// How long and how often.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    /// Timed repetitions per row (after one untimed warm-up).
    pub(crate) reps: usize,
    /// Operations per timed batch, for the pairs.
    pub(crate) pairs: usize,
    /// Lookups per timed batch.
    pub(crate) lookups: usize,
    /// The largest population (1,000,000; less in a smoke run).
    pub(crate) big: i32,
}

/// One row of the table.
#[derive(Debug, Serialize)]
pub(crate) struct Row {
    /// Figure number (the in-kernel benchmark's where it has one).
    pub(crate) fig: &'static str,
    /// What is timed.
    pub(crate) what: String,
    /// The state it is timed in.
    pub(crate) state: String,
    /// Unit of `shadow` and `kernel`.
    pub(crate) unit: &'static str,
    /// Threads at once.
    pub(crate) threads: usize,
    /// The shadow's column (the module's code).
    pub(crate) shadow: Interval,
    /// The kernel's column (7.3's lib/idr.c).
    pub(crate) kernel: Interval,
    /// shadow / kernel, paired per repetition.
    pub(crate) ratio: Interval,
    /// Anything else measured in the same repetitions.
    pub(crate) extra: Vec<(String, Interval)>,
}

/// xorshift64*: the states' randomness, fixed seeds.
struct Rng(u64);

impl Rng {
    /// The next draw.
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True with probability `ppm` / 1,000,000.
    fn chance(&mut self, ppm: u64) -> bool {
        self.next() % 1_000_000 < ppm
    }

    /// Fisher-Yates.
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, (self.next() % (i as u64 + 1)) as usize);
        }
    }
}

/// Runs `reps` repetitions of every closure (each returns one measurement),
/// after one warm-up each, in a fresh random order every repetition (so
/// that no closure always follows the same one: what one leaves behind in
/// the caches and the allocators falls on each in turn).
fn paired<const N: usize>(reps: usize, mut f: [&mut dyn FnMut() -> f64; N]) -> [Vec<f64>; N] {
    for g in f.iter_mut() {
        g();
    }
    let mut rng = Rng(0x0bad_cafe ^ reps as u64);
    let mut out: [Vec<f64>; N] = core::array::from_fn(|_| Vec::with_capacity(reps));
    let mut order: [usize; N] = core::array::from_fn(|i| i);
    for _ in 0..reps {
        rng.shuffle(&mut order);
        for &i in &order {
            out[i].push(f[i]());
        }
    }
    out
}

/// Nanoseconds per op of `d` over `ops`.
fn per(d: Duration, ops: usize) -> f64 {
    d.as_nanos() as f64 / ops as f64
}

/// Both columns' namespace, the same numbers taken on each.
struct Both {
    /// The shadow's.
    shadow: shadow::Ns,
    /// The kernel's.
    kernel: kernel::Ns,
    /// The kernel column's objects, one per number (as the shadow's entries).
    objects: Box<[Object]>,
    /// Numbers taken by the population (besides the pairs' own).
    live: Vec<i32>,
}

impl Both {
    /// Empty namespaces on both, numbers below `pid_max`.
    fn new(t: &Thread, pid_max: i32) -> Self {
        Self {
            shadow: shadow::Ns::new(pid_max),
            kernel: kernel::Ns::new(t, pid_max),
            objects: (0..pid_max).map(|nr| Object { nr }).collect(),
            live: Vec::new(),
        }
    }

    /// Takes `nr` on both, hashed (the set_tid path: a process that lives).
    fn take(&mut self, t: &Thread, nr: i32) {
        assert!(self.shadow.alloc_exact(nr));
        self.shadow.insert(nr);
        assert_eq!(
            self.kernel.alloc_exact(t, nr, &self.objects[nr as usize]),
            nr
        );
        self.live.push(nr);
    }

    /// Puts both cursors at 300, where cyclic allocation runs once it wrapped.
    fn cursor_at(&self, nr: i32) {
        self.shadow.set_last_pid(nr - 1);
        self.kernel.set_cursor(nr);
    }

    /// Index bytes per live number: the shadow's (pidmap pages, buckets, the
    /// chain links of each number) and the kernel's (radix-tree nodes).
    fn memory(&self, t: &Thread) -> (f64, f64) {
        let n = self.live.len() as f64;
        let (_, table) = shadow::table_size();
        let s = self.shadow.pages() as f64 * 4096.0 + table as f64 + n * shadow::LINK_BYTES as f64;
        let k = (kernel::tree_nodes(t) * kernel::node_size()) as f64;
        (s / n, k / n)
    }
}

/// Occupancies of the cursor region, parts per million.
const OCCUPANCY: [(u64, &str); 5] = [
    (0, "0 %: every IDR pair makes and frees a leaf (churn)"),
    (500_000, "50 %"),
    (900_000, "90 %"),
    (990_000, "99 %"),
    (999_000, "99.9 %"),
];

/// Numbers, and numbers with the index, in populated cursor states: the
/// region [300, 32768) the cursor runs through taken at each occupancy
/// (scattered), the cursor at 300.
pub(crate) fn pairs(t: &Thread, plan: &Plan, rows: &mut Vec<Row>) {
    for (i, &(ppm, label)) in OCCUPANCY.iter().enumerate() {
        let mut b = Both::new(t, 32768);
        b.take(t, 1);
        let mut rng = Rng(0x9e37_79b9 + i as u64);
        for nr in 300..32768 {
            if rng.chance(ppm) {
                b.take(t, nr);
            }
        }
        b.cursor_at(300);
        let n = plan.pairs;
        let obj = Object::default();
        let nodes_before = kernel::nodes_total();
        let mut drains = Vec::new();
        let [num, idx, ker] = paired(
            plan.reps,
            [
                &mut || {
                    let t0 = Instant::now();
                    for _ in 0..n {
                        let nr = b.shadow.alloc().expect("room");
                        b.shadow.free(black_box(nr));
                    }
                    per(t0.elapsed(), n)
                },
                &mut || {
                    let t0 = Instant::now();
                    for _ in 0..n {
                        let nr = b.shadow.alloc().expect("room");
                        b.shadow.insert(nr);
                        b.shadow.remove(black_box(nr));
                    }
                    per(t0.elapsed(), n)
                },
                &mut || {
                    let t0 = Instant::now();
                    for _ in 0..n {
                        let nr = b.kernel.alloc(t, &obj);
                        assert!(nr > 0);
                        b.kernel.remove(t, black_box(nr));
                    }
                    let ns = per(t0.elapsed(), n);
                    // The node frees the timed removals queued (call_rcu),
                    // timed apart: most of it is a grace period's wait.
                    let t1 = Instant::now();
                    t.rcu_barrier();
                    drains.push(t1.elapsed().as_secs_f64() * 1e3);
                    ns
                },
            ],
        );
        let node_allocs =
            (kernel::nodes_total() - nodes_before) as f64 / ((plan.reps + 1) * n) as f64;
        let slab: Vec<f64> = (0..plan.reps)
            .map(|_| kernel::slab_pair_ns(t, n as i32))
            .collect();
        let slab = stats::mean(&slab);
        let state = format!("cursor region {label}");
        let drain = stats::mean(&drains[1..]);
        for (what, s) in [
            (
                "numbers: alloc_pidmap+free_pidmap / idr_alloc_cyclic+idr_remove",
                &num,
            ),
            (
                "numbers+index: + hash insert/remove / (the IDR is the index)",
                &idx,
            ),
        ] {
            rows.push(Row {
                fig: "1",
                what: what.into(),
                state: state.clone(),
                unit: "ns/pair",
                threads: 1,
                shadow: stats::mean(s),
                kernel: stats::mean(&ker),
                ratio: stats::ratio(s, &ker),
                extra: vec![
                    (
                        format!(
                            "kernel: rcu_barrier() after each batch of {n}, ms (not in the ratio)"
                        ),
                        drain,
                    ),
                    (
                        "kernel: radix-tree node allocations per pair".into(),
                        Interval {
                            mean: node_allocs,
                            lo: node_allocs,
                            hi: node_allocs,
                        },
                    ),
                    (
                        "kernel: the harness slab's node alloc+free, ns (in the kernel column; SLUB's is not this)".into(),
                        slab,
                    ),
                ],
            });
        }
    }
}

/// Numbers with the index on one and two threads at once, in one namespace
/// (one `pidmap_lock`, as in both kernels): wall time per pair.
pub(crate) fn threads(t: &Thread, plan: &Plan, rows: &mut Vec<Row>) {
    for &(ppm, label) in &[OCCUPANCY[0], OCCUPANCY[1]] {
        let mut b = Both::new(t, 32768);
        b.take(t, 1);
        let mut rng = Rng(0x5eed + ppm);
        for nr in 300..32768 {
            if rng.chance(ppm) {
                b.take(t, nr);
            }
        }
        b.cursor_at(300);
        let n = plan.pairs;
        for threads in [1usize, 2] {
            let run = |kernel_side: bool| -> f64 {
                let gate = Barrier::new(threads + 1);
                let b = &b;
                let gate = &gate;
                thread::scope(|s| {
                    let hs: Vec<_> = (0..threads)
                        .map(|cpu| {
                            s.spawn(move || {
                                pin(cpu);
                                let kt = kernel_side.then(Thread::enter);
                                let obj = Object::default();
                                gate.wait();
                                let start = Instant::now();
                                for _ in 0..n {
                                    if let Some(kt) = &kt {
                                        let nr = b.kernel.alloc(kt, &obj);
                                        assert!(nr > 0);
                                        b.kernel.remove(kt, nr);
                                    } else {
                                        let nr = b.shadow.alloc().expect("room");
                                        b.shadow.insert(nr);
                                        b.shadow.remove(nr);
                                    }
                                }
                                (start, Instant::now())
                            })
                        })
                        .collect();
                    gate.wait();
                    // From the first thread's start to the last one's end,
                    // each read by the thread itself.
                    let spans: Vec<_> = hs.into_iter().map(|h| h.join().unwrap()).collect();
                    let start = spans.iter().map(|s| s.0).min().unwrap();
                    let end = spans.iter().map(|s| s.1).max().unwrap();
                    let ns = per(end - start, n * threads);
                    if kernel_side {
                        // The node frees those pairs queued, before the next
                        // repetition (untimed, as in figure 1).
                        t.rcu_barrier();
                    }
                    ns
                })
            };
            let [s, k] = paired(plan.reps, [&mut || run(false), &mut || run(true)]);
            pin(0);
            t.rcu_barrier();
            rows.push(Row {
                fig: "5",
                what: "numbers+index, threads at once on the host's cores".into(),
                state: format!("cursor region {label}"),
                unit: "ns/pair (wall)",
                threads,
                shadow: stats::mean(&s),
                kernel: stats::mean(&k),
                ratio: stats::ratio(&s, &k),
                extra: vec![],
            });
        }
    }
}

/// The lookup states: (label, pid_max, live numbers, absent numbers).
fn lookup_states(plan: &Plan) -> Vec<(String, i32, Vec<i32>, Vec<i32>)> {
    let big = plan.big;
    let mut v = vec![];
    for (n, pid_max) in [(1000, 32768), (32768, 65536), (big, 2 * big + 2)] {
        // Dense from 1 (0 is reserved); misses just past them.
        v.push((
            format!("{n} dense"),
            pid_max,
            (1..=n).collect(),
            (n + 1..=2 * n).collect(),
        ));
    }
    let mut rng = Rng(0xdead_beef);
    let (mut live, mut absent) = (vec![], vec![]);
    for nr in 1..65536 {
        if rng.chance(500_000) {
            live.push(nr);
        } else {
            absent.push(nr);
        }
    }
    v.insert(
        2,
        (
            format!("{} scattered 50 %", live.len()),
            65536,
            live,
            absent,
        ),
    );
    v
}

/// The lookups (hits and misses), the walks and the index memory, in each
/// lookup state, with the shadow's table fixed at 4096 buckets (2.6.24's
/// largest, the module's default here) and resized as `pidhash_resize`
/// would (about 1.5 buckets per entry).
pub(crate) fn lookups(t: &Thread, plan: &Plan, rows: &mut Vec<Row>) {
    for (label, pid_max, live, absent) in lookup_states(plan) {
        let mut b = Both::new(t, pid_max);
        for &nr in &live {
            b.take(t, nr);
        }
        let mut rng = Rng(0x1234_5678);
        // The whole set shuffled, then as many as a batch takes (the set
        // again, shuffled anew, when it is smaller): every key of a large
        // state is as likely as any other.
        let keys = |set: &[i32], rng: &mut Rng| {
            let mut k = Vec::with_capacity(plan.lookups);
            while k.len() < plan.lookups {
                let mut round = set.to_vec();
                rng.shuffle(&mut round);
                k.extend(round.into_iter().take(plan.lookups - k.len()));
            }
            k
        };
        let hits = keys(&live, &mut rng);
        let misses = keys(&absent, &mut rng);
        for (hash, resize) in [("fixed 4096", None), ("resizable", Some(live.len() as u32))] {
            shadow::resize(resize, 12);
            // 2.6.24's table at a million entries has chains of 244: fewer
            // keys and a shorter walk there, or one row would take minutes.
            let heavy = resize.is_none() && live.len() > 100_000;
            let (hits, misses) = if heavy {
                (&hits[..hits.len() / 50], &misses[..misses.len() / 50])
            } else {
                (&hits[..], &misses[..])
            };
            let (buckets, _) = shadow::table_size();
            let state = format!("{label}, shadow hash {hash} ({buckets} buckets)");
            // Figure 3 looks up; figure 10 also reads the pid found, as
            // every caller of find_pid_ns() does (the shadow's lookup has
            // read it already: its key is in it).
            for (fig, kind, keys, read) in [
                ("3", "hits", hits, false),
                ("3", "misses", misses, false),
                ("10", "hits", hits, true),
            ] {
                let want: usize = if kind == "misses" {
                    0
                } else if read {
                    keys.iter().map(|&nr| nr as usize).sum()
                } else {
                    keys.len()
                };
                let [s, k, e] = paired(
                    plan.reps,
                    [
                        &mut || {
                            let rcu = shadow::read_lock();
                            let t0 = Instant::now();
                            let mut found = 0usize;
                            for &nr in keys.iter() {
                                found += match b.shadow.find(&rcu, nr) {
                                    Some(e) if read => e.nr as usize,
                                    Some(_) => 1,
                                    None => 0,
                                };
                            }
                            let ns = per(t0.elapsed(), keys.len());
                            assert_eq!(found, want);
                            ns
                        },
                        &mut || {
                            let rcu = t.read_lock();
                            let t0 = Instant::now();
                            let mut found = 0usize;
                            for &nr in keys.iter() {
                                found += match b.kernel.find(&rcu, nr) {
                                    // SAFETY: a live object of `b`, under RCU.
                                    Some(o) if read => unsafe { o.as_ref() }.nr as usize,
                                    Some(_) => 1,
                                    None => 0,
                                };
                            }
                            let ns = per(t0.elapsed(), keys.len());
                            assert_eq!(found, want);
                            ns
                        },
                        &mut || {
                            let t0 = Instant::now();
                            let mut found = 0usize;
                            for &nr in keys.iter() {
                                found += empty(nr) as usize;
                            }
                            black_box(found);
                            per(t0.elapsed(), keys.len())
                        },
                    ],
                );
                let what = if read {
                    format!("find_pid_ns, {kind}, then read the pid (precomputed keys)")
                } else {
                    format!("find_pid_ns, {kind} (precomputed keys)")
                };
                rows.push(Row {
                    fig,
                    what,
                    state: state.clone(),
                    unit: "ns/op",
                    threads: 1,
                    shadow: stats::mean(&s),
                    kernel: stats::mean(&k),
                    ratio: stats::ratio(&s, &k),
                    extra: vec![(
                        "the same loop, an empty call, ns/op".into(),
                        stats::mean(&e),
                    )],
                });
            }
            let walk_n = live.len().min(if heavy { 2_000 } else { 100_000 });
            let [s, k] = paired(
                plan.reps,
                [
                    &mut || {
                        let rcu = shadow::read_lock();
                        let t0 = Instant::now();
                        let (mut nr, mut seen) = (0, 0usize);
                        while seen < walk_n {
                            let e = b.shadow.next(&rcu, nr).expect("a live number");
                            seen += 1;
                            nr = e.nr + 1;
                        }
                        assert_eq!(seen, walk_n);
                        per(t0.elapsed(), seen)
                    },
                    &mut || {
                        let rcu = t.read_lock();
                        let t0 = Instant::now();
                        let (mut nr, mut seen) = (0, 0usize);
                        while seen < walk_n {
                            let (_, o) = b.kernel.next(&rcu, nr).expect("a live number");
                            seen += 1;
                            // The pid found is read, as the shadow's is.
                            // SAFETY: a live object of `b`, read under RCU.
                            nr = unsafe { o.as_ref() }.nr + 1;
                        }
                        assert_eq!(seen, walk_n);
                        per(t0.elapsed(), seen)
                    },
                ],
            );
            rows.push(Row {
                fig: "4",
                what: format!(
                    "find_ge_pid walk of the first {walk_n} (2.6.24's: find_pid_ns, then next_pidmap)"
                ),
                state: state.clone(),
                unit: "ns/pid",
                threads: 1,
                shadow: stats::mean(&s),
                kernel: stats::mean(&k),
                ratio: stats::ratio(&s, &k),
                extra: vec![],
            });
            let (sm, km) = b.memory(t);
            let one = |x: f64| Interval {
                mean: x,
                lo: x,
                hi: x,
            };
            rows.push(Row {
                fig: "7",
                what: "index memory (pidmap pages + buckets + 16 B links / radix-tree nodes)"
                    .into(),
                state,
                unit: "B/pid",
                threads: 1,
                shadow: one(sm),
                kernel: one(km),
                ratio: one(sm / km),
                extra: vec![],
            });
        }
        shadow::resize(None, 12);
        drop(b);
        t.rcu_barrier();
    }
}

/// The lookups' baseline: a call that does nothing with the key.
#[inline(never)]
fn empty(nr: i32) -> bool {
    black_box(nr) < 0
}

/// Pins the calling thread to `cpu` (best effort: the figure says which
/// CPUs it ran on, `main` prints the machine).
pub(crate) fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the calls only read
    // and write it.
    unsafe {
        let mut set: libc::cpu_set_t = core::mem::zeroed();
        libc::CPU_SET(cpu % num_cpus(), &mut set);
        libc::sched_setaffinity(0, core::mem::size_of_val(&set), &set);
    }
}

/// CPUs online (not the calling thread's affinity, which `pin` narrows).
pub(crate) fn num_cpus() -> usize {
    // SAFETY: sysconf reads a value.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    n.max(1) as usize
}
