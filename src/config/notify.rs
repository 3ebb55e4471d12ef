//! config/notify.yaml: where the people are told what happened (optional; without it
//! nothing is sent). Channels are data: a Discord webhook and a generic JSON webhook (for
//! Slack or Matrix bridges and scripts), each with the event kinds it gets; quiet hours in
//! the schedule's time zone hold what is not urgent; `max_age_hours` drops what could not
//! be sent for that long. Every value is checked when read; a bad one is a [`FileProblem`]
//! naming the line and the fix.
//!
//! The URLs themselves are credentials: the file names only the variables that hold them
//! (environment or config/.env), and those are redacted everywhere.

use std::path::Path;

use chrono::NaiveTime;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::mention::Mention;
use super::yaml::{self, at};
use crate::problem::FileProblem;

/// What a notice is about; its [`kind`](NoticeKind::kind) string is stable (notify.yaml's
/// `events` and the outbox name it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoticeKind {
    /// The morning summary, after `morning`.
    Morning,
    /// The nightly summary, after `wrapup`.
    Nightly,
    /// A change waits for a person, a task failed its last attempt, a deploy failed.
    NeedsPerson,
    /// The budget's alert threshold was crossed or its cap reached.
    Budget,
    /// The loop stopped for an environment problem (bad key, missing tool, STOP file).
    Stopped,
    /// The daemon started, stopped or recovered from a crash (opt-in).
    Daemon,
    /// `dayshift notify test`: every channel gets it, whatever its events.
    Test,
}

impl NoticeKind {
    /// Every kind, in a stable order.
    pub const ALL: [NoticeKind; 7] = [
        NoticeKind::Morning,
        NoticeKind::Nightly,
        NoticeKind::NeedsPerson,
        NoticeKind::Budget,
        NoticeKind::Stopped,
        NoticeKind::Daemon,
        NoticeKind::Test,
    ];

    /// What a channel gets when its `events` are not given: all but the daemon's.
    pub const DEFAULT_EVENTS: [NoticeKind; 5] = [
        NoticeKind::Morning,
        NoticeKind::Nightly,
        NoticeKind::NeedsPerson,
        NoticeKind::Budget,
        NoticeKind::Stopped,
    ];

    /// The stable name (`morning`, `nightly`, `needs_person`, `budget`, `stopped`,
    /// `daemon`, `test`).
    pub fn kind(self) -> &'static str {
        match self {
            NoticeKind::Morning => "morning",
            NoticeKind::Nightly => "nightly",
            NoticeKind::NeedsPerson => "needs_person",
            NoticeKind::Budget => "budget",
            NoticeKind::Stopped => "stopped",
            NoticeKind::Daemon => "daemon",
            NoticeKind::Test => "test",
        }
    }

    /// The kind named `name`, if any.
    pub fn from_kind(name: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.kind() == name)
    }
}

impl std::fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind())
    }
}

/// Which wire shape a channel speaks.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelKind {
    /// A Discord webhook: embeds split to Discord's limits, the mention on urgent notices.
    Discord {
        username: Option<String>,
        mention: Option<Mention>,
    },
    /// Any URL that takes a JSON POST of the notice.
    Webhook,
}

/// One place notices go.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// `discord` or `webhook`: its name in the outbox and in messages.
    pub name: &'static str,
    pub kind: ChannelKind,
    /// The variable holding the URL (a credential).
    pub url_env: String,
    /// The kinds it gets (a test message always).
    pub events: Vec<NoticeKind>,
}

impl Channel {
    /// Whether this channel gets notices of `kind`.
    pub fn wants(&self, kind: NoticeKind) -> bool {
        kind == NoticeKind::Test || self.events.contains(&kind)
    }
}

/// `quiet_hours: "22:00-07:00"`: local times between which only urgent notices go out;
/// the rest waits in the outbox until the end. May wrap past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// Whether the local time `t` is inside the quiet hours.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start <= self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

/// config/notify.yaml, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyConfig {
    /// In the order Discord first, then the generic webhook.
    pub channels: Vec<Channel>,
    pub quiet_hours: Option<QuietHours>,
    /// A notice not sent after this many hours is dropped (with a log line and an audit event).
    pub max_age_hours: u32,
}

