//! pytest: `=== 2 failed, 10 passed, 1 skipped in 0.12s ===` (or the bare `-q` form), the
//! short summary's `FAILED tests/test_x.py::test_y - msg` / `ERROR …` lines, and the
//! verbose `tests/test_x.py::test_y FAILED [ 50%]` lines. Errors count as failures.
//! A failing test's block is its `____ test_y ____` section of the FAILURES/ERRORS part
//! (the title is the id after the file: `Class.test[param]`) plus its short-summary line.

use std::collections::{BTreeMap, BTreeSet};

use super::counts;
use crate::qa::block;
use crate::qa::report::{ReportSource, TestReport};

const WORDS: [&str; 12] = [
    "failed",
    "passed",
    "skipped",
    "error",
    "errors",
    "xfailed",
    "xpassed",
    "deselected",
    "warning",
    "warnings",
    "rerun",
    "reruns",
];

pub(super) fn parse(lines: &[&str]) -> Option<TestReport> {
    let mut report = TestReport::empty(ReportSource::Pytest);
    let mut summary = None;
    for line in lines {
        if let Some(found) = summary_counts(line) {
            summary = Some(found);
        } else if let Some(id) = failure_id(line) {
            report.tests.insert(id.clone());
            report.failures.insert(id);
        } else if let Some(id) = test_id(line) {
            report.tests.insert(id);
        }
    }
    if !verbose(lines) {
        // only the short summary named tests (its failures): the run did not list them all
        report.tests.clear();
    }
    if summary.is_none() && report.failures.is_empty() {
        return None;
    }
    for (n, word) in summary.unwrap_or_default() {
        match word {
            "failed" | "error" | "errors" => report.failed += n,
            "passed" | "xpassed" => report.passed += n,
            "skipped" | "xfailed" => report.skipped += n,
            _ => {}
        }
    }
    report.details = blocks(lines, &report.failures);
    Some(report)
}

/// The run's `=== 2 failed, 10 passed in 0.12s ===` line.
pub(super) fn is_summary(line: &str) -> bool {
    summary_counts(line).is_some()
}

/// Each failing id's sections (a test may have a failure and a teardown error) and its
/// short-summary line.
fn blocks<'a>(lines: &[&'a str], failures: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut found: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut in_part = false;
    let mut current: Option<(String, Vec<&str>)> = None;
    let finish = |current: Option<(String, Vec<&'a str>)>,
                  found: &mut BTreeMap<String, Vec<&'a str>>| {
        if let Some((title, body)) = current
            && let Some(id) = owner(&title, &body, failures)
        {
            let lines = found.entry(id).or_default();
            if !lines.is_empty() {
                lines.push("");
            }
            lines.extend(body);
        }
    };
    for line in lines {
        if line.starts_with('=') && line.ends_with('=') {
            finish(current.take(), &mut found);
            let name = line.trim_matches('=').trim();
            in_part = name == "FAILURES" || name == "ERRORS";
            continue;
        }
        if !in_part {
            continue;
        }
        if let Some(title) = section_title(line) {
            finish(current.take(), &mut found);
            current = Some((title.to_string(), vec![*line]));
        } else if let Some((_, body)) = current.as_mut() {
            body.push(line);
        }
    }
    finish(current.take(), &mut found);
    let mut out = BTreeMap::new();
    for (id, mut body) in found {
        let summary = lines.iter().find(|l| failure_line_of(l, &id));
        if let Some(line) = summary {
            body.push("");
            body.push(line);
        }
        out.insert(id, block::join(&body));
    }
    out
}

/// `____ Class.test_y[p] ____` → `Class.test_y[p]`; `__ ERROR at setup of test_y __` → `test_y`.
fn section_title(line: &str) -> Option<&str> {
    let inner = line.strip_prefix("__")?.strip_suffix("__")?;
    let title = inner.trim_matches('_').trim();
    let title = [
        "ERROR at setup of ",
        "ERROR at teardown of ",
        "ERROR collecting ",
    ]
    .iter()
    .find_map(|p| title.strip_prefix(p))
    .unwrap_or(title);
    (!title.is_empty() && inner.starts_with(['_', ' '])).then_some(title)
}

/// The failing id a section titled `title` is about: the id whose part after the file is
/// the title (`path::Class::test` ↔ `Class.test`), or the whole path for a collection
/// error; among several (two files with the same test name), the one the body names.
fn owner(title: &str, body: &[&str], failures: &BTreeSet<String>) -> Option<String> {
    let matching: Vec<&String> = failures
        .iter()
        .filter(|id| match id.split_once("::") {
            Some((_, rest)) => rest.replace("::", ".") == title,
            None => id.as_str() == title,
        })
        .collect();
    let named = |id: &&String| {
        let path = id.split("::").next().unwrap_or(id);
        body.iter().any(|l| l.contains(&format!("{path}:")))
    };
    matching
        .iter()
        .copied()
        .find(named)
        .or(matching.first().copied())
        .map(|id| id.to_string())
}

