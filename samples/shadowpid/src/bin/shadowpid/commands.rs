// SPDX-License-Identifier: GPL-2.0
//! The commands other than the mirror's: each runs, then prints its
//! results as text or, with `--json`, as JSON.

use crate::{args::Command, args::CompareArgs, mirror, print_json};
use anyhow::Context;
use serde::Serialize;
use shadowpid::{
    abi, device, interrupt,
    model::{Limits, Model},
    ops::{Op, Outcome},
    progress::Progress,
    random::{next_op, Rng},
    script::{self, Runner},
    Device,
};
use std::{
    io::{self, Read, Write},
    path::Path,
    time::Instant,
};

/// The commands that need the device, with `dev` open and checked.
pub fn with_device(dev: Device, command: Command, json: bool) -> anyhow::Result<bool> {
    match command {
        Command::Script {
            stop_on_error,
            model: _,
        } => script(&mut { dev }, stop_on_error, json),
        Command::ModelTest { seed, ops } => model_test(&dev, seed, ops, json),
        Command::Op(op) => operation(&dev, &op, json),
        Command::Mirror(cmd) => mirror::run(&dev, cmd, json),
        // The rest open their own files: this one goes first.
        command => {
            drop(dev);
            long(command, json)
        }
    }
}

/// The long commands, which open the device themselves.
fn long(command: Command, json: bool) -> anyhow::Result<bool> {
    match command {
        Command::Compare(args) => compare(args, json),
        Command::Stress { threads, ops, seed } => stress(threads, ops, seed, json),
        Command::Faults {
            target,
            allocs,
            probability,
            seed,
        } => faults(target, allocs, probability, seed, json),
        Command::Fuzz {
            seconds,
            threads,
            seed,
        } => fuzz(seconds, threads, seed, json),
        Command::Bench {
            reps,
            smoke,
            json_out,
            only,
        } => bench(
            shadowpid::bench::Config { reps, smoke, only },
            json_out,
            json,
        ),
        _ => unreachable!("with_device() and main's run() take the others"),
    }
}

/// `shadowpid version`: both ABI versions; false if they differ.
pub fn version(json: bool) -> anyhow::Result<bool> {
    /// As JSON.
    #[derive(Serialize)]
    struct Versions {
        /// The device opened.
        device: String,
        /// The loaded module's ABI version.
        module_abi: u32,
        /// This tool's.
        tool_abi: u32,
    }
    let dev = Device::open()?;
    let path = device::path();
    let module = dev
        .version()
        .map_err(|source| shadowpid::error::DeviceError::NotShadowpid {
            path: path.into(),
            source,
        })?;
    let tool = abi::SHADOWPID_ABI_VERSION;
    if json {
        print_json(&Versions {
            device: path.display().to_string(),
            module_abi: module,
            tool_abi: tool,
        })?;
    } else {
        println!("module ABI version {module}");
        println!("tool ABI version {tool}");
    }
    if module != tool {
        let e = shadowpid::error::DeviceError::AbiMismatch {
            path: path.into(),
            module,
            tool,
        };
        eprintln!("shadowpid: {e}");
        return Ok(false);
    }
    Ok(true)
}

/// `shadowpid script`: all of stdin through `runner`, one line out for
/// each operation or malformed line; false if a line did not parse, or
/// (with `stop_on_error`) an operation failed.
pub fn script(runner: &mut impl Runner, stop_on_error: bool, json: bool) -> anyhow::Result<bool> {
    let mut text = String::new();
    io::stdin()
        .read_to_string(&mut text)
        .context("reading the script from stdin")?;
    let entries = script::run(&text, stop_on_error, runner)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    for entry in &entries {
        if json {
            writeln!(out, "{}", serde_json::to_string(entry)?)?;
        } else {
            writeln!(out, "{entry}")?;
        }
    }
    out.flush()?;
    let malformed = entries
        .iter()
        .filter(|e| matches!(e.answer, script::Answer::ParseError(_)))
        .count();
    if malformed > 0 {
        eprintln!(
            "shadowpid script: {malformed} line{} did not parse (see \"parse error at line N\")",
            if malformed == 1 { "" } else { "s" }
        );
    }
    let stopped = stop_on_error && entries.last().is_some_and(|e| e.answer.failed());
    if stopped && malformed == 0 {
        let last = &entries[entries.len() - 1];
        eprintln!(
            "shadowpid script: stopped at line {} ({}): {last}",
            last.line, last.text
        );
    }
    Ok(malformed == 0 && !stopped)
}

