// SPDX-License-Identifier: GPL-2.0

//! The live mirror: the 2.6.24 allocator follows every pid number the
//! running kernel hands out or takes back, and says, for every fork, whether
//! it would have handed out the same number.
//!
//! Hooks ([`probes`]) on the IDR calls of kernel/pid.c deliver each event
//! under the kernel's `pidmap_lock`, so in the kernel's own order, on any
//! number of CPUs. Each namespace the kernel uses gets a [`shadow`]: a
//! [`Pidmap`](crate::allocator::pidmap::Pidmap) (the very code the universes
//! allocate with) holding exactly the numbers the kernel's IDR holds, and its
//! own cursor. For a fork, the shadow is asked which number it would take
//! from its own cursor (one past the last number it took) and the
//! namespace's pid_max (7.3's wrap rule); the number and the cursor are
//! compared with the kernel's. The kernel's cursor may move without an
//! allocation in two ways only, both seen where they happen: an
//! `ns_last_pid` write (a hook on its handler) and `alloc_pid()`'s reset
//! before a namespace's first pid (read under the kernel's lock); any other
//! difference is a divergence. A set_tid allocation is recorded (2.6.24 has
//! no set_tid); a free clears the bit.
//!
//! The mirror is armed only once every hook is registered and disarmed
//! before any is removed, so no event of an armed mirror goes unseen but
//! those the kernel's kretprobes miss; a miss (their `nmissed` grew) sends
//! every shadow to be copied again, so a lost event is reported as missed,
//! never as a divergence.
//!
//! A handler does bounded work and never allocates: a namespace met for the
//! first time, or out of step, is copied by the work item of [`copy`]
//! (which says why the copy is exact) while its handlers log its events;
//! shadows, pages and room are made ahead by the same work. A namespace
//! that cannot be given a shadow is *untracked*: named in the report, never
//! retried, and `mirror run` fails. A shadow goes when its namespace is
//! destroyed (`idr_destroy()`), freed once the mirror's lock is released.
//!
//! Locks, outermost first: the kernel's `pidmap_lock` (held by the kernel
//! around the allocation and removal events, and by the copy work around a
//! copy's end), [`MIRROR`], then the page pool's. None is taken from an
//! interrupt: no interrupt path reaches a probed call from the callers the
//! hooks keep (probes.c checks it at every event), so none disables
//! interrupts; lockdep checks the order in the debug pass. PREEMPT_RT,
//! where a `spinlock_t` sleeps, is refused at ATTACH.

mod copy;
mod probes;
mod shadow;

use crate::{uapi, wrappers::cred};
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::{prelude::*, sync::GlobalGuard, transmute::AsBytes, uaccess::UserSlice};
use probes::{AllocEvent, Handlers, Kind, Probes};
use shadow::{Phase, Shadow, Spare, POOL, POOL_TARGET, SPARES};

/// Levels of pid namespaces, the initial one's included.
const LEVELS: usize = uapi::SHADOWPID_NR_LEVELS as usize;

/// A namespace as the report names it, with its ancestors (by level), to
/// show a caller only what lies at or below its own namespace.
#[derive(Clone, Copy)]
struct Named {
    /// Ids (`ns_id`: inode numbers are reused) of the namespace's
    /// ancestors and its own, by level.
    ancestry: [u64; LEVELS],
    level: u32,
}

impl Named {
    /// The namespace of `idr`.
    ///
    /// # Safety
    ///
    /// The namespace is alive.
    unsafe fn of(idr: usize, level: u32) -> Self {
        let mut ancestry = [0; LEVELS];
        // SAFETY: alive (the caller's guarantee); room for every level.
        unsafe { probes::pidns_ancestors(idr, &mut ancestry) };
        Self { ancestry, level }
    }

    /// Its level seen from the namespace `ns`, if it lies at or below it.
    fn seen_from(&self, ns: &probes::PidnsInfo) -> Option<u32> {
        (ns.level <= self.level && self.ancestry[ns.level as usize] == ns.id)
            .then(|| self.level - ns.level)
    }
}

