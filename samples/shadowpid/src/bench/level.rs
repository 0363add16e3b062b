// SPDX-License-Identifier: GPL-2.0
//! Running a benchmark request from a process at a given PID namespace
//! level: the kernel column times the running kernel's functions in the
//! caller's own namespace, so the caller must be where the figure is.

use crate::{
    abi,
    interrupt::{self, Interrupted},
};
use std::{fs, io, mem::size_of};

/// The level of this process's PID namespace (0: the initial one): the
/// number of ids on the `NSpid:` line of `/proc/self/status`, less one.
pub fn current() -> io::Result<u32> {
    let status = fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .map(|ids| ids.split_whitespace().count().saturating_sub(1) as u32)
        .ok_or_else(|| io::Error::other("/proc/self/status has no NSpid line"))
}

/// `f()`, run by a process at namespace level `level` (not above this
/// one's): this process if it is there, else the last of a chain of
/// children, each the init of a new PID namespace (`unshare(CLONE_NEWPID)`
/// and a fork per level), each of which sets its namespace's pid_max to
/// `pid_max` if given (a new namespace's is the limit's). The request
/// travels back through a pipe. A signal caught meanwhile (see
/// [`crate::interrupt`]) kills the chain, which ends the request:
/// [`Interrupted`].
pub fn at(
    level: u32,
    pid_max: Option<u32>,
    f: impl FnOnce() -> io::Result<abi::shadowpid_bench>,
) -> io::Result<abi::shadowpid_bench> {
    let here = current()?;
    if level == here {
        return f().map_err(Interrupted::or);
    }
    if level < here {
        return Err(io::Error::other(format!(
            "asked for PID namespace level {level} from level {here}"
        )));
    }
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let (rd, wr) = (fds[0], fds[1]);
    // SAFETY: the child only makes system calls, allocates (glibc's malloc
    // is fork-safe) and runs `f`: it takes no lock that another thread of
    // this process (the progress line's ticker) may hold.
    match unsafe { libc::fork() } {
        -1 => {
            let e = io::Error::last_os_error();
            // SAFETY: our descriptors.
            unsafe { (libc::close(rd), libc::close(wr)) };
            Err(e)
        }
        0 => {
            // SAFETY: ours.
            unsafe { libc::close(rd) };
            let code = descend(here, level, pid_max, wr, f);
            // SAFETY: the child ends here, without unwinding into main.
            unsafe { libc::_exit(code) }
        }
        child => {
            // SAFETY: ours.
            unsafe { libc::close(wr) };
            let mut buf = vec![];
            let read = read_all(rd, &mut buf);
            if read.is_err() {
                // SAFETY: our child; its chain dies with it.
                unsafe { libc::kill(child, libc::SIGKILL) };
            }
            // SAFETY: ours.
            unsafe { libc::close(rd) };
            reap(child);
            read?;
            decode(&buf)
        }
    }
}

/// Waits for `child` to end (through signals).
fn reap(child: libc::pid_t) {
    let mut status = 0;
    // SAFETY: our child; `status` is valid for writing.
    while unsafe { libc::waitpid(child, &mut status, 0) } < 0
        && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
    {}
}

/// Makes this process die with its parent: a chain member is the init of
/// its namespace, which ignores the signals a terminal sends, so when the
/// CLI goes (Ctrl-C) every member below it gets SIGKILL from its parent's
/// exit (sent from outside its namespace: delivered), and the request in
/// the last one ends with EINTR. False if the parent is gone already.
fn die_with_parent(parent: libc::pid_t) -> bool {
    // SAFETY: plain system calls.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        ) == 0
            && libc::getppid() == parent
    }
}

/// In the first child: goes down to `level` and runs `f` there; what the
/// chain exits with.
fn descend(
    mut here: u32,
    level: u32,
    pid_max: Option<u32>,
    wr: i32,
    f: impl FnOnce() -> io::Result<abi::shadowpid_bench>,
) -> i32 {
    // SAFETY: a plain system call.
    let mut parent = unsafe { libc::getppid() };
    while here < level {
        if !die_with_parent(parent) {
            return 1;
        }
        // SAFETY: plain system calls.
        let child = unsafe {
            if libc::unshare(libc::CLONE_NEWPID) != 0 {
                let e = io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EIO);
                send(wr, Err(e));
                return 1;
            }
            libc::fork()
        };
        match child {
            -1 => {
                send(
                    wr,
                    Err(io::Error::last_os_error()
                        .raw_os_error()
                        .unwrap_or(libc::EIO)),
                );
                return 1;
            }
            0 => {
                here += 1;
                // Seen from its new namespace the parent has no pid
                // (getppid() is 0): compare with that (a parent gone
                // before the prctl is then missed: a narrow window).
                parent = 0;
                // The sysctl is the namespace of whoever writes it: ours.
                if let Some(max) = pid_max {
                    if let Err(e) = fs::write("/proc/sys/kernel/pid_max", max.to_string()) {
                        send(wr, Err(e.raw_os_error().unwrap_or(libc::EIO)));
                        return 1;
                    }
                }
            }
            child => {
                // The init of the level below waits for it, then goes.
                reap(child);
                return 0;
            }
        }
    }
    if !die_with_parent(parent) {
        return 1;
    }
    send(wr, f().map_err(|e| e.raw_os_error().unwrap_or(libc::EIO)));
    0
}

/// Writes the answer: an errno (0: none), then the request.
fn send(wr: i32, r: Result<abi::shadowpid_bench, i32>) {
    let (errno, b) = match r {
        Ok(b) => (0, b),
        Err(e) => (e, abi::shadowpid_bench::default()),
    };
    let mut out = errno.to_ne_bytes().to_vec();
    // SAFETY: a plain C struct of integers, read as bytes.
    out.extend_from_slice(unsafe {
        std::slice::from_raw_parts(
            (&raw const b).cast::<u8>(),
            size_of::<abi::shadowpid_bench>(),
        )
    });
    let mut off = 0;
    while off < out.len() {
        // SAFETY: `out[off..]` is valid for reading.
        let n = unsafe { libc::write(wr, out[off..].as_ptr().cast(), out.len() - off) };
        if n <= 0 {
            return;
        }
        off += n as usize;
    }
}

/// Reads `fd` to its end; [`Interrupted`] as soon as a signal is caught.
fn read_all(fd: i32, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 4096];
    loop {
        interrupt::check()?;
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd; a tenth of a second, to look at the
        // signal flag again.
        if unsafe { libc::poll(&mut pfd, 1, 100) } <= 0 {
            continue;
        }
        // SAFETY: `chunk` is valid for writing.
        let n = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        match n {
            0 => return Ok(()),
            n if n < 0 => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            n => buf.extend_from_slice(&chunk[..n as usize]),
        }
    }
}

/// The answer [`send`] wrote.
fn decode(buf: &[u8]) -> io::Result<abi::shadowpid_bench> {
    let size = size_of::<abi::shadowpid_bench>();
    if buf.len() != 4 + size {
        return Err(io::Error::other(
            "the namespace chain died before answering",
        ));
    }
    let errno = i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if errno != 0 {
        return Err(io::Error::from_raw_os_error(errno));
    }
    let mut b = abi::shadowpid_bench::default();
    // SAFETY: `buf[4..]` holds exactly one struct's bytes, and every bit
    // pattern is a valid struct of integers.
    unsafe {
        std::ptr::copy_nonoverlapping(buf[4..].as_ptr(), (&raw mut b).cast::<u8>(), size);
    }
    Ok(b)
}
