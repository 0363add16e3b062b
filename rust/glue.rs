// SPDX-License-Identifier: GPL-2.0

//! The thin unsafe layer: kernel services the 7.3 kernel crate does not wrap.
//!
//! Everything above this file is safe Rust.

use kernel::{bindings, fs::File};

/// Whether the opener of `file` had `CAP_SYS_ADMIN` in the initial user
/// namespace when it opened the file (as `file_ns_capable()` checks it).
pub(crate) fn file_has_sys_admin(file: &File) -> bool {
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