/// The report's counters.
struct Counters {
    /// Events by `enum shadowpid_mirror_event`.
    events: [u64; uapi::SHADOWPID_MIRROR_EV_KINDS as usize],
    /// Shadows made.
    ns_mirrored: u64,
    /// Forks compared.
    compared: u64,
    /// ... that agreed.
    matched: u64,
    /// ... that did not.
    diverged: u64,
    /// set_tid allocations.
    forced: u64,
    /// Cursors moved between allocations.
    cursor_jumps: u64,
    /// Shadows sent to be copied again.
    resyncs: u64,
    /// Pages the pool did not have.
    atomic_failures: u64,
    /// Allocations not compared.
    skipped: u64,
    /// Forks whose cursor differed, unexplained.
    cursor_diverged: u64,
    /// Times a missed event sent every shadow to be copied again.
    missed_resyncs: u64,
    /// Forks no hook explained, put down to an `ns_last_pid` write missed.
    missed_write_forks: u64,
    /// Namespaces untracked.
    ns_untracked: u64,
    /// Copies completed.
    copies: u64,
    /// Copies begun again.
    copy_restarts: u64,
    /// Allocations of the work item that failed.
    refill_failures: u64,
}

impl Counters {
    /// All zero: before the first attach, and at each attach.
    const ZERO: Self = Self {
        events: [0; uapi::SHADOWPID_MIRROR_EV_KINDS as usize],
        ns_mirrored: 0,
        compared: 0,
        matched: 0,
        diverged: 0,
        forced: 0,
        cursor_jumps: 0,
        resyncs: 0,
        atomic_failures: 0,
        skipped: 0,
        cursor_diverged: 0,
        missed_resyncs: 0,
        missed_write_forks: 0,
        ns_untracked: 0,
        copies: 0,
        copy_restarts: 0,
        refill_failures: 0,
    };
}

/// A divergence as kept: the report's entry and where its namespace lies.
#[derive(Clone, Copy)]
struct Divergence {
    entry: uapi::shadowpid_mirror_divergence,
    ns: Named,
}

/// A namespace the mirror could not track.
struct Untracked {
    /// Its IDR's address: its events are skipped, never retried.
    idr: usize,
    ns: Named,
    inum: u32,
}

/// Untracked namespaces remembered (their events skipped without a look at
/// the spares); beyond, they are counted and tried again at each event.
const UNTRACKED_CAP: usize = 64;
/// Shadows' room made at attach.
const SHADOWS_AT_ATTACH: usize = 64;

/// Everything the handlers share.
pub(super) struct State {
    /// Handlers act only while set (between attach and detach).
    active: bool,
    /// The shadows, by IDR address.
    shadows: KVec<Shadow>,
    /// Shadows made ahead for namespaces met for the first time.
    spares: KVec<Spare>,
    untracked: KVec<Untracked>,
    counters: Counters,
    log: KVec<Divergence>,
    /// PERTURB: the namespace whose next fork the shadow takes ahead, and
    /// whether its cursor (PERTURB_CURSOR) or a number.
    perturb: Option<(u32, Perturb)>,
    /// Missed counts of the last attachment's hooks, kept past detach.
    missed: [u64; probes::HOOKS],
    /// Calls of the last attachment whose caller could not be read.
    unattributed: u64,
    /// The hooks' missed counts at the last event.
    missed_seen: [u64; probes::HOOKS],
    /// `ns_last_pid` writes the hooks missed whose cursor move no fork has
    /// been put down to yet.
    unseen_writes: u64,
    /// Holds of `pidmap_lock` of the last attachment, kept past detach.
    hold: probes::Holds,
}

/// What a PERTURB does to the shadow at the namespace's next fork.
#[derive(Clone, Copy)]
enum Perturb {
    /// Takes the number it would hand out.
    Number,
    /// Moves its cursor one on.
    Cursor,
}

