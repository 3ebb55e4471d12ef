//! Sending one payload to a Discord webhook (blocking, rustls), the way Discord asks
//! (apis.md §2): `?wait=true` so a 2xx means the message was saved; a 429 waited out
//! (`retry_after` in the body, else the `Retry-After` header) and resent, up to a total
//! wait; `X-RateLimit-Remaining: 0` honoured before the next send; 5xx and timeouts
//! retried with backoff; a 404 means the webhook is gone and must not be used again.
//!
//! The webhook URL holds its token: it is a credential. It is never in an error, a log
//! line or `Debug` output (only its host is), and reqwest's errors lose their URL here.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};

use crate::notify::http::{describe, webhook_client};
use reqwest::header::HeaderMap;
use serde_json::Value;

pub use super::error::SendError;

/// A message Discord confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The id of the created message (absent if Discord's answer had none).
    pub message_id: Option<String>,
}

/// A Discord webhook to post to.
pub struct DiscordWebhook {
    /// The full URL with `wait=true` (a credential).
    url: reqwest::Url,
    /// The variable the URL came from, named in errors.
    url_env: String,
    client: Client,
    /// The most a send waits in total for rate limits before giving up.
    max_wait: Duration,
    /// Tries after a 5xx or no answer (the first send included).
    attempts: u32,
    /// The first backoff; it doubles per try.
    backoff: Duration,
    /// When the bucket is empty (`X-RateLimit-Remaining: 0`): not before this instant.
    next_send: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for DiscordWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordWebhook")
            .field("host", &self.url.host_str().unwrap_or("?"))
            .field("url", &format_args!("[redacted:${}]", self.url_env))
            .field("max_wait", &self.max_wait)
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl DiscordWebhook {
    /// The webhook at `url` (read from the variable `url_env`), each request timing out
    /// after `timeout`; up to 60 s of rate-limit waits, 3 tries, backoff from 1 s.
    pub fn new(url: &str, url_env: &str, timeout: Duration) -> Result<Self, SendError> {
        let setup = |problem: &str| SendError::Setup {
            url_env: url_env.to_string(),
            problem: problem.to_string(),
        };
        let (mut url, client) = webhook_client(url, timeout).map_err(|p| setup(&p))?;
        url.query_pairs_mut().append_pair("wait", "true");
        Ok(Self {
            url,
            url_env: url_env.to_string(),
            client,
            max_wait: Duration::from_secs(60),
            attempts: 3,
            backoff: Duration::from_secs(1),
            next_send: Mutex::new(None),
        })
    }

    /// Wait at most `max_wait` in total for rate limits per send.
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Retry a 5xx or a missing answer up to `attempts` tries in all, the first backoff
    /// `backoff` (doubling).
    pub fn with_retries(mut self, attempts: u32, backoff: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self
    }

    /// Post `payload`; Ok once Discord confirmed it.
    pub fn send(&self, payload: &Value) -> Result<Sent, SendError> {
        let mut waited = Duration::ZERO;
        let mut failures = 0;
        loop {
            self.wait_for_bucket();
            let failure = match self.client.post(self.url.clone()).json(payload).send() {
                Ok(response) => {
                    self.note_bucket(response.headers());
                    match self.answer(response)? {
                        Answer::Sent(sent) => return Ok(sent),
                        Answer::RetryAfter(retry_after) => {
                            if waited + retry_after > self.max_wait {
                                return Err(SendError::RateLimited {
                                    retry_after,
                                    waited,
                                });
                            }
                            tracing::info!(?retry_after, "Discord rate limited a message; waiting");
                            std::thread::sleep(retry_after);
                            waited += retry_after;
                            continue;
                        }
                        Answer::ServerFailed(status) => SendError::Server {
                            status,
                            attempts: failures + 1,
                        },
                    }
                }
                Err(error) => SendError::Unreachable {
                    message: describe(error),
                    attempts: failures + 1,
                },
            };
            failures += 1;
            if failures >= self.attempts {
                return Err(failure);
            }
            let pause = self.backoff * 2u32.saturating_pow(failures - 1);
            tracing::warn!("sending to Discord failed, retrying in {pause:?}: {failure}");
            std::thread::sleep(pause);
        }
    }

    fn answer(&self, response: Response) -> Result<Answer, SendError> {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().unwrap_or_default();
        if status.is_success() {
            let message_id = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string));
            return Ok(Answer::Sent(Sent { message_id }));
        }
        match status {
            StatusCode::TOO_MANY_REQUESTS => Ok(Answer::RetryAfter(retry_after(&body, &headers))),
            StatusCode::NOT_FOUND => Err(SendError::Gone {
                url_env: self.url_env.clone(),
            }),
            StatusCode::BAD_REQUEST => Err(SendError::Rejected(self.redact(&body))),
            status if status.is_server_error() => Ok(Answer::ServerFailed(status.as_u16())),
            status => Err(SendError::Refused {
                url_env: self.url_env.clone(),
                status: status.as_u16(),
                message: self.redact(&body),
            }),
        }
    }

    /// Sleep until the bucket a previous answer emptied has refilled.
    fn wait_for_bucket(&self) {
        let until = self
            .next_send
            .lock()
            .map(|mut next| next.take())
            .ok()
            .flatten();
        if let Some(pause) = until.and_then(|until| until.checked_duration_since(Instant::now())) {
            std::thread::sleep(pause.min(self.max_wait));
        }
    }

    fn note_bucket(&self, headers: &HeaderMap) {
        let remaining = header_text(headers, "x-ratelimit-remaining");
        let reset_after = header_text(headers, "x-ratelimit-reset-after").and_then(seconds);
        if let (Some("0"), Some(reset_after)) = (remaining.as_deref(), reset_after)
            && let Ok(mut next) = self.next_send.lock()
        {
            *next = Some(Instant::now() + reset_after);
        }
    }

    /// Discord's answer, short, without anything of the URL's path (its token).
    fn redact(&self, body: &str) -> String {
        let mut text: String = body.chars().take(500).collect();
        for secret in self.url.path_segments().into_iter().flatten() {
            if secret.len() >= 8 {
                text = text.replace(secret, "[redacted]");
            }
        }
        text
    }
}

