//! Issue #3 end to end: the real binary plans a day with a model behind a fake server over
//! real HTTP on 127.0.0.1 — both protocols — and handles faults, replay, the budget cap and
//! secrets.

mod common;
#[path = "common/fake_model.rs"]
mod fake_model;

use std::path::Path;

use common::{TestHome, goal_id, mask_timestamps, stderr, stdout};
use dayshift::llm::Usage;
use fake_model::{MODEL, anthropic_sse, openai_sse, sse};
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const D1: &str = "2026-11-21";
const CANARY: &str = "sk-canary-7f3a9c1e5b2d";
const CSRF: &str = "Fix the CSRF_TRUSTED_ORIGINS string concatenation bug in core/settings.py";
const GUNICORN: &str = "Add Gunicorn as WSGI server in Docker";
const PAGINATION: &str = "Add pagination to the exam list endpoint";
const REDIS: &str = "Should we add Redis for caching exam sessions?";
const NOTE: &str = "Don't touch the n8n webhook integration, it works fine";

#[derive(Clone, Copy, Debug)]
enum Protocol {
    Anthropic,
    OpenAi,
}

/// What identifies the planner's request about a goal.
fn planner_marker(goal_text: &str) -> String {
    format!("Goal {} (", goal_id(goal_text))
}

/// The planner request about a goal.
fn planner_request<'a>(bodies: &'a [String], goal_text: &str) -> &'a String {
    bodies
        .iter()
        .find(|b| b.contains(&planner_marker(goal_text)))
        .expect("a planner request for the goal")
}

fn orchestrator_answer() -> String {
    json!({
        "reasoning": "The CSRF bug breaks logins, so it goes first; pagination is small and unblocks the exam list.",
        "today": [{"goal_id": goal_id(CSRF), "why": "logins fail"}, {"goal_id": goal_id(PAGINATION), "why": "small and useful"}],
        "deferred": [{"goal_id": goal_id(GUNICORN), "why": "waits for the Docker rework"}, {"goal_id": goal_id(REDIS), "why": "later"}],
        "capacity": {"goals": 2, "why": "a first day"}
    })
    .to_string()
}

fn planner_answer_csrf() -> String {
    json!({"tasks": [
        {"key": "a", "title": "Write a failing test for two trusted origins", "kind": "test",
         "description": "Settings with two origins must load as a list.", "files": ["core/tests/test_settings.py"],
         "acceptance": ["the new test fails on main"], "difficulty": "S", "depends_on": []},
        {"key": "b", "title": "Split CSRF_TRUSTED_ORIGINS into a list", "kind": "code",
         "description": "Parse the env var by commas.", "files": ["core/settings.py"],
         "acceptance": ["the new test passes"], "difficulty": "S", "depends_on": ["a"]}
    ]})
    .to_string()
}

fn planner_answer_pagination() -> String {
    json!({"tasks": [
        {"key": "a", "title": "Paginate the exam list endpoint", "description": "Add page and size parameters.",
         "files": ["exams/views.py"], "acceptance": ["?page=2 returns the second page"], "difficulty": "M"}
    ]})
    .to_string()
}

fn answer(protocol: Protocol, text: &str) -> ResponseTemplate {
    let usage = Usage {
        input_tokens: 1200,
        output_tokens: 300,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
    };
    match protocol {
        Protocol::Anthropic => sse(anthropic_sse(text, usage, "end_turn", true)),
        Protocol::OpenAi => sse(openai_sse(text, usage, "stop", true)),
    }
}

fn api_path(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Anthropic => "/v1/messages",
        Protocol::OpenAi => "/v1/chat/completions",
    }
}

/// A fake model that plays orchestrator and planner.
async fn fake_model(protocol: Protocol) -> MockServer {
    let server = MockServer::start().await;
    let post = || Mock::given(method("POST")).and(path(api_path(protocol)));
    post()
        .and(body_string_contains("You are the orchestrator"))
        .respond_with(answer(protocol, &orchestrator_answer()))
        .mount(&server)
        .await;
    post()
        .and(body_string_contains(planner_marker(CSRF)))
        .respond_with(answer(protocol, &planner_answer_csrf()))
        .mount(&server)
        .await;
    post()
        .and(body_string_contains(format!(
            "Goal {} (",
            goal_id(PAGINATION)
        )))
        .respond_with(answer(protocol, &planner_answer_pagination()))
        .mount(&server)
        .await;
    server
}

