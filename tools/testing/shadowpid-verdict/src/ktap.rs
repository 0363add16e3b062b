// SPDX-License-Identifier: GPL-2.0

//! The kselftest runner's output (`run_kselftest.sh`), across any number of
//! runs and boots appended to one log.
//!
//! The runner announces each test with `# selftests: COLLECTION: NAME`,
//! prefixes everything the test prints with `# `, and ends it with its own
//! `ok N selftests: COLLECTION: NAME` (`# SKIP` when the test exited 4,
//! `not ok … # exit=RC` or `# TIMEOUT` otherwise). Inside, a test that
//! speaks KTAP gives a plan (`1..N`) and one line per case. Deeper levels
//! (indented subtests) belong to the case that follows them and are not
//! scored separately.

use crate::Outcome;

/// One case a test reported, at its top level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The case's description, directive removed.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
}

/// One kselftest as the runner ran it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kselftest {
    /// The test's file name without `.sh`.
    pub name: String,
    /// The plan the test printed, if any.
    pub plan: Option<usize>,
    /// `1..0 # SKIP reason`: the test skipped as a whole.
    pub skip_all: Option<String>,
    /// Its cases, in the order reported.
    pub cases: Vec<Case>,
    /// The runner's line for the whole test; `None` when the log ends first.
    pub result: Option<Outcome>,
    /// A `Bail out!` line, if the test gave up.
    pub bailed: Option<String>,
    /// The last `# SKIP …` comment the test printed: the reason behind an
    /// exit status of 4.
    pub skip_note: Option<String>,
}

