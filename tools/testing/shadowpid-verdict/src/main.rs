// SPDX-License-Identifier: GPL-2.0

//! `verdict`: make check's summary (see the library's documentation).
//!
//! ```text
//! verdict expect --collection C --kselftest-list FILE --kselftest-dir DIR
//!                --kunit-src DIR --kunit-test TEST [--crate NAME=LIST]...
//!                [--loom LIST]
//! verdict summary --expected FILE --skips FILE --config FILE --guest LOG
//!                 [--cargo NAME=OUT]... [--loom OUT] [--console LOG]...
//! verdict console LOG
//! ```
//!
//! LIST is the output of `cargo test -- --list`, OUT of `cargo test` (or
//! scripts/loom), stderr included. A console LOG's taint value is read from
//! `LOG.taint`, which scripts/vm writes at the end of the guest's command.
//! `summary` and `console` exit 1 on any failure.

use shadowpid_verdict::{
    cargo,
    expect::{self, Expected},
    skips,
    summary::{self, Console, Inputs},
};
use std::{fs, path::Path, process::ExitCode};

/// The command line: `--name value` pairs, repeatable.
struct Args(Vec<(String, String)>);

impl Args {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut pairs = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let name = a
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {a:?}"))?;
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            pairs.push((name.to_string(), value.clone()));
        }
        Ok(Args(pairs))
    }
    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn opt(&self, name: &str) -> Option<&str> {
        self.all(name).last().copied()
    }
    fn one(&self, name: &str) -> Result<&str, String> {
        self.opt(name)
            .ok_or_else(|| format!("--{name} is required"))
    }
    /// `--name KEY=FILE` pairs.
    fn keyed(&self, name: &str) -> Result<Vec<(String, String)>, String> {
        self.all(name)
            .into_iter()
            .map(|v| {
                let (k, f) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--{name} takes NAME=FILE"))?;
                Ok((k.to_string(), f.to_string()))
            })
            .collect()
    }
}

fn read(path: &str) -> Result<String, String> {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| format!("{path}: {e}"))
}

fn expect(a: &Args) -> Result<ExitCode, String> {
    let collection = a.one("collection")?;
    let list = read(a.one("kselftest-list")?)?;
    let dir = expect::kselftest_dir(
        Path::new(a.one("kselftest-dir")?),
        &format!("{collection}_"),
    )
    .map_err(|e| format!("--kselftest-dir: {e}"))?;
    let kunit = expect::kunit_tree(Path::new(a.one("kunit-src")?))
        .map_err(|e| format!("--kunit-src: {e}"))?;
    let kunit_test = a.one("kunit-test")?;
    let mut e = Expected {
        kselftests: Expected::kselftests(&list, collection, &dir),
        cases: kunit
            .into_iter()
            .map(|c| (kunit_test.to_string(), c))
            .collect(),
        ..Default::default()
    };
    for (name, file) in a.keyed("crate")? {
        e.crates.push((name, cargo::list(&read(&file)?)));
    }
    if let Some(file) = a.opt("loom") {
        let models = cargo::list(&read(file)?);
        e.loom = Some(
            models
                .iter()
                .map(|m| {
                    m.rsplit_once("::models::")
                        .map_or(m.as_str(), |(_, n)| n)
                        .to_string()
                })
                .collect(),
        );
    }
    print!("{}", e.to_text());
    Ok(ExitCode::SUCCESS)
}

fn console_of(log: &str) -> Result<Console, String> {
    Ok(Console {
        name: Path::new(log)
            .file_name()
            .map_or(log.into(), |n| n.to_string_lossy().into_owned()),
        log: read(log)?,
        taint: fs::read_to_string(format!("{log}.taint")).ok(),
    })
}

fn summary(a: &Args) -> Result<ExitCode, String> {
    let mut cargo = Vec::new();
    for (name, file) in a.keyed("cargo")? {
        cargo.push((name, read(&file)?));
    }
    let inputs = Inputs {
        expected: Expected::parse(&read(a.one("expected")?)?)?,
        skips: skips::parse(&read(a.one("skips")?)?)?,
        config: skips::config(&read(a.one("config")?)?),
        collection: a.opt("collection").unwrap_or("shadowpid").to_string(),
        cargo,
        loom: a.opt("loom").map(read).transpose()?,
        guest: read(a.one("guest")?)?,
        consoles: a
            .all("console")
            .into_iter()
            .map(console_of)
            .collect::<Result<_, _>>()?,
    };
    let v = summary::compute(&inputs);
    print!("{}", v.render());
    Ok(if v.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn console(log: &str) -> Result<ExitCode, String> {
    let (scan, taint) = console_of(log)?.findings();
    let mut clean = true;
    for found in [scan, taint].into_iter().filter_map(Result::err) {
        found.iter().for_each(|f| eprintln!("{f}"));
        clean = false;
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let run = || -> Result<ExitCode, String> {
        let (cmd, rest) = argv
            .split_first()
            .ok_or("usage: verdict expect|summary|console ...")?;
        match cmd.as_str() {
            "expect" => expect(&Args::parse(rest)?),
            "summary" => summary(&Args::parse(rest)?),
            "console" => match rest {
                [log] => console(log),
                _ => Err("usage: verdict console LOG".into()),
            },
            _ => Err(format!("unknown command {cmd:?}")),
        }
    };
    run().unwrap_or_else(|e| {
        eprintln!("verdict: {e}");
        ExitCode::from(2)
    })
}
