// SPDX-License-Identifier: GPL-2.0
//! The live mirror (`SHADOWPID_IOC_MIRROR`): attach it, run a workload,
//! read what it saw. See Documentation/shadowpid/mirror.rst.
//!
//! An [`Attachment`] detaches it when it goes, and says so after a signal
//! ([`crate::interrupt`]): the commands that attach it stop at SIGINT,
//! SIGTERM or SIGHUP with the mirror detached and its kprobes removed.

use crate::{
    abi,
    bench::stats::{self, Interval},
    errno::errno_name,
    interrupt,
    progress::Progress,
    Device,
};
use serde::Serialize;
use std::{
    fmt, io,
    time::{Duration, Instant},
};

/// One fork where the 2.6.24 allocator would have handed out another number.
#[derive(Clone, Debug, Serialize)]
pub struct Divergence {
    /// The namespace's inode number (as `/proc/PID/ns/pid`).
    pub ns_inode: u32,
    /// Its level (0: the initial namespace).
    pub level: u32,
    /// The kernel's cursor when the fork started.
    pub cursor: i32,
    /// The shadow's number; `None`: it found none.
    pub shadow: Option<i32>,
    /// The kernel's number, or -errno.
    pub kernel: i32,
    /// The cursor the shadow had (its own: one past the number it last
    /// took); not `cursor` when the kernel's moved unexplained.
    pub shadow_cursor: i32,
    /// The errno's name when the kernel's allocation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_errno: Option<String>,
}

/// What the mirror counted since it was attached.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Attached now.
    pub attached: bool,
    /// Forks (cyclic allocations) seen.
    pub cyclic: u64,
    /// set_tid allocations seen.
    pub set_tid: u64,
    /// Numbers freed.
    pub freed: u64,
    /// Namespaces destroyed while mirrored.
    pub namespaces_gone: u64,
    /// Namespaces given a shadow.
    pub namespaces_mirrored: u64,
    /// Shadows now.
    pub namespaces_live: u64,
    /// Forks compared.
    pub compared: u64,
    /// ... agreeing.
    pub matched: u64,
    /// ... disagreeing.
    pub diverged: u64,
    /// set_tid allocations recorded (not compared).
    pub forced: u64,
    /// ns_last_pid writes seen.
    pub cursor_writes: u64,
    /// Kernel cursors moved between allocations where the hooks saw why
    /// (ns_last_pid written, 7.3's reset before a namespace's first pid).
    pub cursor_jumps: u64,
    /// Forks whose kernel cursor was not the shadow's, unexplained (in
    /// `diverged` too).
    pub cursor_diverged: u64,
    /// Calls whose caller could not be read (behind another kretprobe's
    /// trampoline): not compared.
    pub unattributed: u64,
    /// Times a missed event marked every shadow for a resync.
    pub missed_resyncs: u64,
    /// Forks no hook explained, put down to an ns_last_pid write the hooks
    /// missed (one at most a missed write): not compared.
    pub missed_write_forks: u64,
    /// Shadows copied again from the kernel's IDR.
    pub resyncs: u64,
    /// Pages a handler needed and the mirror's pool did not have (the
    /// namespace is copied again).
    pub atomic_failures: u64,
    /// Allocations not compared (the kernel's ENOMEM retry, or a namespace
    /// being copied).
    pub skipped: u64,
    /// Events the kernel's probes missed, by hook: cyclic, set_tid, free,
    /// namespace destroyed, ns_last_pid written.
    pub missed: [u64; abi::SHADOWPID_MIRROR_EV_KINDS as usize],
    /// Namespaces the mirror could not track (their forks not compared).
    pub namespaces_untracked: u64,
    /// Inode numbers of the first of them.
    pub untracked: Vec<u32>,
    /// Shadows being copied now.
    pub namespaces_copying: u64,
    /// Namespace copies completed.
    pub copies: u64,
    /// Copies begun again.
    pub copy_restarts: u64,
    /// Allocations of the module's work item that failed (tried again).
    pub refill_failures: u64,
    /// Pages the mirror holds.
    pub pages: u64,
    /// How long the mirror held the kernel's pidmap_lock per event.
    pub hold_event: Hold,
    /// ... at the end of a namespace's copy.
    pub hold_copy: Hold,
    /// The first divergences.
    pub divergences: Vec<Divergence>,
}

