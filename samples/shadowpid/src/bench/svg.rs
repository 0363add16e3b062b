// SPDX-License-Identifier: GPL-2.0
//! `shadowpid plot`: the three columns against the population, and the
//! scaling with CPUs, as SVG.

use super::{scaling, Report};
use std::fmt::Write as _;

/// The columns, in the order of a point's values, with their colours.
const COLUMNS: [(&str, &str); 3] = [
    ("shadow (2.6.24 pidmap)", "#c0392b"),
    ("rebuild (7.3 IDR, in the module)", "#2471a3"),
    ("running kernel (alloc_pid/free_pid)", "#1e8449"),
];

/// One chart: labelled points, a value per column (none where a column
/// has no figure), on a log or a linear y axis.
struct Chart<'a> {
    /// Title line.
    title: String,
    /// What the x axis counts.
    x_label: &'a str,
    /// Unit of the y axis.
    unit: &'a str,
    /// Log scale.
    log: bool,
    /// The points: label, value per column.
    points: Vec<(String, [Option<f64>; 3])>,
}

impl Chart<'_> {
    /// The SVG.
    fn svg(&self) -> String {
        let (w, h, left, right, top, bottom) = (820.0, 440.0, 80.0, 20.0, 50.0, 70.0);
        let values: Vec<f64> = self
            .points
            .iter()
            .flat_map(|(_, v)| *v)
            .flatten()
            .filter(|v| *v > 0.0)
            .collect();
        let lo = values
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .max(1e-3);
        let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 1.5);
        let (vlo, vhi, ticks): (f64, f64, Vec<f64>) = if self.log {
            let (a, b) = (
                lo.log10().floor(),
                hi.log10().ceil().max(lo.log10().floor() + 1.0),
            );
            (a, b, (a as i32..=b as i32).map(|d| 10f64.powi(d)).collect())
        } else {
            let top_v = (hi * 1.2).ceil();
            (
                0.0,
                top_v,
                (0..=4).map(|i| top_v * f64::from(i) / 4.0).collect(),
            )
        };
        let scale = |v: f64| if self.log { v.log10() } else { v };
        let n = self.points.len().max(1) as f64;
        let x = |i: usize| left + (w - left - right) * (i as f64 + 0.5) / n;
        let y = |v: f64| top + (h - top - bottom) * (1.0 - (scale(v) - vlo) / (vhi - vlo));
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="24" text-anchor="middle" font-size="15">{}</text>"#,
            w / 2.0,
            self.title
        );
        for v in ticks {
            let _ = writeln!(
                s,
                r##"<line x1="{left}" x2="{}" y1="{yv:.1}" y2="{yv:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{v:.3} {}</text>"##,
                w - right,
                left - 6.0,
                y(v.max(1e-9)) + 4.0,
                self.unit,
                yv = y(v.max(1e-9))
            );
        }
        for (i, (label, _)) in self.points.iter().enumerate() {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{label}</text>"#,
                x(i),
                h - bottom + 18.0
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            (left + w - right) / 2.0,
            h - bottom + 40.0,
            self.x_label
        );
        for (k, (name, color)) in COLUMNS.iter().enumerate() {
            let pts: Vec<(f64, f64)> = self
                .points
                .iter()
                .enumerate()
                .filter_map(|(i, (_, v))| Some((x(i), y(v[k].filter(|v| *v > 0.0)?))))
                .collect();
            if pts.is_empty() {
                continue;
            }
            let line: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
                line.join(" ")
            );
            for (px, py) in &pts {
                let _ = writeln!(
                    s,
                    r#"<circle cx="{px:.1}" cy="{py:.1}" r="3" fill="{color}"/>"#
                );
            }
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" fill="{color}">{name}</text>"#,
                left + 10.0,
                top + 16.0 + 16.0 * k as f64
            );
        }
        let _ = writeln!(s, "</svg>");
        s
    }
}

/// alloc_pid + free_pid (figure 2, depth 1) on every column against the
/// state of the namespace, log scale.
pub fn plot(r: &Report) -> String {
    let points = r
        .rows
        .iter()
        .filter(|row| row.figure == 2 && row.params.starts_with("depth=1 "))
        .map(|row| {
            let label = row.params.trim_start_matches("depth=1 pop=").to_string();
            let m = |s: &Option<super::Interval>| s.map(|s| s.mean);
            (label, [m(&row.shadow), m(&row.rebuild), m(&row.kernel)])
        })
        .collect();
    Chart {
        title: format!(
            "alloc_pid + free_pid, initial namespace ({} pids) and pids added (Linux {}, {} vCPU, {})",
            r.initial_pids, r.kernel, r.cpus, r.accel
        ),
        x_label: "state of the namespace",
        unit: "ns",
        log: true,
        points,
    }
    .svg()
}

/// Figure 5's scaling: each column's throughput at N CPUs over its own at 1.
pub fn plot_scaling(r: &Report) -> String {
    let points = scaling(r)
        .into_iter()
        .flat_map(|(state, curve)| {
            curve
                .into_iter()
                .map(move |(cpus, v)| (format!("{cpus} CPU, {state}"), v))
        })
        .collect();
    Chart {
        title: format!(
            "alloc_pid + free_pid on pinned kthreads: throughput / own 1-CPU throughput (Linux {}, {})",
            r.kernel, r.accel
        ),
        x_label: "CPUs, state",
        unit: "x",
        log: false,
        points,
    }
    .svg()
}

#[cfg(test)]
mod tests {
    use super::{plot, plot_scaling};
    use crate::bench::{fake, Report};

    /// A report of `rows`.
    fn report(rows: Vec<crate::bench::Row>) -> Report {
        Report {
            kernel: "7.3".into(),
            cpus: 2,
            accel: "TCG".into(),
            reps: 5,
            smoke: false,
            hash_buckets: 4096,
            initial_pids: 100,
            pid_max: 32768,
            rows,
            targets: vec![],
        }
    }

    #[test]
    fn plot_draws_every_column() {
        let svg = plot(&report(vec![
            fake(2, "depth=1 pop=as is", 10.0, 20.0),
            fake(2, "depth=1 pop=+1000 dense", 30.0, 25.0),
            fake(2, "depth=4 pop=as is", 30.0, 25.0),
        ]));
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert_eq!(svg.matches("<circle").count(), 6, "depth 4 is not on it");
    }

    #[test]
    fn scaling_is_normalised_to_one_cpu() {
        let mut one = fake(5, "cpus=1 depth=1 pop=as is", 100.0, 200.0);
        one.x = 1;
        let mut two = fake(5, "cpus=2 depth=1 pop=as is", 50.0, 200.0);
        two.x = 2;
        let r = report(vec![one, two]);
        let curves = crate::bench::scaling(&r);
        assert_eq!(curves.len(), 1);
        let (_, curve) = &curves[0];
        assert_eq!(curve[1].0, 2);
        assert_eq!(curve[1].1[0], Some(2.0), "shadow: twice the throughput");
        assert_eq!(curve[1].1[2], Some(1.0), "kernel: flat");
        assert!(plot_scaling(&r).contains("<polyline"));
    }
}
