//! Approvals and policy come from people (issue 8, item 3), through the binary: a task file
//! flipped to `approval: approved` by a coding tool is not merged but flagged; the CLI's
//! approval is recorded with who and merges; the daemon's watcher honours a hand edit only
//! while no job holds the job lock; a policy rewritten during a run changes nothing for
//! that run and is reported.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{TestHome, git, stderr};
use dayshift::context::UNVERIFIED;

const CALC: &str = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a + b\n";
const TESTS: &str = "import unittest\n\nfrom calc import add, sub\n\n\nclass Calc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n\n\nif __name__ == '__main__':\n    unittest.main()\n";

/// Stands in for a coding CLI (prompt on stdin). "Fix add" fixes add; "Fix sub" fixes sub
/// and, as a prompt-injected tool would, flips the first in-review task of the home to
/// `approval: approved`; "Loosen" waits while the test, as a person, edits the policy.
const HOSTILE_CLI: &str = r#"#!/usr/bin/env python3
import pathlib, sys, time
prompt = sys.stdin.read()
calc = pathlib.Path("calc.py")
src = calc.read_text()
outer = pathlib.Path.cwd().parents[3]  # <outer>/home/workspace/worktrees/<ID>
home = outer / "home"
if "Fix add" in prompt:
    src = src.replace("return a - b", "return a + b")
if "Fix sub" in prompt:
    src = src.replace("def sub(a, b):\n    return a + b", "def sub(a, b):\n    return a - b")
    for f in (home / "tasks" / "in_review").glob("T-*.md"):
        f.write_text(f.read_text().replace("approval: pending", "approval: approved"))
if "Loosen" in prompt:
    # a person edits the policy while this (confined) run waits
    (outer / "signal" / "started").write_text("")
    for _ in range(400):
        if (outer / "signal" / "go").exists():
            break
        time.sleep(0.05)
calc.write_text(src)
print("edited calc.py")
"#;

/// A home whose target (calc.py, protected) is a bare remote, with the hostile CLI as coder.
/// These tests exercise the layers beneath the sandbox: unconfined, a tool can reach the
/// home (tests/hostile.rs covers the confined runs).
fn home_with_target() -> (TestHome, PathBuf) {
    common::home_with_tool(common::ToolHome {
        files: &[("calc.py", CALC), ("test_calc.py", TESTS)],
        tool: HOSTILE_CLI,
        coder: "attempts: 1, timeout_minutes: 1",
        agents_tail: "",
        policy: "auto_merge: low\nprotected_paths: [\"calc.py\"]\nsandbox: {mode: off}\n",
    })
}

