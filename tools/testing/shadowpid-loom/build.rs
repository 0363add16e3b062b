// SPDX-License-Identifier: GPL-2.0

//! Builds this crate, and only this crate, with `cfg(loom)`: `pidmap.rs`
//! leaves out its KUnit tests under it, and the dependencies need not be
//! rebuilt for it (as `RUSTFLAGS="--cfg loom"` would).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(loom)");
    println!("cargo::rustc-cfg=loom");
}
