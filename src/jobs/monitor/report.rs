//! What a scan counts, as the `scan.done` event keeps it, and the daily report's Scan
//! section made from the day's last one: new, fixed and open findings by severity, the
//! tasks the monitor opened and closed, and the day's scan report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::markdown::table;
use crate::scan::Severity;
use crate::scan::run::ScanReport;
use crate::store::Event;

/// A scan in numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Findings present now (suppressed ones not counted).
    pub open: usize,
    pub new: usize,
    pub fixed: usize,
    pub suppressed: usize,
    /// Severity → (open, new), most severe first when shown.
    pub by_severity: BTreeMap<Severity, (usize, usize)>,
}

impl Counts {
    pub fn of(report: &ScanReport) -> Self {
        let mut by_severity: BTreeMap<Severity, (usize, usize)> = BTreeMap::new();
        for found in &report.findings {
            let entry = by_severity.entry(found.finding.severity).or_default();
            entry.0 += 1;
            entry.1 += usize::from(found.new);
        }
        Counts {
            open: report.findings.len(),
            new: report.new_findings().count(),
            fixed: report.fixed.len(),
            suppressed: report.suppressed.len(),
            by_severity,
        }
    }
}

/// The last scan in one line, for `dayshift status`: `12 open (1 high, 11 low), 2 new,
/// 1 fixed at 2026-12-07 06:30 · reports/scan/2026-12-07.md`.
pub fn status_line(scan: &Event) -> String {
    let Ok(counts) = serde_json::from_value::<Counts>(scan.detail["counts"].clone()) else {
        return format!(
            "at {} (counts this build cannot read)",
            scan.at.format("%Y-%m-%d %H:%M")
        );
    };
    let by: Vec<String> = counts
        .by_severity
        .iter()
        .rev()
        .map(|(severity, (open, _))| format!("{open} {severity}"))
        .collect();
    let by = if by.is_empty() {
        String::new()
    } else {
        format!(" ({})", by.join(", "))
    };
    format!(
        "{} open{by}, {} new, {} fixed at {} · {}",
        counts.open,
        counts.new,
        counts.fixed,
        scan.at.format("%Y-%m-%d %H:%M"),
        scan.detail["report"].as_str().unwrap_or("reports/scan/")
    )
}

/// The Scan section of a day's report, from the day's events; empty when nothing was
/// scanned that day.
pub fn section(events: &[Event]) -> String {
    let Some(last) = events.iter().rev().find(|e| e.action == "scan.done") else {
        return String::new();
    };
    let Ok(counts) = serde_json::from_value::<Counts>(last.detail["counts"].clone()) else {
        return "## Scan\n\nThe day's scan left counts this build cannot read.\n".into();
    };
    let commit: String = last
        .commit
        .as_deref()
        .unwrap_or("")
        .chars()
        .take(10)
        .collect();
    let mut out = format!(
        "## Scan\n\nThe base at {commit} ({}): {} open, {} new, {} fixed{}. The findings: `{}`.\n",
        last.at.format("%H:%M"),
        counts.open,
        counts.new,
        counts.fixed,
        match counts.suppressed {
            0 => String::new(),
            n => format!(", {n} suppressed"),
        },
        last.detail["report"].as_str().unwrap_or("reports/scan/")
    );
    if !counts.by_severity.is_empty() {
        let rows: Vec<Vec<String>> = counts
            .by_severity
            .iter()
            .rev()
            .map(|(severity, (open, new))| {
                vec![severity.to_string(), open.to_string(), new.to_string()]
            })
            .collect();
        out.push('\n');
        out.push_str(&table(&["severity", "open", "new"], &rows));
        out.push('\n');
    }
    let tasks: Vec<String> = events
        .iter()
        .filter(|e| e.actor == super::ACTOR)
        .filter_map(|e| {
            let task = e.task?;
            match e.action.as_str() {
                "task.created" => Some(format!(
                    "- {task} opened for {}",
                    e.detail["finding"].as_str().unwrap_or("a finding")
                )),
                "task.moved" => Some(format!(
                    "- {task} closed: {}",
                    e.detail["why"].as_str().unwrap_or("")
                )),
                _ => None,
            }
        })
        .collect();
    if !tasks.is_empty() {
        if counts.by_severity.is_empty() {
            out.push('\n');
        }
        out.push_str(&tasks.join("\n"));
        out.push('\n');
    }
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out
}
