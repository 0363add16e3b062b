// SPDX-License-Identifier: GPL-2.0

//! shadowpid's lockless pidmap under `loom`, on the host.
//!
//! `pidmap` is the module's own `rust/pidmap.rs`, included unchanged with
//! `#[path]`: no second copy of the algorithm. `pidmap_env` is the host
//! twin of the module's `rust/pidmap_env.rs`, made of `loom` types, and
//! `models` (test builds only) runs the interleavings of the lockless paths:
//! all of them with two threads, those within `LOOM_MAX_PREEMPTIONS` with
//! three. `scripts/loom` runs it all.

// Outside the tests nothing here is used: the crate exists for its models.
#![cfg_attr(not(test), allow(dead_code))]

#[path = "../../../../rust/pidmap.rs"]
mod pidmap;
mod pidmap_env;

#[cfg(test)]
mod models;
