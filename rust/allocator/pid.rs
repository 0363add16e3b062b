// SPDX-License-Identifier: GPL-2.0

//! `struct pid`: one object per process identity, one number per level, and
//! the tasks that use it.
//!
//! As in 2.6.24: a refcount, the level, per-type task lists and an RCU head,
//! followed by one [`Upid`] per level, root first. Objects come from one kmem
//! cache per depth (level + 1), created on first use and shared by every
//! namespace of that depth. The hash owns the first reference; `free_pid()`
//! unhashes the numbers, releases them, and drops that reference only after
//! a grace period, so a lockless `find_pid_ns()` never sees freed memory.
//!
//! Shadow tasks are numbers chosen by the user, each with a pid link per
//! type (`task->pids[type]`) and, as in 2.6.24 and 7.3, a list node per type
//! that puts it on its pid's list of that type: a pid carries three list
//! heads of one word each, and attaching a task allocates nothing. The links
//! of both sides change under [`TASKLIST_LOCK`], as `attach_pid()`,
//! `detach_pid()` and `transfer_pid()` change them under `tasklist_lock`.

use super::{
    hash::{self, HashEntry},
    namespace::{PidNamespace, NR_LEVELS},
    pidmap_env,
};
use crate::wrappers::{
    rcu::{self, RcuHead},
    slab::{CacheName, CacheSlot},
};
use core::{
    mem::ManuallyDrop,
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{
    bindings,
    list::{AtomicTracker, List, ListArc, ListItem, ListLinks, TryNewListArc},
    prelude::*,
    rbtree::RBTree,
    sync::{
        aref::{ARef, AlwaysRefCounted},
        Arc, GlobalGuard, GlobalLockedBy, Refcount,
    },
};

/// Task link types (`enum pid_type`).
pub(crate) const PIDTYPE_MAX: usize = crate::uapi::SHADOWPID_PIDTYPE_MAX as usize;

kernel::sync::global_lock! {
    // SAFETY: `init()` runs in the module initializer, before the device
    // that leads to every other use exists.
    /// `tasklist_lock`: every shadow task table and every pid's task links.
    pub(crate) unsafe(uninit) static TASKLIST_LOCK: Mutex<()> = ();
}

/// Holding this proves [`TASKLIST_LOCK`] is held.
pub(crate) type TasklistGuard = GlobalGuard<TASKLIST_LOCK>;

/// Data only [`TASKLIST_LOCK`]'s holder may touch.
pub(crate) type TasklistLocked<T> = GlobalLockedBy<T, TASKLIST_LOCK>;

/// Sets up `tasklist_lock`.
///
/// # Safety
///
/// Called once, from the module initializer, before any other use.
pub(crate) unsafe fn init() {
    // SAFETY: once, before any use (the caller's guarantee).
    unsafe { TASKLIST_LOCK.init() };
}

const _: () = assert!(PIDTYPE_MAX == 3, "one list per pid type below");

/// The tasks attached to a pid, one list per type (`pid->tasks[type]`),
/// newest first: the head is what `pid_task()` returns, as 7.3's
/// `hlist_add_head_rcu()` makes it.
struct TaskLists(List<Task, 0>, List<Task, 1>, List<Task, 2>);

impl TaskLists {
    /// No task of any type.
    const fn new() -> Self {
        Self(List::new(), List::new(), List::new())
    }

    /// The first task of type `ty` (< PIDTYPE_MAX).
    fn first(&self, ty: usize) -> Option<u32> {
        match ty {
            0 => self.0.iter().next().map(|t| t.id),
            1 => self.1.iter().next().map(|t| t.id),
            _ => self.2.iter().next().map(|t| t.id),
        }
    }

    /// No task of any type.
    fn is_empty(&self) -> bool {
        self.0.is_empty() && self.1.is_empty() && self.2.is_empty()
    }
}

/// `$body` with `$l` bound to `$lists`' list of type `$ty` (< PIDTYPE_MAX):
/// the three lists are of three types, one per link of a task.
macro_rules! on_list {
    ($lists:expr, $ty:expr, |$l:ident| $body:expr) => {
        match $ty {
            0 => {
                let $l = &mut $lists.0;
                $body
            }
            1 => {
                let $l = &mut $lists.1;
                $body
            }
            _ => {
                let $l = &mut $lists.2;
                $body
            }
        }
    };
}

/// One number of a pid: its hash entry (number and namespace). As 2.6.24's
/// `struct upid`, it has no pointer to its pid: the upid at level `l` is
/// `numbers[l]` of the pid, which the level gives back.
///
/// # Invariants
///
/// A `Upid` is `numbers[entry.ns().level]` of a pid, which holds a
/// reference on its most nested namespace, which holds its ancestors:
/// `entry`'s namespace outlives it.
#[repr(C)]
pub(crate) struct Upid {
    /// Number, namespace and chain links; the hash sees only this.
    entry: HashEntry,
}

impl Upid {
    /// The upid a hash entry belongs to.
    fn from_entry(entry: &HashEntry) -> &Upid {
        // SAFETY: every entry this module hashes is the first field of a
        // `#[repr(C)]` upid (see `alloc_pid`), so the pointers coincide and
        // the upid lives as long as the entry does.
        unsafe { &*ptr::from_ref(entry).cast::<Upid>() }
    }

    pub(crate) fn nr(&self) -> i32 {
        self.entry.nr
    }

    pub(crate) fn ns(&self) -> &PidNamespace {
        self.entry.ns()
    }

    pub(crate) fn pid(&self) -> &Pid {
        let level = self.ns().level as usize;
        // SAFETY: `self` is `numbers[level]` of a pid (type invariant), so
        // stepping back over the upids before it and the header stays in
        // that object and gives the pid, alive as long as `self`.
        unsafe {
            &*ptr::from_ref(self)
                .byte_sub(NUMBERS_OFFSET + level * size_of::<Upid>())
                .cast::<Pid>()
        }
    }
}

/// A shadow `struct pid`.
///
/// # Invariants
///
/// Allocated from `PID_CACHES[level]` with room for `level + 1` upids after
/// the header, at `numbers`, all initialised, `numbers[l]` in the namespace
/// of level `l`. The pid owns a reference on the namespace of
/// `numbers[level]` (2.6.24's `get_pid_ns()`), which keeps every level's
/// alive. `hashed` is true from before its upids enter the hash until
/// `free_pid()` takes them out; while it is, the hash owns one reference.
/// A task on one of `tasks`' lists holds a reference on the pid.
#[repr(C)]
pub(crate) struct Pid {
    /// References; the hash holds one while the pid is hashed.
    count: Refcount,
    /// Level of its most nested namespace (< NR_LEVELS).
    level: u8,
    /// In the hash: alive, not freed yet.
    hashed: AtomicBool,
    /// Attached tasks, under `tasklist_lock`.
    tasks: TasklistLocked<TaskLists>,
    /// For the RCU-deferred put of `free_pid()`.
    rcu: RcuHead,
    /// The `level + 1` upids after the header (a flexible array).
    numbers: [Upid; 0],
}

// SAFETY: the raw pointers point into the object itself or to namespaces it
// keeps alive; mutable state is atomic or behind `tasklist_lock`.
unsafe impl Send for Pid {}
// SAFETY: as above.
unsafe impl Sync for Pid {}

/// Offset of the upid array in a pid object.
const NUMBERS_OFFSET: usize = core::mem::offset_of!(Pid, numbers);

const _: () = assert!(NR_LEVELS <= u8::MAX as usize + 1);
// No larger than 2.6.24's layout on 64 bits: count and level (8 bytes),
// three list heads (24), the RCU head (16), one upid (number, namespace and
// chain node: 32).
const _: () = assert!(Pid::size_for_level(0) <= 80);

/// The cache slot for pids of `level + 1` levels: `shadowpid_pid_N`, its
/// objects sized for `N` upids (7.3's `pid_%u`).
const fn pid_cache(level: usize) -> CacheSlot {
    CacheSlot::new(
        CacheName::numbered("shadowpid_pid_", Some(level + 1)),
        Pid::size_for_level(level as u32),
        align_of::<Pid>(),
    )
}

/// One cache per depth.
static PID_CACHES: [CacheSlot; NR_LEVELS] = {
    let mut caches = [const { pid_cache(0) }; NR_LEVELS];
    let mut level = 1;
    while level < NR_LEVELS {
        caches[level] = pid_cache(level);
        level += 1;
    }
    caches
};

/// Pid objects allocated and not freed yet, all depths.
pub(crate) fn objects() -> i64 {
    PID_CACHES.iter().map(CacheSlot::objects).sum()
}

/// Every cache the module made: for the unload and the leak check.
pub(crate) fn caches() -> impl Iterator<Item = &'static CacheSlot> {
    Iterator::chain(
        PID_CACHES.iter(),
        core::iter::once(&super::namespace::NS_CACHE),
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
        let leaf = NonNull::from(pid.leaf());
        // SAFETY: the last reference is gone, so nothing reaches the object;
        // upids need no drop. It came from PID_CACHES[level] (type
        // invariant). Then the reference it owned on its most nested
        // namespace, given back once, after the object (2.6.24's order).
        unsafe {
            ptr::drop_in_place(obj.as_ptr());
            PID_CACHES[level].free(obj.cast());
            drop(ARef::from_raw(leaf));
        }
    }
}

