// SPDX-License-Identifier: GPL-2.0

//! The ioctl ABI, generated from `include/uapi/linux/shadowpid.h`.
//!
//! The header is the only definition: `Kbuild` runs bindgen on it, so the
//! command numbers and the struct layouts here are the C ones. This file only
//! adds what the kernel crate needs to copy the structs from and to userspace.

#![allow(
    dead_code,
    non_camel_case_types,
    non_upper_case_globals,
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::missing_docs_in_private_items,
    clippy::undocumented_unsafe_blocks
)]

include!("uapi_generated.rs");

/// Marks ABI structs as plain old data for `UserSliceReader::read` and
/// `UserSliceWriter::write`.
macro_rules! impl_pod {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: a uapi struct is `#[repr(C)]`, made only of fixed-width
        // integers, with explicit padding fields: it has no padding bytes and
        // every bit pattern is a valid value.
        unsafe impl kernel::transmute::FromBytes for $t {}
        // SAFETY: as above; no padding bytes, so all bytes are initialized.
        unsafe impl kernel::transmute::AsBytes for $t {}
    )*};
}

impl_pod!(
    shadowpid_version,
    shadowpid_op,
    shadowpid_batch,
    shadowpid_stats,
    shadowpid_bench,
    shadowpid_mirror
);

/// KUnit: the generated ABI against the kernel crate's own encoding.
#[kernel::prelude::kunit_tests(shadowpid_uapi)]
mod tests {
    use super::*;
    use kernel::ioctl::{_IOR, _IOWR};

    /// bindgen evaluated the C `_IOR()`; the kernel crate encodes it on its own.
    #[test]
    fn command_numbers_are_the_kernel_encoding() {
        assert_eq!(
            SHADOWPID_IOC_VERSION,
            _IOR::<shadowpid_version>(SHADOWPID_IOC_MAGIC, 0x00)
        );
        assert_eq!(
            SHADOWPID_IOC_OP,
            _IOWR::<shadowpid_op>(SHADOWPID_IOC_MAGIC, 0x01)
        );
        assert_eq!(
            SHADOWPID_IOC_BATCH,
            _IOWR::<shadowpid_batch>(SHADOWPID_IOC_MAGIC, 0x02)
        );
        assert_eq!(
            SHADOWPID_IOC_STATS,
            _IOWR::<shadowpid_stats>(SHADOWPID_IOC_MAGIC, 0x03)
        );
        assert_eq!(
            SHADOWPID_IOC_BENCH,
            _IOWR::<shadowpid_bench>(SHADOWPID_IOC_MAGIC, 0x04)
        );
        assert_eq!(
            SHADOWPID_IOC_MIRROR,
            _IOWR::<shadowpid_mirror>(SHADOWPID_IOC_MAGIC, 0x05)
        );
    }

    /// Fixed sizes: the ABI must not depend on the architecture's padding.
    #[test]
    fn struct_sizes() {
        assert_eq!(core::mem::size_of::<shadowpid_version>(), 8);
        assert_eq!(core::mem::size_of::<shadowpid_op>(), 184);
        assert_eq!(core::mem::size_of::<shadowpid_batch>(), 24);
        assert_eq!(core::mem::size_of::<shadowpid_stats>(), 72);
        assert_eq!(core::mem::size_of::<shadowpid_bench>(), 464);
        assert_eq!(core::mem::size_of::<shadowpid_mirror>(), 552);
    }
}
