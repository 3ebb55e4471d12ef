//! The QA verdict on a change: pass or fail, what is newly broken, and the feedback to hand
//! back to the coding tool ([`super::feedback`]: what this change broke first).

use std::collections::BTreeSet;

use super::baseline::{Baseline, new_failures, removed_tests};
use super::feedback::{self, FEEDBACK_BUDGET, TestFailures};
use super::report::TestReport;
use super::{CommandRun, QaRun};

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
    /// What the coder hears, within [`FEEDBACK_BUDGET`] bytes (headers excepted): for
    /// each failing command `$ command` and how it ended; for lint its lines about the
    /// touched files first; for tests the new failures' ids, then each one's own block of
    /// output, the removed tests and the runner's summary — never the base's failures'
    /// output. Empty when QA passed.
    pub feedback: String,
    /// The change's total coverage percentage, when measured.
    pub coverage: Option<f64>,
    /// Change minus base coverage, in percentage points, when both were measured.
    pub coverage_delta: Option<f64>,
}

/// Judge `change` against the base branch's result (`None`: every failure is new).
pub fn verdict(base: Option<&Baseline>, change: &QaRun) -> QaVerdict {
    verdict_for(base, change, &[])
}

/// [`verdict`], with the paths the change touched (relative to the worktree), which a
/// failing lint's feedback names first.
pub fn verdict_for(base: Option<&Baseline>, change: &QaRun, touched: &[String]) -> QaVerdict {
    let new = match base {
        Some(base) => new_failures(&base.report, &change.report),
        None => change.report.failures.clone(),
    };
    let removed = base
        .map(|b| removed_tests(&b.report, &change.report))
        .unwrap_or_default();
    let lint_ok = change.lint_ok();
    let failing_lint = change.lint.as_ref().filter(|_| !lint_ok);
    let failing_test = change
        .test
        .as_ref()
        .filter(|_| !new.is_empty() || !removed.is_empty());
    let on_base = base.map_or(0, |b| {
        change
            .report
            .failures
            .intersection(&b.report.failures)
            .count()
    });
    let feedback = feedback_text(
        failing_lint,
        failing_test.map(|run| TestFailures {
            run,
            report: &change.report,
            new: &new,
            removed: &removed,
            on_base,
        }),
        touched,
    );
    QaVerdict {
        passed: lint_ok && new.is_empty() && removed.is_empty(),
        new_failures: new,
        removed,
        lint_ok,
        report: change.report.clone(),
        feedback,
        coverage: change.coverage,
        coverage_delta: base
            .and_then(|b| b.coverage)
            .zip(change.coverage)
            .map(|(before, after)| after - before),
    }
}

/// Lint's part then the tests' part; the budget is shared, what lint leaves goes to tests.
fn feedback_text(
    lint: Option<&CommandRun>,
    tests: Option<TestFailures>,
    touched: &[String],
) -> String {
    let mut out = String::new();
    if let Some(lint) = lint {
        let share = if tests.is_some() {
            FEEDBACK_BUDGET / 2
        } else {
            FEEDBACK_BUDGET
        };
        out.push_str(&feedback::lint(lint, touched, share));
    }
    if let Some(tests) = tests {
        if !out.is_empty() {
            out.push('\n');
        }
        let left = FEEDBACK_BUDGET.saturating_sub(out.len());
        out.push_str(&feedback::tests(&tests, left));
    }
    out
}
