//! The Discord channel against a fake Discord webhook over real HTTP on 127.0.0.1 that
//! enforces Discord's limits and mention rules: every kind of notice, long and hostile
//! ones included, is accepted and pings no one; rate limits are waited out; 5xx retried;
//! a deleted webhook reported; the webhook URL (a canary) in no error.

mod common;

use std::time::{Duration, Instant};

use chrono::DateTime;
use common::fake_discord::{FakeDiscord, WEBHOOK_PATH};
use dayshift::notify::discord::{DiscordWebhook, Mention, PayloadOptions, SendError, payloads};
use dayshift::notify::{Notice, NoticeKind};

const CANARY: &str = "CANARY-webhook-token-5f1e";

fn notice(kind: NoticeKind, title: &str, summary: &str) -> Notice {
    Notice {
        kind,
        title: title.to_string(),
        summary: summary.to_string(),
        fields: vec![],
        link: Some("reports/daily/2026-12-06.md".to_string()),
        task: Some("T-0007".to_string()),
        urgent: false,
        at: DateTime::parse_from_rfc3339("2026-12-06T07:30:00+01:00").unwrap(),
    }
}

/// The one message of `dayshift notify test`.
fn test_payload() -> serde_json::Value {
    let test = notice(NoticeKind::Test, "test", "hello");
    payloads(&test, &PayloadOptions::default()).remove(0)
}

fn webhook(fake: &FakeDiscord) -> DiscordWebhook {
    DiscordWebhook::new(&fake.url(), "DISCORD_WEBHOOK_URL", Duration::from_secs(5))
        .unwrap()
        .with_max_wait(Duration::from_secs(3))
        .with_retries(3, Duration::from_millis(20))
}

/// Every example notice: each kind, a 10,000-character reason, a 30-task summary, 40
/// fields, a model answer that tries to ping.
fn examples() -> Vec<Notice> {
    let mut out: Vec<Notice> = NoticeKind::ALL
        .into_iter()
        .map(|kind| notice(kind, &format!("a {kind} notice"), "all is well"))
        .collect();
    let reason = (0..1500)
        .map(|n| format!("step{n}"))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(reason.len() >= 10_000);
    out.push(notice(
        NoticeKind::NeedsPerson,
        "T-0007 failed its last attempt",
        &reason,
    ));
    let tasks: String = (1..=30)
        .map(|n| {
            format!(
                "- T-{n:04} merged: {}\n",
                "made the parser handle edge cases ".repeat(4)
            )
        })
        .collect();
    let mut nightly = notice(NoticeKind::Nightly, "the day: 30 tasks", &tasks);
    nightly.fields = (1..=30)
        .map(|n| {
            (
                format!("T-{n:04}"),
                format!("merged, {}", "reviewed ".repeat(60)),
            )
        })
        .collect();
    out.push(nightly);
    let mut many = notice(NoticeKind::Morning, &"a long title ".repeat(40), "numbers");
    many.fields = (0..40)
        .map(|n| (format!("field {n}"), "x".repeat(1500)))
        .collect();
    out.push(many);
    let mut hostile = notice(
        NoticeKind::NeedsPerson,
        "@everyone the model says <@123>",
        "Answer: @everyone @here <@123> <@!123> <@&456> <#789> please look",
    );
    hostile.fields = vec![
        ("@here".into(), "<@&456>".into()),
        (String::new(), String::new()),
    ];
    hostile.urgent = true;
    out.push(hostile);
    out
}

#[test]
fn every_example_is_accepted_and_pings_no_one() {
    let fake = FakeDiscord::start();
    let hook = webhook(&fake);
    let mut sent = 0;
    for notice in examples() {
        for payload in payloads(&notice, &PayloadOptions::default()) {
            let text = payload.to_string();
            for raw in [
                "@everyone",
                "@here",
                "<@123>",
                "<@!123>",
                "<@&456>",
                "<#789>",
            ] {
                assert!(!text.contains(raw), "{raw} in {text}");
            }
            let result = hook.send(&payload);
            assert!(result.is_ok(), "{:?}: {result:?}", notice.title);
            assert!(result.unwrap().message_id.is_some());
            sent += 1;
        }
    }
    let accepted = fake.accepted();
    assert_eq!(accepted.len(), sent);
    assert!(accepted.iter().all(|a| a.pings.is_empty()));
    assert!(
        fake.statuses().iter().all(|&s| s == 200),
        "{:?}",
        fake.statuses()
    );
}

#[test]
fn long_text_is_split_and_what_is_dropped_is_linked() {
    let fake = FakeDiscord::start();
    let hook = webhook(&fake);
    let reason = "word ".repeat(8000);
    let payloads = payloads(
        &notice(NoticeKind::NeedsPerson, "failed", &reason),
        &PayloadOptions::default(),
    );
    assert_eq!(payloads.len(), 3, "capped at max_messages");
    for payload in &payloads {
        hook.send(payload).unwrap();
    }
    let last = &fake.accepted()[2].payload;
    assert_eq!(
        last["content"],
        "the whole text: reports/daily/2026-12-06.md"
    );
    let first = &fake.accepted()[0].payload;
    let description = first["embeds"][0]["description"].as_str().unwrap();
    assert!(
        description.ends_with("word…"),
        "cut at a word with …: {description:?}"
    );
    assert_eq!(first["embeds"][0]["title"], "failed");
    let footer = &payloads[0]["embeds"].as_array().unwrap().last().unwrap()["footer"]["text"];
    assert_eq!(
        footer,
        "dayshift · needs_person · T-0007 · reports/daily/2026-12-06.md"
    );
}