pub const DEFAULT_MAX_AGE_HOURS: u32 = 72;

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            channels: Vec::new(),
            quiet_hours: None,
            max_age_hours: DEFAULT_MAX_AGE_HOURS,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    #[serde(default)]
    discord: Option<RawDiscord>,
    #[serde(default)]
    webhook: Option<RawWebhook>,
    #[serde(default)]
    quiet_hours: Option<Spanned<String>>,
    #[serde(default)]
    max_age_hours: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscord {
    #[serde(default = "default_discord_env")]
    webhook_env: Spanned<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    events: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    mention: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url_env: Spanned<String>,
    #[serde(default)]
    events: Option<Vec<Spanned<String>>>,
}

fn default_discord_env() -> Spanned<String> {
    Spanned::new(
        "DISCORD_WEBHOOK_URL".into(),
        serde_saphyr::Location::UNKNOWN,
        serde_saphyr::Location::UNKNOWN,
    )
}

impl NotifyConfig {
    pub fn parse(file: &Path, text: &str) -> Result<Self, FileProblem> {
        let raw: RawNotify = yaml::parse(file, text, 0)?;
        let mut channels = Vec::new();
        if let Some(discord) = raw.discord {
            let mention = match discord.mention {
                None => None,
                Some(m) if m.value.trim().is_empty() => None,
                Some(m) => Some(m.value.parse::<Mention>().map_err(|bad| {
                    FileProblem::new(
                        at(file, &m.referenced),
                        bad.to_string(),
                        "write mention: \"<@&ROLE_ID>\" (a role) or \"<@USER_ID>\" (a person), or leave it out",
                    )
                })?),
            };
            channels.push(Channel {
                name: "discord",
                kind: ChannelKind::Discord {
                    username: discord.username.filter(|u| !u.trim().is_empty()),
                    mention,
                },
                url_env: variable(file, "discord.webhook_env", discord.webhook_env)?,
                events: events(file, "discord", discord.events)?,
            });
        }
        if let Some(webhook) = raw.webhook {
            channels.push(Channel {
                name: "webhook",
                kind: ChannelKind::Webhook,
                url_env: variable(file, "webhook.url_env", webhook.url_env)?,
                events: events(file, "webhook", webhook.events)?,
            });
        }
        let quiet_hours = raw
            .quiet_hours
            .map(|q| {
                parse_quiet_hours(&q.value).ok_or_else(|| {
                    FileProblem::new(
                        at(file, &q.referenced),
                        format!("`quiet_hours: {}` is not two times of day", q.value),
                        "write it as \"HH:MM-HH:MM\" on a 24-hour clock in the schedule's time zone, e.g. quiet_hours: \"22:00-07:00\"",
                    )
                })
            })
            .transpose()?;
        let max_age_hours = match raw.max_age_hours {
            None => DEFAULT_MAX_AGE_HOURS,
            Some(h) if h.value == 0 => {
                return Err(FileProblem::new(
                    at(file, &h.referenced),
                    "`max_age_hours: 0` would drop every notice before it is sent",
                    format!(
                        "give the hours an unsent notice is kept, e.g. {DEFAULT_MAX_AGE_HOURS}"
                    ),
                ));
            }
            Some(h) => h.value,
        };
        Ok(Self {
            channels,
            quiet_hours,
            max_age_hours,
        })
    }

    /// Whether any channel is configured.
    pub fn is_on(&self) -> bool {
        !self.channels.is_empty()
    }

    /// The channel named `name` (`discord`, `webhook`).
    pub fn channel(&self, name: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.name == name)
    }
}

fn variable(file: &Path, key: &str, name: Spanned<String>) -> Result<String, FileProblem> {
    let value = name.value.trim();
    let well_formed = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !value.as_bytes()[0].is_ascii_digit();
    if well_formed {
        return Ok(value.to_string());
    }
    let looks_like_url = value.contains("://");
    Err(FileProblem::new(
        at(file, &name.referenced),
        if looks_like_url {
            format!("`{key}` holds a URL; it must name the variable that holds it")
        } else {
            format!("`{key}: {value}` is not a variable name")
        },
        if looks_like_url {
            "the URL is a credential: put it in config/.env (e.g. DISCORD_WEBHOOK_URL=https://…) and write the variable's name here; remove the URL from this file".to_string()
        } else {
            "write the name of the variable holding the URL, e.g. DISCORD_WEBHOOK_URL".to_string()
        },
    ))
}

