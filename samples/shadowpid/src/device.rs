// SPDX-License-Identifier: GPL-2.0
//! An open `/dev/shadowpid`: one shadow universe.

use crate::{
    abi,
    error::{DeviceError, MODULE_DIR},
    ops::{Op, Outcome},
};
use std::{
    fs::{File, OpenOptions},
    io,
    os::fd::{AsRawFd, BorrowedFd, RawFd},
    path::{Path, PathBuf},
    sync::OnceLock,
};

/// The device node the module registers.
pub const DEVICE_PATH: &str = "/dev/shadowpid";

/// The node this process opens, if not [`DEVICE_PATH`] (`--device`).
static PATH: OnceLock<PathBuf> = OnceLock::new();

/// Makes every later [`Device::open`] of this process open `path`; the
/// first call wins.
pub fn use_path(path: PathBuf) {
    let _ = PATH.set(path);
}

/// The node [`Device::open`] opens.
pub fn path() -> &'static Path {
    PATH.get().map_or(Path::new(DEVICE_PATH), PathBuf::as_path)
}

/// An open file of the device, that is, one universe of shadow namespaces.
#[derive(Debug)]
pub struct Device {
    file: File,
}

impl Device {
    /// Opens the device ([`path`]); a failure says why, and what to do
    /// (a [`DeviceError`] inside the `io::Error`).
    pub fn open() -> io::Result<Self> {
        Self::open_path(path())
    }