/// How long the mirror held `pidmap_lock`, from the module's histogram
/// (four buckets per power of two: each quantile is the upper bound of its
/// bucket, at most 19 % above the true one).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Hold {
    /// Holds recorded.
    pub count: u64,
    /// Median, ns (at most).
    pub p50_ns: u64,
    /// 99th percentile, ns (at most).
    pub p99_ns: u64,
    /// The longest, ns (exact).
    pub max_ns: u64,
}

/// The lower bound, ns, of bucket `b` of a hold histogram (the uapi's
/// `SHADOWPID_MIRROR_HOLD_BUCKETS`).
fn bucket_lo(b: usize) -> u64 {
    if b < 4 {
        b as u64
    } else {
        (4 + (b % 4) as u64) << (b / 4 - 1)
    }
}

impl Hold {
    /// From one row of the histogram and its maximum.
    fn of(hist: &[u64], max: u64) -> Self {
        let count: u64 = hist.iter().sum();
        let quantile = |q: f64| {
            let want = (q * count as f64).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (b, &n) in hist.iter().enumerate() {
                seen += n;
                if seen >= want {
                    return if b + 1 < hist.len() {
                        (bucket_lo(b + 1) - 1).min(max)
                    } else {
                        max
                    };
                }
            }
            max
        };
        Hold {
            count,
            p50_ns: if count > 0 { quantile(0.5) } else { 0 },
            p99_ns: if count > 0 { quantile(0.99) } else { 0 },
            max_ns: max,
        }
    }
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} holds, p50 <= {} ns, p99 <= {} ns, max {} ns",
            self.count, self.p50_ns, self.p99_ns, self.max_ns
        )
    }
}

impl Report {
    /// Events missed, all hooks.
    pub fn missed_total(&self) -> u64 {
        self.missed.iter().sum()
    }

    /// Clean: nothing diverged, nothing missed, every call attributed,
    /// every namespace tracked.
    pub fn clean(&self) -> bool {
        self.diverged == 0
            && self.missed_total() == 0
            && self.unattributed == 0
            && self.namespaces_untracked == 0
    }

    /// The report's last line: `mirror: C compared, D diverged, M missed`.
    pub fn summary(&self) -> String {
        format!(
            "mirror: {} compared, {} diverged, {} missed, {} unattributed, {} untracked, {} forced, {} cursor jumps, {} resyncs",
            self.compared,
            self.diverged,
            self.missed_total(),
            self.unattributed,
            self.namespaces_untracked,
            self.forced,
            self.cursor_jumps,
            self.resyncs
        )
    }
}