/// Runs a grace period after `free_pid()` or an unhashed pid's drop: drops the
/// reference queued with the head.
///
/// # Safety
///
/// `head` is the `rcu` field of a pid queued by `free_pid()`, which handed
/// over the hash's reference with it, or by an [`UnhashedPid`]'s drop,
/// which handed over its own.
unsafe extern "C" fn delayed_put_pid(head: *mut bindings::callback_head) {
    // SAFETY: `head` is the `rcu` field of a pid queued with a reference
    // handed to us; container_of gives the pid.
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

    /// Bytes of the slab object that holds the pid (`ksize()`).
    pub(crate) fn slab_bytes(&self) -> u64 {
        // SAFETY: a pid lives in an object of one of `PID_CACHES` (type
        // invariant), which `&self` keeps alive.
        unsafe { bindings::ksize(ptr::from_ref(self).cast()) as u64 }
    }

    /// Level of the most nested namespace the pid has a number in.
    pub(crate) fn level(&self) -> u32 {
        self.level.into()
    }

    /// The numbers, root first.
    pub(crate) fn numbers(&self) -> &[Upid] {
        // SAFETY: `level + 1` initialised upids follow the header inside
        // this object (type invariant), which `&self` keeps alive.
        unsafe { core::slice::from_raw_parts(self.numbers.as_ptr(), self.level as usize + 1) }
    }

    /// The number in the most nested namespace.
    pub(crate) fn leaf_nr(&self) -> i32 {
        self.numbers()[self.level as usize].nr()
    }

    /// The most nested namespace.
    pub(crate) fn leaf(&self) -> &PidNamespace {
        self.numbers()[self.level as usize].ns()
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
            .map_or(0, Upid::nr)
    }
}