/// One operation of the grammar: its answer; false if it is an errno.
fn operation(dev: &Device, op: &Op, json: bool) -> anyhow::Result<bool> {
    /// As JSON.
    #[derive(Serialize)]
    struct Answered<'a> {
        /// The operation, in the grammar.
        op: String,
        /// Its answer.
        #[serde(flatten)]
        outcome: &'a Outcome,
    }
    let outcome = dev.run(op)?;
    if json {
        let answered = Answered {
            op: op.to_string(),
            outcome: &outcome,
        };
        println!("{}", serde_json::to_string(&answered)?);
    } else {
        println!("{outcome}");
    }
    Ok(!matches!(outcome, Outcome::Err(_)))
}

/// The first difference a model test found.
#[derive(Serialize)]
struct Mismatch {
    /// Its operation's index.
    index: usize,
    /// The operation.
    op: String,
    /// The module's answer.
    module: String,
    /// The model's.
    model: String,
    /// The operations before it and the module's answers.
    before: Vec<(String, String)>,
}

/// What `model-test` found.
#[derive(Serialize)]
struct ModelTest {
    /// The seed.
    seed: u64,
    /// Operations run.
    ops: usize,
    /// Of which the model expected to fail.
    errors_expected: usize,
    /// Namespaces at the end.
    namespaces: usize,
    /// Nanoseconds per operation in the module.
    ns_per_op: f64,
    /// The first difference, if any.
    mismatch: Option<Mismatch>,
    /// A namespace whose check failed at the end, and the answer.
    check_failed: Option<(u32, String)>,
}

/// `shadowpid model-test`: prints a summary; false on any mismatch.
fn model_test(dev: &Device, seed: u64, count: usize, json: bool) -> anyhow::Result<bool> {
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
    let mut result = ModelTest {
        seed,
        ops: count,
        errors_expected: expected
            .iter()
            .filter(|o| matches!(o, Outcome::Err(_)))
            .count(),
        namespaces: model.ns_ids().len(),
        ns_per_op: elapsed.as_nanos() as f64 / count.max(1) as f64,
        mismatch: None,
        check_failed: None,
    };
    if let Some(i) = (0..count).find(|&i| expected[i] != got[i]) {
        result.mismatch = Some(Mismatch {
            index: i,
            op: ops[i].to_string(),
            module: got[i].to_string(),
            model: expected[i].to_string(),
            before: (i.saturating_sub(8)..i)
                .map(|j| (ops[j].to_string(), got[j].to_string()))
                .collect(),
        });
    } else {
        // The module's invariants hold in every namespace at the end.
        for ns in model.ns_ids() {
            let check = dev.run(&Op::Check { ns })?;
            if check != Outcome::Ok {
                result.check_failed = Some((ns, check.to_string()));
                break;
            }
        }
    }
    let ok = result.mismatch.is_none() && result.check_failed.is_none();
    if json {
        print_json(&result)?;
    } else if let Some(m) = &result.mismatch {
        println!("model-test seed {seed}: mismatch at operation {}", m.index);
        for (j, (op, answer)) in (m.index - m.before.len()..).zip(&m.before) {
            println!("  {j:>7}  {op:<24} -> {answer}");
        }
        println!(
            "  {:>7}  {:<24} -> module: {}   model: {}",
            m.index, m.op, m.module, m.model
        );
    } else if let Some((ns, check)) = &result.check_failed {
        println!("model-test seed {seed}: check {ns} -> {check}");
    } else {
        println!(
            "model-test seed {seed}: {count} operations ({} errors expected), {} namespaces, all equal, {:.0} ns/op",
            result.errors_expected, result.namespaces, result.ns_per_op
        );
    }
    Ok(ok)
}

