// SPDX-License-Identifier: GPL-2.0
//! `shadowpid compare`: real process creation in real PID namespaces,
//! replayed on a shadow universe, compared number for number.
//!
//! The controller (this process, in the initial PID namespace) creates a
//! fresh namespace N0 for each scenario: the guest's other processes keep
//! taking numbers in the initial namespace, so only the levels below it are
//! compared. The shadow universe mirrors the real hierarchy level for level:
//! its root stands for the initial namespace (its numbers there are not
//! compared), its namespace 1 is N0, and so on, so that the 32-level limit
//! falls at the same depth on both sides.
//!
//! Every event is performed on both sides and compared: the number vector
//! of every new task at every level below the initial namespace (native: the
//! `NSpid:` line of /proc/PID/status), the errno of every failed creation,
//! and the ascending walk of the numbers in use in a namespace (native: the
//! numeric entries, and their task/ entries, of a procfs mounted for that
//! namespace; shadow: repeated `next`).

pub mod agent;

use crate::{
    ops::{errno_name, Op, Outcome},
    Device,
};
use serde::Serialize;
use std::{
    collections::VecDeque,
    fmt,
    io::{self, BufRead, BufReader, Write},
    os::{
        fd::AsRawFd,
        unix::net::{UnixListener, UnixStream},
    },
    time::{Duration, Instant},
};

/// How long a reply or a new agent may take before the run is declared hung.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What a real operation answered: numbers, or an errno.
type Reply = Result<Vec<i32>, i32>;

/// The controller's connection to one agent.
struct Conn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Conn {
    fn new(stream: UnixStream) -> io::Result<Self> {
        stream.set_read_timeout(Some(TIMEOUT))?;
        Ok(Conn {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
        })
    }

    fn send(&mut self, req: &str) -> io::Result<()> {
        writeln!(self.writer, "{req}")
    }

    fn recv(&mut self) -> io::Result<Reply> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "agent gone"));
        }
        let mut w = line.split_whitespace();
        let nums = |w: std::str::SplitWhitespace<'_>| w.filter_map(|n| n.parse().ok()).collect();
        match w.next() {
            Some("ok") | Some("hello") => Ok(Ok(nums(w))),
            Some("err") => Ok(Err(w
                .next()
                .and_then(|e| e.parse().ok())
                .unwrap_or(libc::EIO))),
            _ => Err(io::Error::new(io::ErrorKind::InvalidData, line)),
        }
    }

    fn call(&mut self, req: &str) -> io::Result<Reply> {
        self.send(req)?;
        self.recv()
    }
}

/// A real process of the scenario.
struct Proc {
    conn: Option<Conn>,
    /// NSpid, the initial namespace first.
    nspid: Vec<i32>,
    /// Its namespace (index into `World::ns`).
    ns: usize,
    /// Where its children go (differs from `ns` after `unshare`).
    forks_into: usize,
    /// The agent that made it (None: the controller), and its number there.
    parent: Option<usize>,
    pid_in_parent: i32,
    /// Its threads' leaf numbers.
    threads: Vec<i32>,
    alive: bool,
}

/// A real namespace and its shadow.
struct Ns {
    shadow: u32,
    level: usize,
    parent: Option<usize>,
    /// Has had its init, and the init has gone.
    dead: bool,
}

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

/// A difference between native and shadow.
pub struct Mismatch {
    /// The event's index in the scenario.
    pub step: usize,
    /// The event.
    pub event: String,
    /// What the native allocator gave.
    pub native: String,
    /// What the shadow gave.
    pub shadow: String,
    /// The events before it.
    pub before: Vec<String>,
}

/// The result of one scenario.
#[derive(Serialize, Default)]
pub struct Report {
    /// Scenario name.
    pub name: String,
    /// Events run.
    pub events: usize,
    /// Tasks (processes and threads) created.
    pub created: usize,
    /// Deepest level reached below the initial namespace.
    pub levels: usize,
    /// Comparisons that matched.
    pub matches: usize,
    /// Comparisons that did not (the scenario stops at the first).
    pub mismatches: usize,
    /// Native errnos met and matched, by name.
    pub errnos: std::collections::BTreeMap<String, usize>,
    /// Wall time, milliseconds.
    pub millis: u128,
    /// The first mismatch, readable.
    pub diff: Option<String>,
}

/// The controller's state for one scenario: the real side and its mirror.
pub struct World<'a> {
    listener: &'a UnixListener,
    dev: Device,
    procs: Vec<Proc>,
    ns: Vec<Ns>,
    history: VecDeque<String>,
    /// The event under way, for an error report.
    pending: Option<String>,
    report: Report,
    mismatch: Option<Mismatch>,
}

fn show(r: &Reply) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => errno_name(*e),
    }
}

impl<'a> World<'a> {
    /// A fresh shadow universe and a fresh real namespace N0 with its init.
    fn new(listener: &'a UnixListener, socket: &str, name: &str) -> io::Result<Self> {
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
        let nspid = w.accept()?;
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
        Ok(w)
    }

