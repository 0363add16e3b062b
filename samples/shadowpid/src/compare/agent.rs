// SPDX-License-Identifier: GPL-2.0
//! Agents: the real processes of a comparison.
//!
//! Every process the comparison creates runs [`run`]: it connects back to the
//! controller's abstract Unix socket, says hello with its `NSpid` line, and
//! then does what the controller asks, one request line at a time, answering
//! each with `ok ...` or `err ERRNO`. Requests:
//!
//! ```text
//! fork                  fork(); the child is an agent    -> ok CHILD_PID
//! clone3 NEWNS T0,T1..  clone3 with set_tid (T: 0 = none) -> ok CHILD_PID
//! unshare               unshare(CLONE_NEWPID)            -> ok
//! thread                a new thread                     -> ok NSPID...
//! threadexit TID        that thread returns, is unhashed -> ok
//! wait PID              waitpid(PID)                     -> ok
//! write PATH VALUE      write a sysctl file              -> ok
//! list                  numbers in this agent's namespace (its own /proc) -> ok N...
//! exit                  _exit(0), no answer
//! ```

use crate::pseudofs;
use std::{
    collections::BTreeMap,
    fs,
    io::{self, BufRead, BufReader, Write},
    os::{
        linux::net::SocketAddrExt,
        unix::net::{SocketAddr, UnixStream},
    },
    sync::mpsc,
    thread,
    time::Duration,
};

/// The `NSpid` numbers of a task, outermost level first.
pub fn nspid(status: &str) -> Option<Vec<i32>> {
    let line = status.lines().find(|l| l.starts_with("NSpid:"))?;
    line["NSpid:".len()..]
        .split_whitespace()
        .map(|n| n.parse().ok())
        .collect()
}

/// The errno of the last failed call, EIO if there is none.
fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// The `struct clone_args` of clone3(2).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    /// `CLONE_*` flags.
    flags: u64,
    /// Where to store a pidfd (`CLONE_PIDFD`).
    pidfd: u64,
    /// Where to store the child's TID in the child (`CLONE_CHILD_SETTID`).
    child_tid: u64,
    /// Where to store the child's TID in the parent (`CLONE_PARENT_SETTID`).
    parent_tid: u64,
    /// The signal the parent gets when the child ends.
    exit_signal: u64,
    /// The child's stack (lowest byte); 0: the parent's, copied.
    stack: u64,
    /// Size of `stack`.
    stack_size: u64,
    /// Thread-local storage (`CLONE_SETTLS`).
    tls: u64,
    /// The numbers wanted, innermost namespace first.
    set_tid: u64,
    /// Entries in `set_tid`.
    set_tid_size: u64,
    /// A cgroup fd (`CLONE_INTO_CGROUP`).
    cgroup: u64,
}

/// clone3() as fork(), optionally into a new PID namespace, with set_tid.
/// Returns 0 in the child, the child's pid in the parent, or -errno.
pub fn clone3(new_ns: bool, set_tid: &[i32]) -> i64 {
    let tids: Vec<libc::pid_t> = set_tid.to_vec();
    let args = CloneArgs {
        flags: if new_ns { libc::CLONE_NEWPID as u64 } else { 0 },
        exit_signal: libc::SIGCHLD as u64,
        set_tid: if tids.is_empty() {
            0
        } else {
            tids.as_ptr() as u64
        },
        set_tid_size: tids.len() as u64,
        ..Default::default()
    };
    // SAFETY: without CLONE_VM clone3 is fork(): the child gets a copy of
    // this address space and returns here with 0; `args` and `tids` are
    // valid for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if ret < 0 {
        -(errno() as i64)
    } else {
        ret
    }
}

/// The abstract socket address the controller listens on.
pub fn address(name: &str) -> io::Result<SocketAddr> {
    SocketAddr::from_abstract_name(name.as_bytes())
}

/// A thread the controller asked for, parked until it is told to return.
struct Thread {
    /// Tells it to return.
    stop: mpsc::Sender<()>,
    /// Joins it once it returns.
    handle: thread::JoinHandle<()>,
    /// Its number in the initial namespace, which /proc here is mounted for.
    global: i32,
}

/// Mounts a procfs of this agent's PID namespace on a private directory,
/// in a mount namespace of its own, once.
fn own_proc(dir: &mut Option<String>) -> io::Result<String> {
    if let Some(d) = dir {
        return Ok(d.clone());
    }
    // SAFETY: plain syscalls on this process; "/" is a NUL-terminated
    // string, and a remount that only changes propagation takes no source,
    // type or data.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    let d = format!("/tmp/shadowpid-proc-{}", std::process::id());
    fs::create_dir_all(&d)?;
    pseudofs::mount(c"proc", &d, 0)?;
    *dir = Some(d.clone());
    Ok(d)
}

/// Every number in use in this agent's namespace: processes and threads.
fn list(dir: &mut Option<String>) -> io::Result<Vec<i32>> {
    let proc = own_proc(dir)?;
    let mut all = Vec::new();
    for e in fs::read_dir(&proc)? {
        let Ok(tgid) = e?.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // A process that went between the two reads is simply gone.
        if let Ok(tasks) = fs::read_dir(format!("{proc}/{tgid}/task")) {
            for t in tasks.flatten() {
                if let Ok(tid) = t.file_name().to_string_lossy().parse::<i32>() {
                    all.push(tid);
                }
            }
        }
    }
    all.sort_unstable();
    all.dedup();
    Ok(all)
}

