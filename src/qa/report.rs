//! What a test run reported, whatever tool produced it.
//!
//! Failure ids are whatever the source names a test by (`tests/test_x.py::test_y` for
//! pytest, `module.Class.test_x` for unittest, `classname.name` for JUnit …). They only have
//! to be stable between the base run and the change run of the same command, which they are.
//! When nothing names the failing test, the id is the command line itself.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Where a [`TestReport`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportSource {
    JUnit,
    Pytest,
    Unittest,
    Cargo,
    Go,
    Jest,
    /// Nothing recognisable: only the exit code says pass or fail.
    ExitCode,
}

/// Counts and failing test ids of one test run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestReport {
    pub passed: u64,
    /// Failures and errors together: both mean "this test is broken".
    pub failed: u64,
    pub skipped: u64,
    /// Ids of the failing tests (or the command line when no test is named).
    pub failures: BTreeSet<String>,
    /// Ids of every test the run named, passing or not (JUnit, pytest `-v`/`-rA`,
    /// unittest `-v`): what lets QA see a test that the change removed. Empty when the
    /// runner names only its failures (older cached baselines have none either).
    #[serde(default)]
    pub tests: BTreeSet<String>,
    pub source: ReportSource,
    /// Each failing test's own block of output (JUnit `<failure>` text and captured output,
    /// pytest's `____ test ____` section, unittest's `FAIL:` traceback, …), by failure id:
    /// what the coder is told about a failure it caused. Never stored: a cached baseline
    /// needs only the ids.
    #[serde(skip)]
    pub details: BTreeMap<String, String>,
}

impl TestReport {
    /// An empty report of `source`.
    pub fn empty(source: ReportSource) -> Self {
        Self {
            passed: 0,
            failed: 0,
            skipped: 0,
            failures: BTreeSet::new(),
            tests: BTreeSet::new(),
            source,
            details: BTreeMap::new(),
        }
    }

    /// How many tests ran: passed, failed and skipped together.
    pub fn total(&self) -> u64 {
        self.passed + self.failed + self.skipped
    }

    /// The exit-code-only report: the command itself is the one failure when it failed.
    pub fn from_exit(command: &str, success: bool) -> Self {
        let mut report = Self::empty(ReportSource::ExitCode);
        if success {
            report.passed = 1;
        } else {
            report.failed = 1;
            report.failures.insert(command.to_string());
        }
        report
    }

    pub fn has_failures(&self) -> bool {
        !self.failures.is_empty()
    }

    /// Make the report agree with how the command ended: a failing command with no named
    /// failure gets the command as its failure, and a count never undercounts the ids.
    pub(crate) fn reconcile(mut self, command: &str, success: bool) -> Self {
        if !success && self.failures.is_empty() {
            self.failures.insert(command.to_string());
        }
        if self.failed > 0 && self.failures.is_empty() {
            self.failures.insert(command.to_string());
        }
        self.failed = self.failed.max(self.failures.len() as u64);
        if !self.tests.is_empty() {
            // a named failure is a test that exists (the command-line id is not one)
            let named: Vec<String> = self
                .failures
                .iter()
                .filter(|f| f.as_str() != command)
                .cloned()
                .collect();
            self.tests.extend(named);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_command_without_named_failures_fails_as_itself() {
        let report = TestReport::empty(ReportSource::Pytest).reconcile("pytest -q", false);
        assert_eq!(report.failures, BTreeSet::from(["pytest -q".to_string()]));
        assert_eq!(report.failed, 1);
        let ok = TestReport::from_exit("make test", true);
        assert!(!ok.has_failures());
    }

    #[test]
    fn counted_failures_without_ids_are_not_lost() {
        let mut report = TestReport::empty(ReportSource::Jest);
        report.failed = 2;
        let report = report.reconcile("jest", true);
        assert!(report.failures.contains("jest"));
        assert_eq!(report.failed, 2);
    }
}
