// SPDX-License-Identifier: GPL-2.0
//! `shadowpid plot`: latency against occupancy, as an SVG.

use super::Report;
use std::fmt::Write as _;

/// An SVG of latency against occupancy (figure 9 and the worst case of
/// figure 6), shadow and native, log scale.
pub fn plot(r: &Report) -> String {
    let mut points: Vec<(String, Option<f64>, Option<f64>)> = r
        .rows
        .iter()
        .filter(|row| row.figure == 9)
        .map(|row| {
            (
                format!("{}%", f64::from(row.x as u32) / 10_000.0),
                row.shadow.map(|s| s.median),
                row.native.map(|n| n.median),
            )
        })
        .collect();
    if let Some(w) = r.rows.iter().find(|row| row.figure == 6) {
        points.push((
            "all but 1".into(),
            w.shadow.map(|s| s.median),
            w.native.map(|n| n.median),
        ));
    }
    let (w, h, left, right, top, bottom) = (760.0, 440.0, 80.0, 20.0, 50.0, 70.0);
    let values: Vec<f64> = points
        .iter()
        .flat_map(|(_, a, b)| [*a, *b])
        .flatten()
        .filter(|v| *v > 0.0)
        .collect();
    let lo = values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(1e-3);
    let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 10.0);
    let (llo, lhi) = (lo.log10().floor(), hi.log10().ceil());
    let x = |i: usize| left + (w - left - right) * (i as f64 + 0.5) / points.len().max(1) as f64;
    let y = |v: f64| top + (h - top - bottom) * (1.0 - (v.log10() - llo) / (lhi - llo));
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">Number allocation + free vs occupancy, pid_max 4194304 (Linux {}, {} vCPU, {})</text>"#,
        w / 2.0,
        r.kernel,
        r.cpus,
        r.accel
    );
    for decade in llo as i32..=lhi as i32 {
        let v = 10f64.powi(decade);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{v} ns</text>"##,
            w - right,
            left - 6.0,
            y(v) + 4.0,
            y = y(v)
        );
    }
    for (i, (label, _, _)) in points.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{label}</text>"#,
            x(i),
            h - bottom + 18.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">numbers taken</text>"#,
        (left + w - right) / 2.0,
        h - bottom + 40.0
    );
    for (k, (name, color)) in [
        ("shadow (pidmap)", "#c0392b"),
        ("native-style (IDR)", "#2471a3"),
    ]
    .iter()
    .enumerate()
    {
        let pts: Vec<String> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let v = if k == 0 { p.1 } else { p.2 }?;
                Some(format!("{:.1},{:.1}", x(i), y(v)))
            })
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        for p in &pts {
            let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(s, r#"<circle cx="{px}" cy="{py}" r="3" fill="{color}"/>"#);
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

#[cfg(test)]
mod tests {
    use super::plot;
    use crate::bench::{fake, Report};

    #[test]
    fn plot_draws_both_sides() {
        let rows = vec![
            fake(9, "0% taken", 10.0, 20.0),
            fake(9, "99% taken", 30.0, 25.0),
        ];
        let report = Report {
            kernel: "7.3".into(),
            cpus: 2,
            accel: "TCG".into(),
            reps: 5,
            smoke: false,
            hash_buckets: 4096,
            rows,
            targets: vec![],
            traced: None,
        };
        let svg = plot(&report);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 4);
    }
}
