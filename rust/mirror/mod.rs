// SPDX-License-Identifier: GPL-2.0

//! The live mirror: the 2.6.24 allocator follows every pid number the
//! running kernel hands out or takes back, and says, for every fork, whether
//! it would have handed out the same number.
//!
//! Hooks ([`probes`]) on the IDR calls of kernel/pid.c deliver each event
//! under the kernel's `pidmap_lock`, so in the kernel's own order, on any
//! number of CPUs. Each namespace the kernel uses gets a shadow: a
//! [`Pidmap`] (the very code the universes allocate with) holding exactly the
//! numbers the kernel's IDR holds, and its own cursor. For a fork, the
//! shadow is asked which number it would take from its own cursor (one past
//! the last number it took) and the namespace's pid_max (7.3's wrap rule);
//! the number and the cursor are compared with the kernel's. The kernel's
//! cursor may move without an allocation in two ways only, both seen where
//! they happen: an `ns_last_pid` write (a hook on its handler) and
//! `alloc_pid()`'s reset before a namespace's first pid (read under the
//! kernel's lock); any other difference is a divergence. A set_tid
//! allocation is recorded (2.6.24 has no set_tid); a free clears the bit.
//!
//! The mirror is armed only once every hook is registered and disarmed
//! before any is removed, so no event of an armed mirror goes unseen but
//! those the kernel's kretprobes miss; a miss (their `nmissed` grew) marks
//! every shadow for a copy at its next event, so a lost event is reported
//! as missed, never as a divergence.
//!
//! A namespace that existed before the mirror was attached is copied from
//! its IDR at its first event, inside the locked region where the IDR
//! cannot change. Its shadow goes when the namespace is destroyed
//! (`idr_destroy()`), so a new namespace at the same address starts afresh.
//! The handlers never sleep: the shadows' pages come from `GFP_ATOMIC`, and
//! an allocation that fails is counted and the namespace copied again from
//! its IDR at its next event, never guessed.

mod probes;

use crate::{
    allocator::{pidmap::Pidmap, pidmap_env::PageAlloc},
    uapi,
    wrappers::{cred, page::ZeroedPage},
};
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::{prelude::*, sync::GlobalGuard, transmute::AsBytes, uaccess::UserSlice};
use probes::{AllocEvent, Handlers, Kind, Probes};

/// Shadow pages come from the atomic reserves: the handlers cannot sleep.
struct AtomicPages;

impl PageAlloc for AtomicPages {
    fn zeroed_page() -> Result<ZeroedPage> {
        ZeroedPage::new_atomic()
    }
}

/// An empty shadow map, built in its box (2 KiB: not on a handler's stack).
fn new_map() -> Result<KBox<Pidmap<AtomicPages>>> {
    let mut map = KBox::<Pidmap<AtomicPages>>::new_uninit(GFP_ATOMIC)?;
    Pidmap::new_in(&mut map);
    // SAFETY: `new_in()` initialised it.
    Ok(unsafe { map.assume_init() })
}

/// The shadow of one kernel namespace.
struct Shadow {
    /// The address of the namespace's IDR: its key.
    idr: usize,
    /// Its inode number, for the report.
    inum: u32,
    /// Its level.
    level: u32,
    /// The numbers the kernel's IDR holds.
    map: KBox<Pidmap<AtomicPages>>,
    /// The cursor the kernel's IDR should have now: one past the number of
    /// its last cyclic allocation.
    cursor: i32,
    /// Out of step (an allocation failed, or the two disagreed): copied
    /// again from the IDR at the next event.
    stale: bool,
    /// Never copied yet: its first copy is not a resync.
    fresh: bool,
    /// Its `ns_last_pid` was written since its last fork: a cursor that
    /// moved is explained.
    jump_allowed: bool,
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
    /// Shadows copied again from their IDR.
    resyncs: u64,
    /// Allocations the mirror could not make.
    atomic_failures: u64,
    /// Allocations not compared.
    skipped: u64,
    /// Forks whose cursor differed, unexplained.
    cursor_diverged: u64,
    /// Times a missed event marked every shadow stale.
    missed_resyncs: u64,
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
    };
}

