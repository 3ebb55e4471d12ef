//! The performance monitor end to end, through the real binary on real git with a bare
//! remote: the target's `bench_command` runs on each scan of the base (confined like its
//! tests, its output kept in logs/monitor/ with secrets redacted); a bench a person's
//! commit made three times slower is a new `perf/regression` that becomes a task, stays
//! open while it stays slow, and is fixed — its task closed — when it is fast again. A
//! bench that fails or hangs fails the perf analyzer only: the scan completes and nothing
//! is fixed.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{TestHome, git, stdout};

/// Prints one timing, read from bench_ms.txt, a value config/.env holds, and the file its
/// argument names (the home's config/.env: hidden from a confined run).
const BENCH: &str = "#!/bin/sh\necho \"parse_catalogue ... $(cat bench_ms.txt) ms\"\necho \"token benchcanary-$(printf 4f2a9c)\" >&2\ncat \"$1\" 2>/dev/null || echo 'the home is hidden'\n";

/// A value of config/.env: whatever prints it, logs show it redacted.
const CANARY: &str = "benchcanary-4f2a9c";

const APP: &str = "def parse_catalogue(text):\n    return text.split(',')\n";

/// A coding tool the monitor never runs (the home needs one).
const TOOL: &str = "#!/bin/sh\nexit 1\n";

/// A home whose target has a bench, scanned with the built-in layers, whose findings of
/// medium and above become tasks, confined (`sandbox.mode: required`); `bench` is the rest
/// of target.yaml.
fn bench_home(bench: &str) -> (TestHome, std::path::PathBuf) {
    let (home, remote) = common::home_with_tool(common::ToolHome {
        files: &[
            ("app/catalogue.py", APP),
            ("bench.sh", BENCH),
            ("bench_ms.txt", "10\n"),
        ],
        tool: TOOL,
        coder: "attempts: 1, timeout_minutes: 1",
        agents_tail: "",
        policy: "sandbox: {mode: required}\n",
    });
    let target = home.read("config/target.yaml");
    home.write("config/target.yaml", &format!("{target}{bench}"));
    home.write(
        "config/scan.yaml",
        "analyzers: [builtin]\nfindings_to_tasks: {min_severity: medium}\n",
    );
    home.write("config/.env", &format!("BENCH_CANARY={CANARY}\n"));
    (home, remote)
}

fn monitor(home: &TestHome, day: &str) -> String {
    stdout(&home.ok(&["run", "monitor", "--date", day]))
}

/// A person commits `ms` as the bench's timing on the remote's main.
fn push_timing(remote: &Path, ms: u32) {
    let seed = remote.parent().unwrap().join("seed");
    std::fs::write(seed.join("bench_ms.txt"), format!("{ms}\n")).unwrap();
    git(
        &seed,
        &["commit", "--quiet", "-am", &format!("bench at {ms} ms")],
    );
    git(
        &seed,
        &["push", "--quiet", remote.to_str().unwrap(), "HEAD:main"],
    );
}

fn measured_events(home: &TestHome) -> Vec<serde_json::Value> {
    let out = stdout(&home.ok(&["audit", "--kind", "bench", "--json"]));
    serde_json::from_str(&out).unwrap()
}

