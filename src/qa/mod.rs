//! QA: run the target's own lint and test commands on a worktree, parse what they report,
//! and compare with the base branch so only *new* failures count (DESIGN §6).
//!
//! # Flow
//!
//! ```text
//! run_checks_confined(worktree, commands, timeout, confinement)   (run.rs: sh -c <line> via
//!                                                   process::run, under the task's sandbox)
//!   ├─ lint  ─▶ CommandRun { outcome, output }
//!   ├─ test  ─▶ CommandRun ─▶ JUnit XML in $DAYSHIFT_JUNIT_DIR (junit.rs)
//!   │                       └▶ else the runner's summary lines (parse.rs: pytest, unittest,
//!   │                          cargo, go, jest) └▶ else the exit code
//!   │                       (each failing test's own block of output: report.details)
//!   └─ coverage (optional) ─▶ a total percentage (coverage.rs)
//!        = QaRun
//! Baseline::get_or_run(cache, base_commit, commands, || run_checks(base…))   (once per commit and commands)
//! verdict_for(&base, &change, touched) ─▶ QaVerdict { passed, new_failures, lint_ok, new_lint, feedback, … }
//!                      (lint.rs: the change's lint warnings against the base's, by key)
//!                      (feedback.rs: the new failures' own blocks first, within a budget)
//! ```
//!
//! # Decisions
//!
//! - Each command gets the same timeout of its own; a command that cannot start, exits 127
//!   (the shell could not find it), times out or dies on a signal is an [`Outcome`], never
//!   an error: the run goes on and the outcome counts as a failure. [`QaError`] is only for
//!   problems with the setup (no worktree, nothing to run, a cache that cannot be written).
//! - The child's environment is small and explicit: `PATH`, `HOME`, `LANG`, `CI=1`,
//!   `PYTHONDONTWRITEBYTECODE=1` and
//!   `DAYSHIFT_JUNIT_DIR` — no credentials. A target's `test_command` can write JUnit XML
//!   there, e.g. `pytest --junitxml=$DAYSHIFT_JUNIT_DIR/report.xml`, `cargo nextest run`
//!   with a JUnit profile, `gotestsum --junitfile $DAYSHIFT_JUNIT_DIR/go.xml`, or jest with
//!   `JEST_JUNIT_OUTPUT_DIR=$DAYSHIFT_JUNIT_DIR jest --reporters=default --reporters=jest-junit`.
//!   JUnit is preferred because it names every test; the directory is outside the worktree
//!   so nothing lands in the task's commit.
//! - A failing test command that reports no failing test (a compile error, a crash, a
//!   coverage threshold) still fails: its failure id is the command line itself.
//! - Lint is baselined the way tests are ([`lint`]): its output is read into warnings keyed
//!   without line numbers (moved code is not new), and a change whose lint fails passes
//!   when the base's lint failed too and the change has no warning the base has not. When
//!   either output cannot be read (no warning in it, cut at the cap), the old rule holds:
//!   the change's lint must exit 0.

mod baseline;
mod block;
mod coverage;
mod feedback;
mod junit;
pub mod lint;
mod parse;
mod report;
mod run;
mod verdict;

use std::path::PathBuf;
use std::time::Duration;

pub use baseline::{Baseline, new_failures, removed_tests};
pub use coverage::parse_total_percent;
pub use feedback::{FEEDBACK_BUDGET, list as name_list};
pub use junit::parse_junit;
pub use parse::parse_output;
pub use report::{ReportSource, TestReport};
pub use run::{JUNIT_DIR_ENV, run_checks, run_checks_confined, run_command};
pub use verdict::{QaVerdict, verdict, verdict_for};

use crate::config::target::TargetConfig;

/// The shell lines QA runs, from config/target.yaml.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QaCommands {
    /// Runs first; on the change it must exit 0 or add no warning to the base's.
    pub lint: Option<String>,
    /// Its failures are compared with the base branch's.
    pub test: Option<String>,
    /// Optional; its output's total percentage is reported with the delta against base.
    pub coverage: Option<String>,
}

impl QaCommands {
    /// The target's lint and test commands, plus a coverage command when one is configured.
    pub fn from_target(target: &TargetConfig) -> Self {
        Self {
            lint: target.lint_command.clone(),
            test: target.test_command.clone(),
            coverage: target.coverage_command.clone(),
        }
    }
}

/// How one command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It ran to the end with this exit code (0 = success).
    Exited(i32),
    /// The shell could not find the program (exit code 127).
    NotFound,
    /// It ran past the timeout; its whole process group was killed.
    TimedOut(Duration),
    /// It died on a signal (killed from outside, or crashed).
    Killed(i32),
    /// The shell itself could not be started.
    CouldNotStart(String),
}

impl Outcome {
    pub fn success(&self) -> bool {
        *self == Outcome::Exited(0)
    }

    /// True when the command ran to a normal end (a result worth caching).
    pub fn completed(&self) -> bool {
        matches!(self, Outcome::Exited(_))
    }

    /// One line for people: `exit code 1`, `timed out after 30s`, ….
    pub fn describe(&self) -> String {
        match self {
            Outcome::Exited(code) => format!("exit code {code}"),
            Outcome::NotFound => "command not found (exit code 127); check the command line \
                                  in config/target.yaml and that the tool is installed"
                .into(),
            Outcome::TimedOut(after) => {
                format!("timed out after {}s and was killed", after.as_secs())
            }
            Outcome::Killed(signal) => format!("killed by signal {signal}"),
            Outcome::CouldNotStart(why) => format!("could not start: {why}"),
        }
    }
}

/// One command's run.
#[derive(Debug, Clone)]
pub struct CommandRun {
    /// The shell line as configured.
    pub command: String,
    pub outcome: Outcome,
    /// stdout then stderr, each capped (the start is kept).
    pub output: String,
    /// True when the output was cut at the cap.
    pub truncated: bool,
    pub elapsed: Duration,
}

/// Everything one QA pass over a worktree produced.
#[derive(Debug, Clone)]
pub struct QaRun {
    pub lint: Option<CommandRun>,
    pub test: Option<CommandRun>,
    /// Parsed from the test command; empty (exit-code source, no failures) without one.
    pub report: TestReport,
    pub coverage_run: Option<CommandRun>,
    /// Total coverage percentage, when a coverage command ran and printed one.
    pub coverage: Option<f64>,
}

impl QaRun {
    /// True when no lint command is set or it exited 0 (the exit code alone; the verdict
    /// compares warnings with the base).
    pub fn lint_ok(&self) -> bool {
        self.lint.as_ref().is_none_or(|l| l.outcome.success())
    }

    /// True when every command ran to a normal end (no timeout, signal or start failure).
    pub fn completed(&self) -> bool {
        [&self.lint, &self.test, &self.coverage_run]
            .into_iter()
            .flatten()
            .all(|c| c.outcome.completed())
    }
}

/// What stops QA from running at all, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum QaError {
    #[error("QA cannot run in {}: it is not a directory; create the task's worktree first", dir.display())]
    NoWorktree { dir: PathBuf },
    #[error("QA has nothing to run; set test_command (and lint_command) in config/target.yaml")]
    NothingToRun,
    #[error("`{commit}` is not a git commit id; pass the base branch's full commit hash")]
    BadCommit { commit: String },
    #[error("QA {what} failed: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: crate::problem::IoError,
    },
}
