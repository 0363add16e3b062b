// SPDX-License-Identifier: GPL-2.0

//! `struct pid`: one object per process identity, one number per level.
//!
//! As in 2.6.24: a refcount, the level, per-type task lists and an RCU head,
//! followed by one [`Upid`] per level, root first. Objects come from one kmem
//! cache per depth (level + 1), created on first use and shared by every
//! namespace of that depth. The hash owns the first reference; `free_pid()`
//! unhashes the numbers, releases them, and drops that reference only after
//! a grace period, so a lockless `find_pid_ns()` never sees freed memory.

use crate::{
    glue::{self, Cache, CacheSlot, RcuHead},
    hash::{self, PIDMAP_LOCK},
    namespace::{PidNamespace, NR_LEVELS},
    pidmap::{ScanWork, RESERVED_PIDS},
    universe::TaskTable,
};
use core::{
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, AtomicPtr, Ordering},
};
use kernel::{
    bindings,
    prelude::*,
    sync::{
        aref::{ARef, AlwaysRefCounted},
        LockedBy, Mutex, Refcount,
    },
};

/// Task link types (`enum pid_type`).
pub(crate) const PIDTYPE_MAX: usize = crate::uapi::SHADOWPID_PIDTYPE_MAX as usize;

/// Task ids attached to a pid, per type, in attach order (the last one is
/// the head of 2.6.24's hlist, which `pid_task()` returns).
pub(crate) type TaskLinks = [KVec<u32>; PIDTYPE_MAX];

/// One number of a pid: its value in one namespace, linked in the pid hash.
///
/// # Invariants
///
/// `ns` and `pid` point to live objects as long as the upid is: the upid is
/// part of `pid`, which holds a reference on its most nested namespace,
/// which holds its ancestors.
#[repr(C)]
pub(crate) struct Upid {
    /// The number.
    pub(crate) nr: i32,
    /// The namespace the number belongs to.
    ns: NonNull<PidNamespace>,
    /// The pid the upid is part of.
    pid: NonNull<Pid>,
    /// Next entry of the hash chain.
    pub(crate) next: AtomicPtr<Upid>,
}

impl Upid {
    /// The namespace this number belongs to.
    pub(crate) fn ns(&self) -> &PidNamespace {
        // SAFETY: alive as long as `self` (type invariant).
        unsafe { self.ns.as_ref() }
    }

    /// The pid this number belongs to.
    pub(crate) fn pid(&self) -> &Pid {
        // SAFETY: alive as long as `self` (type invariant).
        unsafe { self.pid.as_ref() }
    }
}

/// A shadow `struct pid`.
///
/// # Invariants
///
/// Allocated from `PID_CACHES[level]` with room for `level + 1` upids after
/// the header, at `numbers`, all initialised. `hashed` is true from the
/// moment its upids are in the hash until `free_pid()` takes them out; while
/// it is, the hash owns one reference.
#[repr(C)]
pub(crate) struct Pid {
    /// References; the hash holds one while the pid is hashed.
    count: Refcount,
    /// Level of its most nested namespace.
    level: u32,
    /// In the hash: alive, not freed yet.
    hashed: AtomicBool,
    /// The `level + 1` upids after the header.
    numbers: NonNull<Upid>,
    /// Keeps the most nested namespace, hence every level's, alive.
    leaf: ARef<PidNamespace>,
    /// Attached tasks, under the universe's task lock.
    tasks: LockedBy<TaskLinks, TaskTable>,
    /// For the RCU-deferred put of `free_pid()`.
    rcu: RcuHead,
}

// SAFETY: the raw pointers point into the object itself or to namespaces it
// keeps alive; mutable state is atomic or behind the universe's task lock.
unsafe impl Send for Pid {}
// SAFETY: as above.
unsafe impl Sync for Pid {}

