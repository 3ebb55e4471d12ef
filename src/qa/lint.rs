//! Lint baselined the way tests are: a change fails lint only for warnings the base does
//! not have.
//!
//! A lint command's output is read into warnings, each keyed by its file and its text
//! *without* line or column numbers (and with "line N" inside a message blurred), so code
//! that merely moved keeps its warnings' keys and is not "new". Keys form a multiset: the
//! change has a new warning when it has more of a key than the base.
//!
//! Formats read, one warning per line unless said otherwise:
//!
//! - `path:line:col: CODE message` — ruff, flake8, pylint `--output-format=parseable`
//!   (`path:line: [C0114(…), ] message`), eslint `--format unix`, mypy, golangci-lint,
//!   shellcheck `--format gcc`;
//! - `path:line: message`;
//! - clippy / rustc, and ruff's `full` format: a header (`warning: message`,
//!   `error[E0308]: message`, `F401 message`), then ` --> path:line:col` on one of the
//!   following lines.
//!
//! Output with no warning in it (a crash, a configuration error, an unknown format) is
//! not read at all: [`super::verdict`] falls back to the exit code rule (the change's lint
//! must exit 0). So does output cut at the capture limit, on either side: a missing tail
//! cannot be compared.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Lines of a rustc header searched for its ` --> path` line.
const ARROW_WITHIN: usize = 6;

/// One lint warning, as the tool printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Relative to the worktree, as printed.
    pub path: String,
    pub line: u64,
    /// The code and message (`E501 line too long`, `warning: unused variable: x`).
    pub text: String,
}

impl Warning {
    /// What identifies the warning across runs: path and text, no line or column, and
    /// "line N" inside the text blurred (flake8's "redefinition … from line 3").
    pub fn key(&self) -> String {
        format!("{}: {}", self.path, blur_line_numbers(&self.text))
    }

    /// `path:line: text`, for people.
    pub fn located(&self) -> String {
        format!("{}:{}: {}", self.path, self.line, self.text)
    }
}

/// How many warnings of each key a lint run printed (a multiset of [`Warning::key`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintCounts(pub BTreeMap<String, u32>);

impl LintCounts {
    pub fn of(warnings: &[Warning]) -> Self {
        let mut counts = BTreeMap::new();
        for w in warnings {
            *counts.entry(w.key()).or_insert(0) += 1;
        }
        Self(counts)
    }

    /// Every warning counted.
    pub fn total(&self) -> u64 {
        self.0.values().map(|n| u64::from(*n)).sum()
    }
}

/// The warnings in a lint command's output, in the order printed; empty when nothing in it
/// reads as a warning.
pub fn parse(output: &str) -> Vec<Warning> {
    let lines: Vec<&str> = output.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(w) = located_line(line) {
            out.push(w);
        } else if let Some(header) = rustc_header(line)
            && let Some(w) = rustc_location(&lines[i + 1..], header)
        {
            out.push(w);
        }
    }
    out
}

/// The warnings of a lint run whose output can be compared: it ran to its end, its output
/// was not cut, and something in it reads as a warning. `None` otherwise.
pub(crate) fn readable_warnings(run: &super::CommandRun) -> Option<Vec<Warning>> {
    if !run.outcome.completed() || run.truncated {
        return None;
    }
    let warnings = parse(&run.output);
    (!warnings.is_empty()).then_some(warnings)
}

/// `output` with the worktree's absolute path taken off the paths it prints (eslint and
/// others print absolute paths; the base and the change run in different worktrees).
pub(crate) fn relative_paths(output: &str, dir: &std::path::Path) -> String {
    let mut out = output.to_string();
    let canonical = dir.canonicalize().ok();
    for dir in [Some(dir.to_path_buf()), canonical].into_iter().flatten() {
        let prefix = format!("{}/", dir.display().to_string().trim_end_matches('/'));
        if prefix.len() > 1 {
            out = out.replace(&prefix, "");
        }
    }
    out
}

/// The warnings of `change` beyond the base's count of their key, in the change's order.
pub fn new_warnings(base: &LintCounts, change: &[Warning]) -> Vec<Warning> {
    let mut left = base.0.clone();
    let mut new = Vec::new();
    for w in change {
        match left.get_mut(&w.key()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => new.push(w.clone()),
        }
    }
    new
}

