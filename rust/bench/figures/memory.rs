// SPDX-License-Identifier: GPL-2.0

//! Figure 7: bytes per live pid, each column counting all it allocates for
//! them (pidfs's table on the kernel's side, its share).

use crate::{
    allocator::{hash, pidmap::PID_MAX_LIMIT},
    bench::{
        kernel_pid::{self, KernelPid},
        rebuild::RebuildPid,
        Caller, State,
    },
    uapi,
};
use kernel::{bindings, prelude::*};

/// Figure 7: bytes for `live` live pids at the leaf, each column counting
/// everything it allocates for them.
pub(crate) fn run(out: &mut uapi::shadowpid_bench, real: Option<&Caller>) -> Result {
    let live = u64::from(out.live);
    let st = State::new(out.depth, real, PID_MAX_LIMIT, out.live, out.layout, 0)?;
    let ns = st.shadow.leaf();
    let pid_bytes = st.shadow.pids.last().map_or(0, |p| p.slab_bytes());
    out.shadow_bytes = u64::from(ns.pidmap.pages()) * bindings::PAGE_SIZE as u64
        + live * pid_bytes
        + hash::table_bytes();
    let native_pid = st.rebuild.pids.last().map_or(0, RebuildPid::bytes);
    out.rebuild_bytes = st.rebuild.leaf().idr_bytes() + live * native_pid;
    if let Some(k) = st.kernel.as_ref() {
        let kernel_pid = k.pids.last().map_or(0, KernelPid::bytes);
        // The table of every pid on the machine: the figure's pids pay
        // their share of it (it grows in powers of two, so what it grew by
        // while they were added would say more about where the doubling
        // fell than about them). ENOENT: not on this kernel, not counted.
        let pidfs = match kernel_pid::pidfs_table() {
            Ok((bytes, entries)) if entries > 0 => {
                (out.pidfs_bytes, out.pidfs_entries) = (bytes, entries);
                bytes * live / entries
            }
            Ok(_) | Err(_) => 0,
        };
        out.kernel_bytes = k.leaf.idr_bytes() + live * kernel_pid + pidfs;
        out.columns |= uapi::SHADOWPID_BENCH_KERNEL;
    }
    out.columns |= uapi::SHADOWPID_BENCH_SHADOW | uapi::SHADOWPID_BENCH_REBUILD;
    Ok(())
}
