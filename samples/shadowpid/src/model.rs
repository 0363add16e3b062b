// SPDX-License-Identifier: GPL-2.0
//! A reference model of the semantics `/dev/shadowpid` implements, in plain
//! collections: what 7.3's kernel/pid.c and pid_namespace.c let a caller
//! observe (see Documentation/shadowpid/design.rst). The model-based test
//! runs random operations through this and through the module and compares.

use crate::ops::{Op, Outcome, PidType};
use std::collections::{BTreeMap, BTreeSet};

/// `RESERVED_PIDS`.
pub const RESERVED_PIDS: i32 = crate::abi::SHADOWPID_RESERVED_PIDS as i32;
/// `PID_MAX_LIMIT`.
pub const PID_MAX_LIMIT: i32 = crate::abi::SHADOWPID_PID_MAX_LIMIT as i32;
const MAX_LEVEL: usize = crate::abi::SHADOWPID_MAX_LEVEL as usize;

struct Ns {
    level: usize,
    parent: Option<usize>,
    /// Number -> pid index.
    used: BTreeMap<i32, usize>,
    last_pid: i32,
    pid_max: i32,
    adding: bool,
    has_reaper: bool,
}

struct PidRec {
    /// (namespace index, number), root first.
    nrs: Vec<(usize, i32)>,
    alive: bool,
    tasks: [Vec<u32>; 3],
}

/// Per-universe limits, as the module parameters.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `max_pids`.
    pub max_pids: u32,
    /// `max_namespaces`.
    pub max_namespaces: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pids: 1 << 20,
            max_namespaces: 1024,
        }
    }
}

/// One universe, modelled.
pub struct Model {
    names: Vec<Option<usize>>,
    arena: Vec<Ns>,
    pids: Vec<PidRec>,
    tasks: BTreeMap<u32, [Option<usize>; 3]>,
    handles: Vec<Option<usize>>,
    live_pids: u32,
    limits: Limits,
}

use libc::{EAGAIN, EBADF, EBUSY, EEXIST, EINVAL, ENOENT, ENOMEM, ENOSPC, ESRCH};

impl Model {
    /// A fresh universe: just the root namespace, id 0.
    pub fn new(limits: Limits) -> Self {
        let root = Ns {
            level: 0,
            parent: None,
            used: BTreeMap::new(),
            last_pid: 0,
            pid_max: crate::abi::SHADOWPID_PID_MAX_DEFAULT as i32,
            adding: true,
            has_reaper: false,
        };
        Model {
            names: vec![Some(0)],
            arena: vec![root],
            pids: Vec::new(),
            tasks: BTreeMap::new(),
            handles: Vec::new(),
            live_pids: 0,
            limits,
        }
    }

    fn ns(&self, id: u32) -> Result<usize, i32> {
        self.names.get(id as usize).copied().flatten().ok_or(ENOENT)
    }

    fn pid(&self, id: u32, nr: i32) -> Result<usize, i32> {
        let ns = self.ns(id)?;
        self.arena[ns].used.get(&nr).copied().ok_or(ESRCH)
    }

    /// Namespace ids in use.
    pub fn ns_ids(&self) -> Vec<u32> {
        (0..self.names.len() as u32)
            .filter(|&i| self.names[i as usize].is_some())
            .collect()
    }

    /// Whether namespace `id` has its init and takes new pids.
    pub fn alive(&self, id: u32) -> bool {
        self.ns(id)
            .is_ok_and(|n| self.arena[n].adding && self.arena[n].has_reaper)
    }

    /// Whether namespace `id` takes no new pid any more.
    pub fn dead(&self, id: u32) -> bool {
        self.ns(id).is_ok_and(|n| !self.arena[n].adding)
    }

    /// Level of namespace `id`.
    pub fn level(&self, id: u32) -> Option<usize> {
        self.ns(id).ok().map(|n| self.arena[n].level)
    }

