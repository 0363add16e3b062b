// SPDX-License-Identifier: GPL-2.0

//! Builds this crate, and only this crate, with `cfg(shadowpid_host)`, under
//! which the module's files leave out their KUnit tests, and, unless the
//! `host-std` feature asks for plain `std` atomics, with `cfg(loom)`: the
//! dependencies need not be rebuilt for it (as `RUSTFLAGS="--cfg loom"`
//! would).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(loom)");
    println!("cargo::rustc-check-cfg=cfg(shadowpid_host)");
    println!("cargo::rustc-cfg=shadowpid_host");
    if std::env::var_os("CARGO_FEATURE_HOST_STD").is_none() {
        println!("cargo::rustc-cfg=loom");
    }
}