/// A shadow the handlers no longer use, to be freed once the mirror's lock
/// is released (its map is up to 128 pages).
type Gone = Option<Shadow>;

impl State {
    /// No shadow, zero counts.
    const fn new() -> Self {
        Self {
            active: false,
            shadows: KVec::new(),
            spares: KVec::new(),
            untracked: KVec::new(),
            counters: Counters::ZERO,
            log: KVec::new(),
            perturb: None,
            missed: [0; probes::HOOKS],
            unattributed: 0,
            missed_seen: [0; probes::HOOKS],
            unseen_writes: 0,
            hold: probes::Holds::ZERO,
        }
    }

    /// If the hooks missed an event since the last one, every shadow is
    /// copied again at its next event: the lost one may have been its. A
    /// missed allocation or removal has happened by then (both run under
    /// `pidmap_lock`, as this does); a missed `ns_last_pid` write may land
    /// later still (it takes no lock, and its writer may be preempted
    /// before it stores), after the copy: each may explain one cursor move
    /// no hook saw, later.
    fn note_missed(&mut self) {
        let missed = probes::missed();
        if missed != self.missed_seen {
            let cursor = probes::CURSOR_HOOK;
            self.unseen_writes += missed[cursor].wrapping_sub(self.missed_seen[cursor]);
            self.missed_seen = missed;
            self.counters.missed_resyncs += 1;
            for shadow in self.shadows.iter_mut() {
                shadow.stale = true;
            }
        }
    }

    /// The index of the shadow of `idr`, or where it would go.
    fn find(&self, idr: usize) -> core::result::Result<usize, usize> {
        self.shadows.binary_search_by_key(&idr, |s| s.idr)
    }

    /// Whether the namespace of `idr` is untracked.
    fn is_untracked(&self, idr: usize) -> bool {
        self.untracked.iter().any(|u| u.idr == idr)
    }

    /// Names the namespace of `idr` untracked.
    ///
    /// # Safety
    ///
    /// The namespace is alive.
    unsafe fn note_untracked(&mut self, idr: usize, inum: u32, level: u32) {
        self.counters.ns_untracked += 1;
        let u = Untracked {
            idr,
            // SAFETY: alive (the caller's guarantee).
            ns: unsafe { Named::of(idr, level) },
            inum,
        };
        // Room reserved at attach; beyond it, counted only.
        let _ = self.untracked.push_within_capacity(u);
    }

    /// Removes the shadow at `i` and names its namespace untracked (alive:
    /// a copy under way holds a reference); the caller frees the shadow once
    /// the lock is released, and gives back the copy's reference.
    fn untrack(&mut self, i: usize) -> Gone {
        let sh = self.shadows.remove(i).ok()?;
        // SAFETY: the shadow's copy holds a reference on the namespace.
        unsafe { self.note_untracked(sh.idr, sh.inum, sh.level) };
        Some(sh)
    }

    /// The index of the shadow of `idr`, in an allocation's or removal's
    /// handler (`pidmap_lock` held, the namespace alive), its event `event`
    /// logged if a copy is under way or begun now: a shadow is made (from a
    /// spare) for a namespace met for the first time, and a stale one is
    /// copied again. A namespace met at its first allocation (`empty`: it
    /// has no pid, and no other allocation of it is under way) holds no
    /// number: its shadow is tracked at once, empty. `None` if the
    /// namespace is untracked.
    fn shadow(&mut self, idr: usize, event: i32, empty: bool) -> Option<usize> {
        self.note_missed();
        let i = match self.find(idr) {
            Ok(i) => i,
            Err(at) => {
                if self.is_untracked(idr) {
                    return None;
                }
                // SAFETY: the namespace is alive: this is one of its events.
                let info = unsafe { probes::pidns_of_idr(idr) };
                let room = self.shadows.len() < self.shadows.capacity();
                let Some(spare) = room.then(|| self.spares.pop()).flatten() else {
                    // SAFETY: as above.
                    unsafe { self.note_untracked(idr, info.inum, info.level) };
                    return None;
                };
                let mut shadow = Shadow::new(idr, info.inum, info.level, spare);
                if empty {
                    shadow.phase = Phase::Tracked;
                } else {
                    // SAFETY: as above; the copy holds this reference.
                    unsafe { probes::pidns_get(idr) };
                }
                // A copy to make, or a spare to replace.
                copy::kick();
                // Room was checked just above.
                let _ = self.shadows.insert_within_capacity(at, shadow);
                self.counters.ns_mirrored += 1;
                self.shadows[at].log(event);
                return Some(at);
            }
        };
        let shadow = &mut self.shadows[i];
        if shadow.stale {
            self.resync(i);
        }
        self.shadows[i].log(event);
        Some(i)
    }

