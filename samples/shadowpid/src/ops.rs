// SPDX-License-Identifier: GPL-2.0
//! Operations on a universe, the `shadowpid script` grammar, and their
//! translation to and from `struct shadowpid_op`.
//!
//! ```text
//! ns PARENT                -> ns ID LEVEL
//! release NS               -> ok
//! alloc NS [T0,T1,...]     -> pid N0 N1 ... NL      (root level first)
//! free NS NR               -> ok
//! find NS NR               -> pid N0 ... NL  |  none
//! next NS NR               -> NR2  |  none
//! nr NS NR TARGET          -> NR2  |  none
//! lastpid NS N             -> ok
//! pidmax NS N              -> ok
//! attach TASK TYPE NS NR   -> ok                    (TYPE: pid, pgid, sid)
//! detach TASK TYPE         -> ok
//! transfer OLD NEW TYPE    -> ok
//! task NS NR TYPE          -> task T  |  none
//! get NS NR                -> handle H
//! put H                    -> ok
//! hnr H TARGET             -> NR2  |  none
//! check NS                 -> ok
//! stats NS                 -> stats key=value ...
//! on any error             -> err ENAME
//! ```

use crate::abi;
use std::fmt;

/// A pid link type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PidType {
    /// The task's own pid.
    Pid,
    /// Its process group.
    Pgid,
    /// Its session.
    Sid,
}

impl PidType {
    /// The ABI value.
    pub fn raw(self) -> u32 {
        match self {
            PidType::Pid => abi::SHADOWPID_PIDTYPE_PID,
            PidType::Pgid => abi::SHADOWPID_PIDTYPE_PGID,
            PidType::Sid => abi::SHADOWPID_PIDTYPE_SID,
        }
    }

    /// Index 0..3.
    pub fn index(self) -> usize {
        self.raw() as usize
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "pid" => Some(PidType::Pid),
            "pgid" => Some(PidType::Pgid),
            "sid" => Some(PidType::Sid),
            _ => None,
        }
    }
}

impl fmt::Display for PidType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PidType::Pid => "pid",
            PidType::Pgid => "pgid",
            PidType::Sid => "sid",
        })
    }
}

/// One operation; also the CLI's subcommands, named as in the grammar. Its
/// fields are the words of the grammar above.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum Op {
    /// Create a child of namespace PARENT.
    #[command(name = "ns")]
    NsCreate { parent: u32 },
    /// Drop the name of namespace NS.
    #[command(name = "release")]
    NsRelease { ns: u32 },
    /// Allocate a pid in NS, with set_tid numbers (most nested first).
    Alloc {
        ns: u32,
        #[arg(value_delimiter = ',')]
        set_tid: Vec<i32>,
    },
    /// Free pid NR of NS.
    Free { ns: u32, nr: i32 },
    /// Find pid NR of NS.
    Find { ns: u32, nr: i32 },
    /// The first pid at or above NR in NS.
    Next { ns: u32, nr: i32 },
    /// The number of pid (NS, NR) seen from namespace TARGET.
    #[command(name = "nr")]
    NrNs { ns: u32, nr: i32, target: u32 },
    /// Set ns_last_pid of NS.
    #[command(name = "lastpid")]
    SetLastPid { ns: u32, value: u32 },
    /// Set pid_max of NS.
    #[command(name = "pidmax")]
    SetPidMax { ns: u32, value: u32 },
    /// Attach task TASK to pid (NS, NR) as TY.
    Attach {
        task: u32,
        ty: PidType,
        ns: u32,
        nr: i32,
    },
    /// Detach task TASK's TY link.
    Detach { task: u32, ty: PidType },
    /// Move the TY link of task OLD to task NEW.
    Transfer { old: u32, new: u32, ty: PidType },
    /// The task linked to pid (NS, NR) as TY.
    #[command(name = "task")]
    PidTask { ns: u32, nr: i32, ty: PidType },
    /// Take a reference on pid (NS, NR).
    Get { ns: u32, nr: i32 },
    /// Drop the held reference HANDLE.
    Put { handle: u32 },
    /// The number of held reference HANDLE seen from namespace TARGET.
    #[command(name = "hnr")]
    HandleNr { handle: u32, target: u32 },
    /// Check the invariants of namespace NS.
    Check { ns: u32 },
    /// Statistics of namespace NS (its own ioctl, not a batchable op).
    Stats { ns: u32 },
}

