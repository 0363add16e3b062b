// SPDX-License-Identifier: GPL-2.0
//! The shadow side of a world: the operations on the shadow universe that
//! mirror the real ones, answered in the real side's terms (numbers or an
//! errno).

use super::{conn::Reply, world::Ns, World};
use crate::ops::{Op, Outcome};
use std::io;

impl World<'_> {
    /// A shadow namespace below the twin of `parent`: its id, or an errno.
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

    /// A shadow pid in the twin of `ns`, with `set_tid`: its numbers from
    /// the root down, or an errno.
    pub(super) fn shadow_alloc(&mut self, ns: usize, set_tid: &[i32]) -> io::Result<Reply> {
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

    /// Frees the shadow pid whose number in the twin of `ns` is `nr`.
    pub(super) fn shadow_free(&mut self, ns: usize, nr: i32) -> io::Result<Reply> {
        self.shadow_run(&Op::Free {
            ns: self.ns[ns].shadow,
            nr,
        })
    }

    /// Runs `op`, which answers nothing or an errno, on the shadow.
    pub(super) fn shadow_run(&mut self, op: &Op) -> io::Result<Reply> {
        Ok(match self.dev.run(op)? {
            Outcome::Ok => Ok(vec![]),
            Outcome::Err(e) => Err(e),
            other => Err(unexpected(other)),
        })
    }

    /// The numbers in use in the twin of `n`, ascending (repeated `next`).
    pub(super) fn shadow_walk(&mut self, n: usize) -> io::Result<Vec<i32>> {
        let mut numbers = Vec::new();
        let mut nr = 0;
        while let Outcome::Nr(next) = self.dev.run(&Op::Next {
            ns: self.ns[n].shadow,
            nr,
        })? {
            numbers.push(next);
            nr = next + 1;
        }
        Ok(numbers)
    }

    /// The last number the twin of `n` allocated (its `last_pid`); 0 if the
    /// shadow does not say.
    pub(super) fn shadow_last_pid(&mut self, n: usize) -> io::Result<i32> {
        Ok(
            match self.dev.run(&Op::Stats {
                ns: self.ns[n].shadow,
            })? {
                Outcome::Stats(kv) => kv
                    .iter()
                    .find(|(k, _)| *k == "last_pid")
                    .map_or(0, |(_, v)| *v as i32),
                _ => 0,
            },
        )
    }

    /// A shadow twin for a new real namespace below `parent`: its index, or
    /// the shadow's errno (ENOSPC past 32 levels).
    pub(super) fn add_ns(&mut self, parent: usize) -> io::Result<Result<usize, i32>> {
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
}

/// Reports a shadow answer of the wrong kind; counts as EIO.
fn unexpected(o: Outcome) -> i32 {
    eprintln!("shadowpid compare: unexpected shadow answer {o}");
    libc::EIO
}
