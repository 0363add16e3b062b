// SPDX-License-Identifier: GPL-2.0
//! Random operation sequences for the model-based test, reproducible from a
//! seed. Each operation is chosen from the model's state at that point, so
//! most name live pids and namespaces; a share is deliberately wrong.

use crate::model::Model;
use crate::ops::{Op, PidType};

/// xorshift64*: small, fast, and the same sequence everywhere.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    /// A uniformly chosen element of `v`; None if `v` is empty.
    pub fn pick<T: Copy>(&mut self, v: &[T]) -> Option<T> {
        (!v.is_empty()).then(|| v[self.below(v.len() as u64) as usize])
    }
}

/// A random pid type.
fn ty(rng: &mut Rng) -> PidType {
    [PidType::Pid, PidType::Pgid, PidType::Sid][rng.below(3) as usize]
}

/// The next operation for a universe in the state `m`.
pub fn next_op(rng: &mut Rng, m: &Model) -> Op {
    // The root's init first, as in a real system: without it the first pid
    // of a child namespace would take the root's number 1 too, and freeing it
    // would leave the root empty, hence closed for good.
    if !m.busy(0) && !m.dead(0) {
        return Op::Alloc {
            ns: 0,
            set_tid: Vec::new(),
        };
    }
    let ids = m.ns_ids();
    let busy: Vec<u32> = ids.iter().copied().filter(|&i| m.busy(i)).collect();
    let alive: Vec<u32> = ids.iter().copied().filter(|&i| m.alive(i)).collect();
    let dead: Vec<u32> = ids.iter().copied().filter(|&i| m.dead(i)).collect();
    // Mostly where things happen; now and then anywhere.
    let ns = if rng.chance(80) {
        rng.pick(&busy)
    } else {
        None
    };
    let ns = ns.or_else(|| rng.pick(&ids)).unwrap_or(0);
    // Now and then an id that does not exist.
    let ns = if rng.chance(2) { ns + 1000 } else { ns };
    // The root's init stays: freeing it would end the universe (every
    // later allocation ENOMEM), which one test of its own covers.
    // A number in use, as a uniform pick from the ascending list without
    // making the list (the model's step would cost O(namespace) otherwise).
    let skip = usize::from(ns == 0 && m.is_used(0, 1));
    let count = m.used_count(ns) - skip;
    let live = |rng: &mut Rng| -> i32 {
        let picked = (count > 0).then(|| m.nth_used(ns, skip + rng.below(count as u64) as usize));
        match picked.flatten() {
            Some(nr) if !rng.chance(5) => nr,
            _ => 2 + rng.below(1200) as i32,
        }
    };
    let level = m.level(ns).unwrap_or(0);
    match rng.below(100) {
        0..=34 => Op::Alloc {
            ns,
            set_tid: Vec::new(),
        },
        35..=39 => {
            let n = 1 + rng.below(level as u64 + 2) as usize;
            let set_tid = (0..n)
                .map(|_| match rng.below(10) {
                    0 => 0,
                    1 => 1,
                    2..=5 => live(rng),
                    _ => 1 + rng.below(1100) as i32,
                })
                .collect();
            Op::Alloc { ns, set_tid }
        }
        40..=59 => Op::Free { ns, nr: live(rng) },
        60..=63 => Op::Find { ns, nr: live(rng) },
        64..=67 => Op::Next {
            ns,
            nr: live(rng) - rng.below(3) as i32,
        },
        68..=70 => Op::NrNs {
            ns,
            nr: live(rng),
            target: rng.pick(&ids).unwrap_or(0),
        },
        71..=73 => Op::SetLastPid {
            ns,
            value: match rng.below(4) {
                0 => 0,
                1 => 295 + rng.below(10) as u32,
                _ => rng.below(1100) as u32,
            },
        },
        74..=75 => Op::SetPidMax {
            ns,
            value: match rng.below(6) {
                0 => 300,
                1 => 4_194_304,
                _ => 301 + rng.below(700) as u32,
            },
        },
        // unshare(CLONE_NEWPID) needs a process in the parent: mostly
        // children of living namespaces, sometimes of any.
        76..=79 if ids.len() < 24 => Op::NsCreate {
            parent: if rng.chance(90) {
                rng.pick(&alive).unwrap_or(ns)
            } else {
                ns
            },
        },
        // A fresh namespace's init.
        76..=80 if rng.chance(70) => Op::Alloc {
            ns: rng
                .pick(
                    &ids.iter()
                        .copied()
                        .filter(|&i| !m.busy(i) && !m.dead(i))
                        .collect::<Vec<_>>(),
                )
                .unwrap_or(ns),
            set_tid: Vec::new(),
        },
        76..=80 => Op::NsRelease {
            ns: rng.pick(&dead).unwrap_or(ns),
        },
        // Kill a namespace's init now and then: zaps it.
        81..=83 if ns != 0 => Op::Free { ns, nr: 1 },
        84..=87 => Op::Attach {
            task: rng.below(40) as u32,
            ty: ty(rng),
            ns,
            nr: live(rng),
        },
        88..=90 => Op::Detach {
            task: rng.pick(&m.task_ids()).unwrap_or(0),
            ty: ty(rng),
        },
        91 => Op::Transfer {
            old: rng.pick(&m.task_ids()).unwrap_or(0),
            new: rng.below(40) as u32,
            ty: ty(rng),
        },
        92..=93 => Op::PidTask {
            ns,
            nr: live(rng),
            ty: ty(rng),
        },
        94 => Op::Get { ns, nr: live(rng) },
        95 => Op::Put {
            handle: rng.pick(&m.handle_ids()).unwrap_or(7),
        },
        96 => Op::HandleNr {
            handle: rng.pick(&m.handle_ids()).unwrap_or(3),
            target: rng.pick(&ids).unwrap_or(0),
        },
        _ => Op::Check { ns },
    }
}
