// SPDX-License-Identifier: GPL-2.0

//! Figures 3, 10 and 11: `find_pid_ns()` over keys drawn before anything is
//! timed: hits, hits that read the pid found, and misses, beside an empty
//! call over the same keys.

use crate::{
    allocator::{
        namespace::PidNamespace,
        pid,
        pidmap::{PID_MAX_LIMIT, RESERVED_PIDS},
    },
    bench::{alternate, kernel_pid, now, ps_per_op, Caller, Extra, Rep, Sequence, State},
    uapi,
};
use core::sync::atomic::Ordering;
use kernel::{prelude::*, sync::rcu};

/// Every column's live numbers at the leaf, in order: what lookups ask for.
pub(crate) fn live_numbers(st: &State<'_>, live: u32) -> Result<[KVVec<i32>; 3]> {
    let skip = st.shadow.chain.len();
    let mut out = [KVVec::new(), KVVec::new(), KVVec::new()];
    for pid in st.shadow.pids.iter().skip(skip) {
        out[0].push(pid.leaf_nr(), GFP_KERNEL)?;
    }
    for pid in st.rebuild.pids.iter().skip(skip) {
        out[1].push(pid.nr(), GFP_KERNEL)?;
    }
    if let Some(k) = st.kernel.as_ref() {
        for pid in k.pids.iter() {
            out[2].push(pid.nr(), GFP_KERNEL)?;
        }
    }
    if out[0].len() != live as usize || out[1].len() != live as usize {
        return Err(EUCLEAN);
    }
    Ok(out)
}

/// The numbers a miss asks for, given the live ones `live` (in order) and
/// the leaf's `pid_max`: each live number's successor that is not live
/// (the holes of a scattered layout), or, if there are none (dense),
/// `live.len()` numbers past the last, after a gap of 4,096 that the
/// machine's own forks (the kernel column's namespace is theirs) do not
/// cross during a figure, wrapping to RESERVED_PIDS at `pid_max`. `held` says whether a number is held in any
/// column (the machine's own pids too): those are left out.
pub(crate) fn absent_numbers(
    live: &[i32],
    pid_max: i32,
    held: impl Fn(i32) -> bool,
) -> Result<KVVec<i32>> {
    let mut out = KVVec::new();
    for w in live.windows(2) {
        if w[1] > w[0] + 1 && !held(w[0] + 1) {
            out.push(w[0] + 1, GFP_KERNEL)?;
        }
    }
    if out.is_empty() {
        // From past the gap up to pid_max, then on from RESERVED_PIDS (the
        // cursor may have been high: the numbers wrapped), never a number
        // held.
        let last = live.last().copied().unwrap_or(0);
        let span = (pid_max - RESERVED_PIDS).max(0);
        let first = (last + 4097 - RESERVED_PIDS).max(0);
        for i in 0..span {
            if out.len() == live.len() {
                break;
            }
            let nr = RESERVED_PIDS + (first + i).checked_rem(span).ok_or(EUCLEAN)?;
            if !held(nr) {
                out.push(nr, GFP_KERNEL)?;
            }
        }
    }
    if out.is_empty() {
        return Err(EUCLEAN);
    }
    Ok(out)
}

/// `n` lookup keys drawn from `set` before anything is timed: every member
/// once in a shuffled order, then again in the same order, until there are
/// `n` (the same seed in every column, so that each asks in the same
/// pattern).
pub(crate) fn keys(set: &[i32], n: u32) -> Result<KVVec<i32>> {
    let mut order = KVVec::with_capacity(set.len(), GFP_KERNEL)?;
    for &nr in set {
        order.push(nr, GFP_KERNEL)?;
    }
    let mut seq = Sequence(0x5eed);
    for i in (1..order.len()).rev() {
        order.swap(i, (seq.next() % (i as u64 + 1)) as usize);
    }
    let mut out = KVVec::with_capacity(n as usize, GFP_KERNEL)?;
    for &nr in order.iter().cycle().take(n as usize) {
        out.push(nr, GFP_KERNEL)?;
    }
    if out.len() != n as usize {
        return Err(EUCLEAN);
    }
    Ok(out)
}

