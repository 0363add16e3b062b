// SPDX-License-Identifier: GPL-2.0

//! cargo's test output: `cargo test -- --list` (what a crate has) and
//! `cargo test` (what ran), both read with stderr merged in, where cargo
//! names each test binary (`Running unittests src/lib.rs (…)`,
//! `Doc-tests NAME`). A test is keyed by its binary and its name, since
//! two binaries may hold tests of the same name.

use crate::Outcome;

/// The binary a `Running …` or `Doc-tests …` line announces.
fn binary(line: &str) -> Option<String> {
    let l = line.trim();
    if let Some(r) = l.strip_prefix("Running ") {
        let target = r.split(" (").next().unwrap_or(r);
        return Some(target.rsplit(' ').next().unwrap_or(target).to_string());
    }
    l.strip_prefix("Doc-tests ")
        .map(|n| format!("doc:{}", n.trim()))
}

/// Every test `cargo test -- --list` printed, as `BINARY::NAME`.
pub fn list(out: &str) -> Vec<String> {
    let mut bin = String::from("?");
    let mut tests = Vec::new();
    for line in out.lines() {
        if let Some(b) = binary(line) {
            bin = b;
        } else if let Some(name) = line.strip_suffix(": test") {
            tests.push(format!("{bin}::{name}"));
        }
    }
    tests
}

/// Every `test NAME ... RESULT` line of a `cargo test` run, as
/// `(BINARY::NAME, outcome)`; `ignored` is a skip.
pub fn run(out: &str) -> Vec<(String, Outcome)> {
    let mut bin = String::from("?");
    let mut tests = Vec::new();
    for line in out.lines() {
        if let Some(b) = binary(line) {
            bin = b;
            continue;
        }
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, result)) = rest.rsplit_once(" ... ") else {
            continue;
        };
        let outcome = match result.trim() {
            "ok" => Outcome::Pass,
            "FAILED" => Outcome::Fail(String::new()),
            r if r.starts_with("ignored") => Outcome::Skip(
                r.trim_start_matches("ignored")
                    .trim_start_matches(", ")
                    .to_string(),
            ),
            _ => continue,
        };
        tests.push((format!("{bin}::{name}"), outcome));
    }
    tests
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_and_run_agree_on_keys() {
        let l = "    Finished `release` profile [optimized] target(s) in 0.1s\n     Running unittests src/lib.rs (target/release/deps/x-1)\na::b: test\nc: test\n\n2 tests, 0 benchmarks\n     Running tests/abi.rs (target/release/deps/abi-2)\nc: test\n   Doc-tests x\nsrc/lib.rs - f (line 3): test\n";
        assert_eq!(
            list(l),
            [
                "src/lib.rs::a::b",
                "src/lib.rs::c",
                "tests/abi.rs::c",
                "doc:x::src/lib.rs - f (line 3)"
            ]
        );
        let r = "     Running unittests src/lib.rs (target/release/deps/x-1)\n\nrunning 2 tests\ntest a::b ... ok\ntest c ... FAILED\n\ntest result: FAILED. 1 passed; 1 failed; 0 ignored\n     Running tests/abi.rs (target/release/deps/abi-2)\ntest c ... ignored, needs root\n";
        assert_eq!(
            run(r),
            [
                ("src/lib.rs::a::b".to_string(), Outcome::Pass),
                ("src/lib.rs::c".to_string(), Outcome::Fail(String::new())),
                (
                    "tests/abi.rs::c".to_string(),
                    Outcome::Skip("needs root".into())
                ),
            ]
        );
    }
}