/// One cache per depth: `shadowpid_pid_N` holds pids with N levels.
static PID_CACHES: [CacheSlot; NR_LEVELS] = [
    CacheSlot::new(c"shadowpid_pid_1"),
    CacheSlot::new(c"shadowpid_pid_2"),
    CacheSlot::new(c"shadowpid_pid_3"),
    CacheSlot::new(c"shadowpid_pid_4"),
    CacheSlot::new(c"shadowpid_pid_5"),
    CacheSlot::new(c"shadowpid_pid_6"),
    CacheSlot::new(c"shadowpid_pid_7"),
    CacheSlot::new(c"shadowpid_pid_8"),
    CacheSlot::new(c"shadowpid_pid_9"),
    CacheSlot::new(c"shadowpid_pid_10"),
    CacheSlot::new(c"shadowpid_pid_11"),
    CacheSlot::new(c"shadowpid_pid_12"),
    CacheSlot::new(c"shadowpid_pid_13"),
    CacheSlot::new(c"shadowpid_pid_14"),
    CacheSlot::new(c"shadowpid_pid_15"),
    CacheSlot::new(c"shadowpid_pid_16"),
    CacheSlot::new(c"shadowpid_pid_17"),
    CacheSlot::new(c"shadowpid_pid_18"),
    CacheSlot::new(c"shadowpid_pid_19"),
    CacheSlot::new(c"shadowpid_pid_20"),
    CacheSlot::new(c"shadowpid_pid_21"),
    CacheSlot::new(c"shadowpid_pid_22"),
    CacheSlot::new(c"shadowpid_pid_23"),
    CacheSlot::new(c"shadowpid_pid_24"),
    CacheSlot::new(c"shadowpid_pid_25"),
    CacheSlot::new(c"shadowpid_pid_26"),
    CacheSlot::new(c"shadowpid_pid_27"),
    CacheSlot::new(c"shadowpid_pid_28"),
    CacheSlot::new(c"shadowpid_pid_29"),
    CacheSlot::new(c"shadowpid_pid_30"),
    CacheSlot::new(c"shadowpid_pid_31"),
    CacheSlot::new(c"shadowpid_pid_32"),
    CacheSlot::new(c"shadowpid_pid_33"),
];

/// Offset of the upid array in a pid object.
const NUMBERS_OFFSET: usize = size_of::<Pid>().next_multiple_of(align_of::<Upid>());

/// Pid objects allocated and not freed yet, all depths.
pub(crate) fn objects() -> i64 {
    PID_CACHES.iter().map(CacheSlot::objects).sum()
}

/// Every cache the module made: for the unload and the leak check.
pub(crate) fn caches() -> impl Iterator<Item = &'static CacheSlot> {
    Iterator::chain(
        PID_CACHES.iter(),
        core::iter::once(&crate::namespace::NS_CACHE),
    )
}

// SAFETY: the refcount keeps the object alive; `dec_ref` frees it exactly
// once, when the count drops to zero.
unsafe impl AlwaysRefCounted for Pid {
    fn inc_ref(&self) {
        self.count.inc();
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller owns a reference, so `obj` is alive.
        let pid = unsafe { obj.as_ref() };
        if !pid.count.dec_and_test() {
            return;
        }
        let level = pid.level as usize;
        // SAFETY: the last reference is gone, so nothing reaches the object;
        // upids need no drop. It came from PID_CACHES[level], which lives
        // until every object is gone (type invariant, module unload).
        unsafe {
            ptr::drop_in_place(obj.as_ptr());
            if let Some(cache) = PID_CACHES[level].existing() {
                cache.free(obj.cast());
            }
        }
    }
}

/// Runs a grace period after `free_pid()`: drops the hash's reference.
///
/// # Safety
///
/// `head` is the `rcu` field of a pid queued by `free_pid()`, which handed
/// over the hash's reference with it.
unsafe extern "C" fn delayed_put_pid(head: *mut bindings::callback_head) {
    // SAFETY: `head` is the `rcu` field of a pid queued by `free_pid()`,
    // whose hash reference is handed to us; container_of gives the pid.
    unsafe {
        let pid = head.byte_sub(core::mem::offset_of!(Pid, rcu)).cast::<Pid>();
        drop(ARef::from_raw(NonNull::new_unchecked(pid)));
    }
}

impl Pid {
    /// Bytes of a pid object with numbers at levels `0..=level`.
    pub(crate) const fn size_for_level(level: u32) -> usize {
        NUMBERS_OFFSET + (level as usize + 1) * size_of::<Upid>()
    }

