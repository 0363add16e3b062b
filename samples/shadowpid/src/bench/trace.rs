// SPDX-License-Identifier: GPL-2.0
//! The real native `alloc_pid()`/`free_pid()`, timed by the function_graph
//! tracer during a fork/exit storm in a fresh PID namespace.

use super::Stat;
use crate::pseudofs;
use serde::{Deserialize, Serialize};
use std::{fs, io};

/// Where tracefs lives.
const TRACEFS: &str = "/sys/kernel/tracing";

/// The real native allocator, timed by the tracer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Traced {
    /// Forks made in the storm.
    pub forks: u32,
    /// `alloc_pid()` calls seen, and their duration.
    pub alloc_pid: Option<Stat>,
    /// Calls of `alloc_pid()` traced.
    pub alloc_calls: usize,
    /// `free_pid()` durations.
    pub free_pid: Option<Stat>,
    /// Calls of `free_pid()` traced.
    pub free_calls: usize,
    /// Why there is no figure, if there is none.
    pub note: String,
}

/// Writes `value` to tracefs file `name`.
fn tracefs(name: &str, value: &str) -> io::Result<()> {
    fs::write(format!("{TRACEFS}/{name}"), value)
}

/// Forks `forks` short-lived children from the init of a fresh PID
/// namespace, with the function_graph tracer on `alloc_pid` and `free_pid`.
pub(super) fn trace_native(forks: u32) -> Traced {
    let mut traced = Traced {
        forks,
        alloc_pid: None,
        alloc_calls: 0,
        free_pid: None,
        free_calls: 0,
        note: String::new(),
    };
    match storm_traced(forks) {
        Ok(trace) => {
            let durations = |f: &str| -> Vec<u64> {
                let call = format!("{f}();");
                trace
                    .lines()
                    .filter(|l| l.trim_end().ends_with(&call))
                    .filter_map(|l| {
                        let (before, _) = l.split_once(" us ")?;
                        let num = before.rsplit(' ').next()?;
                        num.parse::<f64>().ok().map(|us| (us * 1e6) as u64)
                    })
                    .collect()
            };
            let a = durations("alloc_pid");
            let f = durations("free_pid");
            traced.alloc_calls = a.len();
            traced.free_calls = f.len();
            traced.alloc_pid = Stat::of(&a);
            traced.free_pid = Stat::of(&f);
            if a.is_empty() {
                traced.note = "the tracer recorded no alloc_pid call".into();
            } else {
                traced.note = "function_graph entry/exit overhead included".into();
            }
        }
        Err(e) => traced.note = format!("tracer unavailable: {e}"),
    }
    traced
}

/// The storm itself; returns the trace text.
fn storm_traced(forks: u32) -> io::Result<String> {
    if !pseudofs::mounted(TRACEFS, &["trace"]) {
        pseudofs::mount(c"tracefs", TRACEFS, 0)?;
    }
    tracefs("tracing_on", "0")?;
    tracefs("current_tracer", "nop")?;
    tracefs("set_ftrace_filter", "alloc_pid free_pid")?;
    tracefs("buffer_size_kb", "8192")?;
    tracefs("current_tracer", "function_graph")?;
    tracefs("trace", "")?;
    tracefs("tracing_on", "1")?;
    let storm = fork_storm(forks);
    tracefs("tracing_on", "0")?;
    let trace = fs::read_to_string(format!("{TRACEFS}/trace"));
    tracefs("current_tracer", "nop")?;
    tracefs("set_ftrace_filter", "")?;
    storm?;
    trace
}

/// A child in a new PID namespace whose init forks and reaps `forks`
/// children that exit at once.
fn fork_storm(forks: u32) -> io::Result<()> {
    // SAFETY: fork in a program whose other threads (none here) hold no
    // lock the child needs; the child only makes raw syscalls and exits.
    let outer = unsafe { libc::fork() };
    if outer < 0 {
        return Err(io::Error::last_os_error());
    }
    if outer == 0 {
        // SAFETY: async-signal-safe calls only, then _exit.
        unsafe {
            if libc::unshare(libc::CLONE_NEWPID) != 0 {
                libc::_exit(2);
            }
            let init = libc::fork();
            if init == 0 {
                for _ in 0..forks {
                    let child = libc::fork();
                    if child == 0 {
                        libc::_exit(0);
                    }
                    if child < 0 || libc::waitpid(child, std::ptr::null_mut(), 0) != child {
                        libc::_exit(3);
                    }
                }
                libc::_exit(0);
            }
            let mut status = 0;
            if init < 0 || libc::waitpid(init, &mut status, 0) != init {
                libc::_exit(4);
            }
            libc::_exit(libc::WEXITSTATUS(status));
        }
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    if unsafe { libc::waitpid(outer, &mut status, 0) } != outer || status != 0 {
        return Err(io::Error::other(format!(
            "fork storm failed (status {status:#x})"
        )));
    }
    Ok(())
}
