//! ruff: `ruff check --output-format json` read into findings.
//!
//! By default only the rules that find defects, not style: syntax errors (`E9`, and
//! ruff's `invalid-syntax`), invalid comparisons (`F63`), statements out of place (`F7`),
//! undefined names (`F82`) and the bandit-derived security rules (`S`). ruff's JSON has no
//! severity, so [`severity`] is a small table; the CWE comes from the rule's bandit twin.

use std::path::Path;

use serde::Deserialize;

use crate::scan::{Finding, Severity};

/// The rules selected unless configured otherwise.
pub const DEFAULT_SELECT: [&str; 5] = ["E9", "F63", "F7", "F82", "S"];

/// [`DEFAULT_SELECT`] as owned strings, the shape [`args`] takes.
pub fn default_select() -> Vec<String> {
    DEFAULT_SELECT.iter().map(|s| s.to_string()).collect()
}

/// `check --output-format json --no-cache --exit-zero --select <rules> <targets…>` (the
/// root, or files in it).
pub fn args(select: &[String], targets: Vec<String>) -> Vec<String> {
    let fixed = [
        "check",
        "--output-format",
        "json",
        "--no-cache",
        "--exit-zero",
        // the tree's own config (excludes, ignored rules) and `# noqa` cannot hide a finding
        "--isolated",
        "--ignore-noqa",
        "--select",
    ];
    super::arguments(&fixed, std::iter::once(select.join(",")).chain(targets))
}

/// One entry of ruff's JSON list.
#[derive(Debug, Deserialize)]
struct Diagnostic {
    /// `S602`; `invalid-syntax` (or absent in older versions) for a syntax error.
    code: Option<String>,
    message: String,
    url: Option<String>,
    filename: String,
    location: Position,
    end_location: Option<Position>,
}

#[derive(Debug, Deserialize)]
struct Position {
    row: u32,
}

/// ruff's JSON output (a list of diagnostics) → findings, files relative to `root`.
pub fn parse(json: &str, root: &Path) -> Result<Vec<Finding>, String> {
    let diagnostics: Vec<Diagnostic> = super::decode("ruff", "a list of diagnostics", json)?;
    Ok(diagnostics
        .into_iter()
        .map(|d| {
            let rule = d.code.unwrap_or_else(|| "invalid-syntax".into());
            let file = super::relative(&d.filename, root);
            let mut finding = Finding::at(
                "ruff",
                &rule,
                severity(&rule),
                &file,
                d.location.row,
                d.message,
            );
            finding.end_line = d
                .end_location
                .map_or(finding.start_line, |end| end.row.max(finding.start_line));
            finding.help_url = d.url;
            finding.cwe = cwe(&rule);
            finding
        })
        .collect())
}

/// Rules whose bandit twin is a direct route to code execution, data exposure or a
/// man in the middle: `exec` (S102), `pickle` (S301), `eval` (S307), `verify=False`
/// (S501), unsafe `yaml.load` (S506), a shell with input (S602, S604, S605), SQL built
/// from strings (S608).
const HIGH_SECURITY_RULES: [&str; 9] = [
    "S102", "S301", "S307", "S501", "S506", "S602", "S604", "S605", "S608",
];

/// Security rules bandit itself rates low (its twins `B101`, `B110`, `B112`, `B311`,
/// `B403`, `B404`, `B603`, `B607`): an `assert`, an ignored exception, `random`, importing
/// pickle or subprocess, a subprocess without a shell. Rated the same here, so a finding
/// has one severity whichever of the two tools reports it.
const LOW_SECURITY_RULES: [&str; 8] = [
    "S101", "S110", "S112", "S311", "S403", "S404", "S603", "S607",
];

/// How bad a ruff rule is:
///
/// | rules | severity |
/// |---|---|
/// | [`HIGH_SECURITY_RULES`], syntax errors (`E9…`, `invalid-syntax`), statements out of place (`F7…`), undefined names (`F82…`) | high |
/// | every other security rule (`S…`) but [`LOW_SECURITY_RULES`], invalid comparisons (`F63…`) | medium |
/// | anything else | low |
pub fn severity(rule: &str) -> Severity {
    let high = HIGH_SECURITY_RULES.contains(&rule)
        || rule == "invalid-syntax"
        || ["E9", "F7", "F82"].iter().any(|p| rule.starts_with(p));
    if high {
        Severity::High
    } else if (rule.starts_with('S') && !LOW_SECURITY_RULES.contains(&rule))
        || rule.starts_with("F63")
    {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// The CWE of a ruff `S` rule, as its bandit twin (`S602` ↔ `B602`) reports it.
pub fn cwe(rule: &str) -> Option<u32> {
    Some(match rule {
        "S101" | "S110" | "S112" => 703,
        "S102" | "S307" | "S602" | "S603" | "S604" | "S605" | "S606" | "S607" | "S609" => 78,
        "S103" => 732,
        "S104" => 605,
        "S105" | "S106" | "S107" => 259,
        "S108" => 377,
        "S113" => 400,
        "S301" | "S302" | "S403" => 502,
        "S311" => 330,
        "S324" | "S502" | "S503" | "S504" => 327,
        "S501" => 295,
        "S506" => 20,
        "S608" => 89,
        "S701" => 94,
        "S702" => 80,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "ruff_tests.rs"]
mod tests;
