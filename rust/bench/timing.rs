// SPDX-License-Identifier: GPL-2.0

//! What every figure times with: the clock, picoseconds per operation, the
//! signal check between steps, a reproducible sequence, and the driver that
//! runs every column's repetitions in balanced orders.

use crate::uapi;
use kernel::{bindings, prelude::*};

/// Monotonic nanoseconds.
pub(crate) fn now() -> i64 {
    // SAFETY: `ktime_get()` may be called from any context.
    unsafe { bindings::ktime_get() }
}

/// Picoseconds per operation of `ops` operations that took `ns` ns.
pub(crate) fn ps_per_op(ns: i64, ops: u64) -> u64 {
    (ns.max(0) as u64).saturating_mul(1000) / ops.max(1)
}

/// EINTR if a signal is pending for the caller.
pub(crate) fn interrupted() -> Result {
    if kernel::current!().signal_pending() {
        return Err(EINTR);
    }
    Ok(())
}

/// A cheap, reproducible sequence (xorshift64*) shared by both sides.
pub(crate) struct Sequence(pub(crate) u64);

impl Sequence {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `lo..hi`.
    pub(crate) fn within(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() % (hi - lo) as u64) as i32
    }
}

/// Times `n` calls of `op`: ps per call.
pub(crate) fn per_op(n: u32, mut op: impl FnMut() -> Result) -> Result<u64> {
    let t = now();
    for _ in 0..n {
        op()?;
    }
    Ok(ps_per_op(now() - t, n.into()))
}

/// One column's timed repetition: ps per operation.
pub(crate) type Rep<'a> = &'a mut dyn FnMut() -> Result<u64>;

/// The columns a figure may time beside the shadow, the rebuild and the
/// kernel, each in the same repetitions.
#[derive(Default)]
pub(crate) struct Extra<'a> {
    /// Into `baseline_ps`: the loop with an empty call.
    pub(crate) baseline: Option<Rep<'a>>,
    /// Into `pidfs_ps`: pidfs's part of the kernel's pair.
    pub(crate) pidfs: Option<Rep<'a>>,
    /// Into the rows of `parts_ps` (`enum shadowpid_bench_part`).
    pub(crate) parts: [Option<Rep<'a>>; uapi::SHADOWPID_BENCH_PARTS as usize],
}

/// Runs `reps` repetitions of each column, in balanced orders (every
/// rotation of the columns, then every rotation reversed), and fills
/// `out.shadow_ps`, `out.rebuild_ps` and (if it runs) `out.kernel_ps`, with
/// the `rcu_barrier()` after each column's repetition timed into the
/// `*_drain_ps` beside them (per one of `ops` operations), and the columns
/// of `extra` that are given into theirs.
pub(crate) fn alternate<'a>(
    out: &mut uapi::shadowpid_bench,
    ops: u64,
    shadow: Rep<'a>,
    rebuild: Rep<'a>,
    kernel: Option<Rep<'a>>,
    extra: Extra<'a>,
) -> Result {
    const COLUMNS: usize = 5 + uapi::SHADOWPID_BENCH_PARTS as usize;
    let kernel_runs = kernel.is_some();
    let Extra {
        baseline,
        pidfs,
        parts: [p0, p1, p2, p3],
    } = extra;
    let mut columns: [Option<Rep<'a>>; COLUMNS] = [
        Some(shadow),
        Some(rebuild),
        kernel,
        baseline,
        pidfs,
        p0,
        p1,
        p2,
        p3,
    ];
    // The columns that run, in the orders the repetitions take in turn:
    // every rotation of them, then every rotation reversed, so that each is
    // first, last and after each other one about equally often.
    let mut active = [0usize; COLUMNS];
    let mut count = 0;
    for (c, col) in columns.iter().enumerate() {
        if col.is_some() {
            active[count] = c;
            count += 1;
        }
    }
    for r in 0..out.reps as usize {
        interrupted()?;
        let (turn, reversed) = (r % count, (r / count) % 2 == 1);
        for i in 0..count {
            let k = if reversed { count - 1 - i } else { i };
            let c = active[(k + turn) % count];
            let Some(rep) = columns[c].as_mut() else {
                continue;
            };
            let ps = rep()?;
            let t = now();
            kernel::sync::rcu::rcu_barrier();
            let drain = ps_per_op(now() - t, ops);
            let (ps_out, drain_out) = match c {
                0 => (&mut out.shadow_ps, Some(&mut out.shadow_drain_ps)),
                1 => (&mut out.rebuild_ps, Some(&mut out.rebuild_drain_ps)),
                2 => (&mut out.kernel_ps, Some(&mut out.kernel_drain_ps)),
                3 => (&mut out.baseline_ps, None),
                4 => (&mut out.pidfs_ps, None),
                part => (&mut out.parts_ps[part - 5], None),
            };
            ps_out[r] = ps;
            if let Some(d) = drain_out {
                d[r] = drain;
            }
        }
    }
    out.columns = uapi::SHADOWPID_BENCH_SHADOW
        | uapi::SHADOWPID_BENCH_REBUILD
        | if kernel_runs {
            uapi::SHADOWPID_BENCH_KERNEL
        } else {
            0
        };
    Ok(())
}
