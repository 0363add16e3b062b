// SPDX-License-Identifier: GPL-2.0

//! A universe: what one open file of `/dev/shadowpid` owns.
//!
//! Its own root namespace (id 0, level 0) and everything under it, named by
//! small integer ids; its shadow tasks; the pid references its user holds.
//! All of it goes when the file is released. Limits per universe (module
//! parameters) keep one opener from exhausting kernel memory.

use crate::allocator::{
    hash,
    namespace::PidNamespace,
    pid::{self, Pid, TaskTable, TasklistLocked, TASKLIST_LOCK},
};
use core::ptr;
use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Mutex,
    },
};

/// Per-universe limits.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    /// Live pids (and shadow tasks, and held pid references).
    pub(crate) max_pids: u32,
    /// Named namespaces, the root included.
    pub(crate) max_namespaces: u32,
}

/// What one operation answers.
#[derive(Default)]
pub(crate) struct Answer {
    /// Scalar answer (ns id, number, task id, handle).
    pub(crate) value: i64,
    /// Level of a namespace or pid.
    pub(crate) level: u32,
    /// A pid's numbers, root first.
    pub(crate) numbers: Option<ARef<Pid>>,
}

/// Numbers and state of one namespace, for `SHADOWPID_IOC_STATS`.
pub(crate) struct NsStats {
    pub(crate) ns: ARef<PidNamespace>,
    /// Live pids in the universe.
    pub(crate) universe_pids: u32,
    /// Named namespaces in the universe.
    pub(crate) universe_namespaces: u32,
}

/// One universe.
#[pin_data(PinnedDrop)]
pub(crate) struct Universe {
    /// Namespaces by id; id 0 is the root.
    #[pin]
    namespaces: Mutex<KVec<Option<ARef<PidNamespace>>>>,
    /// The shadow tasks, under `tasklist_lock`.
    tasks: TasklistLocked<TaskTable>,
    /// References held for the user, by handle.
    #[pin]
    handles: Mutex<KVec<Option<ARef<Pid>>>>,
    /// Live pids.
    live_pids: Atomic<u32>,
    /// Named namespaces.
    live_namespaces: Atomic<u32>,
    /// Its limits, fixed at open.
    limits: Limits,
}

