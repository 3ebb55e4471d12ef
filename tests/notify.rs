//! Notifications end to end: the real binary on a temp home, a fake Discord webhook over
//! real HTTP on 127.0.0.1 that enforces Discord's limits and mention rules, and a fake JSON
//! webhook. What needs a person reaches both, escaped and pinging no one; Discord down all
//! day loses nothing and gets everything in order once back; a kill between the send and
//! the mark sends one duplicate at most; canaries (the webhook URL's token, a key) are in
//! no log, report, audit, store or payload.

mod common;

use std::time::{Duration, Instant};

use common::fake_discord::FakeDiscord;
use common::{TestHome, stdout};
use serde_json::Value;

const CANARY_KEY: &str = "sk-canary-key-8d3b7f0a61c2";
const WEBHOOK_TOKEN: &str = "CANARY-webhook-token-5f1e";

/// A coding tool: "Protect" edits calc.py (a protected path: waits for a person);
/// "Crash" prints a 10,000-character reason with mentions and the key, and fails.
const TOOL: &str = r#"#!/usr/bin/env python3
import json, os, pathlib, sys
prompt = sys.stdin.read()
if "Crash" in prompt:
    print("@everyone <@123> look: " + os.environ.get("CANARY_API_KEY", "") + " " + "reason " * 1500, file=sys.stderr)
    sys.exit(3)
calc = pathlib.Path("calc.py")
calc.write_text(calc.read_text().replace("return a - b", "return a + b"))
print(json.dumps({"type": "result", "is_error": False, "result": "edited calc.py",
                  "usage": {"input_tokens": 100, "output_tokens": 20}}))
"#;

const CALC: &str = "def add(a, b):\n    return a - b\n";
const TESTS: &str = "import unittest\n\nfrom calc import add\n\n\nclass Calc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n\nif __name__ == '__main__':\n    unittest.main()\n";

/// A set-up home whose channels are the fake Discord (with a role to mention on urgent
/// notices) and, when given, a JSON webhook.
fn home(discord: &FakeDiscord, webhook: Option<&str>) -> TestHome {
    let (home, _remote) = common::home_with_tool(common::ToolHome {
        files: &[("calc.py", CALC), ("test_calc.py", TESTS)],
        tool: TOOL,
        coder: "attempts: 1, timeout_minutes: 1, env: [CANARY_API_KEY]",
        agents_tail: "",
        policy: "auto_merge: low\nprotected_paths: [\"calc.py\"]\n",
    });
    let mut notify = "discord: {webhook_env: DISCORD_WEBHOOK_URL, username: dayshift, events: [morning, nightly, needs_person, budget, stopped, daemon], mention: \"<@&42>\"}\n".to_string();
    let mut env = format!(
        "DISCORD_WEBHOOK_URL={}\nCANARY_API_KEY={CANARY_KEY}\n",
        discord.url()
    );
    if let Some(url) = webhook {
        notify.push_str("webhook: {url_env: OPS_WEBHOOK_URL, events: [needs_person]}\n");
        env.push_str(&format!("OPS_WEBHOOK_URL={url}\n"));
    }
    home.write("config/notify.yaml", &notify);
    home.write("config/.env", &env);
    home
}