/// The shadow's lookup as the benchmark calls it: out of line, with its
/// RCU read section inside, as the other columns' C entries are.
#[inline(never)]
pub(crate) fn shadow_find(ns: &PidNamespace, nr: i32, read: bool) -> Option<i32> {
    let guard = rcu::read_lock();
    let pid = pid::find_pid_ns(nr, ns, &guard)?;
    Some(if read { pid.nr_ns(ns) } else { nr })
}

/// Times `keys` lookups with `find` (which answers the number found, read
/// from the pid or not), each expected to find its key if `hit`, to find
/// nothing otherwise: ps per lookup, EUCLEAN if any answer was wrong.
pub(crate) fn time_lookups(
    keys: &[i32],
    hit: bool,
    mut find: impl FnMut(i32) -> Option<i32>,
) -> Result<u64> {
    let mut wrong = 0u32;
    let t = now();
    for &nr in keys {
        let got = find(nr);
        wrong += u32::from(if hit { got != Some(nr) } else { got.is_some() });
    }
    let elapsed = now() - t;
    if wrong != 0 {
        return Err(EUCLEAN);
    }
    Ok(ps_per_op(elapsed, keys.len() as u64))
}

/// Figures 3, 10 and 11: find_pid_ns over precomputed keys, `live` pids
/// live: hits (with `read`, each column also reads the number of the pid it
/// found: LOOKUP_READ) or misses (LOOKUP_MISS), beside an empty call over
/// the same keys.
pub(crate) fn run(
    out: &mut uapi::shadowpid_bench,
    real: Option<&Caller>,
    read: bool,
    hit: bool,
) -> Result {
    let (n, live) = (out.iterations, out.live);
    let st = State::new(out.depth, real, PID_MAX_LIMIT, live, out.layout, 0)?;
    let [s_nrs, n_nrs, k_nrs] = live_numbers(&st, live)?;
    let (s_ns, n_ns) = (st.shadow.leaf(), st.rebuild.leaf());
    let leaf = st.kernel.as_ref().map(|k| k.leaf);
    // Misses: one set for every column, numbers none of them holds (the
    // shadow's pidmap holds every number the others do: the same state).
    let absent = if hit {
        KVVec::new()
    } else {
        let pid_max = s_ns.pid_max.load(Ordering::Relaxed);
        absent_numbers(&s_nrs, pid_max, |nr| {
            s_ns.pidmap.test(nr) || leaf.is_some_and(|l| l.find(nr, false).is_some())
        })?
    };
    let pick = |nrs: &[i32]| keys(if hit { nrs } else { &absent }, n);
    let (s_keys, n_keys) = (pick(&s_nrs)?, pick(&n_nrs)?);
    let k_keys = match leaf {
        Some(_) => pick(&k_nrs)?,
        None => KVVec::new(),
    };
    let mut kernel_rep = || match leaf {
        Some(l) => time_lookups(&k_keys, hit, |nr| {
            l.find(nr, read).map(|got| if read { got } else { nr })
        }),
        None => Err(EINVAL),
    };
    alternate(
        out,
        n.into(),
        &mut || time_lookups(&s_keys, hit, |nr| shadow_find(s_ns, nr, read)),
        &mut || {
            time_lookups(&n_keys, hit, |nr| {
                if read {
                    n_ns.find_nr(nr)
                } else {
                    n_ns.find(nr).then_some(nr)
                }
            })
        },
        leaf.map(|_| &mut kernel_rep as Rep<'_>),
        Extra {
            baseline: Some(&mut || {
                time_lookups(&s_keys, true, |nr| Some(kernel_pid::nop(nr, read)))
            }),
            ..Default::default()
        },
    )
}
