// SPDX-License-Identifier: GPL-2.0
//! `shadowpid`: drive `/dev/shadowpid` from the command line.
//!
//! Every run opens the device once: one universe, gone when the run ends.

use clap::{Parser, Subcommand};
use shadowpid::{
    abi,
    model::{Limits, Model},
    ops::{parse_line, Line, Op, Outcome, PidType},
    random::{next_op, Rng},
    Device,
};
use std::{
    io::{self, BufRead, Write},
    process::ExitCode,
    time::Instant,
};

/// Drive the shadow PID allocator of /dev/shadowpid.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A pid link type on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Type {
    Pid,
    Pgid,
    Sid,
}

impl From<Type> for PidType {
    fn from(t: Type) -> Self {
        match t {
            Type::Pid => PidType::Pid,
            Type::Pgid => PidType::Pgid,
            Type::Sid => PidType::Sid,
        }
    }
}

/// The subcommands.
#[derive(Subcommand)]
enum Command {
    /// Print the ABI version of the loaded module and of this tool.
    Version,
    /// Run operations from stdin, one per line; one result line each.
    Script,
    /// Random operations through the module and the reference model, compared.
    ModelTest {
        /// Seed of the random sequence.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Operations to run.
        #[arg(long, default_value_t = 100_000)]
        ops: usize,
    },
    /// Create a child of namespace PARENT.
    Ns { parent: u32 },
    /// Allocate a pid in NS, with set_tid numbers (most nested first).
    Alloc {
        ns: u32,
        #[arg(value_delimiter = ',')]
        set_tid: Vec<i32>,
    },
    /// Free pid NR of NS.
    Free { ns: u32, nr: i32 },
    /// Find pid NR of NS.
    Find { ns: u32, nr: i32 },
    /// The first pid at or above NR in NS.
    Next { ns: u32, nr: i32 },
    /// The number of pid (NS, NR) seen from namespace TARGET.
    Nr { ns: u32, nr: i32, target: u32 },
    /// Set ns_last_pid of NS.
    Lastpid { ns: u32, value: u32 },
    /// Set pid_max of NS.
    Pidmax { ns: u32, value: u32 },
    /// Attach task TASK to pid (NS, NR) as TYPE.
    Attach {
        task: u32,
        ty: Type,
        ns: u32,
        nr: i32,
    },
    /// Detach task TASK's TYPE link.
    Detach { task: u32, ty: Type },
    /// Move TYPE link from task OLD to task NEW.
    Transfer { old: u32, new: u32, ty: Type },
    /// The task linked to pid (NS, NR) as TYPE.
    Task { ns: u32, nr: i32, ty: Type },
    /// Drop the name of namespace NS.
    Release { ns: u32 },
    /// Take a reference on pid (NS, NR).
    Get { ns: u32, nr: i32 },
    /// Drop the held reference HANDLE.
    Put { handle: u32 },
    /// The number of held reference HANDLE seen from namespace TARGET.
    Hnr { handle: u32, target: u32 },
    /// Check the invariants of namespace NS.
    Check { ns: u32 },
    /// Statistics of namespace NS.
    Stats { ns: u32 },
}

impl Command {
    /// The operation of a single-operation subcommand.
    fn op(&self) -> Option<Op> {
        Some(match *self {
            Command::Ns { parent } => Op::NsCreate { parent },
            Command::Alloc { ns, ref set_tid } => Op::Alloc {
                ns,
                set_tid: set_tid.clone(),
            },
            Command::Free { ns, nr } => Op::Free { ns, nr },
            Command::Find { ns, nr } => Op::Find { ns, nr },
            Command::Next { ns, nr } => Op::Next { ns, nr },
            Command::Nr { ns, nr, target } => Op::NrNs { ns, nr, target },
            Command::Lastpid { ns, value } => Op::SetLastPid { ns, value },
            Command::Pidmax { ns, value } => Op::SetPidMax { ns, value },
            Command::Attach { task, ty, ns, nr } => Op::Attach {
                task,
                ty: ty.into(),
                ns,
                nr,
            },
            Command::Detach { task, ty } => Op::Detach {
                task,
                ty: ty.into(),
            },
            Command::Transfer { old, new, ty } => Op::Transfer {
                old,
                new,
                ty: ty.into(),
            },
            Command::Task { ns, nr, ty } => Op::PidTask {
                ns,
                nr,
                ty: ty.into(),
            },
            Command::Release { ns } => Op::NsRelease { ns },
            Command::Get { ns, nr } => Op::Get { ns, nr },
            Command::Put { handle } => Op::Put { handle },
            Command::Hnr { handle, target } => Op::HandleNr { handle, target },
            Command::Check { ns } => Op::Check { ns },
            Command::Stats { ns } => Op::Stats { ns },
            _ => return None,
        })
    }
}