/// Whether `line` is the short-summary line (`FAILED id - msg`, `ERROR id`) of `id`.
fn failure_line_of(line: &str, id: &str) -> bool {
    ["FAILED ", "ERROR "].iter().any(|p| {
        line.strip_prefix(p)
            .is_some_and(|rest| node_id(rest.trim_start()) == id)
    })
}

/// The counts of a summary line, or `None` when `line` is not one.
fn summary_counts(line: &str) -> Option<Vec<(u64, &str)>> {
    let body = line.trim().trim_matches('=').trim();
    let (left, right) = body.rsplit_once(" in ")?;
    if !right.starts_with(|c: char| c.is_ascii_digit()) || !right.contains('s') {
        return None;
    }
    if left == "no tests ran" {
        return Some(Vec::new());
    }
    let found = counts(left);
    let pieces = left.split(',').count();
    let known = found.iter().all(|(_, w)| WORDS.contains(w));
    (!found.is_empty() && found.len() == pieces && known).then_some(found)
}

fn failure_id(line: &str) -> Option<String> {
    let line = line.trim_end();
    let rest = line
        .strip_prefix("FAILED ")
        .or_else(|| line.strip_prefix("ERROR "));
    if let Some(rest) = rest {
        let id = node_id(rest.trim_start());
        return (!id.is_empty() && !id.starts_with('(')).then(|| id.to_string());
    }
    // verbose: `path::test FAILED [ 50%]` / `path::test ERROR`
    let head = verbose_head(line);
    let id = head
        .strip_suffix(" FAILED")
        .or_else(|| head.strip_suffix(" ERROR"))?;
    (id.contains("::") && !id.contains(' ')).then(|| id.to_string())
}

/// Words pytest puts after (`-v`) or before (`-rA`) a test's node id.
const OUTCOMES: [&str; 7] = [
    "PASSED", "FAILED", "ERROR", "SKIPPED", "XFAIL", "XPASS", "SUBPASS",
];

/// A test's node id from a line of `-v` (`path::test PASSED [ 50%]`) or of the `-rA` short
/// summary (`PASSED path::test`), for every outcome.
fn test_id(line: &str) -> Option<String> {
    let line = line.trim_end();
    if let Some((word, rest)) = line.split_once(' ')
        && OUTCOMES.contains(&word)
    {
        let id = node_id(rest.trim_start());
        return (id.contains("::") && !id.starts_with('(')).then(|| id.to_string());
    }
    let (id, word) = verbose_head(line).rsplit_once(' ')?;
    (OUTCOMES.contains(&word) && id.contains("::") && !id.contains(' ')).then(|| id.to_string())
}

/// Whether the output lists tests one by one (`-v` or `-rA`), so a test missing from it
/// did not run.
fn verbose(lines: &[&str]) -> bool {
    lines
        .iter()
        .any(|l| l.starts_with("PASSED ") || verbose_head(l).ends_with(" PASSED"))
}

/// A `-v` line without its progress column: `path::test PASSED      [ 50%]` →
/// `path::test PASSED` (pytest pads to the terminal width).
fn verbose_head(line: &str) -> &str {
    let line = line.trim_end();
    match line.rsplit_once(" [") {
        Some((head, pct)) if pct.ends_with("%]") => head.trim_end(),
        _ => line,
    }
}

