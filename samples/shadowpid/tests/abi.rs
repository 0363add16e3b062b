// SPDX-License-Identifier: GPL-2.0
//! The Rust view of the ABI must be the C one: compile a C program against the
//! header, print every constant (the ioctl command numbers among them) and
//! every struct's layout, compare. What to compare comes from the manifest
//! `build.rs` records while bindgen reads the header (`abi::manifest`), and
//! the manifest is held to the header's own text: no item is listed by hand,
//! none is left out.

use shadowpid::abi::manifest;
use std::{collections::BTreeSet, path::PathBuf, process::Command};

/// The one definition of the ABI.
fn header_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include/uapi/linux/shadowpid.h")
}

/// Builds and runs (as `name`) `main_body` as C with the uapi header
/// included; returns its stdout.
fn run_c(name: &str, main_body: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let src = dir.join(format!("{name}.c"));
    let bin = dir.join(name);
    let include = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include/uapi");
    std::fs::write(
        &src,
        format!(
            "#include <stdio.h>\n#include <stddef.h>\n#include <linux/shadowpid.h>\n\
             int main(void) {{ {main_body} return 0; }}\n"
        ),
    )
    .unwrap();
    let status = Command::new("cc")
        .arg("-Wall")
        .arg("-Werror")
        .arg("-I")
        .arg(&include)
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .status()
        .expect("running cc");
    assert!(status.success(), "cc failed on {}", src.display());
    let out = Command::new(&bin).output().expect("running the probe");
    assert!(out.status.success(), "{} failed", bin.display());
    String::from_utf8(out.stdout).unwrap()
}

/// The values of C expressions, in order.
fn c_values(name: &str, exprs: &[String]) -> Vec<i64> {
    let body: String = exprs
        .iter()
        .map(|c| format!("printf(\"%lld\\n\", (long long)({c}));"))
        .collect();
    let values: Vec<i64> = run_c(name, &body)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(values.len(), exprs.len());
    values
}

/// Compares each C expression's value with the Rust one; every difference
/// is named.
fn compare(name: &str, pairs: &[(String, i64)]) {
    let exprs: Vec<String> = pairs.iter().map(|(c, _)| c.clone()).collect();
    let differ: Vec<String> = pairs
        .iter()
        .zip(c_values(name, &exprs))
        .filter(|((_, rust), c)| rust != c)
        .map(|((expr, rust), c)| format!("{expr}: Rust {rust}, C {c}"))
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn every_constant_and_command_number_matches_c() {
    let pairs: Vec<(String, i64)> = manifest::CONSTANTS
        .iter()
        .map(|(name, value)| (name.to_string(), *value))
        .collect();
    compare("constants", &pairs);
}

#[test]
fn every_struct_layout_matches_c() {
    let mut pairs = Vec::new();
    for s in manifest::structs() {
        let t = format!("struct {}", s.name);
        pairs.push((format!("sizeof({t})"), s.size as i64));
        for f in &s.fields {
            let name = f.name;
            pairs.push((format!("offsetof({t}, {name})"), f.offset as i64));
            pairs.push((format!("sizeof((({t} *)0)->{name})"), f.size as i64));
        }
    }
    compare("layouts", &pairs);
}

/// The header promises explicit padding, and the module's `AsBytes` for the
/// structs relies on it (padding bytes would be uninitialised): each field
/// starts where the one before it ends, and the last ends at the struct's
/// end. The layouts are C's (checked above).
#[test]
fn no_struct_has_implicit_padding() {
    let mut holes = Vec::new();
    for s in manifest::structs() {
        let mut end = 0;
        for f in &s.fields {
            if f.offset != end {
                holes.push(format!(
                    "struct {}: {} bytes of padding before {}",
                    s.name,
                    f.offset - end,
                    f.name
                ));
            }
            end = f.offset + f.size;
        }
        if end != s.size {
            holes.push(format!(
                "struct {}: {} bytes of padding at the end",
                s.name,
                s.size - end
            ));
        }
    }
    assert!(holes.is_empty(), "{}", holes.join("\n"));
}

/// What the header's text defines: `(constants, structs)`, every
/// `SHADOWPID_*` `#define` and enum value, every `struct shadowpid_* {`.
fn defined_in(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let (mut constants, mut structs) = (BTreeSet::new(), BTreeSet::new());
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("#define ") {
            let name = ident(rest.trim_start());
            if name.starts_with("SHADOWPID_") {
                constants.insert(name);
            }
        } else if line.starts_with("SHADOWPID_") && line.contains('=') {
            constants.insert(ident(line));
        } else if let Some(rest) = line.strip_prefix("struct ") {
            if line.ends_with('{') {
                structs.insert(ident(rest));
            }
        }
    }
    (constants, structs)
}

