// SPDX-License-Identifier: GPL-2.0

//! shadowpid's lockless pidmap and RCU pid hash under `loom`, on the host.
//!
//! `pidmap` and `hash` are the module's own `rust/allocator/pidmap.rs` and
//! `rust/allocator/hash/`, included unchanged with `#[path]`: no second copy of any
//! protocol. `pidmap_env` and `hash_env` are the host twins of the module's
//! `rust/allocator/pidmap_env.rs` and `rust/allocator/hash_env.rs`, made of the primitives of
//! [`host`]: `loom`'s, or with the `host-std` feature `std`'s (the seam a
//! host benchmark builds the same files on). `models` (test builds under
//! `loom` only) runs the interleavings of the lockless paths: all of them
//! with two threads, those within `LOOM_MAX_PREEMPTIONS` with three.
//! `scripts/loom` runs it all.

// Outside the models nothing here is used: the crate exists for them.
#![cfg_attr(not(all(test, loom)), allow(dead_code))]

// The module's files hold what the rest of the module uses too.
#[allow(dead_code, unused_imports)]
#[path = "../../../../rust/allocator/hash/mod.rs"]
mod hash;
mod hash_env;
mod host;
#[allow(dead_code)]
#[path = "../../../../rust/allocator/pidmap.rs"]
mod pidmap;
mod pidmap_env;

#[cfg(all(test, loom))]
mod models;
#[cfg(all(test, not(loom)))]
mod std_smoke;
