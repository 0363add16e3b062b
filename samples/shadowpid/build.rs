// SPDX-License-Identifier: GPL-2.0
//! Generates the ABI bindings from the one uapi header, as the module does.

use std::{env, path::PathBuf};

fn main() {
    let header = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../../include/uapi/linux/shadowpid.h")
        .canonicalize()
        .expect("include/uapi/linux/shadowpid.h");
    println!("cargo:rerun-if-changed={}", header.display());
    bindgen::Builder::default()
        .header(header.to_str().unwrap())
        .use_core()
        .clang_macro_fallback()
        .prepend_enum_name(false)
        .allowlist_type("shadowpid_.*")
        .allowlist_var("SHADOWPID_.*")
        .derive_default(true)
        .derive_eq(true)
        .generate()
        .expect("bindgen on the uapi header")
        .write_to_file(PathBuf::from(env::var("OUT_DIR").unwrap()).join("abi.rs"))
        .expect("writing abi.rs");
}