    /// Sends the shadow at `i` to be copied (again); in a handler of an
    /// allocation or removal of its namespace (alive, `pidmap_lock` held).
    fn resync(&mut self, i: usize) {
        self.counters.resyncs += 1;
        if self.shadows[i].begin_copy() {
            // SAFETY: the namespace is alive (the caller's guarantee); the
            // copy holds this reference.
            unsafe { probes::pidns_get(self.shadows[i].idr) };
        }
        copy::kick();
    }

    /// Records a divergence of the shadow at `i` in the log, if there is
    /// room; the namespace is alive.
    fn record(&mut self, i: usize, entry: uapi::shadowpid_mirror_divergence) {
        if self.log.len() < uapi::SHADOWPID_MIRROR_LOG as usize {
            let sh = &self.shadows[i];
            let d = Divergence {
                entry,
                // SAFETY: alive (the caller's guarantee).
                ns: unsafe { Named::of(sh.idr, sh.level) },
            };
            // Reserved at attach: never allocates here.
            let _ = self.log.push_within_capacity(d);
        }
    }
}

kernel::sync::global_lock! {
    // SAFETY: `init()` runs in the module initializer, before the device
    // that leads to every use exists.
    /// The mirror's state. Taken in the return handlers of the hooks (task
    /// context, under the kernel's pidmap_lock for allocations and
    /// removals), by the copy work (under pidmap_lock to end a copy) and by
    /// the ioctls; never from an interrupt (the module's doc), and no hook
    /// fires while it is held (nothing done under it allocates or frees a
    /// pid or destroys an IDR). Everything done under it is bounded: no
    /// walk over pids, no allocation, no page freed.
    pub(super) unsafe(uninit) static MIRROR: SpinLock<State> = State::new();
}

kernel::sync::global_lock! {
    // SAFETY: as above.
    /// Attaching and detaching (they register and unregister probes, which
    /// sleeps): the file attached, and its hooks.
    unsafe(uninit) static ATTACHED: Mutex<Option<(usize, Probes)>> = None;
}

/// Sets up the mirror's locks and its work item.
///
/// # Safety
///
/// Called once, from the module initializer, before any other use.
pub(crate) unsafe fn init() {
    // SAFETY: once, before any use (the caller's guarantee).
    unsafe {
        MIRROR.init();
        ATTACHED.init();
        POOL.init();
        copy::init();
    }
}

/// The mirror's handlers.
struct Mirror;

impl Mirror {
    /// The state, if the mirror is active.
    fn active() -> Option<GlobalGuard<MIRROR>> {
        let g = MIRROR.lock();
        g.active.then_some(g)
    }
}

