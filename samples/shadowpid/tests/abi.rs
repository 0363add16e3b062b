// SPDX-License-Identifier: GPL-2.0
//! The Rust view of the ABI must be the C one: compile a C program against the
//! header, print every command number and struct layout, compare.

use shadowpid::abi;
use std::{mem, path::PathBuf, process::Command};

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

/// `printf` lines for C expressions, and the Rust values they must equal.
fn compare(name: &str, pairs: &[(&str, u64)]) {
    let body: String = pairs
        .iter()
        .map(|(c, _)| format!("printf(\"%llu\\n\", (unsigned long long)({c}));"))
        .collect();
    let c: Vec<u64> = run_c(name, &body)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    for ((expr, rust), c) in pairs.iter().zip(&c) {
        assert_eq!(*rust, *c, "{expr}: Rust {rust}, C {c}");
    }
    assert_eq!(c.len(), pairs.len());
}

macro_rules! layout {
    ($t:ident: $($f:ident),*) => {
        [
            (concat!("sizeof(struct ", stringify!($t), ")"), mem::size_of::<abi::$t>() as u64),
            $((
                concat!("offsetof(struct ", stringify!($t), ", ", stringify!($f), ")"),
                mem::offset_of!(abi::$t, $f) as u64,
            ),)*
        ]
    };
}

#[test]
fn command_numbers_and_constants_match_c() {
    compare(
        "numbers",
        &[
            ("SHADOWPID_IOC_VERSION", abi::SHADOWPID_IOC_VERSION.into()),
            ("SHADOWPID_IOC_OP", abi::SHADOWPID_IOC_OP.into()),
            ("SHADOWPID_IOC_BATCH", abi::SHADOWPID_IOC_BATCH.into()),
            ("SHADOWPID_IOC_STATS", abi::SHADOWPID_IOC_STATS.into()),
            ("SHADOWPID_IOC_BENCH", abi::SHADOWPID_IOC_BENCH.into()),
            (
                "SHADOWPID_BENCH_MAX_REPS",
                abi::SHADOWPID_BENCH_MAX_REPS.into(),
            ),
            (
                "SHADOWPID_BENCH_OCCUPANCY",
                abi::SHADOWPID_BENCH_OCCUPANCY.into(),
            ),
            ("SHADOWPID_ABI_VERSION", abi::SHADOWPID_ABI_VERSION.into()),
            ("SHADOWPID_OP_CHECK", abi::SHADOWPID_OP_CHECK.into()),
            ("SHADOWPID_PIDTYPE_SID", abi::SHADOWPID_PIDTYPE_SID.into()),
            ("SHADOWPID_BATCH_MAX", abi::SHADOWPID_BATCH_MAX.into()),
        ],
    );
}

#[test]
fn struct_layouts_match_c() {
    compare(
        "version",
        &layout!(shadowpid_version: abi_version, reserved),
    );
    compare(
        "op",
        &layout!(shadowpid_op: op, result, ns, nr, arg, count, value, level, reserved, nrs, reserved2),
    );
    compare(
        "batch",
        &layout!(shadowpid_batch: ops, count, done, flags, failed),
    );
    compare(
        "stats",
        &layout!(shadowpid_stats: ns, level, flags, live_pids, pidmap_pages, last_pid, pid_max,
            hash_buckets, hash_longest, hash_entries, bytes, universe_pids, universe_namespaces,
            module_pids, module_namespaces, module_pages, reserved),
    );
    compare(
        "bench",
        &layout!(shadowpid_bench: figure, reps, iterations, live, depth, cpus, occupancy,
            pid_max, layout, columns, shadow_ps, rebuild_ps, kernel_ps, work, shadow_bytes,
            rebuild_bytes, kernel_bytes),
    );
}
