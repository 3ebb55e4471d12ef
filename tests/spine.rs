//! Acceptance tests of the spine (issue #2): a whole day without a model, through the real
//! binary on temp homes.

mod common;

use common::{TestHome, mask_timestamps, stderr, stdout};

const D1: &str = "2026-11-21";
const D2: &str = "2026-11-22";

fn goals_of_example() -> usize {
    // the example VISION.md written by `init`: 3 goals and 1 idea
    4
}

#[test]
fn a_fresh_home_runs_a_whole_day_and_a_second_day_changes_nothing_but_timestamps() {
    let home = TestHome::new();
    let out = home.ok(&["day", "--date", D1]);
    assert!(
        stdout(&out).contains("the day 2026-11-21 is done"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("[2/7] morning"),
        "progress is shown: {}",
        stderr(&out)
    );

    let plan = home.read("DAILY_PLAN.md");
    assert!(plan.starts_with("# Daily plan — 2026-11-21"), "{plan}");
    assert!(plan.contains("Fix the CSRF_TRUSTED_ORIGINS string concatenation bug"));
    assert_eq!(
        home.task_files("backlog").len(),
        goals_of_example(),
        "one task per planned goal"
    );
    let report = home.read(&format!("reports/daily/{D1}.md"));
    assert!(
        report.starts_with("# Daily report — 2026-11-21"),
        "{report}"
    );
    let progress = home.read("PROGRESS.md");
    assert!(progress.contains("| planned |"), "{progress}");

    let before = home.files();
    home.ok(&["day", "--date", D1]);
    let after = home.files();
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "no file added or removed"
    );
    for (path, text) in &before {
        assert_eq!(
            mask_timestamps(text),
            mask_timestamps(&after[path]),
            "{path} changed beyond timestamps"
        );
    }
}

#[test]
fn an_edited_vision_shows_exactly_its_three_changes_and_the_removed_goal_task_fails_with_reason() {
    let home = TestHome::new();
    home.ok(&["day", "--date", D1]);
    let tasks_before = home.tasks_json();
    let vision = home.read("VISION.md");
    let edited = vision
        .replace(
            "- Add Gunicorn as WSGI server in Docker",
            "- Add Gunicorn as the WSGI server in the Docker image",
        )
        .replace("- Add pagination to the exam list endpoint\n", "");
    let edited = edited.replace(
        "## Priority: HIGH\n",
        "## Priority: HIGH\n- Add a health check endpoint for the load balancer\n",
    );
    assert_ne!(vision, edited);
    home.write("VISION.md", &edited);

    home.ok(&["run", "morning", "--date", D2]);
    home.ok(&["run", "plan", "--date", D2]);

    let plan = home.read("DAILY_PLAN.md");
    let changes: Vec<&str> = plan
        .split("## What changed in VISION.md since 2026-11-21\n\n")
        .nth(1)
        .expect("a changes section")
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .lines()
        .collect();
    assert_eq!(changes.len(), 3, "exactly the three edits: {changes:#?}");
    let count = |word: &str| {
        changes
            .iter()
            .filter(|l| l.starts_with(&format!("- **{word}**")))
            .count()
    };
    assert_eq!(
        (count("new"), count("changed"), count("removed")),
        (1, 1, 1),
        "{changes:#?}"
    );
    assert!(changes.iter().any(|l| l.contains("**new**")
        && l.contains("Add a health check endpoint for the load balancer")));
    assert!(changes.iter().any(|l| l.contains("**changed**") && l.contains("\"Add Gunicorn as WSGI server in Docker\" → \"Add Gunicorn as the WSGI server in the Docker image\"")));
    assert!(changes.iter().any(
        |l| l.contains("**removed**") && l.contains("Add pagination to the exam list endpoint")
    ));

    let after = home.tasks_json();
    let by_title = |t: &str| {
        after
            .iter()
            .find(|v| v["title"].as_str() == Some(t))
            .cloned()
    };
    let removed = by_title("Add pagination to the exam list endpoint")
        .expect("the removed goal's task still exists");
    assert_eq!(removed["state"], "failed");
    assert!(
        removed["reason"]
            .as_str()
            .unwrap_or("")
            .contains("no longer in VISION.md"),
        "{removed}"
    );
    let file = home.read(removed["path"].as_str().unwrap());
    assert!(
        file.contains("backlog → failed: goal"),
        "the reason is in the task file:\n{file}"
    );

    let reworded =
        by_title("Add Gunicorn as the WSGI server in the Docker image").expect("renamed task");
    let old = tasks_before
        .iter()
        .find(|v| v["title"] == "Add Gunicorn as WSGI server in Docker")
        .unwrap();
    assert_eq!(reworded["id"], old["id"], "a reworded goal keeps its task");
    assert_eq!(reworded["goal"], old["goal"], "and its id");

    assert_eq!(
        after.len(),
        tasks_before.len() + 1,
        "the new goal got a task; nothing was deleted"
    );
    for t in &tasks_before {
        assert!(
            after.iter().any(|v| v["id"] == t["id"]),
            "{} vanished",
            t["id"]
        );
    }
}

