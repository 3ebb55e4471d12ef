//! `python -m unittest`: `Ran 5 tests in 0.002s` then `OK`, `OK (skipped=1)` or
//! `FAILED (failures=1, errors=1)`, and per failing test `FAIL: test_x (mod.Class.test_x)`
//! (Python ≥ 3.11) or `ERROR: test_x (mod.Class)` (older: the method is appended), each
//! followed by its traceback up to the next `=====`/`-----` rule: that test's block.

use crate::qa::block;
use crate::qa::report::{ReportSource, TestReport};

pub(super) fn parse(lines: &[&str]) -> Option<TestReport> {
    let mut report = TestReport::empty(ReportSource::Unittest);
    let mut ran = None;
    let (mut failed, mut skipped) = (0u64, 0u64);
    for line in lines {
        let line = line.trim();
        if let Some(n) = ran_count(line) {
            ran = Some(n);
        } else if let Some(inner) = result_details(line) {
            for (key, n) in inner {
                match key {
                    "failures" | "errors" | "unexpected successes" => failed += n,
                    "skipped" | "expected failures" => skipped += n,
                    _ => {}
                }
            }
        } else if let Some(id) = failure_id(line) {
            report.failures.insert(id);
        } else if let Some(id) = verbose_id(line) {
            report.tests.insert(id);
        }
    }
    if ran.is_none() && report.failures.is_empty() {
        return None;
    }
    report.failed = failed;
    report.skipped = skipped;
    report.passed = ran.unwrap_or(0).saturating_sub(failed + skipped);
    report.details = blocks(lines).into_iter().collect();
    Some(report)
}

/// Each `FAIL: …`/`ERROR: …` header with its traceback, up to the next rule line.
fn blocks(lines: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let Some(id) = failure_id(line.trim()) else {
            continue;
        };
        let mut body = vec![*line];
        let mut rest = lines[at + 1..].iter();
        if let Some(next) = rest.next().filter(|l| !rule(l)) {
            body.push(next);
        }
        body.extend(rest.take_while(|l| !rule(l)));
        out.push((id, block::join(&body)));
    }
    out
}

/// A line of 20 or more `=` or `-`: unittest's separators.
pub(crate) fn rule(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 20 && (t.bytes().all(|b| b == b'=') || t.bytes().all(|b| b == b'-'))
}

/// `Ran 5 tests in 0.002s`, `OK (skipped=1)`, `FAILED (failures=1)`: the run's summary.
pub(super) fn is_summary(line: &str) -> bool {
    let line = line.trim();
    ran_count(line).is_some()
        || (line.starts_with("FAILED (") || line.starts_with("OK (") || line == "OK")
            && result_details(line).is_some()
}

/// `Ran 5 tests in 0.002s` → 5.
fn ran_count(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("Ran ")?;
    let (n, rest) = rest.split_once(' ')?;
    (rest.starts_with("test") && rest.contains(" in ")).then_some(())?;
    n.parse().ok()
}

/// `FAILED (failures=1, errors=2)` / `OK (skipped=1)` → the pairs; `OK` → none.
fn result_details(line: &str) -> Option<Vec<(&str, u64)>> {
    let rest = line
        .strip_prefix("FAILED")
        .or_else(|| line.strip_prefix("OK"))?
        .trim();
    if rest.is_empty() {
        return Some(Vec::new());
    }
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                Some((k.trim(), v.trim().parse().ok()?))
            })
            .collect(),
    )
}

/// `FAIL: test_x (mod.Class.test_x)` → `mod.Class.test_x`; the old form gets the method.
fn failure_id(line: &str) -> Option<String> {
    let rest = ["FAIL: ", "ERROR: ", "UNEXPECTED SUCCESS: "]
        .iter()
        .find_map(|p| line.strip_prefix(p))?;
    test_id(rest)
}