    /// Numbers in use in namespace `id`, ascending.
    pub fn used(&self, id: u32) -> Vec<i32> {
        self.ns(id)
            .map_or(Vec::new(), |n| self.arena[n].used.keys().copied().collect())
    }

    /// Whether namespace `id` has a number in use ([`Model::used`] not
    /// empty, without making the list).
    pub fn busy(&self, id: u32) -> bool {
        self.ns(id).is_ok_and(|n| !self.arena[n].used.is_empty())
    }

    /// How many numbers are in use in namespace `id`.
    pub fn used_count(&self, id: u32) -> usize {
        self.ns(id).map_or(0, |n| self.arena[n].used.len())
    }

    /// The `k`-th number in use in namespace `id`, counting from 0 in
    /// ascending order ([`Model::used`]`[k]`, without making the list).
    pub fn nth_used(&self, id: u32, k: usize) -> Option<i32> {
        self.ns(id)
            .ok()
            .and_then(|n| self.arena[n].used.keys().nth(k).copied())
    }

    /// Whether `nr` is in use in namespace `id`.
    pub fn is_used(&self, id: u32, nr: i32) -> bool {
        self.ns(id)
            .is_ok_and(|n| self.arena[n].used.contains_key(&nr))
    }

    /// Tasks that exist, with their links.
    pub fn task_ids(&self) -> Vec<u32> {
        self.tasks.keys().copied().collect()
    }

    /// Handles held.
    pub fn handle_ids(&self) -> Vec<u32> {
        (0..self.handles.len() as u32)
            .filter(|&h| self.handles[h as usize].is_some())
            .collect()
    }

    fn chain(&self, ns: usize) -> Vec<usize> {
        let mut v = vec![ns];
        while let Some(p) = self.arena[*v.last().unwrap()].parent {
            v.push(p);
        }
        v.reverse();
        v
    }

