// SPDX-License-Identifier: GPL-2.0

//! The one list of skips `make check` allows, each with the condition on
//! the kernel under test that makes it legitimate and the reason, and the
//! kernel configuration those conditions are read from.
//!
//! A line of the list is `TEST[.CASE] CONDITION REASON...`: the test as the
//! kselftest runner names it (`shadowpid_faults`), a case of it after a dot
//! (`shadowpid_mirror.cost_measured`); the condition a Kconfig symbol that
//! must be set (`CONFIG_KASAN`) or, after `!`, unset. Inside the test VM
//! every prerequisite exists by construction, so any skip the list does
//! not allow for the kernel under test is a failure.

use std::collections::HashSet;

/// One allowed skip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    /// `TEST` or `TEST.CASE`.
    pub test: String,
    /// The Kconfig symbol the condition reads.
    pub symbol: String,
    /// Whether the symbol must be unset (`!CONFIG_…`).
    pub negated: bool,
    /// Why the skip is legitimate, as the list says.
    pub reason: String,
}

/// The list, parsed; an unparsable line is an error naming it.
pub fn parse(text: &str) -> Result<Vec<Allowed>, String> {
    let mut list = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(test), Some(cond)) = (words.next(), words.next()) else {
            return Err(format!(
                "skips line {}: expected TEST CONDITION REASON",
                i + 1
            ));
        };
        let reason = words.collect::<Vec<_>>().join(" ");
        let (negated, symbol) = match cond.strip_prefix('!') {
            Some(s) => (true, s),
            None => (false, cond),
        };
        if !symbol.starts_with("CONFIG_") || reason.is_empty() {
            return Err(format!(
                "skips line {}: the condition is a CONFIG_ symbol, then a reason",
                i + 1
            ));
        }
        list.push(Allowed {
            test: test.into(),
            symbol: symbol.into(),
            negated,
            reason,
        });
    }
    Ok(list)
}

/// The symbols a kernel `.config` sets (`=y` or `=m`).
pub fn config(text: &str) -> HashSet<String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, v)| k.starts_with("CONFIG_") && (*v == "y" || *v == "m"))
        .map(|(k, _)| k.to_string())
        .collect()
}

/// The entry that allows `test` to skip on a kernel configured as `set`.
pub fn allowed<'a>(list: &'a [Allowed], set: &HashSet<String>, test: &str) -> Option<&'a Allowed> {
    list.iter()
        .find(|a| a.test == test && set.contains(&a.symbol) != a.negated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions() {
        let list = parse("# comment\nfaults !CONFIG_FAILSLAB no fault injection here\nmirror.cost CONFIG_KASAN KASAN would be measured\n").unwrap();
        let regular = config("CONFIG_RUST=y\n# CONFIG_FAILSLAB is not set\n");
        let debug = config("CONFIG_FAILSLAB=y\nCONFIG_KASAN=y\n");
        assert!(allowed(&list, &regular, "faults").is_some());
        assert!(allowed(&list, &debug, "faults").is_none());
        assert!(allowed(&list, &debug, "mirror.cost").is_some());
        assert!(allowed(&list, &regular, "mirror.cost").is_none());
        assert!(allowed(&list, &regular, "mirror").is_none());
        assert!(parse("x CONFIG_A\n").is_err());
        assert!(parse("x A reason\n").is_err());
    }
}
