//! The base branch's QA result, run once per base commit, and the "new failures" rule.
//!
//! The result is cached as `<cache_dir>/<commit>.json` (callers use `<home>/.dayshift/qa`),
//! written with [`crate::fsx::write_atomic`], so a crash never leaves half a file. Only runs
//! that completed are cached: a base run that timed out or could not start is returned but
//! tried again next time. A cache file that cannot be parsed (an older format) is a cache
//! miss and is overwritten — it holds nothing that a re-run cannot rebuild. Two workers
//! asking at once may both run the base; the second write simply replaces the first.
//! The key is the commit and the commands (`<commit>-<fingerprint>.json`): editing the
//! target's lint, test or coverage command runs the base again.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::lint::{LintCounts, readable_warnings};
use super::report::{ReportSource, TestReport};
use super::{QaCommands, QaError, QaRun};
use crate::problem::IoError;

/// Failures of `change` that are not failures of `base`.
///
/// When the base only had its exit code to go on and failed (so we cannot tell which tests
/// failed), the change has no new failure only if it fails in exactly the same way;
/// otherwise all its failures count.
pub fn new_failures(base: &TestReport, change: &TestReport) -> BTreeSet<String> {
    if base.source == ReportSource::ExitCode && base.has_failures() {
        if change.failures == base.failures {
            return BTreeSet::new();
        }
        return change.failures.clone();
    }
    change
        .failures
        .difference(&base.failures)
        .cloned()
        .collect()
}

/// Tests of `base` that `change` no longer has, each as `removed: <id>`.
///
/// By id when both runs named their tests (JUnit, pytest `-v`/`-rA`, unittest `-v`); then
/// by count, which also catches tests no line named (a unittest docstring line, a
/// parameter with a space): a change that runs fewer tests than the base (40 before, 0
/// after: a deleted file, a runner that no longer collects) has removed some, even if we
/// cannot say which. An exit-code-only base says nothing about its tests.
pub fn removed_tests(base: &TestReport, change: &TestReport) -> BTreeSet<String> {
    if base.source == ReportSource::ExitCode {
        return BTreeSet::new();
    }
    if !base.tests.is_empty() && !change.tests.is_empty() {
        let by_id: BTreeSet<String> = base
            .tests
            .difference(&change.tests)
            .map(|id| format!("removed: {id}"))
            .collect();
        if !by_id.is_empty() {
            return by_id;
        }
    }
    let (before, after) = (base.total(), change.total());
    if after < before {
        let what = format!(
            "removed: {} test(s) — the base ran {before}, the change {after}",
            before - after
        );
        return BTreeSet::from([what]);
    }
    BTreeSet::new()
}

/// What QA found on the base branch at one commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub commit: String,
    pub report: TestReport,
    pub lint_ok: bool,
    /// The base's lint warnings, when its lint failed and its output could be read
    /// ([`super::lint`]); `None` when no lint ran, it passed, or its output was not
    /// readable (then the change's lint must pass). Required in the cache file (a file
    /// written before lint was baselined lacks it and is a miss).
    #[serde(deserialize_with = "Option::deserialize")]
    pub lint_warnings: Option<LintCounts>,
    pub coverage: Option<f64>,
}

impl Baseline {
    /// The summary of a finished base run.
    pub fn from_run(commit: &str, run: &QaRun) -> Self {
        Self {
            commit: commit.to_string(),
            // the base's failures are never shown to anyone: their ids are enough
            report: TestReport {
                details: Default::default(),
                ..run.report.clone()
            },
            lint_ok: run.lint_ok(),
            lint_warnings: run
                .lint
                .as_ref()
                .filter(|l| !l.outcome.success())
                .and_then(readable_warnings)
                .map(|w| LintCounts::of(&w)),
            coverage: run.coverage,
        }
    }

    /// The cached result for `base_commit`, or `run()` (once) and cache it.
    pub fn get_or_run(
        cache_dir: &Path,
        base_commit: &str,
        commands: &QaCommands,
        run: impl FnOnce() -> Result<QaRun, QaError>,
    ) -> Result<Self, QaError> {
        let path = cache_path(cache_dir, base_commit, commands)?;
        if let Some(cached) = Self::load(&path, base_commit)? {
            return Ok(cached);
        }
        let qa = run()?;
        let baseline = Self::from_run(base_commit, &qa);
        if qa.completed() {
            baseline.save(cache_dir, &path)?;
        }
        Ok(baseline)
    }

