//! Tests weakened: a test deleted (not moved), a skip or xfail added, assertions removed.
//! The coder's easiest way to "make the tests pass" is to make them test less; these
//! block (back to the coder) unless the task declares it removes tests on purpose
//! (`removes_tests`), when they warn with risk High so a person still sees them.
//!
//! A test is known by its name (`def test_parse`, `it("parses …")`, `#[test] fn parses`,
//! `func TestParse`): one whose name is added back anywhere in the same diff was moved
//! or rewritten, not deleted. Assertions are counted over all the test files of the diff
//! together, for the same reason: a test moved to another file takes its asserts along.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::{Code, Language, finding};
use crate::review::diff::Status;
use crate::review::{Finding, Verdict};
use crate::tasks::Risk;

/// Test definitions: the first non-empty group is the test's name.
fn definition(lang: Language) -> &'static Regex {
    static PY: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*(?:async\s+)?def\s+(test\w*)\s*\("));
    static JS: LazyLock<Regex> = LazyLock::new(|| {
        re(r#"(?:^|[^.\w])(?:it|test)(?:\.only)?\s*\(\s*(?:'([^']*)'|"([^"]*)"|`([^`]*)`)"#)
    });
    static GO: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*func\s+(Test\w*)\s*\("));
    static RUST: LazyLock<Regex> = LazyLock::new(|| re(r"\bfn\s+(\w+)"));
    static NONE: LazyLock<Regex> = LazyLock::new(|| re(r"[^\s\S]"));
    match lang {
        Language::Python => &PY,
        Language::JavaScript | Language::TypeScript | Language::Tsx => &JS,
        Language::Go => &GO,
        Language::Rust => &RUST,
        Language::Shell => &NONE,
    }
}

/// A Rust test attribute: the `fn` on the next lines is a test.
static RUST_TEST_ATTR: LazyLock<Regex> = LazyLock::new(|| re(r"#\[(?:\w+::)*test\b"));

/// Skips, xfails and focus (`.only` runs one test and silently drops the others), and
/// whether the rule holds only in test files (where the word is unambiguous).
static SKIPS: LazyLock<Vec<(&'static [Language], bool, Regex)>> = LazyLock::new(|| {
    vec![
        (
            &[Language::Python][..],
            false,
            re(
                r"@pytest\.mark\.(?:skip|skipif|xfail)\b|@(?:unittest\.)?(?:skip|skipIf|skipUnless|expectedFailure)\b|\bpytest\.(?:skip|xfail)\s*\(|\.skipTest\s*\(",
            ),
        ),
        (
            &[Language::JavaScript, Language::TypeScript, Language::Tsx][..],
            false,
            re(
                r"(?:^|[^.\w])(?:it|test|describe|context|suite)\.(?:skip|todo|only)\s*\(|(?:^|[^.\w])(?:xit|xtest|xdescribe|xcontext|fdescribe)\s*\(",
            ),
        ),
        (&[Language::Rust][..], false, re(r"#\[ignore\b")),
        (
            &[Language::Go][..],
            true,
            re(r"\b(?:t|b|tb|f|s\.T\(\))\.Skip(?:f|Now)?\s*\("),
        ),
    ]
});

/// One assertion (a line with one counts once).
fn assertion(lang: Language) -> &'static Regex {
    static PY: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?:^|[^.\w])assert\b|\.assert\w*\s*\(|\bpytest\.raises\s*\("));
    static JS: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?:^|[^.\w])expect\s*\(|(?:^|[^.\w])assert(?:\.\w+)?\s*\(|\.should\b")
    });
    static RUST: LazyLock<Regex> =
        LazyLock::new(|| re(r"\b(?:debug_)?assert(?:_eq|_ne|_matches)?!\s*[(\[{]"));
    static GO: LazyLock<Regex> = LazyLock::new(|| {
        re(r"\bt\.(?:Error|Errorf|Fatal|Fatalf|Fail|FailNow)\s*\(|\b(?:assert|require)\.\w+\s*\(")
    });
    static NONE: LazyLock<Regex> = LazyLock::new(|| re(r"[^\s\S]"));
    match lang {
        Language::Python => &PY,
        Language::JavaScript | Language::TypeScript | Language::Tsx => &JS,
        Language::Rust => &RUST,
        Language::Go => &GO,
        Language::Shell => &NONE,
    }
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the weakened-tests regexes compile (tested)")
}

/// A file that holds tests, by its path: `tests/`, `test_x.py`, `x_test.go`,
/// `x.test.ts`, `x.spec.js`, `conftest.py`, Rust's `tests.rs`.
pub fn is_test_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let mut parts: Vec<&str> = lower.split('/').collect();
    let name = parts.pop().unwrap_or_default();
    let in_test_dir = parts.iter().any(|d| {
        matches!(
            *d,
            "test" | "tests" | "__tests__" | "spec" | "specs" | "testing"
        )
    });
    let stem = name.split('.').next().unwrap_or_default();
    in_test_dir
        || name.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem == "tests"
        || stem == "conftest"
        || name.contains(".test.")
        || name.contains(".spec.")
}

