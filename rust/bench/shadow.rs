// SPDX-License-Identifier: GPL-2.0

//! The shadow's column: a chain of the module's own namespaces, each with
//! its init, and the pids a figure holds.

use crate::allocator::{
    namespace::PidNamespace,
    pid::{self, Pid},
};
use kernel::{prelude::*, sync::aref::ARef};

/// The shadow side of a figure: a chain of namespaces, each with its init.
pub(crate) struct Shadow {
    pub(crate) chain: KVec<ARef<PidNamespace>>,
    /// The inits, root first, and any other pids held (up to a million:
    /// kvmalloc'd).
    pub(crate) pids: KVVec<ARef<Pid>>,
}

impl Shadow {
    /// `depth` nested namespaces, level `l` with pid_max `pid_max(l)`; with
    /// their inits if `inits`.
    pub(crate) fn new(depth: u32, pid_max: impl Fn(u32) -> i32, inits: bool) -> Result<Self> {
        let mut s = Self {
            chain: KVec::new(),
            pids: KVVec::new(),
        };
        for level in 0..depth {
            let ns = PidNamespace::create(s.chain.last())?;
            ns.set_pid_max(pid_max(level).into())?;
            s.chain.push(ns, GFP_KERNEL)?;
            if inits {
                let init = s.alloc_pid()?;
                s.pids.push(init, GFP_KERNEL)?;
            }
        }
        Ok(s)
    }

    /// The most nested namespace.
    pub(crate) fn leaf(&self) -> &ARef<PidNamespace> {
        // `new` made at least one.
        &self.chain[self.chain.len() - 1]
    }

    /// `alloc_pid()` in the most nested namespace.
    pub(crate) fn alloc_pid(&self) -> Result<ARef<Pid>> {
        pid::alloc_pid(self.leaf(), &[])
    }
}

impl Drop for Shadow {
    fn drop(&mut self) {
        // Most recent first, inits last: the namespaces die with them.
        while let Some(pid) = self.pids.pop() {
            let _ = pid::free_pid(&pid);
        }
    }
}
