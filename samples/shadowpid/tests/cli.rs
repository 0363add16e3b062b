// SPDX-License-Identifier: GPL-2.0
//! The CLI as a person meets it on a machine without the module (the host
//! of `make check`): what it says without the module, without privilege,
//! and for a script with a typo; its completions and man pages. What needs
//! the module (progress at a terminal, interrupts, the real device's
//! refusals) is tools/testing/selftests/shadowpid/shadowpid_cli.sh.

use std::{
    fs,
    io::Write,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

/// The CLI built by cargo for the tests.
const CLI: &str = env!("CARGO_BIN_EXE_shadowpid");

/// A directory of this test's own, emptied.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Runs the CLI with `args` (and `stdin`), as `prefix` says (e.g. under
/// another user).
fn run_as(prefix: &[&str], args: &[&str], stdin: &str) -> Output {
    let (program, rest) = match prefix.split_first() {
        Some((p, rest)) => (*p, [rest, &[CLI]].concat()),
        None => (CLI, vec![]),
    };
    let mut child = Command::new(program)
        .args(rest)
        .args(args)
        // Nothing of the caller's choosing.
        .env_remove("SHADOWPID_DEVICE")
        .env_remove("SHADOWPID_PROGRESS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running the CLI");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs the CLI with `args`.
fn run(args: &[&str]) -> Output {
    run_as(&[], args, "")
}

/// Its stdout and stderr, as text.
fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts that `out` failed with exactly `first` then `cause` on stderr,
/// and printed nothing on stdout.
fn assert_one_error(what: &str, out: &Output, first: &str, cause: &str) {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    assert_eq!(stdout, "", "{what}: printed before failing");
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [first, &format!("  cause: {cause}")],
        "{what}"
    );
}

/// The commands that need the device, each as a person would try it.
const DEVICE_COMMANDS: &[&[&str]] = &[
    &["version"],
    &["alloc", "0"],
    &["script"],
    &["model-test"],
    &["compare", "--random", "2"],
    &["stress"],
    &["fuzz", "--seconds", "1"],
    &["faults", "--target", "slab"],
    &["bench", "--smoke"],
    &["mirror", "status"],
    &["mirror", "run", "--", "true"],
];

#[test]
fn without_the_module_every_command_says_so_once() {
    // On a machine with the module loaded the node is looked for where it
    // is not: then the module is loaded, but there is no such node.
    let loaded = Path::new("/sys/module/shadowpid").exists();
    let missing = scratch("no-module").join("shadowpid");
    let device = if loaded {
        missing.to_str().unwrap()
    } else {
        "/dev/shadowpid"
    };
    assert!(!Path::new(device).exists(), "{device} exists");
    let first = if loaded {
        format!(
            "shadowpid: cannot open {device}: the shadowpid module is loaded but there is no \
             such node (is devtmpfs mounted on /dev? the node's numbers are in \
             /sys/class/misc/shadowpid/dev)"
        )
    } else {
        "shadowpid: cannot open /dev/shadowpid: the shadowpid module is not loaded (no \
         /sys/module/shadowpid); load it as root: insmod shadowpid.ko (built by 'make'; \
         'make run' tries it in a test guest)"
            .to_string()
    };
    for args in DEVICE_COMMANDS {
        let out = run(&[&["--device", device], *args].concat());
        assert_one_error(
            &args.join(" "),
            &out,
            &first,
            "No such file or directory (os error 2)",
        );
    }
}

#[test]
fn without_privilege_it_says_run_as_root() {
    // A node this user may not open: mode 0 (root would be let in: it runs
    // the CLI as nobody).
    let dir = scratch("no-privilege");
    let node = dir.join("shadowpid");
    fs::write(&node, "").unwrap();
    fs::set_permissions(&node, fs::Permissions::from_mode(0o000)).unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let prefix: &[&str] = if root {
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]
    } else {
        &[]
    };
    let uid = if root {
        65534
    } else {
        // SAFETY: as above.
        unsafe { libc::geteuid() }
    };
    // SAFETY: as above.
    let owner = unsafe { libc::geteuid() };
    let node = node.to_str().unwrap();
    for args in [
        &["version"][..],
        &["compare"],
        &["faults", "--target", "page"],
    ] {
        let out = run_as(prefix, &[&["--device", node], args].concat(), "");
        assert_one_error(
            &args.join(" "),
            &out,
            &format!(
                "shadowpid: cannot open {node}: permission denied to uid {uid}: the node is mode \
                 0000, owner uid {owner}; run as root (e.g. sudo), which also gives CAP_SYS_ADMIN"
            ),
            "Permission denied (os error 13)",
        );
    }
}

