// SPDX-License-Identifier: GPL-2.0
//! `shadowpid compare`: real process creation in real PID namespaces,
//! replayed on a shadow universe, compared number for number.
//!
//! The controller (this process, in the initial PID namespace) creates a
//! fresh namespace N0 for each scenario: the guest's other processes keep
//! taking numbers in the initial namespace, so only the levels below it are
//! compared. The shadow universe mirrors the real hierarchy level for level:
//! its root stands for the initial namespace (its numbers there are not
//! compared), its namespace 1 is N0, and so on, so that the 32-level limit
//! falls at the same depth on both sides.
//!
//! Every event is performed on both sides and compared: the number vector
//! of every new task at every level below the initial namespace (native: the
//! `NSpid:` line of /proc/PID/status), the errno of every failed creation,
//! and the ascending walk of the numbers in use in a namespace (native: the
//! numeric entries, and their task/ entries, of a procfs mounted for that
//! namespace; shadow: repeated `next`).
//!
//! A task that goes frees its numbers a little after it can be seen gone;
//! the event waits until the kernel has freed them, found out exactly,
//! never by sleeping for a while (see `probe`).

pub mod agent;
mod conn;
mod events;
mod probe;
mod report;
pub mod scenarios;
mod shadow;
pub mod shares;
mod world;

pub use self::{
    events::Event,
    report::{ktap, table, Mismatch, Report},
    world::World,
};

use crate::progress::Progress;
use std::{io, os::unix::net::UnixListener, time::Instant};

/// Whether compare can run here: from the initial PID namespace (its
/// scenarios' namespaces are compared below it).
pub fn check_ready() -> io::Result<()> {
    let my_level =
        agent::nspid(&std::fs::read_to_string("/proc/self/status")?).map_or(0, |v| v.len() - 1);
    if my_level != 0 {
        return Err(io::Error::other(format!(
            "compare runs from the initial PID namespace, this process is {my_level} levels below it"
        )));
    }
    Ok(())
}

/// Runs the scenarios; returns their reports.
pub fn run(names: &[String], seeds: &[u64], steps: usize, quiet: bool) -> io::Result<Vec<Report>> {
    check_ready()?;
    let socket = format!("shadowpid-compare-{}", std::process::id());
    let listener = UnixListener::bind_addr(&agent::address(&socket)?)?;
    let mut jobs: Vec<(String, scenarios::Script)> = Vec::new();
    for name in names {
        jobs.push((
            name.clone(),
            scenarios::builtin(name)
                .ok_or_else(|| io::Error::other(format!("no scenario {name}")))?,
        ));
    }
    for &seed in seeds {
        jobs.push((format!("random-{seed}"), scenarios::random(seed, steps)));
    }
    let mut reports = Vec::new();
    let line = Progress::bar("compare", jobs.len() as u64, "scenarios");
    for (name, script) in jobs {
        line.set_message(name.clone());
        let start = Instant::now();
        let outcome = World::new(&listener, &socket, &name).map(|mut world| {
            let run = script(&mut world);
            let pending = world.pending.take();
            let (mut report, mismatch) = world.finish(start);
            if let Err(e) = run {
                // The run itself broke (a hung or vanished agent): a failure.
                report.mismatches += 1;
                report.diff = Some(format!(
                    "error after {} events, in \"{}\": {e}",
                    report.events,
                    pending.unwrap_or_default()
                ));
            }
            (report, mismatch)
        });
        let (report, mismatch) = outcome.unwrap_or_else(|e| {
            let report = Report {
                name: name.clone(),
                mismatches: 1,
                diff: Some(format!("error: {e}")),
                ..Default::default()
            };
            (report, None)
        });
        if !quiet {
            if let Some(m) = mismatch {
                line.eprintln(&format!("{name}: {m}"));
            } else if let Some(d) = &report.diff {
                line.eprintln(&format!("{name}: {d}"));
            }
        }
        reports.push(report);
        line.inc(1);
    }
    line.finish();
    Ok(reports)
}
