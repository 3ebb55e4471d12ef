use std::time::{Duration, Instant};

use super::*;
use crate::sandbox::Confinement;

/// `cargo bench` with criterion 0.5, as printed into a pipe (no progress bars).
const CRITERION: &str = "   Compiling shop v0.1.0 (/src/shop)
    Finished `bench` profile [optimized] target(s) in 3.21s
     Running benches/parse.rs (target/release/deps/parse-1a2b3c4d)
Gnuplot not found, using plotters backend
Benchmarking parse_small
Benchmarking parse_small: Warming up for 3.0000 s
Benchmarking parse_small: Collecting 100 samples in estimated 5.0012 s (2.6M iterations)
Benchmarking parse_small: Analyzing
parse_small             time:   [1.8801 µs 1.8902 µs 1.9015 µs]
                        change: [-1.2345% +0.1234% +1.5678%] (p = 0.86 > 0.05)
                        No change in performance detected.
Found 4 outliers among 100 measurements (4.00%)
  3 (3.00%) high mild
  1 (1.00%) high severe
Benchmarking group/a_rather_long_benchmark_name: Analyzing
group/a_rather_long_benchmark_name
                        time:   [12.345 ms 12.500 ms 12.700 ms]
                        thrpt:  [78.740 MiB/s 80.000 MiB/s 81.004 MiB/s]
";

/// `cargo bench` with libtest's `#[bench]` (nightly).
const LIBTEST: &str = "
running 2 tests
test bench_parse  ... bench:       1,234 ns/iter (+/- 56)
test bench_render ... bench:      98,765.50 ns/iter (+/- 1,234)

test result: ok. 0 passed; 0 failed; 0 ignored; 2 measured; 0 filtered out; finished in 2.34s
";

/// The measures of `command` run unconfined in `root`.
fn measured(
    root: &std::path::Path,
    command: &str,
    timeout: Duration,
) -> Result<Vec<Measure>, PerfError> {
    measure(root, command, timeout, &Confinement::none()).measures
}

fn named(measures: &[Measure]) -> Vec<(&str, f64)> {
    measures
        .iter()
        .map(|m| (m.name.as_str(), m.seconds))
        .collect()
}

fn assert_close(got: &[(&str, f64)], want: &[(&str, f64)]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((g_name, g), (w_name, w)) in got.iter().zip(want) {
        assert_eq!(g_name, w_name);
        assert!((g - w).abs() <= w * 1e-9, "{g_name}: {g} vs {w}");
    }
}

#[test]
fn criterion_libtest_and_plain_timings_are_read_in_seconds() {
    assert_close(
        &named(&parse(CRITERION)),
        &[
            ("parse_small", 1.8902e-6),
            ("group/a_rather_long_benchmark_name", 12.5e-3),
        ],
    );
    assert_close(
        &named(&parse(LIBTEST)),
        &[("bench_parse", 1234e-9), ("bench_render", 98_765.5e-9)],
    );
    let plain = "load_config ... 123.4 ms\nstartup: 12 µs\nwarm start: 2 s\nrows: 12 items\nstartup: 15 us\n";
    assert_close(
        &named(&parse(plain)),
        &[
            ("load_config", 0.1234),
            ("startup", 15e-6),
            ("warm start", 2.0),
        ],
    );
    assert!(parse("Finished in 0.05s\ncompiled: ok\n").is_empty());
}

#[test]
fn the_command_runs_in_the_root_and_its_timings_or_its_wall_time_are_the_measures() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("timing.txt"), "startup: 12 ms\n").unwrap();
    let timeout = Duration::from_secs(10);
    let measures = measured(
        dir.path(),
        "cat timing.txt; echo 'render ... 3 ms' >&2",
        timeout,
    )
    .unwrap();
    assert_close(&named(&measures), &[("startup", 0.012), ("render", 0.003)]);
    let wall = measured(dir.path(), "sleep 0.1", timeout).unwrap();
    assert_eq!(wall.len(), 1);
    assert_eq!(wall[0].name, "wall");
    assert!(wall[0].seconds >= 0.1 && wall[0].seconds < 5.0, "{wall:?}");
}

