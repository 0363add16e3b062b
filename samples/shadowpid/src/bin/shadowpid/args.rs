// SPDX-License-Identifier: GPL-2.0
//! The command line: every command, option and help text, from which the
//! help, the shell completions and the man pages are all generated.

use clap::{Args, Parser, Subcommand};
use shadowpid::{faults::Target, ops::Op, progress::When};
use std::path::PathBuf;

/// What follows every page of help and the man page.
const AFTER_HELP: &str = "\
Exit status: 0 when everything agreed; 1 on a mismatch, a failed check, an \
error, an operation's errno, or a script line that did not parse (with \
--stop-on-error: that failed); 2 on a usage error; 128+N when signal N \
(SIGINT, SIGTERM, SIGQUIT, SIGHUP) ended a command. faults, bench and the mirror \
commands put back every kernel setting they changed, and detach the mirror, \
before they exit on a signal; another signal, a second or more after the \
first, ends them at once.";

/// Drive the shadow PID allocator of /dev/shadowpid.
///
/// Every run opens the device once: one universe, gone when the run ends.
/// The module must be loaded and the caller root (CAP_SYS_ADMIN).
#[derive(Parser)]
#[command(version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// The device node; `fd:N`: descriptor N, inherited open.
    #[arg(
        long,
        global = true,
        env = "SHADOWPID_DEVICE",
        default_value = shadowpid::device::DEVICE_PATH,
        value_name = "PATH"
    )]
    pub device: PathBuf,
    /// Print the results as JSON (one object per line where a command
    /// prints one per step: script, the operations, mirror watch).
    #[arg(long, global = true)]
    pub json: bool,
    /// When to draw progress on stderr: auto (stdout and stderr are
    /// terminals), always (stderr is a terminal), never.
    #[arg(
        long,
        global = true,
        env = "SHADOWPID_PROGRESS",
        value_enum,
        default_value_t = When::Auto,
        value_name = "WHEN"
    )]
    pub progress: When,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options of `shadowpid compare`.
#[derive(Args)]
pub struct CompareArgs {
    /// A built-in scenario to run (repeatable); all of them by default.
    #[arg(long = "scenario")]
    pub scenarios: Vec<String>,
    /// Skip the built-in scenarios.
    #[arg(long)]
    pub no_builtin: bool,
    /// Random scenarios to run, with seeds SEED, SEED+1, ...
    #[arg(long, default_value_t = 0)]
    pub random: u64,
    /// Seed of the first random scenario.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Events per random scenario.
    #[arg(long, default_value_t = 2000)]
    pub steps: usize,
    /// Print the reports as KTAP (for kselftest) instead of the table.
    #[arg(long, conflicts_with = "json")]
    pub ktap: bool,
    /// Processes that run the scenarios, each taking every JOBS-th one
    /// (each scenario's namespaces are its own, so they do not see each
    /// other's numbers); the reports keep the scenarios' order.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: u32,
    /// Run only share W of N (every Nth scenario from the Wth, counting
    /// from 0): what each of --jobs' processes is given.
    #[arg(long, hide = true, value_name = "W/N", value_parser = parse_share, conflicts_with = "jobs")]
    pub share: Option<(usize, usize)>,
}

/// `W/N` with `W < N`, for `--share`.
fn parse_share(s: &str) -> Result<(usize, usize), String> {
    let (w, n) = s.split_once('/').ok_or("expected W/N")?;
    let (w, n): (usize, usize) = (
        w.parse().map_err(|e| format!("W: {e}"))?,
        n.parse().map_err(|e| format!("N: {e}"))?,
    );
    if w >= n {
        return Err(format!("share {w} of {n}: W must be below N"));
    }
    Ok((w, n))
}

/// `shadowpid mirror ...`: the live mirror of the running kernel.
#[derive(Subcommand)]
pub enum MirrorCommand {
    /// Attach the mirror, run CMD, detach, print what it saw. Exits non-zero
    /// if a fork diverged, an event was missed, or CMD failed. A signal
    /// (SIGINT, SIGTERM, SIGQUIT, SIGHUP) is passed on to CMD; once CMD has ended
    /// the mirror is detached and the report printed.
    Run {
        /// Also write the report as JSON to this file (a test reads it
        /// there, apart from CMD's own output).
        #[arg(long, value_name = "FILE")]
        json_out: Option<PathBuf>,
        /// The command and its arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// The report of the attached mirror (or of the last one).
    Status,
    /// The report, refreshed, for a person at a terminal (Ctrl-C ends it);
    /// elsewhere, its summary line at every refresh.
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
        /// Repetitions of each side (medians, and the paired ratio with its
        /// 95 % interval, are reported).
        #[arg(long, default_value_t = 10)]
        reps: u32,
    },
    /// Test of the detector: the next fork in the namespace with this inode
    /// number (`stat -L -c %i /proc/PID/ns/pid`) diverges once.
    Perturb {
        /// The namespace's inode number.
        ns_inode: u32,
        /// Move the shadow's cursor one on instead (a cursor divergence).
        #[arg(long)]
        cursor: bool,
    },
}

/// The subcommands: the tools below, then one per operation.
#[derive(Subcommand)]
pub enum Command {
    /// Print the ABI version of the loaded module and of this tool.
    Version,
    /// Run operations from stdin, one per line (the grammar of
    /// Documentation/shadowpid/abi.rst); one result line for each, in
    /// order. A line that does not parse prints "parse error at line N:
    /// WHY" in its place, and the exit status is 1.
    Script {
        /// Stop at the first line that fails (an operation's errno or a
        /// parse error), after printing its line; exit status 1.
        #[arg(long)]
        stop_on_error: bool,
        /// Answer with the reference model instead of the module (no
        /// device needed).
        #[arg(long)]
        model: bool,
    },
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
    /// Every knob it sets is put back as it was, on a signal too.
    Faults {
        /// What to make fail.
        #[arg(long, value_enum)]
        target: Target,
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
    /// pid_max, raised for the large states, is put back, on a signal too.
    Bench {
        /// Repetitions per figure, 1..16 (each column's mean and, from 2 on,
        /// its 95 % interval are reported, and the ratios paired per
        /// repetition).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=16))]
        reps: u32,
        /// A short pass proving every figure works (numbers positive,
        /// ratios computed), for make check.
        #[arg(long)]
        smoke: bool,
        /// Also write the JSON to this file.
        #[arg(long, value_name = "FILE")]
        json_out: Option<PathBuf>,
        /// Only these figures (1..11, comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Vec<u32>,
    },
    /// Draw latency against occupancy (SVG) from `bench --json` output.
    Plot {
        /// The JSON of a bench run.
        input: PathBuf,
        /// The SVG to write.
        #[arg(short, long)]
        output: PathBuf,
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
    /// Print the completion script of SHELL, generated from these
    /// definitions (make completions writes them all to build/).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (shadowpid.1 and one per subcommand) into DIR
    /// (make man writes them to build/man/man1).
    Man {
        /// Where to write them.
        dir: PathBuf,
    },
    /// One operation of the script grammar.
    #[command(flatten)]
    Op(Op),
}
