// SPDX-License-Identifier: GPL-2.0
//! `shadowpid script`: the lines of a script (the grammar of [`crate::ops`])
//! answered in order, one output line for each operation or malformed line,
//! so that a script and its answers stay line for line alignable. A line
//! that does not parse is a parse error, with its line number, never an
//! errno: an errno is the allocator's answer to an operation.
//!
//! The operations run on the device or on the reference model (the same
//! answers: `tests/golden.rs` holds the model to the golden scripts).

use crate::{
    model::Model,
    ops::{parse_line, Line, Op, Outcome, ParseError},
    Device,
};
use serde::{Serialize, Serializer};
use std::{fmt, io};

/// What runs a script's operations.
pub trait Runner {
    /// Runs `ops` in order, returning their answers; with `stop`, only up
    /// to and including the first that answers an errno.
    fn run_ops(&mut self, ops: &[Op], stop: bool) -> io::Result<Vec<Outcome>>;
}

/// The module, the lines between `stats` lines in one batch each.
impl Runner for Device {
    fn run_ops(&mut self, ops: &[Op], stop: bool) -> io::Result<Vec<Outcome>> {
        if stop {
            self.run_until_error(ops)
        } else {
            self.run_all(ops)
        }
    }
}

/// The reference model.
impl Runner for Model {
    fn run_ops(&mut self, ops: &[Op], stop: bool) -> io::Result<Vec<Outcome>> {
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            let outcome = self.run(op);
            let failed = matches!(outcome, Outcome::Err(_));
            out.push(outcome);
            if stop && failed {
                break;
            }
        }
        Ok(out)
    }
}

/// What a line got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Its operation's answer.
    Outcome(Outcome),
    /// It did not parse.
    ParseError(ParseError),
}

impl Answer {
    /// Whether it is an errno or a parse error.
    pub fn failed(&self) -> bool {
        matches!(
            self,
            Answer::Outcome(Outcome::Err(_)) | Answer::ParseError(_)
        )
    }
}

/// As JSON: the outcome's fields, or `{"answer": "parse_error", "error":
/// "..."}`.
impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// The JSON shape of a parse error.
        #[derive(Serialize)]
        struct Json {
            /// Always "parse_error".
            answer: &'static str,
            /// What is wrong.
            error: String,
        }
        match self {
            Answer::Outcome(o) => o.serialize(s),
            Answer::ParseError(e) => Json {
                answer: "parse_error",
                error: e.to_string(),
            }
            .serialize(s),
        }
    }
}

/// One answered line of a script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Its number in the script, from 1.
    pub line: usize,
    /// The line, trimmed.
    pub text: String,
    /// What it got.
    #[serde(flatten)]
    pub answer: Answer,
}

/// The output line: the answer in the grammar, or `parse error at line N:
/// WHY`.
impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.answer {
            Answer::Outcome(o) => write!(f, "{o}"),
            Answer::ParseError(e) => write!(f, "parse error at line {}: {e}", self.line),
        }
    }
}

/// Answers every line of `text` that is an operation or malformed (blank
/// lines and comments get nothing). With `stop_on_error`, stops after the
/// first line that fails (an errno or a parse error): nothing after it
/// runs, and it is the last entry.
pub fn run(text: &str, stop_on_error: bool, runner: &mut impl Runner) -> io::Result<Vec<Entry>> {
    let lines: Vec<(usize, &str, Line)> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| match parse_line(l) {
            Line::Nothing => None,
            line => Some((i + 1, l.trim(), line)),
        })
        .collect();
    // Stopping at the first parse error, nothing after it runs.
    let cut = if stop_on_error {
        lines
            .iter()
            .position(|(_, _, l)| matches!(l, Line::Malformed(_)))
            .unwrap_or(lines.len())
    } else {
        lines.len()
    };
    let ops: Vec<Op> = lines[..cut]
        .iter()
        .filter_map(|(_, _, l)| match l {
            Line::Op(op) => Some(op.clone()),
            _ => None,
        })
        .collect();
    let mut outcomes = runner.run_ops(&ops, stop_on_error)?.into_iter();
    let mut entries = Vec::with_capacity(lines.len());
    for (line, text, parsed) in lines {
        let answer = match parsed {
            Line::Op(_) => match outcomes.next() {
                Some(o) => Answer::Outcome(o),
                // Not run: an earlier line failed.
                None => break,
            },
            Line::Malformed(e) => Answer::ParseError(e),
            Line::Nothing => unreachable!("filtered out"),
        };
        let failed = answer.failed();
        entries.push(Entry {
            line,
            text: text.into(),
            answer,
        });
        if stop_on_error && failed {
            break;
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Limits;

    fn model_run(text: &str, stop: bool) -> Vec<String> {
        let mut model = Model::new(Limits::default());
        run(text, stop, &mut model)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const TYPO: &str = "alloc 0\n\n# a comment\nbogus 1 2\nfree 0 99\nalloc 0\n";

    #[test]
    fn a_parse_error_is_not_an_errno_and_keeps_its_place() {
        assert_eq!(
            model_run(TYPO, false),
            [
                "pid 1".to_string(),
                format!(
                    "parse error at line 4: {}",
                    ParseError::UnknownOp("bogus".into())
                ),
                "err ESRCH".into(),
                "pid 2".into(),
            ]
        );
    }

    #[test]
    fn stop_on_error_stops_at_the_first_failure() {
        // At the parse error: the line after it does not run.
        let out = model_run(TYPO, true);
        assert_eq!(out.len(), 2);
        assert!(out[1].starts_with("parse error at line 4: "));
        // At an errno: the allocation after it does not run.
        assert_eq!(
            model_run("alloc 0\nfree 0 99\nalloc 0\n", true),
            ["pid 1", "err ESRCH"]
        );
        // A lookup that finds nothing is an answer, not a failure.
        assert_eq!(
            model_run("alloc 0\nfind 0 99\nalloc 0\n", true),
            ["pid 1", "none", "pid 2"]
        );
    }

    #[test]
    fn entries_as_json() {
        let mut model = Model::new(Limits::default());
        let entries = run("alloc 0\nbogus\n", false, &mut model).unwrap();
        assert_eq!(
            serde_json::to_string(&entries[0]).unwrap(),
            r#"{"line":1,"text":"alloc 0","answer":"pid","numbers":[1]}"#
        );
        let bad = serde_json::to_value(&entries[1]).unwrap();
        assert_eq!(bad["line"], 2);
        assert_eq!(bad["answer"], "parse_error");
        assert!(bad["error"]
            .as_str()
            .unwrap()
            .starts_with("unknown operation \"bogus\""));
    }
}
