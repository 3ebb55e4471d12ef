//! QA against real processes: a small Python project tested with `python3 -m unittest`
//! (stdout summary) and with a script that writes JUnit XML to `$DAYSHIFT_JUNIT_DIR`.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use dayshift::qa::{
    Baseline, FEEDBACK_BUDGET, Outcome, QaCommands, QaError, ReportSource, new_failures,
    run_checks, verdict, verdict_for,
};
use tempfile::TempDir;

const UNITTEST: &str = "python3 -m unittest";
const LONG: Duration = Duration::from_secs(60);

/// Writes test_calc.py with test_a/test_b failing as asked, test_c passing, test_d skipped.
fn project(a_fails: bool, b_fails: bool) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sum = |fails: bool| if fails { 3 } else { 2 };
    let (a, b) = (sum(a_fails), sum(b_fails));
    let code = format!(
        "import unittest\n\n\nclass CalcTest(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(1 + 1, {a})\n\n    def test_b(self):\n        self.assertEqual(1 + 1, {b})\n\n    def test_c(self):\n        self.assertTrue(True)\n\n    @unittest.skip(\"later\")\n    def test_d(self):\n        pass\n"
    );
    fs::write(dir.path().join("test_calc.py"), code).unwrap();
    fs::write(dir.path().join("run_junit.py"), JUNIT_RUNNER).unwrap();
    dir
}

/// Runs the suite quietly and writes JUnit XML; prints no summary, so only the XML names tests.
const JUNIT_RUNNER: &str = r#"import os, sys, unittest
from xml.sax.saxutils import quoteattr

def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t

suite = unittest.defaultTestLoader.discover(".", pattern="test_*.py")
tests = list(flatten(suite))
with open(os.devnull, "w") as null:
    result = unittest.TextTestRunner(stream=null).run(suite)
bad = {t.id() for t, _ in result.failures + result.errors}
skipped = {t.id() for t, _ in result.skipped}
lines = ['<?xml version="1.0"?>', '<testsuite name="unittest">']
for t in tests:
    cls, name = t.id().rsplit(".", 1)
    inner = '<failure message="boom &amp; more"/>' if t.id() in bad else "<skipped/>" if t.id() in skipped else ""
    lines.append(f"<testcase classname={quoteattr(cls)} name={quoteattr(name)}>{inner}</testcase>")
lines.append("</testsuite>")
with open(os.path.join(os.environ["DAYSHIFT_JUNIT_DIR"], "report.xml"), "w") as f:
    f.write("\n".join(lines))
print("done")
sys.exit(0 if result.wasSuccessful() else 1)
"#;

fn commands(lint: Option<&str>, test: &str) -> QaCommands {
    QaCommands {
        lint: lint.map(str::to_string),
        test: Some(test.to_string()),
        coverage: None,
    }
}

fn ids(set: &std::collections::BTreeSet<String>) -> Vec<&str> {
    set.iter().map(String::as_str).collect()
}

#[test]
fn a_passing_project_passes() {
    let dir = project(false, false);
    let lint = "python3 -m py_compile test_calc.py";
    let run = run_checks(dir.path(), &commands(Some(lint), UNITTEST), LONG).unwrap();
    let r = &run.report;
    assert_eq!(r.source, ReportSource::Unittest);
    assert_eq!((r.passed, r.failed, r.skipped), (3, 0, 1), "{r:?}");
    let v = verdict(None, &run);
    assert!(v.passed && v.lint_ok && v.new_failures.is_empty(), "{v:?}");
    assert_eq!(v.feedback, "");
}

#[test]
fn a_failing_run_names_the_failing_test_and_feeds_back_its_output() {
    let dir = project(false, true);
    let run = run_checks(dir.path(), &commands(None, UNITTEST), LONG).unwrap();
    assert_eq!(run.test.as_ref().unwrap().outcome, Outcome::Exited(1));
    assert_eq!(ids(&run.report.failures), ["test_calc.CalcTest.test_b"]);
    assert_eq!((run.report.passed, run.report.failed), (2, 1));
    let v = verdict(None, &run);
    assert!(!v.passed);
    assert!(
        v.feedback
            .starts_with("$ python3 -m unittest\n[exit code 1]\n"),
        "{}",
        v.feedback
    );
    let tail = &v.feedback;
    assert!(
        tail.contains("new test failures (1): test_calc.CalcTest.test_b"),
        "{tail}"
    );
    assert!(tail.contains("AssertionError: 2 != 3"), "{tail}");
}

