// SPDX-License-Identifier: GPL-2.0

//! Every result held against what should have run.

use crate::{
    cargo, console,
    expect::Expected,
    ktap::{self, Kselftest},
    skips::{self, Allowed},
    Outcome,
};
use std::collections::HashSet;

/// One guest boot's console, and the taint flags read at its end (the
/// value of /proc/sys/kernel/tainted; `None` when the guest never got
/// there).
#[derive(Clone, Debug)]
pub struct Console {
    /// The log's name, for the report.
    pub name: String,
    /// The console's text.
    pub log: String,
    /// The taint value as the guest printed it.
    pub taint: Option<String>,
}

impl Console {
    /// What the console and the taint value say, as two results (the
    /// reports, the taint), each `Ok` when clean, else every finding named.
    pub fn findings(&self) -> (Result<(), Vec<String>>, Result<(), Vec<String>>) {
        let reports: Vec<String> = console::scan(&self.log)
            .into_iter()
            .map(|r| format!("{}:{}: {}: {}", self.name, r.line, r.kind, r.text))
            .collect();
        let taint = match self.taint.as_deref().map(|t| t.trim().parse::<u64>()) {
            None => vec![format!(
                "{}: no taint flags read (the guest did not finish)",
                self.name
            )],
            Some(Err(_)) => vec![format!(
                "{}: taint flags unreadable: {:?}",
                self.name, self.taint
            )],
            Some(Ok(t)) => console::bad_taint(t)
                .into_iter()
                .map(|(flag, what)| {
                    format!(
                        "{}: kernel tainted {flag} ({what}; tainted = {t})",
                        self.name
                    )
                })
                .collect(),
        };
        let ok = |v: Vec<String>| if v.is_empty() { Ok(()) } else { Err(v) };
        (ok(reports), ok(taint))
    }
}

/// What the summary is computed from.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// What should have run.
    pub expected: Expected,
    /// The skips the project allows, and the kernel's configuration they
    /// are decided on.
    pub skips: Vec<Allowed>,
    /// The symbols the kernel under test sets.
    pub config: HashSet<String>,
    /// The kselftest collection's name.
    pub collection: String,
    /// Each host crate's `cargo test` output.
    pub cargo: Vec<(String, String)>,
    /// The loom models' output (scripts/loom).
    pub loom: Option<String>,
    /// The kselftest runner's output, every boot appended.
    pub guest: String,
    /// The guest consoles.
    pub consoles: Vec<Console>,
}

/// The counts of one group of tests (a crate, a kselftest, the consoles).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    /// Its name in the summary.
    pub name: String,
    /// Tests passed.
    pub passed: usize,
    /// Tests failed, or expected and missing.
    pub failed: usize,
    /// Tests skipped, as allowed.
    pub skipped: usize,
}

/// The verdict.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    /// Per group, in order.
    pub groups: Vec<Group>,
    /// Every failure, named, with why.
    pub failures: Vec<String>,
    /// Every skip, named, with the reason and the condition that allows it.
    pub skips: Vec<String>,
}

impl Verdict {
    fn group(&mut self, name: &str) -> usize {
        self.groups.push(Group {
            name: name.into(),
            ..Default::default()
        });
        self.groups.len() - 1
    }
    fn pass(&mut self, g: usize) {
        self.groups[g].passed += 1;
    }
    fn fail(&mut self, g: usize, what: String) {
        self.groups[g].failed += 1;
        self.failures.push(what);
    }
    fn skip(&mut self, g: usize, what: String) {
        self.groups[g].skipped += 1;
        self.skips.push(what);
    }
    /// Tests passed, failed, skipped in all.
    pub fn totals(&self) -> (usize, usize, usize) {
        self.groups.iter().fold((0, 0, 0), |(p, f, s), g| {
            (p + g.passed, f + g.failed, s + g.skipped)
        })
    }
    /// Whether `make check` passes: something passed and nothing failed.
    pub fn ok(&self) -> bool {
        let (p, f, _) = self.totals();
        f == 0 && p > 0
    }
    /// The report: a line per group, the failures and skips by name, then
    /// `N passed, N failed, N skipped`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for g in &self.groups {
            s += &format!(
                "{:<14} {:5} passed, {} failed, {} skipped\n",
                g.name, g.passed, g.failed, g.skipped
            );
        }
        for f in &self.failures {
            s += &format!("FAILED  {f}\n");
        }
        for k in &self.skips {
            s += &format!("SKIPPED {k}\n");
        }
        let (p, f, k) = self.totals();
        s += &format!("{p} passed, {f} failed, {k} skipped\n");
        s
    }
}

