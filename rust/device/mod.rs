// SPDX-License-Identifier: GPL-2.0

//! `/dev/shadowpid`: one universe per open file, driven by ioctls.
//!
//! This file translates between the uapi structs and [`Universe`]: it checks
//! every input field (an operation's unused inputs and all reserved fields
//! must be zero), runs the operation and writes the answer back.

mod universe;

use crate::{allocator::namespace::NR_LEVELS, uapi, wrappers::cred};
use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};
use universe::{Answer, Limits, Universe};

/// The private state of one open file of `/dev/shadowpid`.
#[pin_data]
pub(crate) struct UniverseFile {
    #[pin]
    universe: Universe,
}

/// Which inputs of `struct shadowpid_op` an operation reads.
struct Inputs {
    /// Reads `ns`.
    ns: bool,
    /// Reads `nr`.
    nr: bool,
    /// Reads `arg[0..args]`.
    args: usize,
    /// Reads `count` and `nrs[..count]` (set_tid).
    set_tid: bool,
}

impl Inputs {
    /// Inputs without set_tid.
    const fn new(ns: bool, nr: bool, args: usize) -> Self {
        Self {
            ns,
            nr,
            args,
            set_tid: false,
        }
    }
}

/// The inputs of operation `code`; EINVAL for an unknown one.
fn inputs(code: u32) -> Result<Inputs> {
    use crate::uapi::*;
    Ok(match code {
        SHADOWPID_OP_NS_CREATE => Inputs::new(true, false, 0),
        SHADOWPID_OP_NS_RELEASE => Inputs::new(true, false, 0),
        SHADOWPID_OP_ALLOC => Inputs {
            set_tid: true,
            ..Inputs::new(true, false, 0)
        },
        SHADOWPID_OP_FREE | SHADOWPID_OP_FIND | SHADOWPID_OP_NEXT | SHADOWPID_OP_GET => {
            Inputs::new(true, true, 0)
        }
        SHADOWPID_OP_NR_NS => Inputs::new(true, true, 1),
        SHADOWPID_OP_SET_LAST_PID | SHADOWPID_OP_SET_PID_MAX => Inputs::new(true, false, 1),
        SHADOWPID_OP_ATTACH => Inputs::new(true, true, 2),
        SHADOWPID_OP_DETACH => Inputs::new(false, false, 2),
        SHADOWPID_OP_TRANSFER => Inputs::new(false, false, 3),
        SHADOWPID_OP_PID_TASK => Inputs::new(true, true, 1),
        SHADOWPID_OP_PUT => Inputs::new(false, false, 1),
        SHADOWPID_OP_HANDLE_NR => Inputs::new(false, false, 2),
        SHADOWPID_OP_CHECK => Inputs::new(true, false, 0),
        _ => return Err(EINVAL),
    })
}

impl UniverseFile {
    /// Checks `op`'s inputs and runs it.
    fn run(&self, op: &uapi::shadowpid_op) -> Result<Answer> {
        use crate::uapi::*;
        let want = inputs(op.op)?;
        let count = op.count as usize;
        let unused_set = (!want.ns && op.ns != 0)
            || (!want.nr && op.nr != 0)
            || op.arg[want.args..].iter().any(|a| *a != 0)
            || (!want.set_tid && count != 0)
            || count > NR_LEVELS
            || op.nrs[count.min(NR_LEVELS)..].iter().any(|n| *n != 0);
        if unused_set || op.reserved != 0 || op.reserved2 != 0 {
            return Err(EINVAL);
        }
        let u = &self.universe;
        let [a0, a1, a2] = op.arg;
        let done = |r: Result| r.map(|()| Answer::default());
        match op.op {
            SHADOWPID_OP_NS_CREATE => u.ns_create(op.ns),
            SHADOWPID_OP_NS_RELEASE => done(u.ns_release(op.ns)),
            SHADOWPID_OP_ALLOC => u.alloc(op.ns, &op.nrs[..count]),
            SHADOWPID_OP_FREE => done(u.free(op.ns, op.nr)),
            SHADOWPID_OP_FIND => u.find(op.ns, op.nr),
            SHADOWPID_OP_NEXT => u.next(op.ns, op.nr),
            SHADOWPID_OP_NR_NS => u.nr_ns(op.ns, op.nr, a0),
            SHADOWPID_OP_SET_LAST_PID => done(u.set_last_pid(op.ns, a0)),
            SHADOWPID_OP_SET_PID_MAX => done(u.set_pid_max(op.ns, a0)),
            SHADOWPID_OP_ATTACH => done(u.attach(a0, a1, op.ns, op.nr)),
            SHADOWPID_OP_DETACH => done(u.detach(a0, a1)),
            SHADOWPID_OP_TRANSFER => done(u.transfer(a0, a1, a2)),
            SHADOWPID_OP_PID_TASK => u.pid_task(op.ns, op.nr, a0),
            SHADOWPID_OP_GET => u.get(op.ns, op.nr),
            SHADOWPID_OP_PUT => done(u.put(a0)),
            SHADOWPID_OP_HANDLE_NR => u.handle_nr(a0, a1),
            SHADOWPID_OP_CHECK => done(u.check(op.ns)),
            _ => Err(EINVAL),
        }
    }

