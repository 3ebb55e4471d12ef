//! The dashboard issue through the binary (issue 12, `dashboard: true`): after the
//! wrap-up, one issue on the fake GitHub lists what waits for a person with its pull
//! request; a second wrap-up updates it; a box a person ticks there approves that task at
//! the next work run; an issue someone else opened that looks like the dashboard approves
//! nothing.

mod common;

use std::path::PathBuf;

use common::fake_github::{FakeGithub, IssueView};
use common::{TestHome, git, stderr, stdout};

/// The token: a canary that must not reach the dashboard.
const TOKEN: &str = "ghp_DashboardCanary000000000000000000000";
const TOKEN_ENV: &str = "DAYSHIFT_TEST_GITHUB_TOKEN";
const MARKER: &str = "<!-- dayshift-dashboard -->";

/// Stands in for a coding tool: a protected change for "Turn on debug", a plain one else.
const TOOL: &str = r#"#!/usr/bin/env python3
import json, pathlib, sys
prompt = sys.stdin.read()
if "Turn on debug" in prompt:
    pathlib.Path("settings.py").write_text("DEBUG = True\n")
else:
    calc = pathlib.Path("calc.py")
    calc.write_text(calc.read_text() + "\n\ndef triple(x):\n    return 3 * x\n")
usage = {"input_tokens": 10, "output_tokens": 5}
print(json.dumps({"type": "result", "is_error": False, "result": "done", "usage": usage}))
"#;

/// A home on a bare remote with a protected settings.py, GitHub at the fake with the
/// dashboard on; one task that waits for a person and one that merges.
struct Board {
    home: TestHome,
    remote: PathBuf,
    github: FakeGithub,
}

impl Board {
    fn new() -> Self {
        let (home, remote) = common::home_with_tool(common::ToolHome {
            files: &[
                ("calc.py", "def add(a, b):\n    return a + b\n"),
                (
                    "test_calc.py",
                    "import unittest\n\nfrom calc import add\n\n\nclass Calc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n",
                ),
                ("settings.py", "DEBUG = False\n"),
            ],
            tool: TOOL,
            coder: "attempts: 1, timeout_minutes: 1",
            agents_tail: "budget: {daily_usd: 5.0}\n",
            policy: "auto_merge: low\nprotected_paths: [settings.py]\n",
        });
        let github = FakeGithub::start(&remote, "acme", "calc", TOKEN);
        let target = home.read("config/target.yaml");
        home.write(
            "config/target.yaml",
            &format!(
                "{target}github: {{owner: acme, repo: calc, api_url: \"{}\", token_env: {TOKEN_ENV}, dashboard: true}}\n",
                github.uri()
            ),
        );
        home.write("config/.env", &format!("{TOKEN_ENV}={TOKEN}\n"));
        home.add_task(1, "Turn on debug", "backlog", "files: [settings.py]\n");
        home.add_task(2, "Add triple", "backlog", "");
        let board = Self {
            home,
            remote,
            github,
        };
        board.run("work");
        assert_eq!(
            board.home.task("T-0001")["approval"],
            "pending",
            "{}",
            board
                .home
                .read(board.home.task("T-0001")["path"].as_str().unwrap())
        );
        assert_eq!(board.home.task("T-0002")["state"], "completed");
        board
    }

