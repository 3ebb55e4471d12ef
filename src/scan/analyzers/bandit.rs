//! bandit: `bandit -r -f json -q <root>` read into findings.
//!
//! bandit exits 1 when it found something (not an error). Files it could not parse are in
//! its `errors` list: they are not findings, so [`parse`] returns them apart
//! ([`Report::unparsed`]); ruff reports the syntax errors themselves. A hard-coded
//! password's message quotes the password, so for those rules (B105–B107) only the text
//! before the quote is kept.

use std::path::Path;

use serde::Deserialize;

use crate::scan::{Finding, Severity};

/// `-r -f json -q --ignore-nosec --ini <ini> <targets…>`: bandit's arguments for the root
/// or files in it (`-r` reads a file as a file). `ini` is an empty `[bandit]` file of dayshift's: without
/// it bandit reads a `.bandit` in the tree, whose `skips` would hide findings; `# nosec`
/// comments are ignored for the same reason.
pub fn args(targets: Vec<String>, ini: &Path) -> Vec<String> {
    let fixed = ["-r", "-f", "json", "-q", "--ignore-nosec", "--ini"];
    let ini = ini.display().to_string();
    super::arguments(&fixed, std::iter::once(ini).chain(targets))
}

/// What [`args`]' `ini` file holds.
pub const EMPTY_INI: &str = "[bandit]\n";

/// What one bandit run reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Files bandit could not read, with its reason (a syntax error, an encoding).
    pub unparsed: Vec<Unparsed>,
}

/// A file bandit skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unparsed {
    /// Relative to the root, `/`-separated.
    pub file: String,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
struct Output {
    #[serde(default)]
    errors: Vec<Error>,
    results: Vec<Issue>,
}

#[derive(Debug, Deserialize)]
struct Error {
    filename: String,
    reason: String,
}

#[derive(Debug, Deserialize)]
struct Issue {
    test_id: String,
    issue_text: String,
    issue_severity: String,
    issue_cwe: Option<Cwe>,
    more_info: Option<String>,
    filename: String,
    line_number: u32,
    #[serde(default)]
    line_range: Vec<u32>,
}

#[derive(Debug, Deserialize)]
struct Cwe {
    id: u32,
}

/// Rules whose message quotes the secret they found.
const QUOTES_A_SECRET: [&str; 3] = ["B105", "B106", "B107"];

/// bandit's JSON output → findings and the files it could not read, relative to `root`.
pub fn parse(json: &str, root: &Path) -> Result<Report, String> {
    let output: Output = super::decode("bandit", "a report with `results`", json)?;
    let findings = output
        .results
        .into_iter()
        .map(|issue| finding(issue, root))
        .collect::<Result<_, _>>()?;
    let unparsed = output
        .errors
        .into_iter()
        .map(|e| Unparsed {
            file: super::relative(&e.filename, root),
            reason: e.reason,
        })
        .collect();
    Ok(Report { findings, unparsed })
}

fn finding(issue: Issue, root: &Path) -> Result<Finding, String> {
    let severity = match issue.issue_severity.to_ascii_uppercase().as_str() {
        "LOW" | "UNDEFINED" => Severity::Low,
        "MEDIUM" => Severity::Medium,
        "HIGH" => Severity::High,
        other => {
            return Err(format!(
                "bandit's {} has the severity `{other}`, not LOW, MEDIUM or HIGH",
                issue.test_id
            ));
        }
    };
    let message = if QUOTES_A_SECRET.contains(&issue.test_id.as_str()) {
        issue
            .issue_text
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string()
    } else {
        issue.issue_text
    };
    let start = issue
        .line_range
        .first()
        .copied()
        .unwrap_or(issue.line_number);
    let file = super::relative(&issue.filename, root);
    let mut finding = Finding::at("bandit", &issue.test_id, severity, &file, start, message);
    finding.end_line = issue
        .line_range
        .last()
        .copied()
        .unwrap_or(start)
        .max(finding.start_line);
    finding.help_url = issue.more_info;
    finding.cwe = issue.issue_cwe.map(|c| c.id).filter(|id| *id > 0);
    Ok(finding)
}

#[cfg(test)]
#[path = "bandit_tests.rs"]
mod tests;