impl Universe {
    /// A universe with just its root namespace.
    pub(crate) fn new(limits: Limits) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            namespaces <- {
                let root = PidNamespace::create(None)?;
                let mut table = KVec::new();
                table.push(Some(root), GFP_KERNEL)?;
                new_mutex!(table)
            },
            tasks: TasklistLocked::new(TaskTable::new()),
            handles <- new_mutex!(KVec::new()),
            live_pids: Atomic::new(0),
            live_namespaces: Atomic::new(1),
            limits,
        })
    }

    /// The namespace named `id`; ENOENT if none.
    pub(crate) fn ns(&self, id: u32) -> Result<ARef<PidNamespace>> {
        self.namespaces
            .lock()
            .get(id as usize)
            .and_then(Option::clone)
            .ok_or(ENOENT)
    }

    /// The pid numbered `nr` in namespace `id`; ESRCH if none.
    fn pid(&self, id: u32, nr: i32) -> Result<ARef<Pid>> {
        let ns = self.ns(id)?;
        pid::find_get_pid(nr, &ns).ok_or(ESRCH)
    }

    /// `ns PARENT`: a child of namespace `parent`.
    pub(crate) fn ns_create(&self, parent: u32) -> Result<Answer> {
        let parent = self.ns(parent)?;
        let child = PidNamespace::create(Some(&parent))?;
        let level = child.level;
        let mut table = self.namespaces.lock();
        if self.live_namespaces.load(Relaxed) >= self.limits.max_namespaces {
            return Err(ENOSPC);
        }
        // The lowest free id, as a file descriptor table does.
        let id = match table.iter().position(Option::is_none) {
            Some(id) => {
                table[id] = Some(child);
                id
            }
            None => {
                table.push(Some(child), GFP_KERNEL)?;
                table.len() - 1
            }
        };
        self.live_namespaces.add(1, Relaxed);
        Ok(Answer {
            value: id as i64,
            level,
            numbers: None,
        })
    }

    /// Drops the name `id`; the namespace lives on while it is used.
    pub(crate) fn ns_release(&self, id: u32) -> Result {
        if id == 0 {
            return Err(EINVAL);
        }
        let mut table = self.namespaces.lock();
        let slot = table.get_mut(id as usize).ok_or(ENOENT)?;
        slot.take().ok_or(ENOENT)?;
        self.live_namespaces.add(u32::MAX, Relaxed);
        Ok(())
    }

    /// `alloc NS [set_tid]`.
    pub(crate) fn alloc(&self, id: u32, set_tid: &[i32]) -> Result<Answer> {
        let ns = self.ns(id)?;
        if self.live_pids.fetch_add(1, Relaxed) >= self.limits.max_pids {
            self.live_pids.add(u32::MAX, Relaxed);
            return Err(ENOSPC);
        }
        match pid::alloc_pid(&ns, set_tid) {
            Ok(pid) => Ok(Answer {
                value: i64::from(pid.leaf_nr()),
                level: pid.level(),
                numbers: Some(pid),
            }),
            Err(e) => {
                self.live_pids.add(u32::MAX, Relaxed);
                Err(e)
            }
        }
    }

    /// Accounts `n` pids freed.
    fn freed(&self, n: u32) {
        self.live_pids.add(n.wrapping_neg(), Relaxed);
    }

    /// `free NS NR`: the process is gone.
    pub(crate) fn free(&self, id: u32, nr: i32) -> Result {
        let pid = self.pid(id, nr)?;
        let mut g = TASKLIST_LOCK.lock();
        self.freed(pid::kill(&mut g, &self.tasks, &pid)?);
        Ok(())
    }

    /// `find NS NR`.
    pub(crate) fn find(&self, id: u32, nr: i32) -> Result<Answer> {
        let pid = self.pid(id, nr)?;
        Ok(Answer {
            value: i64::from(nr),
            level: pid.level(),
            numbers: Some(pid),
        })
    }

    /// `next NS NR`: the smallest number in use at or above `nr`.
    pub(crate) fn next(&self, id: u32, nr: i32) -> Result<Answer> {
        let ns = self.ns(id)?;
        let pid = pid::find_ge_pid(nr, &ns).ok_or(ESRCH)?;
        Ok(Answer {
            value: i64::from(pid.nr_ns(&ns)),
            ..Default::default()
        })
    }

    /// `nr NS NR TARGET`: `pid_nr_ns()`, 0 where not visible.
    pub(crate) fn nr_ns(&self, id: u32, nr: i32, target: u32) -> Result<Answer> {
        let target = self.ns(target)?;
        let pid = self.pid(id, nr)?;
        Ok(Answer {
            value: i64::from(pid.nr_ns(&target)),
            ..Default::default()
        })
    }

    /// `lastpid NS N`.
    pub(crate) fn set_last_pid(&self, id: u32, n: u32) -> Result {
        self.ns(id)?.set_last_pid(i64::from(n))
    }

    /// `pidmax NS N`.
    pub(crate) fn set_pid_max(&self, id: u32, n: u32) -> Result {
        self.ns(id)?.set_pid_max(i64::from(n))
    }

    /// `attach_pid()`: task `task` takes `(id, nr)` as its pid of type `ty`.
    pub(crate) fn attach(&self, task: u32, ty: u32, id: u32, nr: i32) -> Result {
        let pid = self.pid(id, nr)?;
        let mut g = TASKLIST_LOCK.lock();
        pid::attach_pid(&mut g, &self.tasks, task, ty, &pid, self.limits.max_pids)
    }

    /// `detach_pid()`: a pid left with no task of any type is freed.
    pub(crate) fn detach(&self, task: u32, ty: u32) -> Result {
        let mut g = TASKLIST_LOCK.lock();
        self.freed(pid::detach_pid(&mut g, &self.tasks, task, ty)?);
        Ok(())
    }

    /// `transfer_pid()`: task `new` takes over `old`'s link of type `ty`.
    pub(crate) fn transfer(&self, old: u32, new: u32, ty: u32) -> Result {
        let mut g = TASKLIST_LOCK.lock();
        pid::transfer_pid(&mut g, &self.tasks, old, new, ty)
    }

    /// `pid_task()`: the task `(id, nr)` links first for type `ty`.
    pub(crate) fn pid_task(&self, id: u32, nr: i32, ty: u32) -> Result<Answer> {
        let pid = self.pid(id, nr)?;
        let g = TASKLIST_LOCK.lock();
        Ok(Answer {
            value: i64::from(pid::pid_task(&g, &pid, ty)?),
            ..Default::default()
        })
    }

    /// `get_pid()`: a reference held for the user, named by a handle.
    pub(crate) fn get(&self, id: u32, nr: i32) -> Result<Answer> {
        let pid = self.pid(id, nr)?;
        let mut handles = self.handles.lock();
        let slot = match handles.iter().position(Option::is_none) {
            Some(slot) => slot,
            None => {
                if handles.len() as u32 >= self.limits.max_pids {
                    return Err(ENOSPC);
                }
                handles.push(None, GFP_KERNEL)?;
                handles.len() - 1
            }
        };
        handles[slot] = Some(pid);
        Ok(Answer {
            value: slot as i64,
            ..Default::default()
        })
    }

    /// `put_pid()` of handle `handle`.
    pub(crate) fn put(&self, handle: u32) -> Result {
        let mut handles = self.handles.lock();
        let slot = handles.get_mut(handle as usize).ok_or(EBADF)?;
        slot.take().ok_or(EBADF)?;
        Ok(())
    }

    /// `pid_nr_ns()` of a held reference: the number it had in `target`,
    /// even after it was freed (as for a stale `struct pid *`).
    pub(crate) fn handle_nr(&self, handle: u32, target: u32) -> Result<Answer> {
        let target = self.ns(target)?;
        let handles = self.handles.lock();
        let pid = handles
            .get(handle as usize)
            .and_then(Option::as_ref)
            .ok_or(EBADF)?;
        Ok(Answer {
            value: i64::from(pid.nr_ns(&target)),
            ..Default::default()
        })
    }

    /// Bytes of memory behind namespace `ns`: itself, its pidmap pages and
    /// the struct pid of every pid whose most nested number is there.
    pub(crate) fn ns_bytes(ns: &PidNamespace) -> u64 {
        size_of::<PidNamespace>() as u64
            + u64::from(ns.pidmap.pages()) * kernel::page::PAGE_SIZE as u64
            + u64::from(ns.leaf_pids()) * Pid::size_for_level(ns.level) as u64
    }

    /// The namespace `id` and the universe's totals.
    pub(crate) fn stats(&self, id: u32) -> Result<NsStats> {
        Ok(NsStats {
            ns: self.ns(id)?,
            universe_pids: self.live_pids.load(Relaxed),
            universe_namespaces: self.live_namespaces.load(Relaxed),
        })
    }

    /// Checks the invariants of namespace `id`: bits set (number 0 aside)
    /// == pids with a number in it == upids of it found in the hash, and
    /// every `nr_free` agrees with its page.
    pub(crate) fn check(&self, id: u32) -> Result {
        let ns = self.ns(id)?;
        let (bits, consistent) = ns.pidmap.count_checked();
        let mut hashed = 0u32;
        let mut nr = 0;
        while let Some(pid) = pid::find_ge_pid(nr, &ns) {
            let n = pid.nr_ns(&ns);
            let rcu = kernel::sync::rcu::read_lock();
            if !hash::find(n, &ns, &rcu).is_some_and(|e| e.nr == n && ptr::eq(e.ns(), &*ns))
                || !pid::find_get_pid(n, &ns).is_some_and(|p| ptr::eq(&*p, &*pid))
            {
                return Err(EUCLEAN);
            }
            hashed += 1;
            nr = n + 1;
        }
        if !consistent || bits != ns.live() + 1 || hashed != ns.live() {
            return Err(EUCLEAN);
        }
        Ok(())
    }
}

#[pinned_drop]
impl PinnedDrop for Universe {
    fn drop(self: Pin<&mut Self>) {
        // The root's reaper, or not: every pid of the universe has a number
        // in the root, so emptying the root frees them all.
        let root = self.namespaces.lock().first().and_then(Option::clone);
        if let Some(root) = root {
            root.disable_allocation(&crate::allocator::pidmap_env::lock());
            let mut g = TASKLIST_LOCK.lock();
            let n = pid::zap_ns(&mut g, &self.tasks, &root);
            self.freed(n);
        }
        // No task is left: a task links only pids that were alive when it
        // attached, and every free unlinks the pid's tasks first, so the
        // zap met them all (a task and its pid hold each other: one left
        // here would leak both, which the unload's leak check reports).
    }
}
