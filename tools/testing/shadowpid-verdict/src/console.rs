// SPDX-License-Identifier: GPL-2.0

//! What a guest's kernel console says that a maintainer would call a
//! report, and the taint flags read at the end of the boot.
//!
//! The patterns are the first lines the kernel prints for each kind of
//! report (lib/bug.c, kernel/panic.c, mm/kasan/report.c, lib/ubsan.c,
//! mm/kmemleak.c, kernel/locking/lockdep.c, kernel/rcu/tree_stall.h,
//! kernel/hung_task.c, kernel/watchdog.c, mm/slub.c, lib/list_debug.c),
//! and KUnit's own `not ok` lines, which the console carries for every
//! run of a suite, at whatever load it ran.

/// One report on a console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// What kind of report it is ("lockdep", "KASAN", "SLUB", ...).
    pub kind: &'static str,
    /// Its line number in the log, from 1.
    pub line: usize,
    /// The line, its timestamp removed.
    pub text: String,
}

/// The line without printk's `[    1.234567] ` timestamp.
fn message(line: &str) -> &str {
    let l = line.trim_end_matches('\r');
    if let Some(rest) = l.strip_prefix('[') {
        if let Some((stamp, msg)) = rest.split_once(']') {
            if stamp.trim().chars().all(|c| c.is_ascii_digit() || c == '.') {
                return msg.trim_start();
            }
        }
    }
    l
}

/// The kind of report a console message starts, if any.
fn kind(m: &str) -> Option<&'static str> {
    let starts = |p: &str| m.starts_with(p);
    let has = |p: &str| m.contains(p);
    Some(if has("Kernel panic") {
        "panic"
    } else if has("BUG: KASAN:") || starts("KASAN:") {
        "KASAN"
    } else if has("UBSAN:") {
        "UBSAN"
    } else if has("BUG: KFENCE:") {
        "KFENCE"
    } else if has("kmemleak:") && has("new suspected memory leak") {
        "kmemleak"
    } else if starts("WARNING: CPU:") || has("------------[ cut here ]------------") {
        "WARNING"
    } else if starts("WARNING: ") {
        // lockdep ("possible circular locking dependency", "inconsistent
        // lock state", ...) and RCU debugging ("suspicious RCU usage").
        "lockdep"
    } else if has("INFO: trying to register non-static key") || has("INFO: possible ") {
        "lockdep"
    } else if has("detected stall") || has("self-detected stall") {
        "RCU stall"
    } else if has("INFO: task ") && has("blocked for more than") {
        "hung task"
    } else if has("soft lockup") || has("hard LOCKUP") || has("BUG: workqueue lockup") {
        "lockup"
    } else if starts("INFO: ") {
        "INFO"
    } else if has("list_add corruption") || has("list_del corruption") {
        "list corruption"
    } else if has("Slab cache still has objects") {
        "SLUB"
    } else if starts("BUG ") && m[4..].contains(" (") && m.contains("):") {
        // SLUB's "BUG cache (Tainted: ...): what" has no colon after BUG.
        "SLUB"
    } else if has("BUG:") || has("kernel BUG at") {
        "BUG"
    } else if has("Oops") {
        "Oops"
    } else if has("general protection fault") {
        "general protection fault"
    } else if starts("not ok ") {
        // KUnit's suite and case lines (the timestamp's removal took the
        // cases' indentation with it).
        "KUnit failure"
    } else {
        return None;
    })
}

/// Every report in `log`, in order.
pub fn scan(log: &str) -> Vec<Report> {
    log.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let m = message(l);
            kind(m).map(|kind| Report {
                kind,
                line: i + 1,
                text: m.trim().to_string(),
            })
        })
        .collect()
}

/// The taint flags by bit (kernel/panic.c's `taint_flags`).
const FLAGS: &[(char, &str)] = &[
    ('P', "proprietary module"),
    ('F', "module force-loaded"),
    ('S', "kernel running on an out-of-spec system"),
    ('R', "module force-unloaded"),
    ('M', "machine check"),
    ('B', "bad page"),
    ('U', "user request"),
    ('D', "kernel died (oops or BUG)"),
    ('A', "ACPI table overridden"),
    ('W', "kernel warning"),
    ('C', "staging driver"),
    ('I', "firmware workaround"),
    ('O', "out-of-tree module"),
    ('E', "unsigned module"),
    ('L', "soft lockup"),
    ('K', "kernel live-patched"),
    ('X', "auxiliary"),
    ('T', "randstruct"),
    ('N', "test (KUnit ran)"),
];

