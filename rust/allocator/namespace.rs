// SPDX-License-Identifier: GPL-2.0

//! Shadow PID namespaces: nested up to 32 levels, refcounted, each with its
//! pidmap, `last_pid`, `pid_max`, child reaper state and pid accounting.

use super::{
    pidmap::{Pidmap, PID_MAX_LIMIT, RESERVED_PIDS},
    pidmap_env::PidmapGuard,
};
use crate::{
    uapi,
    wrappers::slab::{CacheName, CacheSlot},
};
use core::{
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering},
};
use kernel::{
    prelude::*,
    sync::{
        aref::{ARef, AlwaysRefCounted},
        Refcount,
    },
};

/// Deepest level below the root (`MAX_PID_NS_LEVEL`).
pub(crate) const MAX_LEVEL: u32 = uapi::SHADOWPID_MAX_LEVEL;
/// Levels a pid can have numbers at.
pub(crate) const NR_LEVELS: usize = uapi::SHADOWPID_NR_LEVELS as usize;
/// pid_max of a root namespace (`PID_MAX_DEFAULT`).
pub(crate) const PID_MAX_DEFAULT: i32 = uapi::SHADOWPID_PID_MAX_DEFAULT as i32;
/// Smallest pid_max a namespace accepts.
pub(crate) const PID_MAX_MIN: i32 = RESERVED_PIDS + 1;

/// Namespaces come from their own cache, as `pid_ns_cachep`.
pub(crate) static NS_CACHE: CacheSlot = CacheSlot::new(
    CacheName::new("shadowpid_pid_namespace"),
    size_of::<PidNamespace>(),
    align_of::<PidNamespace>(),
);

/// One shadow PID namespace.
///
/// # Invariants
///
/// Allocated from [`NS_CACHE`], freed when `refcount` drops to zero. Every
/// pid with a number here holds a reference on its most nested namespace,
/// which holds one on its parent: a namespace outlives its pids.
pub(crate) struct PidNamespace {
    /// References: the universe's name, child namespaces, pids.
    refcount: Refcount,
    /// 0 for a universe's root.
    pub(crate) level: u32,
    /// None for a root.
    parent: Option<ARef<PidNamespace>>,
    /// Which numbers are taken.
    pub(crate) pidmap: Pidmap,
    /// As `/proc/sys/kernel/ns_last_pid`: cyclic allocation resumes after it.
    pub(crate) last_pid: AtomicI32,
    /// Numbers at this level stay below it.
    pub(crate) pid_max: AtomicI32,
    /// Pids with a number here (`pid_allocated`); under [`PIDMAP_LOCK`](super::pidmap_env::PIDMAP_LOCK).
    live: AtomicU32,
    /// Pids whose most nested number is here; under [`PIDMAP_LOCK`](super::pidmap_env::PIDMAP_LOCK).
    leaf_pids: AtomicU32,
    /// Takes new pids (`PIDNS_ADDING`); cleared when the reaper goes. Under [`PIDMAP_LOCK`](super::pidmap_env::PIDMAP_LOCK).
    adding: AtomicBool,
    /// Has had its pid 1 (`child_reaper` set); under [`PIDMAP_LOCK`](super::pidmap_env::PIDMAP_LOCK).
    has_reaper: AtomicBool,
}

// SAFETY: the fields that change are atomics or changed under PIDMAP_LOCK;
// the rest is set before the namespace is shared.
unsafe impl Send for PidNamespace {}
// SAFETY: as above.
unsafe impl Sync for PidNamespace {}

// SAFETY: the refcount keeps the object alive; `dec_ref` frees it exactly
// once, when the count drops to zero.
unsafe impl AlwaysRefCounted for PidNamespace {
    fn inc_ref(&self) {
        self.refcount.inc();
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller owns a reference, so `obj` is alive.
        if unsafe { obj.as_ref() }.refcount.dec_and_test() {
            // SAFETY: the last reference is gone: nothing else can reach the
            // object. It was allocated from NS_CACHE (type invariant).
            unsafe {
                ptr::drop_in_place(obj.as_ptr());
                NS_CACHE.free(obj.cast());
            }
        }
    }
}

