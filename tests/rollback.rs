//! `dayshift rollback` local-only (issue 12): a merged task undone by a revert on the base,
//! pushed to the remote, recorded as the person's act.

mod common;

use common::{git, stderr, stdout};

const CALC: &str = "def add(a, b):\n    return a + b\n";
const TESTS: &str = "import unittest\n\nfrom calc import add\n\n\nclass Calc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n\nif __name__ == '__main__':\n    unittest.main()\n";
const TOOL: &str = r#"#!/usr/bin/env python3
import json, pathlib, sys
prompt = sys.stdin.read()
calc = pathlib.Path("calc.py")
if "Add triple" in prompt:
    calc.write_text(calc.read_text() + "\n\ndef triple(x):\n    return 3 * x\n")
elif "Add notes" in prompt:
    pathlib.Path("NOTES.md").write_text("notes\n")
print(json.dumps({"type": "result", "is_error": False, "result": "done",
                  "usage": {"input_tokens": 10, "output_tokens": 5}}))
"#;

#[test]
fn a_merged_task_is_rolled_back_on_the_base_and_pushed_and_says_who() {
    let (home, remote) = common::home_with_tool(common::ToolHome {
        files: &[("calc.py", CALC), ("test_calc.py", TESTS)],
        tool: TOOL,
        coder: "attempts: 1, timeout_minutes: 1",
        agents_tail: "",
        policy: "auto_merge: low\n",
    });
    home.add_task(1, "Add triple", "backlog", "");
    home.add_task(2, "Add notes", "backlog", "files: [NOTES.md]\n");
    home.ok(&["run", "work"]);
    assert_eq!(home.task("T-0001")["state"], "completed");
    assert_eq!(home.task("T-0002")["state"], "completed");
    let on_main = |file: &str| git(&remote, &["show", &format!("main:{file}")]);
    assert!(on_main("calc.py").contains("def triple"));

    // the older task, by id: only its change goes, the later one stays
    let out = home.ok(&["rollback", "T-0001", "--by", "alice"]);
    let text = stdout(&out);
    assert!(
        text.contains("T-0001 rolled back by alice: T-0003 reverts it"),
        "{text}"
    );
    assert!(
        !on_main("calc.py").contains("def triple"),
        "pushed to the remote"
    );
    assert_eq!(on_main("NOTES.md"), "notes\n");
    let original = home.read(home.task("T-0001")["path"].as_str().unwrap());
    assert!(
        original.contains("rolled back by alice: T-0003 reverts it"),
        "{original}"
    );
    let revert = home.task("T-0003");
    assert_eq!(revert["state"], "completed", "{revert}");
    assert_eq!(revert["source"], "rollback:T-0001");
    let audit = home.read("logs/audit.jsonl");
    let event = audit
        .lines()
        .find(|l| l.contains("\"task.rolled_back\""))
        .expect("audited");
    assert!(
        event.contains("\"by\":\"alice\"") && event.contains("T-0003"),
        "{event}"
    );
    assert!(event.contains("\"commit\""), "{event}");

    // twice is refused, saying by whom; --last takes the latest merge (the revert itself
    // is a merge too, so --json names it)
    let again = home.run(&["rollback", "T-0001"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("rolled back already, by alice in T-0003"),
        "{}",
        stderr(&again)
    );
    let last = home.ok(&["rollback", "--last", "--by", "bob", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&last.stdout).unwrap();
    assert_eq!(json["task"], "T-0003", "{json}");
    assert_eq!(json["outcome"], "merged");
    assert!(
        on_main("calc.py").contains("def triple"),
        "the rollback of the rollback"
    );
}

#[test]
fn only_a_completed_task_can_be_rolled_back_and_usage_is_checked() {
    let home = common::TestHome::new();
    home.add_task(1, "Not merged", "backlog", "");
    let out = home.run(&["rollback", "T-0001"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("T-0001 is backlog, not completed"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&["rollback"]);
    assert_eq!(out.status.code(), Some(2), "a task or --last");
    let out = home.run(&["rollback", "--last"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("merged nothing yet"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&["rollback", "seven"]);
    assert_eq!(out.status.code(), Some(2));
}
