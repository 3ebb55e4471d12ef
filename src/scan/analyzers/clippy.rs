//! clippy: `cargo clippy --message-format json` in the root (a Cargo project) read into
//! findings — the compiler's messages at level warning or error, each at its primary span.
//!
//! | message | severity |
//! |---|---|
//! | an error: a compile error, a deny-by-default lint (clippy's `correctness` group) | high |
//! | a lint of clippy's `suspicious` group ([`SUSPICIOUS`], `clippy::suspicious_*`) | medium |
//! | any other warning (style, complexity, rustc's own lints) | low |
//!
//! cargo exits 101 when there is an error; its messages are still findings. The build goes
//! to a folder of dayshift's (beside the log), never into the scanned tree. Checking a
//! crate runs its build scripts and procedural macros: clippy runs the tree's code.

use std::path::Path;

use serde::Deserialize;

use crate::scan::{Finding, Severity};

/// `clippy --message-format json --quiet --target-dir <target_dir>` (the program is cargo).
pub fn args(target_dir: &Path) -> Vec<String> {
    let fixed = [
        "clippy",
        "--message-format",
        "json",
        "--quiet",
        "--target-dir",
    ];
    super::arguments(&fixed, [target_dir.display().to_string()])
}

/// Lints of clippy's `suspicious` group (code that is most likely wrong), by name; any
/// `clippy::suspicious_*` lint is one too.
pub const SUSPICIOUS: [&str; 16] = [
    "clippy::almost_complete_range",
    "clippy::await_holding_invalid_type",
    "clippy::await_holding_lock",
    "clippy::await_holding_refcell_ref",
    "clippy::cast_abs_to_unsigned",
    "clippy::drop_non_drop",
    "clippy::empty_loop",
    "clippy::float_equality_without_abs",
    "clippy::forget_non_drop",
    "clippy::let_underscore_future",
    "clippy::misrefactored_assign_op",
    "clippy::mut_range_bound",
    "clippy::mutable_key_type",
    "clippy::permissions_set_readonly_false",
    "clippy::swap_ptr_to_ref",
    "clippy::unconditional_recursion",
];

#[derive(Debug, Deserialize)]
struct Line {
    reason: String,
    message: Option<Diagnostic>,
}

#[derive(Debug, Deserialize)]
struct Diagnostic {
    message: String,
    code: Option<Code>,
    level: String,
    #[serde(default)]
    spans: Vec<Span>,
}

#[derive(Debug, Deserialize)]
struct Code {
    code: String,
}

#[derive(Debug, Deserialize)]
struct Span {
    file_name: String,
    line_start: u32,
    line_end: u32,
    is_primary: bool,
}

/// How bad a message is, by its level and lint ([the module's table](self)).
pub fn severity(level: &str, rule: &str) -> Severity {
    if level == "error" {
        Severity::High
    } else if SUSPICIOUS.contains(&rule) || rule.starts_with("clippy::suspicious") {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// Where a lint or an error code is explained.
fn help_url(rule: &str) -> Option<String> {
    if let Some(lint) = rule.strip_prefix("clippy::") {
        return Some(format!(
            "https://rust-lang.github.io/rust-clippy/master/index.html#{lint}"
        ));
    }
    let is_error_code =
        rule.len() == 5 && rule.starts_with('E') && rule[1..].chars().all(|c| c.is_ascii_digit());
    is_error_code.then(|| format!("https://doc.rust-lang.org/error_codes/{rule}.html"))
}

/// cargo's JSON messages (one per line) → findings, once each, files relative to `root`.
pub fn parse(json_lines: &str, root: &Path) -> Result<Vec<Finding>, String> {
    let mut findings: Vec<Finding> = Vec::new();
    let mut lines = 0;
    for (number, text) in json_lines.lines().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        let line: Line = super::decode("cargo clippy", "cargo's JSON messages", text)
            .map_err(|why| format!("line {}: {why}", number + 1))?;
        lines += 1;
        let Some(diagnostic) = line.message.filter(|_| line.reason == "compiler-message") else {
            continue;
        };
        if let Some(finding) = finding(diagnostic, root)
            && !findings.contains(&finding)
        {
            findings.push(finding);
        }
    }
    if lines == 0 {
        return Err("cargo clippy wrote no JSON messages (is the root a Cargo project?)".into());
    }
    Ok(findings)
}

/// A warning or an error at its primary span; notes, helps and summaries are none.
fn finding(diagnostic: Diagnostic, root: &Path) -> Option<Finding> {
    if !matches!(diagnostic.level.as_str(), "warning" | "error") {
        return None;
    }
    let span = diagnostic.spans.iter().find(|s| s.is_primary)?;
    let rule = diagnostic
        .code
        .map_or_else(|| format!("rustc-{}", diagnostic.level), |c| c.code);
    let file = super::relative(&span.file_name, root);
    let mut finding = Finding::at(
        "clippy",
        &rule,
        severity(&diagnostic.level, &rule),
        &file,
        span.line_start,
        diagnostic.message,
    );
    finding.end_line = span.line_end.max(finding.start_line);
    finding.help_url = help_url(&rule);
    Some(finding)
}

#[cfg(test)]
#[path = "clippy_tests.rs"]
mod tests;