    /// The cached result at `path` for `base_commit`, if there is a readable one.
    fn load(path: &Path, base_commit: &str) -> Result<Option<Self>, QaError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("reading the base-branch cache", path, e)),
        };
        match serde_json::from_str::<Self>(&text) {
            Ok(cached) if cached.commit.eq_ignore_ascii_case(base_commit) => Ok(Some(cached)),
            Ok(_) => Ok(None),
            Err(err) => {
                tracing::warn!(path = %path.display(), %err, "unreadable QA cache file; re-running the base");
                Ok(None)
            }
        }
    }

    fn save(&self, cache_dir: &Path, path: &Path) -> Result<(), QaError> {
        fs::create_dir_all(cache_dir)
            .map_err(|e| io_error("creating the base-branch cache", cache_dir, e))?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| {
            io_error(
                "encoding the base-branch cache",
                path,
                std::io::Error::other(e),
            )
        })?;
        crate::fsx::write_atomic(path, &json)
            .map_err(|e| io_error("writing the base-branch cache", path, e))
    }
}

/// `<cache_dir>/<commit>-<fingerprint of the commands>.json`, refusing anything but a hex
/// commit id (no path tricks).
fn cache_path(cache_dir: &Path, commit: &str, commands: &QaCommands) -> Result<PathBuf, QaError> {
    let hex = (7..=64).contains(&commit.len()) && commit.chars().all(|c| c.is_ascii_hexdigit());
    if !hex {
        return Err(QaError::BadCommit {
            commit: commit.to_string(),
        });
    }
    let mut hash = Sha256::new();
    for command in [&commands.lint, &commands.test, &commands.coverage] {
        hash.update(command.as_deref().unwrap_or("").as_bytes());
        hash.update([0]);
    }
    let fingerprint = format!("{:x}", hash.finalize());
    Ok(cache_dir.join(format!(
        "{}-{}.json",
        commit.to_ascii_lowercase(),
        &fingerprint[..12]
    )))
}

