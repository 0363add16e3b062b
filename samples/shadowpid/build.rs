// SPDX-License-Identifier: GPL-2.0
//! Generates the ABI bindings from the one uapi header, as the module does,
//! and the manifest of what bindgen read there: every `SHADOWPID_*`
//! constant and every struct with its fields, so that `tests/abi.rs` checks
//! all of them against the C compiler without a list typed by hand.

use bindgen::callbacks::{EnumVariantValue, FieldInfo, IntKind, ParseCallbacks};
use std::{
    env,
    fmt::Write as _,
    path::PathBuf,
    sync::{Arc, Mutex},
};

/// What bindgen met in the header, in the header's order.
#[derive(Debug, Default)]
struct Seen {
    /// `SHADOWPID_*` macros and enum constants.
    constants: Vec<String>,
    /// `shadowpid_*` structs, each with its fields.
    structs: Vec<(String, Vec<String>)>,
}

/// Records [`Seen`] from bindgen's callbacks; changes nothing it generates.
#[derive(Debug, Default)]
struct Recorder(Arc<Mutex<Seen>>);

impl Recorder {
    fn constant(&self, name: &str) {
        let mut seen = self.0.lock().unwrap();
        if name.starts_with("SHADOWPID_") && !seen.constants.iter().any(|c| c == name) {
            seen.constants.push(name.to_string());
        }
    }
}

impl ParseCallbacks for Recorder {
    fn int_macro(&self, name: &str, _value: i64) -> Option<IntKind> {
        // Macros bindgen evaluates itself and those clang evaluates for it
        // (--clang-macro-fallback: the _IO/_IOR/_IOWR command numbers).
        self.constant(name);
        None
    }

    fn enum_variant_name(
        &self,
        _enum_name: Option<&str>,
        name: &str,
        _value: EnumVariantValue,
    ) -> Option<String> {
        self.constant(name);
        None
    }

    fn field_visibility(&self, info: FieldInfo<'_>) -> Option<bindgen::FieldVisibilityKind> {
        // Asked once per field of every struct generated, at code generation.
        let mut seen = self.0.lock().unwrap();
        let structs = &mut seen.structs;
        let fields = match structs.iter_mut().position(|(s, _)| s == info.type_name) {
            Some(i) => &mut structs[i].1,
            None => {
                structs.push((info.type_name.to_string(), Vec::new()));
                &mut structs.last_mut().unwrap().1
            }
        };
        if !fields.iter().any(|f| f == info.field_name) {
            fields.push(info.field_name.to_string());
        }
        None
    }
}

/// The manifest as Rust, inside `abi`: the values and layouts are the Rust
/// ones (of the generated items), the names those bindgen met.
fn manifest(seen: &Seen) -> String {
    let mut s = String::from(
        "/// Every `SHADOWPID_*` constant of the header (`#define`s and enum\n\
         /// values), and its value in the generated bindings.\n\
         pub const CONSTANTS: &[(&str, i64)] = &[\n",
    );
    for c in &seen.constants {
        writeln!(s, "    (\"{c}\", {c} as i64),").unwrap();
    }
    s += "];\n\n/// Every struct of the header, laid out as the generated bindings lay\n\
          /// it out.\npub fn structs() -> Vec<Struct> {\n    vec![\n";
    for (name, fields) in &seen.structs {
        writeln!(
            s,
            "        Struct {{\n            name: \"{name}\",\n            \
             size: ::core::mem::size_of::<{name}>(),\n            fields: vec!["
        )
        .unwrap();
        for f in fields {
            writeln!(
                s,
                "                Field {{ name: \"{f}\", offset: ::core::mem::offset_of!({name}, {f}), \
                 size: field_size(|s: &{name}| &s.{f}) }},"
            )
            .unwrap();
        }
        s += "            ],\n        },\n";
    }
    s += "    ]\n}\n";
    s
}

fn main() {
    let header = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../../include/uapi/linux/shadowpid.h")
        .canonicalize()
        .expect("include/uapi/linux/shadowpid.h");
    println!("cargo:rerun-if-changed={}", header.display());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    bindgen::Builder::default()
        .header(header.to_str().unwrap())
        .use_core()
        .clang_macro_fallback()
        .prepend_enum_name(false)
        .allowlist_type("shadowpid_.*")
        .allowlist_var("SHADOWPID_.*")
        .derive_default(true)
        .derive_eq(true)
        .parse_callbacks(Box::new(Recorder(seen.clone())))
        .generate()
        .expect("bindgen on the uapi header")
        .write_to_file(out.join("abi.rs"))
        .expect("writing abi.rs");
    let seen = seen.lock().unwrap();
    std::fs::write(out.join("abi_manifest.rs"), manifest(&seen)).expect("writing abi_manifest.rs");
}