    /// Runs one operation on the model.
    pub fn run(&mut self, op: &Op) -> Outcome {
        let r = match op {
            Op::NsCreate { parent } => self.ns_create(*parent),
            Op::NsRelease { ns } => self.ns_release(*ns).map(|_| Outcome::Ok),
            Op::Alloc { ns, set_tid } => self.alloc(*ns, set_tid),
            Op::Free { ns, nr } => self.pid(*ns, *nr).map(|p| {
                self.kill(p);
                Outcome::Ok
            }),
            Op::Find { ns, nr } => match self.pid(*ns, *nr) {
                Ok(p) => Ok(Outcome::Pid(self.pids[p].nrs.iter().map(|x| x.1).collect())),
                Err(ESRCH) => Ok(Outcome::None),
                Err(e) => Err(e),
            },
            Op::Next { ns, nr } => {
                self.ns(*ns)
                    .map(|n| match self.arena[n].used.range((*nr).max(0)..).next() {
                        Some((nr, _)) => Outcome::Nr(*nr),
                        None => Outcome::None,
                    })
            }
            Op::NrNs { ns, nr, target } => self
                .ns(*target)
                .and_then(|t| Ok((t, self.pid(*ns, *nr)?)))
                .map(|(t, p)| self.nr_ns(p, t)),
            Op::SetLastPid { ns, value } => self.ns(*ns).and_then(|n| {
                if i64::from(*value) > i64::from(self.arena[n].pid_max) {
                    return Err(EINVAL);
                }
                self.arena[n].last_pid = *value as i32;
                Ok(Outcome::Ok)
            }),
            Op::SetPidMax { ns, value } => self.ns(*ns).and_then(|n| {
                if *value < (RESERVED_PIDS + 1) as u32 || *value > PID_MAX_LIMIT as u32 {
                    return Err(EINVAL);
                }
                self.arena[n].pid_max = *value as i32;
                Ok(Outcome::Ok)
            }),
            Op::Attach { task, ty, ns, nr } => self.attach(*task, *ty, *ns, *nr),
            Op::Detach { task, ty } => self.detach(*task, *ty),
            Op::Transfer { old, new, ty } => self.transfer(*old, *new, *ty),
            Op::PidTask { ns, nr, ty } => match self.pid(*ns, *nr) {
                Ok(p) => Ok(self.pids[p].tasks[ty.index()]
                    .last()
                    .map_or(Outcome::None, |t| Outcome::Task(*t))),
                Err(ESRCH) => Ok(Outcome::None),
                Err(e) => Err(e),
            },
            Op::Get { ns, nr } => self.pid(*ns, *nr).and_then(|p| {
                let slot = match self.handles.iter().position(Option::is_none) {
                    Some(s) => s,
                    None if self.handles.len() as u32 >= self.limits.max_pids => {
                        return Err(ENOSPC)
                    }
                    None => {
                        self.handles.push(None);
                        self.handles.len() - 1
                    }
                };
                self.handles[slot] = Some(p);
                Ok(Outcome::Handle(slot as u32))
            }),
            Op::Put { handle } => match self.handles.get_mut(*handle as usize) {
                Some(h @ Some(_)) => {
                    *h = None;
                    Ok(Outcome::Ok)
                }
                _ => Err(EBADF),
            },
            Op::HandleNr { handle, target } => self.ns(*target).and_then(|t| {
                let p = self
                    .handles
                    .get(*handle as usize)
                    .copied()
                    .flatten()
                    .ok_or(EBADF)?;
                Ok(self.nr_ns(p, t))
            }),
            Op::Check { ns } => self.ns(*ns).map(|_| Outcome::Ok),
            Op::Stats { ns } => self.ns(*ns).map(|n| {
                let ns = &self.arena[n];
                Outcome::Stats(vec![
                    ("level", ns.level as i64),
                    ("accepting", i64::from(ns.adding)),
                    ("reaper", i64::from(ns.has_reaper)),
                    ("live", ns.used.len() as i64),
                    ("last_pid", ns.last_pid.into()),
                    ("pid_max", ns.pid_max.into()),
                ])
            }),
        };
        r.unwrap_or_else(Outcome::Err)
    }

    fn nr_ns(&self, p: usize, target: usize) -> Outcome {
        let level = self.arena[target].level;
        match self.pids[p].nrs.get(level) {
            Some(&(ns, nr)) if ns == target => Outcome::Nr(nr),
            _ => Outcome::None,
        }
    }

    fn ns_create(&mut self, parent: u32) -> Result<Outcome, i32> {
        let p = self.ns(parent)?;
        let level = self.arena[p].level + 1;
        if level > MAX_LEVEL {
            return Err(ENOSPC);
        }
        // 7.3 makes a namespace only for a process active in the parent, so
        // never under a parent that has not had its init.
        if !self.arena[p].has_reaper {
            return Err(EINVAL);
        }
        if self.names.iter().flatten().count() as u32 >= self.limits.max_namespaces {
            return Err(ENOSPC);
        }
        self.arena.push(Ns {
            level,
            parent: Some(p),
            used: BTreeMap::new(),
            last_pid: 0,
            pid_max: PID_MAX_LIMIT,
            adding: true,
            has_reaper: false,
        });
        let idx = self.arena.len() - 1;
        let id = match self.names.iter().position(Option::is_none) {
            Some(id) => {
                self.names[id] = Some(idx);
                id
            }
            None => {
                self.names.push(Some(idx));
                self.names.len() - 1
            }
        };
        Ok(Outcome::Ns {
            id: id as u32,
            level: level as u32,
        })
    }

    fn ns_release(&mut self, id: u32) -> Result<(), i32> {
        if id == 0 {
            return Err(EINVAL);
        }
        match self.names.get_mut(id as usize) {
            Some(slot @ Some(_)) => {
                *slot = None;
                Ok(())
            }
            _ => Err(ENOENT),
        }
    }

