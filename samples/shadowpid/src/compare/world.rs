// SPDX-License-Identifier: GPL-2.0
//! The state of one comparison: the real processes and namespaces, their
//! shadow twins, and the record of what matched.

use super::{
    agent,
    conn::{Conn, Reply},
    report::{show, Mismatch, Report},
    Event,
};
use crate::{errno::errno_name, ops::Op, Device};
use std::{collections::VecDeque, io, os::unix::net::UnixListener, time::Instant};

/// A real process of the scenario.
pub(super) struct Proc {
    /// The connection to its agent; None once it has gone.
    pub(super) conn: Option<Conn>,
    /// NSpid, the initial namespace first.
    pub(super) nspid: Vec<i32>,
    /// Its namespace (index into `World::ns`).
    pub(super) ns: usize,
    /// Where its children go (differs from `ns` after `unshare`).
    pub(super) forks_into: usize,
    /// The agent that made it (None: the controller).
    pub(super) parent: Option<usize>,
    /// Its number in its parent's namespace, for the parent's waitpid().
    pub(super) pid_in_parent: i32,
    /// The NSpid of each of its threads, the initial namespace first.
    pub(super) threads: Vec<Vec<i32>>,
    /// Not exited yet.
    pub(super) alive: bool,
}

/// A real namespace and its shadow.
pub(super) struct Ns {
    /// The shadow twin's id.
    pub(super) shadow: u32,
    /// Its level: 0 for the initial namespace, 1 for N0.
    pub(super) level: usize,
    /// The parent namespace (index into `World::ns`); None for the initial one.
    pub(super) parent: Option<usize>,
    /// Has had its init, and the init has gone.
    pub(super) dead: bool,
}

/// The controller's state for one scenario: the real side and its mirror.
pub struct World<'a> {
    /// Where new agents connect.
    pub(super) listener: &'a UnixListener,
    /// The shadow universe.
    pub(super) dev: Device,
    /// Every real process made, alive or not; index 0 is N0's init.
    pub(super) procs: Vec<Proc>,
    /// Every real namespace met; index 0 is the initial one, 1 is N0.
    pub(super) ns: Vec<Ns>,
    /// The last few events, for a mismatch's context.
    pub(super) history: VecDeque<String>,
    /// The event under way, for an error report.
    pub(super) pending: Option<String>,
    /// The counts so far.
    pub(super) report: Report,
    /// The first mismatch, if any.
    pub(super) mismatch: Option<Mismatch>,
    /// Comparisons made setting the world up (N0's init), before the
    /// scenario's first event.
    setup_compared: usize,
}

impl<'a> World<'a> {
    /// A fresh shadow universe and a fresh real namespace N0 with its init.
    pub(super) fn new(listener: &'a UnixListener, socket: &str, name: &str) -> io::Result<Self> {
        let dev = Device::open()?;
        // The shadow's root stands for the initial namespace: it needs an
        // init and room; its numbers are never compared.
        for op in [
            Op::Alloc {
                ns: 0,
                set_tid: vec![],
            },
            Op::SetPidMax {
                ns: 0,
                value: 4_194_304,
            },
        ] {
            dev.run(&op)?;
        }
        let mut w = World {
            listener,
            dev,
            procs: Vec::new(),
            ns: vec![Ns {
                shadow: 0,
                level: 0,
                parent: None,
                dead: false,
            }],
            history: VecDeque::new(),
            pending: None,
            report: Report {
                name: name.into(),
                ..Default::default()
            },
            mismatch: None,
            setup_compared: 0,
        };
        // N0's twin is index 1.
        w.add_ns(0)?.map_err(io::Error::from_raw_os_error)?;
        let pid = agent::clone3(true, &[]);
        if pid == 0 {
            agent::run(socket);
        }
        if pid < 0 {
            return Err(io::Error::from_raw_os_error(-pid as i32));
        }
        let nspid = Conn::accept(w.listener)?;
        let shadow = w.shadow_alloc(1, &[])?;
        w.compare_numbers(&Ok(nspid.1.clone()), &shadow, "N0 init");
        w.procs.push(Proc {
            conn: Some(nspid.0),
            nspid: nspid.1,
            ns: 1,
            forks_into: 1,
            parent: None,
            pid_in_parent: pid as i32,
            threads: Vec::new(),
            alive: true,
        });
        w.report.created = 1;
        w.report.levels = 1;
        w.setup_compared = w.compared();
        Ok(w)
    }

    /// Records a new real process (an agent that said hello) of namespace
    /// `ns`, made by `parent`, which knows it as `pid_in_parent`.
    pub(super) fn adopt(
        &mut self,
        conn: Conn,
        nspid: &[i32],
        ns: usize,
        parent: usize,
        pid_in_parent: i32,
    ) {
        self.procs.push(Proc {
            conn: Some(conn),
            nspid: nspid.to_vec(),
            ns,
            forks_into: ns,
            parent: Some(parent),
            pid_in_parent,
            threads: Vec::new(),
            alive: true,
        });
        self.report.created += 1;
        self.report.levels = self.report.levels.max(nspid.len() - 1);
    }