impl From<&abi::shadowpid_mirror> for Report {
    fn from(m: &abi::shadowpid_mirror) -> Self {
        let ev = |k: u32| m.events[k as usize];
        Report {
            attached: m.attached != 0,
            cyclic: ev(abi::SHADOWPID_MIRROR_EV_CYCLIC),
            set_tid: ev(abi::SHADOWPID_MIRROR_EV_SET_TID),
            freed: ev(abi::SHADOWPID_MIRROR_EV_FREE),
            namespaces_gone: ev(abi::SHADOWPID_MIRROR_EV_NS_GONE),
            namespaces_mirrored: m.ns_mirrored,
            namespaces_live: m.ns_live,
            compared: m.compared,
            matched: m.matched,
            diverged: m.diverged,
            forced: m.forced,
            cursor_writes: ev(abi::SHADOWPID_MIRROR_EV_CURSOR),
            cursor_jumps: m.cursor_jumps,
            cursor_diverged: m.cursor_diverged,
            unattributed: m.unattributed,
            missed_resyncs: m.missed_resyncs,
            missed_write_forks: m.missed_write_forks,
            resyncs: m.resyncs,
            atomic_failures: m.atomic_failures,
            skipped: m.skipped,
            missed: m.missed,
            namespaces_untracked: m.ns_untracked,
            untracked: m.untracked[..(m.untracked_count as usize).min(m.untracked.len())].to_vec(),
            namespaces_copying: m.ns_copying,
            copies: m.copies,
            copy_restarts: m.copy_restarts,
            refill_failures: m.refill_failures,
            pages: m.pages,
            hold_event: Hold::of(
                &m.hold[abi::SHADOWPID_MIRROR_HOLD_EVENT as usize],
                m.hold_max[abi::SHADOWPID_MIRROR_HOLD_EVENT as usize],
            ),
            hold_copy: Hold::of(
                &m.hold[abi::SHADOWPID_MIRROR_HOLD_COPY as usize],
                m.hold_max[abi::SHADOWPID_MIRROR_HOLD_COPY as usize],
            ),
            divergences: m.log[..(m.log_count as usize).min(m.log.len())]
                .iter()
                .map(|d| Divergence {
                    ns_inode: d.ns_inum,
                    level: d.level,
                    cursor: d.cursor,
                    shadow: (d.shadow_nr >= 0).then_some(d.shadow_nr),
                    kernel: d.kernel_nr,
                    shadow_cursor: d.shadow_cursor,
                    kernel_errno: (d.kernel_nr < 0).then(|| errno_name(-d.kernel_nr)),
                })
                .collect(),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "events:      {} forks, {} set_tid, {} frees, {} namespaces gone",
            self.cyclic, self.set_tid, self.freed, self.namespaces_gone
        )?;
        writeln!(
            f,
            "namespaces:  {} mirrored, {} live, {} being copied, {} untracked{}; {} copies ({} begun again), {} pages, {} failed refills",
            self.namespaces_mirrored,
            self.namespaces_live,
            self.namespaces_copying,
            self.namespaces_untracked,
            if self.untracked.is_empty() {
                String::new()
            } else {
                format!(
                    " (ns {})",
                    self.untracked
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            self.copies,
            self.copy_restarts,
            self.pages,
            self.refill_failures
        )?;
        writeln!(f, "pidmap_lock: per event {}", self.hold_event)?;
        writeln!(f, "pidmap_lock: per copy  {}", self.hold_copy)?;
        writeln!(
            f,
            "forks:       {} compared, {} matched (number and cursor), {} diverged ({} by the cursor); \
             {} set_tid recorded (forced)",
            self.compared, self.matched, self.diverged, self.cursor_diverged, self.forced
        )?;
        writeln!(
            f,
            "followed:    {} cursor jumps ({} ns_last_pid writes), {} resyncs, {} pages the pool \
             lacked, {} skipped",
            self.cursor_jumps, self.cursor_writes, self.resyncs, self.atomic_failures, self.skipped
        )?;
        writeln!(
            f,
            "missed:      {} fork, {} set_tid, {} free, {} namespace-gone, {} ns_last_pid events \
             (kprobe nmissed; {} times every shadow resynchronised for them, {} forks put down to \
             the writes missed); {} calls unattributed",
            self.missed[0],
            self.missed[1],
            self.missed[2],
            self.missed[3],
            self.missed[4],
            self.missed_resyncs,
            self.missed_write_forks,
            self.unattributed
        )?;
        for d in &self.divergences {
            let kernel = d.kernel_errno.clone().unwrap_or(d.kernel.to_string());
            writeln!(
                f,
                "divergence:  ns {} (level {}), cursor {} (the shadow's {}): 2.6.24 {}, kernel {}",
                d.ns_inode,
                d.level,
                d.cursor,
                d.shadow_cursor,
                d.shadow.map_or("none".into(), |n| n.to_string()),
                kernel
            )?;
        }
        write!(f, "{}", self.summary())
    }
}

/// How long [`Mirror::attached`] waits for the first copies to end.
const SETTLE: Duration = Duration::from_secs(60);

/// The live mirror, through an open device file.
#[derive(Clone, Copy)]
pub struct Mirror<'a> {
    /// The file it is attached through (or asked through).
    dev: &'a Device,
}

impl<'a> Mirror<'a> {
    /// The mirror, as `dev` reaches it.
    pub fn new(dev: &'a Device) -> Self {
        Self { dev }
    }

    /// One command.
    fn cmd(&self, cmd: u32, arg: u64) -> io::Result<Report> {
        let mut m = abi::shadowpid_mirror {
            cmd,
            arg,
            ..Default::default()
        };
        self.dev.mirror_raw(&mut m)?;
        Ok(Report::from(&m))
    }

    /// Attaches it to this file (EBUSY if attached elsewhere); it detaches
    /// when this file is closed, whatever ends the process.
    pub fn attach(&self) -> io::Result<Report> {
        self.cmd(abi::SHADOWPID_MIRROR_ATTACH, 0)
    }