    /// The cyclic allocator of one level (see `pid.rs::alloc_cyclic`).
    fn alloc_cyclic(&mut self, n: usize) -> Result<i32, i32> {
        let ns = &mut self.arena[n];
        let cursor = ns.last_pid + 1;
        let pid_min = if cursor > RESERVED_PIDS {
            RESERVED_PIDS
        } else {
            1
        };
        let mut start = cursor.max(pid_min);
        if start >= ns.pid_max {
            start = pid_min;
        }
        let free_in = |lo: i32, hi: i32| -> Option<i32> {
            let mut want = lo;
            for &taken in ns.used.range(lo..hi).map(|(k, _)| k) {
                if taken != want {
                    break;
                }
                want += 1;
            }
            (want < hi).then_some(want)
        };
        let nr = free_in(start, ns.pid_max)
            .or_else(|| free_in(pid_min, start))
            .ok_or(EAGAIN)?;
        ns.last_pid = nr;
        Ok(nr)
    }

    fn alloc(&mut self, id: u32, set_tid: &[i32]) -> Result<Outcome, i32> {
        let leaf = self.ns(id)?;
        if self.live_pids >= self.limits.max_pids {
            return Err(ENOSPC);
        }
        let level = self.arena[leaf].level;
        if set_tid.len() > level + 1 {
            return Err(EINVAL);
        }
        let chain = self.chain(leaf);
        for (i, &tid) in set_tid.iter().enumerate() {
            if tid < 1 || tid >= self.arena[chain[level - i]].pid_max {
                return Err(EINVAL);
            }
        }
        if self.arena[leaf].used.is_empty() && self.arena[leaf].adding {
            self.arena[leaf].last_pid = 0;
        }
        let me = self.pids.len();
        let mut nrs = vec![0; level + 1];
        let mut taken: BTreeSet<usize> = BTreeSet::new();
        let release = |m: &mut Model, taken: &BTreeSet<usize>, nrs: &[i32]| {
            for &l in taken {
                m.arena[chain[l]].used.remove(&nrs[l]);
            }
        };
        for i in (0..=level).rev() {
            let n = chain[i];
            let nr = match set_tid.get(level - i) {
                Some(&tid) if self.arena[n].used.contains_key(&tid) => Err(EEXIST),
                Some(&tid) => Ok(tid),
                None => self.alloc_cyclic(n),
            };
            let nr = match nr {
                Ok(nr) => nr,
                Err(e) => {
                    release(self, &taken, &nrs);
                    return Err(e);
                }
            };
            self.arena[n].used.insert(nr, me);
            taken.insert(i);
            nrs[i] = nr;
            if !self.arena[n].has_reaper && nr != 1 {
                release(self, &taken, &nrs);
                return Err(EINVAL);
            }
        }
        if chain.iter().any(|&n| !self.arena[n].adding) {
            release(self, &taken, &nrs);
            return Err(ENOMEM);
        }
        if nrs[level] == 1 {
            self.arena[leaf].has_reaper = true;
        }
        self.pids.push(PidRec {
            nrs: chain.iter().copied().zip(nrs.iter().copied()).collect(),
            alive: true,
            tasks: Default::default(),
        });
        self.live_pids += 1;
        Ok(Outcome::Pid(nrs))
    }

    fn free_pid(&mut self, p: usize) -> bool {
        if !self.pids[p].alive {
            return false;
        }
        self.pids[p].alive = false;
        self.live_pids -= 1;
        let level = self.pids[p].nrs.len() - 1;
        let reaper = self.pids[p].nrs[level].1 == 1;
        for (l, &(n, nr)) in self.pids[p].nrs.clone().iter().enumerate() {
            let ns = &mut self.arena[n];
            ns.used.remove(&nr);
            // Only the reaper going disables a namespace; a count that falls
            // to 0 otherwise is 7.3's failed first fork (`case
            // PIDNS_ADDING`), after which the namespace still takes pids.
            if l == level && reaper {
                ns.adding = false;
            }
        }
        reaper
    }

