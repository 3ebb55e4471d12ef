//! The work loop (issue #4) end to end through the binary: a Python target behind a bare
//! remote, a script standing in for the coding CLI (the `command` engine), the target's own
//! unittest suite as QA — with a test that already fails on the base branch — and git.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{TestHome, git, stderr, stdout};

const CALC: &str = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n";
const TESTS: &str = "import unittest\n\nfrom calc import add, sub, mul\n\n\nclass Calc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n\n    def test_mul(self):\n        self.assertEqual(mul(2, 3), 6)\n\n    def test_known_broken(self):\n        self.assertEqual('legacy', 'fixed')\n\n\nif __name__ == '__main__':\n    unittest.main()\n";

/// Stands in for a coding CLI: reads the task from its argument and edits calc.py.
/// Like `claude -p --output-format json`, it prints its usage: 100 tokens in, 20 out.
const FAKE_CLI: &str = r#"#!/usr/bin/env python3
import json, pathlib, re, sys, time
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
note = re.search(r"Add note (\d+)", prompt)
if note:
    pathlib.Path(f"note-{note.group(1)}.txt").write_text(f"note {note.group(1)}\n")
if "Fix add" in prompt and "delete the test file" in prompt:
    pathlib.Path("test_calc.py").unlink()
if "Fix add" in prompt and "drop test_mul" in prompt:
    tests = pathlib.Path("test_calc.py")
    tests.write_text(tests.read_text().replace("def test_mul(self):\n        self.assertEqual(mul(2, 3), 6)\n\n    ", ""))
calc.write_text(src)
result = {"type": "result", "is_error": False, "result": "edited calc.py",
          "usage": {"input_tokens": 100, "output_tokens": 20}}
if "claim a fortune" in prompt:
    result["total_cost_usd"] = 250
print(json.dumps(result))
"#;

/// A home whose target is a bare remote with calc.py, set up, with the fake CLI as coder.
fn home_with_target(attempts: u32, timeout_minutes: f64) -> (TestHome, PathBuf) {
    common::home_with_tool(common::ToolHome {
        files: &[("calc.py", CALC), ("test_calc.py", TESTS)],
        tool: FAKE_CLI,
        coder: &format!("attempts: {attempts}, timeout_minutes: {timeout_minutes}"),
        agents_tail: "",
        policy: "auto_merge: low\nnever_touch: [\"deploy/**\"]\nmax_files_changed: 20\nmax_lines_changed: 400\n",
    })
}