#[test]
fn an_urgent_notice_pings_exactly_the_configured_role() {
    let fake = FakeDiscord::start();
    let hook = webhook(&fake);
    let options = PayloadOptions {
        username: Some("dayshift".into()),
        mention: Some("<@&4242>".parse::<Mention>().unwrap()),
        max_messages: 3,
    };
    let mut urgent = notice(
        NoticeKind::NeedsPerson,
        "<@&999> approve T-0007",
        "@everyone",
    );
    urgent.urgent = true;
    let calm = notice(NoticeKind::Nightly, "the day", "fine");
    for payload in payloads(&urgent, &options)
        .iter()
        .chain(&payloads(&calm, &options))
    {
        hook.send(payload).unwrap();
    }
    let accepted = fake.accepted();
    assert_eq!(accepted[0].pings, ["<@&4242>"]);
    assert_eq!(accepted[0].payload["allowed_mentions"]["roles"][0], "4242");
    assert_eq!(accepted[0].payload["username"], "dayshift");
    assert!(
        accepted[1].pings.is_empty(),
        "a calm notice carries no mention"
    );
    assert!("@here".parse::<Mention>().is_err());
}

#[test]
fn a_429_is_waited_out_and_resent() {
    let fake = FakeDiscord::start();
    fake.rate_limit(2, 0.2);
    let started = Instant::now();
    let payload = &test_payload();
    webhook(&fake).send(payload).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(fake.statuses(), [429, 429, 200]);
}

#[test]
fn a_rate_limit_longer_than_allowed_is_retryable() {
    let fake = FakeDiscord::start();
    fake.rate_limit(1, 30.0);
    let payload = &test_payload();
    let error = webhook(&fake).send(payload).unwrap_err();
    assert!(matches!(error, SendError::RateLimited { .. }), "{error:?}");
    assert!(error.is_retryable());
}

#[test]
fn an_empty_bucket_is_waited_for_before_the_next_message() {
    let fake = FakeDiscord::start();
    fake.bucket(Duration::from_millis(300));
    let hook = webhook(&fake);
    let payload = &test_payload();
    for _ in 0..3 {
        hook.send(payload).unwrap();
    }
    assert_eq!(
        fake.statuses(),
        [200, 200, 200],
        "no 429: the headers were honoured"
    );
}

#[test]
fn server_errors_are_retried_then_reported_as_retryable() {
    let fake = FakeDiscord::start();
    let hook = webhook(&fake);
    let payload = &test_payload();
    fake.down(2);
    hook.send(payload).unwrap();
    assert_eq!(fake.statuses(), [503, 503, 200]);
    fake.down(10);
    let error = hook.send(payload).unwrap_err();
    assert!(
        matches!(
            error,
            SendError::Server {
                status: 503,
                attempts: 3
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[test]
fn a_deleted_webhook_is_gone_and_names_the_variable() {
    let fake = FakeDiscord::start();
    fake.gone();
    let payload = &test_payload();
    let error = webhook(&fake).send(payload).unwrap_err();
    assert!(matches!(error, SendError::Gone { .. }), "{error:?}");
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("DISCORD_WEBHOOK_URL"));
    assert_eq!(fake.statuses(), [404], "a 404 is not retried");
}

#[test]
fn the_webhook_url_is_in_no_error_and_no_debug_output() {
    let payload = &test_payload();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}{WEBHOOK_PATH}");
    let hook = DiscordWebhook::new(&url, "DISCORD_WEBHOOK_URL", Duration::from_secs(2))
        .unwrap()
        .with_retries(2, Duration::from_millis(10));
    let refused = hook.send(payload).unwrap_err();
    assert!(
        matches!(refused, SendError::Unreachable { attempts: 2, .. }),
        "{refused:?}"
    );
    let fake = FakeDiscord::start();
    fake.gone();
    let gone = webhook(&fake).send(payload).unwrap_err();
    let bad = DiscordWebhook::new(
        &format!("ftp://x{WEBHOOK_PATH}"),
        "DISCORD_WEBHOOK_URL",
        Duration::from_secs(1),
    )
    .unwrap_err();
    for text in [
        format!("{refused} {refused:?}"),
        format!("{gone} {gone:?}"),
        format!("{bad} {bad:?}"),
        format!("{hook:?}"),
    ] {
        assert!(!text.contains(CANARY), "the canary leaked: {text}");
    }
    assert!(format!("{hook:?}").contains("127.0.0.1"));
}

#[test]
fn a_timeout_is_retried_and_only_an_unanswered_send_may_duplicate() {
    let fake = FakeDiscord::start();
    fake.slow(1, Duration::from_millis(1500));
    let hook = DiscordWebhook::new(
        &fake.url(),
        "DISCORD_WEBHOOK_URL",
        Duration::from_millis(400),
    )
    .unwrap()
    .with_retries(3, Duration::from_millis(20));
    hook.send(&test_payload()).unwrap();
    // the slow answer's message was saved but never confirmed: Discord gave no answer,
    // so the retry posts it again (at least once, never after a confirmation)
    assert_eq!(fake.accepted().len(), 2);
}