impl Handlers for Mirror {
    fn alloc_done(kind: Kind, ev: &AllocEvent, ret: i32) {
        let Some(mut s) = Self::active() else {
            return;
        };
        let st = &mut *s;
        let ev_kind = match kind {
            Kind::Cyclic => uapi::SHADOWPID_MIRROR_EV_CYCLIC,
            Kind::Fixed => uapi::SHADOWPID_MIRROR_EV_SET_TID,
        };
        st.counters.events[ev_kind as usize] += 1;
        if kind == Kind::Fixed && ret >= 0 {
            st.counters.forced += 1;
        }
        // The kernel retries after preloading, or found no number: this
        // attempt took nothing.
        let event = if ret > 0 { ret } else { 0 };
        let Some(i) = st.shadow(ev.idr as usize, event, ev.adding != 0) else {
            st.counters.skipped += u64::from(kind == Kind::Cyclic);
            return;
        };
        if st.shadows[i].copying() {
            st.counters.skipped += u64::from(kind == Kind::Cyclic);
            return;
        }
        let shadow = &mut st.shadows[i];
        if ret == ENOMEM.to_errno() {
            st.counters.skipped += 1;
            return;
        }
        if kind == Kind::Fixed {
            let taken = if ret >= 0 {
                shadow.map.alloc_exact(ret)
            } else {
                Ok(true)
            };
            if !matches!(taken, Ok(true)) {
                // Taken already (out of step), or no page in the pool.
                st.counters.atomic_failures += u64::from(taken.is_err());
                st.resync(i);
                st.shadows[i].log(ret);
            }
            return;
        }
        // The cursor the kernel's should be: alloc_pid() resets a
        // namespace's cursor to 0 before its first pid; otherwise one past
        // the last number the shadow took.
        let mut expected = if ev.adding != 0 { 0 } else { shadow.cursor };
        let perturb = st.perturb.filter(|(inum, _)| *inum == shadow.inum);
        if let Some((_, Perturb::Cursor)) = perturb {
            // The detector's own test: as if the kernel's had moved.
            expected += 1;
            st.perturb = None;
        }
        // An ns_last_pid write of this namespace returned since its last
        // fork, or one (of any namespace) is under way.
        let writing = probes::cursor_writers();
        let explained = core::mem::take(&mut shadow.jump_allowed) || writing;
        let cursor_ok = ev.cursor == expected || explained;
        if ev.cursor != expected && explained {
            st.counters.cursor_jumps += 1;
        }
        // Where the shadow scans from: its own cursor, or the kernel's
        // where the move is explained.
        let from = if cursor_ok { ev.cursor } else { expected };
        if let Some((_, Perturb::Number)) = perturb {
            // The detector's own test: take the number ahead.
            let _ = shadow.map.alloc_cyclic(from, ev.end);
            st.perturb = None;
        }
        let Ok(predicted) = shadow.map.alloc_cyclic(from, ev.end) else {
            // No page in the pool for the scan: copied again.
            st.counters.atomic_failures += 1;
            st.counters.skipped += 1;
            st.resync(i);
            st.shadows[i].log(event);
            return;
        };
        let kernel = (ret >= 0).then_some(ret);
        shadow.cursor = kernel.map_or(ev.cursor, |nr| nr + 1);
        if predicted != kernel && writing {
            // The write (which takes no lock) may have moved the cursor
            // between the entry's read and the IDR's: not compared.
            st.counters.skipped += 1;
            st.resync(i);
            st.shadows[i].log(event);
            return;
        }
        if (predicted != kernel || !cursor_ok) && st.unseen_writes > 0 {
            // A write no hook saw may have moved the cursor (before this
            // fork, or between the entry's read and the IDR's): put down
            // to it, once a missed write, not compared.
            st.unseen_writes -= 1;
            st.counters.missed_write_forks += 1;
            st.resync(i);
            st.shadows[i].log(event);
            return;
        }
        st.counters.compared += 1;
        if predicted == kernel && cursor_ok {
            st.counters.matched += 1;
            return;
        }
        st.counters.diverged += 1;
        if !cursor_ok {
            st.counters.cursor_diverged += 1;
        }
        let d = uapi::shadowpid_mirror_divergence {
            ns_inum: shadow.inum,
            level: shadow.level,
            cursor: ev.cursor,
            shadow_nr: predicted.unwrap_or(-1),
            kernel_nr: ret,
            shadow_cursor: expected,
        };
        st.record(i, d);
        // The kernel's state is the truth: the shadow is copied from it,
        // this fork's number logged for the replay.
        st.resync(i);
        st.shadows[i].log(event);
    }