    /// Detaches it.
    pub fn detach(&self) -> io::Result<Report> {
        self.cmd(abi::SHADOWPID_MIRROR_DETACH, 0)
    }

    /// Attaches it until the [`Attachment`] returned goes, once a canary
    /// showed that its hooks see forks: a child forks in a fresh PID
    /// namespace (three numbers: the child's, and its child's at two
    /// levels), and the mirror must have seen at least as many. Seen, not
    /// compared: a fork the mirror could not compare (an atomic allocation
    /// failed, under fault injection) was still seen, and counted.
    pub fn attached(&self) -> io::Result<Attachment<'a>> {
        self.attach()?;
        let attachment = Attachment {
            mirror: *self,
            attached: true,
        };
        canary()?;
        let seen = self.status()?.cyclic;
        if seen < 3 {
            return Err(io::Error::other(format!(
                "the mirror is attached but saw {seen} of the canary's 3 forks: its hooks do not \
                 see this kernel's forks"
            )));
        }
        // The namespaces met so far (the initial one among them) are copied
        // by the module's work item; forks are compared once they are.
        let start = Instant::now();
        while self.status()?.namespaces_copying > 0 {
            if start.elapsed() > SETTLE {
                return Err(io::Error::other(format!(
                    "the mirror's copies of the namespaces met at attach did not end in {} s",
                    SETTLE.as_secs()
                )));
            }
            interrupt::check()?;
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(attachment)
    }

    /// PERTURB_CURSOR: before the next fork in the namespace of inode
    /// `ns_inode`, the shadow's cursor moves one on, as an unexplained move
    /// of the kernel's would look.
    pub fn perturb_cursor(&self, ns_inode: u32) -> io::Result<Report> {
        self.cmd(abi::SHADOWPID_MIRROR_PERTURB_CURSOR, ns_inode.into())
    }

    /// Its report.
    pub fn status(&self) -> io::Result<Report> {
        self.cmd(abi::SHADOWPID_MIRROR_STATUS, 0)
    }

    /// Test of the detector: the next fork in the namespace of inode
    /// `ns_inode` diverges once.
    pub fn perturb(&self, ns_inode: u32) -> io::Result<Report> {
        self.cmd(abi::SHADOWPID_MIRROR_PERTURB, ns_inode.into())
    }
}

/// Forks a child that forks again in a new PID namespace, and waits for
/// both: three numbers allocated, at levels 0, 0 and 1.
fn canary() -> io::Result<()> {
    // SAFETY: the child only calls async-signal-safe functions (unshare,
    // fork, waitpid, _exit) before it exits.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(io::Error::last_os_error());
    }
    if child == 0 {
        // SAFETY: as above.
        unsafe {
            let ok = libc::unshare(libc::CLONE_NEWPID) == 0 && {
                let grandchild = libc::fork();
                if grandchild == 0 {
                    libc::_exit(0);
                }
                grandchild > 0 && libc::waitpid(grandchild, std::ptr::null_mut(), 0) == grandchild
            };
            libc::_exit(if ok { 0 } else { 1 });
        }
    }
    let mut status = 0;
    // SAFETY: `child` is ours; `status` is valid for writing.
    if unsafe { libc::waitpid(child, &mut status, 0) } != child {
        return Err(io::Error::last_os_error());
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(io::Error::other(
            "the mirror's canary could not fork in a new PID namespace",
        ));
    }
    Ok(())
}

/// The mirror attached through this process's file, detached when this
/// goes (the file's release would detach it too, whatever ends the
/// process); after a signal, it says so on stderr.
pub struct Attachment<'a> {
    /// The mirror.
    mirror: Mirror<'a>,
    /// Not detached yet.
    attached: bool,
}

impl Attachment<'_> {
    /// Detaches it now: the report as it was detached.
    pub fn detach(mut self) -> io::Result<Report> {
        self.attached = false;
        let report = self.mirror.detach();
        Self::say(&report);
        report
    }

    /// After a signal, says that it was detached.
    fn say(detached: &io::Result<Report>) {
        if let Some(sig) = interrupt::requested() {
            match detached {
                Ok(_) => eprintln!(
                    "mirror: {}: detached the mirror (its kprobes are removed)",
                    interrupt::signal_name(sig)
                ),
                Err(e) => eprintln!(
                    "mirror: {}: detaching the mirror failed: {e} (closing the file detaches it)",
                    interrupt::signal_name(sig)
                ),
            }
        }
    }
}

