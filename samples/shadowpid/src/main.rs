// SPDX-License-Identifier: GPL-2.0
//! `shadowpid`: drive `/dev/shadowpid` from the command line.

use clap::{Parser, Subcommand};
use shadowpid::{abi, Device};
use std::process::ExitCode;

/// Drive the shadow PID allocator of /dev/shadowpid.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
enum Command {
    /// Print the ABI version of the loaded module and of this tool.
    Version,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Version => Device::open().and_then(|dev| dev.version()).map(|v| {
            println!("module ABI version {v}");
            println!("tool ABI version {}", abi::SHADOWPID_ABI_VERSION);
            if v != abi::SHADOWPID_ABI_VERSION {
                eprintln!("shadowpid: module and tool disagree on the ABI version");
            }
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shadowpid: {e}");
            ExitCode::FAILURE
        }
    }
}