/// Releases the numbers `nrs[from..]` taken at `levels[from..]`.
pub(crate) fn release_numbers(levels: &[&PidNamespace], nrs: &[i32], from: usize) {
    for (ns, &nr) in levels.iter().zip(nrs).skip(from) {
        ns.pidmap.free(nr);
    }
}

/// The first step of `alloc_pid()`: a number at every level of `ns`
/// (`levels`, its [`PidNamespace::levels`]) into `nrs`, root first, taken
/// innermost first: `set_tid[0]` (if any) in `ns`, `set_tid[1]` in the
/// parent, and so on (clone3), the cyclic allocation at the others. On
/// error none is left taken; [`release_numbers`] gives them back.
pub(crate) fn alloc_numbers(
    ns: &PidNamespace,
    levels: &[&PidNamespace; NR_LEVELS],
    set_tid: &[i32],
    nrs: &mut [i32; NR_LEVELS],
) -> Result {
    let level = ns.level as usize;
    if set_tid.len() > level + 1 {
        return Err(EINVAL);
    }
    // 7.3 checks every set_tid entry before it takes any number.
    for (i, &tid) in set_tid.iter().enumerate() {
        if tid < 1 || tid >= levels[level - i].pid_max.load(Ordering::Relaxed) {
            return Err(EINVAL);
        }
    }
    ns.reset_cursor_if_unused();
    for i in (0..=level).rev() {
        let at = levels[i];
        let nr = match set_tid.get(level - i) {
            Some(&tid) => match at.pidmap.alloc_exact(tid) {
                Ok(true) => Ok(tid),
                Ok(false) => Err(EEXIST),
                Err(e) => Err(e),
            },
            None => at.alloc_cyclic(),
        };
        let nr = match nr {
            Ok(nr) => nr,
            Err(e) => {
                release_numbers(&levels[..=level], &nrs[..=level], i + 1);
                return Err(e);
            }
        };
        nrs[i] = nr;
        // The first pid of a namespace must be its init.
        if !at.has_reaper() && nr != 1 {
            release_numbers(&levels[..=level], &nrs[..=level], i);
            return Err(EINVAL);
        }
    }
    Ok(())
}

/// A pid made and not hashed yet: its numbers taken and its object written,
/// the first two steps of `alloc_pid()`. Nothing can find it. Dropped, it
/// gives its numbers back and its object goes a grace period later, as a
/// freed pid's does.
///
/// # Invariants
///
/// The pid's `hashed` is false and its `rcu` head was never queued; this
/// value owns a reference of its own and is the only handle that may hash
/// the pid or queue the head.
pub(crate) struct UnhashedPid(ManuallyDrop<ARef<Pid>>);

impl core::ops::Deref for UnhashedPid {
    type Target = Pid;

    fn deref(&self) -> &Pid {
        &self.0
    }
}

impl Drop for UnhashedPid {
    fn drop(&mut self) {
        // SAFETY: `self.0` is not used again.
        let pid = ARef::into_raw(unsafe { ManuallyDrop::take(&mut self.0) });
        // SAFETY: the reference handed over is this value's own, which
        // keeps the object alive; the head was never queued (type
        // invariant) and is queued once, here.
        unsafe { release_after_grace(pid.as_ref()) };
    }
}

/// The end of `free_pid()` and of an unhashed pid's drop: gives `pid`'s
/// numbers back, and drops a reference a grace period later.
///
/// # Safety
///
/// The caller hands over one reference on `pid`, and `pid`'s `rcu` head is
/// queued once: here, by no one else.
unsafe fn release_after_grace(pid: &Pid) {
    for upid in pid.numbers() {
        upid.ns().pidmap.free(upid.nr());
    }
    // SAFETY: the reference handed over keeps the pid alive until the
    // callback, which drops exactly that one; the head is queued once (the
    // caller's guarantee).
    unsafe { rcu::call_rcu(&pid.rcu, delayed_put_pid) };
}