impl Drop for Attachment<'_> {
    fn drop(&mut self) {
        if self.attached {
            Self::say(&self.mirror.detach());
        }
    }
}

/// Median and spread of one side of [`Cost`], ns per operation.
#[derive(Clone, Debug, Serialize)]
pub struct Side {
    /// Median of the repetitions.
    pub median: f64,
    /// Fastest.
    pub min: f64,
    /// Slowest.
    pub max: f64,
}

impl Side {
    /// From the repetitions' ns per operation.
    fn of(mut v: Vec<f64>) -> Self {
        v.sort_by(f64::total_cmp);
        Side {
            median: v[v.len() / 2],
            min: v[0],
            max: v[v.len() - 1],
        }
    }
}

/// What the mirror costs the kernel's own paths, measured in one run.
#[derive(Clone, Debug, Serialize)]
pub struct Cost {
    /// Forks per repetition.
    pub forks: u32,
    /// Threads per repetition.
    pub threads: u32,
    /// Repetitions per side.
    pub reps: u32,
    /// fork + child `_exit` + `waitpid`, mirror detached.
    pub fork_detached: Side,
    /// ... attached.
    pub fork_attached: Side,
    /// thread create + join, detached.
    pub thread_detached: Side,
    /// ... attached.
    pub thread_attached: Side,
    /// attached / detached medians.
    pub fork_ratio: f64,
    /// attached / detached medians.
    pub thread_ratio: f64,
    /// attached / detached, paired by repetition: the geometric mean of
    /// the repetitions' ratios and its 95 % interval.
    pub fork_ratio_paired: Interval,
    /// ... of threads.
    pub thread_ratio_paired: Interval,
    /// The mirror's report over the attached runs: they must agree. Its
    /// holds are those of the repetition that held `pidmap_lock` longest.
    pub report: Report,
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |s: &Side| {
            format!(
                "{:.1} us ({:.1}..{:.1})",
                s.median / 1e3,
                s.min / 1e3,
                s.max / 1e3
            )
        };
        let paired = |r: &Interval| format!("{:.3}x (95 % {:.3}..{:.3})", r.mean, r.lo, r.hi);
        writeln!(
            f,
            "fork+exit+wait x {} ({} reps): detached {}, attached {}: medians {:.3}x, paired {}",
            self.forks,
            self.reps,
            side(&self.fork_detached),
            side(&self.fork_attached),
            self.fork_ratio,
            paired(&self.fork_ratio_paired)
        )?;
        writeln!(
            f,
            "thread create+join x {} ({} reps): detached {}, attached {}: medians {:.3}x, paired {}",
            self.threads,
            self.reps,
            side(&self.thread_detached),
            side(&self.thread_attached),
            self.thread_ratio,
            paired(&self.thread_ratio_paired)
        )?;
        writeln!(f, "pidmap_lock per event: {}", self.report.hold_event)?;
        writeln!(f, "pidmap_lock per copy:  {}", self.report.hold_copy)?;
        write!(f, "{}", self.report.summary())
    }
}

/// ns per fork of `n` fork + `_exit` + `waitpid`.
fn forks(n: u32) -> io::Result<f64> {
    let start = Instant::now();
    for _ in 0..n {
        interrupt::check()?;
        // SAFETY: the child only calls `_exit`, async-signal-safe.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            // SAFETY: leaving the child at once.
            unsafe { libc::_exit(0) };
        }
        // SAFETY: our own child.
        if unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) } != pid {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(start.elapsed().as_nanos() as f64 / f64::from(n.max(1)))
}

/// ns per thread of `n` thread create + join.
fn threads(n: u32) -> io::Result<f64> {
    let start = Instant::now();
    for _ in 0..n {
        interrupt::check()?;
        std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(|| {})?
            .join()
            .map_err(|_| io::Error::other("thread panicked"))?;
    }
    Ok(start.elapsed().as_nanos() as f64 / f64::from(n.max(1)))
}

