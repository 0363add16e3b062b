// SPDX-License-Identifier: GPL-2.0
//! The built-in scenarios and the random ones.

use super::{Event, World};
use crate::random::Rng;
use std::io;

/// A scenario: drives a world until it ends or the two sides differ.
pub type Script = Box<dyn FnOnce(&mut World<'_>) -> io::Result<()>>;

/// The names of the built-in scenarios, in the order `make run` shows them.
pub const BUILTIN: &[&str] = &[
    "wraparound",
    "exhaustion",
    "nest-32",
    "set-tid",
    "ns-last-pid",
    "init-exit",
    "threads",
    "fork-burst",
];

/// Runs the events, stopping at the first difference.
macro_rules! run {
    ($w:expr, $($ev:expr),+ $(,)?) => {
        $( if !$w.step(&$ev)? { return Ok(()); } )+
    };
}

/// `n` forks by `p`.
fn forks(w: &mut World<'_>, p: usize, n: usize) -> io::Result<bool> {
    for _ in 0..n {
        if !w.step(&Event::Fork(p))? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The built-in scenario `name`.
pub fn builtin(name: &str) -> Option<Script> {
    Some(match name {
        // Past pid_max allocation wraps to 300 (not 1: last_pid is past 300).
        "wraparound" => Box::new(|w| {
            run!(w, Event::PidMax(1, 400), Event::LastPid(1, 395));
            if !forks(w, 0, 10)? {
                return Ok(());
            }
            run!(
                w,
                Event::Walk(1),
                Event::Exit(3),
                Event::Exit(5),
                Event::Exit(8)
            );
            if !forks(w, 0, 4)? {
                return Ok(());
            }
            run!(w, Event::Walk(1));
            Ok(())
        }),
        // A namespace with pid_max 301 holds 300 tasks: EAGAIN, free some,
        // allocate again.
        "exhaustion" => Box::new(|w| {
            run!(w, Event::Clone3(0, true, vec![]));
            let init = w.newest();
            let ns = w.ns_of(init);
            run!(w, Event::PidMax(ns, 301));
            if !forks(w, init, 10)? {
                return Ok(());
            }
            for _ in 0..289 {
                run!(w, Event::Thread(init));
            }
            run!(w, Event::Thread(init), Event::Fork(init), Event::Walk(ns));
            let some: Vec<i32> = w.threads(init).into_iter().step_by(50).collect();
            for t in some {
                run!(w, Event::ThreadExit(init, t));
            }
            run!(w, Event::Exit(init + 4));
            if !forks(w, init, 7)? {
                return Ok(());
            }
            run!(
                w,
                Event::Walk(ns),
                Event::PidMax(ns, 500),
                Event::Fork(init),
                Event::Walk(ns)
            );
            Ok(())
        }),
        // Namespaces down to level 32, then ENOSPC; zap from level 3.
        "nest-32" => Box::new(|w| {
            let mut p = 0;
            let mut level3 = 0;
            for level in 2..=32 {
                run!(w, Event::Clone3(p, true, vec![]));
                p = w.newest();
                if level == 3 {
                    level3 = p;
                }
            }
            let deepest = w.ns_of(p);
            run!(
                w,
                Event::Clone3(p, true, vec![]),
                Event::Unshare(p),
                Event::Fork(p),
                Event::Walk(deepest),
                Event::Walk(5),
                Event::Exit(level3),
                Event::Walk(2),
                Event::Fork(0)
            );
            Ok(())
        }),
        // clone3 set_tid at several levels, and its errors.
        "set-tid" => Box::new(|w| {
            run!(w, Event::Clone3(0, true, vec![]));
            let c = w.newest();
            run!(w, Event::Clone3(c, true, vec![]));
            let d = w.newest();
            let dn = w.ns_of(d);
            run!(
                w,
                Event::Clone3(d, false, vec![50, 60]),
                Event::Clone3(d, false, vec![50]),
                Event::Clone3(d, false, vec![51, 60]),
                Event::Clone3(d, false, vec![0]),
                Event::Clone3(d, false, vec![5, 70, 80]),
                Event::Clone3(d, false, vec![5_000_000]),
                // Longer than the levels below the initial namespace allow
                // (its own level is never named: other processes use it).
                Event::Clone3(d, false, vec![6, 7, 8, 9, 10]),
                Event::Clone3(d, true, vec![1, 90]),
                Event::Clone3(d, true, vec![2]),
                Event::Fork(d),
                Event::Walk(dn),
                Event::Walk(1)
            );
            Ok(())
        }),
        // ns_last_pid moves the next number; out of range is EINVAL.
        "ns-last-pid" => Box::new(|w| {
            for v in [0, 1000, 299, 4_194_304, 4_194_305, -1, 2000, 1999] {
                run!(w, Event::LastPid(1, v), Event::Fork(0));
            }
            run!(w, Event::Walk(1));
            Ok(())
        }),
        // An init exits with descendants alive, nested namespaces included;
        // the namespace then refuses new pids (ENOMEM).
        "init-exit" => Box::new(|w| {
            run!(w, Event::Fork(0));
            let a = w.newest();
            run!(w, Event::Unshare(a), Event::Fork(a));
            let xi = w.newest();
            if !forks(w, xi, 3)? {
                return Ok(());
            }
            run!(w, Event::Clone3(xi, true, vec![]));
            let yi = w.newest();
            if !forks(w, yi, 2)? {
                return Ok(());
            }
            run!(
                w,
                Event::Thread(xi),
                Event::Thread(yi),
                Event::Walk(w.ns_of(xi)),
                Event::Exit(xi),
                Event::Fork(a),
                Event::Fork(a),
                Event::Walk(1),
                Event::Fork(0)
            );
            Ok(())
        }),
        // Threads and processes interleaved.
        "threads" => Box::new(|w| {
            run!(w, Event::Thread(0), Event::Fork(0));
            let a = w.newest();
            run!(w, Event::Thread(a), Event::Thread(0), Event::Fork(a));
            let b = w.newest();
            run!(w, Event::Thread(b), Event::Thread(a));
            let t = w.threads(0)[0];
            run!(w, Event::ThreadExit(0, t), Event::Fork(0), Event::Thread(b));
            run!(
                w,
                Event::Exit(b),
                Event::Thread(0),
                Event::Walk(1),
                Event::Exit(a),
                Event::Fork(0),
                Event::Walk(1)
            );
            Ok(())
        }),
        // Several processes fork at the same moment.
        "fork-burst" => Box::new(|w| {
            if !forks(w, 0, 4)? {
                return Ok(());
            }
            let ps: Vec<usize> = (1..=4).collect();
            for _ in 0..3 {
                run!(w, Event::Burst(ps.clone()));
            }
            run!(w, Event::Clone3(1, true, vec![]));
            let xi = w.newest();
            if !forks(w, xi, 2)? {
                return Ok(());
            }
            let mixed = vec![xi, xi + 1, xi + 2, 2, 3];
            run!(
                w,
                Event::Burst(mixed.clone()),
                Event::Burst(mixed),
                Event::Walk(1),
                Event::Walk(w.ns_of(xi))
            );
            Ok(())
        }),
        _ => return None,
    })
}

/// A random scenario of `steps` events from `seed`.
pub fn random(seed: u64, steps: usize) -> Script {
    Box::new(move |w| {
        let mut rng = Rng::new(seed);
        // Events that find nothing to act on (a write in a namespace with no
        // process left) are not counted: run until `steps` were performed.
        for _ in 0..steps * 4 {
            if w.events() >= steps {
                break;
            }
            let ev = next_event(&mut rng, w)?;
            if !w.step(&ev)? {
                return Ok(());
            }
        }
        Ok(())
    })
}

/// The next random event for the world as it is.
fn next_event(rng: &mut Rng, w: &World<'_>) -> io::Result<Event> {
    let live = w.live();
    // N0's init stays to the end: it is the scenario.
    let p = rng.pick(&live).unwrap_or(0);
    let ns = w.ns_of(p);
    let into = w.forks_into(p);
    let unshared = into != ns;
    let crowd = live.len() + live.iter().map(|&q| w.threads(q).len()).sum::<usize>();
    let n = rng
        .pick(&(1..w.ns_count()).collect::<Vec<_>>())
        .unwrap_or(1);
    let small = |rng: &mut Rng| (1 + rng.below(400)) as i32;
    Ok(match rng.below(100) {
        // Exits, more of them when the crowd grows.
        0..=24 if p != 0 && w.can_exit(p) && (crowd > 30 || rng.chance(50)) => Event::Exit(p),
        0..=34 if crowd < 80 => Event::Fork(p),
        35..=44 if !unshared && crowd < 80 => Event::Thread(p),
        45..=52 => match rng.pick(&w.threads(p)) {
            Some(t) => Event::ThreadExit(p, t),
            None => Event::Walk(ns),
        },
        53..=56 if !unshared && w.level(into) < 32 && w.ns_count() < 40 => {
            Event::Clone3(p, true, if rng.chance(30) { vec![1] } else { vec![] })
        }
        57..=64 => {
            // set_tid below the initial namespace: at most `level` entries.
            let level = w.level(into);
            let size = 1 + rng.below(level.min(3) as u64) as usize;
            let known = w.numbers(rng.pick(&live).unwrap_or(0));
            let tids = (0..size)
                .map(|i| match rng.below(6) {
                    0 => 0,
                    1 => *known.get(level - 1 - i).unwrap_or(&1),
                    _ => small(rng),
                })
                .collect();
            Event::Clone3(p, false, tids)
        }
        // N0's init keeps forking into N0: the scenario lives there.
        65..=66 if p != 0 && !unshared && w.level(ns) < 32 && w.ns_count() < 40 => {
            Event::Unshare(p)
        }
        67..=73 => Event::LastPid(
            n,
            match rng.below(5) {
                0 => 0,
                1 => 290 + rng.below(20) as i64,
                _ => rng.below(600) as i64,
            },
        ),
        74..=78 => Event::PidMax(
            n,
            match rng.below(8) {
                0 => 300,
                1 => 4_194_304,
                _ => 301 + rng.below(200) as i64,
            },
        ),
        79..=85 => Event::Walk(n),
        // Bursts stay in the built-in "fork-burst": which racing process
        // gets which number is the scheduler's choice, and events chosen
        // after it would make a seed's sequence differ from run to run.
        86..=89 if crowd < 80 => Event::Fork(p),
        _ => Event::Walk(ns),
    })
}