/// `-v`: `test_x (mod.Class.test_x) ... ok` (or `FAIL`, `ERROR`, `skipped '…'`, …) → the
/// same id as [`failure_id`] gives, for every test that ran.
fn verbose_id(line: &str) -> Option<String> {
    let (head, _) = line.split_once(" ... ")?;
    test_id(head)
}

/// `test_x (mod.Class.test_x)…` → `mod.Class.test_x`.
fn test_id(rest: &str) -> Option<String> {
    let (name, rest) = rest.split_once(" (")?;
    let (place, _) = rest.split_once(')')?;
    if name.contains(' ') || place.contains(' ') || place.is_empty() {
        return None;
    }
    if place == name || place.ends_with(&format!(".{name}")) {
        Some(place.to_string())
    } else {
        Some(format!("{place}.{name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Option<TestReport> {
        parse(&text.lines().collect::<Vec<_>>())
    }

    #[test]
    fn failing_run_names_failures_and_errors() {
        let text = "\
..F.E.s
======================================================================
ERROR: test_db (tests.test_app.AppTest.test_db)
----------------------------------------------------------------------
Traceback (most recent call last):
KeyError: 'x'

======================================================================
FAIL: test_sum (tests.test_app.AppTest)
----------------------------------------------------------------------
AssertionError: 3 != 4

----------------------------------------------------------------------
Ran 7 tests in 0.004s

FAILED (failures=1, errors=1, skipped=1)";
        let r = run(text).unwrap();
        assert_eq!((r.passed, r.failed, r.skipped), (4, 2, 1));
        let ids: Vec<_> = r.failures.iter().map(String::as_str).collect();
        assert_eq!(
            ids,
            [
                "tests.test_app.AppTest.test_db",
                "tests.test_app.AppTest.test_sum"
            ]
        );
        assert_eq!(
            r.details["tests.test_app.AppTest.test_sum"],
            "FAIL: test_sum (tests.test_app.AppTest)\nAssertionError: 3 != 4"
        );
        assert_eq!(
            r.details["tests.test_app.AppTest.test_db"],
            "ERROR: test_db (tests.test_app.AppTest.test_db)\nTraceback (most recent call last):\nKeyError: 'x'"
        );
    }

    #[test]
    fn passing_and_skipping_runs() {
        let r = run("....\n------\nRan 4 tests in 0.001s\n\nOK\n").unwrap();
        assert_eq!((r.passed, r.failed), (4, 0));
        let r = run("Ran 1 test in 0.000s\n\nOK (skipped=1)").unwrap();
        assert_eq!((r.passed, r.skipped), (0, 1));
    }

    #[test]
    fn truncated_and_weird_output() {
        let r = run("FAIL: test_a (m.C.test_a)\nTraceback").unwrap();
        assert!(r.failures.contains("m.C.test_a"));
        assert!(run("FAIL: something went wrong").is_none());
        assert!(run("Ran out of memory").is_none());
        assert!(run("OK").is_none());
        let r = run("Ran 2 tests in 0.1s\nFAILED (failures=9)").unwrap();
        assert_eq!(r.passed, 0, "never underflows");
    }

    #[test]
    fn verbose_runs_name_every_test() {
        let text = "test_add (test_calc.Calc.test_add) ... ok\n\
test_old (test_calc.Calc) ... FAIL\n\
test_skip (test_calc.Calc.test_skip) ... skipped 'later'\n\
not a test ... ok\n\
----------------------------------------------------------------------\n\
Ran 3 tests in 0.001s\n\nFAILED (failures=1, skipped=1)";
        let r = run(text).unwrap();
        let ids: Vec<_> = r.tests.iter().map(String::as_str).collect();
        assert_eq!(
            ids,
            [
                "test_calc.Calc.test_add",
                "test_calc.Calc.test_old",
                "test_calc.Calc.test_skip"
            ]
        );
        assert!(run("Ran 1 test in 0.0s\n\nOK").unwrap().tests.is_empty());
    }
}