/// The flags a test run may leave: the module is out of tree (O) and
/// unsigned (E), and KUnit taints with N whenever one of its suites runs
/// (lib/kunit/test.c, `add_taint(TAINT_TEST, …)`).
pub const ALLOWED: &str = "OEN";

/// The flags of `tainted` (the value of /proc/sys/kernel/tainted) that a
/// test run must not leave, as (letter, meaning).
pub fn bad_taint(tainted: u64) -> Vec<(char, &'static str)> {
    let mut bad: Vec<_> = FLAGS
        .iter()
        .enumerate()
        .filter(|(bit, (c, _))| tainted & (1 << bit) != 0 && !ALLOWED.contains(*c))
        .map(|(_, f)| *f)
        .collect();
    if tainted >> FLAGS.len() != 0 {
        bad.push(('?', "a flag this tool does not know"));
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(log: &str) -> Vec<&'static str> {
        scan(log).into_iter().map(|r| r.kind).collect()
    }

    #[test]
    fn every_kind_of_report() {
        let log = "\
[    0.100000] Linux version 7.3.4
[    1.000000] ------------[ cut here ]------------
[    1.000001] WARNING: CPU: 0 PID: 1 at lib/foo.c:1 foo+0x1/0x2
[    2.000000] WARNING: possible circular locking dependency detected
[    2.100000] INFO: trying to register non-static key.
[    3.000000] BUG: KASAN: slab-use-after-free in bar+0x3/0x4
[    4.000000] BUG shadowpid_pid_1 (Tainted: G           O     ): Objects remaining on __kmem_cache_shutdown()
[    4.100000] kmem_cache_destroy shadowpid_pid_namespace: Slab cache still has objects when called from x
[    5.000000] kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
[    6.000000] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
[    7.000000] INFO: task kworker/0:1:12 blocked for more than 120 seconds.
[    8.000000] watchdog: BUG: soft lockup - CPU#0 stuck for 22s!
[    9.000000] UBSAN: shift-out-of-bounds in x.c:3:4
[   10.000000] Oops: general protection fault, probably for non-canonical address
[   11.000000]     not ok 3 removal_does_not_walk_the_chain
[   12.000000] Kernel panic - not syncing: Fatal exception
[   13.000000] list_del corruption. prev->next should be ffff, but was 0000
[   14.000000] BUG: unable to handle page fault for address: 0000
";
        assert_eq!(
            kinds(log),
            [
                "WARNING",
                "WARNING",
                "lockdep",
                "lockdep",
                "KASAN",
                "SLUB",
                "SLUB",
                "kmemleak",
                "RCU stall",
                "hung task",
                "lockup",
                "UBSAN",
                "Oops",
                "KUnit failure",
                "panic",
                "list corruption",
                "BUG"
            ]
        );
    }

    #[test]
    fn a_clean_boot_is_clean() {
        let log = "\
[    0.000000] Linux version 7.3.4 (root@host) #1 SMP PREEMPT_DYNAMIC
[    0.010000] kmemleak: Kernel memory leak detector initialized (mem pool available: 15791)
[    0.020000] KernelAddressSanitizer initialized
[    0.300000] shadowpid: loaded, /dev/shadowpid
[    0.400000]     ok 1 pidmap_wraps_to_300
[    0.500000] ok 1 shadowpid_pidmap
[    0.600000] FAULT_INJECTION: forcing a failure.
";
        assert_eq!(kinds(log), Vec::<&str>::new());
    }

    #[test]
    fn taint() {
        // O, E and N: an unsigned out-of-tree module that ran KUnit.
        assert!(bad_taint((1 << 12) | (1 << 13) | (1 << 18)).is_empty());
        assert_eq!(bad_taint((1 << 9) | (1 << 12)), [('W', "kernel warning")]);
        assert_eq!(bad_taint(1 << 7).len(), 1);
        assert_eq!(bad_taint(1 << 30)[0].0, '?');
    }
}
