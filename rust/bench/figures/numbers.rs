// SPDX-License-Identifier: GPL-2.0

//! Figure 1: numbers alone (`alloc_pidmap` + `free_pidmap` against
//! `idr_alloc_cyclic` + `idr_remove`), at the leaf of a figure's state. The
//! kernel has no such call: no kernel column.

use crate::{
    bench::{alternate, now, ps_per_op, rebuild::Rebuild, shadow::Shadow, Caller, State},
    uapi,
};
use kernel::prelude::*;

/// Times alloc + free pairs of numbers alone on both sides' leaves.
pub(crate) fn pairs(out: &mut uapi::shadowpid_bench, shadow: &Shadow, rebuild: &Rebuild) -> Result {
    let n = out.iterations;
    alternate(
        out,
        n.into(),
        &mut || {
            let ns = shadow.leaf();
            let t = now();
            for _ in 0..n {
                let nr = ns.alloc_cyclic()?;
                ns.pidmap.free(nr);
            }
            Ok(ps_per_op(now() - t, n.into()))
        },
        &mut || {
            let ns = rebuild.leaf();
            let t = now();
            for _ in 0..n {
                let nr = ns.alloc_nr()?;
                ns.free_nr(nr);
            }
            Ok(ps_per_op(now() - t, n.into()))
        },
        None,
        Default::default(),
    )
}

/// Figure 1: numbers only, at the leaf of a figure's state (the kernel has
/// no such call: no kernel column).
pub(crate) fn run(out: &mut uapi::shadowpid_bench, real: Option<&Caller>) -> Result {
    let st = State::for_pairs(out, real)?;
    pairs(out, &st.shadow, &st.rebuild)
}
