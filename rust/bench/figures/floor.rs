// SPDX-License-Identifier: GPL-2.0

//! Figure 8: the floor, an atomic test-and-set and clear on one word.

use crate::{
    bench::{interrupted, now, ps_per_op},
    uapi,
};
use core::sync::atomic::Ordering;
use kernel::prelude::*;

/// Figure 8: the floor, an atomic test-and-set + clear pair on one word.
pub(crate) fn run(out: &mut uapi::shadowpid_bench) -> Result {
    let n = out.iterations;
    let word = core::sync::atomic::AtomicU64::new(0);
    for r in 0..out.reps as usize {
        interrupted()?;
        let t = now();
        for i in 0..n {
            let mask = 1u64 << (i % 64);
            if word.fetch_or(mask, Ordering::AcqRel) & mask == 0 {
                word.fetch_and(!mask, Ordering::AcqRel);
            }
        }
        out.shadow_ps[r] = ps_per_op(now() - t, n.into());
    }
    out.columns = uapi::SHADOWPID_BENCH_SHADOW;
    Ok(())
}