/// `path:line[:col]: text`, the path without spaces and not a URL.
fn located_line(line: &str) -> Option<Warning> {
    let line = line.trim_end();
    let (path, rest) = line.split_once(':')?;
    let path = path.trim_start_matches("./");
    if path.is_empty() || path.contains(char::is_whitespace) || rest.starts_with("//") {
        return None;
    }
    let (number, rest) = rest.split_once(':')?;
    let number: u64 = number.parse().ok()?;
    // an optional column
    let rest = match rest.split_once(':') {
        Some((col, after)) if !col.is_empty() && col.chars().all(|c| c.is_ascii_digit()) => after,
        _ => rest,
    };
    let text = rest.trim();
    if text.is_empty() || !rest.starts_with(' ') {
        return None;
    }
    Some(Warning {
        path: path.to_string(),
        line: number,
        text: text.to_string(),
    })
}

/// A line that can head a rustc-style diagnostic: not indented, not blank. Whether it is
/// one is decided by the ` --> path:line:col` under it ([`rustc_location`]), so summary
/// lines (`warning: `x` (lib) generated 3 warnings`, `error: could not compile`, `Found 3
/// errors.`) are never warnings.
fn rustc_header(line: &str) -> Option<&str> {
    let line = line.trim_end();
    let indented = line.starts_with(char::is_whitespace);
    (!indented && !line.is_empty() && !line.starts_with("-->")).then_some(line)
}

/// The ` --> path:line:col` under a header, before the next header.
fn rustc_location(after: &[&str], header: &str) -> Option<Warning> {
    for line in after.iter().take(ARROW_WITHIN) {
        if rustc_header(line).is_some() {
            return None;
        }
        if let Some(at) = line.trim_start().strip_prefix("--> ") {
            let mut parts = at.trim().rsplitn(3, ':');
            let (_col, number, path) = (parts.next()?, parts.next()?, parts.next()?);
            return Some(Warning {
                path: path.trim_start_matches("./").to_string(),
                line: number.parse().ok()?,
                text: header.to_string(),
            });
        }
    }
    None
}

