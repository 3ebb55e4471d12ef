//! Suppressions: `config/scan-ignore.yaml` in the home (or `--ignore FILE`), never a file of
//! the scanned tree — text in the target cannot hide a finding. Each entry names one
//! finding by its fingerprint, or a rule (and optionally path globs), always with a reason,
//! and optionally a date it holds until: after it the finding shows again.
//!
//! ```yaml
//! ignore:
//!   - fingerprint: 3fa2c0d17be94e0a1c55
//!     reason: a fixture that must hold a fake key
//!     until: 2027-01-31
//!   - rule: ruff/S101            # or bandit/B101, or S101 for any analyzer
//!     paths: ["tests/**"]
//!     reason: asserts are how the tests check
//! ```

use std::path::Path;

use chrono::NaiveDate;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::Finding;
use super::fingerprint::identity;
use crate::config::yaml;
use crate::problem::{At, FileProblem};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    ignore: Vec<Spanned<Entry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    until: Option<NaiveDate>,
}

/// One suppression, checked.
#[derive(Debug)]
pub struct Suppression {
    fingerprint: Option<String>,
    rule: Option<String>,
    paths: Option<GlobSet>,
    pub reason: String,
    pub until: Option<NaiveDate>,
    /// Where it is written, `file:line`.
    pub at: String,
}

impl Suppression {
    /// Whether it hides `finding` (on `today`: an expired one hides nothing).
    pub fn hides(&self, finding: &Finding, today: NaiveDate) -> bool {
        if self.until.is_some_and(|until| today > until) {
            return false;
        }
        if let Some(print) = &self.fingerprint {
            return *print == finding.fingerprint;
        }
        // `ruff/S301` also hides bandit's `B301` and dayshift's own twin: which of them
        // reports a finding (the others failing, or left out) changes nothing
        let rule_matches = self.rule.as_deref().is_some_and(|rule| {
            let twin = rule.split_once('/').is_some_and(|(analyzer, rule)| {
                identity(analyzer, rule) == identity(&finding.analyzer, &finding.rule)
            });
            twin || rule == finding.rule || rule == format!("{}/{}", finding.analyzer, finding.rule)
        });
        rule_matches
            && self
                .paths
                .as_ref()
                .is_none_or(|globs| globs.is_match(&finding.file))
    }
}

/// The suppressions in `text` (the contents of `file`). Every problem names its line and
/// what to write.
pub fn parse(file: &Path, text: &str) -> Result<Vec<Suppression>, FileProblem> {
    let parsed: File = yaml::parse(file, text, 0)?;
    parsed
        .ignore
        .into_iter()
        .map(|entry| {
            let at = yaml::at(file, &entry.referenced);
            check(entry.value, at)
        })
        .collect()
}

