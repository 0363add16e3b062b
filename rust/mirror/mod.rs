// SPDX-License-Identifier: GPL-2.0

//! The live mirror: the 2.6.24 allocator follows every pid number the
//! running kernel hands out or takes back, and says, for every fork, whether
//! it would have handed out the same number.
//!
//! Hooks ([`probes`]) on the IDR calls of kernel/pid.c deliver each event
//! under the kernel's `pidmap_lock`, so in the kernel's own order, on any
//! number of CPUs. Each namespace the kernel uses gets a shadow: a
//! [`Pidmap`] (the very code the universes allocate with) holding exactly the
//! numbers the kernel's IDR holds. For a fork, the shadow is asked which
//! number it would take, from the kernel's cursor and pid_max at that moment
//! (7.3's wrap rule); the answer is compared with the kernel's number, then
//! the kernel's number is what the shadow keeps, so the two stay in step.
//! A set_tid allocation is recorded (2.6.24 has no set_tid); a free clears
//! the bit.
//!
//! A namespace that existed before the mirror was attached is copied from
//! its IDR at its first event, inside the locked region where the IDR
//! cannot change. Its shadow goes when the namespace is destroyed
//! (`idr_destroy()`), so a new namespace at the same address starts afresh.
//! The handlers never sleep: the shadows' pages come from `GFP_ATOMIC`, and
//! an allocation that fails is counted and the namespace copied again from
//! its IDR at its next event, never guessed.

mod probes;

use crate::{pidmap::Pidmap, pidmap_env::PageAlloc, uapi, wrappers::page::ZeroedPage};
use kernel::{prelude::*, sync::GlobalGuard, transmute::AsBytes, uaccess::UserSlice};
use probes::{AllocEvent, Handlers, Kind, Probes};

/// Shadow pages come from the atomic reserves: the handlers cannot sleep.
struct Atomic;

impl PageAlloc for Atomic {
    fn zeroed_page() -> Result<ZeroedPage> {
        ZeroedPage::new_atomic()
    }
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
    map: KBox<Pidmap<Atomic>>,
    /// The cursor the kernel's IDR should have now: one past the number of
    /// its last cyclic allocation.
    cursor: i32,
    /// Out of step (an allocation failed, or the two disagreed): copied
    /// again from the IDR at the next event.
    stale: bool,
    /// Never copied yet: its first copy is not a resync.
    fresh: bool,
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
    };
}