/// Everything the handlers share.
struct State {
    /// Handlers act only while set (between attach and detach).
    active: bool,
    /// The shadows, by IDR address.
    shadows: KVec<Shadow>,
    counters: Counters,
    log: KVec<uapi::shadowpid_mirror_divergence>,
    /// PERTURB: the namespace whose next fork the shadow takes ahead, and
    /// whether its cursor (PERTURB_CURSOR) or a number.
    perturb: Option<(u32, Perturb)>,
    /// Missed counts of the last attachment's hooks, kept past detach.
    missed: [u64; probes::HOOKS],
    /// Calls of the last attachment whose caller could not be read.
    unattributed: u64,
    /// The hooks' missed total at the last event.
    missed_seen: u64,
}

/// What a PERTURB does to the shadow at the namespace's next fork.
#[derive(Clone, Copy)]
enum Perturb {
    /// Takes the number it would hand out.
    Number,
    /// Moves its cursor one on.
    Cursor,
}

impl State {
    /// No shadow, zero counts.
    const fn new() -> Self {
        Self {
            active: false,
            shadows: KVec::new(),
            counters: Counters::ZERO,
            log: KVec::new(),
            perturb: None,
            missed: [0; probes::HOOKS],
            unattributed: 0,
            missed_seen: 0,
        }
    }