    /// The cache for pids of `level + 1` levels.
    fn cache(level: usize) -> Result<Cache<'static>> {
        PID_CACHES[level].get(Self::size_for_level(level as u32), align_of::<Pid>())
    }

    /// Bytes of the slab object that holds the pid (`ksize()`).
    pub(crate) fn slab_bytes(&self) -> u64 {
        // SAFETY: a pid lives in an object of one of `PID_CACHES` (type
        // invariant), which `&self` keeps alive.
        unsafe { bindings::ksize(ptr::from_ref(self).cast()) as u64 }
    }

    /// Level of the most nested namespace the pid has a number in.
    pub(crate) fn level(&self) -> u32 {
        self.level
    }

    /// The numbers, root first.
    pub(crate) fn numbers(&self) -> &[Upid] {
        // SAFETY: `numbers` points to `level + 1` initialised upids inside
        // this object (type invariant), which `&self` keeps alive.
        unsafe { core::slice::from_raw_parts(self.numbers.as_ptr(), self.level as usize + 1) }
    }

    /// The number in the most nested namespace.
    pub(crate) fn leaf_nr(&self) -> i32 {
        self.numbers()[self.level as usize].nr
    }

    /// The most nested namespace.
    pub(crate) fn leaf(&self) -> &ARef<PidNamespace> {
        &self.leaf
    }

    /// The attached tasks, under the universe's task lock.
    pub(crate) fn tasks(&self) -> &LockedBy<TaskLinks, TaskTable> {
        &self.tasks
    }

    /// Still hashed: not freed yet.
    pub(crate) fn is_alive(&self) -> bool {
        self.hashed.load(Ordering::Relaxed)
    }

    /// Is the child reaper (pid 1) of its most nested namespace.
    pub(crate) fn is_reaper(&self) -> bool {
        self.leaf_nr() == 1
    }

    /// `pid_nr_ns()`: the number seen from `ns`, 0 where it has none.
    pub(crate) fn nr_ns(&self, ns: &PidNamespace) -> i32 {
        self.numbers()
            .get(ns.level as usize)
            .filter(|u| ptr::eq(u.ns(), ns))
            .map_or(0, |u| u.nr)
    }
}

/// A number from the cyclic allocator of `ns` (alloc_pidmap() under 7.3's
/// observable rules): from `last_pid + 1` to `pid_max - 1`, then from the
/// bottom, which is 1 while `last_pid + 1` is still at most 300 and 300
/// after. EAGAIN once a full cycle found nothing.
pub(crate) fn alloc_cyclic(ns: &PidNamespace, work: &mut ScanWork) -> Result<i32> {
    let cursor = ns.last_pid.load(Ordering::Relaxed) + 1;
    let pid_min = if cursor > RESERVED_PIDS {
        RESERVED_PIDS
    } else {
        1
    };
    let pid_max = ns.pid_max.load(Ordering::Relaxed);
    let mut start = cursor.max(pid_min);
    if start >= pid_max {
        start = pid_min;
    }
    let nr = ns
        .pidmap
        .alloc_cyclic(start, pid_min, pid_max, work)?
        .ok_or(EAGAIN)?;
    ns.last_pid.store(nr, Ordering::Relaxed);
    Ok(nr)
}

/// Releases the numbers `nrs[from..]` taken at `levels[from..]`.
fn release(levels: &[&PidNamespace], nrs: &[i32], from: usize) {
    for (ns, &nr) in levels.iter().zip(nrs).skip(from) {
        ns.pidmap.free(nr);
    }
}

