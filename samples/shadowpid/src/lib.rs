// SPDX-License-Identifier: GPL-2.0
//! Userspace side of shadowpid: the ABI generated from the uapi header and a
//! safe handle on `/dev/shadowpid`.

#![deny(missing_docs)]

pub mod abi;
pub mod bench;
pub mod compare;
pub mod device;
pub mod errno;
pub mod error;
pub mod faults;
pub mod fuzz;
pub mod interrupt;
pub mod knobs;
pub mod mirror;
pub mod model;
pub mod ops;
pub mod progress;
pub mod pseudofs;
pub mod random;
pub mod script;
pub mod stress;

pub use device::{settle, Device};
