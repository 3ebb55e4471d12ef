//! jest: `Tests:       1 failed, 1 skipped, 4 passed, 6 total` and the failing tests, named
//! by the `● Suite › test` headers of the failure details, or by the verbose `✕ test (5 ms)`
//! lines when there are no headers. (`Test Suites:` counts files, not tests: ignored.)
//! A failing test's block is its `● Suite › test` header and the indented lines under it.

use super::counts;
use crate::qa::block;
use crate::qa::report::{ReportSource, TestReport};

pub(super) fn parse(lines: &[&str]) -> Option<TestReport> {
    let mut report = TestReport::empty(ReportSource::Jest);
    let mut seen = false;
    let mut headers = Vec::new();
    let mut crosses = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Tests:") {
            seen = true;
            for (n, word) in counts(rest) {
                match word {
                    "failed" => report.failed += n,
                    "passed" => report.passed += n,
                    "skipped" | "todo" | "pending" => report.skipped += n,
                    _ => {}
                }
            }
        } else if let Some(rest) = trimmed.strip_prefix("● ") {
            let name = rest.trim();
            if !name.is_empty()
                && !name.starts_with("Console")
                && !name.starts_with("Test suite failed")
            {
                headers.push(name.to_string());
                let indent = line.len() - line.trim_start().len();
                let body = lines[at + 1..].iter().take_while(|l| {
                    let t = l.trim_start();
                    t.is_empty() || (l.len() - t.len() > indent && !t.starts_with("● "))
                });
                let body: Vec<&str> = std::iter::once(*line).chain(body.copied()).collect();
                report.details.insert(name.to_string(), block::join(&body));
            }
        } else if let Some(rest) = trimmed.strip_prefix("✕ ") {
            let name = match rest.rsplit_once(" (") {
                Some((name, time)) if time.ends_with("ms)") || time.ends_with(" s)") => name,
                _ => rest,
            };
            if !name.trim().is_empty() {
                crosses.push(name.trim().to_string());
            }
        }
    }
    let named = if headers.is_empty() { crosses } else { headers };
    seen |= !named.is_empty();
    report.failures.extend(named);
    seen.then_some(report)
}

/// `Tests:       1 failed, 4 passed, 5 total` (and `Test Suites:`).
pub(super) fn is_summary(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("Tests:") || t.starts_with("Test Suites:")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Option<TestReport> {
        parse(&text.lines().collect::<Vec<_>>())
    }

    #[test]
    fn failing_run_prefers_the_full_names() {
        let text = "\
FAIL src/sum.test.js
  math
    ✓ adds (3 ms)
    ✕ subtracts (5 ms)

  ● math › subtracts

    expect(received).toBe(expected) // Object.is equality

  ● Console

Test Suites: 1 failed, 1 total
Tests:       1 failed, 1 skipped, 4 passed, 6 total
Snapshots:   0 total
Time:        0.512 s";
        let r = run(text).unwrap();
        assert_eq!((r.passed, r.failed, r.skipped), (4, 1, 1));
        let ids: Vec<_> = r.failures.iter().map(String::as_str).collect();
        assert_eq!(ids, ["math › subtracts"]);
        assert_eq!(
            r.details["math › subtracts"],
            "  ● math › subtracts\n\n    expect(received).toBe(expected) // Object.is equality"
        );
    }

    #[test]
    fn each_header_owns_the_lines_indented_under_it() {
        let text = "\
  ● api › status

    expect(received).toBe(expected)

    Expected: 200
    Received: 503

      12 |   expect(status()).toBe(200);
         |                    ^

  ● api › body

    TypeError: x is undefined

Tests:       2 failed, 2 total";
        let r = run(text).unwrap();
        let status = &r.details["api › status"];
        assert!(
            status.contains("Received: 503") && status.ends_with('^'),
            "{status}"
        );
        assert!(!status.contains("TypeError"), "{status}");
        assert_eq!(
            r.details["api › body"],
            "  ● api › body\n\n    TypeError: x is undefined"
        );
    }

    #[test]
    fn crosses_only_passing_and_truncated() {
        let r = run("  ✕ divides by zero (12 ms)\n").unwrap();
        assert!(r.failures.contains("divides by zero"));
        let r = run("Tests:       5 passed, 5 total").unwrap();
        assert_eq!((r.passed, r.failed), (5, 0));
        assert!(run("Tests:").is_some_and(|r| r.passed == 0));
        assert!(run("✕ \n● ").is_none());
    }
}