/// `shadowpid compare`: true if no scenario found a mismatch.
fn compare(args: CompareArgs, json: bool) -> anyhow::Result<bool> {
    let CompareArgs {
        scenarios,
        no_builtin,
        random,
        seed,
        steps,
        ktap,
        jobs,
        share,
    } = args;
    let mut names = scenarios;
    if names.is_empty() && !no_builtin {
        names = shadowpid::compare::scenarios::BUILTIN
            .iter()
            .map(|s| s.to_string())
            .collect();
    }
    let seeds: Vec<u64> = (seed..seed + random).collect();
    // Nothing to run compares nothing: that is no pass.
    anyhow::ensure!(
        !names.is_empty() || !seeds.is_empty(),
        "no scenario to run (--no-builtin without --scenario or --random)"
    );
    // What would fail every scenario fails here, once, before the banner.
    shadowpid::compare::check_ready()?;
    if !json && !ktap && share.is_none() {
        println!(
            "Comparing in fresh PID namespaces below the initial one (its other processes \
             take numbers there too, so only the levels below it are compared)."
        );
    }
    let reports = match share {
        Some((w, n)) => {
            let (names, seeds) = shadowpid::compare::shares::select(&names, &seeds, w, n);
            shadowpid::compare::run(&names, &seeds, steps, true)?
        }
        None if jobs > 1 => compare_in_processes(&names, &seeds, steps, jobs as usize)?,
        None => shadowpid::compare::run(&names, &seeds, steps, json || ktap)?,
    };
    if ktap {
        print!("{}", shadowpid::compare::ktap(&reports));
    } else if json {
        /// A report with its verdict.
        #[derive(Serialize)]
        struct Scored<'a> {
            #[serde(flatten)]
            report: &'a shadowpid::compare::Report,
            /// Whether it passed.
            passed: bool,
            /// Why not.
            failure: Option<String>,
        }
        let scored: Vec<Scored<'_>> = reports
            .iter()
            .map(|report| Scored {
                report,
                passed: report.passed(),
                failure: report.failure(),
            })
            .collect();
        print_json(&scored)?;
    } else {
        print!("{}", shadowpid::compare::table(&reports));
    }
    Ok(reports.iter().all(shadowpid::compare::Report::passed))
}

