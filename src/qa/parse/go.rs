//! `go test`: `--- FAIL: TestX (0.00s)` (indented for subtests), `--- PASS:`/`--- SKIP:` with
//! `-v`, and the package lines `ok  \tpkg\t0.01s` / `FAIL\tpkg\t0.02s` /
//! `FAIL\tpkg [build failed]`. Failing tests are named `pkg::TestX` once their package
//! line is seen; a failing package with no failing test (a panic, a build error) fails as
//! `pkg`. Without `-v` go prints no line per passing test, so `passed` may be 0.

use crate::qa::report::{ReportSource, TestReport};

pub(super) fn parse(lines: &[&str]) -> Option<TestReport> {
    let mut report = TestReport::empty(ReportSource::Go);
    let mut seen = false;
    let mut pending: Vec<String> = Vec::new();
    for line in lines {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("--- ") {
            let Some((verdict, rest)) = rest.split_once(": ") else {
                continue;
            };
            let name = rest.split(" (").next().unwrap_or(rest).trim();
            if name.is_empty() {
                continue;
            }
            seen = true;
            match verdict {
                "FAIL" => pending.push(name.to_string()),
                "PASS" => report.passed += 1,
                "SKIP" => report.skipped += 1,
                _ => {}
            }
        } else if let Some((ok, pkg)) = package_line(line) {
            seen = true;
            if !ok && pending.is_empty() {
                report.failures.insert(pkg.to_string());
            }
            let pkg_name = pkg.split(' ').next().unwrap_or(pkg);
            for name in pending.drain(..) {
                report.failures.insert(format!("{pkg_name}::{name}"));
            }
        }
    }
    report.failures.extend(pending);
    report.failed = report.failures.len() as u64;
    seen.then_some(report)
}

/// `ok  \tpkg\t0.1s` → `(true, "pkg")`; `FAIL\tpkg [build failed]` → `(false, "pkg [build failed]")`.
fn package_line(line: &str) -> Option<(bool, &str)> {
    let (head, rest) = line.split_once('\t')?;
    let ok = match head.trim_end() {
        "ok" => true,
        "FAIL" => false,
        _ => return None,
    };
    let pkg = rest.split('\t').next()?.trim();
    (!pkg.is_empty()).then_some((ok, pkg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Option<TestReport> {
        parse(&text.lines().collect::<Vec<_>>())
    }

    #[test]
    fn failing_verbose_run_with_subtests() {
        let text = "\
=== RUN   TestAdd
--- PASS: TestAdd (0.00s)
=== RUN   TestDiv
=== RUN   TestDiv/by_zero
    div_test.go:12: want error
--- FAIL: TestDiv (0.00s)
    --- FAIL: TestDiv/by_zero (0.00s)
--- SKIP: TestNet (0.00s)
FAIL
FAIL\texample.com/calc\t0.004s
ok  \texample.com/calc/util\t0.002s
FAIL\texample.com/calc/cmd [build failed]";
        let r = run(text).unwrap();
        assert_eq!((r.passed, r.failed, r.skipped), (1, 3, 1));
        let ids: Vec<_> = r.failures.iter().map(String::as_str).collect();
        assert_eq!(
            ids,
            [
                "example.com/calc/cmd [build failed]",
                "example.com/calc::TestDiv",
                "example.com/calc::TestDiv/by_zero"
            ]
        );
    }

    #[test]
    fn passing_and_truncated_runs() {
        let r =
            run("ok  \texample.com/calc\t0.003s\n?   \texample.com/x\t[no test files]").unwrap();
        assert!(!r.has_failures());
        let r = run("--- FAIL: TestX (0.0").unwrap();
        assert!(r.failures.contains("TestX"));
        assert!(run("--- FAIL: \n--- \nok").is_none());
    }
}
