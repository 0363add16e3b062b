// SPDX-License-Identifier: GPL-2.0

//! The pipeline, broken on purpose, one break per test: each must turn the
//! summary into a failure that names what broke.
//!
//! The guest log is produced as make check produces it: a kselftest
//! collection installed the way `make selftests` installs it, run one test
//! per call by the kernel's own `run_kselftest.sh` (from the kernel source,
//! `SHADOWPID_KSRC`, or the one scripts/kernel-source unpacked), its
//! scripts printing KTAP through the kernel's `ktap_helpers.sh`. The KUnit
//! cases expected are those of the module's own source.

use shadowpid_verdict::{
    expect::{self, Expected},
    skips,
    summary::{compute, Console, Inputs, Verdict},
};
use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

/// The checkout.
fn top() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .canonicalize()
        .unwrap()
}

/// The kernel's selftests folder: runner, KTAP helpers.
fn kselftest_src() -> PathBuf {
    let ksrc = std::env::var_os("SHADOWPID_KSRC")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("SHADOWPID_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/shadowpid")
                });
            fs::read_dir(cache.join("src"))
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.join("Makefile").exists())
        });
    let dir = ksrc
        .expect("no kernel source: set SHADOWPID_KSRC (make check fetches it)")
        .join("tools/testing/selftests");
    assert!(
        dir.join("run_kselftest.sh").exists(),
        "{} has no run_kselftest.sh",
        dir.display()
    );
    dir
}

/// An installed collection in a fresh folder, as `make selftests` lays it
/// out, with the given `(name, body)` test scripts.
struct Collection {
    dir: PathBuf,
}

