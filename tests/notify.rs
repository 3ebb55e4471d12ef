//! Notifications end to end: the real binary on a temp home, a fake Discord webhook over
//! real HTTP on 127.0.0.1 that enforces Discord's limits and mention rules, and a fake JSON
//! webhook. What needs a person reaches both, escaped and pinging no one; Discord down all
//! day loses nothing and gets everything in order once back; a kill between the send and
//! the mark sends one duplicate at most; quiet hours and the age limit; canaries (the
//! webhook URL's token, a key) are in no log, report, audit, store or payload.

mod common;

use std::time::{Duration, Instant};

use common::fake_discord::FakeDiscord;
use common::notify_home::{CANARY_KEY, WEBHOOK_TOKEN, home, outbox, plain_home, texts, titles};
use common::{TestHome, stdout};
use serde_json::Value;

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
    let home = plain_home(
        &discord,
        "discord: {events: [needs_person, stopped]}\nquiet_hours: \"22:00-07:00\"\nmax_age_hours: 48\n",
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

    // a damaged row is refused with its reason, never sent as `null`
    let damaged = outbox::enqueue(
        &config,
        &store,
        &[notice(
            "damaged",
            NoticeKind::Stopped,
            true,
            "2026-12-06T23:06:00+00:00",
        )
        .into()],
        None,
    )
    .unwrap();
    assert_eq!(damaged, 1);
    rusqlite::Connection::open(dir.db_path())
        .unwrap()
        .execute(
            "UPDATE outbox SET payload = '{not json' WHERE title = 'damaged'",
            [],
        )
        .unwrap();
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
