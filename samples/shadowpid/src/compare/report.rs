// SPDX-License-Identifier: GPL-2.0
//! What a comparison reports: per scenario, its counts and its first
//! mismatch, as a table or as KTAP.

use super::conn::Reply;
use crate::errno::errno_name;
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, fmt};

/// A difference between native and shadow.
pub struct Mismatch {
    /// The event's index in the scenario.
    pub step: usize,
    /// The event.
    pub event: String,
    /// What the native allocator gave.
    pub native: String,
    /// What the shadow gave.
    pub shadow: String,
    /// The events before it.
    pub before: Vec<String>,
}

/// The result of one scenario.
#[derive(Serialize, Deserialize, Default)]
pub struct Report {
    /// Scenario name.
    pub name: String,
    /// Events run, N0's init's closing exit among them.
    pub events: usize,
    /// Events the scenario itself ran (without the closing exit).
    pub ran: usize,
    /// Comparisons those events made.
    pub compared: usize,
    /// Tasks (processes and threads) created.
    pub created: usize,
    /// Deepest level reached below the initial namespace.
    pub levels: usize,
    /// Comparisons that matched.
    pub matches: usize,
    /// Comparisons that did not (the scenario stops at the first).
    pub mismatches: usize,
    /// Native errnos met and matched, by name.
    pub errnos: BTreeMap<String, usize>,
    /// Wall time, milliseconds.
    pub millis: u128,
    /// The first mismatch, readable.
    pub diff: Option<String>,
}

impl Report {
    /// Why the scenario failed; `None` if it passed. A mismatch fails it,
    /// and so does a scenario that ran no event of its own, or whose events
    /// compared nothing: it proves nothing, and must not read as a pass.
    pub fn failure(&self) -> Option<String> {
        if self.mismatches > 0 {
            Some(match self.mismatches {
                1 => "1 mismatch".into(),
                n => format!("{n} mismatches"),
            })
        } else if self.ran == 0 {
            Some("no event ran".into())
        } else if self.compared == 0 {
            Some(format!("{} events compared nothing", self.ran))
        } else {
            None
        }
    }

    /// Whether the scenario passed (no [`Report::failure`]).
    pub fn passed(&self) -> bool {
        self.failure().is_none()
    }
}

/// The failed scenarios of `reports`.
fn failed(reports: &[Report]) -> usize {
    reports.iter().filter(|r| !r.passed()).count()
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "mismatch at step {}: {}", self.step, self.event)?;
        writeln!(f, "  native: {}", self.native)?;
        writeln!(f, "  shadow: {}", self.shadow)?;
        writeln!(f, "  events before it:")?;
        for e in &self.before {
            writeln!(f, "    {e}")?;
        }
        Ok(())
    }
}

/// A real or shadow answer, readable: the numbers, or the errno's name.
pub(super) fn show(r: &Reply) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => errno_name(*e),
    }
}

/// The per-scenario table and the final line.
pub fn table(reports: &[Report]) -> String {
    let mut s = format!(
        "{:<13} {:>6} {:>7} {:>6} {:>7} {:>10} {:>7}  {}\n",
        "scenario",
        "events",
        "created",
        "levels",
        "matches",
        "mismatches",
        "time",
        "errnos matched"
    );
    for r in reports {
        let errnos: Vec<String> = r.errnos.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        s += &format!(
            "{:<13} {:>6} {:>7} {:>6} {:>7} {:>10} {:>5.1} s  {}\n",
            r.name,
            r.events,
            r.created,
            r.levels,
            r.matches,
            r.mismatches,
            r.millis as f64 / 1000.0,
            errnos.join(" ")
        );
    }
    for r in reports {
        if let Some(why) = r.failure() {
            s += &format!("{}: failed: {why}\n", r.name);
        }
    }
    let failed = failed(reports);
    s += &format!("{} passed, {} failed\n", reports.len() - failed, failed);
    s
}

/// The reports as KTAP, one test per scenario, for kselftest runners.
pub fn ktap(reports: &[Report]) -> String {
    let mut s = format!("KTAP version 1\n1..{}\n", reports.len());
    for (i, r) in reports.iter().enumerate() {
        let verdict = if r.passed() { "ok" } else { "not ok" };
        s += &format!(
            "# {}: {} events, {} matches, {} mismatches\n",
            r.name, r.events, r.matches, r.mismatches
        );
        if let Some(why) = r.failure() {
            s += &format!("# {}: failed: {why}\n", r.name);
        }
        s += &format!("{verdict} {} {}\n", i + 1, r.name);
        if let Some(d) = &r.diff {
            for line in d.lines() {
                s += &format!("#   {line}\n");
            }
        }
    }
    let failed = failed(reports);
    s += &format!(
        "# Totals: pass:{} fail:{failed} xfail:0 xpass:0 skip:0 error:0\n",
        reports.len() - failed
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scenario that ran `ran` events comparing `compared` things, with
    /// `mismatches` among them.
    fn report(name: &str, ran: usize, compared: usize, mismatches: usize) -> Report {
        Report {
            name: name.into(),
            events: ran + 1,
            ran,
            compared,
            matches: compared - mismatches + 2,
            mismatches,
            ..Default::default()
        }
    }

    #[test]
    fn a_scenario_passes_only_if_it_ran_and_compared_and_matched() {
        assert_eq!(report("good", 3, 4, 0).failure(), None);
        assert_eq!(
            report("empty", 0, 0, 0).failure().as_deref(),
            Some("no event ran")
        );
        assert_eq!(
            report("blind", 2, 0, 0).failure().as_deref(),
            Some("2 events compared nothing")
        );
        assert_eq!(
            report("wrong", 3, 4, 1).failure().as_deref(),
            Some("1 mismatch")
        );
    }

    #[test]
    fn the_table_and_ktap_fail_a_scenario_with_no_event() {
        let reports = [report("good", 3, 4, 0), report("empty", 0, 0, 0)];
        let table = table(&reports);
        assert!(table.contains("empty: failed: no event ran\n"), "{table}");
        assert!(table.ends_with("1 passed, 1 failed\n"), "{table}");
        let ktap = ktap(&reports);
        let verdicts: Vec<&str> = ktap
            .lines()
            .filter(|l| l.starts_with("ok ") || l.starts_with("not ok "))
            .collect();
        assert_eq!(verdicts, ["ok 1 good", "not ok 2 empty"], "{ktap}");
        assert!(ktap.contains("# empty: failed: no event ran\n"), "{ktap}");
        assert!(
            ktap.ends_with("# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:0 error:0\n"),
            "{ktap}"
        );
    }

    #[test]
    fn no_comparison_fails_like_a_mismatch() {
        let reports = [report("blind", 5, 0, 0), report("wrong", 3, 4, 1)];
        assert!(table(&reports).ends_with("0 passed, 2 failed\n"));
        let ktap = ktap(&reports);
        assert!(ktap.contains("\nnot ok 1 blind\n"), "{ktap}");
        assert!(ktap.contains("\nnot ok 2 wrong\n"), "{ktap}");
    }
}