/// Everything the handlers share.
struct State {
    /// Handlers act only while set (between attach and detach).
    active: bool,
    /// The shadows, by IDR address.
    shadows: KVec<Shadow>,
    /// The report.
    counters: Counters,
    /// The first divergences.
    log: KVec<uapi::shadowpid_mirror_divergence>,
    /// PERTURB: the namespace whose next fork the shadow takes ahead.
    perturb: Option<u32>,
    /// Missed counts of the last attachment's hooks, kept past detach.
    missed: [u64; probes::HOOKS],
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
                // SAFETY: the namespace is alive: this is one of its events.
                let info = unsafe { probes::pidns_of_idr(idr) };
                let map = KBox::new(Pidmap::new(), GFP_ATOMIC);
                let (Ok(map), Ok(())) = (map, self.shadows.reserve(1, GFP_ATOMIC)) else {
                    self.counters.atomic_failures += 1;
                    return None;
                };
                let shadow = Shadow {
                    idr,
                    inum: info.inum,
                    level: info.level,
                    map,
                    cursor: 0,
                    stale: true,
                    fresh: true,
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

    /// Makes `shadow` hold exactly the numbers of its IDR, and takes its
    /// cursor. Called with the kernel's `pidmap_lock` held.
    fn copy_idr(shadow: &mut Shadow) -> Result {
        let map = KBox::new(Pidmap::<Atomic>::new(), GFP_ATOMIC)?;
        // SAFETY: the namespace is alive and its IDR cannot change: the
        // kernel's pidmap_lock is held (the caller's guarantee).
        let (cursor, numbers) = unsafe { probes::idr_numbers(shadow.idr) };
        for nr in numbers {
            map.alloc_exact(nr)?;
        }
        shadow.map = map;
        shadow.cursor = cursor;
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
        if copied {
            // The copy is the state before the fork: the new number is still
            // a NULL entry (alloc_pid() publishes it at its end), which the
            // IDR walk skips.
            shadow.cursor = ev.cursor;
        } else if shadow.cursor != ev.cursor {
            // Moved since our last look: ns_last_pid was written, or 7.3
            // reset it before a namespace's init. Followed, not a divergence.
            st.counters.cursor_jumps += 1;
        }
        if st.perturb == Some(shadow.inum) {
            // The detector's own test: take the number ahead.
            let _ = shadow.map.alloc_cyclic(ev.cursor, ev.end);
            st.perturb = None;
        }
        let Ok(predicted) = shadow.map.alloc_cyclic(ev.cursor, ev.end) else {
            // No page for the scan: copy the IDR at the next event.
            shadow.stale = true;
            st.counters.atomic_failures += 1;
            st.counters.skipped += 1;
            return;
        };
        let kernel = (ret >= 0).then_some(ret);
        shadow.cursor = kernel.map_or(ev.cursor, |nr| nr + 1);
        st.counters.compared += 1;
        if predicted == kernel {
            st.counters.matched += 1;
            return;
        }
        st.counters.diverged += 1;
        let d = uapi::shadowpid_mirror_divergence {
            ns_inum: shadow.inum,
            level: shadow.level,
            cursor: ev.cursor,
            shadow_nr: predicted.unwrap_or(-1),
            kernel_nr: ret,
            reserved: 0,
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
}

/// Attaches the mirror to the file `owner`: EBUSY if it is attached.
fn attach(owner: usize) -> Result {
    let mut attached = ATTACHED.lock();
    if attached.is_some() {
        return Err(EBUSY);
    }
    // Room for the log and a first batch of shadows, made where allocating
    // may sleep.
    let mut log = KVec::with_capacity(uapi::SHADOWPID_MIRROR_LOG as usize, GFP_KERNEL)?;
    let mut shadows = KVec::with_capacity(64, GFP_KERNEL)?;
    {
        let mut s = MIRROR.lock();
        core::mem::swap(&mut s.log, &mut log);
        core::mem::swap(&mut s.shadows, &mut shadows);
        s.log.clear();
        s.shadows.clear();
        s.counters = Counters::ZERO;
        s.perturb = None;
        s.missed = [0; probes::HOOKS];
        s.active = true;
    }
    // Freed outside the lock: what the last attachment left.
    drop((log, shadows));
    // SAFETY: the only registration: `ATTACHED` is held and empty.
    match unsafe { Probes::register::<Mirror>() } {
        Ok(probes) => {
            *attached = Some((owner, probes));
            Ok(())
        }
        Err(e) => {
            MIRROR.lock().active = false;
            Err(e)
        }
    }
}

/// Detaches the mirror if `owner` attached it: ENOENT otherwise.
fn detach(owner: usize) -> Result {
    let mut attached = ATTACHED.lock();
    match attached.take() {
        Some((o, probes)) if o == owner => {
            let missed = probes.missed();
            // Unregistering waits for every handler to return.
            drop(probes);
            let shadows = {
                let mut s = MIRROR.lock();
                s.active = false;
                s.missed = missed;
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

/// Pidmap pages the shadows hold now (part of the module's pages).
pub(crate) fn pages() -> u64 {
    let s = MIRROR.lock();
    s.shadows.iter().map(|sh| u64::from(sh.map.pages())).sum()
}

/// Whether the mirror is attached (to any file).
pub(crate) fn attached() -> bool {
    ATTACHED.lock().is_some()
}

/// The file `owner` is closed: detaches the mirror if it is attached there.
pub(crate) fn file_closed(owner: usize) {
    let _ = detach(owner);
}

/// Fills in the report.
fn status(out: &mut uapi::shadowpid_mirror) {
    let attached = ATTACHED.lock();
    let missed = attached.as_ref().map(|(_, p)| p.missed());
    let s = MIRROR.lock();
    let c = &s.counters;
    out.attached = u32::from(attached.is_some());
    out.events = c.events;
    let missed = missed.unwrap_or(s.missed);
    out.missed = missed;
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
        uapi::SHADOWPID_MIRROR_PERTURB => req.arg <= u64::from(u32::MAX),
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
    match req.cmd {
        uapi::SHADOWPID_MIRROR_STATUS => {}
        uapi::SHADOWPID_MIRROR_ATTACH => attach(owner)?,
        uapi::SHADOWPID_MIRROR_DETACH => detach(owner)?,
        uapi::SHADOWPID_MIRROR_PERTURB => {
            let mut s = MIRROR.lock();
            if !s.active {
                return Err(ENOENT);
            }
            s.perturb = Some(req.arg as u32);
        }
        _ => return Err(EINVAL),
    }
    let mut out = blank;
    status(&mut out);
    writer.write(&out)?;
    Ok(0)
}
