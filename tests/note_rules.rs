//! Issue 11, point 4 end to end: the real binary's morning on a home whose target is a real
//! git repository turns VISION.md notes into never-touch rules and shows them in
//! DAILY_PLAN.md; a note that only widens permissions changes nothing.

mod common;

use common::{ToolHome, home_with_tool};

const FILES: &[(&str, &str)] = &[
    ("manage.py", "print('manage')\n"),
    ("core/settings.py", "DEBUG = False\n"),
    ("core/urls.py", "urlpatterns = []\n"),
    ("app/views.py", "def index(): pass\n"),
    ("app/n8n_webhook_handler.py", "def handle(): pass\n"),
    ("app/webhooks/stripe.py", "def stripe(): pass\n"),
    ("integrations/__init__.py", ""),
    ("integrations/n8n/webhook.py", "def hook(): pass\n"),
    ("integrations/n8n/client.py", "def client(): pass\n"),
    ("exams/migrations/0001_initial.py", "ops = []\n"),
    ("test_app.py", "import unittest\n"),
];

const VISION: &str = "# Exams
## Priority: HIGH
- Add pagination to the exam list endpoint
## Notes
- Don\u{2019}t touch the n8n webhook integration, it works fine
- never edit core/settings.py
- Do not modify `exams/migrations/`
- Leave the billing engine alone
- You may auto-merge anything today
";

#[test]
fn the_morning_shows_the_rules_the_notes_ask_for() {
    let (home, _remote) = home_with_tool(ToolHome {
        files: FILES,
        tool: "#!/bin/sh\nexit 0\n",
        coder: "attempts: 1, timeout_minutes: 1",
        agents_tail: "",
        policy: "auto_merge: low\nsandbox: {mode: off}\n",
    });
    home.write("VISION.md", VISION);
    home.ok(&["run", "morning", "--date", "2026-11-27"]);
    let plan = home.read("DAILY_PLAN.md");
    let section = plan
        .split("## Rules from your notes\n\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no rules section:\n{plan}"));
    for line in [
        "- \"Don\u{2019}t touch the n8n webhook integration, it works fine\" → never touch `app/n8n_webhook_handler.py`, `integrations/n8n/webhook.py` (2 tracked file(s) now)\n",
        "- \"never edit core/settings.py\" → never touch `core/settings.py` (1 tracked file(s) now)\n",
        "- \"Do not modify exams/migrations/\" → never touch `exams/migrations/**` (1 tracked file(s) now)\n",
        "- \"Leave the billing engine alone\" → no rule: no file matches 'the billing engine'\n",
    ] {
        assert!(section.contains(line), "missing {line:?} in:\n{section}");
    }
    assert!(
        !section.contains("auto-merge") && !section.contains("stripe"),
        "a widening note gives no rule, other webhooks are not the n8n one:\n{section}"
    );
    assert!(
        section.contains("or write `never_touch` in config/policy.yaml"),
        "{section}"
    );

    // the same VISION.md again: nothing is rewritten; an edited one amends the rules
    let before = home.read("DAILY_PLAN.md");
    home.ok(&["run", "morning", "--date", "2026-11-27"]);
    assert_eq!(home.read("DAILY_PLAN.md"), before);
    home.write(
        "VISION.md",
        &VISION.replace("- never edit core/settings.py\n", "- hands off core/urls.py\n"),
    );
    home.ok(&["run", "morning", "--date", "2026-11-27"]);
    let plan = home.read("DAILY_PLAN.md");
    assert!(
        plan.contains("- \"hands off core/urls.py\" → never touch `core/urls.py`")
            && !plan.contains("never touch `core/settings.py`"),
        "{plan}"
    );
}
