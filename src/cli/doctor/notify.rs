//! doctor's notification lines, without posting anything: each channel of
//! config/notify.yaml has its URL's variable set and the URL has the right shape (a Discord
//! webhook's `https://discord.com/api/webhooks/ID/TOKEN`), and nothing has waited in the
//! outbox for long. Skipped without notify.yaml (by choice). No line ever holds the URL.

use super::Check;
use crate::config::Config;
use crate::config::notify::{Channel, ChannelKind};
use crate::home::Home;
use crate::store::Store;

const CHECK: &str = "notifications";

/// Hosts a Discord webhook lives on.
const DISCORD_HOSTS: [&str; 5] = [
    "discord.com",
    "discordapp.com",
    "canary.discord.com",
    "ptb.discord.com",
    "ptb.discordapp.com",
];

pub(super) fn checks(home: &Home, config: Option<&Config>) -> Vec<Check> {
    let Some(config) = config else {
        return vec![Check::needing_config(CHECK, home, None, |_, _| vec![])];
    };
    if !config.notify.is_on() {
        let mut check = Check::skipped(
            CHECK,
            "no config/notify.yaml: nobody is told (docs/notifications.md)".into(),
        );
        check.by_choice = true;
        return vec![check];
    }
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut fine = Vec::new();
    for channel in &config.notify.channels {
        match config
            .secrets
            .get(&channel.url_env)
            .filter(|u| !u.trim().is_empty())
        {
            None => problems.push(format!(
                "{}: ${} is not set; put the URL in config/.env ({}=https://…) or the environment",
                channel.name, channel.url_env, channel.url_env
            )),
            Some(url) => match shape(channel, &url) {
                Shape::Bad(why) => problems.push(format!(
                    "{}: ${} {why}; set it to the URL the channel gives (docs/notifications.md)",
                    channel.name, channel.url_env
                )),
                Shape::Odd(why) => {
                    warnings.push(format!("{}: ${} {why}", channel.name, channel.url_env))
                }
                Shape::Fine => {
                    let events: Vec<&str> = channel.events.iter().map(|k| k.kind()).collect();
                    fine.push(format!(
                        "{} (${}): {}",
                        channel.name,
                        channel.url_env,
                        events.join(", ")
                    ));
                }
            },
        }
    }
    if let Some(waiting) = waiting(home) {
        warnings.push(waiting);
    }
    let mut check = Check::new(CHECK, problems);
    check.warnings = warnings;
    if !fine.is_empty() {
        check.detail = Some(format!(
            "{CHECK}: {}; `dayshift notify test` posts a test message",
            fine.join("; ")
        ));
    }
    vec![check]
}

enum Shape {
    Fine,
    /// Usable, but probably not what was meant.
    Odd(&'static str),
    Bad(&'static str),
}

fn shape(channel: &Channel, url: &str) -> Shape {
    let Ok(url) = reqwest::Url::parse(url.trim()) else {
        return Shape::Bad("is not a URL");
    };
    let Some(host) = url.host_str() else {
        return Shape::Bad("has no host");
    };
    if !matches!(url.scheme(), "https" | "http") {
        return Shape::Bad("is not an http(s) URL");
    }
    let local = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
    if url.scheme() == "http" && !local {
        return Shape::Odd(
            "is plain http: the URL (a credential) and the messages travel unencrypted",
        );
    }
    if let ChannelKind::Discord { .. } = channel.kind {
        let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
        let webhook_path = matches!(segments.as_slice(), ["api", "webhooks", id, token, ..]
            if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !token.is_empty());
        if !webhook_path {
            return Shape::Bad("is not a Discord webhook URL (…/api/webhooks/ID/TOKEN)");
        }
        if !local && !DISCORD_HOSTS.contains(&host) {
            return Shape::Odd("is not on discord.com: messages go to another host");
        }
    }
    Shape::Fine
}

/// A line when messages have waited in the outbox for over an hour.
fn waiting(home: &Home) -> Option<String> {
    let store = Store::open(&home.db_path()).ok()?;
    let unsent = store.outbox_all_unsent().ok()?;
    let oldest = unsent.first()?;
    let age = chrono::Utc::now().signed_duration_since(oldest.created);
    if age < chrono::Duration::hours(1) {
        return None;
    }
    Some(format!(
        "{} notification(s) wait in the outbox, the oldest for {} h{}; `dayshift notify list` shows them",
        unsent.len(),
        age.num_hours(),
        oldest
            .last_error
            .as_deref()
            .map(|e| format!(" (last error: {e})"))
            .unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::notify::NoticeKind;

    fn channel(kind: ChannelKind) -> Channel {
        Channel {
            name: "discord",
            kind,
            url_env: "DISCORD_WEBHOOK_URL".into(),
            events: vec![NoticeKind::Morning],
        }
    }

    #[test]
    fn urls_are_judged_by_their_shape() {
        let discord = channel(ChannelKind::Discord {
            username: None,
            mention: None,
        });
        assert!(matches!(
            shape(&discord, "https://discord.com/api/webhooks/123/abcDEF"),
            Shape::Fine
        ));
        assert!(matches!(
            shape(&discord, "http://127.0.0.1:9999/api/webhooks/1/t"),
            Shape::Fine
        ));
        assert!(matches!(
            shape(&discord, "https://discord.com/channels/1"),
            Shape::Bad(_)
        ));
        assert!(matches!(
            shape(&discord, "discord.com/api/webhooks/1/t"),
            Shape::Bad(_)
        ));
        assert!(matches!(
            shape(&discord, "https://evil.example/api/webhooks/1/t"),
            Shape::Odd(_)
        ));
        let hook = channel(ChannelKind::Webhook);
        assert!(matches!(
            shape(&hook, "https://hooks.slack.com/services/T/B/X"),
            Shape::Fine
        ));
        assert!(matches!(
            shape(&hook, "http://bridge.lan/hook"),
            Shape::Odd(_)
        ));
    }
}
