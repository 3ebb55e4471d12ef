//! The code-health monitor (seed 002): how big files and functions are, how complex each
//! function is, which blocks are copied across the tree, and which TODOs have waited too
//! long. Sizes and complexity read each file on its own ([`scan`], [`scan_file`]), so the
//! caller can cache them by the file's content; duplication looks across files
//! ([`duplicates`]) and TODO age at git history ([`old_todos`]).
//!
//! Only files in a language the reviewer has a grammar for (Python, JavaScript,
//! TypeScript, TSX, Rust, Go, shell) are read, and none over [`MAX_BYTES`].

pub mod cached;
mod duplication;
mod functions;
mod todo_age;

pub use duplication::{WINDOW, duplicates};
pub use functions::{Function, functions};
pub use todo_age::old_todos;

use std::path::Path;

use serde::Deserialize;

use super::{Finding, Severity};
use crate::fsx::Beneath;
use crate::review::Language;
pub use crate::review::syntax::MAX_BYTES;

/// The analyzer name of every finding here.
pub const ANALYZER: &str = "health";

/// When a file or function is too big or too complex, and a TODO too old
/// (`code_health:` in the scan config).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthLimits {
    /// Lines of a source file.
    pub max_file_lines: u32,
    /// Lines of a function, from its first line to its last.
    pub max_function_lines: u32,
    /// Cyclomatic complexity of a function ([`functions`] says what counts).
    pub max_complexity: u32,
    /// Days a TODO, FIXME, XXX or HACK comment may wait.
    pub todo_max_age_days: u32,
}

impl Default for HealthLimits {
    fn default() -> Self {
        Self {
            max_file_lines: 1000,
            max_function_lines: 80,
            max_complexity: 15,
            todo_max_age_days: 180,
        }
    }
}

/// Sizes and complexity of `files` (relative to `root`), read on every core, ordered by
/// file, line and rule. Files that cannot be read, are too large or have no grammar are
/// skipped.
pub fn scan(root: &Path, files: &[String], limits: &HealthLimits) -> Vec<Finding> {
    let tree = Beneath::new(root);
    let scan_one = |file: &String| match read_source(&tree, file) {
        Some(text) => scan_file(file, &text, limits),
        None => Vec::new(),
    };
    // a parser that panicked costs its files' findings, not the scan
    let mut found: Vec<Finding> = crate::parallel::map(files, scan_one, |_| Vec::new())
        .into_iter()
        .flatten()
        .collect();
    found.sort_by(|a, b| (&a.file, a.start_line, &a.rule).cmp(&(&b.file, b.start_line, &b.rule)));
    found
}

/// Sizes and complexity of one file (`file` names it in the findings), in line order: what
/// a cache keyed by the file's content can keep. Nothing for a file with no grammar.
pub fn scan_file(file: &str, text: &str, limits: &HealthLimits) -> Vec<Finding> {
    let Some(lang) = Language::of(file) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let lines = text.lines().count();
    if let Some(severity) = beyond(lines as u64, u64::from(limits.max_file_lines)) {
        found.push(Finding::at(
            ANALYZER,
            "size-file",
            severity,
            file,
            1,
            format!(
                "{lines} lines long (the limit is {}): split it by what its parts are for",
                limits.max_file_lines
            ),
        ));
    }
    let Some(tree) = crate::review::syntax::tree(lang, text) else {
        return found;
    };
    for function in functions(lang, &tree, text) {
        let at = |rule: &str, severity, message: String| {
            Finding::at(ANALYZER, rule, severity, file, function.start_line, message)
        };
        let length = function.lines();
        if let Some(severity) = beyond(length.into(), u64::from(limits.max_function_lines)) {
            found.push(at(
                "size-function",
                severity,
                format!(
                    "function `{}` is {length} lines long (the limit is {})",
                    function.name, limits.max_function_lines
                ),
            ));
        }
        if let Some(severity) = beyond(function.complexity.into(), limits.max_complexity.into()) {
            found.push(at(
                "complexity",
                severity,
                format!(
                    "function `{}` has cyclomatic complexity {} (the limit is {})",
                    function.name, function.complexity, limits.max_complexity
                ),
            ));
        }
    }
    found
}

/// Low over the limit, medium over twice the limit.
fn beyond(value: u64, limit: u64) -> Option<Severity> {
    if value > limit.saturating_mul(2) {
        Some(Severity::Medium)
    } else if value > limit {
        Some(Severity::Low)
    } else {
        None
    }
}

/// The text of `file` when it has a grammar, is at most [`MAX_BYTES`] and is UTF-8.
fn read_source(tree: &Beneath, file: &str) -> Option<String> {
    Language::of(file)?;
    tree.read_to_string(file, MAX_BYTES as u64).ok()
}

#[cfg(test)]
mod tests;
