// SPDX-License-Identifier: GPL-2.0

//! Figure 2: the full `alloc_pid` + `free_pid` pair at a depth, with
//! pidfs's part of the kernel's pair timed on its own, and the shadow's and
//! the rebuild's pairs cut short after their first and second steps (the
//! numbers; the numbers and the `struct pid`), so that each step is a
//! difference paired per repetition.

use crate::{
    allocator::{namespace::NR_LEVELS, pid},
    bench::{alternate, kernel_pid, now, per_op, ps_per_op, Caller, Extra, Rep, State},
    uapi,
};
use kernel::prelude::*;

/// Figure 2: alloc_pid + free_pid at `depth`.
pub(crate) fn run(out: &mut uapi::shadowpid_bench, real: Option<&Caller>) -> Result {
    let n = out.iterations;
    let st = State::for_pairs(out, real)?;
    let leaf = st.kernel.as_ref().map(|k| k.leaf);
    let mut kernel_rep = || {
        let t = now();
        if let Some(leaf) = leaf {
            for _ in 0..n {
                drop(leaf.alloc_pid()?);
            }
        }
        Ok(ps_per_op(now() - t, n.into()))
    };
    // pidfs's part of the kernel's pair, timed on its own on one pid of the
    // same namespace (in the table with the state's and the machine's).
    let probe = match leaf {
        Some(leaf) if kernel_pid::pidfs_resolve().is_ok() => Some(leaf.alloc_pid()?),
        _ => None,
    };
    let mut pidfs_rep = || {
        let t = now();
        if let Some(p) = probe.as_ref() {
            p.pidfs_cycle(n)?;
        }
        Ok(ps_per_op(now() - t, n.into()))
    };
    let (shadow_leaf, rebuild_leaf) = (st.shadow.leaf(), st.rebuild.leaf());
    let parts: [Rep<'_>; uapi::SHADOWPID_BENCH_PARTS as usize] = [
        &mut || {
            per_op(n, || {
                // As `alloc_pid()` takes them, and `free_pid()` gives them
                // back.
                let levels = shadow_leaf.levels();
                let mut nrs = [0; NR_LEVELS];
                pid::alloc_numbers(shadow_leaf, &levels, &[], &mut nrs)?;
                let upto = shadow_leaf.level as usize + 1;
                pid::release_numbers(&levels[..upto], &nrs[..upto], 0);
                Ok(())
            })
        },
        &mut || per_op(n, || pid::alloc_unhashed(shadow_leaf, &[]).map(drop)),
        &mut || per_op(n, || rebuild_leaf.cycle_nrs()),
        &mut || per_op(n, || rebuild_leaf.alloc_unpublished().map(drop)),
    ];
    let [p0, p1, p2, p3] = parts;
    alternate(
        out,
        n.into(),
        &mut || {
            per_op(n, || {
                let pid = st.shadow.alloc_pid()?;
                pid::free_pid(&pid).map(drop)
            })
        },
        &mut || per_op(n, || st.rebuild.leaf().alloc_pid().map(drop)),
        leaf.map(|_| &mut kernel_rep as Rep<'_>),
        Extra {
            baseline: None,
            pidfs: probe.as_ref().map(|_| &mut pidfs_rep as Rep<'_>),
            parts: [Some(p0), Some(p1), Some(p2), Some(p3)],
        },
    )
}