#[test]
fn junit_xml_in_the_run_directory_is_preferred() {
    let dir = project(true, false);
    let run = run_checks(dir.path(), &commands(None, "python3 run_junit.py"), LONG).unwrap();
    let r = &run.report;
    assert_eq!(r.source, ReportSource::JUnit, "{:?}", run.test);
    assert_eq!((r.passed, r.failed, r.skipped), (2, 1, 1));
    assert_eq!(ids(&r.failures), ["test_calc.CalcTest.test_a"]);
    assert!(
        fs::read_dir(dir.path())
            .unwrap()
            .all(|e| e.unwrap().file_name() != "report.xml")
    );
}

#[test]
fn a_failing_lint_fails_the_verdict_even_when_tests_pass() {
    let dir = project(false, false);
    let lint = "echo 'test_calc.py:1:80: E501 line too long'; exit 1";
    let run = run_checks(dir.path(), &commands(Some(lint), UNITTEST), LONG).unwrap();
    assert!(!run.report.has_failures());
    let v = verdict(None, &run);
    assert!(!v.lint_ok && !v.passed);
    assert!(v.feedback.contains("E501 line too long"), "{}", v.feedback);
}

#[test]
fn a_hanging_test_command_is_killed_at_the_timeout() {
    let dir = project(false, false);
    let started = Instant::now();
    let run = run_checks(
        dir.path(),
        &commands(None, "sleep 30"),
        Duration::from_millis(500),
    )
    .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let test = run.test.as_ref().unwrap();
    assert!(
        matches!(test.outcome, Outcome::TimedOut(_)),
        "{:?}",
        test.outcome
    );
    assert_eq!(ids(&run.report.failures), ["sleep 30"]);
    assert!(!run.completed());
    let v = verdict(None, &run);
    assert!(
        !v.passed && v.feedback.contains("timed out"),
        "{}",
        v.feedback
    );
}

#[test]
fn a_missing_program_is_a_typed_outcome() {
    let dir = project(false, false);
    let run = run_checks(
        dir.path(),
        &commands(None, "no-such-tool-dayshift --run"),
        LONG,
    )
    .unwrap();
    assert_eq!(run.test.as_ref().unwrap().outcome, Outcome::NotFound);
    assert_eq!(run.report.source, ReportSource::ExitCode);
    assert!(!verdict(None, &run).passed);
}

