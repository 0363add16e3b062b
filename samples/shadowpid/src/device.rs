// SPDX-License-Identifier: GPL-2.0
//! An open `/dev/shadowpid`: one shadow universe.

use crate::abi;
use std::{
    fs::{File, OpenOptions},
    io,
    os::fd::AsRawFd,
    path::Path,
};

/// The device node the module registers.
pub const DEVICE_PATH: &str = "/dev/shadowpid";

/// An open file of the device, that is, one universe of shadow namespaces.
#[derive(Debug)]
pub struct Device {
    file: File,
}

impl Device {
    /// Opens `/dev/shadowpid`.
    pub fn open() -> io::Result<Self> {
        Self::open_path(Path::new(DEVICE_PATH))
    }

    /// Opens the device at `path`.
    pub fn open_path(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        Ok(Self { file })
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
}
