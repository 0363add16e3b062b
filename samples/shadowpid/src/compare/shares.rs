// SPDX-License-Identifier: GPL-2.0
//! `compare --jobs`: the scenarios dealt out to several processes, and
//! their reports put back in order.
//!
//! The jobs are the built-in names, then the random seeds; share `w` of `n`
//! runs those whose index in that list is `w` modulo `n`, in order, so job
//! `j` is the `(j / n)`-th report of share `j % n`.

use super::Report;

/// Share `w` of `n` of the jobs `names` then `seeds`.
pub fn select(names: &[String], seeds: &[u64], w: usize, n: usize) -> (Vec<String>, Vec<u64>) {
    let names_here = names.iter().skip(w).step_by(n).cloned().collect();
    let seeds_here = (seeds.iter().enumerate())
        .filter(|&(i, _)| (names.len() + i) % n == w)
        .map(|(_, &seed)| seed)
        .collect();
    (names_here, seeds_here)
}

/// The reports of every job, in the jobs' order, from `shares[w]`, the
/// reports of share `w` or why it has none. A job whose share gave no
/// report for it (the process broke, or stopped short) is a failed report
/// that says so: no scenario goes missing.
pub fn merge(
    names: &[String],
    seeds: &[u64],
    shares: Vec<Result<Vec<Report>, String>>,
) -> Vec<Report> {
    let n = shares.len().max(1);
    let why: Vec<Option<String>> = shares.iter().map(|s| s.as_ref().err().cloned()).collect();
    let mut shares: Vec<_> = shares
        .into_iter()
        .map(|s| s.unwrap_or_default().into_iter())
        .collect();
    let names = names.iter().cloned();
    let jobs = names.chain(seeds.iter().map(|seed| format!("random-{seed}")));
    jobs.enumerate()
        .map(|(j, name)| {
            let w = j % n;
            match shares.get_mut(w).and_then(Iterator::next) {
                Some(report) if report.name == name => report,
                other => Report {
                    diff: Some(match (why.get(w).and_then(Option::as_ref), other) {
                        (Some(why), _) => format!("no report: {why}"),
                        (None, Some(r)) => {
                            format!("no report: share {w} of {n} reported {} here", r.name)
                        }
                        (None, None) => format!("no report: share {w} of {n} stopped short"),
                    }),
                    name,
                    mismatches: 1,
                    ..Default::default()
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn passed(name: &str) -> Report {
        Report {
            name: name.into(),
            ran: 1,
            compared: 1,
            matches: 1,
            ..Default::default()
        }
    }

    /// Every job is in exactly one share, and merging the shares' reports
    /// gives them back in the jobs' order.
    #[test]
    fn shares_cover_the_jobs_once_and_merge_in_order() {
        let all = names(&["a", "b", "c"]);
        let seeds = [5, 6, 7, 8];
        for n in 1..=8 {
            let shares: Vec<_> = (0..n)
                .map(|w| {
                    let (ns, ss) = select(&all, &seeds, w, n);
                    let v = ns.iter().map(|s| passed(s));
                    Ok(v.chain(ss.iter().map(|s| passed(&format!("random-{s}"))))
                        .collect())
                })
                .collect();
            let merged: Vec<String> = merge(&all, &seeds, shares)
                .into_iter()
                .map(|r| {
                    assert!(r.passed(), "{n} shares: {} {:?}", r.name, r.diff);
                    r.name
                })
                .collect();
            assert_eq!(
                merged,
                ["a", "b", "c", "random-5", "random-6", "random-7", "random-8"],
                "{n} shares"
            );
        }
    }

    /// A share that broke, or stopped short, fails each job it did not
    /// report, by name.
    #[test]
    fn a_missing_report_is_a_named_failure() {
        let all = names(&["a", "b", "c"]);
        let shares = vec![Err("exit status: 101".to_string()), Ok(vec![passed("b")])];
        let merged = merge(&all, &[9], shares);
        let got: Vec<(String, bool)> = merged
            .iter()
            .map(|r| (r.name.clone(), r.passed()))
            .collect();
        assert_eq!(
            got,
            [
                ("a".into(), false),
                ("b".into(), true),
                ("c".into(), false),
                ("random-9".into(), false)
            ]
        );
        assert_eq!(
            merged[0].diff.as_deref(),
            Some("no report: exit status: 101")
        );
        assert_eq!(
            merged[3].diff.as_deref(),
            Some("no report: share 1 of 2 stopped short")
        );
    }
}