/// The first two steps of `alloc_pid()`: the object, then its numbers
/// ([`alloc_numbers`]), written into it; not hashed.
pub(crate) fn alloc_unhashed(ns: &ARef<PidNamespace>, set_tid: &[i32]) -> Result<UnhashedPid> {
    let level = ns.level as usize;
    let cache = PID_CACHES[level].get()?;
    let mem = cache.alloc()?;
    let levels = ns.levels();
    let mut nrs = [0i32; NR_LEVELS];
    if let Err(e) = alloc_numbers(ns, &levels, set_tid, &mut nrs) {
        // SAFETY: `mem` is unused and came from `cache`.
        unsafe { cache.free(mem) };
        return Err(e);
    }
    let obj = mem.cast::<Pid>();
    // SAFETY: NUMBERS_OFFSET + (level + 1) upids is the size the cache was
    // made with; the pointer stays inside the object.
    let numbers = unsafe { mem.byte_add(NUMBERS_OFFSET).cast::<Upid>() };
    // The pid's reference on its most nested namespace, which
    // `dec_ref()` gives back.
    let _ = ARef::into_raw(ns.clone());
    // SAFETY: `mem` is a fresh object of the right size and alignment; the
    // header and every upid are written before the pid is used, upid `i`
    // in `levels[i]`, of level `i`; each upid's namespace is kept alive by
    // the reference just taken on `ns`. The ARef takes over the one
    // reference the count starts with.
    let pid = unsafe {
        obj.as_ptr().write(Pid {
            count: Refcount::new(1),
            level: level as u8,
            hashed: AtomicBool::new(false),
            tasks: TasklistLocked::new(TaskLists::new()),
            rcu: RcuHead::uninit(),
            numbers: [],
        });
        for (i, &nr) in nrs[..=level].iter().enumerate() {
            numbers.add(i).write(Upid {
                entry: HashEntry::new(nr, levels[i]),
            });
        }
        ARef::from_raw(obj)
    };
    // INVARIANT: not hashed, the head not queued; the reference is ours.
    Ok(UnhashedPid(ManuallyDrop::new(pid)))
}

impl UnhashedPid {
    /// The last step of `alloc_pid()`: every upid into the hash under
    /// `pidmap_lock`, or ENOMEM (and the pid released) if a level no longer
    /// takes pids.
    pub(crate) fn hash(self) -> Result<ARef<Pid>> {
        let level = self.level as usize;
        let guard = pidmap_env::lock();
        // ENOMEM, not a better errno: what userspace has always seen for a
        // namespace whose init is gone.
        if self.numbers().iter().any(|upid| !upid.ns().accepting()) {
            drop(guard);
            return Err(ENOMEM);
        }
        // Alive before it can be found: a lookup that meets one of its upids
        // in the hash must find it alive (the release stores of
        // `hash::insert` order this store before the upids become visible).
        // INVARIANT: hashed, and the hash owns a reference of its own.
        self.hashed.store(true, Ordering::Relaxed);
        self.inc_ref();
        let reaper = self.numbers()[level].nr() == 1;
        for (i, upid) in self.numbers().iter().enumerate().rev() {
            // SAFETY: not hashed yet; the hash's reference keeps the upid in
            // place until a grace period after `free_pid` unhashes it.
            unsafe { hash::insert(&upid.entry, &guard) };
            upid.ns().account_new(i == level, reaper, &guard);
        }
        drop(guard);
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is not dropped, so its reference is handed over
        // once, to the caller.
        Ok(unsafe { ManuallyDrop::take(&mut this.0) })
    }
}

/// `alloc_pid()`: a new pid in `ns`, with `set_tid[0]` (if any) as its
/// number in `ns`, `set_tid[1]` in the parent, and so on (clone3).
pub(crate) fn alloc_pid(ns: &ARef<PidNamespace>, set_tid: &[i32]) -> Result<ARef<Pid>> {
    alloc_unhashed(ns, set_tid)?.hash()
}

/// `free_pid()`: unhashes and releases every number of `pid`; the hash's
/// reference goes after a grace period. ESRCH if it was freed already.
/// Returns whether `pid` was its namespace's reaper (whose namespace then
/// takes no new pid and must be emptied: `zap_pid_ns_processes()`).
pub(crate) fn free_pid(pid: &Pid) -> Result<bool> {
    let reaper = pid.is_reaper();
    let level = pid.level as usize;
    {
        let guard = pidmap_env::lock();
        if !pid.hashed.swap(false, Ordering::Relaxed) {
            return Err(ESRCH);
        }
        for (i, upid) in pid.numbers().iter().enumerate() {
            // SAFETY: hashed by `alloc_pid` (`hashed` was still true), and
            // unhashed once: `hashed` went false under the same lock.
            unsafe { hash::remove(&upid.entry, &guard) };
            upid.ns().account_gone(i == level, reaper, &guard);
        }
    }
    // SAFETY: the pid was hashed until just now: the hash's reference is
    // handed over; `hashed` went false once, so the head is queued once.
    unsafe { release_after_grace(pid) };
    Ok(reaper)
}

/// `find_pid_ns()`: the pid numbered `nr` in `ns`, if hashed, valid for the
/// RCU read-side critical section `rcu` holds open.
pub(crate) fn find_pid_ns<'g>(
    nr: i32,
    ns: &PidNamespace,
    rcu: &'g kernel::sync::rcu::Guard,
) -> Option<&'g Pid> {
    hash::find(nr, ns, rcu).map(|e| Upid::from_entry(e).pid())
}

