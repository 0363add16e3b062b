// SPDX-License-Identifier: GPL-2.0
//! Why the device could not be used, said so that the reader knows what to
//! do: which file, whether the module is loaded, which privilege is
//! missing, which ABI versions disagree. Each message is one line; the
//! operating system's own error is its source, printed after it.

use std::{io, os::unix::fs::MetadataExt, path::PathBuf};
use thiserror::Error;

/// Where the kernel lists a loaded module.
pub const MODULE_DIR: &str = "/sys/module/shadowpid";

/// A failure to open or to talk to `/dev/shadowpid`, with its remedy.
#[derive(Debug, Error)]
pub enum DeviceError {
    /// No node, and no module: the common case on a machine without it.
    #[error(
        "cannot open {path}: the shadowpid module is not loaded (no {MODULE_DIR}); \
         load it as root: insmod shadowpid.ko (built by 'make'; 'make run' tries it in a test guest)"
    )]
    NotLoaded {
        /// The device path.
        path: PathBuf,
        /// What open(2) said.
        #[source]
        source: io::Error,
    },
    /// The module is loaded, the node is not where it was looked for.
    #[error(
        "cannot open {path}: the shadowpid module is loaded but there is no such node \
         (is devtmpfs mounted on /dev? the node's numbers are in /sys/class/misc/shadowpid/dev)"
    )]
    NoNode {
        /// The device path.
        path: PathBuf,
        /// What open(2) said.
        #[source]
        source: io::Error,
    },
    /// The file's permissions refuse this user (EACCES).
    #[error(
        "cannot open {path}: permission denied to uid {uid}: the node is mode {mode:04o}, \
         owner uid {owner}; run as root (e.g. sudo), which also gives CAP_SYS_ADMIN"
    )]
    Denied {
        /// The device path.
        path: PathBuf,
        /// This process's effective uid.
        uid: u32,
        /// The node's permission bits.
        mode: u32,
        /// The node's owner.
        owner: u32,
        /// What open(2) said.
        #[source]
        source: io::Error,
    },
    /// The module refused an opener without `CAP_SYS_ADMIN` (EPERM).
    #[error(
        "cannot open {path}: the module admits only openers with CAP_SYS_ADMIN, which this \
         process lacks; run as root (e.g. sudo) with that capability"
    )]
    NoCapability {
        /// The device path.
        path: PathBuf,
        /// What open(2) said.
        #[source]
        source: io::Error,
    },
    /// Any other failure to open it.
    #[error("cannot open {path}")]
    Open {
        /// The device path.
        path: PathBuf,
        /// What open(2) said.
        #[source]
        source: io::Error,
    },
    /// The file opened but does not answer as the module does.
    #[error("{path} is not a shadowpid device: it does not answer SHADOWPID_IOC_VERSION")]
    NotShadowpid {
        /// The device path.
        path: PathBuf,
        /// What the ioctl said.
        #[source]
        source: io::Error,
    },
    /// The module and this tool were built from different ABIs.
    #[error(
        "{path} speaks ABI version {module}, this tool ABI version {tool}: build both from \
         one checkout ('make modules tools') and load that module"
    )]
    AbiMismatch {
        /// The device path.
        path: PathBuf,
        /// The loaded module's `SHADOWPID_ABI_VERSION`.
        module: u32,
        /// This tool's.
        tool: u32,
    },
}

impl DeviceError {
    /// What opening `path` failing with `source` means, from the errno and
    /// from what the system shows (`module_loaded`: whether [`MODULE_DIR`]
    /// exists).
    pub fn open(path: PathBuf, source: io::Error, module_loaded: bool) -> Self {
        match source.raw_os_error() {
            Some(libc::ENOENT | libc::ENXIO | libc::ENODEV) if !module_loaded => {
                DeviceError::NotLoaded { path, source }
            }
            Some(libc::ENOENT) => DeviceError::NoNode { path, source },
            Some(libc::EACCES) => {
                let (mode, owner) =
                    std::fs::metadata(&path).map_or((0, 0), |m| (m.mode() & 0o7777, m.uid()));
                // SAFETY: geteuid has no preconditions and cannot fail.
                let uid = unsafe { libc::geteuid() };
                DeviceError::Denied {
                    path,
                    uid,
                    mode,
                    owner,
                    source,
                }
            }
            Some(libc::EPERM) => DeviceError::NoCapability { path, source },
            _ => DeviceError::Open { path, source },
        }
    }

    /// The errno the operating system gave, if any.
    fn errno(&self) -> Option<i32> {
        match self {
            DeviceError::NotLoaded { source, .. }
            | DeviceError::NoNode { source, .. }
            | DeviceError::Denied { source, .. }
            | DeviceError::NoCapability { source, .. }
            | DeviceError::Open { source, .. }
            | DeviceError::NotShadowpid { source, .. } => source.raw_os_error(),
            DeviceError::AbiMismatch { .. } => None,
        }
    }
}

/// Carried in an [`io::Error`] of the same kind as the system's, so that
/// the library's `io::Result`s pass it on unchanged; its message and source
/// stay readable through `io::Error`'s own `Display` and `source`.
impl From<DeviceError> for io::Error {
    fn from(e: DeviceError) -> Self {
        let kind = e.errno().map_or(io::ErrorKind::Other, |n| {
            io::Error::from_raw_os_error(n).kind()
        });
        io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    fn os(e: i32) -> io::Error {
        io::Error::from_raw_os_error(e)
    }

    #[test]
    fn no_node_without_module_says_load_it() {
        let e = DeviceError::open("/dev/shadowpid".into(), os(libc::ENOENT), false);
        let text = e.to_string();
        assert!(text.starts_with("cannot open /dev/shadowpid: the shadowpid module is not loaded"));
        assert!(text.contains("insmod shadowpid.ko"), "{text}");
        assert!(!text.contains('\n'));
        assert_eq!(
            e.source().map(ToString::to_string),
            Some(os(libc::ENOENT).to_string())
        );
    }

    #[test]
    fn no_node_with_module_says_devtmpfs() {
        let e = DeviceError::open("/dev/x".into(), os(libc::ENOENT), true);
        assert!(matches!(e, DeviceError::NoNode { .. }));
        assert!(e.to_string().contains("module is loaded"));
    }

    #[test]
    fn privilege_errors_name_the_remedy() {
        let denied = DeviceError::open("/nonexistent".into(), os(libc::EACCES), true);
        assert!(denied.to_string().contains("permission denied to uid"));
        assert!(denied.to_string().contains("run as root"));
        let cap = DeviceError::open("/dev/shadowpid".into(), os(libc::EPERM), true);
        assert!(cap.to_string().contains("CAP_SYS_ADMIN"));
    }

    #[test]
    fn abi_mismatch_names_both_versions() {
        let e = DeviceError::AbiMismatch {
            path: "/dev/shadowpid".into(),
            module: 4,
            tool: 5,
        };
        assert_eq!(
            e.to_string(),
            "/dev/shadowpid speaks ABI version 4, this tool ABI version 5: build both from \
             one checkout ('make modules tools') and load that module"
        );
        assert!(e.source().is_none());
    }

    #[test]
    fn travels_in_an_io_error() {
        let e: io::Error =
            DeviceError::open("/dev/shadowpid".into(), os(libc::ENOENT), false).into();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("not loaded"));
        assert_eq!(
            e.source().map(ToString::to_string),
            Some(os(libc::ENOENT).to_string())
        );
    }
}
