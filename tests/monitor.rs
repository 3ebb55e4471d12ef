//! The monitor end to end, through the real binary on real git with a bare remote: a scan
//! of the base turns findings into backlog tasks — at most `max_tasks_per_day`, never two
//! for one fingerprint, not even after a fixed finding comes back — closes the task of a
//! finding a person fixed, and the work loop fixes the rest, merged; the next scan reports
//! them fixed and the day's report has a Scan section.

mod common;

use std::path::Path;

use common::{TestHome, git, stdout};

/// Five findings the built-in layers report, each high, one per function.
const DB: &str = "import os
import pickle
import subprocess


def parse_number(text):
    return eval(text)


def run_snippet(code):
    return exec(code)


def load_blob(data):
    return pickle.loads(data)


def run(cmd):
    return subprocess.call(cmd, shell=True)


def list_folder(path):
    return os.system(\"ls \" + path)
";

const TESTS: &str = "import unittest\n\nimport app.db\n\n\nclass App(unittest.TestCase):\n    def test_loads(self):\n        self.assertTrue(app.db.parse_number)\n\n\nif __name__ == '__main__':\n    unittest.main()\n";

/// A coding tool: replaces the line the task's title names ("Fix RULE in FILE:LINE") with
/// `return None`, keeping its indentation.
const TOOL: &str = r#"#!/usr/bin/env python3
import json, pathlib, re, sys
prompt = sys.stdin.read()
found = re.search(r"Fix \S+ in ([\w/.]+):(\d+)", prompt)
path, line = pathlib.Path(found.group(1)), int(found.group(2))
lines = path.read_text().splitlines(keepends=True)
old = lines[line - 1]
lines[line - 1] = old[: len(old) - len(old.lstrip())] + "return None\n"
path.write_text("".join(lines))
print(json.dumps({"type": "result", "is_error": False, "result": "fixed " + found.group(0),
                  "usage": {"input_tokens": 100, "output_tokens": 20}}))
"#;

fn monitor(home: &TestHome, day: &str) -> String {
    stdout(&home.ok(&["run", "monitor", "--date", day]))
}

fn scan_tasks(home: &TestHome) -> Vec<serde_json::Value> {
    home.tasks_json()
        .into_iter()
        .filter(|t| t["source"].as_str().is_some_and(|s| s.starts_with("scan:")))
        .collect()
}

/// Commit `text` as app/db.py on the remote's main, as a person would.
fn push_db(remote: &Path, text: &str, message: &str) {
    let work = remote.parent().unwrap().join("person");
    if !work.exists() {
        git(
            remote.parent().unwrap(),
            &["clone", "--quiet", remote.to_str().unwrap(), "person"],
        );
    }
    git(&work, &["pull", "--quiet", "origin", "main"]);
    std::fs::write(work.join("app/db.py"), text).unwrap();
    git(&work, &["commit", "--quiet", "-am", message]);
    git(&work, &["push", "--quiet", "origin", "main"]);
}

#[test]
fn findings_become_tasks_by_policy_once_each_and_the_work_loop_fixes_them() {
    let (home, remote) = common::home_with_tool(common::ToolHome {
        files: &[("app/db.py", DB), ("test_app.py", TESTS)],
        tool: TOOL,
        coder: "attempts: 1, timeout_minutes: 1",
        agents_tail: "",
        policy: "auto_merge: low\n",
    });

    // the built-in layers only, whatever this machine has installed; nothing is critical
    home.write(
        "config/scan.yaml",
        "analyzers: [builtin]\nfindings_to_tasks: {min_severity: critical}\n",
    );
    let said = monitor(&home, "2026-11-30");
    assert!(
        said.contains("5 finding(s), 5 new, 0 fixed") && !said.contains("opened"),
        "{said}"
    );
    assert!(scan_tasks(&home).is_empty());

    // day 1: five high findings, three tasks (the allowance), the most severe and then the
    // first in the file first
    home.write(
        "config/scan.yaml",
        "analyzers: [builtin]\nfindings_to_tasks: {min_severity: high, max_tasks_per_day: 3}\n",
    );
    let said = monitor(&home, "2026-12-01");
    assert!(
        said.contains("5 finding(s), 0 new, 0 fixed")
            && said.contains("T-0001, T-0002, T-0003 opened"),
        "{said}"
    );
    let tasks = scan_tasks(&home);
    assert_eq!(tasks.len(), 3, "{tasks:#?}");
    for task in &tasks {
        assert_eq!(task["state"], "backlog");
        assert_eq!(task["priority"], "high");
    }
    let first = home.read(tasks[0]["path"].as_str().unwrap());
    assert!(
        first.contains("title: \"Fix patterns.python.eval in app/db.py:7"),
        "{first}"
    );
    assert!(first.contains("files: [\"app/db.py\"]"), "{first}");
    assert!(
        first.contains("> `eval`/`exec` of a value"),
        "the analyzer's words quoted: {first}"
    );
    let report = home.read("reports/scan/2026-12-01.md");
    assert!(report.contains("app/db.py:15"), "{report}");

    // a person fixes the third finding on the base: its backlog task is closed; nothing
    // new is opened (the day's three are used)
    let fixed_by_hand = DB.replace("pickle.loads(data)", "None");
    push_db(&remote, &fixed_by_hand, "load no pickles");
    let said = monitor(&home, "2026-12-01");
    assert!(said.contains("4 finding(s), 0 new, 1 fixed"), "{said}");
    assert!(
        said.contains("T-0003 closed (fixed)") && !said.contains("opened"),
        "{said}"
    );
    let t3 = home.task("T-0003");
    assert_eq!(t3["state"], "failed");
    assert!(
        t3["reason"]
            .as_str()
            .unwrap()
            .contains("no longer reports its finding"),
        "{t3:#?}"
    );

    // the fix is undone: the finding is back, with the same fingerprint, and gets no
    // second task; day 2 opens the two findings never taken
    push_db(&remote, DB, "pickles again");
    let said = monitor(&home, "2026-12-02");
    assert!(said.contains("T-0004, T-0005 opened"), "{said}");
    let sources: Vec<String> = scan_tasks(&home)
        .iter()
        .map(|t| t["source"].as_str().unwrap().to_string())
        .collect();
    let distinct: std::collections::BTreeSet<&String> = sources.iter().collect();
    assert_eq!(sources.len(), 5);
    assert_eq!(
        distinct.len(),
        5,
        "one task per fingerprint ever: {sources:?}"
    );

    // the work loop fixes the four open tasks, each merged
    home.ok(&["run", "work", "--date", "2026-12-02"]);
    for id in ["T-0001", "T-0002", "T-0004", "T-0005"] {
        assert_eq!(home.task(id)["state"], "completed", "{id}");
    }
    let main = git(&remote, &["show", "main:app/db.py"]);
    for gone in ["eval(", "exec(", "shell=True", "os.system("] {
        assert!(!main.contains(gone), "{gone} is still on main:\n{main}");
    }
    assert!(
        main.contains("pickle.loads"),
        "nobody was asked to fix it again"
    );

    // day 3: four fixed, the one left open has its (closed) task, nothing new opened
    let said = monitor(&home, "2026-12-03");
    assert!(
        said.contains("1 finding(s), 0 new, 4 fixed") && !said.contains("opened"),
        "{said}"
    );
    assert_eq!(scan_tasks(&home).len(), 5);
    home.ok(&["run", "wrapup", "--date", "2026-12-03"]);
    let daily = home.read("reports/daily/2026-12-03.md");
    assert!(daily.contains("## Scan"), "{daily}");
    assert!(daily.contains("1 open, 0 new, 4 fixed"), "{daily}");
    let status = stdout(&home.ok(&["status"]));
    assert!(
        status.contains("scan      1 open (1 high), 0 new, 4 fixed at ")
            && status.contains("reports/scan/2026-12-03.md"),
        "{status}"
    );

    // the audit trail, filtered: every scan, and one task's story
    let scans = stdout(&home.ok(&["audit", "--kind", "scan", "--json"]));
    let scans: Vec<serde_json::Value> = serde_json::from_str(&scans).unwrap();
    assert_eq!(scans.len(), 5, "{scans:#?}");
    assert!(
        scans
            .iter()
            .all(|e| e["action"] == "scan.done" && e["actor"] == "scanner")
    );
    let t3 = stdout(&home.ok(&["audit", "--task", "T-0003", "--since", "2026-12-01"]));
    assert!(
        t3.contains("task.created") && t3.contains("task.moved"),
        "{t3}"
    );
    assert!(!t3.contains("T-0001"), "{t3}");
    let day3 = stdout(&home.ok(&[
        "audit",
        "--since",
        "2026-12-03",
        "--actor",
        "scanner",
        "--kind",
        "scan",
        "--json",
    ]));
    let day3: Vec<serde_json::Value> = serde_json::from_str(&day3).unwrap();
    assert_eq!(day3.len(), 1, "only the third day's scan: {day3:#?}");
    let bad = home.run(&["audit", "--since", "last week"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        common::stderr(&bad).contains("is not a date (YYYY-MM-DD)"),
        "{}",
        common::stderr(&bad)
    );
}

#[test]
fn propose_implement_and_improve_go_through_the_normal_path() {
    let (home, _remote) = common::home_with_tool(common::ToolHome {
        files: &[("app/db.py", DB), ("test_app.py", TESTS)],
        tool: TOOL,
        coder: "attempts: 1, timeout_minutes: 1",
        agents_tail: "",
        policy: "auto_merge: low\nnever_touch: [\"app/vault.py\"]\n",
    });
    home.write("config/scan.yaml", "analyzers: [builtin]\n");

    // five proposals, written to proposals/, each with its verdict and risk
    let out = stdout(&home.ok(&["propose", "--json"]));
    let proposals: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(proposals.len(), 5, "{out}");
    let first = proposals[0]["id"].as_str().unwrap().to_string();
    assert_eq!(first.len(), 12);
    assert!(
        proposals
            .iter()
            .all(|p| p["verdict"] == "pass" && p["risk"] == "low")
    );
    let written = home.read(&format!("proposals/{first}.md"));
    assert!(
        written.contains("verdict: pass — risk low: auto_merge lets it merge"),
        "{written}"
    );
    assert!(
        written.contains(&format!("dayshift implement {first}")),
        "{written}"
    );

    // implement: a dry run changes nothing; then the task is worked and merged
    // implement --dry-run: the coder's change, drafted and judged, committed nowhere
    let clone = home.path("workspace/target");
    let head = git(&clone, &["rev-parse", "HEAD"]);
    let dry = home.ok(&["implement", &first, "--dry-run"]);
    let drafted = stdout(&dry);
    assert!(
        drafted.contains("the drafted change — risk low")
            && drafted.contains("-    return eval(text)")
            && drafted.contains("+    return None"),
        "{drafted}"
    );
    assert!(
        common::stderr(&dry).contains("nothing was committed"),
        "{}",
        common::stderr(&dry)
    );
    assert!(home.task_files("backlog").is_empty() && home.task_files("completed").is_empty());
    assert!(
        !home
            .path("proposals")
            .read_dir()
            .unwrap()
            .any(|e| e.unwrap().path().ends_with("T-0000.md"))
    );
    assert_eq!(git(&clone, &["rev-parse", "HEAD"]), head);
    assert_eq!(
        git(&clone, &["branch", "--list", "agent/*"]).trim(),
        "",
        "no branch left"
    );
    assert!(
        !home.path("workspace/worktrees/T-0000").exists(),
        "no work tree left"
    );
    let out = stdout(&home.ok(&["implement", &first]));
    assert!(out.contains("T-0001") && out.contains("completed"), "{out}");
    let again = home.run(&["implement", &first]);
    assert_eq!(again.status.code(), Some(2), "fixed: nothing to implement");
    assert!(
        common::stderr(&again).contains("no open finding"),
        "{}",
        common::stderr(&again)
    );

    // the monitor opens three tasks; a finding with a task is not implemented again
    let said = monitor(&home, "2026-12-07");
    assert!(said.contains("T-0002, T-0003, T-0004 opened"), "{said}");
    let t2 = home.task("T-0002");
    let fingerprint = t2["source"]
        .as_str()
        .unwrap()
        .strip_prefix("scan:")
        .unwrap();
    let refused = home.run(&["implement", &fingerprint[..12]]);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "{}",
        common::stderr(&refused)
    );
    assert!(
        common::stderr(&refused).contains("has had a task already (T-0002)"),
        "{}",
        common::stderr(&refused)
    );

    // a file never to touch: the last finding's change cannot land
    home.write(
        "config/policy.yaml",
        "auto_merge: low\nnever_touch: [\"app/**\"]\n",
    );
    let out = stdout(&home.ok(&["security-scan", "--fix", "--dry-run"]));
    assert!(
        out.contains("block") && out.contains("cannot land"),
        "{out}"
    );
    let last = home.run(&["propose", "--dry-run", "--json"]);
    let blocked: Vec<serde_json::Value> = serde_json::from_slice(&last.stdout).unwrap();
    assert_eq!(blocked.len(), 1, "{blocked:#?}");
    let id = blocked[0]["id"].as_str().unwrap();
    let refused = home.run(&["implement", id]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        common::stderr(&refused).contains("cannot land: policy"),
        "{}",
        common::stderr(&refused)
    );

    // improve: the last one gets its task (the allowance now five a day) and the work loop
    // takes the queue, each through QA and review
    home.write("config/policy.yaml", "auto_merge: low\n");
    home.write(
        "config/scan.yaml",
        "analyzers: [builtin]\nfindings_to_tasks: {max_tasks_per_day: 5}\n",
    );
    let out = stdout(&home.ok(&["improve"]));
    assert!(out.contains("T-0005") && out.contains("completed"), "{out}");
    for id in ["T-0002", "T-0003", "T-0004", "T-0005"] {
        assert_eq!(home.task(id)["state"], "completed", "{id}");
    }
    let sources: std::collections::BTreeSet<String> = scan_tasks(&home)
        .iter()
        .map(|t| t["source"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sources.len(), 5, "one task per fingerprint");
}

/// One change can fix two findings: the first task's tool rewrites every risky call in
/// the file. Before the coder takes the second task, its finding is looked for again in the
/// base (its analyzer, on its file): it is gone, so the task is closed without a run.
#[test]
fn a_finding_an_earlier_change_fixed_is_closed_before_the_coder_takes_it() {
    const GREEDY: &str = r#"#!/usr/bin/env python3
import json, pathlib, re
path = pathlib.Path("app/db.py")
lines = path.read_text().splitlines(keepends=True)
fixed = [l[: len(l) - len(l.lstrip())] + "return None\n" if re.search(r"\b(eval|exec)\(", l) else l
         for l in lines]
path.write_text("".join(fixed))
print(json.dumps({"type": "result", "is_error": False, "result": "fixed both",
                  "usage": {"input_tokens": 100, "output_tokens": 20}}))
"#;
    let db = "def parse_number(text):\n    return eval(text)\n\n\ndef run_snippet(code):\n    return exec(code)\n";
    let (home, remote) = common::home_with_tool(common::ToolHome {
        files: &[("app/db.py", db), ("test_app.py", TESTS)],
        tool: GREEDY,
        coder: "attempts: 1, timeout_minutes: 1",
        agents_tail: "",
        policy: "auto_merge: low\n",
    });
    home.write(
        "config/scan.yaml",
        "analyzers: [builtin]\nfindings_to_tasks: {min_severity: high, max_tasks_per_day: 3}\n",
    );
    let said = monitor(&home, "2026-12-01");
    assert!(said.contains("T-0001, T-0002 opened"), "{said}");

    let out = home.ok(&["run", "work", "--date", "2026-12-01"]);
    assert_eq!(home.task("T-0001")["state"], "completed");
    let t2 = home.task("T-0002");
    assert_eq!(t2["state"], "failed", "{t2:#?}");
    assert!(
        t2["reason"]
            .as_str()
            .unwrap()
            .contains("its finding is no longer in the base"),
        "{t2:#?}"
    );
    assert!(
        common::stderr(&out).contains("T-0002 closed: its finding is no longer in the base"),
        "{}",
        common::stderr(&out)
    );
    let file = home.read(t2["path"].as_str().unwrap());
    assert!(!file.contains("taken by the coder"), "never worked: {file}");
    let main = git(&remote, &["show", "main:app/db.py"]);
    assert!(!main.contains("eval(") && !main.contains("exec("), "{main}");
    assert!(!file.contains("attempt 1"), "{file}");
}