/// A fresh home whose every agent uses the fake model at `uri`, with a $5 daily cap.
fn home_using(protocol: Protocol, uri: &str) -> TestHome {
    let home = TestHome::new();
    configure(&home, protocol, uri, "{daily_usd: 5.0}");
    home
}

fn configure(home: &TestHome, protocol: Protocol, uri: &str, budget: &str) {
    configure_with(home, protocol, uri, budget, "");
}

/// `extra` goes inside the provider's map, e.g. `, timeouts: {idle: 0.3}`.
fn configure_with(home: &TestHome, protocol: Protocol, uri: &str, budget: &str, extra: &str) {
    let (kind, base) = match protocol {
        Protocol::Anthropic => ("anthropic", uri.to_string()),
        Protocol::OpenAi => ("openai", format!("{uri}/v1")),
    };
    home.write(
        "config/agents.yaml",
        &format!(
            "providers:\n  fake: {{kind: {kind}, model: {MODEL}, base_url: \"{base}\", api_key_env: FAKE_MODEL_KEY{extra}}}\ndefault_provider: fake\nbudget: {budget}\nprices:\n  {MODEL}: {{input: 3.0, output: 15.0}}\nmax_tasks_per_day: 3\n"
        ),
    );
    home.write("config/.env", &format!("FAKE_MODEL_KEY={CANARY}\n"));
}

fn bodies(requests: &[wiremock::Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

/// Every byte of every file under `dir` (state.db and logs included) as text.
fn all_bytes(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else {
            out.push((
                p.display().to_string(),
                String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()).into_owned(),
            ));
        }
    }
    out
}