    /// Runs `op` and writes its result and outputs into it.
    fn execute(&self, op: &mut uapi::shadowpid_op) {
        let answer = self.run(op);
        op.value = 0;
        op.level = 0;
        match answer {
            Ok(a) => {
                op.result = 0;
                op.value = a.value;
                op.level = a.level;
                if let Some(pid) = a.numbers {
                    op.nrs = [0; NR_LEVELS];
                    for (out, upid) in op.nrs.iter_mut().zip(pid.numbers()) {
                        *out = upid.nr();
                    }
                }
            }
            Err(e) => op.result = e.to_errno(),
        }
    }

    /// `SHADOWPID_IOC_OP`.
    fn ioctl_op(&self, user: UserSlice) -> Result<isize> {
        let (mut reader, mut writer) = user.reader_writer();
        let mut op: uapi::shadowpid_op = reader.read()?;
        self.execute(&mut op);
        writer.write(&op)?;
        Ok(0)
    }

    /// `SHADOWPID_IOC_BATCH`.
    fn ioctl_batch(&self, user: UserSlice) -> Result<isize> {
        let (mut reader, mut writer) = user.reader_writer();
        let mut batch: uapi::shadowpid_batch = reader.read()?;
        if batch.count == 0
            || batch.count > uapi::SHADOWPID_BATCH_MAX
            || batch.flags & !uapi::SHADOWPID_BATCH_STOP_ON_ERROR != 0
        {
            return Err(EINVAL);
        }
        const OP_SIZE: usize = size_of::<uapi::shadowpid_op>();
        let base = batch.ops as usize;
        let end = base
            .checked_add(batch.count as usize * OP_SIZE)
            .ok_or(EFAULT)?;
        batch.done = 0;
        batch.failed = 0;
        for addr in (base..end).step_by(OP_SIZE) {
            if batch.done % 256 == 0 && kernel::current!().signal_pending() {
                break;
            }
            let slice = UserSlice::new(UserPtr::from_addr(addr), OP_SIZE);
            let (mut r, mut w) = slice.reader_writer();
            let mut op: uapi::shadowpid_op = r.read()?;
            self.execute(&mut op);
            w.write(&op)?;
            batch.done += 1;
            if op.result != 0 {
                batch.failed += 1;
                if batch.flags & uapi::SHADOWPID_BATCH_STOP_ON_ERROR != 0 {
                    break;
                }
            }
        }
        writer.write(&batch)?;
        Ok(0)
    }

