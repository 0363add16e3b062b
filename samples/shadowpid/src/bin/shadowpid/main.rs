// SPDX-License-Identifier: GPL-2.0
//! `shadowpid`: drive `/dev/shadowpid` from the command line.
//!
//! Every run opens the device once: one universe, gone when the run ends.
//! A command that needs the device opens it and checks its ABI version
//! before it prints anything, so that a missing module, a missing privilege
//! or a version mismatch is one error, said once, with its remedy.

mod args;
mod commands;
mod mirror;

use anyhow::Context;
use args::{Cli, Command};
use clap::{CommandFactory, Parser};
use serde::Serialize;
use shadowpid::{device, interrupt::Interrupted, model, progress, Device};
use std::{io, process::ExitCode};

/// Prints `value` as indented JSON on stdout.
fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Runs the command; `Ok(false)` when it ran and found something wrong.
fn run(cli: Cli) -> anyhow::Result<bool> {
    let json = cli.json;
    match cli.command {
        Command::Plot {
            input,
            output,
            scaling,
        } => commands::plot(&input, &output, scaling),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "shadowpid", &mut io::stdout());
            Ok(true)
        }
        Command::Man { dir } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(Cli::command(), &dir)
                .with_context(|| format!("writing the man pages to {}", dir.display()))?;
            Ok(true)
        }
        Command::Script {
            stop_on_error,
            model: true,
        } => commands::script(
            &mut model::Model::new(model::Limits::default()),
            stop_on_error,
            json,
        ),
        Command::Version => commands::version(json),
        command => {
            // Up front, once: the device is there, ours to open, and of
            // this tool's ABI.
            let dev = Device::open_checked()?;
            commands::with_device(dev, command, json)
        }
    }
}

/// The interruption that ended the run, if a signal did.
fn interruption(e: &anyhow::Error) -> Option<&Interrupted> {
    e.downcast_ref::<Interrupted>()
        .or_else(|| e.downcast_ref::<io::Error>().and_then(Interrupted::of))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    device::use_path(cli.device.clone());
    progress::set(cli.progress);
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            // One line naming the object and the remedy, then its causes
            // (the operating system's error).
            eprintln!("shadowpid: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  cause: {cause}");
            }
            match interruption(&e) {
                Some(i) => ExitCode::from(128 + i.signal as u8),
                None => ExitCode::FAILURE,
            }
        }
    }
}