/// `find_pid_ns()` + `get_pid()`: a reference on the pid numbered `nr` in `ns`.
pub(crate) fn find_get_pid(nr: i32, ns: &PidNamespace) -> Option<ARef<Pid>> {
    let rcu = kernel::sync::rcu::read_lock();
    // A hashed pid, or one unhashed less than a grace period ago, still has
    // the hash's reference: taking another is safe.
    find_pid_ns(nr, ns, &rcu).map(ARef::from)
}

/// `find_ge_pid()` as 2.6.24 has it: the first pid numbered `nr` or above
/// in `ns` (`find_pid_ns()`, then `next_pidmap()` past numbers without a
/// hashed pid), valid for the RCU read-side critical section `rcu` holds.
pub(crate) fn find_ge_pid_rcu<'g>(
    nr: i32,
    ns: &PidNamespace,
    rcu: &'g kernel::sync::rcu::Guard,
) -> Option<&'g Pid> {
    let mut nr = nr.max(0);
    loop {
        if let Some(pid) = find_pid_ns(nr, ns, rcu) {
            return Some(pid);
        }
        nr = ns.pidmap.next(nr)?;
    }
}

/// [`find_ge_pid_rcu`] + `get_pid()`: a reference on the pid found.
pub(crate) fn find_ge_pid(nr: i32, ns: &PidNamespace) -> Option<ARef<Pid>> {
    let rcu = kernel::sync::rcu::read_lock();
    // As in `find_get_pid()`: the pid found still has the hash's reference.
    find_ge_pid_rcu(nr, ns, &rcu).map(ARef::from)
}

/// A shadow task: a pid link per type (`task->pids[type]`) and the node of
/// each that puts it on that pid's list (`task->pid_links[type]`).
///
/// # Invariants
///
/// Under [`TASKLIST_LOCK`]: the task is on the list of type `ty` of the
/// pid `pids[ty]` names, and on no list of that type if it names none.
#[pin_data]
struct Task {
    /// Its id in its table.
    id: u32,
    /// Its pid of each type, if linked.
    pids: TasklistLocked<[Option<ARef<Pid>>; PIDTYPE_MAX]>,
    #[pin]
    pid_link: ListLinks<0>,
    #[pin]
    pgid_link: ListLinks<1>,
    #[pin]
    sid_link: ListLinks<2>,
    #[pin]
    pid_track: AtomicTracker<0>,
    #[pin]
    pgid_track: AtomicTracker<1>,
    #[pin]
    sid_track: AtomicTracker<2>,
}

kernel::list::impl_list_arc_safe! {
    impl ListArcSafe<0> for Task { tracked_by pid_track: AtomicTracker<0>; }
    impl ListArcSafe<1> for Task { tracked_by pgid_track: AtomicTracker<1>; }
    impl ListArcSafe<2> for Task { tracked_by sid_track: AtomicTracker<2>; }
}

kernel::list::impl_list_item! {
    impl ListItem<0> for Task { using ListLinks { self.pid_link }; }
    impl ListItem<1> for Task { using ListLinks { self.pgid_link }; }
    impl ListItem<2> for Task { using ListLinks { self.sid_link }; }
}

impl Task {
    /// Task `id`, linked to no pid.
    fn new(id: u32) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                id,
                pids: TasklistLocked::new([None, None, None]),
                pid_link <- ListLinks::new(),
                pgid_link <- ListLinks::new(),
                sid_link <- ListLinks::new(),
                pid_track <- AtomicTracker::new(),
                pgid_track <- AtomicTracker::new(),
                sid_track <- AtomicTracker::new(),
            }),
            GFP_KERNEL,
        )
    }
}

/// Puts `task` first on `list`; EBUSY if it is on a list of that type
/// already (which the invariants of [`Task`] rule out).
fn link<const ID: u64>(list: &mut List<Task, ID>, task: &Arc<Task>) -> Result
where
    Task: ListItem<ID> + TryNewListArc<ID>,
{
    let arc = ListArc::try_from_arc(task.clone()).map_err(|_| EBUSY)?;
    list.push_front(arc);
    Ok(())
}

/// Takes `task` off `list`.
///
/// # Safety
///
/// `task` is on `list`, or on no list of its type.
unsafe fn unlink_from<const ID: u64>(list: &mut List<Task, ID>, task: &Task)
where
    Task: ListItem<ID>,
{
    // SAFETY: the caller's guarantee.
    drop(unsafe { list.remove(task) });
}

/// Puts `new` where `old` is on `list` (7.3's `hlist_replace_rcu()`: the
/// order of the others, and so `pid_task()`, unchanged).
fn replace<const ID: u64>(list: &mut List<Task, ID>, old: u32, new: &Arc<Task>) -> Result
where
    Task: ListItem<ID> + TryNewListArc<ID>,
{
    let arc = ListArc::try_from_arc(new.clone()).map_err(|_| EBUSY)?;
    let mut c = list.cursor_front();
    loop {
        match c.peek_next() {
            None => break,
            Some(t) if t.id == old => {
                drop(t.remove());
                break;
            }
            Some(_) => {}
        }
        c.move_next();
    }
    c.insert_next(arc);
    Ok(())
}

