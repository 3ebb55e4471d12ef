//! A configured channel ([`crate::config::notify::Channel`]) as something that renders a
//! notice into the bodies it posts and sends one body. Adding a channel is a variant
//! here and a block in notify.yaml; the jobs never change.
//!
//! Every way a send fails is one of three [`FailureKind`]s, which is all the outbox needs
//! to know: try again later (stop this channel for now, keep the order), this message can
//! never be sent (mark it failed, go on), or the channel cannot be used until a person
//! fixes it (keep everything, stop this channel).

use std::time::Duration;

use serde_json::Value;

use super::Notice;
use super::discord::{DiscordWebhook, PayloadOptions, SendError, payloads};
use super::webhook::{self, JsonWebhook};
use crate::config::Secrets;
use crate::config::notify::{Channel, ChannelKind};

/// What a failed send means for the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Down, rate limited, no network: the message and those after it wait.
    Later,
    /// The channel refused this message for good.
    Refused,
    /// The channel cannot be used (no URL, a deleted webhook, a refused URL).
    Unusable,
}

/// Why a body was not sent, in words a person can act on (never holding the URL).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl From<SendError> for Failure {
    fn from(error: SendError) -> Self {
        let kind = match &error {
            e if e.is_retryable() => FailureKind::Later,
            SendError::Rejected(_) => FailureKind::Refused,
            _ => FailureKind::Unusable,
        };
        Failure::new(kind, error.to_string())
    }
}

/// How long a flush may wait on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patience {
    /// Inside a job: one try per message (a 429 still waited out, up to 10 s); what fails
    /// waits for the next flush.
    Brief,
    /// The end of a run, the daemon, `notify test`: 3 tries with backoff, up to 60 s of
    /// rate-limit waits.
    Full,
}

impl Patience {
    fn attempts(self) -> u32 {
        match self {
            Patience::Brief => 1,
            Patience::Full => 3,
        }
    }

    fn max_wait(self) -> Duration {
        match self {
            Patience::Brief => Duration::from_secs(10),
            Patience::Full => Duration::from_secs(60),
        }
    }
}

/// The bodies `channel` posts for `notice`, in order (a long notice is several Discord
/// messages; the JSON webhook takes one).
pub fn render(channel: &Channel, notice: &Notice) -> Vec<Value> {
    match &channel.kind {
        ChannelKind::Discord { username, mention } => payloads(
            notice,
            &PayloadOptions {
                username: username.clone(),
                mention: mention.clone(),
                ..PayloadOptions::default()
            },
        ),
        ChannelKind::Webhook => vec![webhook::payload(notice)],
    }
}

/// A channel ready to send.
#[derive(Debug)]
pub enum Outlet {
    Discord(DiscordWebhook),
    Webhook(JsonWebhook),
}

const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

impl Outlet {
    /// `channel` with its URL from `secrets` (the environment or config/.env).
    pub fn open(channel: &Channel, secrets: &Secrets, patience: Patience) -> Result<Self, Failure> {
        let url = secrets
            .get(&channel.url_env)
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| {
                Failure::new(
                    FailureKind::Unusable,
                    format!(
                        "${} is not set, so the {} channel cannot send; put the URL in config/.env ({}=https://…) or the environment",
                        channel.url_env, channel.name, channel.url_env
                    ),
                )
            })?;
        let backoff = Duration::from_secs(1);
        Ok(match channel.kind {
            ChannelKind::Discord { .. } => Outlet::Discord(
                DiscordWebhook::new(&url, &channel.url_env, REQUEST_TIMEOUT)?
                    .with_retries(patience.attempts(), backoff)
                    .with_max_wait(patience.max_wait()),
            ),
            ChannelKind::Webhook => Outlet::Webhook(
                JsonWebhook::new(&url, &channel.url_env, REQUEST_TIMEOUT)?.with_patience(
                    patience.attempts(),
                    backoff,
                    patience.max_wait(),
                ),
            ),
        })
    }

    /// Post one body; Ok once the channel confirmed it.
    pub fn send(&self, body: &Value) -> Result<(), Failure> {
        match self {
            Outlet::Discord(hook) => hook.send(body).map(|_| ()).map_err(Failure::from),
            Outlet::Webhook(hook) => hook.send(body),
        }
    }
}