#[test]
fn setup_problems_are_errors_that_say_what_to_do() {
    let err = run_checks(
        Path::new("/nonexistent/worktree"),
        &commands(None, "true"),
        LONG,
    )
    .unwrap_err();
    assert!(matches!(err, QaError::NoWorktree { .. }));
    assert!(
        err.to_string().contains("create the task's worktree"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let err = run_checks(dir.path(), &QaCommands::default(), LONG).unwrap_err();
    assert!(err.to_string().contains("test_command"), "{err}");
}

#[test]
fn the_child_environment_is_small_and_explicit() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_checks(dir.path(), &commands(Some("env"), "true"), LONG).unwrap();
    let out = &run.lint.as_ref().unwrap().output;
    let keys: Vec<&str> = out.lines().filter_map(|l| l.split('=').next()).collect();
    assert!(keys.contains(&"CI") && out.contains("CI=1\n"), "{out}");
    let allowed = [
        "PATH",
        "HOME",
        "LANG",
        "CI",
        "PYTHONDONTWRITEBYTECODE",
        "PWD",
        "DAYSHIFT_RUN", // the run's marker: process::run kills whatever carries it
        "SHLVL",
        "_",
        "OLDPWD",
    ];
    assert!(
        keys.iter().all(|k| allowed.contains(k)),
        "unexpected variables: {keys:?}"
    );
}

#[test]
fn baseline_only_new_failures_count() {
    let base_dir = project(true, false);
    let cache = tempfile::tempdir().unwrap();
    let cmds = commands(None, UNITTEST);
    let base = Baseline::get_or_run(cache.path(), "a1b2c3d4e5", &cmds, || {
        run_checks(base_dir.path(), &cmds, LONG)
    })
    .unwrap();
    assert_eq!(ids(&base.report.failures), ["test_calc.CalcTest.test_a"]);

    let same = run_checks(project(true, false).path(), &cmds, LONG).unwrap();
    let v = verdict(Some(&base), &same);
    assert!(v.passed && v.new_failures.is_empty(), "{v:?}");

    let worse = run_checks(project(true, true).path(), &cmds, LONG).unwrap();
    assert_eq!(
        ids(&new_failures(&base.report, &worse.report)),
        ["test_calc.CalcTest.test_b"]
    );
    let v = verdict(Some(&base), &worse);
    assert!(!v.passed);
    assert_eq!(ids(&v.new_failures), ["test_calc.CalcTest.test_b"]);
}

/// A change that deletes a test function, or the whole test file, fails with what it
/// removed — by id where the runner names its tests (JUnit XML, `unittest -v`), by count
/// where it does not (plain `unittest`).
#[test]
fn removed_tests_are_failures_by_id_or_by_count() {
    let drop_test_c = |dir: &Path| {
        let file = dir.join("test_calc.py");
        let code = fs::read_to_string(&file).unwrap();
        let cut = code.replace(
            "    def test_c(self):\n        self.assertTrue(True)\n\n",
            "",
        );
        assert_ne!(code, cut);
        fs::write(&file, cut).unwrap();
    };
    let cases = [
        ("python3 run_junit.py", true),
        ("python3 -m unittest -v", true),
        (UNITTEST, false),
    ];
    for (test, named) in cases {
        let cmds = commands(None, test);
        let base_dir = project(false, false);
        let base = Baseline::from_run(
            "a1b2c3d4e5",
            &run_checks(base_dir.path(), &cmds, LONG).unwrap(),
        );

        let one_gone = project(false, false);
        drop_test_c(one_gone.path());
        let v = verdict(
            Some(&base),
            &run_checks(one_gone.path(), &cmds, LONG).unwrap(),
        );
        assert!(!v.passed && v.new_failures.is_empty(), "{test}: {v:?}");
        let expected = if named {
            "removed: test_calc.CalcTest.test_c"
        } else {
            "removed: 1 test(s) — the base ran 4, the change 3"
        };
        assert_eq!(ids(&v.removed), [expected], "{test}");
        assert!(v.feedback.contains(expected), "{test}: {}", v.feedback);

        let all_gone = project(false, false);
        fs::remove_file(all_gone.path().join("test_calc.py")).unwrap();
        let v = verdict(
            Some(&base),
            &run_checks(all_gone.path(), &cmds, LONG).unwrap(),
        );
        assert!(
            !v.passed,
            "{test}: a suite that ran 4 tests and then none fails: {v:?}"
        );
        assert!(
            !v.removed.is_empty() || !v.new_failures.is_empty(),
            "{test}: {v:?}"
        );
    }
}

#[test]
fn the_base_runs_once_per_commit() {
    let base_dir = project(true, false);
    let cache = tempfile::tempdir().unwrap();
    let marker = base_dir.path().join("runs.txt");
    let cmds = commands(
        None,
        &format!("echo run >> {}; {UNITTEST}", marker.display()),
    );
    let runs = || {
        fs::read_to_string(&marker)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let get = |commit: &str| {
        Baseline::get_or_run(cache.path(), commit, &cmds, || {
            run_checks(base_dir.path(), &cmds, LONG)
        })
        .unwrap()
    };
    let first = get("0123456789abcdef");
    let again = get("0123456789abcdef");
    assert_eq!(runs(), 1);
    assert_eq!(first, again);
    let cached: Vec<_> = fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        cached.len() == 1 && cached[0].starts_with("0123456789abcdef-"),
        "{cached:?}"
    );
    get("fedcba9876543210");
    assert_eq!(runs(), 2, "a new base commit runs again");
    let mut edited = cmds.clone();
    edited.test = Some(format!("{} -v", cmds.test.as_deref().unwrap()));
    Baseline::get_or_run(cache.path(), "0123456789abcdef", &edited, || {
        run_checks(base_dir.path(), &edited, LONG)
    })
    .unwrap();
    assert_eq!(runs(), 3, "an edited test command runs the base again");
    let bad = Baseline::get_or_run(cache.path(), "../etc", &cmds, || unreachable!());
    assert!(matches!(bad, Err(QaError::BadCommit { .. })));
}

#[test]
fn a_base_run_that_timed_out_is_not_cached() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let marker = dir.path().join("runs.txt");
    let cmds = commands(None, &format!("echo run >> {}; sleep 30", marker.display()));
    for _ in 0..2 {
        let base = Baseline::get_or_run(cache.path(), "abcdef1", &cmds, || {
            run_checks(dir.path(), &cmds, Duration::from_millis(300))
        })
        .unwrap();
        assert!(base.report.has_failures());
    }
    assert_eq!(fs::read_to_string(&marker).unwrap().lines().count(), 2);
}