/// The body of an agent; never returns.
pub fn run(socket: &str) -> ! {
    let code = match serve(socket) {
        Ok(()) => 0,
        Err(_) => 1,
    };
    // SAFETY: leave at once, without running the controller's destructors
    // that this forked copy inherited.
    unsafe { libc::_exit(code) }
}

/// Connects to the controller at `socket`, says hello, and answers its
/// requests until it hangs up or asks this agent to exit.
fn serve(socket: &str) -> io::Result<()> {
    let stream = UnixStream::connect_addr(&address(socket)?)?;
    let mut out = stream.try_clone()?;
    let status = fs::read_to_string("/proc/self/status")?;
    let me: Vec<String> = nspid(&status)
        .unwrap_or_default()
        .iter()
        .map(i32::to_string)
        .collect();
    writeln!(out, "hello {}", me.join(" "))?;
    let mut threads: BTreeMap<i32, Thread> = BTreeMap::new();
    let mut proc_dir = None;
    for line in BufReader::new(stream).lines() {
        let line = line?;
        let mut w = line.split_whitespace();
        let reply = match w.next().unwrap_or("") {
            "fork" | "clone3" => {
                let (new_ns, tids) = if line.starts_with("clone3") {
                    let new_ns = w.next() == Some("1");
                    let tids: Vec<i32> = w
                        .next()
                        .unwrap_or("")
                        .split(',')
                        .filter_map(|t| t.parse().ok())
                        .collect();
                    (new_ns, tids)
                } else {
                    (false, Vec::new())
                };
                match clone3(new_ns, &tids) {
                    0 => {
                        drop(out);
                        run(socket)
                    }
                    pid if pid > 0 => format!("ok {pid}"),
                    e => format!("err {}", -e),
                }
            }
            "unshare" => {
                // SAFETY: plain syscall.
                if unsafe { libc::unshare(libc::CLONE_NEWPID) } == 0 {
                    "ok".into()
                } else {
                    format!("err {}", errno())
                }
            }
            "thread" => {
                let (tx, rx) = mpsc::channel();
                let (stop, stopped) = mpsc::channel::<()>();
                let spawned = thread::Builder::new().stack_size(64 << 10).spawn(move || {
                    let status = fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
                    let _ = tx.send(nspid(&status).unwrap_or_default());
                    let _ = stopped.recv();
                });
                match spawned {
                    Err(e) => format!("err {}", e.raw_os_error().unwrap_or(libc::EIO)),
                    Ok(handle) => {
                        let ns = rx.recv().unwrap_or_default();
                        match ns.last() {
                            Some(&tid) => {
                                let global = ns[0];
                                threads.insert(
                                    tid,
                                    Thread {
                                        stop,
                                        handle,
                                        global,
                                    },
                                );
                                let ns: Vec<String> = ns.iter().map(i32::to_string).collect();
                                format!("ok {}", ns.join(" "))
                            }
                            None => format!("err {}", libc::EIO),
                        }
                    }
                }
            }
            "threadexit" => {
                let tid: i32 = w.next().and_then(|t| t.parse().ok()).unwrap_or(-1);
                match threads.remove(&tid) {
                    Some(t) => {
                        let _ = t.stop.send(());
                        let _ = t.handle.join();
                        // The join returns when the thread's CLEARTID is
                        // done; it is released a little after. Wait until it
                        // is out of the thread list; the controller then
                        // waits, exactly, until release_task() has freed its
                        // numbers (see probe.rs).
                        let path = format!("/proc/self/task/{}", t.global);
                        while fs::metadata(&path).is_ok() {
                            thread::sleep(Duration::from_micros(200));
                        }
                        "ok".into()
                    }
                    None => format!("err {}", libc::ESRCH),
                }
            }
            "wait" => {
                let pid: i32 = w.next().and_then(|t| t.parse().ok()).unwrap_or(-1);
                // SAFETY: plain syscall; no status wanted.
                if unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) } == pid {
                    "ok".into()
                } else {
                    format!("err {}", errno())
                }
            }
            "write" => {
                let (path, value) = (w.next().unwrap_or(""), w.next().unwrap_or(""));
                match fs::write(path, value) {
                    Ok(()) => "ok".into(),
                    Err(e) => format!("err {}", e.raw_os_error().unwrap_or(libc::EIO)),
                }
            }
            "list" => match list(&mut proc_dir) {
                Ok(v) => {
                    let v: Vec<String> = v.iter().map(i32::to_string).collect();
                    format!("ok {}", v.join(" "))
                }
                Err(e) => format!("err {}", e.raw_os_error().unwrap_or(libc::EIO)),
            },
            "exit" => {
                // SAFETY: the process ends here; threads go with it.
                unsafe { libc::_exit(0) }
            }
            _ => format!("err {}", libc::EINVAL),
        };
        writeln!(out, "{reply}")?;
    }
    Ok(())
}
