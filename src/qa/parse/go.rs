//! `go test`: `--- FAIL: TestX (0.00s)` (indented for subtests), `--- PASS:`/`--- SKIP:` with
//! `-v`, and the package lines `ok  \tpkg\t0.01s` / `FAIL\tpkg\t0.02s` /
//! `FAIL\tpkg [build failed]`. Failing tests are named `pkg::TestX` once their package
//! line is seen; a failing package with no failing test (a panic, a build error) fails as
//! `pkg`. Without `-v` go prints no line per passing test, so `passed` may be 0.
//!
//! A failing test's block is what it printed under `=== RUN   TestX` (`-v`), its
//! `--- FAIL` line and the lines indented under that; a failing package's is its output
//! since the previous package line (the build error, the panic).

use std::collections::BTreeMap;

use crate::qa::block;
use crate::qa::report::{ReportSource, TestReport};

pub(super) fn parse(lines: &[&str]) -> Option<TestReport> {
    let mut report = TestReport::empty(ReportSource::Go);
    let mut seen = false;
    let mut pending: Vec<(String, String)> = Vec::new();
    // what each test printed under its `=== RUN` line (`-v`), by name
    let mut printed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut running: Option<&str> = None;
    let mut package_start = 0;
    for (at, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if let Some(name) = trimmed.strip_prefix("=== RUN") {
            running = Some(name.trim()).filter(|n| !n.is_empty());
        } else if let Some(rest) = trimmed.strip_prefix("--- ") {
            running = None;
            let Some((verdict, rest)) = rest.split_once(": ") else {
                continue;
            };
            let name = rest.split(" (").next().unwrap_or(rest).trim();
            if name.is_empty() {
                continue;
            }
            seen = true;
            match verdict {
                "FAIL" => {
                    let mut body = printed.remove(name).unwrap_or_default();
                    body.push(line);
                    let indent = line.len() - trimmed.len();
                    body.extend(lines[at + 1..].iter().take_while(|l| {
                        let t = l.trim_start();
                        l.len() - t.len() > indent && !t.starts_with("--- ")
                    }));
                    pending.push((name.to_string(), block::join(&body)));
                }
                "PASS" => report.passed += 1,
                "SKIP" => report.skipped += 1,
                _ => {}
            }
        } else if let Some((ok, pkg)) = package_line(line) {
            seen = true;
            running = None;
            printed.clear();
            if !ok && pending.is_empty() {
                report.failures.insert(pkg.to_string());
                let body = block::join(&lines[package_start..=at]);
                report.details.insert(pkg.to_string(), body);
            }
            let pkg_name = pkg.split(' ').next().unwrap_or(pkg);
            for (name, body) in pending.drain(..) {
                let id = format!("{pkg_name}::{name}");
                report.details.insert(id.clone(), body);
                report.failures.insert(id);
            }
            package_start = at + 1;
        } else if let Some(name) = running {
            printed.entry(name).or_default().push(line);
        }
    }
    for (name, body) in pending {
        report.details.insert(name.clone(), body);
        report.failures.insert(name);
    }
    report.failed = report.failures.len() as u64;
    seen.then_some(report)
}

/// A package line (`ok  \tpkg\t0.1s`, `FAIL\tpkg\t0.2s`): go's summary, one per package.
pub(super) fn is_summary(line: &str) -> bool {
    package_line(line).is_some()
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
        assert_eq!(
            r.details["example.com/calc::TestDiv/by_zero"],
            "    div_test.go:12: want error\n    --- FAIL: TestDiv/by_zero (0.00s)"
        );
        assert_eq!(
            r.details["example.com/calc/cmd [build failed]"],
            "FAIL\texample.com/calc/cmd [build failed]"
        );
    }

    #[test]
    fn quiet_runs_put_the_messages_under_the_fail_line() {
        let text = "\
--- FAIL: TestStatus (0.00s)
    api_test.go:14: status = 503, want 200
    api_test.go:15: body = \"down\"
--- FAIL: TestOther (0.00s)
    other_test.go:3: nope
FAIL
FAIL\texample.com/api\t0.010s";
        let r = run(text).unwrap();
        assert_eq!(
            r.details["example.com/api::TestStatus"],
            "--- FAIL: TestStatus (0.00s)\n    api_test.go:14: status = 503, want 200\n    api_test.go:15: body = \"down\""
        );
        assert!(r.details["example.com/api::TestOther"].ends_with("nope"));
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
