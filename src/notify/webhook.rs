//! The generic JSON webhook channel: one POST per notice, for Slack or Matrix bridges and
//! scripts. The body carries the notice's fields as data (`kind`, `title`, `summary`,
//! `fields`, `link`, `task`, `urgent`, `at`) and a ready-to-show `text` (what Slack's
//! incoming webhooks and most bridges display). Mentions are made inert in every text,
//! Slack's `<!channel>` form included.
//!
//! A 2xx is sent; a 429 or 5xx or no answer is tried again (the 429's Retry-After
//! honoured up to the allowed wait), then left for later; any other answer is a refusal.
//! The URL is a credential: no error holds it.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use super::Notice;
use super::channel::{Failure, FailureKind};
use super::discord::escape;
use super::http::{describe, webhook_client};

/// The JSON body for `notice`.
pub fn payload(notice: &Notice) -> Value {
    let inert = |text: &str| escape::mentions(text).replace("<!", "<\u{200B}!");
    let title = inert(&notice.title);
    let summary = inert(&notice.summary);
    let fields: Vec<Value> = notice
        .fields
        .iter()
        .map(|(name, value)| json!({"name": inert(name), "value": inert(value)}))
        .collect();
    let mut text = format!("*{title}*");
    if !summary.trim().is_empty() {
        text.push_str("\n\n");
        text.push_str(summary.trim());
    }
    for (name, value) in &notice.fields {
        text.push_str(&format!("\n{}: {}", inert(name), inert(value)));
    }
    if let Some(link) = &notice.link {
        text.push_str(&format!("\nMore: {}", inert(link)));
    }
    json!({
        "source": "dayshift",
        "kind": notice.kind.kind(),
        "title": title,
        "summary": summary,
        "fields": fields,
        "link": notice.link.as_deref().map(inert),
        "task": notice.task,
        "urgent": notice.urgent,
        "at": notice.at.to_rfc3339(),
        "text": text,
    })
}

/// A URL that takes a JSON POST.
pub struct JsonWebhook {
    url: reqwest::Url,
    url_env: String,
    client: Client,
    attempts: u32,
    backoff: Duration,
    max_wait: Duration,
}

impl std::fmt::Debug for JsonWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonWebhook")
            .field("host", &self.url.host_str().unwrap_or("?"))
            .field("url", &format_args!("[redacted:${}]", self.url_env))
            .finish()
    }
}

impl JsonWebhook {
    /// The webhook at `url` (from the variable `url_env`); requests time out after `timeout`.
    pub fn new(url: &str, url_env: &str, timeout: Duration) -> Result<Self, Failure> {
        let unusable = |problem: &str| {
            Failure::new(
                FailureKind::Unusable,
                format!(
                    "the webhook in ${url_env} cannot be used: {problem}; set ${url_env} to the URL that takes the JSON POST"
                ),
            )
        };
        let (url, client) = webhook_client(url, timeout).map_err(|p| unusable(&p))?;
        Ok(Self {
            url,
            url_env: url_env.to_string(),
            client,
            attempts: 3,
            backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
        })
    }

    /// Try up to `attempts` times, the first backoff `backoff` (doubling), waiting at most
    /// `max_wait` in all for rate limits.
    pub fn with_patience(mut self, attempts: u32, backoff: Duration, max_wait: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self.max_wait = max_wait;
        self
    }

    /// POST `body`; Ok once the other side answered 2xx.
    pub fn send(&self, body: &Value) -> Result<(), Failure> {
        let mut waited = Duration::ZERO;
        let mut tries = 0;
        loop {
            tries += 1;
            let problem = match self.client.post(self.url.clone()).json(body).send() {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
                    let pause = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .and_then(|s| Duration::try_from_secs_f64(s).ok())
                        .unwrap_or(self.backoff);
                    if waited + pause <= self.max_wait {
                        std::thread::sleep(pause);
                        waited += pause;
                        tries -= 1;
                        continue;
                    }
                    format!("rate limited (429, asked to wait {pause:?})")
                }
                Ok(response) if response.status().is_server_error() => {
                    format!("the server failed ({})", response.status().as_u16())
                }
                Ok(response) => {
                    return Err(Failure::new(
                        FailureKind::Unusable,
                        format!(
                            "the webhook in ${} refused the message ({}); check the URL in ${} and what the receiving side expects",
                            self.url_env,
                            response.status().as_u16(),
                            self.url_env
                        ),
                    ));
                }
                Err(error) => describe(error),
            };
            if tries >= self.attempts {
                return Err(Failure::new(
                    FailureKind::Later,
                    format!(
                        "the webhook in ${} did not take the message after {tries} tries ({problem}); it is sent later",
                        self.url_env
                    ),
                ));
            }
            std::thread::sleep(self.backoff * 2u32.saturating_pow(tries - 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::NoticeKind;

    #[test]
    fn the_body_is_data_and_text_and_pings_nobody() {
        let notice = Notice {
            kind: NoticeKind::NeedsPerson,
            title: "T-0007 waits: @everyone".into(),
            summary: "the model said <@123> and <!channel>".into(),
            fields: vec![("risk".into(), "high".into())],
            link: Some("tasks/in_review/T-0007.md".into()),
            task: Some("T-0007".into()),
            urgent: true,
            at: chrono::DateTime::parse_from_rfc3339("2026-12-06T09:00:00+06:00").unwrap(),
        };
        let body = payload(&notice);
        assert_eq!(body["kind"], "needs_person");
        assert_eq!(body["task"], "T-0007");
        assert_eq!(body["fields"][0]["value"], "high");
        let text = body.to_string();
        assert!(!text.contains("@everyone") && !text.contains("<@123>"));
        assert!(!text.contains("<!channel>"), "{text}");
        assert!(body["text"].as_str().unwrap().contains("risk: high"));
    }

    #[test]
    fn a_bad_url_is_unusable_and_not_echoed() {
        let e = JsonWebhook::new(
            "ftp://hooks.test/SECRETPATH",
            "OPS_HOOK",
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert_eq!(e.kind, FailureKind::Unusable);
        assert!(!e.message.contains("SECRETPATH"), "{}", e.message);
        assert!(e.message.contains("$OPS_HOOK"));
    }
}