/// `from line 12` → `from line #`: a number a moved line changes.
fn blur_line_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("line ") {
        let (head, tail) = rest.split_at(at + "line ".len());
        out.push_str(head);
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            out.push('#');
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUFF_BASE: &str = "\
app/views.py:3:1: F401 [*] `os` imported but unused
app/views.py:10:80: E501 Line too long (91 > 88)
legacy/old.py:1:1: E402 Module level import not at top of file
Found 3 errors.
[*] 1 fixable with the `--fix` option.
";

    #[test]
    fn a_change_adding_one_ruff_warning_has_exactly_that_one_new() {
        let base = parse(RUFF_BASE);
        assert_eq!(base.len(), 3, "{base:?}");
        let change = "\
app/views.py:3:1: F401 [*] `os` imported but unused
app/views.py:10:80: E501 Line too long (91 > 88)
app/views.py:14:5: F841 Local variable `x` is assigned to but never used
legacy/old.py:1:1: E402 Module level import not at top of file
Found 4 errors.
";
        let new = new_warnings(&LintCounts::of(&base), &parse(change));
        let located: Vec<String> = new.iter().map(Warning::located).collect();
        assert_eq!(
            located,
            ["app/views.py:14: F841 Local variable `x` is assigned to but never used"]
        );
    }

    #[test]
    fn the_same_warnings_on_moved_lines_are_not_new_but_one_more_of_a_kind_is() {
        let base = LintCounts::of(&parse(RUFF_BASE));
        let moved = "\
app/views.py:30:1: F401 [*] `os` imported but unused
app/views.py:41:80: E501 Line too long (91 > 88)
legacy/old.py:9:1: E402 Module level import not at top of file
";
        assert!(new_warnings(&base, &parse(moved)).is_empty());
        let twice = format!("{moved}app/views.py:50:80: E501 Line too long (91 > 88)\n");
        let new = new_warnings(&base, &parse(&twice));
        assert_eq!(new.len(), 1, "a multiset: one more of a key is new");
        assert_eq!(new[0].line, 50);
        let flake8 = |n: u32| {
            format!(
                "a.py:{n}:1: F811 redefinition of unused 'x' from line {}\n",
                n - 2
            )
        };
        let base = LintCounts::of(&parse(&flake8(5)));
        assert!(new_warnings(&base, &parse(&flake8(25))).is_empty());
    }

    #[test]
    fn output_without_warnings_reads_as_nothing() {
        for output in [
            "",
            "Traceback (most recent call last):\n  File \"x\", line 3\nKeyError: 'E501'\n",
            "ruff failed\n  Cause: Failed to parse pyproject.toml: TOML parse error at line 3, column 1\n",
            "see https://example.com:8080/x: for details\n",
            "All checks passed!\n",
        ] {
            assert!(parse(output).is_empty(), "{output}");
        }
    }

    #[test]
    fn eslint_unix_mypy_pylint_golangci_and_shellcheck_lines_are_read() {
        let output = "\
/src/app.js:12:7: 'x' is assigned a value but never used. [Error/no-unused-vars]
src/util.ts:4:1: Unexpected console statement. [Warning/no-console]
app/models.py:8: error: Incompatible return value type (got \"int\", expected \"str\")  [return-value]
app/models.py:9:12: error: Name \"y\" is not defined  [name-defined]
app/views.py:1: [C0114(missing-module-docstring), ] Missing module docstring
main.go:20:2: ineffectual assignment to err (ineffassign)
deploy.sh:3:6: warning: Double quote to prevent globbing and word splitting. [SC2086]

3 problems
";
        let located: Vec<String> = parse(output).iter().map(Warning::located).collect();
        assert_eq!(
            located,
            [
                "/src/app.js:12: 'x' is assigned a value but never used. [Error/no-unused-vars]",
                "src/util.ts:4: Unexpected console statement. [Warning/no-console]",
                "app/models.py:8: error: Incompatible return value type (got \"int\", expected \"str\")  [return-value]",
                "app/models.py:9: error: Name \"y\" is not defined  [name-defined]",
                "app/views.py:1: [C0114(missing-module-docstring), ] Missing module docstring",
                "main.go:20: ineffectual assignment to err (ineffassign)",
                "deploy.sh:3: warning: Double quote to prevent globbing and word splitting. [SC2086]",
            ]
        );
    }

    #[test]
    fn clippy_headers_take_their_arrow_line_and_summaries_are_skipped() {
        let base = "\
warning: unused variable: `x`
 --> src/lib.rs:3:9
  |
3 |     let x = 1;
  |         ^ help: if this is intentional, prefix it with an underscore: `_x`
  |
  = note: `#[warn(unused_variables)]` on by default

warning: `demo` (lib) generated 1 warning
";
        let change = "\
warning: unused variable: `x`
 --> src/lib.rs:7:9
  |
7 |     let x = 1;
  |         ^

error[E0308]: mismatched types
  --> src/main.rs:12:18
   |
12 |     let n: u32 = \"x\";
   |                  ^^^ expected `u32`, found `&str`

warning: `demo` (lib) generated 1 warning
error: could not compile `demo` (bin \"demo\") due to 1 previous error
";
        let base = parse(base);
        assert_eq!(base.len(), 1, "{base:?}");
        let new = new_warnings(&LintCounts::of(&base), &parse(change));
        let located: Vec<String> = new.iter().map(Warning::located).collect();
        assert_eq!(located, ["src/main.rs:12: error[E0308]: mismatched types"]);
    }

    #[test]
    fn ruff_full_format_reads_like_rustc() {
        let output = "\
F401 [*] `os` imported but unused
 --> app/views.py:1:8
  |
1 | import os
  |        ^^
  |
help: Remove unused import: `os`

Found 1 error.
[*] 1 fixable with the `--fix` option.
";
        let located: Vec<String> = parse(output).iter().map(Warning::located).collect();
        assert_eq!(
            located,
            ["app/views.py:1: F401 [*] `os` imported but unused"]
        );
    }
}
