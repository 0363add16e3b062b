// SPDX-License-Identifier: GPL-2.0
//! `shadowpid fuzz`: hostile input for `/dev/shadowpid`.
//!
//! Threads issue random and malformed calls for a given time: unknown and
//! mangled ioctl numbers (every direction and size), the real commands with
//! null, unmapped, kernel, misaligned and page-straddling pointers, structs
//! full of garbage, plausible operations with wild fields (which do change
//! the universe: namespaces, pids, tasks), batches with huge counts or ops
//! running off the end of the mapping, and read/write/mmap on the file.
//! Files are closed and reopened as it goes, some shared by two threads.
//!
//! Every call must return (a watchdog ends the run with a failure if a
//! thread is stuck for a minute); every failure must be an errno of the documented
//! set, and so must every per-operation result the module writes back. The
//! kernel's own verdict (KASAN, lockdep, WARNING...) is read from the
//! console by `scripts/vm`.
//!
//! Memory the kernel may write to is a scratch mapping per thread, never a
//! Rust object: a region followed by a `PROT_NONE` guard page, so that an
//! argument near its end straddles into a fault.

use crate::{abi, progress::Progress, random::Rng, Device};
use serde::Serialize;
use std::{
    collections::BTreeMap,
    io,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    thread,
    time::{Duration, Instant},
};

/// Errnos an ioctl or an operation of the module may answer.
const DOCUMENTED: &[i32] = &[
    libc::EINVAL,
    libc::EFAULT,
    libc::ENOTTY,
    libc::ENOENT,
    libc::ESRCH,
    libc::EEXIST,
    libc::EAGAIN,
    libc::ENOSPC,
    libc::ENOMEM,
    libc::EBUSY,
    libc::EBADF,
    libc::EUCLEAN,
    libc::EINTR,
];

/// Errnos of read, write and mmap on a file with none of them.
const NO_SUCH_CALL: &[i32] = &[libc::EINVAL, libc::ENODEV, libc::EFAULT];

/// Bytes of each thread's scratch mapping the kernel may write to.
const SCRATCH: usize = 64 * 1024;

/// What a fuzz run did and found.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Calls made.
    pub calls: u64,
    /// Calls that succeeded.
    pub ok: u64,
    /// Failures by errno (of the calls and of the operations inside them);
    /// by name in JSON.
    #[serde(serialize_with = "crate::errno::serialize_counts")]
    pub errnos: BTreeMap<i32, u64>,
    /// Operations the module carried out and answered (in OP and BATCH).
    pub ops: u64,
    /// Answers outside the documented set: each one is a bug.
    pub unexpected: u64,
    /// Files closed and reopened.
    pub reopens: u64,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// A mapping of [`SCRATCH`] read-write bytes followed by a guard page.
///
/// # Invariants
///
/// `base` maps `SCRATCH + page` bytes, owned by this value; the last page
/// is `PROT_NONE`.
struct Scratch {
    /// Start of the mapping.
    base: *mut u8,
    /// The page size.
    page: usize,
}

impl Scratch {
    /// Maps a new scratch region.
    fn new() -> io::Result<Self> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        // SAFETY: an anonymous private mapping at an address the kernel picks.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                SCRATCH + page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the last page of the mapping just made.
        if unsafe { libc::mprotect(base.cast::<u8>().add(SCRATCH).cast(), page, libc::PROT_NONE) }
            != 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            base: base.cast(),
            page,
        })
    }

    /// Address `offset` bytes into the region.
    fn at(&self, offset: usize) -> u64 {
        self.base as u64 + offset.min(SCRATCH) as u64
    }

    /// Fills `len` bytes at `offset` with garbage.
    fn garble(&mut self, offset: usize, len: usize, rng: &mut Rng) {
        let end = (offset + len).min(SCRATCH);
        for i in offset..end {
            // SAFETY: inside the read-write part of the mapping (invariant).
            unsafe { *self.base.add(i) = rng.next_u64() as u8 };
        }
    }

    /// Writes `value` at `offset` (which must leave room for it).
    fn put<T: Copy>(&mut self, offset: usize, value: T) {
        assert!(offset + size_of::<T>() <= SCRATCH);
        // SAFETY: inside the read-write part of the mapping; unaligned write.
        unsafe { self.base.add(offset).cast::<T>().write_unaligned(value) };
    }

    /// Reads a `T` at `offset`.
    fn get<T: Copy>(&self, offset: usize) -> T {
        assert!(offset + size_of::<T>() <= SCRATCH);
        // SAFETY: as in `put`; any bit pattern is a valid `T` for the plain
        // integer structs of the ABI this is used with.
        unsafe { self.base.add(offset).cast::<T>().read_unaligned() }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: the mapping this value owns (invariant).
        unsafe { libc::munmap(self.base.cast(), SCRATCH + self.page) };
    }
}

