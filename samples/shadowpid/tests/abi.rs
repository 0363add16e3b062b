// SPDX-License-Identifier: GPL-2.0
//! The Rust view of the ABI must be the C one: compile a C program against the
//! header, print every command number and struct layout, compare.

use shadowpid::abi;
use std::{mem, path::PathBuf, process::Command};

/// Builds and runs (as `name`) `main_body` as C with the uapi header included; returns stdout.
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
        .arg("-I")
        .arg(&include)
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .status()
        .expect("running cc");
    assert!(status.success(), "cc failed on the probe");
    let out = Command::new(&bin).output().expect("running the probe");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn command_numbers_match_c() {
    let c = run_c(
        "numbers",
        r#"printf("%u %u\n", (unsigned)SHADOWPID_IOC_VERSION, (unsigned)SHADOWPID_ABI_VERSION);"#,
    );
    assert_eq!(
        c.trim(),
        format!(
            "{} {}",
            abi::SHADOWPID_IOC_VERSION,
            abi::SHADOWPID_ABI_VERSION
        )
    );
}

#[test]
fn struct_layouts_match_c() {
    let c = run_c(
        "layouts",
        r#"printf("%zu %zu %zu\n", sizeof(struct shadowpid_version),
            offsetof(struct shadowpid_version, abi_version),
            offsetof(struct shadowpid_version, reserved));"#,
    );
    assert_eq!(
        c.trim(),
        format!(
            "{} {} {}",
            mem::size_of::<abi::shadowpid_version>(),
            mem::offset_of!(abi::shadowpid_version, abi_version),
            mem::offset_of!(abi::shadowpid_version, reserved)
        )
    );
}