#[test]
fn tasks_are_fixed_tested_against_the_base_and_merged() {
    let (home, remote) = home_with_target(3, 2.0);
    home.add_task(1, "Fix add", "backlog", "");
    home.add_task(2, "Fix sub", "backlog", "");
    home.ok(&["run", "work"]);

    for id in ["T-0001", "T-0002"] {
        assert_eq!(
            home.task(id)["state"],
            "completed",
            "{id}: {}",
            home.read(home.task(id)["path"].as_str().unwrap())
        );
    }
    let first = home.read(home.task("T-0001")["path"].as_str().unwrap());
    assert!(
        first.contains("attempt 1 started") && !first.contains("attempt 2 started"),
        "fixed at the first attempt:\n{first}"
    );
    let second = home.read(home.task("T-0002")["path"].as_str().unwrap());
    assert!(
        second.contains("attempt 1 failed: new test failures (1): test_calc.Calc.test_mul"),
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
    let cli = home.root.parent().unwrap().join("tool");
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
    home.add_task(1, "Hang forever", "backlog", "");
    let work = home.spawn(&["run", "work"]);
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
    let t = home.task("T-0001");
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

/// Two tasks (`first`, then "Fix sub") worked under `budget`; the run must end with exit 1.
fn two_tasks_under_a_budget(budget: &str, first: &str) -> (TestHome, PathBuf, Output) {
    let (home, remote) = home_with_target(3, 1.0);
    let agents = home.read("config/agents.yaml");
    home.write(
        "config/agents.yaml",
        &format!("{agents}budget: {{{budget}}}\n"),
    );
    home.add_task(1, first, "backlog", "");
    home.add_task(2, "Fix sub", "backlog", "");
    let out = home.run(&["run", "work"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    (home, remote, out)
}

#[test]
fn the_loop_stops_when_the_budget_is_spent_and_the_report_says_so() {
    let (home, remote, out) = two_tasks_under_a_budget("daily_tokens: 200", "Fix add");
    assert!(
        stderr(&out).contains(
            "budget: the coder stopped: the daily budget is spent (240 tokens spent today)"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(home.task("T-0001")["state"], "completed");
    let second = home.task("T-0002");
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
    let agents = home.read("config/agents.yaml");
    home.write(
        "config/agents.yaml",
        &agents.replace("budget: {daily_tokens: 200}\n", ""),
    );
    home.ok(&["run", "work"]);
    let second = home.task("T-0002");
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
    home.add_task(1, "Fix add", "backlog", "");
    let out = format!("{}{}", stdout(&home.ok(&["run", "work"])), "");
    assert!(
        out.contains("stopped: the work window ended at 00:00"),
        "{out}"
    );
    assert_eq!(home.task("T-0001")["state"], "backlog");
}

#[test]
fn a_protected_change_waits_for_approval_and_the_next_run_merges_it() {
    let (home, remote) = home_with_target(3, 1.0);
    home.write(
        "config/policy.yaml",
        "auto_merge: low\nprotected_paths: [\"calc.py\"]\n",
    );
    home.add_task(1, "Fix add", "backlog", "");
    home.ok(&["run", "work"]);
    let waiting = home.task("T-0001");
    assert_eq!(
        (waiting["state"].as_str(), waiting["approval"].as_str()),
        (Some("in_review"), Some("pending"))
    );
    assert!(
        home.read(waiting["path"].as_str().unwrap())
            .contains("calc.py: it touches a protected path")
    );
    assert!(!git(&remote, &["log", "main", "--format=%B"]).contains("Task: T-0001"));

    let out = home.ok(&["tasks", "approve", "T-0001"]);
    assert!(stdout(&out).contains("the next work run merges it"));
    home.ok(&["run", "work"]);
    assert_eq!(home.task("T-0001")["state"], "completed");
    assert!(git(&remote, &["log", "main", "--format=%B"]).contains("Task: T-0001"));
}

#[test]
fn a_local_checkout_as_repo_keeps_merges_in_the_clone_and_says_so() {
    let (home, _remote) = home_with_target(1, 1.0);
    // the person's own checkout, `main` checked out, as the target
    let theirs = home.root.parent().unwrap().join("seed");
    let head_before = git(&theirs, &["rev-parse", "HEAD"]);
    let target = home.read("config/target.yaml");
    let bare = target
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("repo: ")
        .to_string();
    home.write(
        "config/target.yaml",
        &target.replace(&bare, theirs.to_str().unwrap()),
    );
    std::fs::remove_dir_all(home.path("workspace/target")).unwrap();
    home.ok(&["setup", "--no-aider"]);
    let doctor = stdout(&home.run(&["doctor"]));
    assert!(
        doctor.contains("merges stay in `main` of the clone")
            && doctor.contains(&format!("git -C {} pull", theirs.display())),
        "doctor says what it will do:\n{doctor}"
    );

    home.add_task(1, "Fix add", "backlog", "");
    home.add_task(2, "Add note 2", "backlog", "files: [note-2.txt]\n");
    let out = home.ok(&["day"]);
    for id in ["T-0001", "T-0002"] {
        let file = home.read(home.task(id)["path"].as_str().unwrap());
        assert_eq!(
            home.task(id)["state"],
            "completed",
            "{}\n{file}",
            stderr(&out)
        );
        assert!(
            file.contains(&format!(
                "kept in the clone, not pushed: {} has `main` checked out",
                theirs.display()
            )),
            "{file}"
        );
        assert!(
            !file.contains("a person"),
            "nothing needed a person:\n{file}"
        );
    }
    // the person's checkout is untouched; the merges are in the clone, where the report says
    assert_eq!(git(&theirs, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(git(&theirs, &["status", "--porcelain"]), "");
    let clone = home.path("workspace/target");
    assert!(git(&clone, &["log", "main", "--format=%B"]).contains("Task: T-0002"));
    let day = chrono::Utc::now().date_naive();
    let report = home.read(&format!("reports/daily/{day}.md"));
    assert!(
        report.contains("merges stay in `main` of the clone"),
        "the report says where the merges are:\n{report}"
    );
    // the person takes them the way the report says
    git(&theirs, &["pull", "-q", clone.to_str().unwrap(), "main"]);
    assert!(git(&theirs, &["log", "--format=%B"]).contains("Task: T-0001"));
}

#[test]
fn a_refused_push_stops_the_loop_needs_no_person_and_the_next_run_merges() {
    use std::os::unix::fs::PermissionsExt;
    let (home, remote) = home_with_target(1, 1.0);
    // origin refuses every push, as a protected branch on a server would
    let hook = remote.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'main is protected' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    home.add_task(1, "Fix add", "backlog", "");
    home.add_task(2, "Add note 2", "backlog", "files: [note-2.txt]\n");
    let out = home.run(&["run", "work"]);
    assert!(!out.status.success(), "the run says it stopped");
    let err = stderr(&out);
    assert!(
        err.contains("could not be pushed") && err.contains("main is protected"),
        "one message saying what failed: {err}"
    );
    let first = home.task("T-0001");
    let file = home.read(first["path"].as_str().unwrap());
    assert_eq!(first["state"], "in_review", "{file}");
    assert!(first["approval"].is_null(), "no person is asked: {file}");
    assert!(
        file.contains("the next work run merges it again") && !file.contains("a person"),
        "{file}"
    );
    assert_eq!(
        home.task("T-0002")["state"],
        "backlog",
        "no more work started"
    );
    home.ok(&["run", "wrapup"]);
    let day = chrono::Utc::now().date_naive();
    let report = home.read(&format!("reports/daily/{day}.md"));
    let unpushed = section(&report, "## Not merged yet: the push failed");
    assert!(
        unpushed.contains("| T-0001 |") && unpushed.contains("main is protected"),
        "{report}"
    );
    assert!(
        !section(&report, "## Waiting on a person").contains("T-0001"),
        "{report}"
    );
    assert_eq!(
        git(&home.path("workspace/target"), &["status", "--porcelain"]),
        ""
    );

    std::fs::remove_file(&hook).unwrap();
    home.ok(&["run", "work"]);
    for id in ["T-0001", "T-0002"] {
        assert_eq!(home.task(id)["state"], "completed", "{id}");
    }
    let log = git(&remote, &["log", "main", "--format=%B"]);
    assert!(
        log.contains("Task: T-0001") && log.contains("Task: T-0002"),
        "{log}"
    );
}

#[test]
fn a_never_touch_refusal_is_retried_once_at_most_and_never_when_the_task_names_the_path() {
    let (home, _remote) = home_with_target(3, 1.0);
    // the tool strays into deploy/ on every attempt: told the rule once, then failed
    home.add_task(1, "Touch the Secret", "backlog", "");
    // the task itself asks for a never-touch file: no attempt can do it
    home.write(
        "tasks/backlog/T-0002-touch-the-secret-config.md",
        "---\nid: T-0002\ntitle: \"Touch the Secret config\"\npriority: high\nfiles: [deploy/secrets.env]\nacceptance: [\"done\"]\ncreated: 2026-11-22T07:46:02+00:00\n---\n## Description\nTouch the Secret config.\n\n## Log\n",
    );
    home.ok(&["run", "work"]);
    let strayed = home.read(home.task("T-0001")["path"].as_str().unwrap());
    assert_eq!(home.task("T-0001")["state"], "failed", "{strayed}");
    assert!(
        strayed.contains("attempt 2 started") && !strayed.contains("attempt 3 started"),
        "one retry, not three runs:\n{strayed}"
    );
    assert!(
        strayed.contains("a second attempt went there too"),
        "{strayed}"
    );
    let named = home.task("T-0002");
    let reason = named["reason"].as_str().unwrap_or("");
    assert_eq!(named["state"], "failed");
    assert!(
        reason.contains("never_touch: `deploy/**`") && reason.contains("the task names it"),
        "the rule is quoted: {reason}"
    );
    let file = home.read(named["path"].as_str().unwrap());
    assert!(
        !file.contains("attempt 2 started"),
        "failed at once:\n{file}"
    );
    let feedback = home.read("logs/audit.jsonl");
    assert!(feedback.contains("Make the change without touching `deploy/secrets.env`"));
}

#[test]
fn branches_of_finished_tasks_go_after_keep_branches_days() {
    let (home, _remote) = home_with_target(1, 1.0);
    home.add_task(1, "Fix add", "backlog", "");
    home.add_task(2, "Crash now", "backlog", "");
    home.add_task(3, "Do Nothing", "backlog", "");
    home.ok(&["run", "work"]);
    let clone = home.path("workspace/target");
    let branches = || {
        git(
            &clone,
            &["branch", "--list", "agent/*", "--format=%(refname:short)"],
        )
    };
    assert_eq!(
        branches().lines().count(),
        3,
        "kept for a person to look at"
    );

    // T-0001 (completed) and T-0002 (failed) finished 15 days ago; T-0003 just now
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(15 * 24 * 3600);
    for id in ["T-0001", "T-0002"] {
        let file = std::fs::File::options()
            .write(true)
            .open(home.path(home.task(id)["path"].as_str().unwrap()))
            .unwrap();
        file.set_modified(old).unwrap();
    }
    home.ok(&["run", "work"]);
    let left = branches();
    assert!(
        left.starts_with("agent/T-0003-") && left.lines().count() == 1,
        "only the recent one is left: {left}"
    );
    assert!(
        home.read("logs/audit.jsonl")
            .contains("\"branches.pruned\"")
    );
}

#[test]
fn engine_failures_end_in_failed_with_the_reason_and_the_base_untouched() {
    let (home, remote) = home_with_target(1, 0.05);
    // six failures in a row on purpose: the emergency pause would stop the loop at three
    let policy = home.read("config/policy.yaml");
    home.write(
        "config/policy.yaml",
        &format!("{policy}max_consecutive_failures: 0\n"),
    );
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
        home.add_task(n, title, "backlog", "");
    }
    let out = home.ok(&["run", "work"]);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    for (n, title, words) in cases {
        let t = home.task(&format!("T-{n:04}"));
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
    home.add_task(1, "Fix add", "backlog", "");
    let out = home.run(&["run", "work"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/nonexistent/coding-cli` is not installed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        home.task("T-0001")["state"],
        "backlog",
        "the task was not touched"
    );
}

#[test]
fn a_task_a_crash_left_in_progress_is_resumed_and_orphan_worktrees_go() {
    let (home, remote) = home_with_target(2, 1.0);
    home.add_task(1, "Fix add", "backlog", "");
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
    let t = home.task("T-0001");
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

#[test]
fn removed_tests_fail_and_a_declared_removal_waits_for_a_person() {
    let (home, remote) = home_with_target(1, 1.0);
    let before = git(&remote, &["rev-parse", "main"]);
    home.add_task(1, "Fix add and delete the test file", "backlog", "");
    home.add_task(2, "Fix add and drop test_mul", "backlog", "");
    home.add_task(
        3,
        "Fix add and drop test_mul as planned",
        "backlog",
        "removes_tests: true\n",
    );
    home.ok(&["run", "work"]);

    let deleted = home.task("T-0001");
    assert_eq!(deleted["state"], "failed");
    let reason = deleted["reason"].as_str().unwrap_or("");
    // the reviewer's patterns layer sees it before the tests run (QA's count of removed
    // tests is the second line: tests/qa.rs)
    assert!(
        reason.contains("the test file was deleted with 4 test(s) not added back elsewhere"),
        "a deleted test file is no 'no new failures': {reason}"
    );
    let dropped = home.task("T-0002");
    assert_eq!(dropped["state"], "failed");
    let reason = dropped["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("test_mul") && reason.contains("do not weaken tests"),
        "the removed test is named: {reason}"
    );
    assert_eq!(
        git(&remote, &["rev-parse", "main"]),
        before,
        "no removal was merged"
    );

    let declared = home.task("T-0003");
    assert_eq!(
        (declared["state"].as_str(), declared["approval"].as_str()),
        (Some("in_review"), Some("pending")),
        "a declared removal is committed but waits for a person"
    );
    let file = home.read(declared["path"].as_str().unwrap());
    assert!(
        file.contains("risk: high") && file.contains("it removes tests, as the task says it may"),
        "{file}"
    );
    assert!(file.contains("removed: test_calc.Calc.test_mul"), "{file}");
}

#[test]
fn a_tool_claiming_more_than_a_run_may_cost_is_billed_in_full_and_stops_the_loop() {
    let (home, remote, out) =
        two_tasks_under_a_budget("daily_usd: 5.00", "Fix add but claim a fortune");
    assert!(
        stderr(&out).contains("the daily budget is spent")
            && stderr(&out)
                .contains("reported $250.00 for one run, over the per-run limit of $5.00"),
        "{}",
        stderr(&out)
    );
    let claimed = home.task("T-0001");
    assert_eq!(claimed["state"], "in_progress", "resumable, not failed");
    let file = home.read(claimed["path"].as_str().unwrap());
    assert!(
        file.contains("next_attempt: 1") && !file.contains("attempt 2 started"),
        "{file}"
    );
    assert_eq!(
        home.task("T-0002")["state"],
        "backlog",
        "the loop stopped at once"
    );
    assert!(!git(&remote, &["log", "main", "--format=%B"]).contains("Task: T-0001"));
    let budget: serde_json::Value =
        serde_json::from_str(&stdout(&home.ok(&["budget", "--json"]))).unwrap();
    assert!(
        budget.to_string().contains("250"),
        "the claim is recorded in full: {budget}"
    );
    assert!(home.read("logs/audit.jsonl").contains("\"budget.overrun\""));
}

/// The coder as the native engine, its model at `base_url` with short timeouts.
fn use_native_model(home: &TestHome, base_url: &str, overall_secs: u32) {
    home.write(
        "config/agents.yaml",
        &format!(
            "providers:\n  local: {{kind: openai, base_url: \"{base_url}/v1\", model: m, timeouts: {{connect: 2, idle: 60, overall: {overall_secs}}}}}\ndefault_provider: local\nagents:\n  coder: {{engine: native, provider: local, attempts: 3}}\n"
        ),
    );
}

/// A model server on 127.0.0.1 that gives every connection to `serve`, counting them.
fn model_server(
    serve: impl Fn(std::net::TcpStream) + Send + Sync + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = calls.clone();
    let serve = std::sync::Arc::new(serve);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let serve = serve.clone();
            std::thread::spawn(move || serve(stream));
        }
    });
    (uri, calls)
}

/// Read a request's head (and whatever body came with it).
fn read_request(stream: &mut std::net::TcpStream) {
    use std::io::Read;
    let mut buf = [0u8; 16384];
    let _ = stream.read(&mut buf);
}

#[test]
fn a_provider_outage_stops_the_loop_and_fails_no_task() {
    let (home, remote) = home_with_target(3, 1.0);
    let before = git(&remote, &["rev-parse", "main"]);
    let (down, _) = model_server(|mut stream| {
        use std::io::Write;
        read_request(&mut stream);
        let _ = stream.write_all(
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 4\r\nconnection: close\r\n\r\ndown",
        );
    });
    // a server answering 503 forever, then nothing listening at all (connection refused)
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    for (base_url, says) in [(down, "HTTP 503"), (refused, "connection failed")] {
        use_native_model(&home, &base_url, 30);
        for n in 1..=3 {
            home.add_task(n, &format!("Fix add, take {n}"), "backlog", "");
        }
        let out = home.run(&["run", "work"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("work stopped: the model provider is unavailable") && err.contains(says),
            "{err}"
        );
        let first = home.task("T-0001");
        assert_eq!(first["state"], "in_progress", "resumable: {first}");
        let file = home.read(first["path"].as_str().unwrap());
        assert!(
            file.contains("next_attempt: 1") && !file.contains("attempt 1 failed"),
            "the attempt is not consumed:\n{file}"
        );
        for id in ["T-0002", "T-0003"] {
            assert_eq!(home.task(id)["state"], "backlog", "{id} was never taken");
        }
        assert!(home.task_files("failed").is_empty(), "no task failed");
        assert_eq!(git(&remote, &["rev-parse", "main"]), before);
        for state in ["backlog", "in_progress"] {
            for name in home.task_files(state) {
                std::fs::remove_file(home.path(&format!("tasks/{state}/{name}"))).unwrap();
            }
        }
    }
}

#[test]
fn sigterm_during_a_hung_model_call_exits_within_seconds_and_the_task_resumes() {
    let (home, _remote) = home_with_target(3, 1.0);
    // accepts, reads the request, and never answers
    let (uri, calls) = model_server(|mut stream| {
        read_request(&mut stream);
        std::thread::sleep(std::time::Duration::from_secs(600));
        drop(stream);
    });
    use_native_model(&home, &uri, 600);
    home.add_task(1, "Fix add", "backlog", "");
    let work = home.spawn(&["run", "work"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while calls.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the model was never called"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let signalled = std::time::Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(work.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = work.wait_with_output().unwrap();
    let took = signalled.elapsed();
    assert!(
        took < std::time::Duration::from_secs(3),
        "exited {took:?} after SIGTERM"
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("work stopped: dayshift is stopping"),
        "{}",
        stderr(&out)
    );
    let t = home.task("T-0001");
    assert_eq!(t["state"], "in_progress", "left to resume, not failed");
    let file = home.read(t["path"].as_str().unwrap());
    assert!(file.contains("next_attempt: 1"), "{file}");
}

/// Rewrite one front matter line of a task file (a crash's leftovers, set up by hand).
fn edit_task(home: &TestHome, id: &str, from: &str, to: &str) {
    let path = home.task(id)["path"].as_str().unwrap().to_string();
    let text = home.read(&path);
    assert!(text.contains(from), "{from} in:\n{text}");
    home.write(&path, &text.replacen(from, to, 1));
}

#[test]
fn after_a_crash_a_merged_task_completes_and_an_unjudged_commit_is_judged_again() {
    let (home, remote) = home_with_target(1, 1.0);
    home.write("config/policy.yaml", "auto_merge: none\n");
    home.add_task(1, "Fix add", "backlog", "");
    home.add_task(2, "Fix sub and test_mul", "backlog", "");
    home.add_task(3, "Add note 3", "backlog", "files: [note-3.txt]\n");
    home.ok(&["run", "work"]);
    for id in ["T-0001", "T-0002", "T-0003"] {
        let t = home.task(id);
        assert_eq!(
            (t["state"].as_str(), t["approval"].as_str()),
            (Some("in_review"), Some("pending")),
            "{id}"
        );
        let file = home.read(t["path"].as_str().unwrap());
        assert!(
            file.contains("stage: committed") && file.contains("commit: \""),
            "the commit is in the front matter:\n{file}"
        );
    }
    // T-0001: killed after the merge, before the move — its branch is in main already
    let clone = home.path("workspace/target");
    let file = home.read(home.task("T-0001")["path"].as_str().unwrap());
    let branch = file
        .lines()
        .find_map(|l| l.strip_prefix("branch: "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    git(&clone, &["merge", "--quiet", "--no-edit", &branch]);
    // T-0002: killed after the commit, before the verdict — no approval recorded
    edit_task(&home, "T-0002", "approval: pending", "approval: null");
    // T-0003: killed after its commit was written into the task, before the move
    edit_task(&home, "T-0003", "approval: pending", "approval: null");
    let name = home
        .task_files("in_review")
        .into_iter()
        .find(|n| n.starts_with("T-0003"))
        .unwrap();
    std::fs::rename(
        home.path(&format!("tasks/in_review/{name}")),
        home.path(&format!("tasks/in_progress/{name}")),
    )
    .unwrap();
    home.write("config/policy.yaml", "auto_merge: low\n");

    home.ok(&["run", "work"]);
    for id in ["T-0001", "T-0002", "T-0003"] {
        assert_eq!(home.task(id)["state"], "completed", "{id}");
    }
    let third = home.read(home.task("T-0003")["path"].as_str().unwrap());
    assert!(
        third.contains("(found after an interruption)") && !third.contains("resumed after"),
        "judged, not worked again:\n{third}"
    );
    let log = git(&remote, &["log", "main", "--format=%B"]);
    assert!(
        log.contains("Task: T-0001")
            && log.contains("Task: T-0002")
            && log.contains("Task: T-0003"),
        "all reached the remote: {log}"
    );
    let audit = home.read("logs/audit.jsonl");
    assert_eq!(audit.matches("\"task.recovered\"").count(), 3, "{audit}");
    assert!(audit.contains("merged into the base branch before the crash"));
    assert!(audit.contains("committed, never judged"));
}

#[test]
fn lock_files_a_killed_git_left_in_the_clone_do_not_block_later_merges() {
    let (home, remote) = home_with_target(1, 1.0);
    home.add_task(1, "Fix add", "backlog", "");
    home.ok(&["run", "work"]);
    // dayshift killed mid-push (the tracking ref's lock) and mid-commit (the index's)
    let clone = home.path("workspace/target");
    for lock in [".git/refs/remotes/origin/main.lock", ".git/index.lock"] {
        std::fs::write(clone.join(lock), "").unwrap();
    }
    home.add_task(2, "Add note 2", "backlog", "files: [note-2.txt]\n");
    let out = home.ok(&["run", "work"]);
    assert_eq!(
        home.task("T-0002")["state"],
        "completed",
        "{}",
        stderr(&out)
    );
    assert!(
        git(&remote, &["log", "main", "--format=%B"]).contains("Task: T-0002"),
        "pushed"
    );
    assert!(!clone.join(".git/index.lock").exists());
}

#[test]
fn an_unjudged_commit_is_judged_from_its_branch_not_from_the_task_file() {
    let (home, remote) = home_with_target(1, 1.0);
    home.write("config/policy.yaml", "auto_merge: none\n");
    home.add_task(1, "Fix add", "backlog", "");
    home.add_task(2, "Add note 2", "backlog", "files: [note-2.txt]\n");
    home.ok(&["run", "work"]);
    assert!(
        home.read(home.task("T-0001")["path"].as_str().unwrap())
            .contains("risk: low")
    );
    // T-0001 touches calc.py, protected from now on; its file (risk: low, written before
    // the policy changed) is edited as a hostile tool would: no approval, and a `commit:`
    // naming a commit already in main
    let main = git(&remote, &["rev-parse", "main"]);
    edit_task(&home, "T-0001", "approval: pending", "approval: null");
    let path = home.task("T-0001")["path"].as_str().unwrap().to_string();
    let text = home.read(&path);
    let forged: String = text
        .lines()
        .map(|l| match l.starts_with("commit: ") {
            true => format!("commit: \"{}\"", main.trim()),
            false => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    home.write(&path, &format!("{forged}\n"));
    // T-0002: no risk written (an older file)
    edit_task(&home, "T-0002", "approval: pending", "approval: null");
    edit_task(&home, "T-0002", "risk: low\n", "");
    home.write(
        "config/policy.yaml",
        "auto_merge: low\nprotected_paths: [\"calc.py\"]\n",
    );

    home.ok(&["run", "work"]);
    for id in ["T-0001", "T-0002"] {
        let t = home.task(id);
        assert_eq!(
            (t["state"].as_str(), t["approval"].as_str()),
            (Some("in_review"), Some("pending")),
            "{id}: a person decides"
        );
    }
    let first = home.read(home.task("T-0001")["path"].as_str().unwrap());
    assert!(
        first.contains("it touches protected paths: calc.py")
            && first.contains("does not point at the commit dayshift made")
            && first.contains("risk: high"),
        "{first}"
    );
    let second = home.read(home.task("T-0002")["path"].as_str().unwrap());
    assert!(second.contains("its risk is unknown"), "{second}");
    let log = git(&remote, &["log", "main", "--format=%B"]);
    assert!(
        !log.contains("Task: T-0001") && !log.contains("Task: T-0002"),
        "{log}"
    );
}

/// Soak: SIGKILL `dayshift run work` at random moments, again and again, over a queue of
/// tasks that each add a file; then one clean run. No task is stuck in progress or review,
/// none is lost or in two folders, and every `Task:` merge on the remote's main belongs to
/// a completed task, exactly once.
#[test]
fn random_sigkills_during_work_leave_no_task_stuck_lost_or_merged_twice() {
    const TASKS: u32 = 8;
    const KILLS: u64 = 25;
    let (home, remote) = home_with_target(2, 1.0);
    for n in 1..=TASKS {
        home.add_task(
            n,
            &format!("Add note {n}"),
            "backlog",
            &format!("files: [note-{n}.txt]\n"),
        );
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(std::process::id());
    for _ in 0..KILLS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut work = home.spawn(&["run", "work"]);
        std::thread::sleep(std::time::Duration::from_millis(20 + seed % 700));
        let _ = work.kill();
        let _ = work.wait();
    }
    let out = home.run(&["run", "work"]);
    assert!(out.status.success(), "the clean run: {}", stderr(&out));

    let tasks = home.tasks_json();
    assert_eq!(
        tasks.len(),
        TASKS as usize,
        "none lost or duplicated: {tasks:?}"
    );
    let mut completed = std::collections::BTreeSet::new();
    for t in &tasks {
        let state = t["state"].as_str().unwrap();
        assert!(
            state == "completed" || state == "failed",
            "{} is stuck in {state}: {}",
            t["id"],
            home.read(t["path"].as_str().unwrap())
        );
        if state == "completed" {
            completed.insert(t["id"].as_str().unwrap().to_string());
        }
    }
    let log = git(&remote, &["log", "main", "--format=%B"]);
    let mut merged: Vec<String> = log
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Task: ").map(str::to_string))
        .collect();
    merged.sort();
    let unique: std::collections::BTreeSet<String> = merged.iter().cloned().collect();
    assert_eq!(
        merged.len(),
        unique.len(),
        "a task merged twice: {merged:?}"
    );
    assert_eq!(
        unique, completed,
        "every merge belongs to a completed task, and back"
    );
    let failed: Vec<String> = tasks
        .iter()
        .filter(|t| t["state"] == "failed")
        .map(|t| home.read(t["path"].as_str().unwrap()))
        .collect();
    assert!(
        completed.len() >= TASKS as usize - 1,
        "the work got done: {completed:?}; failed:\n{}",
        failed.join("\n")
    );
}

#[test]
fn a_failed_task_retried_since_says_where_it_is_now_in_the_report() {
    let (home, _remote) = home_with_target(1, 1.0);
    home.add_task(1, "Crash now", "backlog", "");
    home.ok(&["run", "work"]);
    home.ok(&["tasks", "retry", "T-0001"]);
    home.ok(&["run", "wrapup"]);
    let day = chrono::Utc::now().date_naive();
    let report = home.read(&format!("reports/daily/{day}.md"));
    let failed = section(&report, "## Failed");
    assert!(
        failed.contains("| T-0001 |") && failed.contains("(now backlog)"),
        "{report}"
    );
    assert!(
        section(&report, "## Queue").contains("| backlog | 1 |"),
        "{report}"
    );
}

#[test]
fn progress_shows_the_task_attempt_and_step_and_status_names_the_task() {
    // the tool hangs until its 12 s timeout: time enough to look, even on a loaded machine
    let (home, _remote) = home_with_target(1, 0.2);
    home.add_task(1, "Hang forever", "backlog", "");
    let mut child = home.spawn(&["run", "work"]);
    // while the tool runs, `status` in another terminal names the task and the attempt
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut seen = String::new();
    while std::time::Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        let out = home.run(&["status"]);
        seen = format!("{}{}", stdout(&out), stderr(&out));
        if seen.contains("working   T-0001 attempt 1/1 · running command · Hang forever") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if !seen.contains("working   T-0001 attempt 1/1 · running command") {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "status:\n{seen}\nthe run said:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let json: serde_json::Value =
        serde_json::from_slice(&home.ok(&["status", "--json"]).stdout).unwrap();
    assert_eq!(json["working"]["task"], "T-0001", "{json}");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // not a terminal: plain lines, each with the elapsed time
    assert!(
        err.contains("T-0001 attempt 1/1 · running command · Hang forever · 0s"),
        "{err}"
    );
    assert!(err.contains("T-0001 failed after 1 attempt(s)"), "{err}");
    let day = chrono::Utc::now().date_naive();
    let log = std::fs::read_dir(home.path("logs"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("work."))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect::<String>();
    assert!(
        log.contains("T-0001 attempt 1/1 · running command"),
        "{day}: {log}"
    );
    // the run is over: status no longer says it works
    assert!(!stdout(&home.ok(&["status"])).contains("working"));
    assert!(!home.path(".dayshift/work-now.json").exists());
}
