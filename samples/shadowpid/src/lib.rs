// SPDX-License-Identifier: GPL-2.0
//! Userspace side of shadowpid: the ABI generated from the uapi header and a
//! safe handle on `/dev/shadowpid`.

#![deny(missing_docs)]

pub mod abi;
pub mod device;

pub use device::Device;
