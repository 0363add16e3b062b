// SPDX-License-Identifier: GPL-2.0

//! Figure 5: alloc/free pairs on pinned threads, one per CPU, in one
//! namespace.

use super::hammer::{hammer, Hammer, Side};
use crate::{
    bench::{alternate, ps_per_op, Caller, Rep, State},
    uapi,
};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32};
use kernel::prelude::*;

/// Figure 5: alloc/free pairs on `cpus` pinned threads, one namespace.
pub(crate) fn run(out: &mut uapi::shadowpid_bench, real: Option<&Caller>) -> Result {
    let (n, cpus) = (out.iterations, out.cpus);
    let st = State::for_pairs(out, real)?;
    let pairs = u64::from(n) * u64::from(cpus);
    let run = |side: Side<'_>| -> Result<u64> {
        let h = Hammer {
            side,
            iterations: n,
            ready: AtomicU32::new(0),
            go: AtomicBool::new(false),
            abort: AtomicBool::new(false),
            done: AtomicU32::new(0),
            end: AtomicI64::new(0),
            error: AtomicI32::new(0),
        };
        Ok(ps_per_op(hammer(&h, cpus)?, pairs))
    };
    let leaf = st.kernel.as_ref().map(|k| k.leaf);
    let mut kernel_rep = || leaf.map_or(Err(EINVAL), |l| run(Side::Kernel(l)));
    alternate(
        out,
        pairs,
        &mut || run(Side::Shadow(st.shadow.leaf())),
        &mut || run(Side::Rebuild(st.rebuild.leaf())),
        leaf.map(|_| &mut kernel_rep as Rep<'_>),
        Default::default(),
    )
}