    fn removed(idr: usize, nr: i32) {
        let Some(mut s) = Self::active() else {
            return;
        };
        s.counters.events[uapi::SHADOWPID_MIRROR_EV_FREE as usize] += 1;
        let Some(i) = s.shadow(idr, -nr, false) else {
            return;
        };
        let shadow = &mut s.shadows[i];
        if shadow.copying() {
            return;
        }
        if shadow.map.test(nr) {
            shadow.map.free(nr);
        } else {
            // Freed but never taken, as far as the shadow knew.
            s.resync(i);
            s.shadows[i].log(-nr);
        }
    }

    fn destroyed(idr: usize) {
        let gone: Gone = {
            let Some(mut s) = Self::active() else {
                return;
            };
            s.untracked.retain(|u| u.idr != idr);
            // A pid namespace's IDR: its shadow goes with it, and a new
            // namespace at the same address will start afresh. (None is
            // being copied: a copy holds a reference on its namespace.)
            match s.find(idr) {
                Ok(i) => {
                    s.counters.events[uapi::SHADOWPID_MIRROR_EV_NS_GONE as usize] += 1;
                    s.shadows.remove(i).ok()
                }
                Err(_) => None,
            }
        };
        drop(gone);
    }

    fn cursor_written(idr: usize) {
        let Some(mut s) = Self::active() else {
            return;
        };
        s.counters.events[uapi::SHADOWPID_MIRROR_EV_CURSOR as usize] += 1;
        if let Ok(i) = s.find(idr) {
            s.shadows[i].jump_allowed = true;
        }
        // A namespace being copied, or without a shadow, takes the
        // kernel's cursor at the end of its copy.
    }
}

/// Exclusive users of the machine-wide IDR calls (benchmarks) that hold
/// the mirror off: ATTACH is EBUSY while one runs.
static EXCLUDED: AtomicU32 = AtomicU32::new(0);

/// The mirror held off while this lives: from [`exclude`].
pub(crate) struct Excluded(());

impl Drop for Excluded {
    fn drop(&mut self) {
        EXCLUDED.fetch_sub(1, Ordering::Release);
    }
}

/// Holds the mirror off (no ATTACH) until the value returned is dropped:
/// EBUSY if it is attached. Checked under the attach lock both ways, so a
/// mirror and an excluded user never overlap.
pub(crate) fn exclude() -> Result<Excluded> {
    let attached = ATTACHED.lock();
    if attached.is_some() {
        return Err(EBUSY);
    }
    EXCLUDED.fetch_add(1, Ordering::Acquire);
    Ok(Excluded(()))
}

/// Attaches the mirror to the file `owner`: EBUSY if it is attached or held
/// off. It is armed once every hook is registered, its memory made first.
fn attach(owner: usize) -> Result {
    let mut attached = ATTACHED.lock();
    if attached.is_some() || EXCLUDED.load(Ordering::Acquire) != 0 {
        return Err(EBUSY);
    }
    // Everything the handlers use, made where allocating may sleep.
    let mut log = KVec::with_capacity(uapi::SHADOWPID_MIRROR_LOG as usize, GFP_KERNEL)?;
    let mut shadows = KVec::with_capacity(SHADOWS_AT_ATTACH, GFP_KERNEL)?;
    let mut untracked = KVec::with_capacity(UNTRACKED_CAP, GFP_KERNEL)?;
    let mut spares = KVec::with_capacity(SPARES, GFP_KERNEL)?;
    for _ in 0..SPARES {
        spares.push(Spare::new()?, GFP_KERNEL)?;
    }
    let mut pool = KVec::with_capacity(POOL_TARGET, GFP_KERNEL)?;
    for _ in 0..POOL_TARGET {
        pool.push(crate::wrappers::page::ZeroedPage::new()?, GFP_KERNEL)?;
    }
    core::mem::swap(&mut *POOL.lock(), &mut pool);
    // SAFETY: the only registration: `ATTACHED` is held and empty.
    let probes = match unsafe { Probes::register::<Mirror>(crate::mirror_maxactive()) } {
        Ok(p) => p,
        Err(e) => {
            core::mem::swap(&mut *POOL.lock(), &mut pool);
            return Err(e);
        }
    };
    {
        let mut s = MIRROR.lock();
        core::mem::swap(&mut s.log, &mut log);
        core::mem::swap(&mut s.shadows, &mut shadows);
        core::mem::swap(&mut s.untracked, &mut untracked);
        core::mem::swap(&mut s.spares, &mut spares);
        s.counters = Counters::ZERO;
        s.perturb = None;
        s.missed = [0; probes::HOOKS];
        s.unattributed = 0;
        s.missed_seen = probes::missed();
        s.unseen_writes = 0;
        // Armed now that every hook is in: no event is half seen.
        s.active = true;
    }
    *attached = Some((owner, probes));
    // Freed outside the lock: what the last attachment left.
    drop((log, shadows, untracked, spares, pool));
    Ok(())
}