    fn run(&self, job: &str) -> String {
        let out = self.home.run(&["run", job]);
        assert!(
            out.status.success(),
            "{job}: {}\n{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    /// Open issues (not pull requests) carrying the marker.
    fn dashboards(&self) -> Vec<IssueView> {
        self.github
            .issues()
            .into_iter()
            .filter(|i| !i.is_pull_request && i.body.contains(MARKER))
            .collect()
    }

    /// The one dashboard dayshift keeps.
    fn the_dashboard(&self) -> IssueView {
        let bot = self.github.bot_login();
        let ours: Vec<_> = self
            .dashboards()
            .into_iter()
            .filter(|i| i.author == bot && i.state == "open")
            .collect();
        assert_eq!(ours.len(), 1, "exactly one dashboard: {ours:#?}");
        ours.into_iter().next().unwrap()
    }

    fn pr_of(&self, task: &str) -> u64 {
        let prs = self.github.prs();
        let pr = prs.iter().find(|p| p.title.contains(task));
        pr.unwrap_or_else(|| panic!("no PR for {task}: {prs:#?}"))
            .number
    }

    fn task_text(&self, id: &str) -> String {
        self.home.read(self.home.task(id)["path"].as_str().unwrap())
    }
}

#[test]
fn the_wrapup_keeps_one_dashboard_listing_what_waits_with_its_pr() {
    let board = Board::new();
    let said = board.run("wrapup");
    let dashboard = board.the_dashboard();
    assert!(said.contains("dashboard updated"), "{said}");
    assert_eq!(dashboard.title, "dayshift dashboard");
    assert_eq!(dashboard.labels, ["dayshift"]);
    let pr = board.pr_of("T-0001");
    let line = format!("- [ ] T-0001 Turn on debug — #{pr} — ");
    assert!(dashboard.body.contains(&line), "{line}\n{}", dashboard.body);
    assert!(
        dashboard.body.contains("settings.py"),
        "why: {}",
        dashboard.body
    );
    assert!(
        dashboard.body.contains("Today's spend") && dashboard.body.contains("daily cap $5.00"),
        "{}",
        dashboard.body
    );
    assert!(!dashboard.body.contains("T-0002"), "merged: not listed");
    assert!(!dashboard.body.contains(TOKEN));
    // the dashboard is no work for the morning, though it carries the label
    board.run("morning");
    assert_eq!(
        board.home.tasks_json().len(),
        2,
        "{:?}",
        board.home.tasks_json()
    );
    // a second wrap-up updates the same issue
    board.run("wrapup");
    let again = board.the_dashboard();
    assert_eq!(again.number, dashboard.number);
    assert_eq!(board.github.count("POST", "/issues"), 1, "one issue opened");
    assert!(
        board
            .github
            .count("PATCH", &format!("/issues/{}", dashboard.number))
            >= 1
    );
    assert!(again.body.contains(&line), "{}", again.body);
}

#[test]
fn a_tick_on_the_dashboard_approves_the_waiting_task_at_the_next_run() {
    let board = Board::new();
    board.run("wrapup");
    let dashboard = board.the_dashboard();
    let ticked = dashboard.body.replace("- [ ] T-0001", "- [x] T-0001");
    assert_ne!(ticked, dashboard.body);
    board.github.edit_body(dashboard.number, &ticked);
    // a wrap-up before the next work run keeps the tick
    board.run("wrapup");
    assert!(
        board.the_dashboard().body.contains("- [x] T-0001"),
        "{}",
        board.the_dashboard().body
    );
    board.run("work");
    let file = board.task_text("T-0001");
    assert_eq!(board.home.task("T-0001")["state"], "completed", "{file}");
    assert!(
        file.contains("approved by a person on the dashboard"),
        "{file}"
    );
    assert!(
        git(&board.remote, &["show", "main:settings.py"]).contains("DEBUG = True"),
        "merged through its PR"
    );
    assert!(board.github.prs().iter().all(|p| p.merged));
    // the next wrap-up lists nothing waiting
    board.run("wrapup");
    let body = board.the_dashboard().body;
    assert!(body.contains("Nothing waits for a person."), "{body}");
}

#[test]
fn a_dashboard_opened_by_someone_else_approves_nothing() {
    let board = Board::new();
    board.run("wrapup");
    let ours = board.the_dashboard();
    // someone closes dayshift's dashboard and opens a look-alike with the box ticked
    board.github.close(ours.number, "mallory");
    let forged = ours.body.replace("- [ ] T-0001", "- [x] T-0001");
    let theirs = board
        .github
        .issue_by("mallory", "dayshift dashboard", &forged, &["dayshift"]);
    board.run("work");
    assert_eq!(
        (
            board.home.task("T-0001")["state"].as_str(),
            board.home.task("T-0001")["approval"].as_str()
        ),
        (Some("in_review"), Some("pending")),
        "{}",
        board.task_text("T-0001")
    );
    // the wrap-up opens a new dashboard of its own and leaves the look-alike alone
    board.run("wrapup");
    let fresh = board.the_dashboard();
    assert!(fresh.number != ours.number && fresh.number != theirs);
    assert!(fresh.body.contains("- [ ] T-0001"), "{}", fresh.body);
    let look_alike = board.github.issues();
    let look_alike = look_alike.iter().find(|i| i.number == theirs).unwrap();
    assert_eq!(look_alike.body, forged);
}