#[test]
fn a_bench_made_slower_is_a_finding_and_a_task_until_it_is_fast_again() {
    let (home, remote) = bench_home("");
    let command = format!("sh bench.sh {}", home.path("config/.env").display());
    let target = home.read("config/target.yaml");
    home.write(
        "config/target.yaml",
        &format!("{target}bench_command: \"{command}\"\n"),
    );

    // first run: measures recorded, nothing to compare with
    let said = monitor(&home, "2026-12-01");
    assert!(said.contains("0 finding(s), 0 new, 0 fixed"), "{said}");
    let report = home.read("reports/scan/2026-12-01.md");
    assert!(
        report.contains("perf: ran — first measures recorded: 1 measure(s)"),
        "{report}"
    );
    let log = home.read("logs/monitor/2026-12-01-bench.log");
    assert!(
        log.contains("$ sh bench.sh") && log.contains("parse_catalogue ... 10 ms"),
        "{log}"
    );
    assert!(!log.contains(CANARY), "a secret in the bench log: {log}");

    // the same timing: nothing
    let said = monitor(&home, "2026-12-02");
    assert!(said.contains("0 finding(s), 0 new, 0 fixed"), "{said}");

    // three times slower: a new regression, and a task for it that names no file
    push_timing(&remote, 30);
    let said = monitor(&home, "2026-12-03");
    assert!(
        said.contains("1 finding(s), 1 new, 0 fixed") && said.contains("T-0001 opened"),
        "{said}"
    );
    let report = home.read("reports/scan/2026-12-03.md");
    assert!(report.contains("regression"), "{report}");
    assert!(
        report.contains("`parse_catalogue` 10.00 ms → 30.00 ms (+200 %)"),
        "{report}"
    );
    let task = home.task("T-0001");
    assert_eq!(task["state"], "backlog");
    assert_eq!(task["priority"], "high", "{task:#?}");
    let text = home.read(task["path"].as_str().unwrap());
    assert!(text.contains("files: []"), "{text}");
    assert!(
        !text.contains(".dayshift-bench"),
        "no pseudo file anywhere: {text}"
    );
    assert!(
        text.contains(
            "title: \"Fix regression in the bench: benchmark `parse_catalogue` is slower"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "the monitor's bench run no longer reports: benchmark `parse_catalogue` is slower"
        ),
        "{text}"
    );
    assert!(
        text.contains("benchmark `parse_catalogue` is slower"),
        "{text}"
    );
    assert!(text.contains("the scan report's `perf` line"), "{text}");
    let events = measured_events(&home);
    assert_eq!(events.len(), 3, "{events:#?}");
    let last = &events[2];
    assert_eq!(last["actor"], "scanner");
    assert_eq!(
        last["commit"].as_str().unwrap(),
        git(&remote, &["rev-parse", "main"]).trim()
    );
    assert_eq!(last["detail"]["command"], command.as_str());
    assert_eq!(last["detail"]["measures"][0]["name"], "parse_catalogue");
    assert!((last["detail"]["measures"][0]["seconds"].as_f64().unwrap() - 0.030).abs() < 1e-9);
    assert_eq!(last["detail"]["regressions"][0]["name"], "parse_catalogue");

    // still slow the next day: still open, not fixed, no second task
    let said = monitor(&home, "2026-12-04");
    assert!(
        said.contains("1 finding(s), 0 new, 0 fixed") && !said.contains("opened"),
        "{said}"
    );

    // fast again: fixed, and its backlog task closed
    push_timing(&remote, 10);
    let said = monitor(&home, "2026-12-05");
    assert!(
        said.contains("0 finding(s), 0 new, 1 fixed") && said.contains("T-0001 closed (fixed)"),
        "{said}"
    );
    assert_eq!(home.task("T-0001")["state"], "failed");
}

#[test]
fn a_bench_that_fails_or_hangs_fails_the_perf_analyzer_only_and_fixes_nothing() {
    let (home, _remote) = bench_home("bench_command: echo 'render ... 10 ms'\n");
    monitor(&home, "2026-12-01");
    let target = home.read("config/target.yaml");
    let set_bench = |line: &str| {
        let rest: String = target
            .lines()
            .filter(|l| !l.starts_with("bench_command"))
            .map(|l| format!("{l}\n"))
            .collect();
        home.write("config/target.yaml", &format!("{rest}{line}"));
    };
    set_bench("bench_command: echo 'render ... 30 ms'\n");
    let said = monitor(&home, "2026-12-02");
    assert!(said.contains("1 finding(s), 1 new, 0 fixed"), "{said}");

    // it fails: the scan completes, perf says why, the regression is carried
    set_bench("bench_command: echo 'no benches' >&2; exit 3\n");
    let said = monitor(&home, "2026-12-03");
    assert!(said.contains("0 new, 0 fixed"), "{said}");
    let report = home.read("reports/scan/2026-12-03.md");
    assert!(
        report.contains("perf: failed — the bench command") && report.contains("exit code 3"),
        "{report}"
    );
    assert!(
        home.read("logs/monitor/2026-12-03-bench.log")
            .contains("no benches"),
        "the failing run's output is kept"
    );

    // it hangs: stopped at its timeout (0.02 minutes), the scan completes
    set_bench("bench_command: sleep 60\nbench_timeout_minutes: 0.02\n");
    let started = Instant::now();
    let said = monitor(&home, "2026-12-04");
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
    assert!(said.contains("0 new, 0 fixed"), "{said}");
    let report = home.read("reports/scan/2026-12-04.md");
    assert!(
        report.contains("perf: failed — the bench command `sleep 60` did not finish in 1.2 s"),
        "{report}"
    );
    assert_eq!(
        measured_events(&home).len(),
        2,
        "a run that measured nothing is not recorded"
    );

    // it runs again, as slow as the last recorded run's reference says: still open
    set_bench("bench_command: echo 'render ... 30 ms'\n");
    let said = monitor(&home, "2026-12-05");
    assert!(said.contains("1 finding(s), 0 new, 0 fixed"), "{said}");
}
