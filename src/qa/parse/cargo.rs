//! `cargo test`: one `test result: FAILED. 3 passed; 1 failed; 0 ignored; …` per test
//! binary (summed) and `test foo::bar ... FAILED` per failing test. Ids are prefixed with the
//! binary's source from `Running tests/api.rs (target/…)` so two binaries' `it_works` differ.
//! A failing test's block is its `---- foo::bar stdout ----` section (the panic message and
//! what it printed).

use super::counts;
use crate::qa::block;
use crate::qa::report::{ReportSource, TestReport};

pub(super) fn parse(lines: &[&str]) -> Option<TestReport> {
    let mut report = TestReport::empty(ReportSource::Cargo);
    let mut seen = false;
    let mut unit: Option<String> = None;
    let mut section: Option<(String, Vec<&str>)> = None;
    let qualified = |unit: &Option<String>, name: &str| match unit {
        Some(unit) => format!("{unit}::{name}"),
        None => name.to_string(),
    };
    for line in lines {
        let trimmed = line.trim();
        let ends_section = trimmed == "failures:"
            || trimmed.starts_with("test result: ")
            || trimmed.starts_with("Running ")
            || trimmed.starts_with("---- ");
        if ends_section && let Some((id, body)) = section.take() {
            report.details.insert(id, block::join(&body));
        }
        if let Some(name) = section_name(trimmed) {
            section = Some((qualified(&unit, name), vec![*line]));
            continue;
        }
        if let Some((_, body)) = section.as_mut() {
            body.push(line);
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("Running ") {
            let source = rest.split(" (").next().unwrap_or(rest);
            unit = Some(source.trim_start_matches("unittests ").to_string());
        } else if trimmed.starts_with("Doc-tests ") {
            unit = Some("doctest".into());
        } else if let Some(rest) = trimmed.strip_prefix("test result: ") {
            seen = true;
            let rest = rest.split_once(". ").map_or(rest, |(_, r)| r);
            for (n, word) in counts(rest) {
                match word {
                    "passed" => report.passed += n,
                    "failed" => report.failed += n,
                    "ignored" => report.skipped += n,
                    _ => {}
                }
            }
        } else if let Some(name) = failed_test(trimmed) {
            seen = true;
            report.failures.insert(qualified(&unit, name));
        }
    }
    if let Some((id, body)) = section.take() {
        report.details.insert(id, block::join(&body));
    }
    report.details.retain(|id, _| report.failures.contains(id));
    seen.then_some(report)
}

/// `---- foo::bar stdout ----` → `foo::bar`.
fn section_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("---- ")?.strip_suffix(" ----")?;
    let name = rest
        .strip_suffix(" stdout")
        .or_else(|| rest.strip_suffix(" stderr"))?;
    (!name.is_empty()).then_some(name)
}

/// `test result: FAILED. 2 passed; 1 failed; …` (one per test binary).
pub(super) fn is_summary(line: &str) -> bool {
    line.trim().starts_with("test result: ")
}

/// `test foo::bar ... FAILED` → `foo::bar` (doc tests: `src/lib.rs - f (line 3)`).
fn failed_test(line: &str) -> Option<&str> {
    let name = line.strip_prefix("test ")?.strip_suffix(" ... FAILED")?;
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Option<TestReport> {
        parse(&text.lines().collect::<Vec<_>>())
    }

    #[test]
    fn failing_run_over_two_binaries() {
        let text = "\
     Running unittests src/lib.rs (target/debug/deps/shop-1a2b3c)

running 4 tests
test cart::adds ... ok
test cart::totals ... FAILED
test cart::slow ... ignored
test cart::empty ... ok

failures:

---- cart::totals stdout ----
thread 'cart::totals' panicked at src/cart.rs:10:5:
assertion `left == right` failed

failures:
    cart::totals

test result: FAILED. 2 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running tests/api.rs (target/debug/deps/api-9f8e7d)

running 1 test
test it_works ... FAILED

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

error: test failed, to rerun pass `-p shop --test api`";
        let r = run(text).unwrap();
        assert_eq!((r.passed, r.failed, r.skipped), (2, 2, 1));
        let ids: Vec<_> = r.failures.iter().map(String::as_str).collect();
        assert_eq!(ids, ["src/lib.rs::cart::totals", "tests/api.rs::it_works"]);
        let ids: Vec<_> = r.details.keys().map(String::as_str).collect();
        assert_eq!(
            ids,
            ["src/lib.rs::cart::totals"],
            "it_works printed no section"
        );
        assert_eq!(
            r.details["src/lib.rs::cart::totals"],
            "---- cart::totals stdout ----\nthread 'cart::totals' panicked at src/cart.rs:10:5:\nassertion `left == right` failed"
        );
    }

    #[test]
    fn passing_run_and_truncation() {
        let r = run("running 3 tests\n...\ntest result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s").unwrap();
        assert_eq!((r.passed, r.failed), (3, 0));
        let r = run("running 2 tests\ntest a ... FAILED\ntest b ... o").unwrap();
        assert!(r.failures.contains("a"));
        assert!(run("test result: FAILED. 3 pas").is_some_and(|r| r.passed == 0));
        assert!(run("error[E0425]: cannot find value `x`\nerror: could not compile").is_none());
    }
}