fn io_error(what: &'static str, path: &Path, source: std::io::Error) -> QaError {
    QaError::Io {
        what,
        source: IoError {
            path: path.to_path_buf(),
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(source: ReportSource, failures: &[&str]) -> TestReport {
        let mut r = TestReport::empty(source);
        r.failures = failures.iter().map(|f| f.to_string()).collect();
        r.failed = r.failures.len() as u64;
        r
    }

    #[test]
    fn only_failures_missing_from_the_base_are_new() {
        let base = report(ReportSource::Pytest, &["a"]);
        assert!(new_failures(&base, &report(ReportSource::Pytest, &["a"])).is_empty());
        let new = new_failures(&base, &report(ReportSource::Pytest, &["a", "b"]));
        assert_eq!(new, BTreeSet::from(["b".to_string()]));
    }

    fn named(source: ReportSource, tests: &[&str], failures: &[&str]) -> TestReport {
        let mut r = report(source, failures);
        r.tests = tests.iter().map(|t| t.to_string()).collect();
        r.passed = (tests.len() - failures.len()) as u64;
        r
    }

    #[test]
    fn tests_missing_after_the_change_are_removed() {
        let base = named(ReportSource::Pytest, &["t::a", "t::b", "t::c"], &["t::c"]);
        let change = named(ReportSource::Pytest, &["t::a"], &[]);
        let removed: Vec<_> = removed_tests(&base, &change).into_iter().collect();
        assert_eq!(removed, ["removed: t::b", "removed: t::c"]);
        let same = named(ReportSource::Pytest, &["t::a", "t::b", "t::c", "t::d"], &[]);
        assert!(
            removed_tests(&base, &same).is_empty(),
            "added tests are fine"
        );
        // a test no line named (the same ids on both sides) still counts
        let mut unnamed = named(ReportSource::Pytest, &["t::a", "t::b", "t::c"], &[]);
        unnamed.skipped = 1;
        let fewer = named(ReportSource::Pytest, &["t::a", "t::b", "t::c"], &[]);
        assert_eq!(removed_tests(&unnamed, &fewer).len(), 1);
    }

    #[test]
    fn without_ids_fewer_tests_is_a_removal() {
        let mut base = report(ReportSource::Unittest, &[]);
        base.passed = 40;
        let mut change = report(ReportSource::Unittest, &[]);
        let removed = removed_tests(&base, &change);
        assert_eq!(
            removed.into_iter().collect::<Vec<_>>(),
            ["removed: 40 test(s) — the base ran 40, the change 0"]
        );
        change.passed = 39;
        change.failed = 1;
        assert!(removed_tests(&base, &change).is_empty());
        let exit = TestReport::from_exit("make test", true);
        assert!(removed_tests(&exit, &report(ReportSource::ExitCode, &[])).is_empty());
    }

    #[test]
    fn an_exit_code_only_base_excuses_only_the_same_failure() {
        let base = report(ReportSource::ExitCode, &["make test"]);
        assert!(new_failures(&base, &report(ReportSource::ExitCode, &["make test"])).is_empty());
        assert!(new_failures(&base, &report(ReportSource::ExitCode, &[])).is_empty());
        let change = report(ReportSource::Pytest, &["make test", "t::b"]);
        assert_eq!(new_failures(&base, &change).len(), 2);
    }

    #[test]
    fn commit_ids_are_checked_before_touching_the_disk() {
        let dir = Path::new("/nonexistent");
        let commands = QaCommands::default();
        for bad in ["", "../../etc/passwd", "abc", "zzzzzzzz", "HEAD"] {
            assert!(
                matches!(
                    cache_path(dir, bad, &commands),
                    Err(QaError::BadCommit { .. })
                ),
                "{bad}"
            );
        }
        let ok = cache_path(dir, "ABCDEF0123", &commands).unwrap();
        let name = ok.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("abcdef0123-") && name.ends_with(".json"),
            "{name}"
        );
        let test = QaCommands {
            test: Some("pytest".into()),
            ..Default::default()
        };
        assert_ne!(cache_path(dir, "ABCDEF0123", &test).unwrap(), ok);
    }

    fn lint_run(output: &str, code: i32) -> QaRun {
        QaRun {
            lint: Some(super::super::CommandRun {
                command: "ruff check .".into(),
                outcome: super::super::Outcome::Exited(code),
                output: output.into(),
                truncated: false,
                elapsed: std::time::Duration::ZERO,
            }),
            test: None,
            report: TestReport::empty(ReportSource::ExitCode),
            coverage_run: None,
            coverage: Some(81.5),
        }
    }

    #[test]
    fn the_base_lint_warnings_round_trip_through_the_cache_and_old_files_are_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let commands = QaCommands {
            lint: Some("ruff check .".into()),
            ..Default::default()
        };
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let output = "a.py:1:1: F401 `os` imported but unused\na.py:9:1: F401 `os` imported but unused\nFound 2 errors.\n";
        let first = Baseline::get_or_run(dir.path(), commit, &commands, || Ok(lint_run(output, 1)))
            .unwrap();
        let counts = first.lint_warnings.clone().expect("parsed");
        assert_eq!(
            counts.0.get("a.py: F401 `os` imported but unused"),
            Some(&2)
        );
        let again = Baseline::get_or_run(dir.path(), commit, &commands, || {
            panic!("the cache answers")
        })
        .unwrap();
        assert_eq!(again, first);

        // a cache file written before lint was baselined: no `lint_warnings` → run again
        let path = cache_path(dir.path(), commit, &commands).unwrap();
        let mut old: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        old.as_object_mut().unwrap().remove("lint_warnings");
        fs::write(&path, old.to_string()).unwrap();
        let mut ran = false;
        let rebuilt = Baseline::get_or_run(dir.path(), commit, &commands, || {
            ran = true;
            Ok(lint_run("", 0))
        })
        .unwrap();
        assert!(ran, "an old cache file is a miss");
        assert_eq!(
            rebuilt.lint_warnings, None,
            "a passing lint has no warnings to keep"
        );

        // unreadable output keeps nothing: the change's lint must then pass
        let other = "fedcba9876543210fedcba9876543210fedcba98";
        let crashed = Baseline::get_or_run(dir.path(), other, &commands, || {
            Ok(lint_run("ruff failed: cannot parse pyproject.toml\n", 2))
        })
        .unwrap();
        assert!(!crashed.lint_ok && crashed.lint_warnings.is_none());
    }
}