/// The tests defined in some lines: (name, line number).
fn tests_in(lang: Language, code: &[Code]) -> Vec<(String, u32)> {
    let def = definition(lang);
    let mut found = Vec::new();
    for (i, line) in code.iter().enumerate() {
        if lang == Language::Rust {
            if line.code_match(&RUST_TEST_ATTR).is_none() {
                continue;
            }
            // the fn on this line or one of the next few consecutive ones
            let named = code[i..]
                .iter()
                .take(6)
                .take_while(|l| l.number - line.number < 6)
                .find_map(|l| def.captures(&l.code));
            let name = named.map_or_else(|| "#[test]".to_string(), |c| c[1].to_string());
            found.push((name, line.number));
            continue;
        }
        let code = def
            .captures_iter(&line.code)
            .find(|c| c.get(0).is_some_and(|m| !line.in_string_at(&m)));
        if let Some(c) = code {
            let name = c.iter().skip(1).flatten().next().map_or("", |m| m.as_str());
            found.push((name.to_string(), line.number));
        }
    }
    found
}

/// The code of each file's added and removed lines, from [`super::check`].
pub struct FileCode<'a> {
    pub path: &'a str,
    pub status: Status,
    pub lang: Language,
    pub added: Vec<Code>,
    pub removed: Vec<Code>,
}

/// The test-weakening findings of the diff's files.
pub fn check(files: &[FileCode], removes_tests: bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    let weakened = |lang: Language, id: &str, path: &str, line: u32, message: String| {
        let message = if removes_tests {
            format!("{message} (the task declares removes_tests: a person checks it)")
        } else {
            message
        };
        let verdict = if removes_tests {
            Verdict::Warn
        } else {
            Verdict::Block
        };
        finding(lang, id, path, line, message, verdict, Risk::High)
    };

    // deleted tests: names removed and not added back anywhere
    let added_names: HashSet<String> = files
        .iter()
        .flat_map(|f| tests_in(f.lang, &f.added))
        .map(|(name, _)| name)
        .collect();
    let mut reported_deleted: HashSet<&str> = HashSet::new();
    for file in files {
        // `def test_connection` in the application is a function; in Rust a `#[test]`
        // is a test wherever it is (unit tests live beside the code)
        if file.lang != Language::Rust && !is_test_file(file.path) {
            continue;
        }
        let gone: Vec<(String, u32)> = tests_in(file.lang, &file.removed)
            .into_iter()
            .filter(|(name, _)| !added_names.contains(name))
            .collect();
        let Some((_, first_line)) = gone.first() else {
            continue;
        };
        if file.status == Status::Deleted {
            reported_deleted.insert(file.path);
            let names: Vec<&str> = gone.iter().map(|(n, _)| n.as_str()).collect();
            findings.push(weakened(
                file.lang,
                "test-file-deleted",
                file.path,
                *first_line,
                format!(
                    "the test file was deleted with {} test(s) not added back elsewhere ({}): do not weaken tests",
                    gone.len(),
                    shorten(&names)
                ),
            ));
            continue;
        }
        for (name, line) in &gone {
            findings.push(weakened(
                file.lang,
                "test-deleted",
                file.path,
                *line,
                format!("the test `{name}` was deleted and not added back elsewhere: do not weaken tests"),
            ));
        }
    }

    // skips and xfails added
    for file in files {
        let test_file = is_test_file(file.path);
        for (langs, test_only, regex) in SKIPS.iter() {
            if !langs.contains(&file.lang) || (*test_only && !test_file) {
                continue;
            }
            for line in &file.added {
                if let Some(m) = line.code_match(regex) {
                    let what = m
                        .as_str()
                        .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '@' && c != '#');
                    findings.push(weakened(
                        file.lang,
                        "test-skipped",
                        file.path,
                        line.number,
                        format!(
                            "`{}` added: do not skip or disable tests — fix the code or the test",
                            what.trim()
                        ),
                    ));
                }
            }
        }
    }

    // assertions removed, over all test files together
    let count = |lines: &[Code], lang: Language| {
        lines
            .iter()
            .filter(|l| l.code_match(assertion(lang)).is_some())
            .count()
    };
    // a deleted test file is reported as such: its assertions are not counted again
    let test_files: Vec<&FileCode> = files
        .iter()
        .filter(|f| is_test_file(f.path) && !reported_deleted.contains(f.path))
        .collect();
    let removed: usize = test_files.iter().map(|f| count(&f.removed, f.lang)).sum();
    let added: usize = test_files.iter().map(|f| count(&f.added, f.lang)).sum();
    if removed > added {
        let net =
            |f: &&&FileCode| count(&f.removed, f.lang) as i64 - count(&f.added, f.lang) as i64;
        let worst = test_files
            .iter()
            .max_by_key(|f| net(f))
            .expect("removed > added: a file removed assertions");
        let line = worst
            .removed
            .iter()
            .find(|l| l.code_match(assertion(worst.lang)).is_some())
            .map_or(0, |l| l.number);
        findings.push(weakened(
            worst.lang,
            "assertions-removed",
            worst.path,
            line,
            format!(
                "{removed} assertion(s) removed and {added} added in the test files: do not weaken tests"
            ),
        ));
    }
    findings
}

/// Up to three names, then "and N more".
fn shorten(names: &[&str]) -> String {
    let shown: Vec<String> = names.iter().take(3).map(|n| format!("`{n}`")).collect();
    match names.len() {
        n if n > 3 => format!("{} and {} more", shown.join(", "), n - 3),
        _ => shown.join(", "),
    }
}