fn events(
    file: &Path,
    channel: &str,
    names: Option<Vec<Spanned<String>>>,
) -> Result<Vec<NoticeKind>, FileProblem> {
    let Some(names) = names else {
        return Ok(NoticeKind::DEFAULT_EVENTS.to_vec());
    };
    let mut kinds = Vec::new();
    for name in names {
        let kind = NoticeKind::from_kind(name.value.trim()).ok_or_else(|| {
            let known: Vec<&str> = NoticeKind::ALL.iter().map(|k| k.kind()).collect();
            FileProblem::new(
                at(file, &name.referenced),
                format!("`{channel}.events`: unknown event `{}`", name.value),
                format!("use some of: {}", known.join(", ")),
            )
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

fn parse_quiet_hours(text: &str) -> Option<QuietHours> {
    let (start, end) = text.split_once('-')?;
    let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
    let hours = QuietHours {
        start: time(start)?,
        end: time(end)?,
    };
    (hours.start != hours.end).then_some(hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<NotifyConfig, FileProblem> {
        NotifyConfig::parse(Path::new("config/notify.yaml"), text)
    }

    #[test]
    fn the_design_example_reads() {
        let config = parse(
            "discord: {webhook_env: DISCORD_WEBHOOK_URL, events: [morning, nightly, needs_person, budget, stopped], mention: \"<@&123>\"}\n\
             webhook: {url_env: OPS_WEBHOOK_URL, events: [needs_person]}\n\
             quiet_hours: \"22:00-07:00\"\n",
        )
        .unwrap();
        assert_eq!(config.channels.len(), 2);
        let discord = config.channel("discord").unwrap();
        assert_eq!(discord.url_env, "DISCORD_WEBHOOK_URL");
        assert!(discord.wants(NoticeKind::Budget) && !discord.wants(NoticeKind::Daemon));
        assert!(discord.wants(NoticeKind::Test), "a test goes everywhere");
        assert_eq!(
            discord.kind,
            ChannelKind::Discord {
                username: None,
                mention: Some(Mention::Role("123".into()))
            }
        );
        let webhook = config.channel("webhook").unwrap();
        assert_eq!(webhook.events, vec![NoticeKind::NeedsPerson]);
        let quiet = config.quiet_hours.unwrap();
        let t = |s| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        assert!(quiet.contains(t("23:30")) && quiet.contains(t("06:59")));
        assert!(!quiet.contains(t("07:00")) && !quiet.contains(t("12:00")));
        assert_eq!(config.max_age_hours, DEFAULT_MAX_AGE_HOURS);
    }

    #[test]
    fn an_empty_file_sends_nothing_and_defaults_leave_out_the_daemon() {
        assert!(!parse("# nothing yet\n").unwrap().is_on());
        let config = parse("discord: {}\n").unwrap();
        let discord = config.channel("discord").unwrap();
        assert_eq!(discord.url_env, "DISCORD_WEBHOOK_URL");
        assert_eq!(discord.events, NoticeKind::DEFAULT_EVENTS.to_vec());
    }

    #[test]
    fn bad_values_name_the_line_and_the_fix() {
        let e = parse("discord:\n  events: [morning, nigthly]\n").unwrap_err();
        assert_eq!(e.at.line, Some(2), "{e}");
        assert!(e.to_string().contains("unknown event `nigthly`"), "{e}");
        assert!(e.to_string().contains("needs_person"), "{e}");

        let e = parse("discord:\n  mention: \"@everyone\"\n").unwrap_err();
        assert_eq!(e.at.line, Some(2), "{e}");
        assert!(e.to_string().contains("<@&ROLE_ID>"), "{e}");

        let e = parse("quiet_hours: \"22-7\"\n").unwrap_err();
        assert!(e.to_string().contains("HH:MM-HH:MM"), "{e}");

        let e = parse("webhook: {events: [budget]}\n").unwrap_err();
        assert!(e.to_string().contains("url_env"), "{e}");

        let e = parse("max_age_hours: 0\n").unwrap_err();
        assert!(e.to_string().contains("drop every notice"), "{e}");
    }

    #[test]
    fn a_url_written_where_its_variable_belongs_is_refused_without_echoing_it() {
        let e = parse("discord:\n  webhook_env: https://discord.com/api/webhooks/1/SECRET\n")
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("config/.env"), "{text}");
        assert!(!text.contains("SECRET"), "the URL is a credential: {text}");
        assert_eq!(e.at.line, Some(2));
    }
}