#[test]
fn the_manifest_has_every_item_of_the_header() {
    let (constants, structs) = defined_in(&std::fs::read_to_string(header_path()).unwrap());
    let have: BTreeSet<String> = manifest::CONSTANTS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    assert_eq!(have, constants, "constants: bindgen's against the header's");
    let have: BTreeSet<String> = manifest::structs()
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(have, structs, "structs: bindgen's against the header's");
    // The reading itself: it finds what it is meant to, in a header of two
    // lines as in the real one.
    let (c, s) = defined_in(
        "#define SHADOWPID_IOC_X\t_IO(SHADOWPID_IOC_MAGIC, 9)\n\
         struct shadowpid_x {\n\tSHADOWPID_Y = 1,\n",
    );
    assert_eq!(
        (
            c.into_iter().collect::<Vec<_>>(),
            s.into_iter().collect::<Vec<_>>()
        ),
        (
            vec!["SHADOWPID_IOC_X".to_string(), "SHADOWPID_Y".into()],
            vec!["shadowpid_x".to_string()]
        )
    );
}

/// The CLI speaks every command the header defines: `Device` (src/device.rs)
/// issues each one. Their numbers and argument sizes are compared above.
#[test]
fn the_device_wraps_every_command() {
    let device = include_str!("../src/device.rs");
    let commands: Vec<&str> = manifest::CONSTANTS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| n.starts_with("SHADOWPID_IOC_") && *n != "SHADOWPID_IOC_MAGIC")
        .collect();
    assert!(commands.contains(&"SHADOWPID_IOC_MIRROR"), "{commands:?}");
    let missing: Vec<&&str> = commands
        .iter()
        .filter(|c| !device.contains(&format!("abi::{c}")))
        .collect();
    assert!(
        missing.is_empty(),
        "no wrapper in src/device.rs for {missing:?}"
    );
}

/// A size the documentation states (Documentation/shadowpid/abi.rst:
/// "``struct shadowpid_op`` is 184 bytes") is bindgen's.
#[test]
fn the_sizes_the_documentation_states_are_the_header_s() {
    let rst = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../Documentation/shadowpid/abi.rst"),
    )
    .unwrap();
    let structs = manifest::structs();
    let mut stated = 0;
    for (i, _) in rst.match_indices("``struct ") {
        let rest = &rst[i + "``struct ".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let Some(rest) = rest[name.len()..].strip_prefix("`` is ") else {
            continue;
        };
        let bytes: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if bytes.is_empty() || !rest[bytes.len()..].starts_with(" bytes") {
            continue;
        }
        let s = structs.iter().find(|s| s.name == name);
        let s = s.unwrap_or_else(|| panic!("abi.rst: struct {name} is not in the header"));
        assert_eq!(
            bytes.parse::<usize>().unwrap(),
            s.size,
            "abi.rst: struct {name} is {bytes} bytes"
        );
        stated += 1;
    }
    assert!(
        stated > 0,
        "abi.rst states no struct's size any more: drop this test"
    );
}
