// SPDX-License-Identifier: GPL-2.0

//! Figure 9: number pairs at an occupancy, the taken numbers scattered.

use super::numbers;
use crate::{
    bench::{numbers_taken, occupied},
    uapi,
};
use kernel::prelude::*;

/// Figure 9: alloc + free pairs at an occupancy, scattered.
pub(crate) fn run(out: &mut uapi::shadowpid_bench) -> Result {
    let occ = out.occupancy;
    let (shadow, rebuild) = numbers_taken(out.pid_max as i32, |nr| occupied(nr, occ))?;
    numbers::pairs(out, &shadow, &rebuild)
}