/// Every text of the messages Discord accepted, joined.
fn texts(discord: &FakeDiscord) -> String {
    discord
        .accepted()
        .iter()
        .map(|a| a.payload.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first embed's title of each accepted message, in order.
fn titles(discord: &FakeDiscord) -> Vec<String> {
    discord
        .accepted()
        .iter()
        .map(|a| {
            a.payload["embeds"][0]["title"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

fn outbox(home: &TestHome) -> Vec<Value> {
    let out = home.ok(&["notify", "list", "--limit", "200", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A fake JSON webhook that records what it is sent.
struct JsonHook {
    server: wiremock::MockServer,
    runtime: tokio::runtime::Runtime,
}

impl JsonHook {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(async {
            let server = wiremock::MockServer::start().await;
            wiremock::Mock::given(wiremock::matchers::method("POST"))
                .respond_with(wiremock::ResponseTemplate::new(200))
                .mount(&server)
                .await;
            server
        });
        Self { server, runtime }
    }

    fn url(&self) -> String {
        format!("{}/hooks/ops-canary-path", self.server.uri())
    }

    fn bodies(&self) -> Vec<Value> {
        let requests = self
            .runtime
            .block_on(self.server.received_requests())
            .unwrap_or_default();
        requests
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    }
}

#[test]
fn what_needs_a_person_reaches_discord_and_the_webhook_escaped_and_pinging_nobody() {
    let discord = FakeDiscord::start();
    let hook = JsonHook::start();
    let home = home(&discord, Some(&hook.url()));
    home.add_task(1, "Protect calc", "backlog", "");
    home.add_task(2, "Crash loudly", "backlog", "");
    home.ok(&["run", "work"]);

    let titles = titles(&discord);
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("T-0001 waits for a person")),
        "{titles:?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("T-0002 failed after its last attempt")),
        "{titles:?}"
    );
    for accepted in discord.accepted() {
        assert!(accepted.pings.is_empty(), "pinged: {:?}", accepted.pings);
    }
    let all = texts(&discord);
    assert!(
        !all.contains("@everyone") && !all.contains("<@123>"),
        "a mention is live"
    );
    assert!(
        all.contains("protected path"),
        "the reason it waits is said"
    );

    let bodies = hook.bodies();
    let kinds: Vec<&str> = bodies.iter().map(|b| b["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["needs_person", "needs_person"], "{bodies:?}");
    assert_eq!(bodies[0]["task"], "T-0001");
    assert!(bodies.iter().all(|b| b["text"].as_str().is_some()));

    // canaries: the key the tool printed and the webhook's token are nowhere
    let hook_text = bodies
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    for canary in [CANARY_KEY, WEBHOOK_TOKEN, "ops-canary-path"] {
        assert!(
            !all.contains(canary) && !hook_text.contains(canary),
            "{canary} sent"
        );
        for (path, text) in readable_files(&home) {
            assert!(!text.contains(canary), "{canary} in {path}");
        }
    }
    assert!(
        outbox(&home).iter().all(|r| r["state"] == "sent"),
        "{:?}",
        outbox(&home)
    );
}

/// Every file of the home a person or a tool could read, but the secrets file itself;
/// the store's bytes included.
fn readable_files(home: &TestHome) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![home.root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(&home.root).unwrap().display().to_string();
            if rel == "config/.env" || rel.starts_with("workspace") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                found.push((rel, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    found
}

#[test]
fn discord_down_all_day_loses_nothing_and_gets_everything_in_order_once_back() {
    let discord = FakeDiscord::start();
    discord.down(100_000);
    let home = home(&discord, None);
    let out = home.run(&["notify", "test"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("sent later"), "{}", stdout(&out));
    home.add_task(1, "Protect calc", "backlog", "");
    home.add_task(2, "Crash loudly", "backlog", "");
    home.ok(&["run", "work"]);
    assert!(discord.accepted().is_empty());
    let waiting = outbox(&home);
    assert!(waiting.len() >= 3, "{waiting:?}");
    assert!(
        waiting.iter().all(|r| r["state"] == "pending"),
        "{waiting:?}"
    );
    let list = stdout(&home.ok(&["notify", "list"]));
    assert!(list.contains("wait"), "{list}");

    discord.down(0);
    home.ok(&["notify", "test"]);
    let titles = titles(&discord);
    assert_eq!(
        titles.len(),
        waiting.len() + 1,
        "each waiting message once, then the new test: {titles:?}"
    );
    let expected: Vec<String> = waiting
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        titles[..expected.len()],
        expected[..],
        "in the order written"
    );
    assert!(titles[0].contains("can reach this channel"));
    assert!(outbox(&home).iter().all(|r| r["state"] == "sent"));
}

#[test]
fn a_kill_between_the_send_and_the_mark_sends_one_duplicate_at_most() {
    let discord = FakeDiscord::start();
    let home = home(&discord, None);
    // Discord saves the message, then answers late: the sender is killed while it waits
    discord.slow(1, Duration::from_secs(30));
    let mut child = home.spawn(&["notify", "test"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while discord.accepted().is_empty() {
        assert!(Instant::now() < deadline, "the test message never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let claimed = outbox(&home);
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0]["state"], "sending", "killed before the mark");

    home.ok(&["notify", "test"]);
    let titles = titles(&discord);
    assert_eq!(
        titles.len(),
        3,
        "the interrupted message again, then the new one: {titles:?}"
    );
    home.ok(&["notify", "test"]);
    assert_eq!(
        discord.accepted().len(),
        4,
        "what Discord confirmed and was marked is never sent again"
    );
    assert!(outbox(&home).iter().all(|r| r["state"] == "sent"));
}

#[test]
fn a_429_is_waited_out_and_the_message_sent_once() {
    let discord = FakeDiscord::start();
    let home = home(&discord, None);
    discord.rate_limit(1, 0.3);
    let out = home.ok(&["notify", "test"]);
    assert!(
        stdout(&out).contains("discord: the test message was sent"),
        "{}",
        stdout(&out)
    );
    assert_eq!(discord.statuses(), [429, 200]);
    assert_eq!(discord.accepted().len(), 1);
}

#[test]
fn doctor_checks_each_channel_without_posting_or_showing_the_url() {
    let discord = FakeDiscord::start();
    let home = home(&discord, None);
    let out = home.run(&["doctor", "--offline", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let line = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "notifications")
        .unwrap()
        .clone();
    assert_eq!(line["problems"], serde_json::json!([]), "{line}");
    assert!(
        line["detail"]
            .as_str()
            .unwrap()
            .contains("discord ($DISCORD_WEBHOOK_URL)")
    );
    assert!(discord.statuses().is_empty(), "doctor posts nothing");

    home.write(
        "config/.env",
        "DISCORD_WEBHOOK_URL=https://discord.com/channels/1/CANARY-webhook-token-5f1e\n",
    );
    let out = home.run(&["doctor", "--offline"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("is not a Discord webhook URL"), "{text}");
    assert!(!text.contains(WEBHOOK_TOKEN), "{text}");

    home.write("config/.env", "");
    let text = stdout(&home.run(&["doctor", "--offline"]));
    assert!(text.contains("$DISCORD_WEBHOOK_URL is not set"), "{text}");
}

#[test]
fn quiet_hours_hold_what_is_not_urgent_and_the_age_limit_drops_what_never_went() {
    use dayshift::config::Config;
    use dayshift::home::Home;
    use dayshift::notify::{Notice, NoticeKind, Patience, outbox};
    use dayshift::store::Store;

    let discord = FakeDiscord::start();
    let home = TestHome::new();
    home.write(
        "config/notify.yaml",
        "discord: {events: [needs_person, stopped]}\nquiet_hours: \"22:00-07:00\"\nmax_age_hours: 48\n",
    );
    home.write(
        "config/.env",
        &format!(
            "DISCORD_WEBHOOK_URL={}\nCANARY_API_KEY={CANARY_KEY}\n",
            discord.url()
        ),
    );
    let dir = Home::open(&home.root).unwrap();
    let config = Config::load(&dir).unwrap();
    let store = Store::open(&dir.db_path()).unwrap();
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    // a secret in a notice's text (from wherever) is redacted before it is stored or sent
    let notice = |title: &str, kind, urgent, when: &str| Notice {
        kind,
        title: title.into(),
        summary: format!("the tool said {CANARY_KEY}"),
        fields: vec![],
        link: None,
        task: None,
        urgent,
        at: at(when),
    };
    let out = [
        notice(
            "too old",
            NoticeKind::NeedsPerson,
            false,
            "2026-12-01T12:00:00+00:00",
        ),
        notice(
            "waits for a person",
            NoticeKind::NeedsPerson,
            false,
            "2026-12-06T23:00:00+00:00",
        ),
        notice(
            "the loop stopped",
            NoticeKind::Stopped,
            true,
            "2026-12-06T23:05:00+00:00",
        ),
        notice(
            "not wanted here",
            NoticeKind::Budget,
            false,
            "2026-12-06T23:06:00+00:00",
        ),
    ];
    let out: Vec<_> = out.into_iter().map(Into::into).collect();
    assert_eq!(outbox::enqueue(&config, &store, &out, None).unwrap(), 3);

    let night = at("2026-12-06T23:30:00+00:00");
    let done = outbox::flush(&dir, &config, &store, night, Patience::Brief).unwrap();
    let names = |rows: &[dayshift::store::OutboxRow]| -> Vec<String> {
        rows.iter().map(|r| r.title.clone()).collect()
    };
    assert_eq!(names(&done.dropped), ["too old"], "older than 48 h");
    assert_eq!(
        names(&done.sent),
        ["the loop stopped"],
        "urgent goes at night"
    );
    assert_eq!((done.waiting, done.quiet), (1, 1));

    let morning = at("2026-12-07T07:00:00+00:00");
    let done = outbox::flush(&dir, &config, &store, morning, Patience::Brief).unwrap();
    assert_eq!(names(&done.sent), ["waits for a person"]);
    let sent: Vec<String> = titles(&discord);
    assert_eq!(sent, ["the loop stopped", "waits for a person"]);
    let all = texts(&discord);
    assert!(
        !all.contains(CANARY_KEY) && all.contains("[redacted:CANARY_API_KEY]"),
        "{all}"
    );
    let stored: Vec<String> = store
        .outbox_recent(10)
        .unwrap()
        .into_iter()
        .map(|r| r.payload)
        .collect();
    assert!(stored.iter().all(|p| !p.contains(CANARY_KEY)), "{stored:?}");
}

/// The first embed's title and who each accepted message pinged, in order.
fn titles_and_pings(discord: &FakeDiscord) -> Vec<(String, Vec<String>)> {
    discord
        .accepted()
        .iter()
        .map(|a| {
            let title = a.payload["embeds"][0]["title"]
                .as_str()
                .unwrap_or("")
                .to_string();
            (title, a.pings.clone())
        })
        .collect()
}

#[test]
fn the_budget_and_a_stopped_loop_are_told_once_a_day_and_only_the_urgent_one_pings() {
    let discord = FakeDiscord::start();
    let home = home(&discord, None);
    let agents = home.read("config/agents.yaml");
    home.write(
        "config/agents.yaml",
        &format!("{agents}budget: {{daily_tokens: 200}}\n"),
    );
    home.add_task(1, "Protect calc", "backlog", "");
    home.add_task(2, "Protect calc too", "backlog", "");
    // each run of the tool costs 120 tokens: the alert at 160, the cap at 200
    assert_eq!(home.run(&["run", "work"]).status.code(), Some(1));
    assert_eq!(
        home.run(&["run", "work"]).status.code(),
        Some(1),
        "still spent"
    );
    let told = titles_and_pings(&discord);
    let budget: Vec<&String> = told
        .iter()
        .map(|(t, _)| t)
        .filter(|t| t.starts_with("Budget alert") || t.starts_with("The daily budget is spent"))
        .collect();
    assert_eq!(
        budget,
        [
            "Budget alert: 80 % of today's cap is spent",
            "The daily budget is spent: the agents pause until tomorrow"
        ],
        "each once, however many runs hit the cap: {told:?}"
    );

    // the coding tool goes missing: the loop cannot run, urgent, the role is pinged
    home.write(
        "config/agents.yaml",
        "providers: {}\nagents:\n  coder: {engine: command, command: [\"/nonexistent/coding-cli\"]}\n",
    );
    assert_eq!(home.run(&["run", "work"]).status.code(), Some(1));
    assert_eq!(home.run(&["run", "work"]).status.code(), Some(1));
    let told = titles_and_pings(&discord);
    let stopped: Vec<&(String, Vec<String>)> = told
        .iter()
        .filter(|(t, _)| t.starts_with("The work job cannot run"))
        .collect();
    assert_eq!(stopped.len(), 1, "told once a day: {told:?}");
    assert_eq!(stopped[0].1, ["<@&42>"], "exactly the configured role");
    for (title, pings) in &told {
        if !title.starts_with("The work job cannot run") {
            assert!(pings.is_empty(), "{title} pinged {pings:?}");
        }
    }
    let last = discord.accepted().last().unwrap().payload.to_string();
    assert!(
        last.contains("/nonexistent/coding-cli"),
        "the reason is said: {last}"
    );
}

#[test]
fn the_daemon_tells_its_start_its_stop_and_its_recovery_when_asked_to() {
    let discord = FakeDiscord::start();
    let home = TestHome::new();
    home.write(
        "config/schedules.yaml",
        "timezone: UTC\njobs: {wrapup: \"0 0 1 1 *\"}\n",
    );
    home.write("config/notify.yaml", "discord: {events: [daemon]}\n");
    home.write(
        "config/.env",
        &format!("DISCORD_WEBHOOK_URL={}\n", discord.url()),
    );
    let wait_for = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while discord.accepted().len() < n {
            assert!(Instant::now() < deadline, "{:?}", titles(&discord));
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    home.ok(&["start"]);
    wait_for(1);
    home.ok(&["stop"]);
    wait_for(2);
    // a daemon killed outright never records its stop: the next start says it recovered
    home.ok(&["start"]);
    wait_for(3);
    let pid: i32 = home.read(".dayshift/pid").trim().parse().unwrap();
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while home.run(&["start"]).status.code() != Some(0) {
        assert!(
            Instant::now() < deadline,
            "the killed daemon's lock was never released"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_for(4);
    home.ok(&["stop"]);
    wait_for(5);
    assert_eq!(
        titles(&discord),
        [
            "The dayshift daemon started",
            "The dayshift daemon stopped",
            "The dayshift daemon started",
            "The dayshift daemon recovered from a crash",
            "The dayshift daemon stopped"
        ]
    );
}

#[test]
fn a_stop_file_left_for_a_day_is_told_once_and_pings_the_role() {
    let discord = FakeDiscord::start();
    let home = TestHome::new();
    home.write(
        "config/notify.yaml",
        "discord: {events: [stopped], mention: \"<@&42>\"}\n",
    );
    home.write(
        "config/.env",
        &format!("DISCORD_WEBHOOK_URL={}\n", discord.url()),
    );
    home.write("STOP", "");
    let fresh = home.run(&["run", "morning"]);
    assert_eq!(fresh.status.code(), Some(1), "paused");
    assert!(
        discord.accepted().is_empty(),
        "a fresh pause is a person's choice"
    );
    let old = std::process::Command::new("touch")
        .args(["-d", "2 days ago"])
        .arg(home.path("STOP"))
        .status()
        .unwrap();
    assert!(old.success());
    home.run(&["run", "morning"]);
    home.run(&["run", "wrapup"]);
    let told = titles_and_pings(&discord);
    assert_eq!(told.len(), 1, "once a day: {told:?}");
    assert_eq!(
        told[0].0,
        "dayshift has been paused by the STOP file for a day"
    );
    assert_eq!(told[0].1, ["<@&42>"]);
}