/// What an operation answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done, nothing to say.
    Ok,
    /// A namespace: its id and level.
    Ns {
        /// Its id in the universe.
        id: u32,
        /// Its level.
        level: u32,
    },
    /// A pid's numbers, root first.
    Pid(Vec<i32>),
    /// A number (next, nr, hnr).
    Nr(i32),
    /// A task id.
    Task(u32),
    /// A handle.
    Handle(u32),
    /// Not found / not visible.
    None,
    /// Statistics, as key=value pairs.
    Stats(Vec<(&'static str, i64)>),
    /// The operation failed with this errno.
    Err(i32),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("ok"),
            Outcome::Ns { id, level } => write!(f, "ns {id} {level}"),
            Outcome::Pid(nrs) => {
                f.write_str("pid")?;
                nrs.iter().try_for_each(|n| write!(f, " {n}"))
            }
            Outcome::Nr(n) => write!(f, "{n}"),
            Outcome::Task(t) => write!(f, "task {t}"),
            Outcome::Handle(h) => write!(f, "handle {h}"),
            Outcome::None => f.write_str("none"),
            Outcome::Stats(kv) => {
                f.write_str("stats")?;
                kv.iter().try_for_each(|(k, v)| write!(f, " {k}={v}"))
            }
            Outcome::Err(e) => write!(f, "err {}", errno_name(*e)),
        }
    }
}

/// A script line: an operation, nothing (blank or comment), or malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// An operation.
    Op(Op),
    /// Blank or a comment: no output.
    Nothing,
    /// Does not parse: prints `err EINVAL`.
    Malformed,
}

fn num<T: std::str::FromStr>(s: Option<&str>) -> Option<T> {
    s?.parse().ok()
}

/// Parses one line of the script grammar.
pub fn parse_line(line: &str) -> Line {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Line::Nothing;
    }
    parse_op(line).map_or(Line::Malformed, Line::Op)
}

