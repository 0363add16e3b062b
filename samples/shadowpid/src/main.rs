// SPDX-License-Identifier: GPL-2.0
//! `shadowpid`: drive `/dev/shadowpid` from the command line.
//!
//! Every run opens the device once: one universe, gone when the run ends.

use clap::{Parser, Subcommand};
use shadowpid::{
    abi,
    model::{Limits, Model},
    ops::{parse_line, Line, Op, Outcome},
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

/// Options of `shadowpid compare`.
#[derive(clap::Args)]
struct CompareArgs {
    /// A built-in scenario to run (repeatable); all of them by default.
    #[arg(long = "scenario")]
    scenarios: Vec<String>,
    /// Skip the built-in scenarios.
    #[arg(long)]
    no_builtin: bool,
    /// Random scenarios to run, with seeds SEED, SEED+1, ...
    #[arg(long, default_value_t = 0)]
    random: u64,
    /// Seed of the first random scenario.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Events per random scenario.
    #[arg(long, default_value_t = 2000)]
    steps: usize,
    /// Print the reports as JSON instead of the table.
    #[arg(long, conflicts_with = "ktap")]
    json: bool,
    /// Print the reports as KTAP (for kselftest) instead of the table.
    #[arg(long)]
    ktap: bool,
}

/// `shadowpid mirror ...`: the live mirror of the running kernel.
#[derive(Subcommand)]
enum MirrorCommand {
    /// Attach the mirror, run CMD, detach, print what it saw. Exits non-zero
    /// if a fork diverged, an event was missed, or CMD failed.
    Run {
        /// Print the report as JSON (the summary line still ends it).
        #[arg(long)]
        json: bool,
        /// The command and its arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// The report of the attached mirror (or of the last one).
    Status {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// The report, refreshed, for a person at a terminal (Ctrl-C ends it).
    Watch {
        /// Milliseconds between refreshes.
        #[arg(long, default_value_t = 1000)]
        interval: u64,
    },
    /// What the mirror costs: fork+exit+wait and thread create+join,
    /// detached and attached in turn, in this process.
    Cost {
        /// Forks per repetition.
        #[arg(long, default_value_t = 2000)]
        forks: u32,
        /// Threads per repetition.
        #[arg(long, default_value_t = 2000)]
        threads: u32,
        /// Repetitions of each side (the median is reported).
        #[arg(long, default_value_t = 5)]
        reps: u32,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Test of the detector: the next fork in the namespace with this inode
    /// number (`stat -L -c %i /proc/PID/ns/pid`) diverges once.
    Perturb {
        /// The namespace's inode number.
        ns_inode: u32,
    },
}

/// The subcommands: the tools below, then one per operation.
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
    /// Threads hammering universes at once; then every invariant checked.
    Stress {
        /// Worker threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Operations per worker.
        #[arg(long, default_value_t = 100_000)]
        ops: usize,
        /// Seed of the random operations.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The kernel's fault injection (debug kernel) aimed at the module's
    /// caches or its pidmap pages; every failure must be a clean ENOMEM.
    Faults {
        /// What to make fail.
        #[arg(long, value_enum)]
        target: shadowpid::faults::Target,
        /// Allocations to attempt.
        #[arg(long, default_value_t = 100_000)]
        allocs: u64,
        /// Probability of a failure, percent.
        #[arg(long, default_value_t = 10)]
        probability: u32,
        /// Seed of the workload.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Random and malformed calls on the device for a while; every one must
    /// return a documented errno.
    Fuzz {
        /// How long, seconds.
        #[arg(long, default_value_t = 600)]
        seconds: u64,
        /// Threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The in-kernel benchmark: the shadow beside a rebuild of 7.3's
    /// allocator and the running kernel's own functions, every figure in
    /// named states, with the targets (run it as root, in a test guest).
    Bench {
        /// Repetitions per figure (the median of at least 5 is reported).
        #[arg(long, default_value_t = 5)]
        reps: u32,
        /// A short pass proving every figure works (numbers positive,
        /// ratios computed), for make check.
        #[arg(long)]
        smoke: bool,
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
        /// Also write the JSON to this file.
        #[arg(long)]
        json_out: Option<std::path::PathBuf>,
        /// Only these figures (1..10, comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Vec<u32>,
    },
    /// Draw latency against occupancy (SVG) from `bench --json` output.
    Plot {
        /// The JSON of a bench run.
        input: std::path::PathBuf,
        /// The SVG to write.
        #[arg(short, long)]
        output: std::path::PathBuf,
        /// Draw figure 5's scaling with CPUs instead of the columns against
        /// the state of the namespace.
        #[arg(long)]
        scaling: bool,
    },
    /// Replay real process creation in real PID namespaces on the shadow
    /// and compare, number for number (run it as root, in a test guest).
    Compare(CompareArgs),
    /// The live mirror: the 2.6.24 allocator following every pid number
    /// the running kernel hands out, compared fork by fork.
    #[command(subcommand)]
    Mirror(MirrorCommand),
    #[command(flatten)]
    Op(Op),
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

/// `shadowpid compare`: true if no scenario found a mismatch.
fn compare(args: CompareArgs) -> io::Result<bool> {
    let CompareArgs {
        scenarios,
        no_builtin,
        random,
        seed,
        steps,
        json,
        ktap,
    } = args;
    let mut names = scenarios;
    if names.is_empty() && !no_builtin {
        names = shadowpid::compare::scenarios::BUILTIN
            .iter()
            .map(|s| s.to_string())
            .collect();
    }
    let seeds: Vec<u64> = (seed..seed + random).collect();
    if !json && !ktap {
        println!(
            "Comparing in fresh PID namespaces below the initial one (its other processes \
             take numbers there too, so only the levels below it are compared)."
        );
    }
    let reports = shadowpid::compare::run(&names, &seeds, steps, json || ktap)?;
    if ktap {
        print!("{}", shadowpid::compare::ktap(&reports));
    } else if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).map_err(io::Error::other)?
        );
    } else {
        print!("{}", shadowpid::compare::table(&reports));
    }
    Ok(reports.iter().all(|r| r.mismatches == 0))
}

/// Prints `report` as text or JSON, always ending with its summary line.
fn print_mirror(report: &shadowpid::mirror::Report, json: bool) -> io::Result<()> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(report).map_err(io::Error::other)?
        );
        println!("{}", report.summary());
    } else {
        println!("{report}");
    }
    Ok(())
}

fn mirror(cmd: MirrorCommand) -> io::Result<bool> {
    use shadowpid::mirror::Mirror;
    let dev = Device::open()?;
    let m = Mirror::new(&dev);
    match cmd {
        MirrorCommand::Run { json, command } => {
            m.attach()?;
            let start = Instant::now();
            // The device file is close-on-exec: the workload does not hold
            // the mirror; if this process dies, the mirror detaches.
            let status = std::process::Command::new(&command[0])
                .args(&command[1..])
                .status();
            let report = m.status()?;
            m.detach()?;
            let ok = match &status {
                Ok(s) => s.success(),
                Err(e) => {
                    eprintln!("shadowpid mirror run: {}: {e}", command[0]);
                    false
                }
            };
            if !json {
                println!(
                    "mirror: {:.1} s of {}{}",
                    start.elapsed().as_secs_f64(),
                    command.join(" "),
                    if ok { "" } else { " (failed)" }
                );
            }
            print_mirror(&report, json)?;
            Ok(ok && report.clean())
        }
        MirrorCommand::Status { json } => {
            let report = m.status()?;
            print_mirror(&report, json)?;
            Ok(report.clean())
        }
        MirrorCommand::Watch { interval } => loop {
            let report = m.status()?;
            print!(
                "\x1b[H\x1b[2Jshadowpid mirror watch ({}), every {interval} ms; Ctrl-C ends\n\n{report}\n",
                if report.attached { "attached" } else { "not attached: last report" }
            );
            io::stdout().flush()?;
            std::thread::sleep(std::time::Duration::from_millis(interval));
        },
        MirrorCommand::Cost {
            forks,
            threads,
            reps,
            json,
        } => {
            let cost = shadowpid::mirror::cost(&m, forks, threads, reps)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&cost).map_err(io::Error::other)?
                );
            } else {
                println!("{cost}");
            }
            Ok(true)
        }
        MirrorCommand::Perturb { ns_inode } => {
            m.perturb(ns_inode)?;
            Ok(true)
        }
    }
}

