// SPDX-License-Identifier: GPL-2.0

//! The ioctl ABI, generated from `include/uapi/linux/shadowpid.h`.
//!
//! The header is the only definition: `Kbuild` runs bindgen on it, so the
//! command numbers and the struct layouts here are the C ones. bindgen's
//! layout tests come with them: compile-time assertions that every struct's
//! size and alignment, and every field's offset, are those clang computed
//! from the header, so no size is written down twice. This file only adds
//! what the kernel crate needs to copy the structs from and to userspace.

generated!(mod generated = "uapi_generated.rs");
pub(crate) use generated::*;

/// Marks ABI structs as plain old data for `UserSliceReader::read` and
/// `UserSliceWriter::write`.
macro_rules! impl_pod {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: a uapi struct is `#[repr(C)]`, made only of fixed-width
        // integers (and arrays and structs of them), with explicit padding
        // fields: it has no padding bytes and every bit pattern is a valid
        // value. The userspace crate's `tests/abi.rs` checks the first for
        // every struct of the header (its size is the sum of its fields').
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
    use kernel::ioctl::{_IO, _IOR, _IOWR};

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
        assert_eq!(SHADOWPID_IOC_BARRIER, _IO(SHADOWPID_IOC_MAGIC, 0x06));
    }
}