/// Detaches the mirror if `owner` attached it: ENOENT otherwise. It is
/// disarmed before any hook is removed.
fn detach(owner: usize) -> Result {
    let mut attached = ATTACHED.lock();
    match attached.take() {
        Some((o, probes)) if o == owner => {
            MIRROR.lock().active = false;
            let (missed, unattributed) = (probes::missed(), probes::unattributed());
            // Unregistering waits for every handler to return.
            drop(probes);
            // SAFETY: disarmed, and no handler runs: only the work itself
            // could queue it again, and a cancel wins over that. A later
            // attach may queue it again.
            unsafe { copy::WORK.cancel_sync() };
            let (shadows, spares) = {
                let mut s = MIRROR.lock();
                s.missed = missed;
                s.unattributed = unattributed;
                let hold = &mut s.hold;
                probes::hold_read(&mut hold.hist, &mut hold.max);
                (
                    core::mem::take(&mut s.shadows),
                    core::mem::take(&mut s.spares),
                )
            };
            for sh in shadows.iter().filter(|sh| sh.copying()) {
                // SAFETY: the reference the copy under way held, given back
                // once (the work that would have is cancelled).
                unsafe { probes::pidns_put(sh.idr) };
            }
            let pool = core::mem::take(&mut *POOL.lock());
            drop((shadows, spares, pool));
            Ok(())
        }
        other => {
            *attached = other;
            Err(ENOENT)
        }
    }
}

/// At module exit (no file open, so not attached): frees what the last
/// attachment left for its report.
pub(crate) fn exit() {
    // SAFETY: not attached and no file open: nothing queues the work.
    unsafe { copy::WORK.cancel_sync() };
    let (log, untracked) = {
        let mut s = MIRROR.lock();
        (
            core::mem::take(&mut s.log),
            core::mem::take(&mut s.untracked),
        )
    };
    drop((log, untracked));
}

/// The file `owner` is closed: detaches the mirror if it is attached there.
pub(crate) fn file_closed(owner: usize) {
    let _ = detach(owner);
}