/// A KTAP result line: `ok|not ok N DESC [# DIRECTIVE REASON]`.
fn result_line(line: &str) -> Option<Case> {
    let (ok, rest) = if let Some(r) = line.strip_prefix("not ok ") {
        (false, r)
    } else {
        (true, line.strip_prefix("ok ")?)
    };
    let (num, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    num.parse::<u64>().ok()?;
    let (desc, directive) = match rest.split_once(" # ") {
        Some((d, dir)) => (d, Some(dir.trim())),
        None => match rest.strip_prefix("# ") {
            Some(dir) => ("", Some(dir.trim())),
            None => (rest, None),
        },
    };
    let word = |d: &str, w: &str| {
        d.len() >= w.len()
            && d[..w.len()].eq_ignore_ascii_case(w)
            && !d[w.len()..].starts_with(|c: char| c.is_alphanumeric())
    };
    let outcome = match directive {
        Some(d) if word(d, "SKIP") => Outcome::Skip(d[4..].trim().to_string()),
        Some(d) if ok && (word(d, "XFAIL") || word(d, "TODO")) => Outcome::Pass,
        Some(d) if !ok => Outcome::Fail(d.to_string()),
        _ if ok => Outcome::Pass,
        _ => Outcome::Fail(String::new()),
    };
    Some(Case {
        name: desc.trim().to_string(),
        outcome,
    })
}

/// Every kselftest of `collection` in `log`, in the order they ran. A test
/// that ran twice (two boots) appears twice.
pub fn parse(log: &str, collection: &str) -> Vec<Kselftest> {
    let header = format!("selftests: {collection}: ");
    let mut tests = Vec::new();
    let mut cur: Option<Kselftest> = None;
    for raw in log.lines() {
        let line = raw.trim_end_matches('\r');
        if let Some(name) = line
            .strip_prefix("# ")
            .and_then(|l| l.strip_prefix(&header))
        {
            tests.extend(cur.take());
            cur = Some(Kselftest {
                name: name.trim().trim_end_matches(".sh").to_string(),
                ..Default::default()
            });
            continue;
        }
        let Some(t) = cur.as_mut() else { continue };
        if let Some(inner) = line
            .strip_prefix("# ")
            .or_else(|| (line == "#").then_some(""))
        {
            nested(t, inner);
        } else if let Some(case) = result_line(line) {
            if case.name.starts_with(&header) {
                t.result = Some(case.outcome);
                tests.extend(cur.take());
            }
        }
    }
    tests.extend(cur);
    tests
}

/// One line the test printed (the runner's `# ` removed).
fn nested(t: &mut Kselftest, line: &str) {
    if let Some(plan) = line.strip_prefix("1..") {
        let (n, dir) = plan.split_once('#').unwrap_or((plan, ""));
        if let Ok(n) = n.trim().parse() {
            t.plan = Some(n);
            let dir = dir.trim();
            if n == 0 && dir.len() >= 4 && dir[..4].eq_ignore_ascii_case("SKIP") {
                t.skip_all = Some(dir[4..].trim().to_string());
            }
        }
    } else if let Some(why) = line.strip_prefix("Bail out!") {
        t.bailed = Some(why.trim().to_string());
    } else if let Some(c) = line.strip_prefix("# ") {
        if let Some(why) = c.strip_prefix("SKIP") {
            t.skip_note = Some(why.trim_start_matches(':').trim().to_string());
        }
    } else if let Some(case) = result_line(line) {
        t.cases.push(case);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "\
TAP version 13
1..1
# timeout set to 3600
# selftests: shadowpid: shadowpid_scripts.sh
# TAP version 13
# 1..2
# ok 1 basic
# not ok 2 pidns
# # Totals: pass:1 fail:1 xfail:0 xpass:0 skip:0 error:0
not ok 1 selftests: shadowpid: shadowpid_scripts.sh # exit=1
# guest-check: scripts: 3 s
TAP version 13
1..1
# selftests: shadowpid: shadowpid_faults.sh
# # SKIP: this kernel has no failslab/fail_page_alloc
ok 1 selftests: shadowpid: shadowpid_faults.sh # SKIP
TAP version 13
1..1
# selftests: shadowpid: shadowpid_test
# TAP version 13
# 1..2
# # Starting 2 tests from 2 test cases.
# #  RUN           global.a ...
# #            OK  global.a
# ok 1 global.a
# #      SKIP      not root
# ok 2 global.b # SKIP not root
# # Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0
ok 1 selftests: shadowpid: shadowpid_test
";

    #[test]
    fn tests_cases_plans_and_results() {
        let t = parse(RUN, "shadowpid");
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].name, "shadowpid_scripts");
        assert_eq!(t[0].plan, Some(2));
        assert_eq!(
            t[0].cases[1],
            Case {
                name: "pidns".into(),
                outcome: Outcome::Fail(String::new())
            }
        );
        assert_eq!(t[0].result, Some(Outcome::Fail("exit=1".into())));
        assert_eq!(t[1].result, Some(Outcome::Skip(String::new())));
        assert_eq!(
            t[1].skip_note.as_deref(),
            Some("this kernel has no failslab/fail_page_alloc")
        );
        assert_eq!(t[2].cases[1].outcome, Outcome::Skip("not root".into()));
        assert_eq!(t[2].result, Some(Outcome::Pass));
    }

    #[test]
    fn a_log_that_ends_inside_a_test() {
        let cut = &RUN[..RUN.find("# ok 1 global.a").unwrap()];
        let t = parse(cut, "shadowpid");
        assert_eq!(t.last().unwrap().name, "shadowpid_test");
        assert_eq!(t.last().unwrap().result, None);
    }

    #[test]
    fn directives() {
        let c = |l| result_line(l).unwrap().outcome;
        assert_eq!(c("ok 3 x # SKIP why"), Outcome::Skip("why".into()));
        assert_eq!(c("ok 3 x # skip"), Outcome::Skip(String::new()));
        assert_eq!(c("ok 3 x # XFAIL known"), Outcome::Pass);
        assert_eq!(
            c("not ok 3 x # TIMEOUT 30 seconds"),
            Outcome::Fail("TIMEOUT 30 seconds".into())
        );
        assert_eq!(c("ok 3 x # SKIPPER"), Outcome::Pass);
        assert!(result_line("ok x").is_none());
        assert!(result_line("okay 1 x").is_none());
    }

    #[test]
    fn skip_all_plan() {
        let log = "# selftests: shadowpid: x.sh\n# 1..0 # SKIP no device\nok 1 selftests: shadowpid: x.sh # SKIP\n";
        let t = parse(log, "shadowpid");
        assert_eq!(t[0].skip_all.as_deref(), Some("no device"));
    }
}
