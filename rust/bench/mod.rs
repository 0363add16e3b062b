// SPDX-License-Identifier: GPL-2.0

//! `SHADOWPID_IOC_BENCH`: the shadow allocator timed beside the native-style
//! one ([`crate::native`]), in the same call, on the same machine.
//!
//! Every figure builds its state on both sides outside the timed region,
//! then alternates repetitions (shadow, native, shadow, ...) so that a drift
//! of the machine falls on both. A repetition times `iterations` operations
//! with `ktime_get()` and reports picoseconds per operation. Frees deferred
//! by RCU are let through (`rcu_barrier()`) between repetitions, untimed.
//! Only one benchmark runs at a time (EBUSY otherwise), and a signal ends
//! one between steps (EINTR) after it has torn its state down.

mod native;

use crate::{
    namespace::{PidNamespace, MAX_LEVEL, PID_MAX_MIN},
    pid::{self, Pid},
    pidmap::{ScanCounter, BITS_PER_PAGE, PID_MAX_LIMIT, RESERVED_PIDS},
    uapi,
};
use core::{
    ffi::c_void,
    sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, Ordering},
};
use kernel::{
    bindings,
    prelude::*,
    sync::{aref::ARef, rcu},
};
use native::{NativeNs, NativePid};

/// Set while a benchmark runs.
static BUSY: AtomicBool = AtomicBool::new(false);

/// Most operations per repetition.
const MAX_ITERATIONS: u32 = 1 << 24;
/// Most live pids for LOOKUP, WALK and MEMORY.
const MAX_LIVE: u32 = 1 << 20;

/// Monotonic nanoseconds.
fn now() -> i64 {
    // SAFETY: `ktime_get()` may be called from any context.
    unsafe { bindings::ktime_get() }
}

/// Picoseconds per operation of `ops` operations that took `ns` ns.
fn ps_per_op(ns: i64, ops: u64) -> u64 {
    (ns.max(0) as u64).saturating_mul(1000) / ops.max(1)
}

/// EINTR if a signal is pending for the caller.
fn interrupted() -> Result {
    if kernel::current!().signal_pending() {
        return Err(EINTR);
    }
    Ok(())
}

/// A cheap, reproducible sequence (xorshift64*) shared by both sides.
struct Sequence(u64);

impl Sequence {
    /// The next value.
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `lo..hi`.
    fn within(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() % (hi - lo) as u64) as i32
    }
}