    fn unlink_tasks(&mut self, p: usize) {
        let links = std::mem::take(&mut self.pids[p].tasks);
        for (ty, ids) in links.iter().enumerate() {
            for id in ids {
                self.unlink(*id, ty);
            }
        }
    }

    fn kill(&mut self, p: usize) {
        self.unlink_tasks(p);
        if self.free_pid(p) {
            let leaf = self.pids[p].nrs.last().unwrap().0;
            let victims: Vec<usize> = self.arena[leaf].used.values().copied().collect();
            for v in victims {
                self.unlink_tasks(v);
                self.free_pid(v);
            }
        }
    }

    fn unlink(&mut self, task: u32, ty: usize) -> Option<usize> {
        let links = self.tasks.get_mut(&task)?;
        let p = links[ty].take();
        if links.iter().all(Option::is_none) {
            self.tasks.remove(&task);
        }
        p
    }

    fn attach(&mut self, task: u32, ty: PidType, id: u32, nr: i32) -> Result<Outcome, i32> {
        let p = self.pid(id, nr)?;
        let ty = ty.index();
        if !self.tasks.contains_key(&task) {
            if self.tasks.len() as u32 >= self.limits.max_pids {
                return Err(ENOSPC);
            }
            self.tasks.insert(task, [None; 3]);
        }
        let links = self.tasks.get_mut(&task).unwrap();
        if links[ty].is_some() {
            return Err(EBUSY);
        }
        links[ty] = Some(p);
        self.pids[p].tasks[ty].push(task);
        Ok(Outcome::Ok)
    }

    fn detach(&mut self, task: u32, ty: PidType) -> Result<Outcome, i32> {
        let ty = ty.index();
        let p = self.unlink(task, ty).ok_or(ESRCH)?;
        self.pids[p].tasks[ty].retain(|t| *t != task);
        if self.pids[p].tasks.iter().all(Vec::is_empty) && self.pids[p].alive {
            self.kill(p);
        }
        Ok(Outcome::Ok)
    }