#[test]
fn hand_moves_and_hand_edits_are_the_truth_for_list_and_plan() {
    let home = TestHome::new();
    home.ok(&["day", "--date", D1]);
    let backlog = home.task_files("backlog");
    let moved = backlog.iter().find(|n| n.contains("csrf")).unwrap().clone();
    std::fs::rename(
        home.path(&format!("tasks/backlog/{moved}")),
        home.path(&format!("tasks/failed/{moved}")),
    )
    .unwrap();
    let edited = backlog
        .iter()
        .find(|n| n.contains("gunicorn"))
        .unwrap()
        .clone();
    let rel = format!("tasks/backlog/{edited}");
    home.write(
        &rel,
        &home.read(&rel).replace("priority: high", "priority: low"),
    );

    let tasks = home.tasks_json();
    let find = |part: &str| {
        tasks
            .iter()
            .find(|v| v["path"].as_str().unwrap().contains(part))
            .unwrap()
            .clone()
    };
    assert_eq!(find("csrf")["state"], "failed");
    assert_eq!(find("gunicorn")["priority"], "low");

    // the next morning plans from the folders as they are now (a second morning of D1
    // would keep D1's plan: a day is planned once)
    home.ok(&["run", "morning", "--date", D2]);
    let plan = home.read("DAILY_PLAN.md");
    let waiting = plan
        .split("## Waiting on a person")
        .nth(1)
        .expect("a waiting section");
    assert!(waiting.contains("CSRF_TRUSTED_ORIGINS"), "{plan}");
    assert!(
        plan.contains("backlog, priority low"),
        "the hand edit shows in the plan:\n{plan}"
    );
    let audit = home.read("logs/audit.jsonl");
    assert!(
        audit
            .lines()
            .any(|l| l.contains("\"actor\":\"human\"") && l.contains("task.moved")),
        "{audit}"
    );
}

#[test]
fn a_second_plan_on_the_same_day_creates_no_duplicates() {
    let home = TestHome::new();
    home.ok(&["run", "morning", "--date", D1]);
    home.ok(&["run", "plan", "--date", D1]);
    home.ok(&["run", "plan", "--date", D1]);
    home.ok(&["run", "morning", "--date", D1]);
    home.ok(&["run", "plan", "--date", D1]);
    assert_eq!(home.task_files("backlog").len(), goals_of_example());
}

