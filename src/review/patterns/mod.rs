//! Layer 3, dangerous patterns: what a change adds that a person should look at before
//! it merges, read from the diff's lines per language.
//!
//! - code that is dangerous but can be legitimate (eval, a shell with input, unsafe
//!   deserialisation, TLS verification off, SQL built from strings, mode 777, `unsafe`,
//!   `curl | sh`) warns with risk High: a person decides (`rules.rs`, [`RULES`]);
//! - tests weakened (deleted, skipped, fewer assertions) block: back to the coder
//!   (`weakened.rs`), unless the task declares it removes tests;
//! - CI configuration and lockfiles changed warn (`paths.rs`).
//!
//! Only code counts: comments are blanked first (`code.rs`), so `# eval(x)` is not eval.
//! Nothing in the target can lower a verdict — there is no suppression comment, no
//! allow-list read from the repository: a line that says "reviewer: this is safe"
//! is just a line.

mod code;
mod paths;
mod rules;
mod weakened;

pub use paths::{is_ci_config, is_lockfile};
pub use rules::{RULES, Rule};
pub use weakened::is_test_file;

use super::{Diff, Finding, Language, Layer, Verdict};
use crate::tasks::Risk;

/// A line's code (comments blanked) with its number.
pub struct Code {
    pub number: u32,
    pub code: String,
    /// Per byte of `code`: inside a string literal.
    pub in_string: Vec<bool>,
}

impl Code {
    /// Whether a match is text in a string literal — its first letter and its last
    /// character both inside one: `log("eval(x)")` is text; `{ 'rejectUnauthorized':
    /// false }` is not.
    fn in_string_at(&self, m: &regex::Match) -> bool {
        let letter = m
            .as_str()
            .find(|c: char| c.is_alphanumeric())
            .map_or(m.start(), |i| m.start() + i);
        let inside = |at: usize| self.in_string.get(at).copied().unwrap_or(false);
        inside(letter) && inside(m.end().saturating_sub(1))
    }

    /// The first match of `re` that is code, not text in a string.
    fn code_match<'a>(&'a self, re: &regex::Regex) -> Option<regex::Match<'a>> {
        re.find_iter(&self.code).find(|m| !self.in_string_at(m))
    }
}

/// Dangerous patterns in the diff, per language. `removes_tests`: the task declares it
/// removes tests on purpose (`TaskMeta::removes_tests`) — then test removals are Warn
/// (risk High), not Block.
pub fn check(diff: &Diff, removes_tests: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut files = Vec::new();
    for file in &diff.files {
        if let Some(f) = paths::check(&file.path) {
            findings.push(f);
        }
        let Some(lang) = file.language() else {
            continue;
        };
        if file.binary {
            continue;
        }
        let read = |lines: &[super::Line]| -> Vec<Code> {
            code::code_of(lang, lines)
                .into_iter()
                .zip(lines)
                .map(|(lexed, l)| Code {
                    number: l.number,
                    code: lexed.code,
                    in_string: lexed.in_string,
                })
                .collect()
        };
        let added = read(&file.added);
        for line in &added {
            for rule in rules::COMPILED.iter() {
                if !rule.rule.languages.contains(&lang) {
                    continue;
                }
                // any match in code counts, unless an exemption covers that very match:
                // `log("eval(x)"); eval(y)` and `eval("1"); eval(x)` are eval
                let exempt = |m: &regex::Match| {
                    rule.unless.as_ref().is_some_and(|u| {
                        u.find_iter(&line.code)
                            .any(|e| e.start() < m.end() && e.end() > m.start())
                    })
                };
                let hit = rule
                    .regex
                    .find_iter(&line.code)
                    .any(|m| (rule.rule.reads_strings || !line.in_string_at(&m)) && !exempt(&m));
                if !hit {
                    continue;
                }
                let r = rule.rule;
                let message = r.message.to_string();
                findings.push(finding(
                    lang,
                    r.id,
                    &file.path,
                    line.number,
                    message,
                    r.verdict,
                    r.risk,
                ));
            }
        }
        files.push(weakened::FileCode {
            path: &file.path,
            status: file.status,
            lang,
            added,
            removed: read(&file.removed),
        });
    }
    findings.extend(weakened::check(&files, removes_tests));
    findings
}

/// `patterns.<lang>.<id>` at `path:line` (no line for 0).
fn finding(
    lang: Language,
    id: &str,
    path: &str,
    line: u32,
    message: String,
    verdict: Verdict,
    risk: Risk,
) -> Finding {
    let rule = format!("patterns.{}.{id}", lang.id());
    let f = if verdict == Verdict::Block {
        Finding::block(Layer::Patterns, &rule, risk, message)
    } else {
        Finding::warn(Layer::Patterns, &rule, risk, message)
    };
    f.at(path, (line > 0).then_some(line))
}

#[cfg(test)]
mod tests;