    /// If the hooks missed an event since the last one, every shadow is
    /// copied again at its next event: the lost one may have been its.
    fn note_missed(&mut self) {
        let missed = probes::missed_total();
        if missed != self.missed_seen {
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

    /// The index of the shadow of `idr`, made (a copy of its IDR) if there
    /// is none, or copied again if it is stale; and whether it was copied
    /// now. A copy holds the numbers the IDR maps to a pid: after a
    /// removal, the state the removal left; during an allocation, the state
    /// before it (the number being allocated is a NULL entry until
    /// `alloc_pid()` succeeds, and the walk skips NULL entries). `None` if
    /// the mirror could not allocate it (counted).
    ///
    /// Called with the kernel's `pidmap_lock` held and the namespace alive
    /// (a handler of one of its events).
    fn shadow(&mut self, idr: usize) -> Option<(usize, bool)> {
        let i = match self.find(idr) {
            Ok(i) => i,
            Err(at) => {
                let (Ok(map), Ok(())) = (new_map(), self.shadows.reserve(1, GFP_ATOMIC)) else {
                    self.counters.atomic_failures += 1;
                    return None;
                };
                // Its identity is read at each copy, the first just below.
                let shadow = Shadow {
                    idr,
                    inum: 0,
                    level: 0,
                    map,
                    cursor: 0,
                    stale: true,
                    fresh: true,
                    jump_allowed: false,
                };
                // Room was reserved just above.
                let _ = self.shadows.insert_within_capacity(at, shadow);
                self.counters.ns_mirrored += 1;
                at
            }
        };
        let shadow = &mut self.shadows[i];
        if !shadow.stale {
            return Some((i, false));
        }
        if Self::copy_idr(shadow).is_err() {
            self.counters.atomic_failures += 1;
            return None;
        }
        if !core::mem::replace(&mut shadow.fresh, false) {
            self.counters.resyncs += 1;
        }
        Some((i, true))
    }

    /// Makes `shadow` hold exactly the numbers of its IDR, takes its cursor,
    /// and reads its identity again (a namespace at the address of one whose
    /// end was missed is another). Called with the kernel's `pidmap_lock`
    /// held; on failure the shadow stays stale.
    fn copy_idr(shadow: &mut Shadow) -> Result {
        // SAFETY: the namespace is alive: this is one of its events.
        let info = unsafe { probes::pidns_of_idr(shadow.idr) };
        (shadow.inum, shadow.level) = (info.inum, info.level);
        shadow.map.clear();
        // SAFETY: the namespace is alive and its IDR cannot change: the
        // kernel's pidmap_lock is held (the caller's guarantee).
        let (cursor, numbers) = unsafe { probes::idr_numbers(shadow.idr) };
        for nr in numbers {
            shadow.map.alloc_exact(nr)?;
        }
        shadow.cursor = cursor;
        shadow.jump_allowed = false;
        shadow.stale = false;
        Ok(())
    }

    /// Records a divergence in the log, if there is room.
    fn log(&mut self, d: uapi::shadowpid_mirror_divergence) {
        if self.log.len() < uapi::SHADOWPID_MIRROR_LOG as usize {
            // Reserved at attach: never allocates here.
            let _ = self.log.push_within_capacity(d);
        }
    }
}

kernel::sync::global_lock! {
    // SAFETY: `init()` runs in the module initializer, before the device
    // that leads to every use exists.
    /// The mirror's state. Taken in the return handlers of the hooks (task
    /// context, maybe under the kernel's pidmap_lock) and by the ioctls;
    /// never from an interrupt, and no hook fires while it is held (nothing
    /// done under it allocates or frees a pid or destroys an IDR).
    unsafe(uninit) static MIRROR: SpinLock<State> = State::new();
}

kernel::sync::global_lock! {
    // SAFETY: as above.
    /// Attaching and detaching (they register and unregister probes, which
    /// sleeps): the file attached, and its hooks.
    unsafe(uninit) static ATTACHED: Mutex<Option<(usize, Probes)>> = None;
}

/// Sets up the mirror's locks.
///
/// # Safety
///
/// Called once, from the module initializer, before any other use.
pub(crate) unsafe fn init() {
    // SAFETY: once, before any use (the caller's guarantee).
    unsafe {
        MIRROR.init();
        ATTACHED.init();
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
        st.note_missed();
        let Some((i, copied)) = st.shadow(ev.idr as usize) else {
            st.counters.skipped += 1;
            return;
        };
        let shadow = &mut st.shadows[i];
        // The kernel retries after preloading: this attempt took nothing.
        if ret == ENOMEM.to_errno() {
            st.counters.skipped += 1;
            return;
        }
        if kind == Kind::Fixed {
            if ret >= 0 {
                st.counters.forced += 1;
                // A copy made now does not hold it: alloc_pid() stores NULL
                // first, and the IDR walk skips NULL entries.
                if !matches!(shadow.map.alloc_exact(ret), Ok(true)) {
                    // Taken already (out of step), or no page (counted).
                    shadow.stale = true;
                }
            }
            return;
        }
        // The cursor the kernel's should be: a copy made now is the state
        // before this fork (the new number is still a NULL entry, which the
        // walk skips), with the kernel's cursor as it started; alloc_pid()
        // resets a namespace's cursor to 0 before its first pid; otherwise
        // one past the last number the shadow took.
        let mut expected = if copied {
            ev.cursor
        } else if ev.adding != 0 {
            0
        } else {
            shadow.cursor
        };
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
            // No page for the scan: copy the IDR at the next event.
            shadow.stale = true;
            st.counters.atomic_failures += 1;
            st.counters.skipped += 1;
            return;
        };
        let kernel = (ret >= 0).then_some(ret);
        shadow.cursor = kernel.map_or(ev.cursor, |nr| nr + 1);
        if predicted != kernel && writing {
            // The write (which takes no lock) may have moved the cursor
            // between the entry's read and the IDR's: not compared.
            shadow.stale = true;
            st.counters.skipped += 1;
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
        // The kernel's state is the truth: the shadow is copied from it at
        // the namespace's next event.
        shadow.stale = true;
        st.log(d);
    }

    fn removed(idr: usize, nr: i32) {
        let Some(mut s) = Self::active() else {
            return;
        };
        s.counters.events[uapi::SHADOWPID_MIRROR_EV_FREE as usize] += 1;
        s.note_missed();
        let Some((i, copied)) = s.shadow(idr) else {
            return;
        };
        // A copy made now is the state after the removal already.
        let shadow = &mut s.shadows[i];
        if !copied {
            if shadow.map.test(nr) {
                shadow.map.free(nr);
            } else {
                // Freed but never taken, as far as the shadow knew.
                shadow.stale = true;
            }
        }
    }

    fn destroyed(idr: usize) {
        let Some(mut s) = Self::active() else {
            return;
        };
        if let Ok(i) = s.find(idr) {
            // A pid namespace's IDR: its shadow goes with it, and a new
            // namespace at the same address will start afresh.
            s.counters.events[uapi::SHADOWPID_MIRROR_EV_NS_GONE as usize] += 1;
            let _ = s.shadows.remove(i);
        }
    }

    fn cursor_written(idr: usize) {
        let Some(mut s) = Self::active() else {
            return;
        };
        s.counters.events[uapi::SHADOWPID_MIRROR_EV_CURSOR as usize] += 1;
        if let Ok(i) = s.find(idr) {
            s.shadows[i].jump_allowed = true;
        }
        // A namespace without a shadow takes the kernel's cursor at its
        // first copy.
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
/// off. It is armed once every hook is registered.
fn attach(owner: usize) -> Result {
    let mut attached = ATTACHED.lock();
    if attached.is_some() || EXCLUDED.load(Ordering::Acquire) != 0 {
        return Err(EBUSY);
    }
    // Room for the log and a first batch of shadows, made where allocating
    // may sleep.
    let mut log = KVec::with_capacity(uapi::SHADOWPID_MIRROR_LOG as usize, GFP_KERNEL)?;
    let mut shadows = KVec::with_capacity(64, GFP_KERNEL)?;
    // SAFETY: the only registration: `ATTACHED` is held and empty.
    let probes = unsafe { Probes::register::<Mirror>(crate::mirror_maxactive()) }?;
    {
        let mut s = MIRROR.lock();
        core::mem::swap(&mut s.log, &mut log);
        core::mem::swap(&mut s.shadows, &mut shadows);
        s.log.clear();
        s.shadows.clear();
        s.counters = Counters::ZERO;
        s.perturb = None;
        s.missed = [0; probes::HOOKS];
        s.unattributed = 0;
        s.missed_seen = probes::missed_total();
        // Armed now that every hook is in: no event is half seen.
        s.active = true;
    }
    *attached = Some((owner, probes));
    // Freed outside the lock: what the last attachment left.
    drop((log, shadows));
    Ok(())
}

/// Detaches the mirror if `owner` attached it: ENOENT otherwise. It is
/// disarmed before any hook is removed.
fn detach(owner: usize) -> Result {
    let mut attached = ATTACHED.lock();
    match attached.take() {
        Some((o, probes)) if o == owner => {
            MIRROR.lock().active = false;
            let (missed, unattributed) = (probes.missed(), probes::unattributed());
            // Unregistering waits for every handler to return.
            drop(probes);
            let shadows = {
                let mut s = MIRROR.lock();
                s.missed = missed;
                s.unattributed = unattributed;
                core::mem::take(&mut s.shadows)
            };
            drop(shadows);
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
    let (log, shadows) = {
        let mut s = MIRROR.lock();
        (core::mem::take(&mut s.log), core::mem::take(&mut s.shadows))
    };
    drop((log, shadows));
}

/// Pidmap pages the shadows hold now (part of the module's pages).
pub(crate) fn pages() -> u64 {
    let s = MIRROR.lock();
    s.shadows.iter().map(|sh| u64::from(sh.map.pages())).sum()
}

/// The file `owner` is closed: detaches the mirror if it is attached there.
pub(crate) fn file_closed(owner: usize) {
    let _ = detach(owner);
}

/// Fills in the report.
fn status(out: &mut uapi::shadowpid_mirror) {
    let attached = ATTACHED.lock();
    let now = attached
        .as_ref()
        .map(|(_, p)| (p.missed(), probes::unattributed()));
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
    out.log_count = s.log.len() as u32;
    for (o, d) in out.log.iter_mut().zip(s.log.iter()) {
        *o = *d;
    }
}

/// `SHADOWPID_IOC_MIRROR` from the file `owner`.
pub(crate) fn ioctl(owner: usize, user: UserSlice) -> Result<isize> {
    let (mut reader, mut writer) = user.reader_writer();
    let req: uapi::shadowpid_mirror = reader.read()?;
    let arg_ok = match req.cmd {
        uapi::SHADOWPID_MIRROR_PERTURB | uapi::SHADOWPID_MIRROR_PERTURB_CURSOR => {
            req.arg <= u64::from(u32::MAX)
        }
        _ => req.arg == 0,
    };
    // Everything but `cmd` and `arg` is output: zero on input.
    let blank = uapi::shadowpid_mirror {
        cmd: req.cmd,
        arg: req.arg,
        ..Default::default()
    };
    if !arg_ok || req.as_bytes() != blank.as_bytes() {
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
    let mut out = blank;
    status(&mut out);
    writer.write(&out)?;
    Ok(0)
}
