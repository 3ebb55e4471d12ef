//! Layer 4, syntax: every changed file with a grammar is parsed after the change with
//! tree-sitter, so a change that cannot even parse goes back to the coder before a model
//! reviewer (or a person) spends time on it.
//!
//! tree-sitter rather than each language's own checker (`python -m py_compile`, `tsc`,
//! `cargo check`): it is in the binary, needs no toolchain in the target, runs no code
//! from the target, and parses a file in microseconds. It checks grammar only — a name
//! that does not exist is QA's business.
//!
//! A file that did not parse before the change either (a fixture broken on purpose, a
//! template) only warns, unless the change made it worse.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use tree_sitter::{Node, ParseOptions, Parser, Tree};

use super::diff::Status;
use super::{Contents, Diff, Finding, Language, Layer};
use crate::config::redact::redact_global;
use crate::tasks::Risk;

/// Files larger than this are not parsed (a generated bundle, a data file with a code
/// extension): a warning says so.
pub const MAX_BYTES: usize = 1024 * 1024;

/// A parse that takes longer than this is abandoned (a hostile file built to make the
/// parser's error recovery slow): a warning says so.
const PARSE_BUDGET: Duration = Duration::from_secs(2);

/// How much of the text at an error the message quotes.
const QUOTE_CHARS: usize = 40;

/// Changed (not deleted) files with a parser, parsed after the change: a file with ERROR
/// or MISSING nodes blocks (`syntax.<lang>`, risk High, at the first error's line); one
/// that already failed to parse before the change and has no more errors now warns
/// (risk Medium). Shell only ever warns (risk Medium): tree-sitter's bash grammar
/// rejects some valid bash (about one script in twenty on a Debian system: extglob
/// patterns, some `{ … }` forms), and a false block would send a correct change back.
/// Files with no `after` contents are skipped silently; files over [`MAX_BYTES`] warn
/// "not parsed: too large".
pub fn check(diff: &Diff, contents: &dyn Contents) -> Vec<Finding> {
    let mut findings = Vec::new();
    // the texts are read here (a repository handle is not shared across threads), the
    // parses run on every core
    let mut texts = Vec::new();
    for file in &diff.files {
        if file.status == Status::Deleted || file.binary {
            continue;
        }
        let Some(lang) = file.language() else {
            continue;
        };
        let Some(after) = contents.after(&file.path) else {
            continue;
        };
        if after.len() > MAX_BYTES {
            findings.push(
                Finding::warn(
                    Layer::Syntax,
                    &format!("syntax.{}.too-large", lang.id()),
                    Risk::Medium,
                    format!(
                        "not parsed: too large ({} bytes, the limit is {MAX_BYTES})",
                        after.len()
                    ),
                )
                .at(&file.path, None),
            );
            continue;
        }
        texts.push((file, lang, after));
    }
    let parsed = parse_all(&texts);
    for ((file, lang, _), now) in texts.iter().zip(parsed) {
        let (file, lang) = (*file, *lang);
        let rule = format!("syntax.{}", lang.id());
        let Some(now) = now else {
            findings.push(
                Finding::warn(
                    Layer::Syntax,
                    &format!("{rule}.timeout"),
                    Risk::High,
                    format!(
                        "not parsed: the {lang} parser gave up after {}s",
                        PARSE_BUDGET.as_secs()
                    ),
                )
                .at(&file.path, None),
            );
            continue;
        };
        let Some(first) = now.first else {
            continue;
        };
        let what = format!(
            "does not parse as {lang} at line {}: {}",
            first.line, first.what
        );
        if lang == Language::Shell {
            findings.push(
                Finding::warn(
                    Layer::Syntax,
                    &rule,
                    Risk::Medium,
                    format!("{what} (tree-sitter's bash grammar rejects some valid bash: check it with `bash -n`)"),
                )
                .at(&file.path, Some(first.line)),
            );
            continue;
        }
        let before = contents
            .before(&file.path)
            .filter(|b| b.len() <= MAX_BYTES)
            .and_then(|b| parse(lang, &b));
        let finding = match before {
            Some(was) if was.errors > 0 && now.errors <= was.errors => Finding::warn(
                Layer::Syntax,
                &rule,
                Risk::Medium,
                format!(
                    "{what} (it did not parse before the change either: {} error(s) then, {} now)",
                    was.errors, now.errors
                ),
            ),
            _ => Finding::block(Layer::Syntax, &rule, Risk::High, what),
        };
        findings.push(finding.at(&file.path, Some(first.line)));
    }
    findings
}

