// SPDX-License-Identifier: GPL-2.0

//! shadowpid: the PID allocator of Linux 2.6.24, in Rust, beside the native one.
//!
//! The module registers the misc device `/dev/shadowpid`. Every open file is an
//! independent universe of shadow PID namespaces, driven with the ioctls of
//! `include/uapi/linux/shadowpid.h` and torn down when the file is released.

use kernel::{
    miscdevice::{
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
};

mod device;
mod glue;
mod uapi;

module! {
    type: ShadowPidModule,
    name: "shadowpid",
    authors: ["shadowpid developers"],
    description: "Linux 2.6.24 PID allocator in Rust, compared with the native one",
    license: "GPL",
}

/// The loaded module: owns the `/dev/shadowpid` registration.
#[pin_data]
struct ShadowPidModule {
    /// Deregistered on unload, which waits for no file: every open file holds
    /// a reference on this module, so `rmmod` is refused while one is open.
    #[pin]
    _miscdev: MiscDeviceRegistration<device::UniverseFile>,
}

impl kernel::InPlaceModule for ShadowPidModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pr_info!("ABI version {}\n", uapi::SHADOWPID_ABI_VERSION);
        // `mode` is left 0: the misc core then lets devtmpfs create the node
        // with its default, 0600 root:root.
        let options = MiscDeviceOptions { name: c"shadowpid" };
        try_pin_init!(Self {
            _miscdev <- MiscDeviceRegistration::register(options),
        })
    }
}
