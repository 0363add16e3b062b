// SPDX-License-Identifier: GPL-2.0
//! What a comparison reports: per scenario, its counts and its first
//! mismatch, as a table or as KTAP.

use super::conn::Reply;
use crate::errno::errno_name;
use serde::Serialize;
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
#[derive(Serialize, Default)]
pub struct Report {
    /// Scenario name.
    pub name: String,
    /// Events run.
    pub events: usize,
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
    let failed = reports.iter().filter(|r| r.mismatches > 0).count();
    s += &format!("{} passed, {} failed\n", reports.len() - failed, failed);
    s
}

/// The reports as KTAP, one test per scenario, for kselftest runners.
pub fn ktap(reports: &[Report]) -> String {
    let mut s = format!("KTAP version 1\n1..{}\n", reports.len());
    for (i, r) in reports.iter().enumerate() {
        let verdict = if r.mismatches == 0 { "ok" } else { "not ok" };
        s += &format!(
            "# {}: {} events, {} matches, {} mismatches\n{verdict} {} {}\n",
            r.name,
            r.events,
            r.matches,
            r.mismatches,
            i + 1,
            r.name
        );
        if let Some(d) = &r.diff {
            for line in d.lines() {
                s += &format!("#   {line}\n");
            }
        }
    }
    let failed = reports.iter().filter(|r| r.mismatches > 0).count();
    s += &format!(
        "# Totals: pass:{} fail:{failed} xfail:0 xpass:0 skip:0 error:0\n",
        reports.len() - failed
    );
    s
}