/// The shadow tasks of one universe, by the ids its user gives them; under
/// [`TASKLIST_LOCK`].
pub(crate) struct TaskTable {
    /// Tasks by id.
    tasks: RBTree<u32, Arc<Task>>,
    /// Entries of `tasks`.
    count: u32,
}

impl TaskTable {
    /// An empty table.
    pub(crate) fn new() -> Self {
        Self {
            tasks: RBTree::new(),
            count: 0,
        }
    }
}

/// Task `task`'s link of type `ty` cleared and the task taken off its pid's
/// list, the task forgotten if left with no link; the pid it had.
fn unlink(
    g: &mut TasklistGuard,
    table: &TasklistLocked<TaskTable>,
    task: u32,
    ty: usize,
) -> Option<ARef<Pid>> {
    let t = table.as_mut(g).tasks.get(&task)?.clone();
    let pid = t.pids.as_mut(g)[ty].take()?;
    // SAFETY: `t` named `pid` for type `ty`, so it is on that list of
    // `pid` (type invariant of `Task`).
    on_list!(pid.tasks.as_mut(g), ty, |l| unsafe { unlink_from(l, &t) });
    forget_if_unlinked(g, table, &t);
    Some(pid)
}

/// Task `t` of `table` forgotten if it has no link left.
fn forget_if_unlinked(g: &mut TasklistGuard, table: &TasklistLocked<TaskTable>, t: &Task) {
    if t.pids.as_ref(g).iter().all(Option::is_none) {
        let table = table.as_mut(g);
        if table.tasks.remove(&t.id).is_some() {
            table.count -= 1;
        }
    }
}

/// A pid type from the ABI; EINVAL if out of range.
fn pid_type(ty: u32) -> Result<usize> {
    let ty = ty as usize;
    if ty < PIDTYPE_MAX {
        Ok(ty)
    } else {
        Err(EINVAL)
    }
}

/// `attach_pid()`: task `task` of `table` (created if new, at most
/// `max_tasks` of them) takes `pid` as its pid of type `ty`. ESRCH if `pid`
/// was freed, EBUSY if the task has a pid of that type. Only a new task
/// allocates (its own object, as `fork()` allocates a `task_struct`); the
/// link itself does not.
pub(crate) fn attach_pid(
    g: &mut TasklistGuard,
    table: &TasklistLocked<TaskTable>,
    task: u32,
    ty: u32,
    pid: &ARef<Pid>,
    max_tasks: u32,
) -> Result {
    let ty = pid_type(ty)?;
    // Freed since it was found: its process is gone.
    if !pid.is_alive() {
        return Err(ESRCH);
    }
    let t = match table.as_mut(g).tasks.get(&task) {
        Some(t) => t.clone(),
        None => {
            if table.as_mut(g).count >= max_tasks {
                return Err(ENOSPC);
            }
            let fresh = Task::new(task)?;
            let tbl = table.as_mut(g);
            tbl.tasks
                .try_create_and_insert(task, fresh.clone(), GFP_KERNEL)?;
            tbl.count += 1;
            fresh
        }
    };
    if t.pids.as_ref(g)[ty].is_some() {
        return Err(EBUSY);
    }
    on_list!(pid.tasks.as_mut(g), ty, |l| link(l, &t))?;
    // INVARIANT: on the list of `pid` it now names.
    t.pids.as_mut(g)[ty] = Some(pid.clone());
    Ok(())
}

/// Unlinks every task of `pid` and frees it; returns whether it was its
/// namespace's reaper. ESRCH if it was freed already.
fn release(g: &mut TasklistGuard, table: &TasklistLocked<TaskTable>, pid: &Pid) -> Result<bool> {
    for ty in 0..PIDTYPE_MAX {
        while let Some(id) = pid.tasks.as_ref(g).first(ty) {
            unlink(g, table, id, ty);
        }
    }
    free_pid(pid)
}

/// `zap_pid_ns_processes()`: frees every pid that has a number in `ns`,
/// which already takes no new one (its reaper went); returns how many.
pub(crate) fn zap_ns(
    g: &mut TasklistGuard,
    table: &TasklistLocked<TaskTable>,
    ns: &PidNamespace,
) -> u32 {
    let mut freed = 0;
    let mut nr = 0;
    while let Some(pid) = find_ge_pid(nr, ns) {
        nr = pid.nr_ns(ns) + 1;
        // A nested reaper only disables its namespace here: every pid of
        // that namespace has a number in `ns` and is met by this walk.
        // One freed meanwhile (ESRCH) is simply gone already.
        if release(g, table, &pid).is_ok() {
            freed += 1;
        }
    }
    freed
}

/// The process of `pid` is gone: unlinks its tasks and frees it, and with a
/// reaper its whole namespace. Returns how many pids were freed; ESRCH if
/// `pid` was freed already.
pub(crate) fn kill(
    g: &mut TasklistGuard,
    table: &TasklistLocked<TaskTable>,
    pid: &Pid,
) -> Result<u32> {
    if release(g, table, pid)? {
        Ok(1 + zap_ns(g, table, pid.leaf()))
    } else {
        Ok(1)
    }
}