enum Answer {
    Sent(Sent),
    RetryAfter(Duration),
    ServerFailed(u16),
}

/// How long a 429 asks to wait: the body's `retry_after` (seconds, may have decimals),
/// else the `Retry-After` header, else one second.
fn retry_after(body: &str, headers: &HeaderMap) -> Duration {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("retry_after").and_then(Value::as_f64))
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .or_else(|| header_text(headers, "retry-after").and_then(seconds))
        .unwrap_or(Duration::from_secs(1))
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)?
        .to_str()
        .ok()
        .map(|s| s.trim().to_string())
}

fn seconds(text: String) -> Option<Duration> {
    Duration::try_from_secs_f64(text.parse::<f64>().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_prefers_the_body_then_the_header() {
        let both = headers(&[("retry-after", "2")]);
        assert_eq!(
            retry_after(r#"{"retry_after": 0.25}"#, &both),
            Duration::from_millis(250)
        );
        assert_eq!(retry_after("not json", &both), Duration::from_secs(2));
        assert_eq!(retry_after("{}", &headers(&[])), Duration::from_secs(1));
    }

    #[test]
    fn an_empty_bucket_delays_the_next_send_only() {
        let hook = DiscordWebhook::new(
            "https://discord.test/api/webhooks/1/tok",
            "X",
            Duration::from_secs(1),
        )
        .unwrap();
        hook.note_bucket(&headers(&[
            ("x-ratelimit-remaining", "3"),
            ("x-ratelimit-reset-after", "5"),
        ]));
        assert!(
            hook.next_send.lock().unwrap().is_none(),
            "tokens left: no wait"
        );
        hook.note_bucket(&headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", "0.05"),
        ]));
        assert!(hook.next_send.lock().unwrap().is_some());
        hook.wait_for_bucket();
        assert!(hook.next_send.lock().unwrap().is_none(), "waited once");
    }

    #[test]
    fn the_query_asks_discord_to_confirm() {
        let hook = DiscordWebhook::new(
            "https://discord.test/api/webhooks/1/tok?thread_id=9",
            "X",
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(hook.url.query(), Some("thread_id=9&wait=true"));
    }
}