impl PidNamespace {
    /// `create_pid_namespace()`: a child of `parent`, or a universe's root.
    ///
    /// EINVAL under a parent that never had its init: 7.3 creates a
    /// namespace only for a process whose active namespace is the parent
    /// (`copy_pid_ns()`), and a namespace has processes only once its init
    /// came first.
    pub(crate) fn create(parent: Option<&ARef<PidNamespace>>) -> Result<ARef<Self>> {
        let level = parent.map_or(0, |p| p.level + 1);
        if level > MAX_LEVEL {
            return Err(ENOSPC);
        }
        if parent.is_some_and(|p| !p.has_reaper()) {
            return Err(EINVAL);
        }
        let cache = NS_CACHE.get()?;
        let mem = cache.alloc()?.cast::<Self>();
        let ns = Self {
            refcount: Refcount::new(1),
            level,
            parent: parent.cloned(),
            pidmap: Pidmap::new(),
            last_pid: AtomicI32::new(0),
            // 7.3: a root starts at PID_MAX_DEFAULT, a child at the limit.
            pid_max: AtomicI32::new(if level == 0 {
                PID_MAX_DEFAULT
            } else {
                PID_MAX_LIMIT
            }),
            live: AtomicU32::new(0),
            leaf_pids: AtomicU32::new(0),
            adding: AtomicBool::new(true),
            has_reaper: AtomicBool::new(false),
        };
        // SAFETY: `mem` is a fresh object of the cache, sized and aligned
        // for `Self`; writing it makes it a valid namespace with one
        // reference, which the ARef takes over.
        let ns = unsafe {
            mem.as_ptr().write(ns);
            ARef::from_raw(mem)
        };
        ns.pidmap.reserve_zero()?;
        Ok(ns)
    }

    /// This namespace and its ancestors, indexed by level (entries past
    /// `self.level` repeat `self`).
    pub(crate) fn levels(&self) -> [&PidNamespace; NR_LEVELS] {
        let mut levels = [self; NR_LEVELS];
        let mut cur = self;
        while let Some(parent) = cur.parent.as_deref() {
            levels[parent.level as usize] = parent;
            cur = parent;
        }
        levels
    }

    /// `set_last_pid` (`ns_last_pid`): `0 ..= pid_max`, else EINVAL.
    pub(crate) fn set_last_pid(&self, n: i64) -> Result {
        if n < 0 || n > i64::from(self.pid_max.load(Ordering::Relaxed)) {
            return Err(EINVAL);
        }
        self.last_pid.store(n as i32, Ordering::Relaxed);
        Ok(())
    }

    /// `pid_max` of this namespace: `301 ..= 4194304`, else EINVAL.
    pub(crate) fn set_pid_max(&self, n: i64) -> Result {
        if n < i64::from(PID_MAX_MIN) || n > i64::from(PID_MAX_LIMIT) {
            return Err(EINVAL);
        }
        self.pid_max.store(n as i32, Ordering::Relaxed);
        Ok(())
    }

    /// Takes new pids.
    pub(crate) fn accepting(&self) -> bool {
        self.adding.load(Ordering::Relaxed)
    }

    /// Has had its pid 1.
    pub(crate) fn has_reaper(&self) -> bool {
        self.has_reaper.load(Ordering::Relaxed)
    }

    /// Pids with a number here.
    pub(crate) fn live(&self) -> u32 {
        self.live.load(Ordering::Relaxed)
    }

    /// Pids whose most nested number is here.
    pub(crate) fn leaf_pids(&self) -> u32 {
        self.leaf_pids.load(Ordering::Relaxed)
    }

    /// `disable_pid_allocation()`.
    pub(crate) fn disable_allocation(&self, _pidmap_lock: &PidmapGuard) {
        self.adding.store(false, Ordering::Relaxed);
    }

