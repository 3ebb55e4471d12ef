//! `reports/scan/YYYY-MM-DD.md`: the scan of the target for a person — new findings first,
//! by severity, each with file:line and a one-line why, then those still open, what was
//! fixed, what is suppressed (with the reason), and how each analyzer ran. Text from the
//! analyzers and the tree goes into table cells, escaped.

use super::Severity;
use super::run::{Found, ScanReport};
use crate::markdown::table;

/// The report's markdown.
pub fn render(report: &ScanReport) -> String {
    let new: Vec<&Found> = report.new_findings().collect();
    let mut out = format!(
        "# Scan — {}\n\n_Written by dayshift (scanner) at {} on `{}`._\n\n",
        report.at.format("%Y-%m-%d"),
        report.at.format("%Y-%m-%dT%H:%M:%SZ"),
        report.root.display()
    );
    let by_severity = |found: &[&Found]| {
        Severity::ALL
            .iter()
            .map(|s| {
                format!(
                    "{} {s}",
                    found.iter().filter(|f| f.finding.severity == *s).count()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let all: Vec<&Found> = report.findings.iter().collect();
    out.push_str(&format!(
        "- **New**: {} ({})\n- **Open**: {} ({})\n- **Fixed** since the last scan: {}\n- **Suppressed**: {}\n\n",
        new.len(),
        by_severity(&new),
        all.len(),
        by_severity(&all),
        report.fixed.len(),
        report.suppressed.len()
    ));
    let rows = |found: &[&Found]| -> Vec<Vec<String>> {
        found
            .iter()
            .map(|f| {
                vec![
                    f.finding.severity.to_string(),
                    format!("`{}`", f.finding.located()),
                    format!("{}/{}", f.finding.analyzer, f.finding.rule),
                    f.finding.message.clone(),
                ]
            })
            .collect()
    };
    let headers = ["severity", "where", "rule", "why"];
    if !new.is_empty() {
        out.push_str(&format!("## New\n\n{}\n", table(&headers, &rows(&new))));
    }
    let open: Vec<&Found> = report.findings.iter().filter(|f| !f.new).collect();
    if !open.is_empty() {
        out.push_str(&format!(
            "## Still open\n\n{}\n",
            table(&headers, &rows(&open))
        ));
    }
    if !report.fixed.is_empty() {
        out.push_str("## Fixed since the last scan\n\n");
        for f in &report.fixed {
            out.push_str(&format!("- `{}` {}/{}\n", f.located(), f.analyzer, f.rule));
        }
        out.push('\n');
    }
    if !report.suppressed.is_empty() {
        let rows: Vec<Vec<String>> = report
            .suppressed
            .iter()
            .map(|s| {
                vec![
                    format!("`{}`", s.finding.located()),
                    format!("{}/{}", s.finding.analyzer, s.finding.rule),
                    s.reason.clone(),
                    format!("`{}`", s.by),
                ]
            })
            .collect();
        out.push_str(&format!(
            "## Suppressed\n\n{}\n",
            table(&["where", "rule", "reason", "by"], &rows)
        ));
    }
    out.push_str("## Analyzers\n\n");
    for a in &report.analyzers {
        out.push_str(&format!("- {a}\n"));
    }
    out
}