    fn transfer(&mut self, old: u32, new: u32, ty: PidType) -> Result<Outcome, i32> {
        let ty = ty.index();
        match self.tasks.get(&new) {
            None => return Err(ESRCH),
            Some(l) if l[ty].is_some() => return Err(EBUSY),
            Some(_) => {}
        }
        let p = self.unlink(old, ty).ok_or(ESRCH)?;
        for t in self.pids[p].tasks[ty].iter_mut() {
            if *t == old {
                *t = new;
            }
        }
        self.tasks.get_mut(&new).unwrap()[ty] = Some(p);
        Ok(Outcome::Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_in(m: &mut Model, script: &str) -> Vec<String> {
        crate::script::run(script, false, m)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn run(script: &str) -> Vec<String> {
        run_in(&mut Model::new(Limits::default()), script)
    }

    /// The views that do not make the list of numbers in use (which the
    /// random operations draw from at every step) say what the list says,
    /// in every state of a long random run.
    #[test]
    fn counted_views_agree_with_the_list() {
        let mut rng = crate::random::Rng::new(7);
        let mut m = Model::new(Limits::default());
        for step in 0..20_000 {
            let op = crate::random::next_op(&mut rng, &m);
            m.run(&op);
            if step % 20 != 0 {
                continue;
            }
            for id in m.ns_ids().into_iter().chain([999]) {
                let used = m.used(id);
                assert_eq!(m.busy(id), !used.is_empty());
                assert_eq!(m.used_count(id), used.len());
                let n = used.len();
                for k in [0, 1, n / 3, n / 2, n.saturating_sub(2), n.saturating_sub(1)] {
                    if let Some(&nr) = used.get(k) {
                        assert_eq!(m.nth_used(id, k), Some(nr));
                        assert!(m.is_used(id, nr));
                        assert!(!m.is_used(id, nr + 1) || used.get(k + 1) == Some(&(nr + 1)));
                    }
                }
                assert_eq!(m.nth_used(id, used.len()), None);
                assert!(!m.is_used(id, 0));
            }
        }
    }

    /// What the model-based test draws its operations from follows the
    /// state: namespaces in use, which take pids, their levels, the numbers
    /// used, tasks and handles.
    #[test]
    fn views_follow_the_state() {
        let mut m = Model::new(Limits::default());
        run_in(
            &mut m,
            "alloc 0\nns 0\nalloc 1\nalloc 1\nns 1\nattach 7 pid 0 3\nget 1 2\n",
        );
        assert_eq!(m.ns_ids(), [0, 1, 2]);
        assert!(m.alive(0) && m.alive(1) && !m.alive(2) && !m.alive(9));
        assert!(!m.dead(1) && !m.dead(2) && !m.dead(9));
        assert_eq!(
            (m.level(0), m.level(2), m.level(9)),
            (Some(0), Some(2), None)
        );
        assert_eq!(
            (m.used(0), m.used(1), m.used(2), m.used(9)),
            (vec![1, 2, 3], vec![1, 2], vec![], vec![])
        );
        assert_eq!((m.task_ids(), m.handle_ids()), (vec![7], vec![0]));
        // The init of namespace 1 goes: it and its child take no pid.
        run_in(&mut m, "free 1 1\nput 0\nrelease 2\n");
        assert!(m.dead(1) && !m.alive(1) && m.alive(0));
        assert_eq!(
            (m.ns_ids(), m.used(1), m.handle_ids()),
            (vec![0, 1], vec![], vec![])
        );
    }

    /// transfer_pid(): the new task takes the old one's link, only into a
    /// free slot of an existing task; a freed pid unlinks its tasks.
    #[test]
    fn transfer_and_the_links_a_free_cuts() {
        assert_eq!(
            run("alloc 0\nalloc 0\nattach 1 pgid 0 2\nattach 2 pid 0 2\ntransfer 1 2 pgid\ntask 0 2 pgid\n\
                 transfer 1 2 pgid\ntransfer 2 9 pid\ndetach 2 pid\ntask 0 2 pid\nfind 0 2\nfree 0 2\n\
                 attach 2 pgid 0 1\ntask 0 1 pgid\n")[2..],
            [
                "ok", "ok", "ok", "task 2", "err EBUSY", "err ESRCH", "ok", "none", "pid 2", "ok", "ok",
                "task 2"
            ]
        );
    }

    /// The knobs' bounds, each at and past its edge.
    #[test]
    fn bounds_of_pid_max_last_pid_and_levels() {
        assert_eq!(
            run("pidmax 0 300\npidmax 0 301\npidmax 0 4194304\npidmax 0 4194305\npidmax 0 400\nlastpid 0 400\nlastpid 0 401\n"),
            ["err EINVAL", "ok", "ok", "err EINVAL", "ok", "ok", "err EINVAL"]
        );
        // MAX_PID_NS_LEVEL levels below the root, not one more.
        let mut m = Model::new(Limits::default());
        let mut script = String::from("alloc 0\n");
        for id in 0..MAX_LEVEL {
            script += &format!("ns {id}\nalloc {}\n", id + 1);
        }
        script += &format!("ns {MAX_LEVEL}\n");
        let out = run_in(&mut m, &script);
        assert_eq!(out[out.len() - 3], format!("ns {MAX_LEVEL} {MAX_LEVEL}"));
        assert_eq!(out[out.len() - 1], "err ENOSPC");
    }

    /// A number is asked of a namespace at its own level only: a pid of a
    /// sibling namespace has none there.
    #[test]
    fn nr_in_a_sibling_is_none() {
        assert_eq!(
            run("alloc 0\nns 0\nns 0\nalloc 1\nalloc 2\nnr 1 1 2\nnr 1 1 1\nnr 1 1 0\n")[5..],
            ["none", "1", "2"]
        );
    }

    /// Releases: never the root, once each.
    #[test]
    fn release_once_never_the_root() {
        assert_eq!(
            run("alloc 0\nns 0\nrelease 0\nrelease 1\nrelease 1\nrelease 9\n")[2..],
            ["err EINVAL", "ok", "err ENOENT", "err ENOENT"]
        );
    }

    /// A cursor at exactly RESERVED_PIDS is not past it: 7.3 wraps from
    /// there to 1.
    #[test]
    fn a_cursor_at_300_wraps_to_1() {
        let mut script = String::from("alloc 0\npidmax 0 400\n");
        for nr in 300..400 {
            script += &format!("alloc 0 {nr}\n");
        }
        script += "lastpid 0 299\nalloc 0\n";
        assert_eq!(run(&script).last().unwrap(), "pid 2");
    }

    /// max_pids counts live pids (a freed one gives its place back) and
    /// the handles held.
    #[test]
    fn max_pids_counts_live_pids_and_handles() {
        let mut m = Model::new(Limits {
            max_pids: 2,
            max_namespaces: 4,
        });
        assert_eq!(
            run_in(
                &mut m,
                "alloc 0\nalloc 0\nalloc 0\nfree 0 2\nalloc 0\nget 0 1\nget 0 1\nget 0 1\n"
            ),
            [
                "pid 1",
                "pid 2",
                "err ENOSPC",
                "ok",
                "pid 3",
                "handle 0",
                "handle 1",
                "err ENOSPC"
            ]
        );
    }

    #[test]
    fn first_pid_is_init_then_cyclic() {
        assert_eq!(
            run("alloc 0\nalloc 0\nlastpid 0 100\nalloc 0\nns 0\nalloc 1 5\nalloc 1\nalloc 1\n"),
            [
                "pid 1",
                "pid 2",
                "ok",
                "pid 101",
                "ns 1 1",
                "err EINVAL",
                "pid 102 1",
                "pid 103 2"
            ]
        );
    }

    #[test]
    fn wraps_to_300_only_past_300() {
        let out = run("alloc 0\npidmax 0 400\nlastpid 0 398\nalloc 0\nalloc 0\nalloc 0\nlastpid 0 5\nfree 0 1\n");
        assert_eq!(out[3..6], ["pid 399", "pid 300", "pid 301"]);
        // Root init freed: the universe takes no new pid.
        assert_eq!(run("alloc 0\nfree 0 1\nalloc 0\n")[2], "err ENOMEM");
    }

    #[test]
    fn set_tid_errors() {
        let out = run("alloc 0\nns 0\nalloc 1 1,50\nalloc 1 2,50\nalloc 1 0\nalloc 1 1,2,3\nalloc 1 3,40000\n");
        assert_eq!(
            out[2..],
            [
                "pid 50 1",
                "err EEXIST",
                "err EINVAL",
                "err EINVAL",
                "err EINVAL"
            ]
        );
    }

    #[test]
    fn zap_frees_the_namespace_and_descendants() {
        let out = run("alloc 0\nns 0\nalloc 1\nalloc 1\nns 1\nalloc 2\nfree 1 1\nfind 0 4\nnext 0 2\nalloc 2\nalloc 0\n");
        // The refused alloc still moved the root's last_pid to 5 (as native).
        assert_eq!(out[6..], ["ok", "none", "none", "err ENOMEM", "pid 6"]);
    }

    #[test]
    fn tasks_detach_frees_the_pid() {
        let out = run("alloc 0\nalloc 0\nattach 1 pid 0 2\nattach 1 pgid 0 2\ntask 0 2 pgid\ndetach 1 pid\nfind 0 2\ndetach 1 pgid\nfind 0 2\n");
        assert_eq!(
            out[2..],
            ["ok", "ok", "task 1", "ok", "pid 2", "ok", "none"]
        );
    }
}
