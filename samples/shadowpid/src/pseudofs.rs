// SPDX-License-Identifier: GPL-2.0
//! Mounting the kernel's pseudo file systems the tools read: tracefs for
//! `bench`, debugfs for `faults`, a procfs of a PID namespace for `compare`.

use std::{
    ffi::{CStr, CString},
    io,
    path::Path,
};

/// Whether `dir` holds one of `files`, i.e. the file system that provides
/// them is mounted there already.
pub fn mounted(dir: &str, files: &[&str]) -> bool {
    files.iter().any(|f| Path::new(dir).join(f).exists())
}

/// Mounts `fstype` on `target` with mount `flags`; the source, which these
/// file systems ignore, is the type's name.
pub fn mount(fstype: &CStr, target: &str, flags: libc::c_ulong) -> io::Result<()> {
    let target =
        CString::new(target).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `fstype` and `target` are NUL-terminated strings that outlive
    // the call; a null data argument is allowed for these file systems.
    let ret = unsafe {
        libc::mount(
            fstype.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags,
            std::ptr::null(),
        )
    };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
