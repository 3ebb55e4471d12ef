//! The work loop (issue #4) end to end through the binary: a Python target behind a bare
//! remote, a script standing in for the coding CLI (the `command` engine), the target's own
//! unittest suite as QA — with a test that already fails on the base branch — and git.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use common::{TestHome, git, stderr};

const CALC: &str = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n";
const TESTS: &str = "import unittest\n\nfrom calc import add, sub, mul\n\n\nclass Calc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n\n    def test_mul(self):\n        self.assertEqual(mul(2, 3), 6)\n\n    def test_known_broken(self):\n        self.assertEqual('legacy', 'fixed')\n\n\nif __name__ == '__main__':\n    unittest.main()\n";

/// Stands in for a coding CLI: reads the task from its argument and edits calc.py.
const FAKE_CLI: &str = r#"#!/usr/bin/env python3
import pathlib, sys, time
prompt = sys.argv[1]
calc = pathlib.Path("calc.py")
src = calc.read_text()
if "Fix add" in prompt:
    src = src.replace("def add(a, b):\n    return a - b", "def add(a, b):\n    return a + b")
elif "Fix sub" in prompt:
    src = src.replace("def sub(a, b):\n    return a + b", "def sub(a, b):\n    return a - b")
    if "test_mul" not in prompt:
        src = src.replace("return a * b", "return a ** b")  # breaks another test
elif "Hang" in prompt:
    time.sleep(120)
elif "Crash" in prompt:
    print("segfault-ish", file=sys.stderr)
    sys.exit(3)
elif "Secret" in prompt:
    pathlib.Path("deploy").mkdir(exist_ok=True)
    pathlib.Path("deploy/secrets.env").write_text("KEY=1\n")
elif "Outside" in prompt:
    pathlib.Path("../../escaped.txt").write_text("out\n")
elif "Huge" in prompt:
    pathlib.Path("huge.py").write_text("x = 1\n" * 10000)
calc.write_text(src)
"#;

/// A home whose target is a bare remote with calc.py, set up, with the fake CLI as coder.
fn home_with_target(attempts: u32, timeout_minutes: f64) -> (TestHome, PathBuf) {
    let home = TestHome::new();
    let outer = home.root.parent().unwrap().to_path_buf();
    let seed = outer.join("seed");
    std::fs::create_dir_all(&seed).unwrap();
    git(&seed, &["init", "-q"]);
    std::fs::write(seed.join("calc.py"), CALC).unwrap();
    std::fs::write(seed.join("test_calc.py"), TESTS).unwrap();
    git(&seed, &["add", "."]);
    git(&seed, &["commit", "-q", "-m", "calc"]);
    let remote = outer.join("calc.git");
    git(
        &outer,
        &[
            "clone",
            "-q",
            "--bare",
            seed.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    );
    let cli = outer.join("fake-cli.py");
    std::fs::write(&cli, FAKE_CLI).unwrap();
    std::fs::set_permissions(&cli, std::fs::Permissions::from_mode(0o755)).unwrap();
    home.write(
        "config/target.yaml",
        &format!(
            "repo: {}\nbase_branch: main\ntest_command: python3 -m unittest -v\n",
            remote.display()
        ),
    );
    home.write(
        "config/agents.yaml",
        &format!(
            "providers: {{}}\nagents:\n  coder: {{engine: command, command: [\"{}\", \"{{prompt}}\"], attempts: {attempts}, timeout_minutes: {timeout_minutes}}}\n",
            cli.display()
        ),
    );
    home.write("config/policy.yaml", "auto_merge: low\nnever_touch: [\"deploy/**\"]\nmax_files_changed: 20\nmax_lines_changed: 400\n");
    home.ok(&["setup", "--no-aider"]);
    (home, remote)
}

fn add_task(home: &TestHome, n: u32, title: &str) {
    let id = format!("T-{n:04}");
    let slug = dayshift::tasks::id::slugify(title);
    home.write(
        &format!("tasks/backlog/{id}-{slug}.md"),
        &format!("---\nid: {id}\ntitle: \"{title}\"\npriority: high\nfiles: [calc.py]\nacceptance: [\"the tests pass\"]\ncreated: 2026-11-22T07:46:02+00:00\n---\n## Description\n{title} in calc.py.\n\n## Log\n"),
    );
}

fn task(home: &TestHome, id: &str) -> serde_json::Value {
    home.tasks_json()
        .into_iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("{id}"))
}

