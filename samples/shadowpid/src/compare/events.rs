// SPDX-License-Identifier: GPL-2.0
//! The events of a scenario, and how the world performs each on both sides.

use super::{conn::Conn, probe, World};
use crate::ops::Op;
use std::{fmt, io};

/// One event of a scenario.
#[derive(Clone, Debug)]
pub enum Event {
    /// fork() by process P.
    Fork(usize),
    /// clone3() by P: into a new namespace or not, with set_tid.
    Clone3(usize, bool, Vec<i32>),
    /// unshare(CLONE_NEWPID) by P: its next child is a new namespace's init.
    Unshare(usize),
    /// A new thread in P.
    Thread(usize),
    /// Thread TID of P returns.
    ThreadExit(usize, i32),
    /// P exits and its parent reaps it (an init: its namespace is zapped).
    Exit(usize),
    /// ns_last_pid of namespace N, written from inside it.
    LastPid(usize, i64),
    /// pid_max of namespace N, written from inside it.
    PidMax(usize, i64),
    /// The numbers in use in namespace N.
    Walk(usize),
    /// fork() by several processes at once.
    Burst(Vec<usize>),
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Fork(p) => write!(f, "fork by p{p}"),
            Event::Clone3(p, n, t) => write!(f, "clone3 by p{p} newns={n} set_tid={t:?}"),
            Event::Unshare(p) => write!(f, "unshare(CLONE_NEWPID) by p{p}"),
            Event::Thread(p) => write!(f, "thread in p{p}"),
            Event::ThreadExit(p, t) => write!(f, "thread {t} of p{p} exits"),
            Event::Exit(p) => write!(f, "p{p} exits, reaped"),
            Event::LastPid(n, v) => write!(f, "ns{n} ns_last_pid = {v}"),
            Event::PidMax(n, v) => write!(f, "ns{n} pid_max = {v}"),
            Event::Walk(n) => write!(f, "walk ns{n}"),
            Event::Burst(ps) => write!(f, "fork burst by {ps:?}"),
        }
    }
}

