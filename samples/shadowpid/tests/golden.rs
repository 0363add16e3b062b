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