/// Whether number `nr` is taken at `occupancy` parts per million: a fixed
/// scatter (a hash of the number), the same on both sides.
fn occupied(nr: i32, occupancy: u32) -> bool {
    let mut x = (nr as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 29;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 32;
    (x % 1_000_000) < u64::from(occupancy)
}

/// The shadow side of a figure: a chain of namespaces, each with its init.
struct Shadow {
    /// Root first.
    chain: KVec<ARef<PidNamespace>>,
    /// The inits, root first, and any other pids held (up to a million:
    /// kvmalloc'd).
    pids: KVVec<ARef<Pid>>,
}

impl Shadow {
    /// `depth` nested namespaces with pid_max `pid_max`; with their inits
    /// if `inits`.
    fn new(depth: u32, pid_max: i32, inits: bool) -> Result<Self> {
        let mut s = Self {
            chain: KVec::new(),
            pids: KVVec::new(),
        };
        for _ in 0..depth {
            let ns = PidNamespace::create(s.chain.last())?;
            ns.set_pid_max(pid_max.into())?;
            s.chain.push(ns, GFP_KERNEL)?;
            if inits {
                let init = s.alloc_pid()?;
                s.pids.push(init, GFP_KERNEL)?;
            }
        }
        Ok(s)
    }

    /// The most nested namespace.
    fn leaf(&self) -> &ARef<PidNamespace> {
        // `new` made at least one.
        &self.chain[self.chain.len() - 1]
    }

    /// `alloc_pid()` in the most nested namespace.
    fn alloc_pid(&self) -> Result<ARef<Pid>> {
        pid::alloc_pid(self.leaf(), &[])
    }

    /// `live` pids in the most nested namespace (numbers 1..=live).
    fn fill(&mut self, live: u32) -> Result {
        for i in self.pids.len() as u32..live {
            if i % 65536 == 0 {
                interrupted()?;
            }
            let pid = self.alloc_pid()?;
            self.pids.push(pid, GFP_KERNEL)?;
        }
        Ok(())
    }
}

impl Drop for Shadow {
    fn drop(&mut self) {
        // Most recent first, inits last: the namespaces die with them.
        while let Some(pid) = self.pids.pop() {
            let _ = pid::free_pid(&pid);
        }
    }
}

/// The native side of a figure, shaped as [`Shadow`].
struct Native {
    /// Root first.
    chain: KVec<NativeNs>,
    /// The inits, root first, and any other pids held.
    pids: KVVec<NativePid>,
}

impl Native {
    /// As [`Shadow::new`].
    fn new(depth: u32, pid_max: i32, inits: bool) -> Result<Self> {
        let mut s = Self {
            chain: KVec::new(),
            pids: KVVec::new(),
        };
        for _ in 0..depth {
            let ns = NativeNs::new(s.chain.last(), pid_max)?;
            s.chain.push(ns, GFP_KERNEL)?;
            if inits {
                let init = s.leaf().alloc_pid()?;
                s.pids.push(init, GFP_KERNEL)?;
            }
        }
        Ok(s)
    }

    /// The most nested namespace.
    fn leaf(&self) -> &NativeNs {
        &self.chain[self.chain.len() - 1]
    }

    /// As [`Shadow::fill`].
    fn fill(&mut self, live: u32) -> Result {
        for i in self.pids.len() as u32..live {
            if i % 65536 == 0 {
                interrupted()?;
            }
            let pid = self.leaf().alloc_pid()?;
            self.pids.push(pid, GFP_KERNEL)?;
        }
        Ok(())
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        while let Some(pid) = self.pids.pop() {
            drop(pid);
        }
    }
}

/// Runs `reps` repetitions of each side, alternating, and fills
/// `out.shadow_ps` / `out.native_ps`. Each closure runs one repetition and
/// returns its ps per operation.
fn alternate(
    out: &mut uapi::shadowpid_bench,
    mut shadow: impl FnMut() -> Result<u64>,
    mut native: impl FnMut() -> Result<u64>,
) -> Result {
    for r in 0..out.reps as usize {
        interrupted()?;
        out.shadow_ps[r] = shadow()?;
        kernel::sync::rcu::rcu_barrier();
        out.native_ps[r] = native()?;
        kernel::sync::rcu::rcu_barrier();
    }
    Ok(())
}

/// Times alloc + free pairs of numbers alone on both sides' leaves.
fn number_pairs(out: &mut uapi::shadowpid_bench, shadow: &Shadow, native: &Native) -> Result {
    let n = out.iterations;
    alternate(
        out,
        || {
            let ns = shadow.leaf();
            let t = now();
            for _ in 0..n {
                let nr = ns.alloc_cyclic()?;
                ns.pidmap.free(nr);
            }
            Ok(ps_per_op(now() - t, n.into()))
        },
        || {
            let ns = native.leaf();
            let t = now();
            for _ in 0..n {
                let nr = ns.alloc_nr()?;
                ns.free_nr(nr);
            }
            Ok(ps_per_op(now() - t, n.into()))
        },
    )
}

/// Figure 1: numbers only, in a fresh namespace of pid_max 32768.
fn numbers(out: &mut uapi::shadowpid_bench) -> Result {
    let shadow = Shadow::new(1, crate::namespace::PID_MAX_DEFAULT, false)?;
    let native = Native::new(1, crate::namespace::PID_MAX_DEFAULT, false)?;
    number_pairs(out, &shadow, &native)
}

/// Figure 2: alloc_pid + free_pid at `depth`.
fn full(out: &mut uapi::shadowpid_bench) -> Result {
    let n = out.iterations;
    let shadow = Shadow::new(out.depth, crate::namespace::PID_MAX_DEFAULT, true)?;
    let native = Native::new(out.depth, crate::namespace::PID_MAX_DEFAULT, true)?;
    alternate(
        out,
        || {
            let t = now();
            for _ in 0..n {
                let pid = shadow.alloc_pid()?;
                pid::free_pid(&pid)?;
            }
            Ok(ps_per_op(now() - t, n.into()))
        },
        || {
            let t = now();
            for _ in 0..n {
                drop(native.leaf().alloc_pid()?);
            }
            Ok(ps_per_op(now() - t, n.into()))
        },
    )
}

/// Both sides with numbers 1..=`live` taken by pids, pid_max 4194304.
fn populated(live: u32) -> Result<(Shadow, Native)> {
    let mut shadow = Shadow::new(1, PID_MAX_LIMIT, true)?;
    shadow.fill(live)?;
    let mut native = Native::new(1, PID_MAX_LIMIT, true)?;
    native.fill(live)?;
    Ok((shadow, native))
}

/// Figure 3: find_pid_ns against idr_find, `live` pids live; with `read`,
/// each side also reads the number of the pid it found (LOOKUP_READ).
fn lookup(out: &mut uapi::shadowpid_bench, read: bool) -> Result {
    let (n, live) = (out.iterations, out.live as i32);
    let (shadow, native) = populated(out.live)?;
    let mut seq_s = Sequence(0x5eed);
    let mut seq_n = Sequence(0x5eed);
    alternate(
        out,
        || {
            let ns = shadow.leaf();
            let mut missed = 0;
            let t = now();
            for _ in 0..n {
                let nr = seq_s.within(1, live + 1);
                let guard = rcu::read_lock();
                match pid::find_pid_ns(nr, ns, &guard) {
                    Some(pid) if read => missed += u32::from(pid.leaf_nr() != nr),
                    Some(_) => {}
                    None => missed += 1,
                }
            }
            let elapsed = now() - t;
            if missed != 0 {
                return Err(EUCLEAN);
            }
            Ok(ps_per_op(elapsed, n.into()))
        },
        || {
            let ns = native.leaf();
            let mut missed = 0;
            let t = now();
            for _ in 0..n {
                let nr = seq_n.within(1, live + 1);
                missed += u32::from(if read {
                    ns.find_nr(nr) != Some(nr)
                } else {
                    !ns.find(nr)
                });
            }
            let elapsed = now() - t;
            if missed != 0 {
                return Err(EUCLEAN);
            }
            Ok(ps_per_op(elapsed, n.into()))
        },
    )
}

/// Figure 4: the ordered walk over `live` pids, `iterations` walks.
fn walk(out: &mut uapi::shadowpid_bench) -> Result {
    let (n, live) = (out.iterations, out.live);
    let (shadow, native) = populated(live)?;
    let steps = u64::from(n) * u64::from(live);
    alternate(
        out,
        || {
            let map = &shadow.leaf().pidmap;
            let mut seen = 0u64;
            let t = now();
            for _ in 0..n {
                let mut nr = 0;
                while let Some(next) = map.next(nr) {
                    seen += 1;
                    nr = next;
                }
            }
            let elapsed = now() - t;
            if seen != steps {
                return Err(EUCLEAN);
            }
            Ok(ps_per_op(elapsed, steps))
        },
        || {
            let ns = native.leaf();
            let mut seen = 0u64;
            let t = now();
            for _ in 0..n {
                let mut nr = 0;
                while let Some(next) = ns.next(nr) {
                    seen += 1;
                    nr = next + 1;
                }
            }
            let elapsed = now() - t;
            if seen != steps {
                return Err(EUCLEAN);
            }
            Ok(ps_per_op(elapsed, steps))
        },
    )
}

/// Figure 7: bytes for `live` live pids.
fn memory(out: &mut uapi::shadowpid_bench) -> Result {
    let (shadow, native) = populated(out.live)?;
    let ns = shadow.leaf();
    let pid_bytes = shadow.pids.first().map_or(0, |p| p.slab_bytes());
    out.shadow_bytes = u64::from(ns.pidmap.pages()) * bindings::PAGE_SIZE as u64
        + u64::from(out.live) * pid_bytes
        + crate::hash::table_bytes();
    let native_pid = native.pids.first().map_or(0, NativePid::bytes);
    out.native_bytes = native.leaf().idr_bytes() + u64::from(out.live) * native_pid;
    Ok(())
}

/// Figure 8: the floor, an atomic test-and-set + clear pair on one word.
fn floor(out: &mut uapi::shadowpid_bench) -> Result {
    let n = out.iterations;
    let word = core::sync::atomic::AtomicU64::new(0);
    for r in 0..out.reps as usize {
        interrupted()?;
        let t = now();
        for i in 0..n {
            let mask = 1u64 << (i % 64);
            if word.fetch_or(mask, Ordering::AcqRel) & mask == 0 {
                word.fetch_and(!mask, Ordering::AcqRel);
            }
        }
        out.shadow_ps[r] = ps_per_op(now() - t, n.into());
    }
    Ok(())
}

/// The shadow's and the native's number spaces up to `pid_max`, with every
/// number taken for which `taken` holds (number 0 is never handed out).
fn numbers_taken(pid_max: i32, taken: impl Fn(i32) -> bool) -> Result<(Shadow, Native)> {
    let shadow = Shadow::new(1, pid_max, false)?;
    let native = Native::new(1, pid_max, false)?;
    let map = &shadow.leaf().pidmap;
    for nr in 1..pid_max {
        if nr % 65536 == 0 {
            interrupted()?;
        }
        if taken(nr) {
            map.alloc_exact(nr)?;
            native.leaf().take_nr(nr)?;
        }
    }
    Ok((shadow, native))
}

/// Figure 6: every number but one taken; the allocation that finds it.
fn worst(out: &mut uapi::shadowpid_bench) -> Result {
    let (n, pid_max) = (out.iterations, out.pid_max as i32);
    let (shadow, native) = numbers_taken(pid_max, |_| true)?;
    let mut holes = Sequence(0xbad);
    let mut max_work = ScanWork::default();
    let pid_max_now = shadow.leaf().pid_max.load(Ordering::Relaxed);
    for r in 0..out.reps as usize {
        interrupted()?;
        // The hole, and the cursor just past it: the search goes all the way
        // round, every page skipped by nr_free but the hole's, scanned.
        let hole = holes.within(RESERVED_PIDS, pid_max);
        let ns = shadow.leaf();
        let t = now();
        for _ in 0..n {
            ns.pidmap.free(hole);
            ns.last_pid.store(hole, Ordering::Relaxed);
            let mut work = ScanWork::default();
            // The namespace's own allocation (`alloc_cyclic()`), with a
            // counter the production path does not carry.
            let got = ns
                .pidmap
                .alloc_cyclic_counted(hole + 1, pid_max_now, &mut work)?
                .ok_or(EAGAIN)?;
            ns.last_pid.store(got, Ordering::Relaxed);
            if got != hole {
                return Err(EUCLEAN);
            }
            max_work.pages = max_work.pages.max(work.pages);
            max_work.words = max_work.words.max(work.words);
        }
        out.shadow_ps[r] = ps_per_op(now() - t, n.into());
        let ns = native.leaf();
        let t = now();
        for _ in 0..n {
            ns.free_nr(hole);
            ns.set_cursor(hole + 1);
            if ns.alloc_nr()? != hole {
                return Err(EUCLEAN);
            }
        }
        out.native_ps[r] = ps_per_op(now() - t, n.into());
    }
    out.work = [max_work.pages.into(), max_work.words.into()];
    // The seed's bound: each page of the map visited once (the hole's
    // twice, as the search wraps into it), one page's words scanned once.
    let words_per_page = (bindings::PAGE_SIZE / 8) as u32;
    let pages = (pid_max as u32).div_ceil(BITS_PER_PAGE as u32);
    if max_work.pages > pages + 1 || max_work.words > words_per_page + 1 {
        return Err(EUCLEAN);
    }
    Ok(())
}

/// Figure 9: alloc + free pairs at an occupancy, scattered.
fn occupancy(out: &mut uapi::shadowpid_bench) -> Result {
    let occ = out.occupancy;
    let (shadow, native) = numbers_taken(out.pid_max as i32, |nr| occupied(nr, occ))?;
    number_pairs(out, &shadow, &native)
}

/// What the threads of the contention figure share.
struct Hammer<'a> {
    /// The shadow side, if it is the shadow's turn.
    shadow: Option<&'a Shadow>,
    /// The native side, otherwise.
    native: Option<&'a Native>,
    /// Pairs per thread.
    iterations: u32,
    /// Threads ready to start.
    ready: AtomicU32,
    /// Set to start them all at once.
    go: AtomicBool,
    /// Set with `go` when not every thread could be made: no work then.
    abort: AtomicBool,
    /// Threads done.
    done: AtomicU32,
    /// When the last one finished, ns.
    end: AtomicI64,
    /// The first error of a thread (a negative errno), or 0.
    error: AtomicI32,
}

