// SPDX-License-Identifier: GPL-2.0
//! The reference model must give the answers written in the golden scripts
//! (tools/testing/selftests/shadowpid/scripts), which the guest checks the
//! module against too.

use shadowpid::{
    model::{Limits, Model},
    script,
};
use std::{fs, path::PathBuf};

#[test]
fn model_answers_the_golden_scripts() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tools/testing/selftests/shadowpid/scripts");
    let mut seen = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let input = entry.unwrap().path();
        if input.extension().is_none_or(|e| e != "in") {
            continue;
        }
        let expected = fs::read_to_string(input.with_extension("out")).unwrap();
        let mut model = Model::new(Limits::default());
        let got: Vec<String> = script::run(&fs::read_to_string(&input).unwrap(), false, &mut model)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        let expected: Vec<&str> = expected.lines().collect();
        assert_eq!(got, expected, "{}", input.display());
        seen += 1;
    }
    assert!(seen > 0, "no golden script in {}", dir.display());
}

/// The grammar in Documentation/shadowpid/abi.rst lists the operations of
/// the one list (`shadowpid::ops::USAGE`), with their usages, in its order.
#[test]
fn the_documented_grammar_is_the_list() {
    let rst = fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../Documentation/shadowpid/abi.rst"),
    )
    .unwrap();
    let (_, grammar) = rst
        .split_once("The script grammar\n==================\n")
        .expect("abi.rst: no section \"The script grammar\"");
    let documented: Vec<&str> = grammar
        .lines()
        .filter_map(|l| l.strip_prefix("    "))
        .filter_map(|l| l.split_once("->"))
        .map(|(usage, _)| usage.trim())
        .filter(|usage| *usage != "on any error")
        .collect();
    let list: Vec<&str> = shadowpid::ops::USAGE.iter().map(|(_, u)| *u).collect();
    assert_eq!(documented, list);
}
