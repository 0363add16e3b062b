// SPDX-License-Identifier: GPL-2.0
//! Waiting, exactly, until the kernel has freed the numbers of a task that
//! has gone.
//!
//! A thread that exits is released by itself, in release_task(): it is
//! unhashed (its /proc entry goes, a pidfd polls HUP), it notifies the
//! leader's parent if it was the last thread of a zombie leader (the leader
//! becomes reapable), and only then does free_pids() take its numbers out of
//! the namespaces' IDRs. Nothing a process can see changes at that last step
//! but the IDRs themselves: an event run in between could find a number
//! still taken that the shadow has already freed.
//!
//! The IDR can be asked without changing anything the comparison depends
//! on. clone3() with `set_tid = [nr]` (one entry) makes alloc_pid() call
//! idr_alloc() for exactly `nr` in the caller's `pid_ns_for_children`,
//! under `pidmap_lock`: EEXIST while `nr` is in that IDR; once it is free,
//! a child with exactly `nr`. A fixed-range idr_alloc() leaves the cyclic
//! cursor alone (only idr_alloc_cyclic() moves it). The child `_exit`s at
//! once and the prober reaps it, which runs release_task() for it in the
//! prober's waitpid(): `nr` is free again when waitpid() returns.
//!
//! The probe asks about the task's number in the initial namespace, from
//! the controller, which lives there (its `pid_ns_for_children` is the
//! initial namespace, and it has CAP_CHECKPOINT_RESTORE as root). That is
//! exact for every level: free_pid() takes a pid's numbers out of all its
//! levels' IDRs under one hold of `pidmap_lock`, and alloc_pid() allocates
//! under the same lock, so once the initial namespace's number is free,
//! all of the task's numbers are. And it leaves the compared namespaces (N0
//! and below) alone even while the probe's child lives: the child has a
//! number in the initial namespace only. Asking in the task's own
//! namespace instead would need set_tid at every level below the initial
//! one (a shorter vector makes the outer levels allocate cyclically, moving
//! compared cursors), fail with EINVAL where a scenario lowered a `pid_max`
//! under one of the numbers, and need a prober whose `pid_ns_for_children`
//! is still its own namespace (not after `unshare(CLONE_NEWPID)`).
//!
//! The wait is bounded: a number still taken after [`DEADLINE`] is an
//! error that ends the scenario, reported as such, never a mismatch.

use super::agent;
use std::{
    io, thread,
    time::{Duration, Instant},
};

/// How long a gone task's numbers may stay taken before the run is
/// declared broken.
const DEADLINE: Duration = Duration::from_secs(5);

/// The first pause between two probes; each next one is twice as long, up
/// to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_micros(20);

/// The longest pause between two probes.
const LONGEST_PAUSE: Duration = Duration::from_millis(5);

/// Returns once `global`, the number in the initial namespace of a task
/// that has been unhashed (or reaped), is out of the kernel's IDRs, and
/// with it every number of that task.
pub(super) fn released(global: i32) -> io::Result<()> {
    let start = Instant::now();
    let mut pause = FIRST_PAUSE;
    while !free(global)? {
        if start.elapsed() >= DEADLINE {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "pid {global} of the initial namespace still taken {DEADLINE:?} after its \
                     task went: release_task() did not reach free_pids()"
                ),
            ));
        }
        thread::sleep(pause);
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
    Ok(())
}

/// One probe: whether `global` is free in the initial namespace (a child
/// took it and was reaped, so it is free again), or still taken (EEXIST).
fn free(global: i32) -> io::Result<bool> {
    match agent::clone3(false, &[global]) {
        0 => {
            // SAFETY: the child of a fork leaves at once, without touching
            // anything it inherited.
            unsafe { libc::_exit(0) }
        }
        pid if pid > 0 => {
            let pid = pid as libc::pid_t;
            // SAFETY: plain syscall on our own child; no status wanted.
            if unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) } != pid {
                return Err(io::Error::last_os_error());
            }
            if pid != global {
                return Err(io::Error::other(format!(
                    "probe for pid {global} made pid {pid}"
                )));
            }
            Ok(true)
        }
        e if e == -i64::from(libc::EEXIST) => Ok(false),
        e => Err(io::Error::new(
            io::Error::from_raw_os_error(-e as i32).kind(),
            format!(
                "probe for pid {global}: clone3: {}",
                io::Error::from_raw_os_error(-e as i32)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{free, released};
    use std::{fs, io, process::Command, thread, time::Duration};

    /// A live child's number is taken; once the child is reaped it is free,
    /// and the probe that found it free leaves it free.
    #[test]
    fn taken_while_alive_free_once_reaped() {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        let pid = child.id() as i32;
        let alive = free(pid);
        if alive
            .as_ref()
            .is_err_and(|e| e.kind() == io::ErrorKind::PermissionDenied)
        {
            // set_tid needs CAP_CHECKPOINT_RESTORE: not here.
            child.kill().unwrap();
            child.wait().unwrap();
            return;
        }
        assert!(!alive.unwrap(), "pid {pid} of a live child found free");
        child.kill().unwrap();
        child.wait().unwrap();
        released(pid).unwrap();
        assert!(free(pid).unwrap(), "the probe left pid {pid} taken");
    }

    /// A thread's number is free once release_task() is done with it, which
    /// the probe waits for after the thread has left the thread list.
    #[test]
    fn a_thread_number_is_free_after_its_release() {
        // SAFETY: gettid() has no preconditions.
        let tid = thread::spawn(|| unsafe { libc::gettid() }).join().unwrap();
        let path = format!("/proc/self/task/{tid}");
        while fs::metadata(&path).is_ok() {
            thread::sleep(Duration::from_micros(200));
        }
        match released(tid) {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {}
            other => other.unwrap(),
        }
    }
}