fn parse_op(line: &str) -> Option<Op> {
    let mut w = line.split_whitespace();
    let verb = w.next()?;
    let op = match verb {
        "ns" => Op::NsCreate {
            parent: num(w.next())?,
        },
        "release" => Op::NsRelease { ns: num(w.next())? },
        "alloc" => {
            let ns = num(w.next())?;
            let set_tid = match w.next() {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .map(|t| t.parse().ok())
                    .collect::<Option<Vec<i32>>>()?,
            };
            Op::Alloc { ns, set_tid }
        }
        "free" => Op::Free {
            ns: num(w.next())?,
            nr: num(w.next())?,
        },
        "find" => Op::Find {
            ns: num(w.next())?,
            nr: num(w.next())?,
        },
        "next" => Op::Next {
            ns: num(w.next())?,
            nr: num(w.next())?,
        },
        "nr" => Op::NrNs {
            ns: num(w.next())?,
            nr: num(w.next())?,
            target: num(w.next())?,
        },
        "lastpid" => Op::SetLastPid {
            ns: num(w.next())?,
            value: num(w.next())?,
        },
        "pidmax" => Op::SetPidMax {
            ns: num(w.next())?,
            value: num(w.next())?,
        },
        "attach" => Op::Attach {
            task: num(w.next())?,
            ty: PidType::parse(w.next()?)?,
            ns: num(w.next())?,
            nr: num(w.next())?,
        },
        "detach" => Op::Detach {
            task: num(w.next())?,
            ty: PidType::parse(w.next()?)?,
        },
        "transfer" => Op::Transfer {
            old: num(w.next())?,
            new: num(w.next())?,
            ty: PidType::parse(w.next()?)?,
        },
        "task" => Op::PidTask {
            ns: num(w.next())?,
            nr: num(w.next())?,
            ty: PidType::parse(w.next()?)?,
        },
        "get" => Op::Get {
            ns: num(w.next())?,
            nr: num(w.next())?,
        },
        "put" => Op::Put {
            handle: num(w.next())?,
        },
        "hnr" => Op::HandleNr {
            handle: num(w.next())?,
            target: num(w.next())?,
        },
        "check" => Op::Check { ns: num(w.next())? },
        "stats" => Op::Stats { ns: num(w.next())? },
        _ => return None,
    };
    // Trailing words make the line malformed.
    w.next().is_none().then_some(op)
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::NsCreate { parent } => write!(f, "ns {parent}"),
            Op::NsRelease { ns } => write!(f, "release {ns}"),
            Op::Alloc { ns, set_tid } if set_tid.is_empty() => write!(f, "alloc {ns}"),
            Op::Alloc { ns, set_tid } => {
                let list: Vec<String> = set_tid.iter().map(i32::to_string).collect();
                write!(f, "alloc {ns} {}", list.join(","))
            }
            Op::Free { ns, nr } => write!(f, "free {ns} {nr}"),
            Op::Find { ns, nr } => write!(f, "find {ns} {nr}"),
            Op::Next { ns, nr } => write!(f, "next {ns} {nr}"),
            Op::NrNs { ns, nr, target } => write!(f, "nr {ns} {nr} {target}"),
            Op::SetLastPid { ns, value } => write!(f, "lastpid {ns} {value}"),
            Op::SetPidMax { ns, value } => write!(f, "pidmax {ns} {value}"),
            Op::Attach { task, ty, ns, nr } => write!(f, "attach {task} {ty} {ns} {nr}"),
            Op::Detach { task, ty } => write!(f, "detach {task} {ty}"),
            Op::Transfer { old, new, ty } => write!(f, "transfer {old} {new} {ty}"),
            Op::PidTask { ns, nr, ty } => write!(f, "task {ns} {nr} {ty}"),
            Op::Get { ns, nr } => write!(f, "get {ns} {nr}"),
            Op::Put { handle } => write!(f, "put {handle}"),
            Op::HandleNr { handle, target } => write!(f, "hnr {handle} {target}"),
            Op::Check { ns } => write!(f, "check {ns}"),
            Op::Stats { ns } => write!(f, "stats {ns}"),
        }
    }
}

impl Op {
    /// The op as the ABI struct; `None` for [`Op::Stats`], which has its
    /// own ioctl, and for a set_tid longer than the ABI can carry.
    pub fn to_raw(&self) -> Option<abi::shadowpid_op> {
        let mut r = abi::shadowpid_op::default();
        let (code, ns, nr, arg) = match *self {
            Op::NsCreate { parent } => (abi::SHADOWPID_OP_NS_CREATE, parent, 0, [0; 3]),
            Op::NsRelease { ns } => (abi::SHADOWPID_OP_NS_RELEASE, ns, 0, [0; 3]),
            Op::Alloc { ns, ref set_tid } => {
                if set_tid.len() > r.nrs.len() {
                    return None;
                }
                r.count = set_tid.len() as u32;
                r.nrs[..set_tid.len()].copy_from_slice(set_tid);
                (abi::SHADOWPID_OP_ALLOC, ns, 0, [0; 3])
            }
            Op::Free { ns, nr } => (abi::SHADOWPID_OP_FREE, ns, nr, [0; 3]),
            Op::Find { ns, nr } => (abi::SHADOWPID_OP_FIND, ns, nr, [0; 3]),
            Op::Next { ns, nr } => (abi::SHADOWPID_OP_NEXT, ns, nr, [0; 3]),
            Op::NrNs { ns, nr, target } => (abi::SHADOWPID_OP_NR_NS, ns, nr, [target, 0, 0]),
            Op::SetLastPid { ns, value } => (abi::SHADOWPID_OP_SET_LAST_PID, ns, 0, [value, 0, 0]),
            Op::SetPidMax { ns, value } => (abi::SHADOWPID_OP_SET_PID_MAX, ns, 0, [value, 0, 0]),
            Op::Attach { task, ty, ns, nr } => {
                (abi::SHADOWPID_OP_ATTACH, ns, nr, [task, ty.raw(), 0])
            }
            Op::Detach { task, ty } => (abi::SHADOWPID_OP_DETACH, 0, 0, [task, ty.raw(), 0]),
            Op::Transfer { old, new, ty } => {
                (abi::SHADOWPID_OP_TRANSFER, 0, 0, [old, new, ty.raw()])
            }
            Op::PidTask { ns, nr, ty } => (abi::SHADOWPID_OP_PID_TASK, ns, nr, [ty.raw(), 0, 0]),
            Op::Get { ns, nr } => (abi::SHADOWPID_OP_GET, ns, nr, [0; 3]),
            Op::Put { handle } => (abi::SHADOWPID_OP_PUT, 0, 0, [handle, 0, 0]),
            Op::HandleNr { handle, target } => {
                (abi::SHADOWPID_OP_HANDLE_NR, 0, 0, [handle, target, 0])
            }
            Op::Check { ns } => (abi::SHADOWPID_OP_CHECK, ns, 0, [0; 3]),
            Op::Stats { .. } => return None,
        };
        r.op = code;
        r.ns = ns;
        r.nr = nr;
        r.arg = arg;
        Some(r)
    }