/// Parse each `(file, language, text)`, on every core (each thread with its own
/// parsers), keeping the order; a parser that panicked leaves its files "not parsed" (a
/// warning), never skipped.
fn parse_all(texts: &[(&super::FileDiff, Language, String)]) -> Vec<Option<Parsed>> {
    crate::parallel::map(texts, |(_, lang, text)| parse(*lang, text), |_| None)
}

/// What a parse found.
struct Parsed {
    /// ERROR and MISSING nodes (an ERROR node's insides are not counted again).
    errors: usize,
    first: Option<SyntaxError>,
}

struct SyntaxError {
    /// 1-based.
    line: u32,
    what: String,
}

thread_local! {
    /// One parser per language per thread: creating one and loading its grammar costs
    /// more than parsing a small file.
    static PARSERS: RefCell<HashMap<Language, Parser>> = RefCell::new(HashMap::new());
}

/// Parse `text` as `lang`; `None` when the parse ran out of [`PARSE_BUDGET`].
fn parse(lang: Language, text: &str) -> Option<Parsed> {
    Some(errors(&tree(lang, text)?, text))
}

/// The syntax tree of `text` as `lang`, with this thread's parser for it (the scanner's
/// code-health monitor reads functions from it); `None` when the parse ran out of
/// [`PARSE_BUDGET`].
pub(crate) fn tree(lang: Language, text: &str) -> Option<Tree> {
    PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let parser = parsers.entry(lang).or_insert_with(|| new_parser(lang));
        let bytes = text.as_bytes();
        let started = Instant::now();
        let mut over_budget = |_: &tree_sitter::ParseState| {
            if started.elapsed() > PARSE_BUDGET {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let options = ParseOptions::new().progress_callback(&mut over_budget);
        let tree = parser.parse_with_options(
            &mut |i, _| bytes.get(i..).unwrap_or_default(),
            None,
            Some(options),
        );
        // an abandoned parse leaves state behind for resuming it: start afresh next time
        parser.reset();
        tree
    })
}

fn new_parser(lang: Language) -> Parser {
    let grammar: tree_sitter::Language = match lang {
        Language::Python => tree_sitter_python::LANGUAGE.into(),
        Language::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
        Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        Language::Rust => tree_sitter_rust::LANGUAGE.into(),
        Language::Go => tree_sitter_go::LANGUAGE.into(),
        Language::Shell => tree_sitter_bash::LANGUAGE.into(),
    };
    let mut parser = Parser::new();
    parser
        .set_language(&grammar)
        .expect("the grammars are built against the tree-sitter ABI this crate links");
    parser
}

/// Count the ERROR and MISSING nodes in document order and describe the first one.
fn errors(tree: &Tree, text: &str) -> Parsed {
    let mut parsed = Parsed {
        errors: 0,
        first: None,
    };
    if !tree.root_node().has_error() {
        return parsed;
    }
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        let broken = node.is_error() || node.is_missing();
        if broken {
            parsed.errors += 1;
            if parsed.first.is_none() {
                parsed.first = Some(describe(node, text));
            }
        }
        // only descend into subtrees that hold an error, and not inside one already counted
        if !broken && node.has_error() && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    parsed
}

fn describe(node: Node, text: &str) -> SyntaxError {
    let line = u32::try_from(node.start_position().row + 1).unwrap_or(u32::MAX);
    let what = if node.is_missing() {
        format!("missing `{}`", node.kind())
    } else {
        let snippet = text
            .get(node.start_byte()..node.end_byte())
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or_default();
        if snippet.is_empty() {
            "unexpected end of file".to_string()
        } else {
            let mut quoted: String = snippet.chars().take(QUOTE_CHARS).collect();
            if snippet.chars().count() > QUOTE_CHARS {
                quoted.push('…');
            }
            // the quote ends up in task files and prompts: a known secret never does
            format!("unexpected `{}`", redact_global(&quoted))
        }
    };
    SyntaxError { line, what }
}

#[cfg(test)]
#[path = "syntax_tests.rs"]
mod tests;
