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
//!
//! A line that does not parse is no operation: [`parse_line`] says why
//! ([`ParseError`]), and `shadowpid script` prints that, with the line's
//! number, where the answer would have been.

use crate::{abi, errno::errno_name};
use serde::{Serialize, Serializer};
use std::{collections::BTreeMap, fmt};

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

/// As JSON: `{"answer": "pid", "numbers": [301, 1]}`, `{"answer": "err",
/// "errno": "EAGAIN"}`, ...: the kind of answer, then its values.
impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// The JSON shape of each answer.
        #[derive(Serialize)]
        #[serde(tag = "answer", rename_all = "snake_case")]
        enum Json<'a> {
            Ok,
            Ns { id: u32, level: u32 },
            Pid { numbers: &'a [i32] },
            Nr { nr: i32 },
            Task { task: u32 },
            Handle { handle: u32 },
            None,
            Stats { stats: BTreeMap<&'static str, i64> },
            Err { errno: String },
        }
        match *self {
            Outcome::Ok => Json::Ok,
            Outcome::Ns { id, level } => Json::Ns { id, level },
            Outcome::Pid(ref numbers) => Json::Pid { numbers },
            Outcome::Nr(nr) => Json::Nr { nr },
            Outcome::Task(task) => Json::Task { task },
            Outcome::Handle(handle) => Json::Handle { handle },
            Outcome::None => Json::None,
            Outcome::Stats(ref kv) => Json::Stats {
                stats: kv.iter().copied().collect(),
            },
            Outcome::Err(e) => Json::Err {
                errno: errno_name(e),
            },
        }
        .serialize(s)
    }
}

/// A script line: an operation, nothing (blank or comment), or malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// An operation.
    Op(Op),
    /// Blank or a comment: no output.
    Nothing,
    /// Does not parse: a parse error, not an operation's errno.
    Malformed(ParseError),
}

/// Each operation of the grammar and its usage, as in the table above: the
/// one list of the operations. The parser reads it, the parse error of an
/// unknown operation prints it ([`operations`]); the tests hold to it the
/// CLI's subcommands (`Op`), the table above, the grammar of
/// Documentation/shadowpid/abi.rst and the golden scripts' answers.
pub const USAGE: &[(&str, &str)] = &[
    ("ns", "ns PARENT"),
    ("release", "release NS"),
    ("alloc", "alloc NS [T0,T1,...]"),
    ("free", "free NS NR"),
    ("find", "find NS NR"),
    ("next", "next NS NR"),
    ("nr", "nr NS NR TARGET"),
    ("lastpid", "lastpid NS N"),
    ("pidmax", "pidmax NS N"),
    ("attach", "attach TASK TYPE NS NR"),
    ("detach", "detach TASK TYPE"),
    ("transfer", "transfer OLD NEW TYPE"),
    ("task", "task NS NR TYPE"),
    ("get", "get NS NR"),
    ("put", "put H"),
    ("hnr", "hnr H TARGET"),
    ("check", "check NS"),
    ("stats", "stats NS"),
];

/// Why a script line does not parse; the message names the word at fault
/// and the operation's usage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The first word is no operation.
    #[error("unknown operation \"{0}\" (operations: {ops})", ops = operations())]
    UnknownOp(String),
    /// A word is missing.
    #[error("{what} missing (usage: {usage})")]
    Missing {
        /// The word's name in the usage.
        what: &'static str,
        /// The operation's usage.
        usage: &'static str,
    },
    /// A word is not what its place in the usage needs.
    #[error("{what} \"{word}\" is not {expected} (usage: {usage})")]
    Invalid {
        /// The word's name in the usage.
        what: &'static str,
        /// The word.
        word: String,
        /// What it should have been.
        expected: &'static str,
        /// The operation's usage.
        usage: &'static str,
    },
    /// Words after the last one the operation takes.
    #[error("unexpected \"{word}\" after the operation (usage: {usage})")]
    Trailing {
        /// The first extra word.
        word: String,
        /// The operation's usage.
        usage: &'static str,
    },
}