fn run(cli: Cli) -> io::Result<bool> {
    match cli.command {
        Command::Compare(args) => return compare(args),
        Command::Mirror(cmd) => return mirror(cmd),
        Command::Faults {
            target,
            allocs,
            probability,
            seed,
        } => {
            let s = shadowpid::faults::run(target, allocs, probability, seed)?;
            println!(
                "faults {target:?}: {} allocations and {} namespace creations at {probability}%: \
                 {} failures injected, {} ENOMEM, {} unexpected answers, {} inconsistent \
                 after a failure, {} stuck allocations, {} objects/pages leaked",
                s.allocs,
                s.creates,
                s.injected,
                s.enomem,
                s.unexpected,
                s.broken,
                s.stuck,
                s.leaked
            );
            return Ok(s.clean());
        }
        Command::Bench {
            reps,
            smoke,
            json,
            json_out,
            only,
        } => {
            let cfg = shadowpid::bench::Config { reps, smoke, only };
            let report = shadowpid::bench::run(cfg, |what| eprintln!("bench: {what}"))?;
            let text = serde_json::to_string_pretty(&report).map_err(io::Error::other)?;
            if let Some(path) = json_out {
                std::fs::write(path, &text)?;
            }
            if json {
                println!("{text}");
            } else {
                print!("{}", shadowpid::bench::table(&report));
            }
            let sane = shadowpid::bench::sane(&report);
            if !sane {
                eprintln!("bench: a figure or a column is missing, or not positive");
            }
            return Ok(sane);
        }
        Command::Plot {
            input,
            output,
            scaling,
        } => {
            let report: shadowpid::bench::Report =
                serde_json::from_str(&std::fs::read_to_string(input)?).map_err(io::Error::other)?;
            let svg = if scaling {
                shadowpid::bench::plot_scaling(&report)
            } else {
                shadowpid::bench::plot(&report)
            };
            std::fs::write(output, svg)?;
            return Ok(true);
        }
        Command::Fuzz {
            seconds,
            threads,
            seed,
        } => {
            let s = shadowpid::fuzz::run(seconds, threads, seed)?;
            let errnos: Vec<String> = s
                .errnos
                .iter()
                .map(|(e, n)| format!("{}={n}", shadowpid::ops::errno_name(*e)))
                .collect();
            println!(
                "fuzz: {threads} threads, {:.0} s: {} calls ({} succeeded, {} operations answered), \
                 {} reopens, errnos {}, {} unexpected",
                s.seconds,
                s.calls,
                s.ok,
                s.ops,
                s.reopens,
                errnos.join(" "),
                s.unexpected
            );
            let leaked = shadowpid::settle()?;
            println!("fuzz: {leaked} objects/pages left after every file closed");
            return Ok(s.unexpected == 0 && leaked == 0);
        }
        _ => {}
    }
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
        Command::Compare(_)
        | Command::Mirror(_)
        | Command::Faults { .. }
        | Command::Fuzz { .. }
        | Command::Bench { .. }
        | Command::Plot { .. } => {
            unreachable!("handled above")
        }
        Command::Stress { threads, ops, seed } => {
            drop(dev);
            let s = shadowpid::stress::run(threads, ops, seed)?;
            println!(
                "stress: {threads} threads, {} operations ({} expected errnos, {} unexpected), \
                 {} universes opened and closed meanwhile, {} namespaces inconsistent, \
                 {} objects/pages left after the close, {:.1} s",
                s.ops, s.errors, s.unexpected, s.churned, s.broken, s.leaked, s.seconds
            );
            Ok(s.unexpected == 0 && s.broken == 0 && s.leaked == 0)
        }
        Command::Op(op) => {
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
