// SPDX-License-Identifier: GPL-2.0

//! Credentials: of the task that opened a file (`file_ns_capable()`), and
//! of the calling task (`capable()`).

use kernel::{bindings, fs::File};

/// Whether the opener of `file` had `CAP_SYS_ADMIN` in the initial user
/// namespace when it opened the file (as `file_ns_capable()` checks it: a
/// descriptor passed on keeps its opener's rights, not its holder's).
pub(crate) fn opener_has_sys_admin(file: &File) -> bool {
    // SAFETY: `file.as_ptr()` is a valid `struct file` for the duration of the
    // borrow, and `init_user_ns` is a static object that lives forever.
    unsafe {
        bindings::file_ns_capable(
            file.as_ptr(),
            &raw mut bindings::init_user_ns,
            bindings::CAP_SYS_ADMIN as i32,
        )
    }
}

/// Whether the calling task has `CAP_SYS_ADMIN` in the initial user
/// namespace (`capable()`, audited): for what a descriptor passed on must
/// not let its holder do.
pub(crate) fn caller_has_sys_admin() -> bool {
    // SAFETY: reads the current task's credentials; any process context.
    unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as i32) }
}
