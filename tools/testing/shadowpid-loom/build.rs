// SPDX-License-Identifier: GPL-2.0

//! Builds this crate, and only this crate, with `cfg(shadowpid_host)`, under
//! which the module's files leave out their KUnit tests, and with
//! `cfg(loom)` (the dependencies need not be rebuilt for it, as
//! `RUSTFLAGS="--cfg loom"` would), unless the `host-std` feature asks for
//! plain `std` atomics. The broken variants exist only under `loom`, so any
//! of them keeps it on: `--all-features` (`make CLIPPY=1`) checks the models
//! and every variant.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(loom)");
    println!("cargo::rustc-check-cfg=cfg(shadowpid_host)");
    println!("cargo::rustc-cfg=shadowpid_host");
    let broken = std::env::vars_os().any(|(k, _)| {
        k.to_str()
            .is_some_and(|k| k.starts_with("CARGO_FEATURE_BROKEN_"))
    });
    if broken || std::env::var_os("CARGO_FEATURE_HOST_STD").is_none() {
        println!("cargo::rustc-cfg=loom");
    }
}