impl World<'_> {
    /// Runs one event on both sides; false once they differ.
    pub fn step(&mut self, ev: &Event) -> io::Result<bool> {
        let what = ev.to_string();
        self.pending = Some(what.clone());
        let ok = match ev {
            Event::Fork(p) => self.create(*p, false, &[], &what)?,
            Event::Clone3(p, newns, tids) => self.create(*p, *newns, tids, &what)?,
            Event::Unshare(p) => {
                let p = *p;
                let native = self.conn(p)?.call("unshare")?;
                let shadow = self.add_ns(self.procs[p].ns)?;
                if let (Ok(n), Ok(_)) = (shadow, &native) {
                    self.procs[p].forks_into = n;
                }
                let same =
                    native.is_ok() == shadow.is_ok() && (native.clone().err() == shadow.err());
                self.record(same, &what, &native, &shadow.map(|_| vec![]))
            }
            Event::Thread(p) => {
                let p = *p;
                let native = self.conn(p)?.call("thread")?;
                let shadow = self.shadow_alloc(self.procs[p].ns, &[])?;
                if let Ok(v) = &native {
                    self.procs[p].threads.push(v.clone());
                    self.report.created += 1;
                }
                self.compare_numbers(&native, &shadow, &what)
            }
            Event::ThreadExit(p, tid) => {
                let (p, tid) = (*p, *tid);
                let native = self.conn(p)?.call(&format!("threadexit {tid}"))?;
                let (gone, kept) = std::mem::take(&mut self.procs[p].threads)
                    .into_iter()
                    .partition(|t: &Vec<i32>| t.last() == Some(&tid));
                self.procs[p].threads = kept;
                if native.is_ok() {
                    // The agent saw the thread leave its thread list;
                    // release_task() frees its numbers a little after: wait
                    // until it has, exactly (see probe.rs).
                    for global in gone.iter().filter_map(|t| t.first()) {
                        probe::released(*global)?;
                    }
                }
                let shadow = self.shadow_free(self.procs[p].ns, tid)?;
                self.record(native == shadow, &what, &native, &shadow)
            }
            Event::Exit(p) => self.exit(*p, &what)?,
            Event::LastPid(n, v) | Event::PidMax(n, v) => {
                let (n, v) = (*n, *v);
                let (file, op) = match ev {
                    Event::LastPid(..) => (
                        "ns_last_pid",
                        Op::SetLastPid {
                            ns: self.ns[n].shadow,
                            value: v as u32,
                        },
                    ),
                    _ => (
                        "pid_max",
                        Op::SetPidMax {
                            ns: self.ns[n].shadow,
                            value: v as u32,
                        },
                    ),
                };
                let Some(&p) = self.procs_in(n).first() else {
                    self.pending = None;
                    return Ok(true);
                };
                let native = self
                    .conn(p)?
                    .call(&format!("write /proc/sys/kernel/{file} {v}"))?;
                let shadow = self.shadow_run(&op)?;
                self.record(native == shadow, &what, &native, &shadow)
            }
            Event::Walk(n) => {
                let n = *n;
                let Some(&p) = self.procs_in(n).first() else {
                    self.pending = None;
                    return Ok(true);
                };
                let native = self.conn(p)?.call("list")?;
                let shadow = Ok(self.shadow_walk(n)?);
                self.record(native == shadow, &what, &native, &shadow)
            }
            Event::Burst(ps) => self.burst(ps, &what)?,
        };
        self.pending = None;
        self.report.events += 1;
        self.history
            .push_back(format!("{:>5}  {what}", self.report.events - 1));
        if self.history.len() > 6 {
            self.history.pop_front();
        }
        Ok(ok)
    }

    /// fork/clone3 by `p`, on both sides.
    fn create(&mut self, p: usize, newns: bool, tids: &[i32], what: &str) -> io::Result<bool> {
        let parent_ns = self.procs[p].forks_into;
        let mut target = parent_ns;
        let mut shadow_ns_err = None;
        if newns {
            match self.add_ns(parent_ns)? {
                Ok(n) => target = n,
                Err(e) => shadow_ns_err = Some(e),
            }
        }
        let list: Vec<String> = tids.iter().map(i32::to_string).collect();
        let req = format!("clone3 {} {}", u8::from(newns), list.join(","));
        let native = self.conn(p)?.call(&req)?;
        let shadow = match shadow_ns_err {
            Some(e) => Err(e),
            None => self.shadow_alloc(target, tids)?,
        };
        let native = match native {
            Ok(child) => {
                let (conn, nspid) = Conn::accept(self.listener)?;
                self.adopt(conn, &nspid, target, p, child[0]);
                Ok(nspid)
            }
            Err(e) => Err(e),
        };
        Ok(self.compare_numbers(&native, &shadow, what))
    }

    /// `p` exits and is reaped; an init takes its namespace with it.
    fn exit(&mut self, p: usize, what: &str) -> io::Result<bool> {
        self.conn(p)?.send("exit")?;
        if self.is_init(p) {
            // zap_pid_ns_processes() kills everything in the namespace and
            // waits until it is reaped; a process whose parent lives
            // outside (it forked in after unshare) is reaped by that parent.
            let ns = self.procs[p].ns;
            let outside: Vec<(usize, i32)> = (0..self.procs.len())
                .filter(|&q| q != p && self.procs[q].alive && self.in_ns(q, ns))
                .filter_map(|q| {
                    let r = self.procs[q].parent?;
                    (!self.in_ns(r, ns)).then_some((r, self.procs[q].pid_in_parent))
                })
                .collect();
            for (r, pid) in outside {
                self.conn(r)?
                    .call(&format!("wait {pid}"))?
                    .map_err(io::Error::from_raw_os_error)?;
            }
        }
        let reaped = match self.procs[p].parent {
            None => {
                // SAFETY: plain syscall; our own child.
                let r =
                    unsafe { libc::waitpid(self.procs[p].pid_in_parent, std::ptr::null_mut(), 0) };
                if r == self.procs[p].pid_in_parent {
                    Ok(vec![])
                } else {
                    Err(io::Error::last_os_error()
                        .raw_os_error()
                        .unwrap_or(libc::EIO))
                }
            }
            Some(parent) => {
                let pid = self.procs[p].pid_in_parent;
                self.conn(parent)?.call(&format!("wait {pid}"))?
            }
        };
        if reaped.is_ok() {
            // The leader became reapable when its last thread, in
            // release_task(), notified the parent: just before that thread's
            // free_pids(). Another thread may still be between its unhash
            // and its free_pids() then too. Wait until every thread's
            // numbers are free, exactly (see probe.rs).
            for global in self.procs[p].threads.iter().filter_map(|t| t.first()) {
                probe::released(*global)?;
            }
        }
        let ns = self.procs[p].ns;
        let mut shadow = Ok(vec![]);
        for t in std::mem::take(&mut self.procs[p].threads) {
            let r = self.shadow_free(ns, *t.last().unwrap_or(&0))?;
            if r.is_err() {
                shadow = r;
            }
        }
        let leaf = *self.procs[p].nspid.last().unwrap_or(&0);
        let r = self.shadow_free(ns, leaf)?;
        if r.is_err() {
            shadow = r;
        }
        let init = self.is_init(p);
        self.procs[p].alive = false;
        self.procs[p].conn = None;
        if init {
            // Every process in the namespace or below was killed and reaped.
            self.ns[ns].dead = true;
            for q in 0..self.procs.len() {
                if self.procs[q].alive && self.in_ns(q, ns) {
                    self.procs[q].alive = false;
                    self.procs[q].conn = None;
                }
            }
            for n in 0..self.ns.len() {
                let mut cur = Some(n);
                while let Some(c) = cur {
                    if c == ns {
                        self.ns[n].dead = true;
                    }
                    cur = self.ns[c].parent;
                }
            }
        }
        Ok(self.record(reaped == shadow, what, &reaped, &shadow))
    }

    /// Several processes fork at once; the shadow replays them in the order
    /// the native allocator served them (cyclic order at N0's level, since
    /// every allocation takes all its levels under one lock).
    fn burst(&mut self, ps: &[usize], what: &str) -> io::Result<bool> {
        let last = self.shadow_last_pid(1)?;
        for &p in ps {
            self.conn(p)?.send("clone3 0 ")?;
        }
        let mut children = Vec::new();
        for &p in ps {
            match self.conn(p)?.recv()? {
                Ok(child) => children.push((p, child[0])),
                Err(e) => {
                    return Ok(self.record(false, what, &Err(e), &Ok(vec![])));
                }
            }
        }
        let mut born = Vec::new();
        for _ in &children {
            born.push(Conn::accept(self.listener)?);
        }
        // Order of service: N0-level numbers from just after last_pid on.
        born.sort_by_key(|(_, nspid)| {
            let n = nspid.get(1).copied().unwrap_or(0);
            if n > last {
                n - last
            } else {
                n + (1 << 23)
            }
        });
        let mut all = true;
        for (conn, nspid) in born {
            // Which parent: the one whose fork returned this child's number
            // in the parent's namespace.
            let Some(&(p, child)) = children.iter().find(|(p, child)| {
                nspid.get(self.ns[self.procs[*p].forks_into].level) == Some(child)
            }) else {
                return Ok(self.record(false, what, &Ok(nspid), &Err(libc::ESRCH)));
            };
            let target = self.procs[p].forks_into;
            let shadow = self.shadow_alloc(target, &[])?;
            all &= self.compare_numbers(&Ok(nspid.clone()), &shadow, what);
            self.adopt(conn, &nspid, target, p, child);
        }
        Ok(all)
    }
}
