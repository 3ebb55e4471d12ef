//! Unit tests of the payload shape; tests/notify_discord.rs sends them to a fake Discord
//! that enforces every limit.

use chrono::DateTime;
use serde_json::json;

use super::*;
use crate::notify::NoticeKind;
use crate::notify::discord::Mention;

fn notice(title: &str, summary: &str) -> Notice {
    Notice {
        kind: NoticeKind::Budget,
        title: title.to_string(),
        summary: summary.to_string(),
        fields: vec![],
        link: None,
        task: None,
        urgent: true,
        at: DateTime::parse_from_rfc3339("2026-12-06T23:00:00+01:00").unwrap(),
    }
}

#[test]
fn a_small_notice_is_one_message_with_colour_footer_and_timestamp() {
    let out = payloads(
        &notice("cap reached", "work stopped"),
        &PayloadOptions::default(),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0],
        json!({
            "embeds": [{
                "color": NoticeKind::Budget.colour(),
                "title": "cap reached",
                "description": "work stopped",
                "footer": {"text": "dayshift · budget"},
                "timestamp": "2026-12-06T23:00:00+01:00",
            }],
            "allowed_mentions": {"parse": []},
        })
    );
}

#[test]
fn a_user_mention_is_allowed_alone_and_only_on_the_first_message() {
    let options = PayloadOptions {
        mention: Some(Mention::User("77".into())),
        max_messages: 2,
        ..PayloadOptions::default()
    };
    let out = payloads(&notice("t", &"word ".repeat(1500)), &options);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["content"], "<@77>");
    assert_eq!(
        out[0]["allowed_mentions"],
        json!({"parse": [], "users": ["77"]})
    );
    assert_eq!(out[1]["allowed_mentions"], json!({"parse": []}));
    assert!(out[1].get("content").is_none(), "nothing was dropped");
}

#[test]
fn cut_text_without_a_link_still_says_so_and_empty_titles_get_the_kind() {
    let mut long = notice("", "x");
    long.fields = vec![("reason".into(), "because ".repeat(200))];
    let out = payloads(&long, &PayloadOptions::default());
    assert_eq!(out[0]["embeds"][0]["title"], "budget");
    let value = out[0]["embeds"][0]["fields"][0]["value"].as_str().unwrap();
    assert!(value.ends_with("because…") && units(value) <= FIELD_VALUE_MAX);
    assert!(out[0]["content"].as_str().unwrap().contains("did not fit"));
}

#[test]
fn an_https_link_is_the_title_url() {
    let mut linked = notice("PR", "s");
    linked.link = Some("https://github.com/acme/shop/pull/7".into());
    let out = payloads(&linked, &PayloadOptions::default());
    assert_eq!(
        out[0]["embeds"][0]["url"],
        "https://github.com/acme/shop/pull/7"
    );
}
