// SPDX-License-Identifier: GPL-2.0

//! The shadow of one kernel namespace, and where its memory comes from.
//!
//! A shadow's map is the very [`Pidmap`] the universes allocate with; its
//! pages come from [`PoolPages`], a pool the copy work keeps filled with
//! `GFP_KERNEL` pages, so that a handler (no sleeping, under the kernel's
//! `pidmap_lock`) never allocates: an empty pool is counted and sends the
//! namespace back to be copied. A whole shadow (its map and its event log)
//! is made ahead too: a [`Spare`].

use crate::{
    allocator::{pidmap::Pidmap, pidmap_env::PageAlloc},
    wrappers::page::ZeroedPage,
};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;

/// Events a copy can see happen before it is reconciled (4 KiB): more and
/// the copy starts again.
pub(super) const LOG_CAP: usize = 1024;
/// Pages the pool is refilled to.
pub(super) const POOL_TARGET: usize = 16;
/// Below this, a page taken queues a refill.
const POOL_LOW: usize = 8;
/// Spares the copy work keeps ready: namespaces the handlers can meet for
/// the first time before the work has run again (96 KiB).
pub(super) const SPARES: usize = 16;

kernel::sync::global_lock! {
    // SAFETY: `init()` runs in the module initializer, before the device
    // that leads to every use exists.
    /// The page pool. Taken under the mirror's lock (a handler's page) and
    /// alone (the refill): the innermost of the mirror's locks.
    pub(super) unsafe(uninit) static POOL: SpinLock<KVec<ZeroedPage>> = KVec::new();
}

/// Pages in the shadows' maps (the pool's are counted by its length).
static MAP_PAGES: AtomicU64 = AtomicU64::new(0);

/// Pages the mirror holds: its shadows' and its pool's.
pub(super) fn pages() -> u64 {
    MAP_PAGES.load(Ordering::Relaxed) + POOL.lock().len() as u64
}

/// Pages from the pool.
pub(super) struct PoolPages;

impl PageAlloc for PoolPages {
    /// Every shadow map is reached under the mirror's lock, or by the copy
    /// work alone before it is published: that keeps its installs apart,
    /// and no universe's `pidmap_lock` is taken under the mirror's.
    type Serialised = ();

    fn zeroed_page() -> Result<ZeroedPage> {
        let mut pool = POOL.lock();
        let page = pool.pop().ok_or(ENOMEM)?;
        if pool.len() < POOL_LOW {
            super::copy::kick();
        }
        Ok(page)
    }

    fn serialise() {}

    fn installed() {
        MAP_PAGES.fetch_add(1, Ordering::Relaxed);
    }

    fn released(pages: u32) {
        MAP_PAGES.fetch_sub(u64::from(pages), Ordering::Relaxed);
    }
}

/// A shadow's map.
pub(super) type Map = Pidmap<PoolPages>;

/// An empty map, built in its box (2 KiB: not on a stack); may sleep.
pub(super) fn new_map() -> Result<KBox<Map>> {
    let mut map = KBox::<Map>::new_uninit(GFP_KERNEL)?;
    Pidmap::new_in(&mut map);
    // SAFETY: `new_in()` initialised it.
    Ok(unsafe { map.assume_init() })
}

/// What a shadow is made of, made ahead where allocating may sleep.
pub(super) struct Spare {
    /// An empty map.
    pub(super) map: KBox<Map>,
    /// An empty log with room for [`LOG_CAP`] events.
    pub(super) log: KVec<i32>,
}

impl Spare {
    /// A new spare; may sleep.
    pub(super) fn new() -> Result<Self> {
        Ok(Self {
            map: new_map()?,
            log: KVec::with_capacity(LOG_CAP, GFP_KERNEL)?,
        })
    }
}

/// Where a shadow stands.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Its map holds exactly the numbers of its IDR: forks are compared.
    Tracked,
    /// Being copied: the copy work walks the IDR while the handlers log
    /// every number taken (`+nr`) and given back (`-nr`), to replay over the
    /// walk under `pidmap_lock`. `generation` tells a walk that was begun
    /// again from its successor; `overflow`, that the log ran out of room.
    Copying { generation: u32, overflow: bool },
}

/// The shadow of one kernel namespace.
pub(super) struct Shadow {
    /// The address of the namespace's IDR: its key.
    pub(super) idr: usize,
    /// Its inode number, read again at each copy.
    pub(super) inum: u32,
    /// Its level.
    pub(super) level: u32,
    /// The numbers the kernel's IDR holds (while tracked).
    pub(super) map: KBox<Map>,
    /// The events of the copy under way.
    pub(super) log: KVec<i32>,
    /// One past the number of its last cyclic allocation: the cursor the
    /// kernel's IDR should have now.
    pub(super) cursor: i32,
    pub(super) phase: Phase,
    /// To be copied again at its next allocation or removal (which hold
    /// `pidmap_lock`, so no allocation of it is half made then).
    pub(super) stale: bool,
    /// Its `ns_last_pid` was written since its last fork: a cursor that
    /// moved is explained.
    pub(super) jump_allowed: bool,
    /// Copies begun again since it was last tracked.
    pub(super) restarts: u32,
}

impl Shadow {
    /// A new shadow of the namespace of `idr`, from `spare`, to be copied.
    pub(super) fn new(idr: usize, inum: u32, level: u32, spare: Spare) -> Self {
        Self {
            idr,
            inum,
            level,
            map: spare.map,
            log: spare.log,
            cursor: 0,
            phase: Phase::Copying {
                generation: 0,
                overflow: false,
            },
            stale: false,
            jump_allowed: false,
            restarts: 0,
        }
    }

    /// Whether a copy is under way.
    pub(super) fn copying(&self) -> bool {
        matches!(self.phase, Phase::Copying { .. })
    }

    /// Whether the copy under way is the one of `generation`.
    pub(super) fn phase_is(&self, generation: u32) -> bool {
        matches!(self.phase, Phase::Copying { generation: g, .. } if g == generation)
    }

    /// Logs an event of the copy under way: `+nr` taken, `-nr` given back.
    /// An event of 0 (an allocation that took nothing) is not logged.
    pub(super) fn log(&mut self, event: i32) {
        if event == 0 {
            return;
        }
        if let Phase::Copying { overflow, .. } = &mut self.phase {
            if self.log.push_within_capacity(event).is_err() {
                *overflow = true;
            }
        }
    }

    /// Begins a copy (again, if one is under way), the log empty; whether
    /// it was tracked until now (the caller then takes the namespace's
    /// reference that a copy holds).
    pub(super) fn begin_copy(&mut self) -> bool {
        let (was_tracked, generation) = match self.phase {
            Phase::Tracked => (true, 0),
            Phase::Copying { generation, .. } => (false, generation.wrapping_add(1)),
        };
        self.phase = Phase::Copying {
            generation,
            overflow: false,
        };
        self.log.clear();
        self.stale = false;
        was_tracked
    }
}