#[test]
fn a_failing_command_says_its_exit_and_error_output() {
    let dir = tempfile::tempdir().unwrap();
    let err = measured(
        dir.path(),
        "echo 'startup: 1 ms'; echo 'no benches found' >&2; exit 3",
        Duration::from_secs(10),
    )
    .unwrap_err();
    assert!(
        matches!(&err, PerfError::Failed { how, .. } if how == "exit code 3"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("exit code 3") && text.ends_with("no benches found"),
        "{text}"
    );
}

#[test]
fn a_hanging_command_is_stopped_at_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let err = measured(dir.path(), "sleep 30", Duration::from_millis(300)).unwrap_err();
    assert!(matches!(err, PerfError::TimedOut { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

fn measures(pairs: &[(&str, f64)]) -> Vec<Measure> {
    pairs
        .iter()
        .map(|(name, seconds)| Measure {
            name: name.to_string(),
            seconds: *seconds,
        })
        .collect()
}

#[test]
fn only_measures_slower_beyond_the_threshold_are_regressions_high_beyond_three_times() {
    let before = measures(&[
        ("steady", 1.0),
        ("slower", 1.0),
        ("much", 1.0),
        ("gone", 1.0),
    ]);
    let now = measures(&[
        ("steady", 1.09),
        ("slower", 1.2),
        ("much", 1.5),
        ("new", 9.0),
    ]);
    let found = compare(&before, &now, 0.10);
    let got: Vec<(&str, Severity, &str)> = found
        .iter()
        .map(|f| (f.rule.as_str(), f.severity, f.file.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("regression", Severity::Medium, BENCH_FILE),
            ("regression", Severity::High, BENCH_FILE),
        ]
    );
    assert!(
        found[0].message.contains("`slower`"),
        "{}",
        found[0].message
    );
    let numbers = regressions(&before, &now, 0.10);
    assert_eq!(numbers[1].name, "much");
    assert!((numbers[1].slower_by - 0.5).abs() < 1e-9);
    assert!(compare(&before, &before, 0.10).is_empty());
}

#[test]
fn a_regression_keeps_its_fingerprint_by_measure_name_whatever_the_numbers() {
    let fingerprints = |now: &[(&str, f64)]| {
        let before = measures(&[("a", 1.0), ("b", 1.0)]);
        let mut found = compare(&before, &measures(now), 0.10);
        crate::scan::fingerprint::assign(&mut found, |_, _| None);
        found.into_iter().map(|f| f.fingerprint).collect::<Vec<_>>()
    };
    let first = fingerprints(&[("a", 1.5), ("b", 2.0)]);
    assert_ne!(first[0], first[1]);
    // other numbers, and `a` no longer slow: `b` keeps its fingerprint
    assert_eq!(
        fingerprints(&[("a", 1.0), ("b", 5.0)]),
        vec![first[1].clone()]
    );
}

#[test]
fn two_regressions_of_one_run_stay_two_findings() {
    let before = measures(&[("a", 1.0), ("b", 1.0)]);
    let found = compare(&before, &measures(&[("a", 2.0), ("b", 2.0)]), 0.10);
    let kept = crate::scan::fingerprint::dedupe(found);
    assert_eq!(kept.len(), 2, "{kept:#?}");
}

#[test]
fn a_regressed_measure_keeps_its_reference_until_it_is_fast_again() {
    let reference = measures(&[("a", 1.0), ("b", 1.0), ("gone", 4.0)]);
    let slow = measures(&[("a", 3.0), ("b", 1.05)]);
    let next = next_reference(&reference, &slow, 0.10);
    assert_close(&named(&next), &[("a", 1.0), ("b", 1.05), ("gone", 4.0)]);
    // still slow the next run: still a regression, against the same reference
    assert_eq!(compare(&next, &slow, 0.10).len(), 1);
    let fast = measures(&[("a", 1.02), ("b", 1.0)]);
    assert!(compare(&next, &fast, 0.10).is_empty());
    assert_close(
        &named(&next_reference(&next, &fast, 0.10)),
        &[("a", 1.02), ("b", 1.0), ("gone", 4.0)],
    );
}

#[test]
fn a_run_is_judged_first_then_against_its_reference_and_a_failure_judges_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = |text: &str| {
        std::fs::write(dir.path().join("out.txt"), text).unwrap();
        measure(
            dir.path(),
            "cat out.txt",
            Duration::from_secs(10),
            &Confinement::none(),
        )
    };
    let first = run("parse ... 10 ms\nrender ... 5 ms\n").judge(None, 0.10);
    assert_eq!(first.run.status, "ran");
    assert!(
        first
            .run
            .to_string()
            .starts_with("perf: ran — first measures recorded: 2 measure(s), "),
        "{}",
        first.run
    );
    assert!(first.findings.is_empty());
    let reference = first.reference.unwrap();

    let slower = run("parse ... 30 ms\nrender ... 5 ms\n").judge(Some(&reference), 0.10);
    assert_eq!(slower.findings.len(), 1);
    assert_eq!(slower.run.findings, 1);
    let line = slower.run.to_string();
    assert!(
        line.contains("2 measure(s)") && line.contains("`parse` 10.00 ms → 30.00 ms (+200 %)"),
        "{line}"
    );
    assert_eq!(slower.regressions[0].name, "parse");

    let failed = measure(
        dir.path(),
        "echo broken >&2; exit 1",
        Duration::from_secs(10),
        &Confinement::none(),
    )
    .judge(Some(&reference), 0.10);
    assert_eq!(failed.run.status, "failed");
    assert!(
        failed.run.to_string().contains("exit code 1"),
        "{}",
        failed.run
    );
    assert!(failed.findings.is_empty() && failed.reference.is_none());
}
