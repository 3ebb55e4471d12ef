//! The work loop (issue #4) end to end through the binary: a Python target behind a bare
//! remote, a script standing in for the coding CLI (the `command` engine), the target's own
//! unittest suite as QA — with a test that already fails on the base branch — and git.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use common::{TestHome, bare_remote, git, stderr, stdout};

const CALC: &str = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n";
const TESTS: &str = "import unittest\n\nfrom calc import add, sub, mul\n\n\nclass Calc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n\n    def test_mul(self):\n        self.assertEqual(mul(2, 3), 6)\n\n    def test_known_broken(self):\n        self.assertEqual('legacy', 'fixed')\n\n\nif __name__ == '__main__':\n    unittest.main()\n";

/// Stands in for a coding CLI: reads the task from its argument and edits calc.py.
/// Like `claude -p --output-format json`, it prints its usage: 100 tokens in, 20 out.
const FAKE_CLI: &str = r#"#!/usr/bin/env python3
import json, pathlib, sys, time
prompt = sys.stdin.read()
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
print(json.dumps({"type": "result", "is_error": False, "result": "edited calc.py",
                  "usage": {"input_tokens": 100, "output_tokens": 20}}))
"#;

/// A home whose target is a bare remote with calc.py, set up, with the fake CLI as coder.
fn home_with_target(attempts: u32, timeout_minutes: f64) -> (TestHome, PathBuf) {
    let home = TestHome::new();
    let outer = home.root.parent().unwrap().to_path_buf();
    let remote = bare_remote(
        &outer,
        "calc",
        &[("calc.py", CALC), ("test_calc.py", TESTS)],
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
            "providers: {{}}\nagents:\n  coder: {{engine: command, command: [\"{}\"], attempts: {attempts}, timeout_minutes: {timeout_minutes}}}\n",
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

    // the CLI's usage is recorded against the coder and each task, and the report shows it
    let budget: serde_json::Value =
        serde_json::from_str(&stdout(&home.ok(&["budget", "--json"]))).unwrap();
    let text = budget.to_string();
    assert!(
        text.contains("\"coder\"") && text.contains("\"input_tokens\":300"),
        "three CLI runs of 100 input tokens: {text}"
    );
    home.ok(&["run", "wrapup"]);
    let day = chrono::Utc::now().date_naive();
    let report = home.read(&format!("reports/daily/{day}.md"));
    let done = section(&report, "## Done");
    assert!(
        done.contains("| T-0001 | Fix add | 1 | 120 |")
            && done.contains("| T-0002 | Fix sub | 2 | 240 |"),
        "attempts and tokens per task:\n{done}"
    );
}

/// The pids of this home's fake CLI still running (other tests run their own copies).
fn running_cli(home: &TestHome) -> String {
    let cli = home.root.parent().unwrap().join("fake-cli.py");
    let ps = std::process::Command::new("pgrep")
        .args(["-f", cli.to_str().unwrap()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&ps.stdout).trim().to_string()
}

#[test]
fn ctrl_c_stops_the_coding_tool_and_leaves_the_task_to_resume() {
    let (home, remote) = home_with_target(3, 2.0);
    let before = git(&remote, &["rev-parse", "main"]);
    add_task(&home, 1, "Hang forever");
    let work = std::process::Command::new(env!("CARGO_BIN_EXE_dayshift"))
        .arg("--home")
        .arg(&home.root)
        .args(["run", "work"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while running_cli(&home).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the coding tool never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(work.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = work.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("work stopped: dayshift is stopping"),
        "{}",
        stderr(&out)
    );
    assert_eq!(running_cli(&home), "", "the tool's whole group was stopped");
    let t = task(&home, "T-0001");
    assert_eq!(t["state"], "in_progress", "left to resume, not failed");
    let file = home.read(t["path"].as_str().unwrap());
    assert!(
        file.contains("paused before attempt 1: dayshift is stopping"),
        "{file}"
    );
    assert_eq!(git(&remote, &["rev-parse", "main"]), before);
}

/// The text of a report section, up to the next heading.
fn section<'a>(report: &'a str, heading: &str) -> &'a str {
    let start = report
        .find(heading)
        .unwrap_or_else(|| panic!("{heading}:\n{report}"));
    let rest = &report[start + heading.len()..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

#[test]
fn the_loop_stops_when_the_budget_is_spent_and_the_report_says_so() {
    let (home, remote) = home_with_target(3, 1.0);
    let agents = home.read("config/agents.yaml");
    home.write(
        "config/agents.yaml",
        &format!("{agents}budget: {{daily_tokens: 200}}\n"),
    );
    add_task(&home, 1, "Fix add");
    add_task(&home, 2, "Fix sub");
    let out = home.run(&["run", "work"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "budget: the coder stopped: the daily budget is spent (240 tokens spent today)"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(task(&home, "T-0001")["state"], "completed");
    let second = task(&home, "T-0002");
    assert_eq!(
        second["state"], "in_progress",
        "its first attempt failed, and the budget was spent before the second"
    );
    let file = home.read(second["path"].as_str().unwrap());
    assert!(
        file.contains("attempt 1 failed") && !file.contains("attempt 2 started"),
        "{file}"
    );
    assert!(
        file.contains("paused before attempt 2: the daily budget is spent"),
        "{file}"
    );
    assert!(!git(&remote, &["log", "main", "--format=%B"]).contains("Task: T-0002"));
    let audit = home.read("logs/audit.jsonl");
    assert!(audit.contains("\"budget.alert\""), "the alert fired");

    home.ok(&["run", "wrapup"]);
    let day = chrono::Utc::now().date_naive();
    let report = home.read(&format!("reports/daily/{day}.md"));
    assert!(
        section(&report, "## Stopped early").contains("work: budget: the coder stopped"),
        "{report}"
    );

    // with room again (a new day, or a raised cap) the paused task resumes where it stopped
    home.write("config/agents.yaml", &agents);
    home.ok(&["run", "work"]);
    let second = task(&home, "T-0002");
    assert_eq!(second["state"], "completed");
    let file = home.read(second["path"].as_str().unwrap());
    assert!(
        file.contains("resumed after an interruption, at attempt 2")
            && file.contains("attempts: 2")
            && !file.contains("attempt 3 started"),
        "{file}"
    );
}

#[test]
fn no_work_starts_after_the_work_window() {
    let (home, _remote) = home_with_target(3, 1.0);
    home.write(
        "config/schedules.yaml",
        "timezone: UTC\nwork_until: \"00:00\"\n",
    );
    add_task(&home, 1, "Fix add");
    let out = format!("{}{}", stdout(&home.ok(&["run", "work"])), "");
    assert!(
        out.contains("stopped: the work window ended at 00:00"),
        "{out}"
    );
    assert_eq!(task(&home, "T-0001")["state"], "backlog");
}

#[test]
fn a_protected_change_waits_for_approval_and_the_next_run_merges_it() {
    let (home, remote) = home_with_target(3, 1.0);
    home.write(
        "config/policy.yaml",
        "auto_merge: low\nprotected_paths: [\"calc.py\"]\n",
    );
    add_task(&home, 1, "Fix add");
    home.ok(&["run", "work"]);
    let waiting = task(&home, "T-0001");
    assert_eq!(
        (waiting["state"].as_str(), waiting["approval"].as_str()),
        (Some("in_review"), Some("pending"))
    );
    assert!(
        home.read(waiting["path"].as_str().unwrap())
            .contains("it touches protected paths: calc.py")
    );
    assert!(!git(&remote, &["log", "main", "--format=%B"]).contains("Task: T-0001"));

    let out = home.ok(&["tasks", "approve", "T-0001"]);
    assert!(stdout(&out).contains("the next work run merges it"));
    home.ok(&["run", "work"]);
    assert_eq!(task(&home, "T-0001")["state"], "completed");
    assert!(git(&remote, &["log", "main", "--format=%B"]).contains("Task: T-0001"));
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
        // confined (bubblewrap; CI installs it) the kernel refuses the write ("Read-only file
        // system") and the tool fails; unconfined the guard finds it "outside" the worktree
        (5, "Write Outside", "exited with code 1"),
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
        !home.path("workspace/escaped.txt").exists(),
        "the sandbox refused the write outside the worktree"
    );
    assert_eq!(running_cli(&home), "", "no engine process is left");
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
    home.write("config/agents.yaml", "providers: {}\nagents:\n  coder: {engine: command, command: [\"/nonexistent/coding-cli\"]}\n");
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