impl Hammer<'_> {
    /// One thread's work: `iterations` alloc_pid + free_pid pairs.
    fn work(&self) -> Result {
        for _ in 0..self.iterations {
            if let Some(s) = self.shadow {
                let pid = s.alloc_pid()?;
                pid::free_pid(&pid)?;
            } else if let Some(n) = self.native {
                drop(n.leaf().alloc_pid()?);
            }
        }
        Ok(())
    }
}

/// The body of a contention thread.
///
/// # Safety
///
/// `data` is a [`Hammer`] that outlives the thread (its creator stops the
/// thread with `kthread_stop()` before letting it go).
unsafe extern "C" fn hammer_thread(data: *mut c_void) -> i32 {
    // SAFETY: by the function's safety requirement.
    let h = unsafe { &*data.cast::<Hammer<'_>>() };
    h.ready.fetch_add(1, Ordering::AcqRel);
    while !h.go.load(Ordering::Acquire) {
        core::hint::spin_loop();
    }
    if h.abort.load(Ordering::Acquire) {
        // Made, but the others could not be: nothing to measure.
    } else if let Err(e) = h.work() {
        let _ = h
            .error
            .compare_exchange(0, e.to_errno(), Ordering::AcqRel, Ordering::Relaxed);
    }
    h.end.fetch_max(now(), Ordering::AcqRel);
    h.done.fetch_add(1, Ordering::AcqRel);
    // SAFETY: called from a kthread.
    while !unsafe { bindings::kthread_should_stop() } {
        // SAFETY: sleeping is fine in a kthread.
        unsafe { bindings::msleep(1) };
    }
    0
}

/// Runs `h` on `cpus` kernel threads, one pinned to each of the first
/// `cpus` online CPUs; returns the wall time from the start to the last end.
fn hammer(h: &Hammer<'_>, cpus: u32) -> Result<i64> {
    let mut tasks: KVec<*mut bindings::task_struct> = KVec::new();
    let mut result = Ok(());
    for i in 0..cpus {
        let Some(cpu) = native::nth_online_cpu(i) else {
            result = Err(EINVAL);
            break;
        };
        // SAFETY: `hammer_thread` takes a `Hammer`, which outlives the
        // thread: every thread made here is stopped below before return.
        let task = unsafe {
            bindings::kthread_create_on_cpu(
                Some(hammer_thread),
                core::ptr::from_ref(h).cast_mut().cast(),
                cpu,
                c"shadowpid_bench/%u".as_char_ptr(),
            )
        };
        if let Err(e) = kernel::error::from_err_ptr(task) {
            result = Err(e);
            break;
        }
        // SAFETY: a new kthread; the reference keeps its task_struct for
        // `kthread_stop()` whatever the thread does.
        unsafe { bindings::get_task_struct(task) };
        if let Err(e) = tasks.push(task, GFP_KERNEL) {
            // SAFETY: the thread has not run: stopping it never runs it.
            unsafe {
                bindings::kthread_stop(task);
                bindings::put_task_struct(task);
            }
            result = Err(e.into());
            break;
        }
        // SAFETY: a new kthread, waiting to be woken.
        unsafe { bindings::wake_up_process(task) };
    }
    let mut start = 0;
    if result.is_ok() {
        while h.ready.load(Ordering::Acquire) < cpus {
            // SAFETY: process context.
            unsafe { bindings::msleep(1) };
        }
        start = now();
        h.go.store(true, Ordering::Release);
        while h.done.load(Ordering::Acquire) < cpus {
            // SAFETY: process context.
            unsafe { bindings::msleep(1) };
        }
    }
    if result.is_err() {
        // Threads already made spin until `go`: let them out, idle.
        h.abort.store(true, Ordering::Release);
        h.go.store(true, Ordering::Release);
    }
    for &task in tasks.iter() {
        // SAFETY: our reference keeps `task` valid; `kthread_stop()` waits
        // for the thread to return from `hammer_thread`.
        unsafe {
            bindings::kthread_stop(task);
            bindings::put_task_struct(task);
        }
    }
    result?;
    match h.error.load(Ordering::Acquire) {
        0 => Ok(h.end.load(Ordering::Acquire) - start),
        e => Err(Error::from_errno(e)),
    }
}

/// Figure 5: alloc/free pairs on `cpus` pinned threads, one namespace.
fn contention(out: &mut uapi::shadowpid_bench) -> Result {
    let (n, cpus) = (out.iterations, out.cpus);
    let shadow = Shadow::new(1, crate::namespace::PID_MAX_DEFAULT, true)?;
    let native = Native::new(1, crate::namespace::PID_MAX_DEFAULT, true)?;
    let pairs = u64::from(n) * u64::from(cpus);
    let run = |s: Option<&Shadow>, nat: Option<&Native>| -> Result<u64> {
        let h = Hammer {
            shadow: s,
            native: nat,
            iterations: n,
            ready: AtomicU32::new(0),
            go: AtomicBool::new(false),
            abort: AtomicBool::new(false),
            done: AtomicU32::new(0),
            end: AtomicI64::new(0),
            error: AtomicI32::new(0),
        };
        Ok(ps_per_op(hammer(&h, cpus)?, pairs))
    };
    alternate(
        out,
        || run(Some(&shadow), None),
        || run(None, Some(&native)),
    )
}

/// Checks the inputs of `b`: every one the figure reads in range, every
/// other one zero.
fn validate(b: &uapi::shadowpid_bench) -> Result {
    let (live, depth, cpus) = (b.live != 0, b.depth != 0, b.cpus != 0);
    let (occ, max) = (b.occupancy != 0, b.pid_max != 0);
    let pid_max_ok = (PID_MAX_MIN..=PID_MAX_LIMIT).contains(&(b.pid_max as i32));
    let reads = match b.figure {
        uapi::SHADOWPID_BENCH_NUMBERS | uapi::SHADOWPID_BENCH_FLOOR => {
            !(live || depth || cpus || occ || max)
        }
        uapi::SHADOWPID_BENCH_FULL => {
            (1..=MAX_LEVEL).contains(&b.depth) && !(live || cpus || occ || max)
        }
        uapi::SHADOWPID_BENCH_LOOKUP
        | uapi::SHADOWPID_BENCH_LOOKUP_READ
        | uapi::SHADOWPID_BENCH_WALK
        | uapi::SHADOWPID_BENCH_MEMORY => {
            (1..=MAX_LIVE).contains(&b.live) && !(depth || cpus || occ || max)
        }
        uapi::SHADOWPID_BENCH_CONTENTION => {
            (1..=native::online_cpus()).contains(&b.cpus) && !(live || depth || occ || max)
        }
        uapi::SHADOWPID_BENCH_WORST => pid_max_ok && !(live || depth || cpus || occ),
        uapi::SHADOWPID_BENCH_OCCUPANCY => {
            pid_max_ok && b.occupancy < 1_000_000 && !(live || depth || cpus)
        }
        _ => false,
    };
    if !reads
        || !(1..=uapi::SHADOWPID_BENCH_MAX_REPS).contains(&b.reps)
        || !(1..=MAX_ITERATIONS).contains(&b.iterations)
    {
        return Err(EINVAL);
    }
    Ok(())
}

/// What one allocation scan visited: for the worst-case figure.
#[derive(Default, Clone, Copy)]
struct ScanWork {
    /// Map entries visited (skipped by `nr_free` or scanned).
    pages: u32,
    /// 64-bit words read while looking for a zero bit.
    words: u32,
}

impl ScanCounter for ScanWork {
    fn entry(&mut self) {
        self.pages = self.pages.wrapping_add(1);
    }

    fn words(&mut self, n: u32) {
        self.words = self.words.wrapping_add(n);
    }
}

/// `SHADOWPID_IOC_BENCH`: reads the request, runs it, writes the answer.
pub(crate) fn ioctl(user: kernel::uaccess::UserSlice) -> Result<isize> {
    let (mut reader, mut writer) = user.reader_writer();
    let mut req: uapi::shadowpid_bench = reader.read()?;
    run(&mut req)?;
    writer.write(&req)?;
    Ok(0)
}

/// Frees what the reference allocator keeps (its caches) at unload.
///
/// # Safety
///
/// No benchmark runs or will.
pub(crate) unsafe fn exit() {
    // SAFETY: by the caller's guarantee.
    unsafe { native::exit() };
}

/// Runs the figure `b` asks for and fills in its outputs.
fn run(b: &mut uapi::shadowpid_bench) -> Result {
    validate(b)?;
    if BUSY.swap(true, Ordering::Acquire) {
        return Err(EBUSY);
    }
    b.shadow_ps = [0; uapi::SHADOWPID_BENCH_MAX_REPS as usize];
    b.native_ps = [0; uapi::SHADOWPID_BENCH_MAX_REPS as usize];
    b.work = [0; 2];
    b.shadow_bytes = 0;
    b.native_bytes = 0;
    let result = match b.figure {
        uapi::SHADOWPID_BENCH_NUMBERS => numbers(b),
        uapi::SHADOWPID_BENCH_FULL => full(b),
        uapi::SHADOWPID_BENCH_LOOKUP => lookup(b, false),
        uapi::SHADOWPID_BENCH_LOOKUP_READ => lookup(b, true),
        uapi::SHADOWPID_BENCH_WALK => walk(b),
        uapi::SHADOWPID_BENCH_CONTENTION => contention(b),
        uapi::SHADOWPID_BENCH_WORST => worst(b),
        uapi::SHADOWPID_BENCH_MEMORY => memory(b),
        uapi::SHADOWPID_BENCH_FLOOR => floor(b),
        uapi::SHADOWPID_BENCH_OCCUPANCY => occupancy(b),
        _ => Err(EINVAL),
    };
    // Let deferred frees of both sides finish before the next caller.
    kernel::sync::rcu::rcu_barrier();
    BUSY.store(false, Ordering::Release);
    result
}