/// The operations of the grammar, space-separated, as the parse error of an
/// unknown operation lists them.
pub fn operations() -> String {
    USAGE
        .iter()
        .map(|(op, _)| *op)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses one line of the script grammar.
pub fn parse_line(line: &str) -> Line {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Line::Nothing;
    }
    parse_op(line).map_or_else(Line::Malformed, Line::Op)
}

/// The words of one line, read as its operation's usage says.
struct Words<'a> {
    /// The words after the operation.
    rest: std::str::SplitWhitespace<'a>,
    /// The operation's usage, for the errors.
    usage: &'static str,
}

impl<'a> Words<'a> {
    /// The next word, named `what` in the usage.
    fn word(&mut self, what: &'static str) -> Result<&'a str, ParseError> {
        self.rest.next().ok_or(ParseError::Missing {
            what,
            usage: self.usage,
        })
    }

    /// `word` as `T`, or the error that it is not `expected`.
    fn read<T: std::str::FromStr>(
        &self,
        what: &'static str,
        word: &str,
        expected: &'static str,
    ) -> Result<T, ParseError> {
        word.parse().map_err(|_| ParseError::Invalid {
            what,
            word: word.into(),
            expected,
            usage: self.usage,
        })
    }

    /// The next word, a number.
    fn num<T: std::str::FromStr>(&mut self, what: &'static str) -> Result<T, ParseError> {
        let word = self.word(what)?;
        self.read(what, word, "a number")
    }

    /// The next word, a link type.
    fn ty(&mut self, what: &'static str) -> Result<PidType, ParseError> {
        let word = self.word(what)?;
        PidType::parse(word).ok_or_else(|| ParseError::Invalid {
            what,
            word: word.into(),
            expected: "pid, pgid or sid",
            usage: self.usage,
        })
    }

    /// The optional set_tid list: numbers separated by commas.
    fn set_tid(&mut self) -> Result<Vec<i32>, ParseError> {
        let Some(list) = self.rest.next() else {
            return Ok(Vec::new());
        };
        list.split(',')
            .map(|t| self.read("T", t, "a number"))
            .collect()
    }

    /// Ok if no word is left.
    fn end(mut self) -> Result<(), ParseError> {
        match self.rest.next() {
            None => Ok(()),
            Some(word) => Err(ParseError::Trailing {
                word: word.into(),
                usage: self.usage,
            }),
        }
    }
}

fn parse_op(line: &str) -> Result<Op, ParseError> {
    let mut rest = line.split_whitespace();
    let verb = rest.next().unwrap_or_default();
    let usage = USAGE
        .iter()
        .find(|(op, _)| *op == verb)
        .map(|(_, usage)| *usage)
        .ok_or_else(|| ParseError::UnknownOp(verb.into()))?;
    let mut w = Words { rest, usage };
    let op = match verb {
        "ns" => Op::NsCreate {
            parent: w.num("PARENT")?,
        },
        "release" => Op::NsRelease { ns: w.num("NS")? },
        "alloc" => Op::Alloc {
            ns: w.num("NS")?,
            set_tid: w.set_tid()?,
        },
        "free" => Op::Free {
            ns: w.num("NS")?,
            nr: w.num("NR")?,
        },
        "find" => Op::Find {
            ns: w.num("NS")?,
            nr: w.num("NR")?,
        },
        "next" => Op::Next {
            ns: w.num("NS")?,
            nr: w.num("NR")?,
        },
        "nr" => Op::NrNs {
            ns: w.num("NS")?,
            nr: w.num("NR")?,
            target: w.num("TARGET")?,
        },
        "lastpid" => Op::SetLastPid {
            ns: w.num("NS")?,
            value: w.num("N")?,
        },
        "pidmax" => Op::SetPidMax {
            ns: w.num("NS")?,
            value: w.num("N")?,
        },
        "attach" => Op::Attach {
            task: w.num("TASK")?,
            ty: w.ty("TYPE")?,
            ns: w.num("NS")?,
            nr: w.num("NR")?,
        },
        "detach" => Op::Detach {
            task: w.num("TASK")?,
            ty: w.ty("TYPE")?,
        },
        "transfer" => Op::Transfer {
            old: w.num("OLD")?,
            new: w.num("NEW")?,
            ty: w.ty("TYPE")?,
        },
        "task" => Op::PidTask {
            ns: w.num("NS")?,
            nr: w.num("NR")?,
            ty: w.ty("TYPE")?,
        },
        "get" => Op::Get {
            ns: w.num("NS")?,
            nr: w.num("NR")?,
        },
        "put" => Op::Put {
            handle: w.num("H")?,
        },
        "hnr" => Op::HandleNr {
            handle: w.num("H")?,
            target: w.num("TARGET")?,
        },
        "check" => Op::Check { ns: w.num("NS")? },
        "stats" => Op::Stats { ns: w.num("NS")? },
        _ => unreachable!("every operation of USAGE is parsed"),
    };
    w.end()?;
    Ok(op)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn op(line: &str) -> Op {
        match parse_line(line) {
            Line::Op(op) => op,
            _ => panic!("{line:?} does not parse"),
        }
    }

    /// The ABI struct each op fills in, set_tid's bound included.
    #[test]
    fn ops_to_the_abi_struct() {
        let r = op("alloc 3 5,6").to_raw().unwrap();
        assert_eq!(
            (r.op, r.ns, r.count, &r.nrs[..3]),
            (abi::SHADOWPID_OP_ALLOC, 3, 2, &[5, 6, 0][..])
        );
        let full = vec!["7"; r.nrs.len()].join(",");
        assert!(op(&format!("alloc 0 {full}")).to_raw().is_some());
        assert!(op(&format!("alloc 0 {full},7")).to_raw().is_none());
        assert!(op("stats 0").to_raw().is_none());
        let t = op("transfer 1 2 pgid").to_raw().unwrap();
        assert_eq!(
            (t.op, t.arg),
            (abi::SHADOWPID_OP_TRANSFER, [1, 2, PidType::Pgid.raw()])
        );
        let n = op("nr 1 5 2").to_raw().unwrap();
        assert_eq!(
            (n.op, n.ns, n.nr, n.arg),
            (abi::SHADOWPID_OP_NR_NS, 1, 5, [2, 0, 0])
        );
    }

    /// The answer read back from the struct the kernel fills in: ESRCH is
    /// "none" for the lookups only, every other errno an error, and each
    /// op's value where it puts it.
    #[test]
    fn answers_from_the_abi_struct() {
        let mut k = abi::shadowpid_op {
            result: -libc::ESRCH,
            ..Default::default()
        };
        for lookup in ["find 0 9", "next 0 9", "task 0 9 pid"] {
            assert_eq!(op(lookup).outcome(&k), Outcome::None, "{lookup}");
        }
        assert_eq!(op("free 0 9").outcome(&k), Outcome::Err(libc::ESRCH));
        k.result = -libc::EINVAL;
        assert_eq!(op("find 0 9").outcome(&k), Outcome::Err(libc::EINVAL));
        k = abi::shadowpid_op {
            value: 4,
            level: 2,
            ..Default::default()
        };
        k.nrs[..4].copy_from_slice(&[7, 8, 9, 10]);
        assert_eq!(op("ns 0").outcome(&k), Outcome::Ns { id: 4, level: 2 });
        assert_eq!(op("alloc 0").outcome(&k), Outcome::Pid(vec![7, 8, 9]));
        assert_eq!(op("find 0 9").outcome(&k), Outcome::Pid(vec![7, 8, 9]));
        assert_eq!(op("next 0 1").outcome(&k), Outcome::Nr(4));
        assert_eq!(op("nr 0 1 2").outcome(&k), Outcome::Nr(4));
        assert_eq!(op("hnr 0 2").outcome(&k), Outcome::Nr(4));
        assert_eq!(op("task 0 1 pid").outcome(&k), Outcome::Task(4));
        assert_eq!(op("get 0 1").outcome(&k), Outcome::Handle(4));
        assert_eq!(op("free 0 1").outcome(&k), Outcome::Ok);
        k.value = 0;
        assert_eq!(op("nr 0 1 2").outcome(&k), Outcome::None);
        assert_eq!(op("hnr 0 2").outcome(&k), Outcome::None);
    }

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

    /// The CLI's subcommands of the operations (clap's names of `Op`) are
    /// the grammar's, in the same order.
    #[test]
    fn the_subcommands_are_the_operations() {
        use clap::Subcommand;
        let cmd = Op::augment_subcommands(clap::Command::new("shadowpid"));
        let subcommands: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        let grammar: Vec<&str> = USAGE.iter().map(|(op, _)| *op).collect();
        assert_eq!(subcommands, grammar);
    }

    /// Every operation of the list is parsed (none reaches the parser's
    /// `unreachable!`), and its usage begins with its name.
    #[test]
    fn every_listed_operation_parses() {
        for (op, usage) in USAGE {
            assert!(usage.starts_with(&format!("{op} ")), "{usage}");
            match parse_line(op) {
                Line::Malformed(ParseError::Missing { usage: u, .. }) => assert_eq!(u, *usage),
                other => panic!("{op}: {other:?}"),
            }
        }
        assert_eq!(
            operations(),
            USAGE
                .iter()
                .map(|(op, _)| *op)
                .collect::<Vec<_>>()
                .join(" ")
        );
    }

    /// The table at the top of this file lists the usages of the list, in
    /// its order.
    #[test]
    fn the_table_above_is_the_list() {
        let doc: Vec<String> = include_str!("ops.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//! "))
            .filter_map(|l| l.split_once("->"))
            .map(|(usage, _)| usage.trim().to_string())
            .filter(|usage| usage != "on any error")
            .collect();
        let list: Vec<&str> = USAGE.iter().map(|(_, usage)| *usage).collect();
        assert_eq!(doc, list);
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
            assert!(matches!(parse_line(bad), Line::Malformed(_)), "{bad}");
        }
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        let error = |line| match parse_line(line) {
            Line::Malformed(e) => e.to_string(),
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(
            error("bogus 1 2"),
            format!("unknown operation \"bogus\" (operations: {})", operations())
        );
        assert_eq!(error("free 0"), "NR missing (usage: free NS NR)");
        assert_eq!(
            error("alloc x"),
            "NS \"x\" is not a number (usage: alloc NS [T0,T1,...])"
        );
        assert_eq!(
            error("alloc 0 1,,2"),
            "T \"\" is not a number (usage: alloc NS [T0,T1,...])"
        );
        assert_eq!(
            error("attach 1 tid 0 1"),
            "TYPE \"tid\" is not pid, pgid or sid (usage: attach TASK TYPE NS NR)"
        );
        assert_eq!(
            error("ns 0 1"),
            "unexpected \"1\" after the operation (usage: ns PARENT)"
        );
    }

    #[test]
    fn outcomes_print_the_grammar() {
        assert_eq!(Outcome::Pid(vec![301, 1]).to_string(), "pid 301 1");
        assert_eq!(Outcome::Err(libc::EAGAIN).to_string(), "err EAGAIN");
        assert_eq!(Outcome::Ns { id: 2, level: 1 }.to_string(), "ns 2 1");
        assert_eq!(Outcome::None.to_string(), "none");
    }

    #[test]
    fn outcomes_as_json() {
        let json = |o: Outcome| serde_json::to_string(&o).unwrap();
        assert_eq!(
            json(Outcome::Pid(vec![301, 1])),
            r#"{"answer":"pid","numbers":[301,1]}"#
        );
        assert_eq!(
            json(Outcome::Err(libc::ENODEV)),
            r#"{"answer":"err","errno":"ENODEV"}"#
        );
        assert_eq!(json(Outcome::None), r#"{"answer":"none"}"#);
        assert_eq!(
            json(Outcome::Ns { id: 2, level: 1 }),
            r#"{"answer":"ns","id":2,"level":1}"#
        );
    }
}