async fn day_with_a_model(protocol: Protocol) {
    let server = fake_model(protocol).await;
    let home = home_using(protocol, &server.uri());
    clone_a_target(&home);
    let out = home.ok(&["day", "--date", D1]);

    let plan = home.read("DAILY_PLAN.md");
    assert!(
        plan.contains("## Reasoning (orchestrator)\n\nThe CSRF bug breaks logins"),
        "{plan}"
    );
    let today = today_section(&plan);
    let csrf_at = today.find("CSRF_TRUSTED_ORIGINS").expect("CSRF is today");
    let pagination_at = today.find("Add pagination").expect("pagination is today");
    assert!(csrf_at < pagination_at, "in the model's order: {today}");
    assert!(
        !today.contains("Gunicorn"),
        "Gunicorn was deferred: {today}"
    );
    assert!(
        plan.split("## Deferred")
            .nth(1)
            .unwrap()
            .contains("waits for the Docker rework"),
        "{plan}"
    );

    let tasks = home.tasks_json();
    let titles: Vec<&str> = tasks.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "Write a failing test for two trusted origins",
            "Split CSRF_TRUSTED_ORIGINS into a list",
            "Paginate the exam list endpoint"
        ],
        "tasks come from the planner's answers"
    );
    assert_eq!(
        tasks[1]["depends_on"],
        json!([tasks[0]["id"]]),
        "dependencies map to the new ids"
    );
    assert_eq!(tasks[0]["kind"], "test");
    let file = home.read(tasks[1]["path"].as_str().unwrap());
    assert!(
        file.contains("files: [\"core/settings.py\"]") && file.contains("plan_key: \"b\""),
        "{file}"
    );

    let requests = server.received_requests().await.unwrap();
    let bodies = bodies(&requests);
    let orchestrator = bodies
        .iter()
        .find(|b| b.contains("You are the orchestrator"))
        .unwrap();
    for goal in [CSRF, GUNICORN, PAGINATION, REDIS] {
        assert!(
            orchestrator.contains(goal),
            "the orchestrator sees the goal {goal}"
        );
    }
    assert!(
        orchestrator.contains(NOTE),
        "the orchestrator sees the notes"
    );
    assert!(
        orchestrator.contains(&format!("new (critical) {}", goal_id(CSRF))),
        "the orchestrator sees the diff"
    );
    let planner = planner_request(&bodies, CSRF);
    assert!(
        planner.contains("n8n webhook"),
        "the planner sees the notes"
    );
    assert!(
        planner.contains("exams/views.py"),
        "the planner sees the target's file tree"
    );
    assert!(
        planner.contains("core/settings.py:2:CSRF_TRUSTED_ORIGINS"),
        "and a text search in it: {planner}"
    );
    let second = planner_request(&bodies, PAGINATION);
    assert!(
        second.contains("Split CSRF_TRUSTED_ORIGINS into a list"),
        "the planner sees the open tasks"
    );
    let auth = match protocol {
        Protocol::Anthropic => requests[0]
            .headers
            .get("x-api-key")
            .map(|v| v.to_str().unwrap().to_string()),
        Protocol::OpenAi => requests[0]
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string()),
    };
    assert!(
        auth.unwrap_or_default().ends_with(CANARY),
        "the key is sent to the API"
    );
    assert_eq!(requests.len(), 3, "one orchestrator and two planner calls");

    let budget: serde_json::Value =
        serde_json::from_slice(&home.ok(&["budget", "--json", "--days", "400"]).stdout).unwrap();
    let agents: Vec<&str> = budget["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["agent"].as_str().unwrap())
        .collect();
    assert!(
        agents.contains(&"orchestrator") && agents.contains(&"planner"),
        "{budget}"
    );

    let env_file = home.path("config/.env").display().to_string();
    for (file, text) in all_bytes(&home.root)
        .into_iter()
        .filter(|(f, _)| *f != env_file)
    {
        assert!(!text.contains(CANARY), "the key leaked into {file}");
    }
    assert!(!stdout(&out).contains(CANARY) && !stderr(&out).contains(CANARY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_with_an_anthropic_model_comes_from_its_answers() {
    day_with_a_model(Protocol::Anthropic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_with_an_openai_compatible_model_comes_from_its_answers() {
    day_with_a_model(Protocol::OpenAi).await;
}

/// A small target in workspace/target, as `dayshift setup` leaves it.
fn clone_a_target(home: &TestHome) {
    let target = home.path("workspace/target");
    std::fs::create_dir_all(target.join("core")).unwrap();
    std::fs::create_dir_all(target.join("exams")).unwrap();
    std::fs::write(
        target.join("core/settings.py"),
        "import os\nCSRF_TRUSTED_ORIGINS = os.environ['A'] + os.environ['B']\n",
    )
    .unwrap();
    std::fs::write(
        target.join("exams/views.py"),
        "def exam_list(request):\n    return []\n",
    )
    .unwrap();
    common::git(&target, &["init", "-q"]);
    common::git(&target, &["add", "."]);
    common::git(&target, &["commit", "-q", "-m", "init"]);
}

/// Nothing of the morning is written: no plan, no snapshot.
fn assert_no_plan(home: &TestHome) {
    assert!(
        !home.path("DAILY_PLAN.md").exists(),
        "a partial plan was written"
    );
    assert!(
        !home
            .path(&format!(".dayshift/snapshots/{D1}.json"))
            .exists()
    );
    assert!(home.task_files("backlog").is_empty());
}

fn last_run_error(home: &TestHome) -> String {
    let db = rusqlite::Connection::open(home.path(".dayshift/state.db")).unwrap();
    db.query_row(
        "SELECT outcome || ': ' || COALESCE(error, '') FROM runs ORDER BY id DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_fails_clearly_and_writes_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})))
        .expect(1)
        .mount(&server)
        .await;
    let home = home_using(Protocol::Anthropic, &server.uri());
    let out = home.run(&["run", "morning", "--date", D1]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("FAKE_MODEL_KEY"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(CANARY));
    assert!(
        last_run_error(&home).starts_with("failed: fake: the API key was refused"),
        "{}",
        last_run_error(&home)
    );
    assert_no_plan(&home);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_unusable_twice_fails_with_the_reason_and_writes_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer(Protocol::OpenAi, "{\"reasoning\": \"x\", \"today\": [{\"goal_id\": \"g-000000\", \"why\": \"?\"}], \"capacity\": {\"goals\": 1, \"why\": \"?\"}}"))
        .expect(2)
        .mount(&server)
        .await;
    let home = home_using(Protocol::OpenAi, &server.uri());
    let out = home.run(&["run", "morning", "--date", D1]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unusable twice") && stderr(&out).contains("g-000000"),
        "{}",
        stderr(&out)
    );
    assert!(
        last_run_error(&home).contains("not one of the open goals"),
        "{}",
        last_run_error(&home)
    );
    assert_no_plan(&home);
    let second = bodies(&server.received_requests().await.unwrap())[1].clone();
    assert!(
        second.contains("could not be used"),
        "the reason went back to the model"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_is_waited_out_and_the_plan_written() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("You are the orchestrator"))
        .respond_with(answer(Protocol::Anthropic, &orchestrator_answer()))
        .mount(&server)
        .await;
    let home = home_using(Protocol::Anthropic, &server.uri());
    let started = std::time::Instant::now();
    home.ok(&["run", "morning", "--date", D1]);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert!(
        home.read("DAILY_PLAN.md")
            .contains("## Reasoning (orchestrator)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_day_replays_the_same_with_no_network() {
    let server = fake_model(Protocol::Anthropic).await;
    let recorded = home_using(Protocol::Anthropic, &server.uri());
    let cassette = recorded.root.parent().unwrap().join("day.jsonl");
    recorded.ok(&["day", "--date", D1, "--record", cassette.to_str().unwrap()]);
    drop(server);

    let replayed = TestHome::new();
    std::fs::copy(&cassette, replayed.path("config/day.jsonl")).unwrap();
    replayed.write(
        "config/agents.yaml",
        // the same settings as the recorded day (the budget line is part of the prompt)
        &format!(
            "providers:\n  tape: {{kind: replay, cassette: config/day.jsonl, model: {MODEL}}}\ndefault_provider: tape\nbudget: {{daily_usd: 5.0}}\nprices:\n  {MODEL}: {{input: 3.0, output: 15.0}}\nmax_tasks_per_day: 3\n"
        ),
    );
    replayed.ok(&["day", "--date", D1]);
    assert_eq!(
        mask_timestamps(&recorded.read("DAILY_PLAN.md")),
        mask_timestamps(&replayed.read("DAILY_PLAN.md"))
    );
    assert_eq!(
        recorded.task_files("backlog"),
        replayed.task_files("backlog")
    );
    for name in recorded.task_files("backlog") {
        let rel = format!("tasks/backlog/{name}");
        assert_eq!(
            mask_timestamps(&recorded.read(&rel)),
            mask_timestamps(&replayed.read(&rel)),
            "{rel}"
        );
    }
    assert!(
        !std::fs::read_to_string(&cassette).unwrap().contains(CANARY),
        "the key is not in the cassette"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_budget_cap_the_day_stops_and_the_report_says_why() {
    let server = fake_model(Protocol::Anthropic).await;
    let home = TestHome::new();
    configure(
        &home,
        Protocol::Anthropic,
        &server.uri(),
        "{daily_usd: 0.001}",
    );
    let out = home.run(&["day", "--date", D1]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("budget"), "{}", stderr(&out));
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "no call starts that could cross the cap"
    );
    let report = home.read(&format!("reports/daily/{D1}.md"));
    assert!(
        report.contains("## Stopped early") && report.contains("morning: budget:"),
        "{report}"
    );
    assert_no_plan(&home);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_twice_then_an_answer_is_a_plan() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("You are the orchestrator"))
        .respond_with(answer(Protocol::OpenAi, &orchestrator_answer()))
        .mount(&server)
        .await;
    let home = home_using(Protocol::OpenAi, &server.uri());
    home.ok(&["run", "morning", "--date", D1]);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    assert!(
        home.read("DAILY_PLAN.md")
            .contains("## Reasoning (orchestrator)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_is_always_cut_short_fails_clearly_and_writes_nothing() {
    let server = MockServer::start().await;
    let usage = Usage {
        input_tokens: 10,
        output_tokens: 5,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
    };
    Mock::given(method("POST"))
        .respond_with(sse(anthropic_sse(
            &orchestrator_answer(),
            usage,
            "end_turn",
            false,
        )))
        .mount(&server)
        .await;
    let home = home_using(Protocol::Anthropic, &server.uri());
    let out = home.run(&["run", "morning", "--date", D1]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cut off"), "{}", stderr(&out));
    assert!(
        last_run_error(&home).contains("cut off"),
        "{}",
        last_run_error(&home)
    );
    assert_no_plan(&home);
    let usage: i64 = rusqlite::Connection::open(home.path(".dayshift/state.db"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM usage", [], |r| r.get(0))
        .unwrap();
    assert_eq!(usage, 0, "a cut answer is never used or billed as one");
}

#[test]
fn a_server_that_never_answers_times_out_and_writes_nothing() {
    // accept every connection and hold it open without a byte
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(16).flatten() {
            held.push(stream);
        }
    });
    let home = TestHome::new();
    configure_with(
        &home,
        Protocol::Anthropic,
        &uri,
        "{daily_usd: 5.0}",
        ", timeouts: {connect: 2, idle: 0.3, overall: 3}",
    );
    let out = home.run(&["run", "morning", "--date", D1]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("timed out"), "{}", stderr(&out));
    assert!(
        last_run_error(&home).starts_with("failed: fake:"),
        "{}",
        last_run_error(&home)
    );
    assert_no_plan(&home);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_cut_short_resumes_without_asking_again_or_duplicating() {
    let server = fake_model(Protocol::Anthropic).await;
    // the first planner call for the second goal fails (a refusal, not retried)
    Mock::given(method("POST"))
        .and(body_string_contains(format!(
            "Goal {} (",
            goal_id(PAGINATION)
        )))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"error": {"message": "bad request"}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let home = home_using(Protocol::Anthropic, &server.uri());
    let out = home.run(&["day", "--date", D1]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the second goal's planner call failed"
    );
    assert_eq!(
        home.task_files("backlog").len(),
        2,
        "the first goal's tasks are whole"
    );

    home.ok(&["day", "--date", D1]);
    let tasks = home.tasks_json();
    assert_eq!(tasks.len(), 3, "nothing duplicated: {tasks:#?}");
    let bodies = bodies(&server.received_requests().await.unwrap());
    let csrf_calls = bodies
        .iter()
        .filter(|b| b.contains(&planner_marker(CSRF)))
        .count();
    assert_eq!(
        csrf_calls, 1,
        "the saved answer was used, the model not asked again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_day_on_one_date_asks_nothing_and_an_edited_vision_asks_only_about_the_new_goal() {
    const HEALTH: &str = "Add a health check endpoint for the load balancer";
    let server = fake_model(Protocol::Anthropic).await;
    let home = home_using(Protocol::Anthropic, &server.uri());
    clone_a_target(&home);
    home.ok(&["day", "--date", D1]);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    let plan = home.read("DAILY_PLAN.md");
    let tasks = home.tasks_json();

    let out = home.ok(&["day", "--date", D1]);
    assert!(
        stderr(&out).contains(
            "morning already ran for 2026-11-21 and VISION.md has not changed; nothing to do"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        3,
        "neither the orchestrator nor the planner is asked again"
    );
    assert_eq!(home.read("DAILY_PLAN.md"), plan, "byte for byte");
    assert_eq!(home.tasks_json(), tasks);

    Mock::given(method("POST"))
        .and(body_string_contains(planner_marker(HEALTH)))
        .respond_with(answer(
            Protocol::Anthropic,
            &json!({"tasks": [
                {"key": "a", "title": "Serve /health", "kind": "code",
                 "description": "Answer 200 on /health.", "files": ["exams/views.py"],
                 "acceptance": ["GET /health answers 200"], "difficulty": "S", "depends_on": []}
            ]})
            .to_string(),
        ))
        .mount(&server)
        .await;
    let vision = home.read("VISION.md");
    home.write(
        "VISION.md",
        &vision.replace(
            "## Priority: HIGH\n",
            &format!("## Priority: HIGH\n- {HEALTH}\n"),
        ),
    );
    home.ok(&["day", "--date", D1]);
    let bodies = bodies(&server.received_requests().await.unwrap());
    assert_eq!(bodies.len(), 4, "one planner request, for the new goal");
    assert!(bodies[3].contains(&planner_marker(HEALTH)));
    let plan = home.read("DAILY_PLAN.md");
    let today = today_section(&plan);
    let at = |text: &str| {
        today
            .find(text)
            .unwrap_or_else(|| panic!("{text} today: {plan}"))
    };
    assert!(
        at("CSRF_TRUSTED_ORIGINS") < at("Add pagination") && at("Add pagination") < at(HEALTH),
        "the model's choice kept, in its order, the new goal appended: {today}"
    );
    assert!(plan.contains("## Reasoning (orchestrator)"), "{plan}");
    let titles: Vec<String> = home
        .tasks_json()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(titles.len(), 4, "{titles:?}");
    assert!(titles.iter().any(|t| t == "Serve /health"), "{titles:?}");
}

/// DAILY_PLAN.md's "Today" section.
fn today_section(plan: &str) -> &str {
    plan.split("## Today")
        .nth(1)
        .expect("a Today section")
        .split("\n## ")
        .next()
        .unwrap_or("")
}