    /// Reads this op's answer out of the struct the kernel filled in.
    pub fn outcome(&self, r: &abi::shadowpid_op) -> Outcome {
        if r.result != 0 {
            let errno = -r.result;
            return match self {
                Op::Find { .. } | Op::Next { .. } | Op::PidTask { .. } if errno == libc::ESRCH => {
                    Outcome::None
                }
                _ => Outcome::Err(errno),
            };
        }
        match self {
            Op::NsCreate { .. } => Outcome::Ns {
                id: r.value as u32,
                level: r.level,
            },
            Op::Alloc { .. } | Op::Find { .. } => Outcome::Pid(r.nrs[..=r.level as usize].to_vec()),
            Op::Next { .. } => Outcome::Nr(r.value as i32),
            Op::NrNs { .. } | Op::HandleNr { .. } if r.value == 0 => Outcome::None,
            Op::NrNs { .. } | Op::HandleNr { .. } => Outcome::Nr(r.value as i32),
            Op::PidTask { .. } => Outcome::Task(r.value as u32),
            Op::Get { .. } => Outcome::Handle(r.value as u32),
            _ => Outcome::Ok,
        }
    }
}

/// The symbolic name of an errno (`EAGAIN`), or its number.
pub fn errno_name(e: i32) -> String {
    let name = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ENOTTY => "ENOTTY",
        libc::EUCLEAN => "EUCLEAN",
        _ => return format!("E{e}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_round_trips() {
        for line in [
            "ns 0",
            "alloc 3",
            "alloc 3 5,300,12",
            "free 0 1",
            "nr 2 5 0",
            "attach 7 pgid 1 44",
            "transfer 1 2 sid",
            "hnr 4 0",
            "stats 0",
        ] {
            match parse_line(line) {
                Line::Op(op) => assert_eq!(op.to_string(), line),
                other => panic!("{line}: {other:?}"),
            }
        }
    }

    #[test]
    fn blank_comment_and_malformed() {
        assert_eq!(parse_line("   "), Line::Nothing);
        assert_eq!(parse_line("# alloc 0"), Line::Nothing);
        for bad in [
            "alloc",
            "alloc x",
            "free 0",
            "ns 0 1",
            "attach 1 tid 0 1",
            "alloc 0 1,,2",
            "bogus",
        ] {
            assert_eq!(parse_line(bad), Line::Malformed, "{bad}");
        }
    }

    #[test]
    fn outcomes_print_the_grammar() {
        assert_eq!(Outcome::Pid(vec![301, 1]).to_string(), "pid 301 1");
        assert_eq!(Outcome::Err(libc::EAGAIN).to_string(), "err EAGAIN");
        assert_eq!(Outcome::Ns { id: 2, level: 1 }.to_string(), "ns 2 1");
        assert_eq!(Outcome::None.to_string(), "none");
    }
}
