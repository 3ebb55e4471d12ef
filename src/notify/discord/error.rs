//! Why a payload did not reach Discord, each with what to do, and whether sending it
//! again later may work (what an outbox keeps). No variant holds the webhook URL.

use std::time::Duration;

/// Why a payload was not sent. No variant holds the webhook URL.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The URL or the HTTP client is unusable.
    #[error(
        "the Discord webhook in ${url_env} cannot be used: {problem}; set ${url_env} to the webhook's URL (Discord: channel settings → Integrations → Webhooks → Copy Webhook URL)"
    )]
    Setup { url_env: String, problem: String },
    /// 404: the webhook was deleted (Discord asks to stop using it).
    #[error(
        "the Discord webhook in ${url_env} no longer exists (404); dayshift stops using it: create a new webhook and check ${url_env}"
    )]
    Gone { url_env: String },
    /// 400: Discord refused the payload (its answer, which never holds the URL).
    #[error(
        "Discord refused the message (400: {0}); this is a bug in dayshift's payload, please report it"
    )]
    Rejected(String),
    /// 401/403 and other refusals.
    #[error("Discord refused the webhook ({status}: {message}); check ${url_env}")]
    Refused {
        url_env: String,
        status: u16,
        message: String,
    },
    /// Still rate limited when the allowed wait ran out.
    #[error(
        "Discord is rate limiting the webhook (asked to wait {retry_after:?} more after {waited:?}); it is sent later"
    )]
    RateLimited {
        retry_after: Duration,
        waited: Duration,
    },
    /// 5xx after the retries.
    #[error(
        "Discord failed ({status}) {attempts} times; it is Discord's side, the message is sent later"
    )]
    Server { status: u16, attempts: u32 },
    /// No answer (connection refused, timeout) after the retries.
    #[error(
        "cannot reach Discord ({message}) after {attempts} attempts; check the network, the message is sent later"
    )]
    Unreachable { message: String, attempts: u32 },
}

impl SendError {
    /// Whether sending the same payload later may succeed (an outbox keeps it).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SendError::RateLimited { .. }
                | SendError::Server { .. }
                | SendError::Unreachable { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let gone = SendError::Gone {
            url_env: "DISCORD_WEBHOOK_URL".into(),
        };
        assert_eq!(
            gone.to_string(),
            "the Discord webhook in $DISCORD_WEBHOOK_URL no longer exists (404); dayshift stops \
             using it: create a new webhook and check $DISCORD_WEBHOOK_URL"
        );
        let down = SendError::Server {
            status: 503,
            attempts: 3,
        };
        assert_eq!(
            down.to_string(),
            "Discord failed (503) 3 times; it is Discord's side, the message is sent later"
        );
        assert!(down.is_retryable() && !gone.is_retryable());
    }
}