/// `alloc_pid()`: a new pid in `ns`, with `set_tid[0]` (if any) as its
/// number in `ns`, `set_tid[1]` in the parent, and so on (clone3).
///
/// `owner` is the task lock of the universe the pid belongs to.
pub(crate) fn alloc_pid(
    ns: &ARef<PidNamespace>,
    set_tid: &[i32],
    owner: &Mutex<TaskTable>,
    work: &mut ScanWork,
) -> Result<ARef<Pid>> {
    let level = ns.level as usize;
    if set_tid.len() > level + 1 {
        return Err(EINVAL);
    }
    let levels = ns.levels();
    // 7.3 checks every set_tid entry before it takes any number.
    for (i, &tid) in set_tid.iter().enumerate() {
        if tid < 1 || tid >= levels[level - i].pid_max.load(Ordering::Relaxed) {
            return Err(EINVAL);
        }
    }
    let cache = Pid::cache(level)?;
    let mem = cache.alloc()?;

    ns.reset_cursor_if_unused();
    let mut nrs = [0i32; NR_LEVELS];
    for i in (0..=level).rev() {
        let at = levels[i];
        let nr = match set_tid.get(level - i) {
            Some(&tid) => match at.pidmap.alloc_exact(tid) {
                Ok(true) => Ok(tid),
                Ok(false) => Err(EEXIST),
                Err(e) => Err(e),
            },
            None => alloc_cyclic(at, work),
        };
        let nr = match nr {
            Ok(nr) => nr,
            Err(e) => {
                release(&levels[..=level], &nrs[..=level], i + 1);
                // SAFETY: `mem` is unused and came from `cache`.
                unsafe { cache.free(mem) };
                return Err(e);
            }
        };
        nrs[i] = nr;
        // The first pid of a namespace must be its init.
        if !at.has_reaper() && nr != 1 {
            release(&levels[..=level], &nrs[..=level], i);
            // SAFETY: as above.
            unsafe { cache.free(mem) };
            return Err(EINVAL);
        }
    }

    let obj = mem.cast::<Pid>();
    // SAFETY: NUMBERS_OFFSET + (level + 1) upids is the size the cache was
    // made with; the pointer stays inside the object.
    let numbers = unsafe { mem.byte_add(NUMBERS_OFFSET).cast::<Upid>() };
    // SAFETY: `mem` is a fresh object of the right size and alignment; the
    // header and every upid are written before the pid is used. The ARef
    // takes over the one reference the count starts with.
    let pid = unsafe {
        obj.as_ptr().write(Pid {
            count: Refcount::new(1),
            level: level as u32,
            hashed: AtomicBool::new(false),
            numbers,
            leaf: ns.clone(),
            tasks: LockedBy::new(owner, Default::default()),
            rcu: RcuHead::uninit(),
        });
        for (i, &nr) in nrs[..=level].iter().enumerate() {
            numbers.add(i).write(Upid {
                nr,
                ns: NonNull::from(levels[i]),
                pid: obj,
                next: AtomicPtr::new(ptr::null_mut()),
            });
        }
        ARef::from_raw(obj)
    };

    let guard = PIDMAP_LOCK.lock();
    // ENOMEM, not a better errno: what userspace has always seen for a
    // namespace whose init is gone.
    if levels[..=level].iter().any(|ns| !ns.accepting()) {
        drop(guard);
        release(&levels[..=level], &nrs[..=level], 0);
        return Err(ENOMEM);
    }
    let reaper = nrs[level] == 1;
    for (i, upid) in pid.numbers().iter().enumerate().rev() {
        hash::insert(upid, &guard);
        upid.ns().account_new(i == level, reaper, &guard);
    }
    // INVARIANT: hashed, and the hash owns a reference of its own.
    pid.inc_ref();
    pid.hashed.store(true, Ordering::Relaxed);
    drop(guard);
    Ok(pid)
}

/// `free_pid()`: unhashes and releases every number of `pid`; the hash's
/// reference goes after a grace period. ESRCH if it was freed already.
/// Returns whether `pid` was its namespace's reaper (whose namespace then
/// takes no new pid and must be emptied: `zap_pid_ns_processes()`).
pub(crate) fn free_pid(pid: &Pid) -> Result<bool> {
    let reaper = pid.is_reaper();
    let level = pid.level as usize;
    {
        let guard = PIDMAP_LOCK.lock();
        if !pid.hashed.swap(false, Ordering::Relaxed) {
            return Err(ESRCH);
        }
        for (i, upid) in pid.numbers().iter().enumerate() {
            hash::remove(upid, &guard);
            upid.ns().account_gone(i == level, reaper, &guard);
        }
    }
    for upid in pid.numbers() {
        upid.ns().pidmap.free(upid.nr);
    }
    // SAFETY: the pid was hashed until just now, so the hash's reference
    // keeps it alive until the callback, which drops exactly that
    // reference; `hashed` went false once, so the head is queued once.
    unsafe { glue::call_rcu(&pid.rcu, delayed_put_pid) };
    Ok(reaper)
}

/// `find_pid_ns()` + `get_pid()`: a reference on the pid numbered `nr` in `ns`.
pub(crate) fn find_get_pid(nr: i32, ns: &PidNamespace) -> Option<ARef<Pid>> {
    let rcu = kernel::sync::rcu::read_lock();
    // A hashed pid, or one unhashed less than a grace period ago, still has
    // the hash's reference: taking another is safe.
    hash::find(nr, ns, &rcu).map(ARef::from)
}

/// `find_ge_pid()`: the first pid numbered `nr` or above in `ns`.
pub(crate) fn find_ge_pid(nr: i32, ns: &PidNamespace) -> Option<ARef<Pid>> {
    let mut nr = nr.max(0);
    loop {
        if let Some(pid) = find_get_pid(nr, ns) {
            return Some(pid);
        }
        nr = ns.pidmap.next(nr)?;
    }
}