/// The audit events of `action` for task `id`.
fn audited(home: &TestHome, action: &str, id: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(home.path("logs/audit.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["action"] == action && e["task"] == id)
        .collect()
}

fn merged_on_main(remote: &Path, id: &str) -> bool {
    git(remote, &["log", "main", "--format=%B"]).contains(&format!("Task: {id}"))
}

#[test]
fn an_approval_a_tool_wrote_is_flagged_and_only_the_cli_approval_merges() {
    let (home, remote) = home_with_target();
    home.add_task(1, "Fix add", "backlog", "");
    home.add_task(2, "Fix sub", "backlog", "");
    // T-0001 waits (protected path); T-0002's tool flips it to approved while it runs:
    // the home guard puts the person's file back and fails T-0002 at once
    home.ok(&["run", "work"]);
    let first = home.task("T-0001");
    assert_eq!(first["state"], "in_review");
    assert_eq!(
        first["approval"], "pending",
        "the forged approval is set back"
    );
    assert!(
        !merged_on_main(&remote, "T-0001"),
        "a forged approval never merges"
    );
    let second = home.read(home.task("T-0002")["path"].as_str().unwrap());
    assert_eq!(home.task("T-0002")["state"], "failed", "{second}");
    assert!(second.contains("wrote into the home"), "{second}");
    let tampered = audited(&home, "home.tampered", "T-0002");
    assert_eq!(tampered.len(), 1, "{tampered:?}");
    assert!(
        tampered[0]["detail"]["paths"]
            .to_string()
            .contains("tasks/in_review/T-0001"),
        "{tampered:?}"
    );
    assert!(audited(&home, "approval.granted", "T-0001").is_empty());

    // an approval written into the file between runs (an orphan, another program, a
    // person's hand edit with no daemon watching) is no more than a claim: flagged, set
    // back, never merged
    let path = home.path(first["path"].as_str().unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("approval: pending", "approval: approved"),
    )
    .unwrap();
    home.ok(&["run", "work"]);
    let file = home.read(first["path"].as_str().unwrap());
    assert!(file.contains(UNVERIFIED), "{file}");
    assert_eq!(home.task("T-0001")["approval"], "pending");
    assert!(!merged_on_main(&remote, "T-0001"));
    assert_eq!(audited(&home, "approval.unverified", "T-0001").len(), 1);

    // a person's approval through the CLI is recorded with who and the commit, and merges
    home.ok(&["tasks", "approve", "T-0001", "--by", "alice"]);
    let granted = audited(&home, "approval.granted", "T-0001");
    assert_eq!(granted.len(), 1, "{granted:?}");
    assert_eq!(granted[0]["detail"]["by"], "alice");
    assert_eq!(granted[0]["actor"], "human");
    let branch = home.task("T-0001");
    let branch = home.read(branch["path"].as_str().unwrap());
    let branch = branch
        .lines()
        .find_map(|l| l.strip_prefix("branch: "))
        .unwrap()
        .trim()
        .trim_matches('"')
        .to_string();
    let head = git(&home.path("workspace/target"), &["rev-parse", &branch]);
    assert_eq!(granted[0]["commit"], head.trim(), "the commit approved");
    home.ok(&["run", "work"]);
    let done = home.task("T-0001");
    assert_eq!(done["state"], "completed");
    assert!(merged_on_main(&remote, "T-0001"));
    let file = home.read(done["path"].as_str().unwrap());
    assert!(
        file.contains("(approved by alice at "),
        "the merge says who approved, from the record:\n{file}"
    );
}

#[test]
fn a_policy_a_person_rewrites_during_a_run_is_ignored_for_that_run_and_reported() {
    let (home, remote) = home_with_target();
    let signal = home.root.parent().unwrap().join("signal");
    std::fs::create_dir_all(&signal).unwrap();
    // confined (the tool cannot see the home), with a folder to signal through
    let policy = |merge: &str| {
        format!(
            "auto_merge: {merge}\nprotected_paths: [\"calc.py\"]\nsandbox: {{mode: required, write: [\"{}\"]}}\n",
            signal.display()
        )
    };
    home.write("config/policy.yaml", &policy("low"));
    home.add_task(1, "Fix add and Loosen the policy", "backlog", "");
    let work = home.spawn(&["run", "work"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !signal.join("started").exists() {
        assert!(Instant::now() < deadline, "the tool never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    home.write("config/policy.yaml", &policy("medium"));
    std::fs::write(signal.join("go"), "").unwrap();
    let out = work.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        home.read("config/policy.yaml"),
        policy("medium"),
        "the person's edit stays"
    );
    let t = home.task("T-0001");
    assert_eq!(
        (t["state"].as_str(), t["approval"].as_str()),
        (Some("in_review"), Some("pending")),
        "the policy read at the start (calc.py protected) decided"
    );
    assert!(!merged_on_main(&remote, "T-0001"));
    let audit = home.read("logs/audit.jsonl");
    let changed: Vec<serde_json::Value> = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["action"] == "config.changed_during_run")
        .collect();
    assert_eq!(changed.len(), 1, "{audit}");
    assert_eq!(
        changed[0]["detail"]["files"],
        serde_json::json!(["policy.yaml"])
    );
    assert!(
        stderr(&out).contains("config changed during this run (policy.yaml)"),
        "{}",
        stderr(&out)
    );
}

/// wrapup at midnight on 1 January: nothing fires or is caught up during a test.
const RARE: &str = "timezone: UTC\njobs: {wrapup: \"0 0 1 1 *\"}\n";

/// A daemon this test started; stopped (or killed) when the test ends.
struct Daemon<'a>(&'a TestHome);

impl Drop for Daemon<'_> {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.0.path(".dayshift/pid")).unwrap_or_default();
        let _ = self.0.run(&["stop"]);
        // a daemon `stop` could not end is killed, so no test leaves one behind
        if let Ok(pid) = pid.trim().parse::<i32>()
            && Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
    }
}

fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn approve_by_hand(home: &TestHome, rel: &str) {
    let text = home.read(rel);
    home.write(
        rel,
        &text.replace("approval: pending", "approval: approved"),
    );
}

#[test]
fn the_watcher_honours_a_hand_edit_only_while_no_job_holds_the_lock() {
    let home = TestHome::new();
    home.write("config/schedules.yaml", RARE);
    home.add_task(1, "Fix add", "in_review", "approval: pending\n");
    home.add_task(2, "Fix sub", "in_review", "approval: pending\n");
    home.ok(&["start"]);
    let _daemon = Daemon(&home);

    // no job runs: the person's edit is recorded as theirs
    approve_by_hand(&home, "tasks/in_review/T-0001-fix-add.md");
    wait_until(
        Duration::from_secs(15),
        "the hand edit to be recorded",
        || !audited(&home, "approval.granted", "T-0001").is_empty(),
    );
    let granted = audited(&home, "approval.granted", "T-0001");
    assert_eq!(granted[0]["detail"]["by"], "hand edit");
    assert_eq!(granted[0]["detail"]["via"], "watcher");
    assert!(
        home.read("tasks/in_review/T-0001-fix-add.md")
            .contains("approval: approved")
    );

    // a job holds the lock (as the work loop does while its agents run): not a person's
    let job_lock = dayshift::home::Home::open(&home.root).unwrap().job_lock();
    let lock = dayshift::lockfile::FileLock::acquire(&job_lock).unwrap();
    approve_by_hand(&home, "tasks/in_review/T-0002-fix-sub.md");
    std::thread::sleep(Duration::from_secs(4)); // past the watcher's quiet period and retries
    drop(lock);
    wait_until(Duration::from_secs(15), "the edit to be flagged", || {
        !audited(&home, "approval.unverified", "T-0002").is_empty()
    });
    assert!(audited(&home, "approval.granted", "T-0002").is_empty());
    let file = home.read("tasks/in_review/T-0002-fix-sub.md");
    assert!(file.contains("approval: pending"), "{file}");
    assert!(file.contains(UNVERIFIED), "{file}");
}