#[test]
fn coverage_is_reported_with_its_delta_against_the_base() {
    let dir = project(false, false);
    let mut base_cmds = commands(None, UNITTEST);
    base_cmds.coverage = Some("printf 'Name Stmts Miss Cover\\nTOTAL 100 20 80%%\\n'".into());
    let cache = tempfile::tempdir().unwrap();
    let base = Baseline::get_or_run(cache.path(), "c0ffee1", &base_cmds, || {
        run_checks(dir.path(), &base_cmds, LONG)
    })
    .unwrap();
    assert_eq!(base.coverage, Some(80.0));
    let mut cmds = commands(None, UNITTEST);
    cmds.coverage = Some("echo 'TOTAL 100 13 87%'".into());
    let v = verdict(Some(&base), &run_checks(dir.path(), &cmds, LONG).unwrap());
    assert_eq!(v.coverage, Some(87.0));
    assert_eq!(v.coverage_delta, Some(7.0));
}

/// A unittest suite whose base already fails 12 tests; the change breaks one more, in a
/// module that sorts (and so prints) first, while the old failures print a lot after it.
/// Writes `api.py` (returning `status`), `test_a_api.py` and `test_z_legacy.py`.
fn suite_failing_on_base(status: u16) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| fs::write(dir.path().join(name), text).unwrap();
    write("api.py", &format!("def status():\n    return {status}\n"));
    write(
        "test_a_api.py",
        "import unittest\n\nfrom api import status\n\n\nclass ApiTest(unittest.TestCase):\n    def test_status(self):\n        self.assertEqual(status(), 200)\n\n    def test_ok(self):\n        self.assertTrue(True)\n",
    );
    let mut legacy = String::from("import unittest\n\n\nclass LegacyTest(unittest.TestCase):\n");
    for i in 0..12 {
        legacy.push_str(&format!(
            "    def test_legacy_{i:02}(self):\n        detail = \"\\n\".join(\"legacy noise {i} %d \" % n + \"x\" * 60 for n in range(30))\n        self.fail(\"legacy breakage {i:02}\\n\" + detail)\n\n"
        ));
    }
    write("test_z_legacy.py", &legacy);
    dir
}

/// The issue-9 case: the coder must hear about the one failure it caused, not the twelve
/// the base already had — though those print after it and fill the output's end.
#[test]
fn unittest_feedback_leads_with_the_new_failure_when_the_base_fails_many() {
    let cmds = commands(None, UNITTEST);
    let base_dir = suite_failing_on_base(200);
    let base = Baseline::from_run(
        "a1b2c3d",
        &run_checks(base_dir.path(), &cmds, LONG).unwrap(),
    );
    assert_eq!(base.report.failures.len(), 12, "{:?}", base.report);

    let change_dir = suite_failing_on_base(503);
    let change = run_checks(change_dir.path(), &cmds, LONG).unwrap();
    let output = &change.test.as_ref().unwrap().output;
    let end = &output[output.len().saturating_sub(6000)..];
    assert!(
        !end.contains("503 != 200") && end.contains("legacy breakage"),
        "the scenario: the output's end is all about the old failures"
    );

    let v = verdict(Some(&base), &change);
    assert_eq!(ids(&v.new_failures), ["test_a_api.ApiTest.test_status"]);
    let f = &v.feedback;
    assert!(f.len() <= FEEDBACK_BUDGET, "{} bytes", f.len());
    assert!(
        f.starts_with("$ python3 -m unittest\n[exit code 1]\nnew test failures (1): test_a_api.ApiTest.test_status\nalso failing on the base, not yours: 12 tests\n"),
        "{f}"
    );
    assert!(f.contains("FAIL: test_status (test_a_api.ApiTest"), "{f}");
    assert!(f.contains("AssertionError: 503 != 200"), "{f}");
    assert!(
        !f.contains("legacy"),
        "none of the old failures' output: {f}"
    );
    assert!(f.contains("summary:\nRan 14 tests in"), "{f}");
    assert!(f.contains("FAILED (failures=13)"), "{f}");
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/qa")
        .join(name)
        .display()
        .to_string()
}