/// A number a field might plausibly or wildly hold.
fn wild(rng: &mut Rng) -> u32 {
    match rng.below(8) {
        0 => 0,
        1 => 1,
        2 => u32::MAX,
        3 => i32::MAX as u32,
        4 => i32::MIN as u32,
        5 => rng.below(8) as u32,
        6 => 300 + rng.below(40_000) as u32,
        _ => rng.next_u64() as u32,
    }
}

/// A plausible operation with wild fields: mostly valid codes and small
/// ids, so that it often does something.
fn plausible_op(rng: &mut Rng) -> abi::shadowpid_op {
    let small = |rng: &mut Rng| {
        if rng.chance(80) {
            rng.below(6) as u32
        } else {
            wild(rng)
        }
    };
    let mut op = abi::shadowpid_op {
        op: if rng.chance(90) {
            1 + rng.below(17) as u32
        } else {
            wild(rng)
        },
        ns: small(rng),
        nr: if rng.chance(70) {
            rng.below(400) as i32
        } else {
            wild(rng) as i32
        },
        ..Default::default()
    };
    for a in &mut op.arg {
        *a = small(rng);
    }
    if rng.chance(30) {
        op.count = if rng.chance(80) {
            rng.below(4) as u32
        } else {
            wild(rng)
        };
        for n in &mut op.nrs {
            *n = if rng.chance(70) {
                rng.below(400) as i32
            } else {
                wild(rng) as i32
            };
        }
    }
    if rng.chance(5) {
        op.result = wild(rng) as i32;
        op.value = rng.next_u64() as i64;
        op.level = wild(rng);
    }
    if rng.chance(3) {
        op.reserved = wild(rng);
    }
    if rng.chance(3) {
        op.reserved2 = wild(rng);
    }
    op
}

/// A pointer the kernel cannot use: null, unmapped, kernel, or wild.
fn bad_pointer(rng: &mut Rng, scratch: &Scratch) -> u64 {
    match rng.below(7) {
        0 => 0,
        1 => 1 + rng.below(4096),
        2 => 0xffff_8880_0000_0000 + rng.below(1 << 30),
        3 => 0xffff_ffff_ffff_f000 + rng.below(4096),
        4 => scratch.at(SCRATCH) + rng.below(scratch.page as u64),
        5 => 0x0000_7fff_ffff_f000 + rng.below(4096),
        _ => rng.next_u64(),
    }
}

/// Counts errno `e` of a call or an operation into `sum`.
fn count(sum: &mut Summary, e: i32, allowed: &[i32], what: &str) {
    *sum.errnos.entry(e).or_default() += 1;
    if !allowed.contains(&e) {
        if sum.unexpected < 10 {
            eprintln!("fuzz: {what} -> {}", crate::errno::errno_name(e));
        }
        sum.unexpected += 1;
    }
}

/// Checks the per-operation results the module wrote back to `n` ops at
/// `offset` of the scratch.
fn check_results(sum: &mut Summary, scratch: &Scratch, offset: usize, n: usize) {
    let size = size_of::<abi::shadowpid_op>();
    for i in 0..n {
        let at = offset + i * size;
        if at + size > SCRATCH {
            break;
        }
        let op: abi::shadowpid_op = scratch.get(at);
        sum.ops += 1;
        if op.result < 0 {
            count(sum, -op.result, DOCUMENTED, "an operation's result");
        } else if op.result > 0 {
            eprintln!("fuzz: an operation's result is {}", op.result);
            sum.unexpected += 1;
        }
    }
}

/// One ioctl on `fd`; records its answer.
fn ioctl(sum: &mut Summary, fd: i32, cmd: u32, arg: u64) -> bool {
    sum.calls += 1;
    // SAFETY: `arg` is either an address the kernel cannot use or one in
    // this thread's scratch mapping, which holds no Rust object.
    let ret = unsafe { libc::ioctl(fd, cmd as _, arg) };
    if ret == 0 {
        sum.ok += 1;
        return true;
    }
    let e = io::Error::last_os_error().raw_os_error().unwrap_or(0);
    count(sum, e, DOCUMENTED, &format!("ioctl {cmd:#x}"));
    false
}