#[test]
fn tasks_are_fixed_tested_against_the_base_and_merged() {
    let (home, remote) = home_with_target(3, 2.0);
    add_task(&home, 1, "Fix add");
    add_task(&home, 2, "Fix sub");
    home.ok(&["run", "work"]);

    for id in ["T-0001", "T-0002"] {
        assert_eq!(
            task(&home, id)["state"],
            "completed",
            "{id}: {}",
            home.read(task(&home, id)["path"].as_str().unwrap())
        );
    }
    let first = home.read(task(&home, "T-0001")["path"].as_str().unwrap());
    assert!(
        first.contains("attempt 1 started") && !first.contains("attempt 2 started"),
        "fixed at the first attempt:\n{first}"
    );
    let second = home.read(task(&home, "T-0002")["path"].as_str().unwrap());
    assert!(
        second.contains("attempt 1 failed: new test failures:") && second.contains("test_mul"),
        "{second}"
    );
    assert!(
        second.contains("attempt 2 started") && second.contains("attempts: 2"),
        "fixed at the second attempt:\n{second}"
    );

    let log = git(&remote, &["log", "main", "--format=%B"]);
    assert!(
        log.contains("Task: T-0001") && log.contains("Task: T-0002"),
        "both are on the remote's base branch:\n{log}"
    );
    let merged = git(&remote, &["show", "main:calc.py"]);
    assert!(
        merged.contains("return a + b\n\n\ndef sub")
            && merged.contains("def sub(a, b):\n    return a - b")
            && merged.contains("return a * b"),
        "{merged}"
    );
    let audit = home.read("logs/audit.jsonl");
    assert_eq!(audit.matches("\"task.merged\"").count(), 2);
}

#[test]
fn engine_failures_end_in_failed_with_the_reason_and_the_base_untouched() {
    let (home, remote) = home_with_target(1, 0.05);
    let before = git(&remote, &["rev-parse", "main"]);
    let cases = [
        (1, "Hang forever", "still running after"),
        (2, "Crash now", "exited with code 3"),
        (3, "Do Nothing", "changed nothing"),
        (4, "Touch the Secret", "deploy/secrets.env"),
        (5, "Write Outside", "outside"),
        (6, "Make a Huge change", "lines"),
    ];
    for (n, title, _) in cases {
        add_task(&home, n, title);
    }
    let out = home.ok(&["run", "work"]);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    for (n, title, words) in cases {
        let t = task(&home, &format!("T-{n:04}"));
        assert_eq!(t["state"], "failed", "{title}");
        let reason = t["reason"].as_str().unwrap_or("");
        assert!(
            reason.contains(words),
            "{title}: the reason says why: {reason}"
        );
        let file = home.read(t["path"].as_str().unwrap());
        assert!(
            file.contains("attempt 1 failed:"),
            "{title}: the log says why:\n{file}"
        );
    }
    assert_eq!(
        git(&remote, &["rev-parse", "main"]),
        before,
        "the base branch is untouched"
    );
    assert!(
        home.path("workspace/escaped.txt").exists(),
        "the write outside happened, and was caught (not silently allowed)"
    );
    let ps = std::process::Command::new("pgrep")
        .args(["-f", "fake-cli.py"])
        .output()
        .unwrap();
    assert!(
        ps.stdout.is_empty(),
        "no engine process is left: {}",
        String::from_utf8_lossy(&ps.stdout)
    );
    let audit = home.read("logs/audit.jsonl");
    assert_eq!(
        audit.matches("\"task.escalated\"").count(),
        cases.len(),
        "each failure is escalated"
    );
}

#[test]
fn work_refuses_plainly_when_the_coding_tool_is_not_installed() {
    let (home, _remote) = home_with_target(1, 1.0);
    home.write("config/agents.yaml", "providers: {}\nagents:\n  coder: {engine: command, command: [\"/nonexistent/coding-cli\", \"{prompt}\"]}\n");
    add_task(&home, 1, "Fix add");
    let out = home.run(&["run", "work"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/nonexistent/coding-cli` is not installed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        task(&home, "T-0001")["state"],
        "backlog",
        "the task was not touched"
    );
}

#[test]
fn a_task_a_crash_left_in_progress_is_resumed_and_orphan_worktrees_go() {
    let (home, remote) = home_with_target(2, 1.0);
    add_task(&home, 1, "Fix add");
    let name = home.task_files("backlog")[0].clone();
    std::fs::rename(
        home.path(&format!("tasks/backlog/{name}")),
        home.path(&format!("tasks/in_progress/{name}")),
    )
    .unwrap();
    let clone = home.path("workspace/target");
    git(
        &clone,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "agent/T-0099-gone",
            "../worktrees/T-0099",
        ],
    );
    assert!(home.path("workspace/worktrees/T-0099").exists());

    home.ok(&["run", "work"]);
    let t = task(&home, "T-0001");
    assert_eq!(t["state"], "completed");
    assert!(
        home.read(t["path"].as_str().unwrap())
            .contains("resumed after an interruption")
    );
    assert!(git(&remote, &["log", "main", "--format=%B"]).contains("Task: T-0001"));
    assert!(
        !home.path("workspace/worktrees/T-0099").exists(),
        "the orphan work tree was removed"
    );
}