/// A skip of `test`: allowed, or a failure.
fn skipped(v: &mut Verdict, g: usize, inp: &Inputs, test: &str, reason: &str) {
    let reason = if reason.is_empty() {
        "no reason given"
    } else {
        reason
    };
    match skips::allowed(&inp.skips, &inp.config, test) {
        Some(a) => {
            let cond = format!("{}{}", if a.negated { "!" } else { "" }, a.symbol);
            v.skip(g, format!("{test}: {} ({cond})", a.reason));
        }
        None => v.fail(
            g,
            format!("{test}: skipped ({reason}), and no allowed skip covers it on this kernel"),
        ),
    }
}

fn short(name: &str) -> &str {
    name.strip_prefix("shadowpid_").unwrap_or(name)
}

/// One run of one kselftest.
fn kselftest(v: &mut Verdict, inp: &Inputs, t: &Kselftest) {
    let g = v.group(short(&t.name));
    let name = &t.name;
    let Some(result) = &t.result else {
        v.fail(
            g,
            format!("{name}: the log ends inside it (the guest stopped or was killed)"),
        );
        return;
    };
    if let Some(why) = &t.bailed {
        v.fail(g, format!("{name}: Bail out! {why}"));
    }
    let whole_skip = match (result, &t.skip_all) {
        (_, Some(why)) => Some(why.clone()),
        (Outcome::Skip(why), _) => Some(t.skip_note.clone().unwrap_or_else(|| why.clone())),
        _ => None,
    };
    if let Some(why) = whole_skip {
        if t.cases.is_empty() {
            skipped(v, g, inp, name, &why);
            return;
        }
    }
    let mut case_failed = false;
    for c in &t.cases {
        let id = format!("{name}.{}", c.name);
        match &c.outcome {
            Outcome::Pass => v.pass(g),
            Outcome::Fail(why) => {
                case_failed = true;
                v.fail(
                    g,
                    if why.is_empty() {
                        format!("{id}: not ok")
                    } else {
                        format!("{id}: not ok ({why})")
                    },
                );
            }
            Outcome::Skip(why) => skipped(v, g, inp, &id, why),
        }
    }
    match t.plan {
        Some(n) if n != t.cases.len() => {
            case_failed = true;
            v.fail(
                g,
                format!("{name}: planned {n} cases, reported {}", t.cases.len()),
            );
        }
        None if t.cases.is_empty() => match result {
            Outcome::Pass => v.pass(g),
            _ => {
                case_failed = true;
                v.fail(g, format!("{name}: not ok"));
            }
        },
        _ => {}
    }
    if let Outcome::Fail(why) = result {
        if !case_failed {
            v.fail(
                g,
                format!("{name}: exited with a failure ({why}) though no case failed"),
            );
        }
    }
    let expected: Vec<&String> = inp
        .expected
        .cases
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, c)| c)
        .collect();
    if !expected.is_empty() {
        for c in &expected {
            if !t.cases.iter().any(|r| &&r.name == c) {
                v.fail(
                    g,
                    format!("{name}.{c}: expected (it is in the source), did not report"),
                );
            }
        }
        for r in &t.cases {
            if !expected.contains(&&r.name) {
                v.fail(
                    g,
                    format!(
                        "{name}.{}: reported, but the source has no such case",
                        r.name
                    ),
                );
            }
        }
    }
}