/// Fills in the report, for a caller in the namespace `caller`.
fn status(out: &mut uapi::shadowpid_mirror, caller: &probes::PidnsInfo) {
    let attached = ATTACHED.lock();
    let now = attached
        .as_ref()
        .map(|_| (probes::missed(), probes::unattributed()));
    out.pages = shadow::pages();
    let s = MIRROR.lock();
    let c = &s.counters;
    out.attached = u32::from(attached.is_some());
    out.events = c.events;
    (out.missed, out.unattributed) = now.unwrap_or((s.missed, s.unattributed));
    out.ns_mirrored = c.ns_mirrored;
    out.ns_live = s.shadows.len() as u64;
    out.compared = c.compared;
    out.matched = c.matched;
    out.diverged = c.diverged;
    out.forced = c.forced;
    out.cursor_jumps = c.cursor_jumps;
    out.resyncs = c.resyncs;
    out.atomic_failures = c.atomic_failures;
    out.skipped = c.skipped;
    out.cursor_diverged = c.cursor_diverged;
    out.missed_resyncs = c.missed_resyncs;
    out.missed_write_forks = c.missed_write_forks;
    out.ns_untracked = c.ns_untracked;
    out.copies = c.copies;
    out.copy_restarts = c.copy_restarts;
    out.refill_failures = c.refill_failures;
    out.ns_copying = s.shadows.iter().filter(|sh| sh.copying()).count() as u64;
    // Only what lies at or below the caller's namespace, levels from it.
    let seen = s.log.iter().filter_map(|d| {
        d.ns.seen_from(caller)
            .map(|level| uapi::shadowpid_mirror_divergence { level, ..d.entry })
    });
    let mut n = 0;
    for (o, d) in out.log.iter_mut().zip(seen) {
        *o = d;
        n += 1;
    }
    out.log_count = n;
    let seen = s
        .untracked
        .iter()
        .filter(|u| u.ns.seen_from(caller).is_some());
    let mut n = 0;
    for (o, u) in out.untracked.iter_mut().zip(seen) {
        *o = u.inum;
        n += 1;
    }
    out.untracked_count = n;
    if attached.is_some() {
        probes::hold_read(&mut out.hold, &mut out.hold_max);
    } else {
        out.hold = s.hold.hist;
        out.hold_max = s.hold.max;
    }
}

/// `SHADOWPID_IOC_MIRROR` from the file `owner`.
pub(crate) fn ioctl(owner: usize, user: UserSlice) -> Result<isize> {
    let (mut reader, mut writer) = user.reader_writer();
    // 2.5 KiB each: kept in boxes rather than live on the stack for the
    // whole call.
    let mut req = KBox::new(uapi::shadowpid_mirror::default(), GFP_KERNEL)?;
    reader.read_slice(req.as_bytes_mut())?;
    let arg_ok = match req.cmd {
        uapi::SHADOWPID_MIRROR_PERTURB | uapi::SHADOWPID_MIRROR_PERTURB_CURSOR => {
            req.arg <= u64::from(u32::MAX)
        }
        _ => req.arg == 0,
    };
    // Everything but `cmd` and `arg` is output: zero on input.
    let mut out = KBox::new(
        uapi::shadowpid_mirror {
            cmd: req.cmd,
            arg: req.arg,
            ..Default::default()
        },
        GFP_KERNEL,
    )?;
    if !arg_ok || req.as_bytes() != out.as_bytes() {
        return Err(EINVAL);
    }
    // What the holder of a descriptor passed on must not do by the
    // opener's right alone: arm system-wide kprobes, steer the detector,
    // read every namespace's numbers. DETACH stays the attacher's.
    let privileged = req.cmd != uapi::SHADOWPID_MIRROR_DETACH;
    if privileged && !cred::caller_has_sys_admin() {
        return Err(EPERM);
    }
    match req.cmd {
        uapi::SHADOWPID_MIRROR_STATUS => {}
        uapi::SHADOWPID_MIRROR_ATTACH => attach(owner)?,
        uapi::SHADOWPID_MIRROR_DETACH => detach(owner)?,
        uapi::SHADOWPID_MIRROR_PERTURB | uapi::SHADOWPID_MIRROR_PERTURB_CURSOR => {
            let mut s = MIRROR.lock();
            if !s.active {
                return Err(ENOENT);
            }
            let what = if req.cmd == uapi::SHADOWPID_MIRROR_PERTURB {
                Perturb::Number
            } else {
                Perturb::Cursor
            };
            s.perturb = Some((req.arg as u32, what));
        }
        _ => return Err(EINVAL),
    }
    status(&mut out, &probes::caller_pidns());
    writer.write_slice(out.as_bytes())?;
    Ok(0)
}