#[test]
fn plan_without_a_morning_says_what_to_do() {
    let home = TestHome::new();
    let out = home.run(&["run", "plan", "--date", D1]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("run `dayshift run morning` first"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn tasks_commands_change_state_with_reasons_and_refuse_bad_moves() {
    let home = TestHome::new();
    home.ok(&["day", "--date", D1]);
    home.ok(&["tasks", "cancel", "T-0001", "--reason", "not needed"]);
    let show = stdout(&home.ok(&["tasks", "show", "T-0001"]));
    assert!(
        show.contains("reason: \"cancelled by a person: not needed\""),
        "{show}"
    );
    let out = home.run(&["tasks", "approve", "T-0001"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("only an open task"),
        "{}",
        stderr(&out)
    );
    home.ok(&["tasks", "retry", "T-0001"]);
    // nothing is committed yet: there is nothing to approve
    let out = home.run(&["tasks", "approve", "T-0001"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("T-0001 is backlog: there is no change to approve yet"),
        "{}",
        stderr(&out)
    );
    home.ok(&["tasks", "reject", "T-0002"]);
    let tasks = home.tasks_json();
    assert!(tasks.iter().find(|t| t["id"] == "T-0001").unwrap()["approval"].is_null());
    assert_eq!(
        tasks.iter().find(|t| t["id"] == "T-0002").unwrap()["state"],
        "failed"
    );
    let table = stdout(&home.ok(&["tasks", "list"]));
    assert!(table.starts_with("ID      STATE"), "{table}");
    let out = home.run(&["tasks", "show", "T-9999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no task T-9999"));
}

#[test]
fn status_and_budget_and_audit_answer_in_tables_and_json() {
    let home = TestHome::new();
    home.write(
        "config/schedules.yaml",
        "timezone: Asia/Dhaka\njobs: {morning: \"0 7 * * *\"}\n",
    );
    home.ok(&["day", "--date", D1]);
    let status: serde_json::Value =
        serde_json::from_slice(&home.ok(&["status", "--json"]).stdout).unwrap();
    assert_eq!(status["daemon"]["running"], false);
    assert_eq!(status["tasks"]["backlog"], goals_of_example());
    let next = status["next_runs"][0]["next"].as_str().unwrap();
    assert!(
        next.ends_with("07:00:00+06:00"),
        "next run in the configured zone: {next}"
    );
    let text = stdout(&home.ok(&["status"]));
    assert!(
        text.contains("morning") && text.contains("+06:00"),
        "{text}"
    );
    let budget: serde_json::Value =
        serde_json::from_slice(&home.ok(&["budget", "--json"]).stdout).unwrap();
    assert_eq!(budget["rows"], serde_json::json!([]));
    let audit: Vec<serde_json::Value> =
        serde_json::from_slice(&home.ok(&["audit", "--json"]).stdout).unwrap();
    assert!(audit.iter().any(|e| e["action"] == "task.created"));
}

#[test]
fn a_stop_file_pauses_jobs_from_the_command_line_too() {
    let home = TestHome::new();
    home.write("STOP", "");
    let out = home.run(&["day", "--date", D1]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("paused"), "{}", stderr(&out));
    assert!(!home.path("DAILY_PLAN.md").exists());
}

#[test]
fn jobs_that_cannot_run_here_are_refused_plainly() {
    let home = TestHome::new();
    let out = home.run(&["run", "monitor"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the target is not cloned yet; set `repo` in config/target.yaml and run `dayshift setup`"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&["run", "deploy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing to deploy with: config/target.yaml sets neither `build_command` nor `deploy_command`"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&["run", "work"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("run `dayshift setup`"),
        "work needs the target: {}",
        stderr(&out)
    );
    let day = home.ok(&["day", "--date", "2026-11-21"]);
    assert!(
        stderr(&day).contains("work: skipped — the target is not cloned yet"),
        "{}",
        stderr(&day)
    );
    let out = home.run(&["run", "breakfast"]);
    assert_eq!(out.status.code(), Some(2), "bad usage is exit 2");
}

#[test]
fn init_refuses_an_existing_home_and_commands_refuse_a_non_home() {
    let home = TestHome::new();
    let out = std::process::Command::new(common::BIN)
        .arg("init")
        .arg(&home.root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already a home"));
    let empty = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(common::BIN)
        .arg("--home")
        .arg(empty.path())
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("dayshift init"), "{}", stderr(&out));
}

const CALC: &str = "def add(a, b):\n    return a - b\n";
const CALC_TESTS: &str = "import unittest\n\nfrom calc import add\n\n\nclass Calc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n\nif __name__ == '__main__':\n    unittest.main()\n";

/// Stands in for a coding CLI (prompt on stdin): fixes add, crashes, or writes a note —
/// and says it used 100 tokens in and 20 out.
const TOOL: &str = r#"#!/usr/bin/env python3
import json, pathlib, re, sys
prompt = sys.stdin.read()
if "Crash now" in prompt:
    print("segfault-ish", file=sys.stderr)
    sys.exit(3)
if "Fix add" in prompt:
    calc = pathlib.Path("calc.py")
    calc.write_text(calc.read_text().replace("a - b", "a + b"))
note = re.search(r"Add note (\d+)", prompt)
if note:
    pathlib.Path(f"note-{note.group(1)}.txt").write_text("note\n")
print(json.dumps({"type": "result", "is_error": False, "result": "done",
                  "usage": {"input_tokens": 100, "output_tokens": 20}}))
"#;

const VISION_3: &str = "# Calc\n\n## Priority: HIGH\n- Fix add in calc.py so that add(2, 3) is 5\n- Crash now on purpose\n- Add note 1 beside the LICENSE\n";

/// A home whose target is calc.py behind a bare remote, with [`TOOL`] as the coder (one
/// attempt), notes protected (so a note waits for a person) and three goals: one merges,
/// one fails, one waits.
fn home_with_three_goals() -> TestHome {
    let (home, _remote) = common::home_with_tool(common::ToolHome {
        files: &[
            ("calc.py", CALC),
            ("test_calc.py", CALC_TESTS),
            ("LICENSE", "MIT\n"),
        ],
        tool: TOOL,
        coder: "attempts: 1, timeout_minutes: 1",
        agents_tail: "max_tasks_per_day: 5\n",
        policy: "auto_merge: low\nprotected_paths: [\"note-*.txt\"]\n",
    });
    home.write("VISION.md", VISION_3);
    home
}

/// The one daily report of the home (the day is today).
fn the_report(home: &TestHome) -> String {
    let dir = home.path("reports/daily");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".md"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    home.read(&format!("reports/daily/{}", names.remove(0)))
}

/// The rows of a `## heading` table of a report (header and rule left out).
fn section_rows(report: &str, heading: &str) -> Vec<String> {
    let section = report
        .split(&format!("## {heading}\n\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no {heading} in:\n{report}"));
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .map(str::to_string)
        .collect()
}

/// The goal cell of each row of the report's Planned table.
fn planned_goals(report: &str) -> Vec<String> {
    section_rows(report, "Planned")
        .iter()
        .map(|row| row.split('|').nth(2).unwrap_or_default().trim().to_string())
        .collect()
}

/// The plan stored for the one day planned, as JSON.
fn stored_plan(home: &TestHome) -> serde_json::Value {
    let store = dayshift::store::Store::open(&home.path(".dayshift/state.db")).unwrap();
    let day = chrono::Local::now().date_naive();
    let json = store.load_plan(day).unwrap().expect("a stored plan");
    serde_json::from_str(&json).unwrap()
}

/// Every task file under tasks/, whatever its state.
fn all_task_files(home: &TestHome) -> Vec<String> {
    let mut all: Vec<String> = ["backlog", "in_progress", "in_review", "completed", "failed"]
        .iter()
        .flat_map(|s| home.task_files(s))
        .collect();
    all.sort();
    all
}

#[test]
fn day_twice_on_one_date_keeps_the_morning_and_an_edited_vision_only_adds_goals() {
    let home = home_with_three_goals();
    home.ok(&["day"]);
    let mut states: Vec<(String, String)> = home
        .tasks_json()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    states.sort();
    let states: Vec<&str> = states.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        states,
        ["completed", "failed", "in_review"],
        "one merged, one failed, one waits: {:#?}",
        home.tasks_json()
    );
    let plan_md = home.read("DAILY_PLAN.md");
    let stored = stored_plan(&home);
    let report = the_report(&home);
    let goals = planned_goals(&report);
    assert_eq!(goals.len(), 3, "{report}");
    let files = all_task_files(&home);

    let out = home.ok(&["day"]);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        said.contains("morning already ran for")
            && said.contains("VISION.md has not changed; nothing to do"),
        "the no-op is said: {said}"
    );
    assert_eq!(
        home.read("DAILY_PLAN.md"),
        plan_md,
        "DAILY_PLAN.md is byte for byte the same"
    );
    assert_eq!(stored_plan(&home), stored, "the stored plan is the same");
    assert_eq!(
        planned_goals(&the_report(&home)),
        goals,
        "the report's Planned table keeps the goals finished or failed earlier"
    );
    assert_eq!(all_task_files(&home), files, "no task file added");
    let audit = home.read("logs/audit.jsonl");
    assert!(
        audit.contains("\"plan.unchanged\"") && audit.contains("nothing to do"),
        "{audit}"
    );

    home.write(
        "VISION.md",
        &format!("{VISION_3}- Add note 2 beside the code\n"),
    );
    let out = home.ok(&["day"]);
    assert!(
        format!("{}{}", stdout(&out), stderr(&out))
            .contains("the plan was amended: 1 goal(s) added, none dropped"),
        "{}",
        stderr(&out)
    );
    let amended = stored_plan(&home);
    let ids = |plan: &serde_json::Value| -> Vec<String> {
        plan["today"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["goal_id"].as_str().unwrap().to_string())
            .collect()
    };
    let new_goal = common::goal_id("Add note 2 beside the code");
    let mut expected = ids(&stored);
    expected.push(new_goal.clone());
    assert_eq!(
        ids(&amended),
        expected,
        "old goals kept in order, the new one appended"
    );
    let plan_md = home.read("DAILY_PLAN.md");
    for text in [
        "Fix add in calc.py",
        "Crash now on purpose",
        "Add note 1",
        "Add note 2",
    ] {
        assert!(plan_md.contains(text), "{text} in:\n{plan_md}");
    }
    let goals_now = planned_goals(&the_report(&home));
    assert_eq!(goals_now.len(), 4, "{goals_now:#?}");
    assert_eq!(goals_now[..3], goals[..]);
    assert!(goals_now[3].contains(&new_goal), "{goals_now:#?}");
    assert_eq!(
        all_task_files(&home).len(),
        files.len() + 1,
        "one task for the new goal, none again for the old"
    );
}

#[test]
fn the_report_lists_a_failed_task_once_and_says_why_a_task_waits() {
    let home = home_with_three_goals();
    home.ok(&["day"]);
    let report = the_report(&home);
    let failed = section_rows(&report, "Failed");
    assert_eq!(failed.len(), 1, "{report}");
    assert!(failed[0].contains("T-0002"), "{report}");
    let waiting = section_rows(&report, "Waiting on a person");
    assert_eq!(
        waiting.len(),
        1,
        "only the task waiting for approval:\n{report}"
    );
    assert!(
        waiting[0].contains("T-0003")
            && waiting[0].contains("note-1.txt: it touches a protected path")
            && waiting[0].contains("dayshift tasks approve T-0003"),
        "the row says why it waits and what to do: {}",
        waiting[0]
    );
    assert!(
        !report
            .split("## Waiting on a person")
            .nth(1)
            .unwrap()
            .split("\n## ")
            .next()
            .unwrap()
            .contains("T-0002"),
        "the failed task is not waiting:\n{report}"
    );
    let note_path = home.task("T-0003")["path"].as_str().unwrap().to_string();
    let note = home.read(&note_path);
    assert!(
        note.contains("files: [\"LICENSE\"]") || note.contains("files:\n- LICENSE"),
        "the planner found the tracked LICENSE the goal names:\n{note}"
    );
    let spend = section_rows(&report, "Spend");
    assert!(
        spend
            .iter()
            .any(|r| r.contains("coder") && r.contains("2 tool run(s)")),
        "two runs of the coding tool (fix, note; the crash reported nothing) are runs, not calls: {spend:#?}"
    );

    // an approval written into the file is no approval: the next run sets it back, and the
    // report says so beside the first reason
    home.write(
        &note_path,
        &note.replace("approval: pending", "approval: approved"),
    );
    home.ok(&["run", "work"]);
    home.ok(&["run", "wrapup"]);
    let waiting = section_rows(&the_report(&home), "Waiting on a person");
    assert_eq!(waiting.len(), 1, "{waiting:#?}");
    assert!(
        waiting[0].contains("note-1.txt: it touches a protected path")
            && waiting[0]
                .contains("was written into the file, not given through `dayshift tasks approve`"),
        "{}",
        waiting[0]
    );
}

#[test]
fn a_plan_cut_short_before_writing_daily_plan_writes_it_on_the_next_run() {
    let home = TestHome::new();
    home.ok(&["run", "morning", "--date", D1]);
    let mornings = home.read("DAILY_PLAN.md");
    home.ok(&["run", "plan", "--date", D1]);
    let planned = home.read("DAILY_PLAN.md");
    assert!(planned.contains("T-0001 backlog"), "{planned}");
    // as if the planner was killed after creating the tasks, before writing the file
    home.write("DAILY_PLAN.md", &mornings);
    let out = home.ok(&["run", "plan", "--date", D1]);
    assert_eq!(home.task_files("backlog").len(), goals_of_example());
    assert_eq!(
        mask_timestamps(&home.read("DAILY_PLAN.md")),
        mask_timestamps(&planned),
        "{}",
        stderr(&out)
    );
    // and with nothing missing, nothing is written
    let before = home.read("DAILY_PLAN.md");
    let out = home.ok(&["run", "plan", "--date", D1]);
    assert!(
        stdout(&out).contains("nothing to plan for 2026-11-21")
            || stderr(&out).contains("nothing to plan for 2026-11-21"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(home.read("DAILY_PLAN.md"), before);
}