/// Measures fork and thread creation with the mirror detached and attached
/// in turn (`reps` times each, alternating, so that drift falls on both).
/// A signal stops it, the mirror detached.
pub fn cost(m: &Mirror<'_>, nforks: u32, nthreads: u32, reps: u32) -> io::Result<Cost> {
    let reps = reps.max(1);
    let (mut fd, mut fa, mut td, mut ta) = (vec![], vec![], vec![], vec![]);
    let mut report = Report::default();
    let line = Progress::bar("mirror cost", u64::from(reps) * 2, "sides");
    for _ in 0..reps {
        line.set_message("detached");
        fd.push(forks(nforks)?);
        td.push(threads(nthreads)?);
        line.inc(1);
        line.set_message("attached");
        let attachment = m.attached()?;
        let attached = (|| Ok::<_, io::Error>((forks(nforks)?, threads(nthreads)?)))();
        let r = m.status();
        attachment.detach()?;
        line.inc(1);
        let (f, t) = attached?;
        fa.push(f);
        ta.push(t);
        let r = r?;
        report.compared += r.compared;
        report.matched += r.matched;
        report.diverged += r.diverged;
        for (a, b) in report.missed.iter_mut().zip(r.missed) {
            *a += b;
        }
        report.namespaces_untracked += r.namespaces_untracked;
        // The holds of the repetition that held longest.
        if r.hold_event.max_ns >= report.hold_event.max_ns {
            report.hold_event = r.hold_event;
        }
        if r.hold_copy.max_ns >= report.hold_copy.max_ns {
            report.hold_copy = r.hold_copy;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (fork_ratio_paired, thread_ratio_paired) = (stats::ratio(&fa, &fd), stats::ratio(&ta, &td));
    let (fork_detached, fork_attached) = (Side::of(fd), Side::of(fa));
    let (thread_detached, thread_attached) = (Side::of(td), Side::of(ta));
    Ok(Cost {
        fork_ratio_paired,
        thread_ratio_paired,
        forks: nforks,
        threads: nthreads,
        reps,
        fork_ratio: fork_attached.median / fork_detached.median,
        thread_ratio: thread_attached.median / thread_detached.median,
        fork_detached,
        fork_attached,
        thread_detached,
        thread_attached,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::{bucket_lo, Hold};
    use crate::abi;

    /// The module's bucket of `ns` (rust/mirror/probes.c, hold_bucket()).
    fn bucket(ns: u64) -> usize {
        if ns < 4 {
            return ns as usize;
        }
        let l = 63 - ns.leading_zeros() as u64;
        let b = (l - 1) * 4 + ((ns >> (l - 2)) & 3);
        (b as usize).min(abi::SHADOWPID_MIRROR_HOLD_BUCKETS as usize - 1)
    }

    #[test]
    fn buckets_bound_what_they_count() {
        let last = abi::SHADOWPID_MIRROR_HOLD_BUCKETS as usize - 1;
        for ns in (0..100_000).chain([1 << 20, 3 << 30, 1 << 40, u64::MAX >> 1]) {
            let b = bucket(ns);
            assert!(bucket_lo(b) <= ns, "{ns} ns in bucket {b}");
            if b < last {
                assert!(ns < bucket_lo(b + 1), "{ns} ns in bucket {b}");
            }
        }
        // Four a power of two: each bound within 25 % of the next.
        for b in 8..last {
            assert!(bucket_lo(b + 1) * 4 <= bucket_lo(b) * 5 + 4);
        }
    }

    #[test]
    fn quantiles_are_bucket_upper_bounds() {
        let mut hist = vec![0u64; abi::SHADOWPID_MIRROR_HOLD_BUCKETS as usize];
        // 98 holds of 1,000 ns, one of 50,000, one of 9,000,000.
        hist[bucket(1_000)] = 98;
        hist[bucket(50_000)] = 1;
        hist[bucket(9_000_000)] = 1;
        let h = Hold::of(&hist, 9_000_000);
        assert_eq!(h.count, 100);
        assert!((1_000..1_250).contains(&h.p50_ns), "{h:?}");
        assert!((50_000..62_500).contains(&h.p99_ns), "{h:?}");
        assert_eq!(h.max_ns, 9_000_000);
        assert_eq!(Hold::of(&vec![0; hist.len()], 0).p99_ns, 0);
    }
}
