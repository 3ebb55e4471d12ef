//! Models: one [`Provider`] trait, implementations built from config/agents.yaml as data,
//! and the typed errors that separate what a retry can fix from what it cannot.
//!
//! A provider is synchronous (jobs are synchronous steps; the daemon runs them on blocking
//! threads). Several calls may be in flight from different threads at once, which is why the
//! budget reserves before a call rather than counting after it.

pub mod answers;
pub mod anthropic;
pub mod breaker;
pub mod budget;
pub mod build;
pub mod cassette;
pub mod client;
pub mod http;
pub mod models;
pub mod openai;
pub mod prompts;
pub mod reliable;
pub mod sse;
pub mod status;
pub mod structured;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::AgentName;
use crate::tasks::TaskId;

pub use crate::store::Usage;

/// Who a message is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

/// One call to a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Whose call it is: usage and budget are recorded against the agent.
    pub agent: AgentName,
    /// The job it belongs to, e.g. `morning` (usage is recorded per job too).
    pub job: Option<String>,
    pub task: Option<TaskId>,
    /// The long, stable part of the prompt (instructions, templates): cached where the
    /// provider supports prompt caching.
    pub system: String,
    pub messages: Vec<Message>,
    /// The most output tokens the answer may have; also the budget's worst case.
    pub max_tokens: u32,
    pub temperature: Option<f32>,
}

/// A complete answer. A truncated or malformed one is never an `Answer` but an [`LlmError`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub text: String,
    pub usage: Usage,
    /// The model that answered (as the API says).
    pub model: String,
    /// The provider name from agents.yaml (after any fallback).
    pub provider: String,
}

/// What went wrong with a call. [`LlmError::is_retryable`] separates the two families.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("{provider}: rate limited (HTTP 429){}", retry_hint(*retry_after))]
    RateLimited {
        provider: String,
        retry_after: Option<Duration>,
    },
    #[error("{provider}: server error (HTTP {status}){}", retry_hint(*retry_after))]
    Server {
        provider: String,
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("{provider}: {phase} timed out after {after:?}")]
    Timeout {
        provider: String,
        phase: TimeoutPhase,
        after: Duration,
    },
    #[error("{provider}: connection failed: {detail}")]
    Connection { provider: String, detail: String },
    #[error(
        "{provider}: the API key was refused (HTTP {status}); check {key_env} in config/.env or the environment"
    )]
    Unauthorized {
        provider: String,
        status: u16,
        key_env: String,
    },
    #[error("{provider}: the request was refused (HTTP {status}): {message}")]
    BadRequest {
        provider: String,
        status: u16,
        message: String,
    },
    #[error(
        "{provider}: the prompt is longer than the model's context; shorten it or raise the model"
    )]
    ContextTooLong { provider: String },
    #[error("{provider}: the answer was cut off ({reason}); it was not used")]
    Truncated { provider: String, reason: String },
    #[error("{provider}: the answer could not be read ({detail}); it was not used")]
    Malformed { provider: String, detail: String },
    #[error("{provider}: skipped after repeated failures (circuit open for {remaining:?} more)")]
    CircuitOpen {
        provider: String,
        remaining: Duration,
    },
    #[error("{0}")]
    Config(String),
    #[error(
        "replay: no recorded answer for agent {agent} and request {key} in {cassette}; record the run again"
    )]
    ReplayMiss {
        agent: String,
        key: String,
        cassette: String,
    },
    #[error("budget: {0}")]
    Budget(String),
    /// dayshift is stopping (a signal, or `dayshift stop`): the call was abandoned.
    #[error("{provider}: the call was abandoned because dayshift is stopping")]
    Cancelled { provider: String },
    /// The budget ledger (SQLite) could not be read or written.
    #[error("budget ledger: {0}")]
    Store(String),
}

/// Which wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutPhase {
    Connect,
    /// No byte between two chunks of a streamed answer for too long.
    Idle,
    /// The whole call.
    Overall,
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connecting",
            TimeoutPhase::Idle => "waiting for the next chunk",
            TimeoutPhase::Overall => "the call",
        })
    }
}

fn retry_hint(after: Option<Duration>) -> String {
    after
        .map(|d| format!("; retry after {d:?}"))
        .unwrap_or_default()
}

impl LlmError {
    /// 429, 5xx, connection resets and timeouts may pass on a retry; the rest will not.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            LlmError::RateLimited { .. }
                | LlmError::Server { .. }
                | LlmError::Timeout { .. }
                | LlmError::Connection { .. }
                | LlmError::Truncated { .. }
        )
    }

    /// The wait the server asked for, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::RateLimited { retry_after, .. } | LlmError::Server { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }
}

/// A model behind an API (or a cassette).
pub trait Provider: Send + Sync {
    /// The provider's name in agents.yaml.
    fn name(&self) -> &str;

    /// One attempt at a call: no retries here (see the reliability layer).
    fn complete(&self, request: &Request) -> Result<Answer, LlmError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_and_fatal_errors_are_told_apart() {
        let p = || "claude".to_string();
        assert!(
            LlmError::RateLimited {
                provider: p(),
                retry_after: Some(Duration::from_secs(2))
            }
            .is_retryable()
        );
        assert!(
            LlmError::Server {
                provider: p(),
                status: 503,
                retry_after: None
            }
            .is_retryable()
        );
        assert!(
            !LlmError::Unauthorized {
                provider: p(),
                status: 401,
                key_env: "K".into()
            }
            .is_retryable()
        );
        assert!(!LlmError::ContextTooLong { provider: p() }.is_retryable());
        let e = LlmError::RateLimited {
            provider: p(),
            retry_after: Some(Duration::from_millis(1500)),
        };
        assert_eq!(
            e.to_string(),
            "claude: rate limited (HTTP 429); retry after 1.5s"
        );
    }
}