impl Collection {
    fn new(tag: &str, tests: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("verdict-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("shadowpid")).unwrap();
        let src = kselftest_src();
        fs::copy(src.join("run_kselftest.sh"), dir.join("run_kselftest.sh")).unwrap();
        fs::create_dir_all(dir.join("kselftest")).unwrap();
        for f in fs::read_dir(src.join("kselftest")).unwrap() {
            let f = f.unwrap().path();
            fs::copy(&f, dir.join("kselftest").join(f.file_name().unwrap())).unwrap();
        }
        let mut list = String::new();
        for (name, body) in tests {
            let p = dir.join("shadowpid").join(name);
            fs::write(
                &p,
                format!(
                    "#!/bin/bash\n. \"$(dirname \"$0\")/../kselftest/ktap_helpers.sh\"\n{body}"
                ),
            )
            .unwrap();
            Command::new("chmod").arg("+x").arg(&p).status().unwrap();
            list += &format!("shadowpid:{name}\n");
        }
        fs::write(dir.join("kselftest-list.txt"), list).unwrap();
        Collection { dir }
    }

    /// Runs the named tests one per call, as scripts/guest-check does, and
    /// returns the runner's output.
    fn run(&self, tests: &[&str]) -> String {
        let mut log = String::new();
        for t in tests {
            let out = Command::new(self.dir.join("run_kselftest.sh"))
                .arg("-t")
                .arg(format!("shadowpid:{t}"))
                .output()
                .unwrap();
            log += &String::from_utf8_lossy(&out.stdout);
        }
        log
    }

    fn list(&self) -> String {
        fs::read_to_string(self.dir.join("kselftest-list.txt")).unwrap()
    }
}

impl Drop for Collection {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A KTAP test of `n` passing cases.
fn passing(n: usize) -> String {
    let mut s = format!("ktap_print_header\nktap_set_plan {n}\n");
    for i in 0..n {
        s += &format!("ktap_test_pass case{i}\n");
    }
    s + "ktap_finished\n"
}

/// The KUnit kselftest: reports the given `SUITE.CASE` names, all passing.
fn kunit(cases: &[String]) -> String {
    let mut s = format!("ktap_print_header\nktap_set_plan {}\n", cases.len());
    for c in cases {
        s += &format!("ktap_test_pass {c}\n");
    }
    s + "ktap_finished\n"
}

/// Every KUnit case of the module's source.
fn module_kunit_cases() -> Vec<String> {
    let cases = expect::kunit_tree(&top().join("rust")).unwrap();
    assert!(
        cases
            .iter()
            .any(|c| c == "shadowpid_pidmap.cyclic_from_start_then_wrap"),
        "{cases:?}"
    );
    cases
}

/// A clean console and its taint: O, E (the module) and N (KUnit ran).
fn clean_console() -> Console {
    Console {
        name: "vm-console.log".into(),
        log: "[    0.000000] Linux version 7.3.4\n[    1.000000] shadowpid: loaded\n".into(),
        taint: Some(format!("{}\n", (1 << 12) | (1 << 13) | (1 << 18))),
    }
}

/// Inputs for a collection's run, with the module's KUnit cases expected
/// of `shadowpid_kunit.sh`, on a kernel configured with `config`.
fn inputs(c: &Collection, guest: String, config: &str) -> Inputs {
    let source: Vec<String> = fs::read_dir(c.dir.join("shadowpid"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".sh")
                .to_string()
        })
        .collect();
    Inputs {
        expected: Expected {
            kselftests: Expected::kselftests(&c.list(), "shadowpid", &source),
            cases: module_kunit_cases()
                .into_iter()
                .map(|k| ("shadowpid_kunit".to_string(), k))
                .collect(),
            ..Default::default()
        },
        skips: skips::parse(
            &fs::read_to_string(top().join("tools/testing/selftests/shadowpid/skips")).unwrap(),
        )
        .unwrap(),
        config: skips::config(config),
        collection: "shadowpid".into(),
        guest,
        consoles: vec![clean_console()],
        ..Default::default()
    }
}

const REGULAR: &str = "CONFIG_RUST=y\nCONFIG_KUNIT=y\n";

fn the_collection(tag: &str) -> Collection {
    let cases = module_kunit_cases();
    Collection::new(
        tag,
        &[
            ("shadowpid_a.sh", &passing(3)),
            ("shadowpid_kunit.sh", &kunit(&cases)),
            ("shadowpid_b.sh", &passing(2)),
        ],
    )
}

fn all() -> [&'static str; 3] {
    ["shadowpid_a.sh", "shadowpid_kunit.sh", "shadowpid_b.sh"]
}

/// Asserts that `v` failed, one of its failures containing `what`.
#[track_caller]
fn fails_with(v: &Verdict, what: &str) {
    assert!(!v.ok(), "the summary passed:\n{}", v.render());
    assert!(
        v.failures.iter().any(|f| f.contains(what)),
        "no failure mentions {what:?}:\n{}",
        v.render()
    );
}

#[test]
fn the_unbroken_pipeline_passes() {
    let c = the_collection("clean");
    let v = compute(&inputs(&c, c.run(&all()), REGULAR));
    assert!(v.ok(), "{}", v.render());
    let (p, f, s) = v.totals();
    // 3 + 2 cases, every KUnit case, one clean console and its taint.
    assert_eq!(
        (p, f, s),
        (5 + module_kunit_cases().len() + 2, 0, 0),
        "{}",
        v.render()
    );
}

#[test]
fn an_empty_kselftest_list() {
    let c = the_collection("empty-list");
    fs::write(c.dir.join("kselftest-list.txt"), "").unwrap();
    let v = compute(&inputs(&c, c.run(&all()), REGULAR));
    fails_with(
        &v,
        "shadowpid_a: in the source folder, not in the installed collection",
    );
    // And no collection at all, source folder included.
    let mut inp = inputs(&c, String::new(), REGULAR);
    inp.expected.kselftests.clear();
    fails_with(&compute(&inp), "lists no test");
}

#[test]
fn a_test_removed_from_the_collection() {
    let c = the_collection("removed");
    let list = c.list().replace("shadowpid:shadowpid_b.sh\n", "");
    fs::write(c.dir.join("kselftest-list.txt"), list).unwrap();
    let v = compute(&inputs(&c, c.run(&all()), REGULAR));
    fails_with(
        &v,
        "shadowpid_b: in the source folder, not in the installed collection",
    );
}

#[test]
fn a_test_that_never_ran() {
    // A -t name that matches nothing: the runner runs nothing for it.
    let c = the_collection("never-ran");
    let v = compute(&inputs(
        &c,
        c.run(&["shadowpid_a.sh", "shadowpid_kunit.sh", "shadowpid_bee.sh"]),
        REGULAR,
    ));
    fails_with(&v, "shadowpid_b: expected, did not report");
}

#[test]
fn a_kunit_case_that_never_reports() {
    let mut cases = module_kunit_cases();
    let lost = cases.remove(cases.len() / 2);
    let c = Collection::new(
        "kunit-lost",
        &[
            ("shadowpid_a.sh", &passing(3)),
            ("shadowpid_kunit.sh", &kunit(&cases)),
            ("shadowpid_b.sh", &passing(2)),
        ],
    );
    let v = compute(&inputs(&c, c.run(&all()), REGULAR));
    fails_with(
        &v,
        &format!("shadowpid_kunit.{lost}: expected (it is in the source), did not report"),
    );
}

#[test]
fn a_ktap_script_that_stops_early() {
    // Plans 10, reports 5, then exits 0 without ktap_finished.
    let mut body = String::from("ktap_print_header\nktap_set_plan 10\n");
    for i in 0..5 {
        body += &format!("ktap_test_pass case{i}\n");
    }
    body += "exit 0\n";
    let cases = module_kunit_cases();
    let c = Collection::new(
        "early",
        &[
            ("shadowpid_a.sh", &body),
            ("shadowpid_kunit.sh", &kunit(&cases)),
            ("shadowpid_b.sh", &passing(2)),
        ],
    );
    let log = c.run(&all());
    assert!(
        log.contains("ok 1 selftests: shadowpid: shadowpid_a.sh\n"),
        "the runner called it a pass:\n{log}"
    );
    let v = compute(&inputs(&c, log, REGULAR));
    fails_with(&v, "shadowpid_a: planned 10 cases, reported 5");
}

#[test]
fn a_skip_inside_the_vm() {
    let skip_all = "echo '# SKIP: needs /dev/shadowpid'\nexit $KSFT_SKIP\n";
    let skip_case = "ktap_print_header\nktap_set_plan 2\nktap_test_pass one\nktap_test_skip two\nktap_finished\n";
    let cases = module_kunit_cases();
    let c = Collection::new(
        "skip",
        &[
            ("shadowpid_a.sh", skip_all),
            ("shadowpid_kunit.sh", &kunit(&cases)),
            ("shadowpid_b.sh", skip_case),
        ],
    );
    let v = compute(&inputs(&c, c.run(&all()), REGULAR));
    fails_with(&v, "shadowpid_a: skipped (needs /dev/shadowpid)");
    fails_with(&v, "shadowpid_b.two: skipped");
}

#[test]
fn an_allowed_skip_only_where_its_condition_holds() {
    // The project's own list allows shadowpid_faults to skip without
    // fault injection (the regular kernel), not on the debug kernel.
    let skip_all = "echo '# SKIP: no failslab'\nexit $KSFT_SKIP\n";
    let cases = module_kunit_cases();
    let c = Collection::new(
        "allowed",
        &[
            ("shadowpid_faults.sh", skip_all),
            ("shadowpid_kunit.sh", &kunit(&cases)),
        ],
    );
    let log = c.run(&["shadowpid_faults.sh", "shadowpid_kunit.sh"]);
    let v = compute(&inputs(&c, log.clone(), REGULAR));
    assert!(v.ok(), "{}", v.render());
    assert_eq!(v.totals().2, 1);
    assert!(
        v.skips[0].starts_with("shadowpid_faults: "),
        "{:?}",
        v.skips
    );
    let debug = "CONFIG_FAILSLAB=y\nCONFIG_FAIL_PAGE_ALLOC=y\nCONFIG_KASAN=y\n";
    fails_with(
        &compute(&inputs(&c, log, debug)),
        "shadowpid_faults: skipped (no failslab)",
    );
}

#[test]
fn a_console_with_a_lockdep_info() {
    let c = the_collection("lockdep");
    let mut inp = inputs(&c, c.run(&all()), REGULAR);
    inp.consoles[0].log += "[   12.000000] INFO: trying to register non-static key.\n";
    fails_with(
        &compute(&inp),
        "vm-console.log:3: lockdep: INFO: trying to register non-static key.",
    );
}

#[test]
fn a_taint_flag() {
    let c = the_collection("taint");
    let mut inp = inputs(&c, c.run(&all()), REGULAR);
    inp.consoles[0].taint = Some(format!("{}\n", (1 << 9) | (1 << 12)));
    fails_with(&compute(&inp), "kernel tainted W (kernel warning");
    inp.consoles[0].taint = None;
    fails_with(&compute(&inp), "no taint flags read");
}

#[test]
fn a_failing_case_and_a_killed_test() {
    let fail = "ktap_print_header\nktap_set_plan 2\nktap_test_pass one\nktap_test_fail two\nktap_finished\n";
    let cases = module_kunit_cases();
    let c = Collection::new(
        "fail",
        &[
            ("shadowpid_a.sh", fail),
            ("shadowpid_kunit.sh", &kunit(&cases)),
        ],
    );
    let log = c.run(&["shadowpid_a.sh", "shadowpid_kunit.sh"]);
    fails_with(
        &compute(&inputs(&c, log.clone(), REGULAR)),
        "shadowpid_a.two: not ok",
    );
    // The guest died inside the second test: its log ends there.
    let cut = &log[..log
        .rfind("ok 1 selftests: shadowpid: shadowpid_kunit.sh")
        .unwrap()];
    fails_with(
        &compute(&inputs(&c, cut.to_string(), REGULAR)),
        "shadowpid_kunit: the log ends inside it",
    );
}
