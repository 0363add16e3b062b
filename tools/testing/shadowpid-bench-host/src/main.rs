// SPDX-License-Identifier: GPL-2.0
//! `shadowpid-bench-host`: the shadow's allocator beside Linux 7.3's IDR on
//! the machine's own CPUs, no guest (`make bench-host`).
//!
//! The shadow's column is the module's own `rust/allocator/pidmap.rs` and
//! `rust/allocator/hash/`, built here on `std` atomics through the host twins of
//! their environments (the loom crate's `host.rs`, `pidmap_env.rs`,
//! `hash_env.rs`: the `host-std` seam); the kernel's is 7.3's `lib/idr.c`,
//! `lib/radix-tree.c` and `lib/xarray.c` built for userspace with the
//! kernel's radix-tree harness shims and liburcu (`build.rs`,
//! `csrc/kidr.c`). Each figure builds one state on both, then times the
//! same work on each in paired repetitions, the order rotated every
//! repetition; every figure is a mean with its 95 % interval, every ratio
//! the geometric mean of the per-repetition ratios with its interval.

#[allow(dead_code, unreachable_pub, unused_imports)]
#[path = "../../../../rust/allocator/hash/mod.rs"]
mod hash;
#[allow(dead_code, unreachable_pub)]
#[path = "../../shadowpid-loom/src/hash_env.rs"]
mod hash_env;
#[allow(dead_code, unreachable_pub)]
#[path = "../../shadowpid-loom/src/host.rs"]
mod host;
#[allow(dead_code, unreachable_pub)]
#[path = "../../../../rust/allocator/pidmap.rs"]
mod pidmap;
#[allow(dead_code, unreachable_pub)]
#[path = "../../shadowpid-loom/src/pidmap_env.rs"]
mod pidmap_env;

mod figures;
mod kernel;
mod report;
mod shadow;
#[allow(unreachable_pub)]
#[path = "../../../../samples/shadowpid/src/bench/stats.rs"]
mod stats;

use clap::Parser;
use std::path::PathBuf;

/// The host benchmark: the shadow's pidmap and pid hash beside Linux 7.3's
/// IDR, on this machine's CPUs.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Timed repetitions per row (after one warm-up each).
    #[arg(long, default_value_t = 15)]
    reps: usize,
    /// A few seconds: every figure, tiny batches (make check runs this).
    #[arg(long)]
    smoke: bool,
    /// Also write the rows and the machine as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Only these figures (comma-separated: 1 pairs, 3 lookups/walk/memory,
    /// 5 threads).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let plan = if args.smoke {
        figures::Plan {
            reps: 3,
            pairs: 200,
            lookups: 2_000,
            big: 20_000,
        }
    } else {
        figures::Plan {
            reps: args.reps.max(2),
            pairs: 20_000,
            lookups: 200_000,
            big: 1_000_000,
        }
    };
    let rows = report::run(&plan, &args.only);
    let machine = report::Machine::read(&plan);
    print!("{}", report::table(&machine, &rows));
    if let Some(path) = args.json {
        report::write_json(&path, &machine, &rows)?;
    }
    Ok(())
}