#[test]
fn a_file_that_is_no_shadowpid_device_is_named() {
    let node = scratch("not-a-device").join("shadowpid");
    fs::write(&node, "").unwrap();
    let node = node.to_str().unwrap();
    let out = run(&["--device", node, "stress"]);
    assert_one_error(
        "stress",
        &out,
        &format!(
            "shadowpid: {node} is not a shadowpid device: it does not answer SHADOWPID_IOC_VERSION"
        ),
        "Inappropriate ioctl for device (os error 25)",
    );
}

/// A script with a typo on line 4, an operation's errno on line 5.
const TYPO: &str = "alloc 0\n\n# a comment\nbogus 1 2\nfree 0 99\nalloc 0\n";

#[test]
fn a_typo_in_a_script_is_a_parse_error_with_its_line() {
    let out = run_as(&[], &["script", "--model"], TYPO);
    let (stdout, stderr) = text(&out);
    // The operations as the one list has them (shadowpid::ops::USAGE).
    let typo = format!(
        "parse error at line 4: unknown operation \"bogus\" (operations: {})",
        shadowpid::ops::operations()
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["pid 1", typo.as_str(), "err ESRCH", "pid 2"]
    );
    assert_eq!(
        stderr,
        "shadowpid script: 1 line did not parse (see \"parse error at line N\")\n"
    );
    assert_eq!(out.status.code(), Some(1));

    // Without the typo the errno is an answer, not a failure.
    let out = run_as(&[], &["script", "--model"], "alloc 0\nfree 0 99\n");
    assert_eq!(text(&out).0, "pid 1\nerr ESRCH\n");
    assert!(out.status.success());
}

#[test]
fn stop_on_error_stops_at_the_line_that_failed() {
    let out = run_as(&[], &["script", "--model", "--stop-on-error"], TYPO);
    let (stdout, _) = text(&out);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("parse error at line 4: "));
    assert_eq!(out.status.code(), Some(1));

    let out = run_as(
        &[],
        &["script", "--model", "--stop-on-error"],
        "alloc 0\nfree 0 99\nalloc 0\n",
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(stdout, "pid 1\nerr ESRCH\n");
    assert_eq!(
        stderr,
        "shadowpid script: stopped at line 2 (free 0 99): err ESRCH\n"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn script_as_json_is_one_object_a_line() {
    let out = run_as(&[], &["script", "--model", "--json"], TYPO);
    let lines: Vec<serde_json::Value> = text(&out)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["numbers"], serde_json::json!([1]));
    assert_eq!(lines[1]["answer"], "parse_error");
    assert_eq!(lines[1]["line"], 4);
    assert_eq!(lines[2]["errno"], "ESRCH");
}

#[test]
fn completions_and_man_pages_come_from_the_definitions() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        let (stdout, _) = text(&out);
        assert!(out.status.success(), "{shell}");
        for word in ["stress", "mirror", "stop-on-error", "progress"] {
            assert!(stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    let dir = scratch("man");
    let out = run(&["man", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    let page = fs::read_to_string(dir.join("shadowpid.1")).unwrap();
    assert!(page.contains(".TH shadowpid 1"));
    assert!(page.contains("Exit status"));
    let run_page = fs::read_to_string(dir.join("shadowpid-mirror-run.1")).unwrap();
    assert!(run_page.contains("passed on to CMD"));
    assert!(dir.join("shadowpid-script.1").exists());
}