/// `compare --jobs`: each of `jobs` processes (this program, `compare
/// --json --share W/JOBS`) runs its share of the scenarios; their reports,
/// in the scenarios' order (`compare::shares`).
fn compare_in_processes(
    names: &[String],
    seeds: &[u64],
    steps: usize,
    jobs: usize,
) -> anyhow::Result<Vec<shadowpid::compare::Report>> {
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().context("finding this program, to run its shares")?;
    let jobs = jobs.min(names.len() + seeds.len());
    let children = (0..jobs)
        .map(|w| {
            let mut cmd = Command::new(&exe);
            cmd.args(["--json", "--progress", "never", "compare", "--no-builtin"]);
            for name in names {
                cmd.args(["--scenario", name]);
            }
            // The seeds are consecutive (--seed, --random).
            cmd.arg(format!("--seed={}", seeds.first().copied().unwrap_or(1)))
                .arg(format!("--random={}", seeds.len()))
                .arg(format!("--steps={steps}"))
                .arg(format!("--share={w}/{jobs}"))
                .stdout(Stdio::piped())
                .spawn()
                .with_context(|| format!("starting share {w} of {jobs}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut shares = Vec::with_capacity(jobs);
    for (w, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output()?;
        let reports = serde_json::from_slice(&out.stdout);
        shares.push(reports.map_err(|e| format!("share {w} of {jobs} ({}): {e}", out.status)));
    }
    Ok(shadowpid::compare::shares::merge(names, seeds, shares))
}

/// `shadowpid stress`.
fn stress(threads: usize, ops: usize, seed: u64, json: bool) -> anyhow::Result<bool> {
    /// As JSON.
    #[derive(Serialize)]
    struct Stress {
        /// Worker threads.
        threads: usize,
        /// What they did.
        #[serde(flatten)]
        summary: shadowpid::stress::Summary,
    }
    let s = shadowpid::stress::run(threads, ops, seed)?;
    let ok = s.unexpected == 0 && s.broken == 0 && s.leaked == 0;
    if json {
        print_json(&Stress {
            threads,
            summary: s,
        })?;
    } else {
        println!(
            "stress: {threads} threads, {} operations ({} expected errnos, {} unexpected), \
             {} universes opened and closed meanwhile, {} namespaces inconsistent, \
             {} objects/pages left after the close, {:.1} s",
            s.ops, s.errors, s.unexpected, s.churned, s.broken, s.leaked, s.seconds
        );
    }
    Ok(ok)
}

/// `shadowpid faults`: every knob back as it was, on a signal too.
fn faults(
    target: shadowpid::faults::Target,
    allocs: u64,
    probability: u32,
    seed: u64,
    json: bool,
) -> anyhow::Result<bool> {
    /// As JSON.
    #[derive(Serialize)]
    struct Faults {
        /// What was made to fail.
        target: shadowpid::faults::Target,
        /// At what probability, percent.
        probability: u32,
        /// What the run found.
        #[serde(flatten)]
        summary: shadowpid::faults::Summary,
        /// Whether it found nothing wrong.
        clean: bool,
    }
    interrupt::install()?;
    let s = shadowpid::faults::run(target, allocs, probability, seed)?;
    let clean = s.clean();
    if json {
        print_json(&Faults {
            target,
            probability,
            summary: s,
            clean,
        })?;
    } else {
        println!(
            "faults {target:?}: {} allocations and {} namespace creations at {probability}%: \
             {} failures injected, {} ENOMEM, {} unexpected answers, {} inconsistent \
             after a failure, {} stuck allocations, {} objects/pages leaked",
            s.allocs, s.creates, s.injected, s.enomem, s.unexpected, s.broken, s.stuck, s.leaked
        );
    }
    Ok(clean)
}

/// `shadowpid fuzz`.
fn fuzz(seconds: u64, threads: usize, seed: u64, json: bool) -> anyhow::Result<bool> {
    /// As JSON.
    #[derive(Serialize)]
    struct Fuzz {
        /// Threads.
        threads: usize,
        /// What they did.
        #[serde(flatten)]
        summary: shadowpid::fuzz::Summary,
        /// Objects and pages the module held once every file was closed.
        leaked: u64,
    }
    let s = shadowpid::fuzz::run(seconds, threads, seed)?;
    let leaked = shadowpid::settle()?;
    let ok = s.unexpected == 0 && leaked == 0;
    if json {
        print_json(&Fuzz {
            threads,
            summary: s,
            leaked,
        })?;
    } else {
        let errnos: Vec<String> = s
            .errnos
            .iter()
            .map(|(e, n)| format!("{}={n}", shadowpid::errno::errno_name(*e)))
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
        println!("fuzz: {leaked} objects/pages left after every file closed");
    }
    Ok(ok)
}

/// `shadowpid bench`: pid_max back as it was, on a signal too.
fn bench(
    cfg: shadowpid::bench::Config,
    json_out: Option<std::path::PathBuf>,
    json: bool,
) -> anyhow::Result<bool> {
    interrupt::install()?;
    // At a terminal a spinner says the figure under way; elsewhere a line
    // each, the log make bench shows.
    let line = Progress::spinner("bench");
    let report = shadowpid::bench::run(cfg, |what| {
        if line.is_drawn() {
            line.set_message(what.to_string());
        } else {
            eprintln!("bench: {what}");
        }
    })?;
    line.finish();
    let text = serde_json::to_string_pretty(&report)?;
    if let Some(path) = json_out {
        std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
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
    Ok(sane)
}

/// `shadowpid plot`.
pub fn plot(input: &Path, output: &Path, scaling: bool) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(input)
        .with_context(|| format!("reading the bench report {}", input.display()))?;
    let report: shadowpid::bench::Report = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not the JSON of 'shadowpid bench --json'",
            input.display()
        )
    })?;
    let svg = if scaling {
        shadowpid::bench::plot_scaling(&report)
    } else {
        shadowpid::bench::plot(&report)
    };
    std::fs::write(output, svg).with_context(|| format!("writing {}", output.display()))?;
    Ok(true)
}
