// SPDX-License-Identifier: GPL-2.0
//! `shadowpid mirror ...`. The commands that attach the mirror (`run`,
//! `cost`) and `watch` catch SIGINT, SIGTERM, SIGQUIT and SIGHUP: `run` passes the
//! signal on to its command and, once that has ended, detaches and reports;
//! `cost` stops with the mirror detached; `watch` (which only reads the
//! report) stops. Each says what it did, and exits 128 + the signal
//! (`watch`: 0, a signal is how it ends).

use crate::{args::MirrorCommand, print_json};
use anyhow::Context;
use shadowpid::{
    interrupt::{self, Interrupted},
    mirror::{Mirror, Report},
    progress::Progress,
    Device,
};
use std::{
    process::{Child, ExitStatus},
    thread,
    time::{Duration, Instant},
};

/// How often a command waiting for something looks at the signal flag.
const POLL: Duration = Duration::from_millis(20);

/// How long `mirror run`'s command has, after the signal is passed on,
/// before it is killed.
const GRACE: Duration = Duration::from_secs(10);

/// Prints `report`: as text, or as JSON with its summary line on stderr
/// (the logs of the kselftests show it).
fn print_report(report: &Report, json: bool) -> anyhow::Result<()> {
    if json {
        print_json(report)?;
        eprintln!("{}", report.summary());
    } else {
        println!("{report}");
    }
    Ok(())
}

/// Runs a mirror command on `dev`.
pub fn run(dev: &Device, cmd: MirrorCommand, json: bool) -> anyhow::Result<bool> {
    let m = Mirror::new(dev);
    match cmd {
        MirrorCommand::Run { json_out, command } => {
            run_attached(m, &command, json, json_out.as_deref())
        }
        MirrorCommand::Status => {
            let report = m.status()?;
            print_report(&report, json)?;
            Ok(report.clean())
        }
        MirrorCommand::Watch { interval } => watch(m, interval, json),
        MirrorCommand::Cost {
            forks,
            threads,
            reps,
        } => {
            interrupt::install()?;
            let cost = shadowpid::mirror::cost(&m, forks, threads, reps)?;
            if json {
                print_json(&cost)?;
            } else {
                println!("{cost}");
            }
            Ok(true)
        }
        MirrorCommand::Perturb { ns_inode, cursor } => {
            if cursor {
                m.perturb_cursor(ns_inode)?;
            } else {
                m.perturb(ns_inode)?;
            }
            Ok(true)
        }
    }
}

/// `mirror run`: attach, run `command`, detach, report.
fn run_attached(
    m: Mirror<'_>,
    command: &[String],
    json: bool,
    json_out: Option<&std::path::Path>,
) -> anyhow::Result<bool> {
    interrupt::install()?;
    let attachment = m.attached().context("attaching the mirror")?;
    let start = Instant::now();
    // The device file is close-on-exec: the workload does not hold the
    // mirror; if this process dies, the mirror detaches.
    let status = std::process::Command::new(&command[0])
        .args(&command[1..])
        .spawn()
        .and_then(|child| wait(child, &command[0]));
    let report = m.status()?;
    attachment.detach()?;
    let ok = match &status {
        Ok(s) => s.success(),
        Err(e) => {
            eprintln!("shadowpid mirror run: {}: {e}", command[0]);
            false
        }
    };
    if !json {
        let how = match interrupt::requested() {
            Some(sig) => format!(" (stopped by {})", interrupt::signal_name(sig)),
            None if !ok => " (failed)".into(),
            None => String::new(),
        };
        println!(
            "mirror: {:.1} s of {}{how}",
            start.elapsed().as_secs_f64(),
            command.join(" ")
        );
    }
    print_report(&report, json)?;
    if let Some(path) = json_out {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(signal) = interrupt::requested() {
        return Err(Interrupted { signal }.into());
    }
    // Its own spawn is a fork the mirror must have compared.
    if report.compared == 0 {
        eprintln!("shadowpid mirror run: the mirror compared no fork: its hooks saw nothing");
    }
    if report.namespaces_untracked > 0 {
        eprintln!(
            "shadowpid mirror run: {} namespaces went untracked (their forks not compared)",
            report.namespaces_untracked
        );
    }
    Ok(ok && report.clean() && report.compared > 0)
}

/// Waits for `child` (`name`): a signal caught meanwhile is passed on to it,
/// and if it is still there [`GRACE`] later, it is killed.
fn wait(mut child: Child, name: &str) -> std::io::Result<ExitStatus> {
    let mut passed: Option<Instant> = None;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        match (interrupt::requested(), passed) {
            (Some(sig), None) => {
                eprintln!(
                    "mirror run: {}: passed on to {name} (pid {})",
                    interrupt::signal_name(sig),
                    child.id()
                );
                // SAFETY: our child, not reaped yet (try_wait said so).
                unsafe { libc::kill(child.id() as libc::pid_t, sig) };
                passed = Some(Instant::now());
            }
            (Some(_), Some(at)) if at.elapsed() > GRACE => {
                eprintln!(
                    "mirror run: {name} still runs {} s after the signal: killed",
                    GRACE.as_secs()
                );
                child.kill()?;
                return child.wait();
            }
            _ => {}
        }
        thread::sleep(POLL);
    }
}

/// Sleeps `ms` milliseconds; false if a signal came meanwhile.
fn sleep_unless_interrupted(ms: u64) -> bool {
    let until = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < until {
        if interrupt::requested().is_some() {
            return false;
        }
        thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
    }
    interrupt::requested().is_none()
}

/// `mirror watch`: the report every `interval` ms, until a signal.
fn watch(m: Mirror<'_>, interval: u64, json: bool) -> anyhow::Result<bool> {
    interrupt::install()?;
    // At a terminal, the whole report redrawn in place; elsewhere (or as
    // JSON) one line a refresh.
    let line = if json {
        Progress::hidden()
    } else {
        Progress::spinner("mirror watch")
    };
    loop {
        let report = m.status()?;
        if json {
            println!("{}", serde_json::to_string(&report)?);
        } else if line.is_drawn() {
            line.set_message(format!(
                "{}, every {interval} ms; Ctrl-C ends\n{report}",
                if report.attached {
                    "attached"
                } else {
                    "not attached: last report"
                }
            ));
        } else {
            println!("{}", report.summary());
        }
        if !sleep_unless_interrupted(interval) {
            break;
        }
    }
    line.finish();
    let report = m.status()?;
    if line.is_drawn() {
        // What was on the screen stays there.
        println!("{report}");
    }
    eprintln!(
        "mirror watch: {}: stopped; watch only reads the report, so nothing is changed (the \
         mirror is {})",
        interrupt::requested().map_or("?".into(), interrupt::signal_name),
        if report.attached {
            "attached, by another command"
        } else {
            "not attached"
        }
    );
    Ok(true)
}
