// SPDX-License-Identifier: GPL-2.0

//! Figure 4: `find_ge_pid()` walks over the leaf, per pid found.

use crate::{
    allocator::{pid, pidmap::PID_MAX_LIMIT},
    bench::{alternate, now, ps_per_op, Caller, Rep, State},
    uapi,
};
use kernel::{prelude::*, sync::rcu};

/// Figure 4: `find_ge_pid()` walks over the leaf, `iterations` walks, per
/// pid found; every column reads the number from the pid it found.
pub(crate) fn run(out: &mut uapi::shadowpid_bench, real: Option<&Caller>) -> Result {
    let (n, live) = (out.iterations, out.live);
    let st = State::new(out.depth, real, PID_MAX_LIMIT, live, out.layout, 0)?;
    // Each walk finds at least the live pids; per pid found.
    let check = |seen: u64| {
        if seen < u64::from(n) * u64::from(live) {
            Err(EUCLEAN)
        } else {
            Ok(())
        }
    };
    let leaf = st.kernel.as_ref().map(|k| k.leaf);
    let mut kernel_rep = || {
        let mut seen = 0u64;
        let t = now();
        if let Some(leaf) = leaf {
            for _ in 0..n {
                let mut nr = 0;
                while let Some(found) = leaf.find_ge(nr) {
                    seen += 1;
                    nr = found + 1;
                }
            }
        }
        let elapsed = now() - t;
        check(seen)?;
        Ok(ps_per_op(elapsed, seen))
    };
    alternate(
        out,
        n.into(),
        &mut || {
            let ns = st.shadow.leaf();
            let mut seen = 0u64;
            let t = now();
            for _ in 0..n {
                let mut nr = 0;
                loop {
                    let guard = rcu::read_lock();
                    let Some(pid) = pid::find_ge_pid_rcu(nr, ns, &guard) else {
                        break;
                    };
                    seen += 1;
                    nr = pid.nr_ns(ns) + 1;
                }
            }
            let elapsed = now() - t;
            check(seen)?;
            Ok(ps_per_op(elapsed, seen))
        },
        &mut || {
            let ns = st.rebuild.leaf();
            let mut seen = 0u64;
            let t = now();
            for _ in 0..n {
                let mut nr = 0;
                while let Some(found) = ns.next(nr) {
                    seen += 1;
                    nr = found + 1;
                }
            }
            let elapsed = now() - t;
            check(seen)?;
            Ok(ps_per_op(elapsed, seen))
        },
        leaf.map(|_| &mut kernel_rep as Rep<'_>),
        Default::default(),
    )
}