/// The verdict of `inp`.
pub fn compute(inp: &Inputs) -> Verdict {
    let mut v = Verdict::default();

    for (krate, tests) in &inp.expected.crates {
        let g = v.group(&format!("cargo:{krate}"));
        if tests.is_empty() {
            v.fail(
                g,
                format!("cargo:{krate}: no test listed (did the crate build?)"),
            );
        }
        let out = inp
            .cargo
            .iter()
            .find(|(c, _)| c == krate)
            .map(|(_, o)| o.as_str())
            .unwrap_or("");
        let ran = cargo::run(out);
        for t in tests {
            match ran.iter().find(|(k, _)| k == t).map(|(_, o)| o) {
                None => v.fail(g, format!("cargo:{krate}: {t}: listed, did not report")),
                Some(Outcome::Pass) => v.pass(g),
                Some(Outcome::Fail(_)) => v.fail(g, format!("cargo:{krate}: {t}: FAILED")),
                Some(Outcome::Skip(why)) => {
                    skipped(&mut v, g, inp, &format!("cargo:{krate}:{t}"), why)
                }
            }
        }
        for (k, _) in &ran {
            if !tests.contains(k) {
                v.fail(g, format!("cargo:{krate}: {k}: ran, but was not listed"));
            }
        }
    }

    if let Some(models) = &inp.expected.loom {
        let g = v.group("loom");
        let out = inp.loom.as_deref().unwrap_or("");
        let mut seen = Vec::new();
        for line in out.lines() {
            let mut w = line.split_whitespace();
            let (Some(name), Some(res)) = (w.next(), w.next()) else {
                continue;
            };
            if !line.starts_with("  ") || (res != "ok" && res != "FAIL") {
                continue;
            }
            seen.push(name.to_string());
            if res == "ok" {
                v.pass(g);
            } else {
                v.fail(
                    g,
                    format!("loom: {name}: {}", w.collect::<Vec<_>>().join(" ")),
                );
            }
        }
        for m in models {
            if !seen.contains(m) {
                v.fail(
                    g,
                    format!("loom: {m}: a model of the crate, did not report"),
                );
            }
        }
        if models.is_empty() {
            v.fail(g, "loom: no model listed (did the crate build?)".into());
        }
        if !out
            .lines()
            .any(|l| l.starts_with("loom: ") && l.contains(" passed, "))
        {
            v.fail(g, "loom: scripts/loom did not finish".into());
        }
    }

    let ran = ktap::parse(&inp.guest, &inp.collection);
    if inp.expected.kselftests.is_empty() {
        let g = v.group("kselftest");
        v.fail(
            g,
            format!("kselftest: the {} collection lists no test", inp.collection),
        );
    }
    for (name, listed) in &inp.expected.kselftests {
        let runs: Vec<&Kselftest> = ran.iter().filter(|t| &t.name == name).collect();
        if !listed || runs.is_empty() {
            let g = v.group(short(name));
            if !listed {
                v.fail(
                    g,
                    format!("{name}: in the source folder, not in the installed collection"),
                );
            } else {
                v.fail(g, format!("{name}: expected, did not report"));
            }
            continue;
        }
        for t in runs {
            kselftest(&mut v, inp, t);
        }
    }
    for t in &ran {
        if !inp.expected.kselftests.iter().any(|(n, _)| n == &t.name) {
            let g = v.group(short(&t.name));
            v.fail(g, format!("{}: ran, but is not expected", t.name));
        }
    }

    let g = v.group("console");
    if inp.consoles.is_empty() {
        v.fail(g, "console: no guest console to read".into());
    }
    for c in &inp.consoles {
        let (scan, taint) = c.findings();
        for part in [scan, taint] {
            match part {
                Ok(()) => v.pass(g),
                Err(found) => found.into_iter().for_each(|f| v.fail(g, f)),
            }
        }
    }
    v
}
