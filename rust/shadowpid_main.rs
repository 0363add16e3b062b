// SPDX-License-Identifier: GPL-2.0

//! shadowpid: the PID allocator of Linux 2.6.24, in Rust, beside the native one.
//!
//! The module registers the misc device `/dev/shadowpid`. Every open file is an
//! independent universe of shadow PID namespaces, driven with the ioctls of
//! `include/uapi/linux/shadowpid.h` and torn down when the file is released.
//!
//! Layers, one folder each, each using only those before it:
//! - [`wrappers`]: kernel services the kernel crate does not wrap, one per
//!   file;
//! - [`allocator`]: the allocator's core, as kernel/pid.c holds it (pidmap,
//!   namespace, hash, struct pid), with the seam the host crates swap;
//! - [`bench`] and [`mirror`], beside each other above the core: the
//!   benchmark (with its C rebuild of 7.3's allocator and the kernel's
//!   column) and the live mirror (with its kprobe glue). The core does not
//!   know they exist;
//! - [`device`]: `/dev/shadowpid`, one universe of shadow namespaces per
//!   open file, whose ioctls also hand the benchmark's and the mirror's
//!   requests to them.
//!
//! [`uapi`] is the ABI, generated from the header, which every layer may
//! read. This file declares the layers and the module's parameters, and
//! registers the device.

use kernel::{
    miscdevice::{
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
};

/// `mod NAME` holding what bindgen generated into FILE (beside the file that
/// says it), with the lints generated code cannot meet allowed: the one
/// list for the module's four generated bindings.
macro_rules! generated {
    ($vis:vis mod $name:ident = $file:literal) => {
        #[allow(
            dead_code,
            non_camel_case_types,
            non_upper_case_globals,
            missing_docs,
            unreachable_pub,
            clippy::all,
            clippy::undocumented_unsafe_blocks
        )]
        $vis mod $name {
            include!($file);
        }
    };
}

mod allocator;
mod bench;
mod device;
mod mirror;
mod uapi;
mod wrappers;

use allocator::{hash, pid, pidmap_env};

module! {
    type: ShadowPidModule,
    name: "shadowpid",
    authors: ["shadowpid developers"],
    description: "Linux 2.6.24 PID allocator in Rust, compared with the native one",
    license: "GPL",
    params: {
        pidhash_shift: u32 {
            default: 0,
            description: "log2 of the pid hash buckets, 4..20 (0: from memory, as 2.6.24, at most 12)",
        },
        pidhash_resize: bool {
            default: false,
            description: "Resize the pid hash with the number of pids, lookups staying lockless (beyond 2.6.24)",
        },
        max_pids: u32 {
            default: 1048576,
            description: "Live pids (and tasks, and held references) per open file",
        },
        max_namespaces: u32 {
            default: 1024,
            description: "Namespaces per open file, its root included",
        },
        mirror_maxactive: u32 {
            default: 0,
            description: "Instances of each live-mirror kretprobe (0: at least 64 and 2 per possible CPU; tests force misses with 1)",
        },
        mirror_copy_pause_ms: u32 {
            default: 0,
            description: "Sleep of the live mirror's copy between its walk's batches (tests: events land behind the walk)",
        },
    },
}

/// `mirror_maxactive` module parameter.
pub(crate) fn mirror_maxactive() -> u32 {
    module_parameters::mirror_maxactive.value()
}

/// `mirror_copy_pause_ms` module parameter.
pub(crate) fn mirror_copy_pause_ms() -> u32 {
    module_parameters::mirror_copy_pause_ms.value()
}

/// `max_pids` module parameter.
pub(crate) fn max_pids() -> u32 {
    module_parameters::max_pids.value()
}

/// `max_namespaces` module parameter.
pub(crate) fn max_namespaces() -> u32 {
    module_parameters::max_namespaces.value()
}

/// The loaded module: owns the `/dev/shadowpid` registration, and at unload
/// tears down what every universe shared: the pid caches.
#[pin_data(PinnedDrop)]
struct ShadowPidModule {
    /// Deregistered on unload, which waits for no file: every open file holds
    /// a reference on this module, so `rmmod` is refused while one is open.
    #[pin]
    _miscdev: MiscDeviceRegistration<device::UniverseFile>,
    /// The pid hash's buckets: made before the device, freed after it.
    _table: hash::Table,
}

impl kernel::InPlaceModule for ShadowPidModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let resizable = module_parameters::pidhash_resize.value();
        let shift = match module_parameters::pidhash_shift.value() {
            0 => hash::shift_for_memory(wrappers::page::totalram_bytes()),
            n => n,
        };
        // `mode` is left 0: the misc core then lets devtmpfs create the node
        // with its default, 0600 root:root.
        let options = MiscDeviceOptions { name: c"shadowpid" };
        try_pin_init!(Self {
            // Made before the device, dropped after it (field order).
            _table: {
                // SAFETY: once, here, before the device that leads to every
                // use of the locks and caches; the table is dropped after
                // the device.
                let table = unsafe {
                    wrappers::slab::init();
                    pidmap_env::init();
                    pid::init();
                    mirror::init();
                    hash::Table::new(shift, resizable)?
                };
                pr_info!(
                    "ABI version {}, pid hash {} buckets{}\n",
                    uapi::SHADOWPID_ABI_VERSION,
                    hash::buckets(),
                    if resizable {
                        ", resizable"
                    } else {
                        ""
                    }
                );
                table
            },
            _miscdev <- MiscDeviceRegistration::register(options),
        })
    }
}

#[pinned_drop]
impl PinnedDrop for ShadowPidModule {
    fn drop(self: Pin<&mut Self>) {
        // No file is open (each pins the module), but pids freed by the last
        // ones may still wait for their grace period.
        kernel::sync::rcu::rcu_barrier();
        mirror::exit();
        for cache in pid::caches() {
            if cache.objects() != 0 {
                pr_err!("{} objects left in a cache at unload\n", cache.objects());
            }
            // SAFETY: no universe is left and every RCU callback has run:
            // nothing uses the caches any more.
            unsafe { cache.destroy() };
        }
        // SAFETY: no file is open, so no benchmark runs or will.
        unsafe { bench::exit() };
    }
}