fn check(entry: Entry, at: At) -> Result<Suppression, FileProblem> {
    let problem = |what: &str, fix: &str| FileProblem::new(at.clone(), what, fix);
    if entry.reason.trim().is_empty() {
        return Err(problem(
            "a suppression without a `reason`",
            "say why it may stay, e.g. `reason: a fixture that must hold a fake key`",
        ));
    }
    match (&entry.fingerprint, &entry.rule) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(problem(
                "a suppression names a `fingerprint` or a `rule` (with optional `paths`), one of the two",
                "copy the fingerprint `dayshift scan --json` shows, or write `rule: ruff/S101`",
            ));
        }
        (Some(_), None) if !entry.paths.is_empty() => {
            return Err(problem(
                "`paths` goes with `rule`, not with `fingerprint` (a fingerprint is one place already)",
                "remove `paths`, or name a `rule` instead",
            ));
        }
        _ => {}
    }
    let paths = if entry.paths.is_empty() {
        None
    } else {
        let mut builder = GlobSetBuilder::new();
        for glob in &entry.paths {
            builder.add(Glob::new(glob).map_err(|e| {
                problem(
                    &format!("`{glob}` is not a glob: {e}"),
                    "write paths like `tests/**` or `app/fixtures/*.py`",
                )
            })?);
        }
        Some(builder.build().map_err(|e| {
            problem(
                &format!("the paths cannot be used: {e}"),
                "simplify the globs",
            )
        })?)
    };
    Ok(Suppression {
        fingerprint: entry.fingerprint,
        rule: entry.rule,
        paths,
        reason: entry.reason,
        until: entry.until,
        at: match at.line {
            Some(line) => format!("{}:{line}", at.file.display()),
            None => at.file.display().to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Severity;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_fingerprint_hides_until_its_date_and_a_rule_within_its_paths() {
        let text = "ignore:\n  - fingerprint: abc123\n    reason: a fixture\n    until: 2027-01-31\n  - rule: ruff/S101\n    paths: [\"tests/**\"]\n    reason: asserts in tests\n";
        let rules = parse(Path::new("scan-ignore.yaml"), text).unwrap();
        let mut key = Finding::at("builtin", "secrets.aws", Severity::Critical, "a.py", 1, "m");
        key.fingerprint = "abc123".into();
        assert!(rules[0].hides(&key, day("2027-01-31")));
        assert!(!rules[0].hides(&key, day("2027-02-01")), "expired");
        assert_eq!(rules[0].at, "scan-ignore.yaml:2");
        let assert_in_tests = Finding::at("ruff", "S101", Severity::Low, "tests/t.py", 3, "m");
        let assert_in_app = Finding::at("ruff", "S101", Severity::Low, "app/a.py", 3, "m");
        assert!(rules[1].hides(&assert_in_tests, day("2030-01-01")));
        assert!(!rules[1].hides(&assert_in_app, day("2030-01-01")));
        // the same rule from bandit is hidden too; another rule is not
        let bandit = Finding::at("bandit", "B101", Severity::Low, "tests/t.py", 3, "m");
        assert!(rules[1].hides(&bandit, day("2030-01-01")));
        let other = Finding::at("bandit", "B102", Severity::Low, "tests/t.py", 3, "m");
        assert!(!rules[1].hides(&other, day("2030-01-01")));
    }

    #[test]
    fn a_rule_hides_its_twins_from_every_analyzer() {
        let text = "ignore:\n  - rule: ruff/S307\n    reason: eval by design\n";
        let rules = parse(Path::new("scan-ignore.yaml"), text).unwrap();
        for (analyzer, rule) in [
            ("ruff", "S307"),
            ("bandit", "B307"),
            ("builtin", "patterns.python.eval"),
        ] {
            let finding = Finding::at(analyzer, rule, Severity::High, "app/a.py", 3, "m");
            assert!(
                rules[0].hides(&finding, day("2030-01-01")),
                "{analyzer}/{rule}"
            );
        }
        let js = Finding::at(
            "builtin",
            "patterns.javascript.eval",
            Severity::High,
            "a.js",
            1,
            "m",
        );
        assert!(!rules[0].hides(&js, day("2030-01-01")));
    }

    #[test]
    fn bad_entries_name_their_line_and_what_to_write() {
        let file = Path::new("config/scan-ignore.yaml");
        for (text, says) in [
            ("ignore:\n  - rule: S101\n", "without a `reason`"),
            ("ignore:\n  - reason: x\n", "one of the two"),
            (
                "ignore:\n  - fingerprint: a\n    rule: S1\n    reason: x\n",
                "one of the two",
            ),
            (
                "ignore:\n  - fingerprint: a\n    paths: [x]\n    reason: x\n",
                "`paths` goes with `rule`",
            ),
            (
                "ignore:\n  - rule: S1\n    paths: [\"a/{b\"]\n    reason: x\n",
                "is not a glob",
            ),
            (
                "ignore:\n  - rule: S1\n    reason: x\n    until: someday\n",
                "scan-ignore.yaml",
            ),
            (
                "ignore:\n  - rule: S1\n    reason: x\n    color: red\n",
                "color",
            ),
        ] {
            let err = parse(file, text).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
            assert!(err.contains("config/scan-ignore.yaml:"), "{text}: {err}");
        }
    }
}
