// SPDX-License-Identifier: GPL-2.0
//! `shadowpid stress`: threads hammering universes at once.
//!
//! Each worker runs random operations (from the same generator as the
//! model-based test, fed by a model of its own, so most operations name
//! plausible pids) in batches on a universe shared by all workers and on one
//! of its own, while another thread opens and closes universes, one for each
//! batch the workers run (unpaced, it took a third of the CPUs and did more
//! operations than the workers: 24,932 universes beside 1,000,448 worker
//! operations in a debug run). Answers
//! depend on the interleaving, so only their kind is checked: every one must
//! be a result or an errno of the documented set. At the end every namespace
//! of every universe must pass `check` (bits == live pids == hashed upids).

use crate::{
    abi,
    model::{Limits, Model},
    ops::{Op, Outcome},
    progress::Progress,
    random::{next_op, Rng},
    Device,
};
use serde::Serialize;
use std::{
    io,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Condvar, Mutex,
    },
    thread,
    time::Instant,
};

/// Errnos an operation may answer under any interleaving.
const EXPECTED: &[i32] = &[
    libc::EAGAIN,
    libc::EEXIST,
    libc::EINVAL,
    libc::ENOMEM,
    libc::ENOSPC,
    libc::ENOENT,
    libc::ESRCH,
    libc::EBUSY,
    libc::EBADF,
];

/// What a stress run did.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Operations run.
    pub ops: u64,
    /// Of which failed with an expected errno.
    pub errors: u64,
    /// Answers outside the documented set (each one is a bug).
    pub unexpected: u64,
    /// Universes opened and closed by the churn thread.
    pub churned: u64,
    /// Namespaces whose invariants failed at the end.
    pub broken: u64,
    /// Objects and pages the module still held once every file was closed.
    pub leaked: u64,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Runs `ops` operations on each of `threads` workers.
pub fn run(threads: usize, ops: usize, seed: u64) -> io::Result<Summary> {
    let shared = Device::open()?;
    let done = AtomicBool::new(false);
    let churned = AtomicU64::new(0);
    // Batches the workers have run; the churn thread opens a universe for
    // each, and waits for the next.
    let batches = (Mutex::new(0u64), Condvar::new());
    let start = Instant::now();
    let line = Progress::bar("stress", (threads * ops) as u64, "ops");
    let results: Vec<io::Result<(u64, u64, u64, Device)>> = thread::scope(|s| {
        let churn = s.spawn(|| -> io::Result<()> {
            let mut rng = Rng::new(seed ^ 0xc0ffee);
            let mut opened = 0u64;
            loop {
                let (count, ready) = &batches;
                let mut n = count.lock().expect("batch count poisoned");
                while *n <= opened && !done.load(Ordering::Relaxed) {
                    n = ready.wait(n).expect("batch count poisoned");
                }
                drop(n);
                if done.load(Ordering::Relaxed) {
                    break;
                }
                opened += 1;
                let dev = Device::open()?;
                let mut model = Model::new(Limits::default());
                let batch: Vec<Op> = (0..64)
                    .map(|_| {
                        let op = next_op(&mut rng, &model);
                        model.run(&op);
                        op
                    })
                    .collect();
                dev.run_all(&batch)?;
                drop(dev);
                churned.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        });
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (shared, line, batches) = (&shared, &line, &batches);
                s.spawn(move || -> io::Result<(u64, u64, u64, Device)> {
                    let own = Device::open()?;
                    let mut rng = Rng::new(seed.wrapping_add(t as u64 * 7919));
                    let mut model = Model::new(Limits::default());
                    let (mut n, mut errors, mut unexpected) = (0u64, 0u64, 0u64);
                    while (n as usize) < ops {
                        let batch: Vec<Op> = (0..256)
                            .map(|_| {
                                let op = next_op(&mut rng, &model);
                                model.run(&op);
                                op
                            })
                            .collect();
                        let dev = if rng.chance(50) { shared } else { &own };
                        line.inc(batch.len() as u64);
                        *batches.0.lock().expect("batch count poisoned") += 1;
                        batches.1.notify_one();
                        for (op, out) in batch.iter().zip(dev.run_all(&batch)?) {
                            n += 1;
                            match out {
                                Outcome::Err(e) if EXPECTED.contains(&e) => errors += 1,
                                // A check while other threads allocate sees
                                // numbers taken but not hashed yet: only the
                                // quiescent check at the end counts.
                                Outcome::Err(libc::EUCLEAN) if matches!(op, Op::Check { .. }) => {
                                    errors += 1
                                }
                                Outcome::Err(e) => {
                                    if unexpected < 5 {
                                        line.eprintln(&format!(
                                            "stress: {op} -> {}",
                                            Outcome::Err(e)
                                        ));
                                    }
                                    unexpected += 1;
                                }
                                _ => {}
                            }
                        }
                    }
                    Ok((n, errors, unexpected, own))
                })
            })
            .collect();
        let results = workers
            .into_iter()
            .map(|w| w.join().expect("worker panicked"))
            .collect();
        done.store(true, Ordering::Relaxed);
        // Under the lock, so that the churn thread cannot miss the wake-up
        // between its test of `done` and its wait.
        drop(batches.0.lock().expect("batch count poisoned"));
        batches.1.notify_one();
        if let Err(e) = churn.join().expect("churn panicked") {
            return vec![Err(e)];
        }
        results
    });
    line.set_message("checking every namespace");
    let mut sum = Summary {
        churned: churned.load(Ordering::Relaxed),
        ..Default::default()
    };
    let mut devices = vec![];
    for r in results {
        let (n, e, u, own) = r?;
        sum.ops += n;
        sum.errors += e;
        sum.unexpected += u;
        devices.push(own);
    }
    devices.push(shared);
    // Quiescent now: every namespace of every universe must be consistent.
    for dev in &devices {
        for ns in 0..abi::SHADOWPID_MAX_LEVEL * 4 {
            match dev.run(&Op::Check { ns })? {
                Outcome::Ok => {}
                Outcome::Err(libc::ENOENT) => {}
                _ => sum.broken += 1,
            }
        }
    }
    drop(devices);
    line.set_message("waiting for the module to free everything");
    sum.leaked = crate::settle()?;
    line.finish();
    sum.seconds = start.elapsed().as_secs_f64();
    Ok(sum)
}