    /// Opens the device at `path`; a failure is a [`DeviceError`]. `fd:N`
    /// is descriptor N, inherited open (a copy of it): the file as its
    /// opener made it, for tests of what a descriptor passed on allows.
    pub fn open_path(path: &Path) -> io::Result<Self> {
        if let Some(fd) = path.to_str().and_then(|p| p.strip_prefix("fd:")) {
            let fd: RawFd = fd
                .parse()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "fd:N wants a number"))?;
            // SAFETY: borrowed only to duplicate it; the copy is ours.
            let file = unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned()?;
            return Ok(Self { file: file.into() });
        }
        match OpenOptions::new().read(true).write(true).open(path) {
            Ok(file) => Ok(Self { file }),
            Err(e) => {
                let loaded = Path::new(MODULE_DIR).exists();
                Err(DeviceError::open(path.to_path_buf(), e, loaded).into())
            }
        }
    }

    /// Opens the device ([`path`]) and checks that it is a shadowpid device
    /// of this tool's ABI version: what every command does first, so that
    /// a missing module or privilege fails once, before any output.
    pub fn open_checked() -> io::Result<Self> {
        let dev = Self::open()?;
        let module = dev.version().map_err(|source| DeviceError::NotShadowpid {
            path: path().to_path_buf(),
            source,
        })?;
        if module != abi::SHADOWPID_ABI_VERSION {
            return Err(DeviceError::AbiMismatch {
                path: path().to_path_buf(),
                module,
                tool: abi::SHADOWPID_ABI_VERSION,
            }
            .into());
        }
        Ok(dev)
    }

    /// The file descriptor, for callers that make raw calls on it.
    pub fn file_fd(&self) -> i32 {
        self.file.as_raw_fd()
    }

    /// Issues ioctl `cmd` with `arg` as its argument struct.
    ///
    /// # Safety
    /// `cmd` must be a command whose argument is a `T`, as the header says.
    unsafe fn ioctl<T>(&self, cmd: u32, arg: &mut T) -> io::Result<()> {
        // SAFETY: the fd is open for the lifetime of `self`; `arg` is a valid,
        // exclusive `T`, which the caller guarantees is what `cmd` expects.
        let ret = unsafe { libc::ioctl(self.file.as_raw_fd(), cmd as _, arg as *mut T) };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The ABI version of the loaded module (`SHADOWPID_IOC_VERSION`).
    pub fn version(&self) -> io::Result<u32> {
        let mut v = abi::shadowpid_version::default();
        // SAFETY: SHADOWPID_IOC_VERSION takes a `struct shadowpid_version`.
        unsafe { self.ioctl(abi::SHADOWPID_IOC_VERSION, &mut v)? };
        Ok(v.abi_version)
    }

    /// `SHADOWPID_IOC_BARRIER`: returns once the module's deferred work
    /// queued so far has run (a pid hash resize, the RCU callbacks that
    /// free pids): the module-wide counts of a `stats` after it hold only
    /// what is in use.
    pub fn barrier(&self) -> io::Result<()> {
        // SAFETY: the fd is open for the lifetime of `self`;
        // SHADOWPID_IOC_BARRIER takes no argument (`_IO`), so the kernel
        // reads nothing through the third one.
        let ret = unsafe {
            libc::ioctl(
                self.file.as_raw_fd(),
                abi::SHADOWPID_IOC_BARRIER as _,
                0 as libc::c_ulong,
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// `SHADOWPID_IOC_MIRROR`: one command to the live mirror; the report
    /// comes back in `m`.
    pub fn mirror_raw(&self, m: &mut abi::shadowpid_mirror) -> io::Result<()> {
        // SAFETY: SHADOWPID_IOC_MIRROR takes a `struct shadowpid_mirror`.
        unsafe { self.ioctl(abi::SHADOWPID_IOC_MIRROR, m) }
    }

    /// Runs one raw operation (`SHADOWPID_IOC_OP`); its result is in `op.result`.
    pub fn op_raw(&self, op: &mut abi::shadowpid_op) -> io::Result<()> {
        // SAFETY: SHADOWPID_IOC_OP takes a `struct shadowpid_op`.
        unsafe { self.ioctl(abi::SHADOWPID_IOC_OP, op) }
    }

    /// Runs `ops` with `SHADOWPID_IOC_BATCH`, in chunks the ABI accepts;
    /// returns how many ran (all, unless a signal came).
    pub fn batch_raw(&self, ops: &mut [abi::shadowpid_op]) -> io::Result<usize> {
        self.batch_flags(ops, 0)
    }

    /// [`Device::batch_raw`] with the batch's `flags`: with
    /// `SHADOWPID_BATCH_STOP_ON_ERROR` it also stops after the first
    /// operation that answers an errno (counted in what it returns).
    fn batch_flags(&self, ops: &mut [abi::shadowpid_op], flags: u32) -> io::Result<usize> {
        let mut done = 0;
        for chunk in ops.chunks_mut(abi::SHADOWPID_BATCH_MAX as usize) {
            let mut b = abi::shadowpid_batch {
                ops: chunk.as_mut_ptr() as u64,
                count: chunk.len() as u32,
                flags,
                ..Default::default()
            };
            // SAFETY: SHADOWPID_IOC_BATCH takes a `struct shadowpid_batch`
            // whose `ops` points to `count` writable ops: `chunk`.
            unsafe { self.ioctl(abi::SHADOWPID_IOC_BATCH, &mut b)? };
            done += b.done as usize;
            if (b.done as usize) < chunk.len() {
                break;
            }
        }
        Ok(done)
    }

    /// `SHADOWPID_IOC_STATS` of namespace `ns`.
    pub fn stats_raw(&self, ns: u32) -> io::Result<abi::shadowpid_stats> {
        let mut st = abi::shadowpid_stats {
            ns,
            ..Default::default()
        };
        // SAFETY: SHADOWPID_IOC_STATS takes a `struct shadowpid_stats`.
        unsafe { self.ioctl(abi::SHADOWPID_IOC_STATS, &mut st)? };
        Ok(st)
    }

    /// `SHADOWPID_IOC_BENCH`: runs one figure of the in-kernel benchmark.
    pub fn bench_raw(&self, b: &mut abi::shadowpid_bench) -> io::Result<()> {
        // SAFETY: SHADOWPID_IOC_BENCH takes a `struct shadowpid_bench`.
        unsafe { self.ioctl(abi::SHADOWPID_IOC_BENCH, b) }
    }

    /// Runs one operation and reads its answer.
    pub fn run(&self, op: &Op) -> io::Result<Outcome> {
        if let Op::Stats { ns } = *op {
            return Ok(match self.stats_raw(ns) {
                Ok(st) => stats_outcome(&st),
                Err(e) => Outcome::Err(e.raw_os_error().unwrap_or(libc::EIO)),
            });
        }
        let Some(mut raw) = op.to_raw() else {
            return Ok(Outcome::Err(libc::EINVAL));
        };
        self.op_raw(&mut raw)?;
        Ok(op.outcome(&raw))
    }

    /// Runs many operations, batching the runs between `stats` lines.
    pub fn run_all(&self, ops: &[Op]) -> io::Result<Vec<Outcome>> {
        self.run_ops(ops, false)
    }

    /// Runs operations in order until one answers an errno: the answers up
    /// to and including that one (all of them if none failed). A `find`,
    /// `next` or `task` that finds nothing has not failed.
    pub fn run_until_error(&self, ops: &[Op]) -> io::Result<Vec<Outcome>> {
        self.run_ops(ops, true)
    }

    /// [`Device::run_all`], or [`Device::run_until_error`] if `stop`.
    fn run_ops(&self, ops: &[Op], stop: bool) -> io::Result<Vec<Outcome>> {
        let flags = if stop {
            abi::SHADOWPID_BATCH_STOP_ON_ERROR
        } else {
            0
        };
        let mut out = Vec::with_capacity(ops.len());
        let mut start = 0;
        while start < ops.len() {
            let end = ops[start..]
                .iter()
                .position(|op| op.to_raw().is_none())
                .map_or(ops.len(), |i| start + i);
            if end == start {
                let outcome = self.run(&ops[start])?;
                let failed = matches!(outcome, Outcome::Err(_));
                out.push(outcome);
                if stop && failed {
                    return Ok(out);
                }
                start += 1;
                continue;
            }
            let mut raw: Vec<_> = ops[start..end].iter().filter_map(Op::to_raw).collect();
            // The kernel stops at any errno, ESRCH of a lookup too (which
            // is an answer, `none`): go on after such a one.
            let mut ran = 0;
            while ran < raw.len() {
                let done = self.batch_flags(&mut raw[ran..], flags)?;
                let answered = ops[start + ran..].iter().zip(&raw[ran..ran + done]);
                out.extend(answered.map(|(op, r)| op.outcome(r)));
                ran += done;
                if ran < raw.len() {
                    if !stop || done == 0 || raw[ran - 1].result == 0 {
                        // A signal, not an errno, cut the batch short.
                        return Err(io::Error::from_raw_os_error(libc::EINTR));
                    }
                    if matches!(out.last(), Some(Outcome::Err(_))) {
                        return Ok(out);
                    }
                }
            }
            if stop && matches!(out.last(), Some(Outcome::Err(_))) {
                return Ok(out);
            }
            start = end;
        }
        Ok(out)
    }
}

/// What the module holds beyond the root namespace of a fresh universe
/// opened here (and its first pidmap page, allocated with it as in 2.6.24),
/// once the frees queued behind RCU grace periods have run
/// (`SHADOWPID_IOC_BARRIER`): struct pids, other pages and namespaces. 0
/// unless something leaked or another universe is open meanwhile. One
/// barrier, then one look: no clock decides.
pub fn settle() -> io::Result<u64> {
    let dev = Device::open()?;
    dev.barrier()?;
    Ok(held(&dev.stats_raw(abi::SHADOWPID_ROOT_NS)?))
}

/// Objects and pages `st` (the root of a universe of its own) counts in
/// the module beyond that universe's root namespace and first page.
fn held(st: &abi::shadowpid_stats) -> u64 {
    u64::from(st.module_pids)
        + u64::from(st.module_pages.saturating_sub(st.pidmap_pages))
        + u64::from(st.module_namespaces.saturating_sub(st.universe_namespaces))
}

/// The `stats` answer.
pub fn stats_outcome(st: &abi::shadowpid_stats) -> Outcome {
    Outcome::Stats(vec![
        ("level", st.level.into()),
        (
            "accepting",
            i64::from(st.flags & abi::SHADOWPID_NS_ACCEPTING != 0),
        ),
        (
            "reaper",
            i64::from(st.flags & abi::SHADOWPID_NS_HAS_REAPER != 0),
        ),
        ("live", st.live_pids.into()),
        ("pages", st.pidmap_pages.into()),
        ("last_pid", st.last_pid.into()),
        ("pid_max", st.pid_max.into()),
        ("hash_buckets", st.hash_buckets.into()),
        ("hash_longest", st.hash_longest.into()),
        ("hash_entries", st.hash_entries.into()),
        ("bytes", st.bytes as i64),
        ("universe_pids", st.universe_pids.into()),
        ("universe_namespaces", st.universe_namespaces.into()),
    ])
}