    /// Waits for a new agent's hello.
    fn accept(&mut self) -> io::Result<(Conn, Vec<i32>)> {
        let mut pfd = libc::pollfd {
            fd: self.listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, TIMEOUT.as_millis() as i32) };
        if n != 1 {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no agent connected",
            ));
        }
        let (stream, _) = self.listener.accept()?;
        let mut conn = Conn::new(stream)?;
        let hello = conn.recv()?.map_err(io::Error::from_raw_os_error)?;
        Ok((conn, hello))
    }

    fn shadow_ns(&mut self, parent: usize) -> io::Result<Result<u32, i32>> {
        Ok(
            match self.dev.run(&Op::NsCreate {
                parent: self.ns[parent].shadow,
            })? {
                Outcome::Ns { id, .. } => Ok(id),
                Outcome::Err(e) => Err(e),
                other => Err(unexpected(other)),
            },
        )
    }

    fn shadow_alloc(&mut self, ns: usize, set_tid: &[i32]) -> io::Result<Reply> {
        Ok(
            match self.dev.run(&Op::Alloc {
                ns: self.ns[ns].shadow,
                set_tid: set_tid.to_vec(),
            })? {
                Outcome::Pid(v) => Ok(v),
                Outcome::Err(e) => Err(e),
                other => Err(unexpected(other)),
            },
        )
    }

    fn shadow_free(&mut self, ns: usize, nr: i32) -> io::Result<Reply> {
        Ok(
            match self.dev.run(&Op::Free {
                ns: self.ns[ns].shadow,
                nr,
            })? {
                Outcome::Ok => Ok(vec![]),
                Outcome::Err(e) => Err(e),
                other => Err(unexpected(other)),
            },
        )
    }

    /// A shadow twin for a new real namespace below `parent`: its index, or
    /// the shadow's errno (ENOSPC past 32 levels).
    fn add_ns(&mut self, parent: usize) -> io::Result<Result<usize, i32>> {
        Ok(self.shadow_ns(parent)?.map(|id| {
            let level = self.ns[parent].level + 1;
            self.ns.push(Ns {
                shadow: id,
                level,
                parent: Some(parent),
                dead: false,
            });
            self.ns.len() - 1
        }))
    }

    /// Records a new real process (an agent that said hello) of namespace
    /// `ns`, made by `parent`, which knows it as `pid_in_parent`.
    fn adopt(&mut self, conn: Conn, nspid: &[i32], ns: usize, parent: usize, pid_in_parent: i32) {
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
    fn compare_numbers(&mut self, native: &Reply, shadow: &Reply, what: &str) -> bool {
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

    fn record(&mut self, same: bool, what: &str, native: &Reply, shadow: &Reply) -> bool {
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

    fn conn(&mut self, p: usize) -> io::Result<&mut Conn> {
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
        self.procs[p].threads.clone()
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

    /// Shadow `(live, pid_max)` of namespace `n`.
    pub fn room(&self, n: usize) -> io::Result<(i64, i64)> {
        Ok(
            match self.dev.run(&Op::Stats {
                ns: self.ns[n].shadow,
            })? {
                Outcome::Stats(kv) => {
                    let get = |k: &str| kv.iter().find(|(key, _)| *key == k).map_or(0, |(_, v)| *v);
                    (get("live"), get("pid_max"))
                }
                _ => (0, 0),
            },
        )
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

    fn has_live_children(&self, p: usize) -> bool {
        self.procs.iter().any(|c| c.alive && c.parent == Some(p))
    }

    fn in_ns(&self, p: usize, n: usize) -> bool {
        let mut cur = Some(self.procs[p].ns);
        while let Some(c) = cur {
            if c == n {
                return true;
            }
            cur = self.ns[c].parent;
        }
        false
    }

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
                    self.procs[p].threads.push(*v.last().unwrap_or(&0));
                    self.report.created += 1;
                }
                self.compare_numbers(&native, &shadow, &what)
            }
            Event::ThreadExit(p, tid) => {
                let (p, tid) = (*p, *tid);
                let native = self.conn(p)?.call(&format!("threadexit {tid}"))?;
                self.procs[p].threads.retain(|t| *t != tid);
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
                let shadow = match self.dev.run(&op)? {
                    Outcome::Ok => Ok(vec![]),
                    Outcome::Err(e) => Err(e),
                    other => Err(unexpected(other)),
                };
                self.record(native == shadow, &what, &native, &shadow)
            }
            Event::Walk(n) => {
                let n = *n;
                let Some(&p) = self.procs_in(n).first() else {
                    self.pending = None;
                    return Ok(true);
                };
                let native = self.conn(p)?.call("list")?;
                let mut shadow = Vec::new();
                let mut nr = 0;
                while let Outcome::Nr(next) = self.dev.run(&Op::Next {
                    ns: self.ns[n].shadow,
                    nr,
                })? {
                    shadow.push(next);
                    nr = next + 1;
                }
                let shadow = Ok(shadow);
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
                let (conn, nspid) = self.accept()?;
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
        if !self.procs[p].threads.is_empty() {
            // The last thread's numbers are freed just after the leader
            // becomes reapable (release_task: notify, then free_pids).
            std::thread::sleep(Duration::from_millis(2));
        }
        let ns = self.procs[p].ns;
        let mut shadow = Ok(vec![]);
        for t in std::mem::take(&mut self.procs[p].threads) {
            let r = self.shadow_free(ns, t)?;
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
        let last = match self.dev.run(&Op::Stats {
            ns: self.ns[1].shadow,
        })? {
            Outcome::Stats(kv) => kv
                .iter()
                .find(|(k, _)| *k == "last_pid")
                .map_or(0, |(_, v)| *v as i32),
            _ => 0,
        };
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
            born.push(self.accept()?);
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

    /// Ends the scenario: N0's init exits, taking everything with it.
    fn finish(mut self, start: Instant) -> (Report, Option<Mismatch>) {
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

fn unexpected(o: Outcome) -> i32 {
    eprintln!("shadowpid compare: unexpected shadow answer {o}");
    libc::EIO
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "mismatch at step {}: {}", self.step, self.event)?;
        writeln!(f, "  native: {}", self.native)?;
        writeln!(f, "  shadow: {}", self.shadow)?;
        writeln!(f, "  events before it:")?;
        for e in &self.before {
            writeln!(f, "    {e}")?;
        }
        Ok(())
    }
}

pub mod scenarios;

/// Runs the scenarios; returns their reports.
pub fn run(names: &[String], seeds: &[u64], steps: usize, quiet: bool) -> io::Result<Vec<Report>> {
    let my_level =
        agent::nspid(&std::fs::read_to_string("/proc/self/status")?).map_or(0, |v| v.len() - 1);
    if my_level != 0 {
        return Err(io::Error::other(
            "run compare from the initial PID namespace",
        ));
    }
    let socket = format!("shadowpid-compare-{}", std::process::id());
    let listener = UnixListener::bind_addr(&agent::address(&socket)?)?;
    let mut jobs: Vec<(String, scenarios::Script)> = Vec::new();
    for name in names {
        jobs.push((
            name.clone(),
            scenarios::builtin(name)
                .ok_or_else(|| io::Error::other(format!("no scenario {name}")))?,
        ));
    }
    for &seed in seeds {
        jobs.push((format!("random-{seed}"), scenarios::random(seed, steps)));
    }
    let mut reports = Vec::new();
    for (name, script) in jobs {
        let start = Instant::now();
        let outcome = World::new(&listener, &socket, &name).map(|mut world| {
            let run = script(&mut world);
            let pending = world.pending.take();
            let (mut report, mismatch) = world.finish(start);
            if let Err(e) = run {
                // The run itself broke (a hung or vanished agent): a failure.
                report.mismatches += 1;
                report.diff = Some(format!(
                    "error after {} events, in \"{}\": {e}",
                    report.events,
                    pending.unwrap_or_default()
                ));
            }
            (report, mismatch)
        });
        let (report, mismatch) = outcome.unwrap_or_else(|e| {
            let report = Report {
                name: name.clone(),
                mismatches: 1,
                diff: Some(format!("error: {e}")),
                ..Default::default()
            };
            (report, None)
        });
        if !quiet {
            if let Some(m) = mismatch {
                eprintln!("{name}: {m}");
            } else if let Some(d) = &report.diff {
                eprintln!("{name}: {d}");
            }
        }
        reports.push(report);
    }
    Ok(reports)
}

/// The per-scenario table and the final line.
pub fn table(reports: &[Report]) -> String {
    let mut s = format!(
        "{:<13} {:>6} {:>7} {:>6} {:>7} {:>10} {:>7}  {}\n",
        "scenario",
        "events",
        "created",
        "levels",
        "matches",
        "mismatches",
        "time",
        "errnos matched"
    );
    for r in reports {
        let errnos: Vec<String> = r.errnos.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        s += &format!(
            "{:<13} {:>6} {:>7} {:>6} {:>7} {:>10} {:>5.1} s  {}\n",
            r.name,
            r.events,
            r.created,
            r.levels,
            r.matches,
            r.mismatches,
            r.millis as f64 / 1000.0,
            errnos.join(" ")
        );
    }
    let failed = reports.iter().filter(|r| r.mismatches > 0).count();
    s += &format!("{} passed, {} failed\n", reports.len() - failed, failed);
    s
}

/// The reports as KTAP, one test per scenario, for kselftest runners.
pub fn ktap(reports: &[Report]) -> String {
    let mut s = format!("KTAP version 1\n1..{}\n", reports.len());
    for (i, r) in reports.iter().enumerate() {
        let verdict = if r.mismatches == 0 { "ok" } else { "not ok" };
        s += &format!(
            "# {}: {} events, {} matches, {} mismatches\n{verdict} {} {}\n",
            r.name,
            r.events,
            r.matches,
            r.mismatches,
            i + 1,
            r.name
        );
        if let Some(d) = &r.diff {
            for line in d.lines() {
                s += &format!("#   {line}\n");
            }
        }
    }
    let failed = reports.iter().filter(|r| r.mismatches > 0).count();
    s += &format!(
        "# Totals: pass:{} fail:{failed} xfail:0 xpass:0 skip:0 error:0\n",
        reports.len() - failed
    );
    s
}
