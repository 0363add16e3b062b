// SPDX-License-Identifier: GPL-2.0

//! The figures, one per file (`enum shadowpid_bench_figure`); each builds
//! its state, times every column and fills in the answer.

pub(crate) mod contention;
pub(crate) mod floor;
pub(crate) mod full;
mod hammer;
pub(crate) mod lookup;
pub(crate) mod memory;
pub(crate) mod numbers;
pub(crate) mod occupancy;
pub(crate) mod walk;
pub(crate) mod worst;