/// One random call on `dev`.
fn one_call(sum: &mut Summary, dev: &Device, rng: &mut Rng, scratch: &mut Scratch) {
    let fd = dev.file_fd();
    let real = [
        abi::SHADOWPID_IOC_VERSION,
        abi::SHADOWPID_IOC_OP,
        abi::SHADOWPID_IOC_BATCH,
        abi::SHADOWPID_IOC_STATS,
        abi::SHADOWPID_IOC_BENCH,
    ];
    let op_size = size_of::<abi::shadowpid_op>();
    match rng.below(20) {
        // Any number at all.
        0 => {
            let arg = if rng.chance(50) {
                bad_pointer(rng, scratch)
            } else {
                scratch.at(0)
            };
            ioctl(sum, fd, rng.next_u64() as u32, arg);
        }
        // Our magic, every number, direction and size.
        1 | 2 => {
            let cmd = (rng.below(4) as u32) << 30
                | (rng.below(1 << 14) as u32) << 16
                | abi::SHADOWPID_IOC_MAGIC << 8
                | rng.below(16) as u32;
            let at = rng.below(SCRATCH as u64) as usize;
            scratch.garble(at, 256, rng);
            ioctl(sum, fd, cmd, scratch.at(at));
        }
        // A real command, a pointer it cannot use.
        3..=5 => {
            let cmd = real[rng.below(real.len() as u64) as usize];
            ioctl(sum, fd, cmd, bad_pointer(rng, scratch));
        }
        // A real command, its struct straddling into the guard page.
        6 => {
            let cmd = real[rng.below(real.len() as u64) as usize];
            let back = 1 + rng.below(op_size as u64) as usize;
            scratch.garble(SCRATCH - back, back, rng);
            ioctl(sum, fd, cmd, scratch.at(SCRATCH - back));
        }
        // A real command, garbage in every byte of its struct.
        7 | 8 => {
            let cmd = real[rng.below(real.len() as u64) as usize];
            let at = rng.below(1024) as usize;
            scratch.garble(at, 1024, rng);
            if cmd == abi::SHADOWPID_IOC_BENCH {
                // Garbage can be valid: keep the work small if it is.
                scratch.put(at + 8, 1 + rng.below(64) as u32);
            }
            ioctl(sum, fd, cmd, scratch.at(at));
        }
        // One plausible operation, possibly misaligned.
        9..=13 => {
            let at = rng.below(64) as usize;
            scratch.put(at, plausible_op(rng));
            if ioctl(sum, fd, abi::SHADOWPID_IOC_OP, scratch.at(at)) {
                check_results(sum, scratch, at, 1);
            }
        }
        // A batch of plausible operations, sometimes with a lying count.
        14..=16 => {
            let n = 1 + rng.below(200) as usize;
            let ops_at = 4096;
            for i in 0..n {
                scratch.put(ops_at + i * op_size, plausible_op(rng));
            }
            let count = match rng.below(6) {
                0 => u32::MAX - rng.below(16) as u32,
                1 => abi::SHADOWPID_BATCH_MAX + rng.below(4) as u32,
                2 => (SCRATCH - ops_at) as u32 / op_size as u32 + 1 + rng.below(1000) as u32,
                3 => 0,
                _ => n as u32,
            };
            let b = abi::shadowpid_batch {
                ops: if rng.chance(10) {
                    bad_pointer(rng, scratch)
                } else {
                    scratch.at(ops_at)
                },
                count,
                done: wild(rng),
                flags: if rng.chance(80) {
                    rng.below(2) as u32
                } else {
                    wild(rng)
                },
                failed: wild(rng),
            };
            scratch.put(0, b);
            if ioctl(sum, fd, abi::SHADOWPID_IOC_BATCH, scratch.at(0)) {
                let done: abi::shadowpid_batch = scratch.get(0);
                check_results(sum, scratch, ops_at, done.done as usize);
            }
        }
        // Statistics of a plausible or wild namespace.
        17 => {
            let st = abi::shadowpid_stats {
                ns: if rng.chance(80) {
                    rng.below(8) as u32
                } else {
                    wild(rng)
                },
                reserved: if rng.chance(10) { wild(rng) } else { 0 },
                module_pids: if rng.chance(5) { wild(rng) } else { 0 },
                ..Default::default()
            };
            scratch.put(0, st);
            ioctl(sum, fd, abi::SHADOWPID_IOC_STATS, scratch.at(0));
        }
        // Calls the file does not have.
        _ => {
            let len = rng.below(4096) as usize;
            let buf = if rng.chance(50) {
                scratch.at(0)
            } else {
                bad_pointer(rng, scratch)
            };
            sum.calls += 1;
            // SAFETY: as in `ioctl`: the buffer is scratch or unusable.
            let ret = unsafe {
                match rng.below(3) {
                    0 => libc::read(fd, buf as *mut libc::c_void, len) as i64,
                    1 => libc::write(fd, buf as *const libc::c_void, len) as i64,
                    _ => {
                        let p = libc::mmap(
                            std::ptr::null_mut(),
                            4096,
                            libc::PROT_READ,
                            libc::MAP_SHARED,
                            fd,
                            0,
                        );
                        if p == libc::MAP_FAILED {
                            -1
                        } else {
                            libc::munmap(p, 4096);
                            0
                        }
                    }
                }
            };
            if ret >= 0 {
                eprintln!("fuzz: read/write/mmap on the device succeeded");
                sum.unexpected += 1;
            } else {
                let e = io::Error::last_os_error().raw_os_error().unwrap_or(0);
                count(sum, e, NO_SUCH_CALL, "read/write/mmap");
            }
        }
    }
}

