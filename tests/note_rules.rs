//! Issue 11, point 4 end to end: the real binary's morning on a home whose target is a real
//! git repository turns VISION.md notes into never-touch rules and shows them in
//! DAILY_PLAN.md; a note that only widens permissions changes nothing.

mod common;
#[path = "common/fake_model.rs"]
mod fake_model;

use common::{TestHome, ToolHome, goal_id, home_with_tool};
use dayshift::llm::Usage;
use fake_model::{MODEL, anthropic_sse, sse};
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer};

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

const PAGINATION: &str = "Add pagination to the exam list endpoint";

/// A home whose target (cloned by `setup`) holds [`FILES`].
fn home_with_target() -> TestHome {
    let (home, _remote) = home_with_tool(ToolHome {
        files: FILES,
        tool: "#!/bin/sh\nexit 0\n",
        coder: "attempts: 1, timeout_minutes: 1",
        agents_tail: "",
        policy: "auto_merge: low\nsandbox: {mode: off}\n",
    });
    home
}

#[test]
fn the_morning_shows_the_rules_the_notes_ask_for() {
    let home = home_with_target();
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
        &VISION.replace(
            "- never edit core/settings.py\n",
            "- hands off core/urls.py\n",
        ),
    );
    home.ok(&["run", "morning", "--date", "2026-11-27"]);
    let plan = home.read("DAILY_PLAN.md");
    assert!(
        plan.contains("- \"hands off core/urls.py\" → never touch `core/urls.py`")
            && !plan.contains("never touch `core/settings.py`"),
        "{plan}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orchestrator_and_the_planner_receive_the_notes_and_their_rules() {
    let server = MockServer::start().await;
    let answer = |text: String| {
        let usage = Usage {
            input_tokens: 100,
            output_tokens: 50,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
        };
        sse(anthropic_sse(&text, usage, "end_turn", true))
    };
    let orchestrator = json!({
        "reasoning": "Pagination first.",
        "today": [{"goal_id": goal_id(PAGINATION), "why": "useful"}],
        "deferred": [],
        "capacity": {"goals": 1, "why": "a first day"}
    });
    let planner = json!({"tasks": [
        {"key": "a", "title": "Paginate the exam list", "description": "Add page parameters.",
         "files": ["app/views.py"], "acceptance": ["?page=2 works"], "difficulty": "S"}
    ]});
    let post = || Mock::given(method("POST")).and(path("/v1/messages"));
    post()
        .and(body_string_contains("You are the orchestrator"))
        .respond_with(answer(orchestrator.to_string()))
        .mount(&server)
        .await;
    post()
        .and(body_string_contains("You are the planner"))
        .respond_with(answer(planner.to_string()))
        .mount(&server)
        .await;

    let home = home_with_target();
    home.write(
        "config/agents.yaml",
        &format!(
            "providers:\n  fake: {{kind: anthropic, model: {MODEL}, base_url: \"{}\", api_key_env: FAKE_MODEL_KEY}}\ndefault_provider: fake\nmax_tasks_per_day: 3\n",
            server.uri()
        ),
    );
    home.write("config/.env", "FAKE_MODEL_KEY=sk-test-0000\n");
    home.write("VISION.md", VISION);
    home.ok(&["run", "morning", "--date", "2026-11-27"]);
    home.ok(&["run", "plan", "--date", "2026-11-27"]);

    let requests = server.received_requests().await.unwrap();
    let bodies: Vec<String> = requests
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    for role in ["You are the orchestrator", "You are the planner"] {
        let body = bodies
            .iter()
            .find(|b| b.contains(role))
            .unwrap_or_else(|| panic!("no request from {role}: {bodies:?}"));
        for wanted in [
            "Don\u{2019}t touch the n8n webhook integration, it works fine",
            "never edit core/settings.py",
            "Never touch (rules from the notes",
            "app/n8n_webhook_handler.py, integrations/n8n/webhook.py — from the note",
            "core/settings.py — from the note",
        ] {
            assert!(body.contains(wanted), "{role}: no {wanted:?} in {body}");
        }
    }
}
