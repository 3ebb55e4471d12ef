//! The QA verdict on a change: pass or fail, what is newly broken, and the tail of the
//! failing commands' output to hand back to the coding tool.

use std::collections::BTreeSet;

use super::baseline::{Baseline, new_failures, removed_tests};
use super::report::TestReport;
use super::{CommandRun, QaRun};

/// Lines of output kept in [`QaVerdict::output_tail`] (shared by the failing commands).
pub const TAIL_LINES: usize = 200;
/// Bytes kept per failing command, so a few enormous lines cannot flood the coder's prompt.
const TAIL_BYTES: usize = 48 * 1024;

/// QA's answer about one change.
#[derive(Debug, Clone, PartialEq)]
pub struct QaVerdict {
    /// Lint passed, no test fails that did not already fail on the base, and no test of
    /// the base is missing.
    pub passed: bool,
    /// Failing test ids that do not fail on the base.
    pub new_failures: BTreeSet<String>,
    /// Tests of the base the change no longer runs (`removed: <id>`, or a count when the
    /// runner does not name its tests). A removed test is a failure unless the task
    /// declares the removal (`removes_tests: true`), and then a person decides.
    pub removed: BTreeSet<String>,
    pub lint_ok: bool,
    /// The change's test report.
    pub report: TestReport,
    /// For each failing command: `$ command`, how it ended, the new failures and the last
    /// lines of its output. Empty when QA passed.
    pub output_tail: String,
    /// The change's total coverage percentage, when measured.
    pub coverage: Option<f64>,
    /// Change minus base coverage, in percentage points, when both were measured.
    pub coverage_delta: Option<f64>,
}

/// Judge `change` against the base branch's result (`None`: every failure is new).
pub fn verdict(base: Option<&Baseline>, change: &QaRun) -> QaVerdict {
    let new = match base {
        Some(base) => new_failures(&base.report, &change.report),
        None => change.report.failures.clone(),
    };
    let removed = base
        .map(|b| removed_tests(&b.report, &change.report))
        .unwrap_or_default();
    let lint_ok = change.lint_ok();
    let mut failing: Vec<(&CommandRun, &BTreeSet<String>)> = Vec::new();
    let none = BTreeSet::new();
    if let Some(lint) = change.lint.as_ref().filter(|_| !lint_ok) {
        failing.push((lint, &none));
    }
    let mut named = new.clone();
    named.extend(removed.iter().cloned());
    if let Some(test) = change.test.as_ref().filter(|_| !named.is_empty()) {
        failing.push((test, &named));
    }
    let per_command = TAIL_LINES / failing.len().max(1);
    let output_tail = failing
        .iter()
        .map(|(run, new)| section(run, new, per_command))
        .collect::<Vec<_>>()
        .join("\n");
    QaVerdict {
        passed: lint_ok && new.is_empty() && removed.is_empty(),
        new_failures: new,
        removed,
        lint_ok,
        report: change.report.clone(),
        output_tail,
        coverage: change.coverage,
        coverage_delta: base
            .and_then(|b| b.coverage)
            .zip(change.coverage)
            .map(|(before, after)| after - before),
    }
}

fn section(run: &CommandRun, new: &BTreeSet<String>, lines: usize) -> String {
    let mut text = format!("$ {}\n[{}]\n", run.command, run.outcome.describe());
    if !new.is_empty() {
        let names: Vec<&str> = new.iter().map(String::as_str).collect();
        text.push_str(&format!("new failures: {}\n", names.join(", ")));
    }
    if run.truncated {
        text.push_str("[output was cut at the capture limit; its end may be missing]\n");
    }
    text.push_str(&tail(&run.output, lines, TAIL_BYTES));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The last `lines` lines of `text`, at most `max_bytes` (cut on a char boundary).
pub(crate) fn tail(text: &str, lines: usize, max_bytes: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let kept = all[all.len().saturating_sub(lines)..].join("\n");
    if kept.len() <= max_bytes {
        return kept;
    }
    let mut start = kept.len() - max_bytes;
    while !kept.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &kept[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_end_within_limits() {
        let text: String = (1..=500).map(|i| format!("line {i}\n")).collect();
        let t = tail(&text, 200, 1 << 20);
        assert!(t.starts_with("line 301\n") && t.ends_with("line 500"));
        let t = tail("ééééé", 5, 3);
        assert_eq!(t, "…é");
        assert_eq!(tail("", 10, 10), "");
    }
}