/// `detach_pid()`: task `task` drops its link of type `ty`; a pid left with
/// no task of any type is freed (as [`kill`]). Returns how many pids were
/// freed.
pub(crate) fn detach_pid(
    g: &mut TasklistGuard,
    table: &TasklistLocked<TaskTable>,
    task: u32,
    ty: u32,
) -> Result<u32> {
    let ty = pid_type(ty)?;
    let pid = unlink(g, table, task, ty).ok_or(ESRCH)?;
    if pid.tasks.as_ref(g).is_empty() && pid.is_alive() {
        return kill(g, table, &pid);
    }
    Ok(0)
}

/// `transfer_pid()`: task `new` takes over `old`'s link of type `ty`, in
/// its place on the pid's list.
pub(crate) fn transfer_pid(
    g: &mut TasklistGuard,
    table: &TasklistLocked<TaskTable>,
    old: u32,
    new: u32,
    ty: u32,
) -> Result {
    let ty = pid_type(ty)?;
    let tbl = table.as_mut(g);
    let n = tbl.tasks.get(&new).cloned().ok_or(ESRCH)?;
    if n.pids.as_ref(g)[ty].is_some() {
        return Err(EBUSY);
    }
    let o = table.as_mut(g).tasks.get(&old).cloned().ok_or(ESRCH)?;
    let pid = o.pids.as_ref(g)[ty].clone().ok_or(ESRCH)?;
    // `new` goes where `old` was, then `old`'s link is cleared (its
    // reference moving to `new`), the task forgotten if left with none.
    on_list!(pid.tasks.as_mut(g), ty, |l| replace(l, old, &n))?;
    // INVARIANT: `new` is on the list of the pid it now names; `old` on
    // none of that type, naming none.
    n.pids.as_mut(g)[ty] = o.pids.as_mut(g)[ty].take();
    forget_if_unlinked(g, table, &o);
    Ok(())
}

/// `pid_task()`: the task `pid` links first for type `ty`.
pub(crate) fn pid_task(g: &TasklistGuard, pid: &Pid, ty: u32) -> Result<u32> {
    let ty = pid_type(ty)?;
    pid.tasks.as_ref(g).first(ty).ok_or(ESRCH)
}

/// Tasks in `table`.
pub(crate) fn task_count(g: &TasklistGuard, table: &TasklistLocked<TaskTable>) -> u32 {
    table.as_ref(g).count
}

/// KUnit: `alloc_pid`, `free_pid`, set_tid and the zap, on namespaces of
/// their own.
#[kernel::prelude::kunit_tests(shadowpid_pid)]
mod tests {
    use super::*;

    /// A root with its init, and a child of it with its init.
    fn two_levels() -> (ARef<PidNamespace>, ARef<PidNamespace>, ARef<Pid>, ARef<Pid>) {
        let root = PidNamespace::create(None).unwrap();
        let root_init = alloc_pid(&root, &[]).unwrap();
        let child = PidNamespace::create(Some(&root)).unwrap();
        let child_init = alloc_pid(&child, &[]).unwrap();
        (root, child, root_init, child_init)
    }

    /// One number per level, root first; each found again through the hash.
    #[test]
    fn alloc_numbers_every_level() {
        let (root, child, root_init, child_init) = two_levels();
        assert_eq!(root_init.leaf_nr(), 1);
        let n = child_init.numbers();
        assert_eq!((n.len(), n[0].nr(), n[1].nr()), (2, 2, 1));
        let p = alloc_pid(&child, &[]).unwrap();
        assert_eq!((p.nr_ns(&root), p.nr_ns(&child)), (3, 2));
        assert!(find_get_pid(2, &child).is_some_and(|f| ptr::eq(&*f, &*p)));
        assert!(find_get_pid(3, &root).is_some_and(|f| ptr::eq(&*f, &*p)));
        assert_eq!((root.live(), child.live()), (3, 2));
        for pid in [&p, &child_init, &root_init] {
            free_pid(pid).unwrap();
        }
    }

    /// A namespace's first pid must be 1; a child needs its parent's init.
    #[test]
    fn init_comes_first() {
        let root = PidNamespace::create(None).unwrap();
        // No namespace under a parent with no init.
        assert_eq!(PidNamespace::create(Some(&root)).err(), Some(EINVAL));
        assert_eq!(alloc_pid(&root, &[5]).err(), Some(EINVAL));
        assert!(!root.pidmap.test(5));
        let init = alloc_pid(&root, &[]).unwrap();
        assert!(root.has_reaper());
        free_pid(&init).unwrap();
    }

    /// Freeing releases every number, once; a second free is ESRCH.
    #[test]
    fn free_releases_every_number_once() {
        let (root, child, root_init, child_init) = two_levels();
        let p = alloc_pid(&child, &[]).unwrap();
        assert_eq!(free_pid(&p), Ok(false));
        assert_eq!(free_pid(&p), Err(ESRCH));
        assert!(!root.pidmap.test(3) && !child.pidmap.test(2));
        assert!(find_get_pid(2, &child).is_none() && !p.is_alive());
        // The numbers are free for the next pid at the child's level, which
        // the cycle does not revisit before pid_max.
        let q = alloc_pid(&child, &[2]).unwrap();
        assert_eq!(q.nr_ns(&child), 2);
        for pid in [&q, &child_init, &root_init] {
            free_pid(pid).unwrap();
        }
    }