    /// A first allocation in a namespace with no pid yet starts from 1
    /// whatever `last_pid` says (7.3 resets the IDR cursor then).
    ///
    /// Unlocked: the allocation that follows is lockless anyway (2.6.24), so
    /// taking `pidmap_lock` here would make nothing atomic, only cost.
    pub(crate) fn reset_cursor_if_unused(&self) {
        if self.live() == 0 && self.accepting() {
            self.last_pid.store(0, Ordering::Relaxed);
        }
    }

    /// Accounts a pid that now has a number here; `leaf` if its most nested
    /// one, `reaper` if that number is 1.
    pub(crate) fn account_new(&self, leaf: bool, reaper: bool, _pidmap_lock: &PidmapGuard) {
        self.live.fetch_add(1, Ordering::Relaxed);
        if leaf {
            self.leaf_pids.fetch_add(1, Ordering::Relaxed);
            if reaper {
                self.has_reaper.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Accounts a pid gone; `leaf` and `reaper` as for [`Self::account_new`].
    ///
    /// The reaper going disables the namespace (`zap_pid_ns_processes()`).
    /// The count falling to 0 otherwise does not: 7.3's `free_pid()` takes
    /// that for a failed first fork (`case PIDNS_ADDING`) and leaves the
    /// namespace taking pids, its next allocation starting from 1 again
    /// ([`Self::reset_cursor_if_unused`]).
    pub(crate) fn account_gone(&self, leaf: bool, reaper: bool, lock: &PidmapGuard) {
        self.live.fetch_sub(1, Ordering::Relaxed);
        if leaf {
            self.leaf_pids.fetch_sub(1, Ordering::Relaxed);
            if reaper {
                self.disable_allocation(lock);
            }
        }
    }

    /// The next number of the cyclic allocator (alloc_pidmap() under 7.3's
    /// wrap rule, see [`Pidmap::alloc_cyclic`]), from `last_pid + 1`;
    /// EAGAIN once a full cycle found nothing.
    pub(crate) fn alloc_cyclic(&self) -> Result<i32> {
        let cursor = self.last_pid.load(Ordering::Relaxed) + 1;
        let pid_max = self.pid_max.load(Ordering::Relaxed);
        let nr = self.pidmap.alloc_cyclic(cursor, pid_max)?.ok_or(EAGAIN)?;
        self.last_pid.store(nr, Ordering::Relaxed);
        Ok(nr)
    }
}

/// KUnit: 7.3's rules for a namespace's life.
#[kernel::prelude::kunit_tests(shadowpid_namespace)]
mod tests {
    use super::*;
    use crate::allocator::pidmap_env;

    /// A count that falls back to 0 without the reaper going (7.3's first
    /// fork that failed, `case PIDNS_ADDING`) leaves the namespace taking
    /// pids; the reaper going does not.
    #[test]
    fn only_the_reaper_disables() {
        let ns = PidNamespace::create(None).unwrap();
        {
            let g = pidmap_env::lock();
            ns.account_new(false, false, &g);
            ns.account_gone(false, false, &g);
        }
        assert_eq!(ns.live(), 0);
        assert!(ns.accepting());
        {
            let g = pidmap_env::lock();
            ns.account_new(true, true, &g);
            ns.account_gone(true, true, &g);
        }
        assert!(!ns.accepting());
    }

    /// No namespace under a parent that never had its init (EINVAL, as
    /// 7.3's `copy_pid_ns()` for a parent no process is active in).
    #[test]
    fn no_child_before_the_init() {
        let root = PidNamespace::create(None).unwrap();
        assert_eq!(PidNamespace::create(Some(&root)).err(), Some(EINVAL));
        {
            let g = pidmap_env::lock();
            root.account_new(true, true, &g);
        }
        let child = PidNamespace::create(Some(&root)).unwrap();
        assert_eq!(child.level, 1);
        assert_eq!(child.pid_max.load(Ordering::Relaxed), PID_MAX_LIMIT);
    }
}