/// The node id at the start of `rest`: up to the first ` - ` outside `[...]` parameters.
fn node_id(rest: &str) -> &str {
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ' ' if depth <= 0 && rest[i..].starts_with(" - ") => return &rest[..i],
            _ => {}
        }
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Option<TestReport> {
        parse(&text.lines().collect::<Vec<_>>())
    }

    #[test]
    fn failing_run_with_short_summary() {
        let text = "\
============================= test session starts ==============================
collected 13 items

tests/test_x.py ..F.s.E                                                  [100%]

=================================== FAILURES ===================================
___________________________________ test_y _____________________________________
    def test_y():
>       assert 1 == 2
E       assert 1 == 2
=========================== short test summary info ============================
FAILED tests/test_x.py::test_y - assert 1 == 2
FAILED tests/test_x.py::test_p[a - b] - AssertionError: x - y
ERROR tests/test_x.py::test_z - fixture 'db' not found
=== 2 failed, 10 passed, 1 skipped, 1 error, 2 warnings in 0.12s ===";
        let r = run(text).unwrap();
        assert_eq!((r.passed, r.failed, r.skipped), (10, 3, 1));
        let ids: Vec<_> = r.failures.iter().map(String::as_str).collect();
        assert_eq!(
            ids,
            [
                "tests/test_x.py::test_p[a - b]",
                "tests/test_x.py::test_y",
                "tests/test_x.py::test_z"
            ]
        );
        assert_eq!(
            r.details["tests/test_x.py::test_y"],
            "___________________________________ test_y _____________________________________\n    def test_y():\n>       assert 1 == 2\nE       assert 1 == 2\n\nFAILED tests/test_x.py::test_y - assert 1 == 2"
        );
    }

    #[test]
    fn sections_map_to_class_and_parametrised_ids_and_the_right_file() {
        let text = "\
=================================== FAILURES ===================================
_________________________ TestApi.test_status[get] _____________________________
self = <tests.test_api.TestApi object>
>       assert status() == 200
E       assert 503 == 200
tests/test_api.py:8: AssertionError
----------------------------- Captured stdout call -----------------------------
calling /health
___________________________________ test_z _____________________________________
tests/b.py:3: in test_z
E   KeyError: 'x'
___________________________________ test_z _____________________________________
tests/a.py:3: in test_z
E   ValueError
=================================== ERRORS =====================================
_________________________ ERROR at teardown of test_z __________________________
tests/a.py:9: in db
E   OSError: gone
=========================== short test summary info ============================
FAILED tests/test_api.py::TestApi::test_status[get] - assert 503 == 200
FAILED tests/a.py::test_z - ValueError
FAILED tests/b.py::test_z - KeyError: 'x'
========================= 3 failed, 4 passed in 0.30s ==========================";
        let r = run(text).unwrap();
        let api = &r.details["tests/test_api.py::TestApi::test_status[get]"];
        assert!(
            api.contains("E       assert 503 == 200") && api.contains("calling /health"),
            "{api}"
        );
        assert!(
            api.ends_with(
                "FAILED tests/test_api.py::TestApi::test_status[get] - assert 503 == 200"
            ),
            "{api}"
        );
        let a = &r.details["tests/a.py::test_z"];
        assert!(
            a.contains("ValueError") && a.contains("OSError: gone") && !a.contains("KeyError"),
            "{a}"
        );
        let b = &r.details["tests/b.py::test_z"];
        assert!(b.contains("KeyError") && !b.contains("ValueError"), "{b}");
        assert!(
            !api.contains("KeyError") && !api.contains("short test summary"),
            "{api}"
        );
    }

    #[test]
    fn passing_quiet_and_verbose_forms() {
        let r = run("....s\n4 passed, 1 skipped in 0.03s\n").unwrap();
        assert_eq!((r.passed, r.failed, r.skipped), (4, 0, 1));
        let r =
            run("tests/t.py::test_a PASSED [ 50%]\ntests/t.py::test_b FAILED [100%]\n").unwrap();
        assert!(r.failures.contains("tests/t.py::test_b"));
        assert_eq!(r.tests.len(), 2, "-v lists every test");
        let padded = "tests/t.py::test_a PASSED                      [ 50%]\n\
                      tests/t.py::test_b FAILED                      [100%]\n";
        let r = run(padded).unwrap();
        let ids: Vec<_> = r.tests.iter().map(String::as_str).collect();
        assert_eq!(ids, ["tests/t.py::test_a", "tests/t.py::test_b"]);
        assert!(r.failures.contains("tests/t.py::test_b"), "padded -v lines");
        let r = run(
            "PASSED tests/t.py::test_a\nFAILED tests/t.py::test_b - x\n1 failed, 1 passed in 0.1s",
        )
        .unwrap();
        assert_eq!(r.tests.len(), 2, "-rA lists every test");
        let r = run("FAILED tests/t.py::test_b - x\n1 failed, 3 passed in 0.1s").unwrap();
        assert!(
            r.tests.is_empty(),
            "the short summary alone does not list every test"
        );
        let r = run("===== no tests ran in 0.01s =====").unwrap();
        assert_eq!(r.passed + r.failed, 0);
    }

    #[test]
    fn truncated_and_lookalike_output() {
        // cut before the summary: the failure lines still count
        let r = run("FAILED tests/a.py::test_q - Assert").unwrap();
        assert!(r.failures.contains("tests/a.py::test_q"));
        assert!(run("=== 2 failed, 10 pas").is_none());
        assert!(run("Ran 3 tests in 0.001s\n\nFAILED (failures=1)").is_none());
        assert!(run("checked 3 files in 2s").is_none());
        assert!(run("FAILED \nERROR ").is_none());
    }
}