/// The same with pytest (its output and JUnit XML recorded from pytest 9 on a project
/// like [`suite_failing_on_base`]'s: `test_a_api.py::test_status` breaks, 12 tests of
/// `test_z_legacy.py` fail on the base and print 25 lines each).
#[test]
fn pytest_feedback_leads_with_the_new_failure_from_its_section_or_its_junit() {
    let printed = |name: &str| format!("cat {}; exit 1", fixture(name));
    let with_xml = |name: &str| {
        format!(
            "cp {}.xml \"$DAYSHIFT_JUNIT_DIR/report.xml\"; cat {}.txt; exit 1",
            fixture(name),
            fixture(name)
        )
    };
    let dir = tempfile::tempdir().unwrap();
    for (source, command) in [
        (ReportSource::Pytest, &printed as &dyn Fn(&str) -> String),
        (ReportSource::JUnit, &with_xml),
    ] {
        let name = |n: &str| match source {
            ReportSource::JUnit => n.to_string(),
            _ => format!("{n}.txt"),
        };
        let base_cmds = commands(None, &command(&name("pytest_base_fails_12")));
        let base = Baseline::from_run(
            "a1b2c3d",
            &run_checks(dir.path(), &base_cmds, LONG).unwrap(),
        );
        assert_eq!(base.report.source, source);
        assert_eq!(base.report.failures.len(), 12, "{:?}", base.report);
        let cmds = commands(None, &command(&name("pytest_change_breaks_status")));
        let change = run_checks(dir.path(), &cmds, LONG).unwrap();
        assert_eq!(change.report.source, source);
        let v = verdict(Some(&base), &change);
        let id = match source {
            ReportSource::JUnit => "test_a_api.test_status",
            _ => "test_a_api.py::test_status",
        };
        assert_eq!(ids(&v.new_failures), [id]);
        let f = &v.feedback;
        assert!(f.len() <= FEEDBACK_BUDGET, "{source:?}: {} bytes", f.len());
        assert!(
            f.contains(&format!("[exit code 1]\nnew test failures (1): {id}\nalso failing on the base, not yours: 12 tests\n")),
            "{source:?}: {f}"
        );
        assert!(f.contains("E       assert 503 == 200"), "{source:?}: {f}");
        assert!(
            f.contains("test_a_api.py:6: AssertionError"),
            "{source:?}: {f}"
        );
        assert!(
            !f.contains("legacy"),
            "{source:?}: none of the old failures: {f}"
        );
        assert!(
            f.contains("summary:\n========================= 13 failed, 2 passed in"),
            "{source:?}: {f}"
        );
        if source == ReportSource::Pytest {
            assert!(
                f.contains("Captured stdout call") && f.contains("\ncalling /health\n"),
                "{f}"
            );
        }
    }
}

#[test]
fn lint_feedback_leads_with_the_files_the_change_touched() {
    let dir = project(false, false);
    let mut lint = String::from(
        "for i in $(seq 1 400); do echo \"legacy/old_$i.py:1:1: E302 expected 2 blank lines\"; done; ",
    );
    lint.push_str("echo 'test_calc.py:3:80: E501 line too long (91 > 79 characters)'; exit 1");
    let run = run_checks(dir.path(), &commands(Some(&lint), UNITTEST), LONG).unwrap();
    let v = verdict_for(None, &run, &["test_calc.py".to_string()]);
    assert!(!v.lint_ok && !v.passed);
    let f = &v.feedback;
    assert!(f.len() <= FEEDBACK_BUDGET, "{} bytes", f.len());
    assert!(
        f.contains("[exit code 1]\nabout the files this change touched:\ntest_calc.py:3:80: E501 line too long"),
        "{f}"
    );
    assert!(f.contains("the rest:\nlegacy/old_1.py"), "{f}");
}