/// `shadowpid script`: all of stdin, batched between `stats` lines.
fn script(dev: &Device) -> io::Result<bool> {
    let lines: Vec<Line> = io::stdin()
        .lock()
        .lines()
        .map(|l| l.map(|l| parse_line(&l)))
        .collect::<io::Result<_>>()?;
    let ops: Vec<Op> = lines
        .iter()
        .filter_map(|l| match l {
            Line::Op(op) => Some(op.clone()),
            _ => None,
        })
        .collect();
    let mut outcomes = dev.run_all(&ops)?.into_iter();
    let mut out = io::BufWriter::new(io::stdout().lock());
    for line in &lines {
        match line {
            Line::Op(_) => writeln!(
                out,
                "{}",
                outcomes.next().unwrap_or(Outcome::Err(libc::EIO))
            )?,
            Line::Nothing => {}
            Line::Malformed => writeln!(out, "{}", Outcome::Err(libc::EINVAL))?,
        }
    }
    Ok(true)
}

/// `shadowpid model-test`: prints a summary; false on any mismatch.
fn model_test(dev: &Device, seed: u64, count: usize) -> io::Result<bool> {
    let mut rng = Rng::new(seed);
    let mut model = Model::new(Limits::default());
    let mut ops = Vec::with_capacity(count);
    let mut expected = Vec::with_capacity(count);
    for _ in 0..count {
        let op = next_op(&mut rng, &model);
        expected.push(model.run(&op));
        ops.push(op);
    }
    let start = Instant::now();
    let got = dev.run_all(&ops)?;
    let elapsed = start.elapsed();
    let errors = expected
        .iter()
        .filter(|o| matches!(o, Outcome::Err(_)))
        .count();
    if let Some(i) = (0..count).find(|&i| expected[i] != got[i]) {
        println!("model-test seed {seed}: mismatch at operation {i}");
        for j in i.saturating_sub(8)..i {
            println!("  {j:>7}  {:<24} -> {}", ops[j].to_string(), got[j]);
        }
        println!(
            "  {i:>7}  {:<24} -> module: {}   model: {}",
            ops[i].to_string(),
            got[i],
            expected[i]
        );
        return Ok(false);
    }
    // The module's invariants hold in every namespace at the end.
    for ns in model.ns_ids() {
        let check = dev.run(&Op::Check { ns })?;
        if check != Outcome::Ok {
            println!("model-test seed {seed}: check {ns} -> {check}");
            return Ok(false);
        }
    }
    println!(
        "model-test seed {seed}: {count} operations ({errors} errors expected), {} namespaces, all equal, {:.0} ns/op",
        model.ns_ids().len(),
        elapsed.as_nanos() as f64 / count as f64
    );
    Ok(true)
}

fn run(cli: Cli) -> io::Result<bool> {
    let dev = Device::open()?;
    match cli.command {
        Command::Version => {
            let v = dev.version()?;
            println!("module ABI version {v}");
            println!("tool ABI version {}", abi::SHADOWPID_ABI_VERSION);
            if v != abi::SHADOWPID_ABI_VERSION {
                eprintln!("shadowpid: module and tool disagree on the ABI version");
                return Ok(false);
            }
            Ok(true)
        }
        Command::Script => script(&dev),
        Command::ModelTest { seed, ops } => model_test(&dev, seed, ops),
        ref single => {
            let op = single
                .op()
                .expect("every other subcommand is one operation");
            let outcome = dev.run(&op)?;
            println!("{outcome}");
            Ok(!matches!(outcome, Outcome::Err(_)))
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("shadowpid: {e}");
            ExitCode::FAILURE
        }
    }
}