/// Fuzzes for `seconds` on `threads` threads.
pub fn run(seconds: u64, threads: usize, seed: u64) -> io::Result<Summary> {
    let start = Instant::now();
    let stop = AtomicBool::new(false);
    let progress: Vec<AtomicU64> = (0..threads).map(|_| AtomicU64::new(0)).collect();
    let shared = Mutex::new(Arc::new(Device::open()?));
    let results: Vec<io::Result<Summary>> = thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (stop, progress, shared) = (&stop, &progress[t], &shared);
                s.spawn(move || -> io::Result<Summary> {
                    let mut sum = Summary::default();
                    let mut rng = Rng::new(seed.wrapping_mul(0x9e37_79b9).wrapping_add(t as u64));
                    let mut scratch = Scratch::new()?;
                    let mut dev = Arc::new(Device::open()?);
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..256 {
                            one_call(&mut sum, &dev, &mut rng, &mut scratch);
                        }
                        progress.fetch_add(1, Ordering::Relaxed);
                        if rng.chance(2) {
                            // A fresh universe, or the one the threads share.
                            dev = if rng.chance(50) {
                                let fresh = Arc::new(Device::open()?);
                                *shared.lock().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
                                fresh
                            } else {
                                shared.lock().unwrap_or_else(|e| e.into_inner()).clone()
                            };
                            sum.reopens += 1;
                        }
                    }
                    Ok(sum)
                })
            })
            .collect();
        // The watchdog: every thread must get through 256 calls a minute.
        let mut last: Vec<u64> = vec![0; threads];
        let mut still = Instant::now();
        let line = Progress::bar("fuzz", seconds, "s");
        while start.elapsed() < Duration::from_secs(seconds) {
            thread::sleep(Duration::from_millis(200));
            let now: Vec<u64> = progress.iter().map(|p| p.load(Ordering::Relaxed)).collect();
            line.set_position(start.elapsed().as_secs());
            line.set_message(format!("{} calls", now.iter().sum::<u64>() * 256));
            if now.iter().zip(&last).any(|(n, l)| n == l) {
                if still.elapsed() > Duration::from_secs(60) {
                    // Its call is stuck in the kernel: joining would hang too.
                    eprintln!("fuzz: a thread made no progress for 60 s");
                    std::process::exit(1);
                }
            } else {
                still = Instant::now();
            }
            last = now;
        }
        line.finish();
        stop.store(true, Ordering::Relaxed);
        workers
            .into_iter()
            .map(|w| w.join().expect("fuzz worker panicked"))
            .collect()
    });
    let mut total = Summary::default();
    for r in results {
        let r = r?;
        total.calls += r.calls;
        total.ok += r.ok;
        total.ops += r.ops;
        total.unexpected += r.unexpected;
        total.reopens += r.reopens;
        for (e, n) in r.errnos {
            *total.errnos.entry(e).or_default() += n;
        }
    }
    total.seconds = start.elapsed().as_secs_f64();
    Ok(total)
}