    /// `SHADOWPID_IOC_STATS`.
    fn ioctl_stats(&self, user: UserSlice) -> Result<isize> {
        let (mut reader, mut writer) = user.reader_writer();
        let req: uapi::shadowpid_stats = reader.read()?;
        if req.reserved != 0
            || req.module_pids != 0
            || req.module_namespaces != 0
            || req.module_pages != 0
        {
            return Err(EINVAL);
        }
        let s = self.universe.stats(req.ns)?;
        let ns = &s.ns;
        let core = crate::allocator::census();
        let mut flags = 0;
        if ns.accepting() {
            flags |= uapi::SHADOWPID_NS_ACCEPTING;
        }
        if ns.has_reaper() {
            flags |= uapi::SHADOWPID_NS_HAS_REAPER;
        }
        let out = uapi::shadowpid_stats {
            ns: req.ns,
            level: ns.level,
            flags,
            live_pids: ns.live(),
            pidmap_pages: ns.pidmap.pages(),
            last_pid: ns.last_pid.load(core::sync::atomic::Ordering::Relaxed),
            pid_max: ns.pid_max.load(core::sync::atomic::Ordering::Relaxed),
            hash_buckets: core.hash_buckets,
            hash_longest: core.hash_longest,
            hash_entries: core.hash_entries,
            bytes: Universe::ns_bytes(ns),
            universe_pids: s.universe_pids,
            universe_namespaces: s.universe_namespaces,
            module_pids: core.pids,
            module_namespaces: core.namespaces,
            module_pages: core.pages as u32,
            reserved: 0,
        };
        writer.write(&out)?;
        Ok(0)
    }
}

/// `SHADOWPID_IOC_BARRIER`: waits for the deferred work queued so far, so
/// that the module-wide counts of `SHADOWPID_IOC_STATS` that follow hold
/// only what is in use, without a caller polling them against a clock.
fn barrier() {
    // A resize first: it waits for its own grace periods and queues no RCU
    // callback, but figures read afterwards should see the table it leaves.
    crate::allocator::hash::settle();
    // Then every callback queued before this point, among them the
    // `delayed_put_pid()` of each pid freed so far: the last reference to a
    // pid goes there, and with it its namespace's and pages' references,
    // freed in the callback itself (no callback queues another one).
    kernel::sync::rcu::rcu_barrier();
}

impl UniverseFile {
    /// This file, as the module-wide live mirror knows its owner.
    fn owner_id(&self) -> usize {
        core::ptr::from_ref(self) as usize
    }
}

#[vtable]
impl MiscDevice for UniverseFile {
    type Ptr = Pin<KBox<Self>>;

    fn open(file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Self::Ptr> {
        // The node is 0600 root:root, but a file descriptor can be passed on:
        // decide on the opener's credentials, as file_ns_capable() does.
        if !cred::opener_has_sys_admin(file) {
            return Err(EPERM);
        }
        let limits = Limits {
            max_pids: crate::max_pids(),
            max_namespaces: crate::max_namespaces(),
        };
        KBox::try_pin_init(
            try_pin_init!(UniverseFile {
                universe <- Universe::new(limits),
            }),
            GFP_KERNEL,
        )
    }

    fn release(me: Self::Ptr, _file: &File) {
        // A mirror attached through this file goes with it (the holder
        // killed included).
        crate::mirror::file_closed(me.owner_id());
        drop(me);
    }

    fn ioctl(me: Pin<&UniverseFile>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        let user = UserSlice::new(UserPtr::from_addr(arg), kernel::ioctl::_IOC_SIZE(cmd));
        match cmd {
            uapi::SHADOWPID_IOC_VERSION => {
                let version = uapi::shadowpid_version {
                    abi_version: uapi::SHADOWPID_ABI_VERSION,
                    reserved: 0,
                };
                user.writer().write(&version)?;
                Ok(0)
            }
            uapi::SHADOWPID_IOC_OP => me.ioctl_op(user),
            uapi::SHADOWPID_IOC_BATCH => me.ioctl_batch(user),
            uapi::SHADOWPID_IOC_STATS => me.ioctl_stats(user),
            // The mirror's hooks fire on the IDR calls of the rebuild and
            // the kernel's columns, never on the shadow's: no benchmark
            // while it is attached.
            uapi::SHADOWPID_IOC_BENCH => {
                let _held_off = crate::mirror::exclude()?;
                crate::bench::ioctl(user)
            }
            uapi::SHADOWPID_IOC_MIRROR => crate::mirror::ioctl(me.owner_id(), user),
            uapi::SHADOWPID_IOC_BARRIER => {
                barrier();
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }
}