    /// Compares a native NSpid (or errno) with a shadow allocation, below
    /// the initial namespace.
    pub(super) fn compare_numbers(&mut self, native: &Reply, shadow: &Reply, what: &str) -> bool {
        let same = match (native, shadow) {
            (Ok(n), Ok(s)) => n.len() == s.len() && n[1..] == s[1..],
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        let strip = |r: &Reply| match r {
            Ok(v) => Ok(v.get(1..).unwrap_or_default().to_vec()),
            Err(e) => Err(*e),
        };
        self.record(same, what, &strip(native), &strip(shadow))
    }

    /// Counts a comparison (`same`: it matched) of `native` and `shadow`
    /// for the event `what`; keeps the first mismatch. Returns `same`.
    pub(super) fn record(
        &mut self,
        same: bool,
        what: &str,
        native: &Reply,
        shadow: &Reply,
    ) -> bool {
        if same {
            self.report.matches += 1;
            if let Err(e) = native {
                *self.report.errnos.entry(errno_name(*e)).or_default() += 1;
            }
        } else if self.mismatch.is_none() {
            self.report.mismatches += 1;
            self.mismatch = Some(Mismatch {
                step: self.report.events,
                event: what.into(),
                native: show(native),
                shadow: show(shadow),
                before: self.history.iter().cloned().collect(),
            });
        }
        same
    }

    /// The connection to `p`'s agent; an error once `p` has gone.
    pub(super) fn conn(&mut self, p: usize) -> io::Result<&mut Conn> {
        self.procs[p]
            .conn
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "process gone"))
    }

    /// Events performed so far.
    pub fn events(&self) -> usize {
        self.report.events
    }

    /// The newest process.
    pub fn newest(&self) -> usize {
        self.procs.len() - 1
    }

    /// Live processes whose namespace is `n`.
    pub fn procs_in(&self, n: usize) -> Vec<usize> {
        self.live()
            .into_iter()
            .filter(|&p| self.procs[p].ns == n)
            .collect()
    }

    /// The namespace of `p`.
    pub fn ns_of(&self, p: usize) -> usize {
        self.procs[p].ns
    }

    /// Where `p`'s children go.
    pub fn forks_into(&self, p: usize) -> usize {
        self.procs[p].forks_into
    }

    /// `p`'s threads (leaf numbers).
    pub fn threads(&self, p: usize) -> Vec<i32> {
        self.procs[p]
            .threads
            .iter()
            .map(|t| *t.last().unwrap_or(&0))
            .collect()
    }

    /// Level of namespace `n` (N0 is 1).
    pub fn level(&self, n: usize) -> usize {
        self.ns[n].level
    }

    /// Namespaces so far (index 0 is the initial namespace, 1 is N0).
    pub fn ns_count(&self) -> usize {
        self.ns.len()
    }

    /// The parent of namespace `n`.
    pub fn parent_ns(&self, n: usize) -> Option<usize> {
        self.ns[n].parent
    }

    /// Whether namespace `n`'s init has gone.
    pub fn dead(&self, n: usize) -> bool {
        self.ns[n].dead
    }

    /// The numbers `p` has, N0's level first.
    pub fn numbers(&self, p: usize) -> Vec<i32> {
        self.procs[p].nspid.get(1..).unwrap_or_default().to_vec()
    }

    /// Whether `p` can exit without orphaning anything: no live children.
    pub fn can_exit(&self, p: usize) -> bool {
        self.procs[p].alive && (!self.has_live_children(p) || self.is_init(p))
    }

    /// Live processes (indices).
    pub fn live(&self) -> Vec<usize> {
        (0..self.procs.len())
            .filter(|&p| self.procs[p].alive)
            .collect()
    }

    /// Whether `p` is its namespace's init.
    pub fn is_init(&self, p: usize) -> bool {
        self.procs[p].nspid.last() == Some(&1)
    }

    /// Whether `p` has a child that has not exited.
    fn has_live_children(&self, p: usize) -> bool {
        self.procs.iter().any(|c| c.alive && c.parent == Some(p))
    }

    /// Whether `p` lives in namespace `n` or below it.
    pub(super) fn in_ns(&self, p: usize, n: usize) -> bool {
        let mut cur = Some(self.procs[p].ns);
        while let Some(c) = cur {
            if c == n {
                return true;
            }
            cur = self.ns[c].parent;
        }
        false
    }

    /// Comparisons so far, matched or not.
    fn compared(&self) -> usize {
        self.report.matches + self.report.mismatches
    }

    /// Ends the scenario: N0's init exits, taking everything with it.
    pub(super) fn finish(mut self, start: Instant) -> (Report, Option<Mismatch>) {
        // What the scenario did itself, which its verdict needs (the exit
        // below compares whatever the scenario left, even nothing).
        self.report.ran = self.report.events;
        self.report.compared = self.compared() - self.setup_compared;
        if self.procs.first().is_some_and(|p| p.alive) {
            let _ = self.step(&Event::Exit(0));
        }
        self.report.millis = start.elapsed().as_millis();
        if let Some(m) = &self.mismatch {
            self.report.diff = Some(m.to_string());
        }
        (self.report, self.mismatch)
    }
}
