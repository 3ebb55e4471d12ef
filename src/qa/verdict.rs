//! The QA verdict on a change: pass or fail, what is newly broken, and the feedback to hand
//! back to the coding tool ([`super::feedback`]: what this change broke first).

use std::collections::BTreeSet;

use super::baseline::{Baseline, new_failures, removed_tests};
use super::feedback::{self, FEEDBACK_BUDGET, TestFailures};
use super::lint::{self, LintCounts};
use super::report::TestReport;
use super::{CommandRun, QaRun};

/// QA's answer about one change.
#[derive(Debug, Clone, PartialEq)]
pub struct QaVerdict {
    /// Lint passed (no new warning), no test fails that did not already fail on the base, and no test of
    /// the base is missing.
    pub passed: bool,
    /// Failing test ids that do not fail on the base.
    pub new_failures: BTreeSet<String>,
    /// Tests of the base the change no longer runs (`removed: <id>`, or a count when the
    /// runner does not name its tests). A removed test is a failure unless the task
    /// declares the removal (`removes_tests: true`), and then a person decides.
    pub removed: BTreeSet<String>,
    /// No new lint warning: the change's lint exited 0, or the base's lint failed too, both
    /// outputs could be read ([`super::lint`]) and the change has no warning the base has
    /// not. Otherwise (no base, output no warning could be read from, a cut output) the
    /// change's lint must exit 0.
    pub lint_ok: bool,
    /// The change's lint warnings that the base does not have, located
    /// (`path:line: CODE message`), in the order printed. Empty when the base's lint could
    /// not be read (then only the exit code speaks) or there is no base.
    pub new_lint: Vec<String>,
    /// The change's test report.
    pub report: TestReport,
    /// What the coder hears, within [`FEEDBACK_BUDGET`] bytes (headers excepted): for
    /// each failing command `$ command` and how it ended; for lint its new warnings first,
    /// then its lines about the touched files; for tests the new failures' ids, then each one's own block of
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
    let (lint_ok, new_lint) = lint_against_base(base, change);
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
        failing_lint.map(|run| (run, new_lint.as_slice())),
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
        new_lint,
        report: change.report.clone(),
        feedback,
        coverage: change.coverage,
        coverage_delta: base
            .and_then(|b| b.coverage)
            .zip(change.coverage)
            .map(|(before, after)| after - before),
    }
}

/// Whether the change's lint passes against the base, and its new warnings (see
/// [`QaVerdict::lint_ok`] and [`QaVerdict::new_lint`]).
fn lint_against_base(base: Option<&Baseline>, change: &QaRun) -> (bool, Vec<String>) {
    let Some(run) = change.lint.as_ref() else {
        return (true, Vec::new());
    };
    if run.outcome.success() {
        return (true, Vec::new());
    }
    let Some(base) = base else {
        return (false, Vec::new());
    };
    let base_counts = match (&base.lint_warnings, base.lint_ok) {
        (Some(counts), _) => counts.clone(),
        // a clean base: every warning of the change is new
        (None, true) => LintCounts::default(),
        // the base failed in a way that could not be read: only the exit code speaks
        (None, false) => return (false, Vec::new()),
    };
    let Some(warnings) = lint::readable_warnings(run) else {
        return (false, Vec::new());
    };
    let new: Vec<String> = lint::new_warnings(&base_counts, &warnings)
        .iter()
        .map(lint::Warning::located)
        .collect();
    // a clean base and a failing change always fail, whatever was read
    let ok = new.is_empty() && base.lint_warnings.is_some();
    (ok, new)
}

/// Lint's part then the tests' part; the budget is shared, what lint leaves goes to tests.
fn feedback_text(
    lint: Option<(&CommandRun, &[String])>,
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
        let (run, new) = lint;
        out.push_str(&feedback::lint(run, new, touched, share));
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::qa::{QaCommands, run_checks};

    /// A real lint run in a fresh directory: the command prints `output` and exits `code`.
    fn lint_run(output: &str, code: i32) -> QaRun {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lint.txt"), output).unwrap();
        // absolute paths (eslint prints them) are made relative to the worktree
        let line = format!("sed \"s|^WT/|$(pwd)/|\" lint.txt; exit {code}");
        let commands = QaCommands {
            lint: Some(line),
            ..Default::default()
        };
        run_checks(dir.path(), &commands, Duration::from_secs(30)).unwrap()
    }

    fn base_of(run: &QaRun) -> Baseline {
        Baseline::from_run("0123456789abcdef", run)
    }

    const BASE: &str = "\
WT/app/views.py:3:1: F401 [*] `os` imported but unused
app/views.py:10:80: E501 Line too long (91 > 88)
legacy/old.py:1:1: E402 Module level import not at top of file
Found 3 errors.
";

    #[test]
    fn a_change_passes_lint_when_it_adds_no_warning_to_a_failing_base() {
        let base = base_of(&lint_run(BASE, 1));
        assert_eq!(base.lint_warnings.as_ref().unwrap().total(), 3);
        let moved = "\
legacy/old.py:7:1: E402 Module level import not at top of file
WT/app/views.py:13:1: F401 [*] `os` imported but unused
app/views.py:20:80: E501 Line too long (91 > 88)
Found 3 errors.
";
        let v = verdict(Some(&base), &lint_run(moved, 1));
        assert!(v.lint_ok && v.passed && v.new_lint.is_empty(), "{v:?}");
        assert!(v.feedback.is_empty());

        let added = format!(
            "{moved}WT/app/views.py:25:5: F841 Local variable `x` is assigned to but never used\n"
        );
        let v = verdict(Some(&base), &lint_run(&added, 1));
        assert!(!v.lint_ok && !v.passed);
        assert_eq!(
            v.new_lint,
            ["app/views.py:25: F841 Local variable `x` is assigned to but never used"]
        );
        assert!(
            v.feedback
                .contains("new lint warnings, not on the base (1):\napp/views.py:25: F841"),
            "{}",
            v.feedback
        );
    }

    #[test]
    fn unreadable_lint_output_falls_back_to_the_exit_code() {
        let base = base_of(&lint_run(BASE, 1));
        let v = verdict(Some(&base), &lint_run("ruff failed: bad config\n", 2));
        assert!(!v.lint_ok && v.new_lint.is_empty(), "{v:?}");
        assert!(
            v.feedback.contains("ruff failed: bad config"),
            "{}",
            v.feedback
        );

        let unreadable_base = base_of(&lint_run("Segmentation fault\n", 139));
        assert!(unreadable_base.lint_warnings.is_none());
        let v = verdict(Some(&unreadable_base), &lint_run(BASE, 1));
        assert!(!v.lint_ok && v.new_lint.is_empty(), "{v:?}");

        let v = verdict(None, &lint_run(BASE, 1));
        assert!(!v.lint_ok, "no base: the exit code rule");
    }

    #[test]
    fn on_a_clean_base_every_warning_is_new_and_an_exit_0_passes() {
        let clean = base_of(&lint_run("All checks passed!\n", 0));
        assert!(clean.lint_ok && clean.lint_warnings.is_none());
        let v = verdict(Some(&clean), &lint_run(BASE, 1));
        assert!(!v.lint_ok);
        assert_eq!(v.new_lint.len(), 3, "{v:?}");
        let v = verdict(Some(&clean), &lint_run("Warning: something odd\n", 1));
        assert!(
            !v.lint_ok,
            "a failing change on a clean base fails, read or not"
        );
        let failing_base = base_of(&lint_run(BASE, 1));
        let v = verdict(Some(&failing_base), &lint_run("", 0));
        assert!(v.lint_ok && v.new_lint.is_empty());
    }
}