    /// set_tid: innermost first; taken is EEXIST, out of range EINVAL, and
    /// a failure takes no number anywhere.
    #[test]
    fn set_tid() {
        let (root, child, root_init, child_init) = two_levels();
        let p = alloc_pid(&child, &[40, 50]).unwrap();
        assert_eq!((p.nr_ns(&child), p.nr_ns(&root)), (40, 50));
        assert_eq!(alloc_pid(&child, &[41, 50]).err(), Some(EEXIST));
        assert!(!child.pidmap.test(41));
        assert_eq!(alloc_pid(&child, &[0]).err(), Some(EINVAL));
        assert_eq!(alloc_pid(&child, &[1 << 23]).err(), Some(EINVAL));
        assert_eq!(alloc_pid(&child, &[41, 51, 52]).err(), Some(EINVAL));
        for pid in [&p, &child_init, &root_init] {
            free_pid(pid).unwrap();
        }
    }

    /// A pid's tasks of a type, newest first as 7.3's hlist keeps them:
    /// `pid_task()` returns the last attached, a transfer takes its task's
    /// place, and the last detach frees the pid.
    #[test]
    fn task_lists_keep_7_3s_order() {
        let root = PidNamespace::create(None).unwrap();
        let init = alloc_pid(&root, &[]).unwrap();
        let p = alloc_pid(&root, &[]).unwrap();
        let mut table = TasklistLocked::new(TaskTable::new());
        // Asserted once the lock is dropped (see below).
        let got = {
            let mut g = TASKLIST_LOCK.lock();
            let mut got = [0i64; 9];
            for t in [1, 2, 3] {
                got[0] += i64::from(attach_pid(&mut g, &table, t, 1, &p, 10).is_ok());
            }
            got[1] = pid_task(&g, &p, 1).map_or(-1, i64::from);
            got[2] = i64::from(attach_pid(&mut g, &table, 2, 1, &p, 10) == Err(EBUSY));
            got[3] = i64::from(transfer_pid(&mut g, &table, 2, 4, 1) == Err(ESRCH));
            let _ = attach_pid(&mut g, &table, 4, 0, &init, 10);
            got[4] = i64::from(transfer_pid(&mut g, &table, 2, 4, 1).is_ok());
            got[5] = i64::from(detach_pid(&mut g, &table, 3, 1) == Ok(0));
            got[6] = pid_task(&g, &p, 1).map_or(-1, i64::from);
            let _ = detach_pid(&mut g, &table, 4, 1);
            got[7] = pid_task(&g, &p, 1).map_or(-1, i64::from);
            got[8] = detach_pid(&mut g, &table, 1, 1).map_or(-1, i64::from);
            // Task 4's last link: `init` goes, and the table is empty.
            got[0] += 10 * detach_pid(&mut g, &table, 4, 0).map_or(-1, i64::from);
            got
        };
        // Three attached, the newest first; a second link of a type is
        // EBUSY; a transfer to a task that does not exist is ESRCH; task 4
        // takes task 2's place (after 3, before 1); the last detach frees.
        assert_eq!(got, [13, 3, 1, 1, 1, 1, 4, 1, 1]);
        assert!(!p.is_alive() && !init.is_alive());
        assert_eq!(table.get_mut().count, 0);
    }

    /// The reaper going empties its namespace and the ones below, and the
    /// namespace takes no pid after (ENOMEM, as 7.3).
    #[test]
    fn zap_empties_the_namespace() {
        let (root, child, root_init, child_init) = two_levels();
        let grandchild = PidNamespace::create(Some(&child)).unwrap();
        let mut table = TasklistLocked::new(TaskTable::new());
        let mut held = KVec::new();
        held.push(alloc_pid(&child, &[]).unwrap(), GFP_KERNEL)
            .unwrap();
        held.push(alloc_pid(&grandchild, &[]).unwrap(), GFP_KERNEL)
            .unwrap();
        held.push(alloc_pid(&grandchild, &[]).unwrap(), GFP_KERNEL)
            .unwrap();
        // Asserted once the lock is dropped: a failed assert ends the
        // test's thread, and must not leave the global lock held.
        let (killed, tasks) = {
            let mut g = TASKLIST_LOCK.lock();
            let attached = attach_pid(&mut g, &table, 7, 0, &child_init, 10);
            let killed = attached.and_then(|()| kill(&mut g, &table, &child_init));
            (killed, task_count(&g, &table))
        };
        assert_eq!(killed, Ok(4));
        assert_eq!(tasks, 0);
        assert!(held.iter().all(|p| !p.is_alive()));
        assert!(!child.accepting() && !grandchild.accepting());
        assert_eq!((root.live(), child.live(), grandchild.live()), (1, 0, 0));
        assert_eq!(alloc_pid(&child, &[]).err(), Some(ENOMEM));
        assert_eq!(table.get_mut().count, 0);
        free_pid(&root_init).unwrap();
    }
}
