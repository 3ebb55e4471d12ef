//! The Anthropic Messages API, streamed.
//!
//! The system prompt (dayshift's long, stable instructions) goes as one text block marked
//! `cache_control: ephemeral`, so repeated calls of a job read it from the prompt cache. The
//! answer is streamed (`stream: true`) so a long answer never sits behind one silent
//! request: the idle timeout applies between events. Events are parsed into a typed enum;
//! an answer counts only when `message_stop` arrived and the stop reason is not
//! `max_tokens`: anything less is [`LlmError::Truncated`], never a partial [`Answer`].

use serde::Deserialize;
use serde_json::json;

use super::http::{Connection, Endpoint};
use super::{Answer, LlmError, Provider, Request, Usage};

/// The public API, used when agents.yaml gives no `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const API_VERSION: &str = "2023-06-01";

/// A model behind the Anthropic Messages API.
#[derive(Debug)]
pub struct AnthropicProvider {
    conn: Connection,
}

impl AnthropicProvider {
    pub fn new(endpoint: Endpoint) -> Result<Self, LlmError> {
        Ok(Self {
            conn: Connection::new(endpoint, DEFAULT_BASE_URL, "/v1/messages")?,
        })
    }

    /// The JSON body of a request (public for tests and recording).
    pub fn body(&self, request: &Request) -> serde_json::Value {
        let mut body = json!({
            "model": self.conn.endpoint.model,
            "max_tokens": request.max_tokens,
            "messages": request.messages,
            "stream": true,
        });
        if !request.system.is_empty() {
            body["system"] = json!([{
                "type": "text",
                "text": request.system,
                "cache_control": {"type": "ephemeral"},
            }]);
        }
        if let Some(t) = request.temperature {
            // Rounded, so 0.2f32 goes out as 0.2 and not 0.20000000298023224.
            body["temperature"] = json!((f64::from(t) * 1e6).round() / 1e6);
        }
        body
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockDelta {
        delta: Delta,
    },
    MessageDelta {
        delta: StopDelta,
        usage: Option<ApiUsage>,
    },
    MessageStop,
    Error {
        error: ApiError,
    },
    /// `ping`, `content_block_start`, `content_block_stop` and whatever comes next.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct StartMessage {
    model: Option<String>,
    usage: Option<ApiUsage>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Delta {
    TextDelta {
        text: String,
    },
    /// Thinking and tool-input deltas carry no answer text.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct StopDelta {
    stop_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct ApiUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

impl ApiUsage {
    /// Later counts replace earlier ones (`message_delta` carries the final totals).
    fn apply(&self, usage: &mut Usage) {
        let set = |slot: &mut u64, value: Option<u64>| *slot = value.unwrap_or(*slot);
        set(&mut usage.input_tokens, self.input_tokens);
        set(&mut usage.output_tokens, self.output_tokens);
        set(
            &mut usage.cache_write_tokens,
            self.cache_creation_input_tokens,
        );
        set(&mut usage.cache_read_tokens, self.cache_read_input_tokens);
    }
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: String,
}

impl Provider for AnthropicProvider {
    fn name(&self) -> &str {
        &self.conn.endpoint.name
    }

    fn complete(&self, request: &Request) -> Result<Answer, LlmError> {
        let key = self
            .conn
            .endpoint
            .key
            .as_ref()
            .map(|k| k.expose())
            .unwrap_or("");
        let mut headers = vec![("anthropic-version", API_VERSION)];
        if !key.is_empty() {
            headers.push(("x-api-key", key));
        }
        let mut stream = self.conn.post(&headers, &self.body(request))?;
        let provider = || self.conn.endpoint.name.clone();
        let mut text = String::new();
        let mut usage = Usage::default();
        let mut model = self.conn.endpoint.model.clone();
        let mut stop_reason = None;
        while let Some(event) = stream.next_event()? {
            let parsed: Event =
                serde_json::from_str(&event.data).map_err(|e| LlmError::Malformed {
                    provider: provider(),
                    detail: format!(
                        "event {}: {e}",
                        event.event.as_deref().unwrap_or("(unnamed)")
                    ),
                })?;
            match parsed {
                Event::MessageStart { message } => {
                    if let Some(m) = message.model {
                        model = m;
                    }
                    message.usage.unwrap_or_default().apply(&mut usage);
                }
                Event::ContentBlockDelta {
                    delta: Delta::TextDelta { text: t },
                } => text.push_str(&t),
                Event::ContentBlockDelta {
                    delta: Delta::Other,
                }
                | Event::Other => {}
                Event::MessageDelta { delta, usage: u } => {
                    stop_reason = delta.stop_reason.or(stop_reason);
                    u.unwrap_or_default().apply(&mut usage);
                }
                Event::Error { error } => return Err(self.stream_error(error)),
                Event::MessageStop => {
                    return finish(
                        provider(),
                        stop_reason,
                        Answer {
                            text,
                            usage,
                            model,
                            provider: provider(),
                        },
                    );
                }
            }
        }
        Err(LlmError::Truncated {
            provider: provider(),
            reason: "the stream ended before message_stop".into(),
        })
    }
}

impl AnthropicProvider {
    /// An `error` event inside a 200 stream, typed like the HTTP status it stands for.
    fn stream_error(&self, error: ApiError) -> LlmError {
        let provider = self.conn.endpoint.name.clone();
        match error.kind.as_str() {
            "overloaded_error" => LlmError::Server {
                provider,
                status: 529,
                retry_after: None,
            },
            "api_error" | "timeout_error" => LlmError::Server {
                provider,
                status: 500,
                retry_after: None,
            },
            "rate_limit_error" => LlmError::RateLimited {
                provider,
                retry_after: None,
            },
            "authentication_error" | "permission_error" => LlmError::Unauthorized {
                provider,
                status: 401,
                key_env: self.conn.endpoint.key_env.clone(),
            },
            _ if super::status::is_context_too_long(&error.message.to_lowercase()) => {
                LlmError::ContextTooLong { provider }
            }
            _ => LlmError::BadRequest {
                provider,
                status: 200,
                message: self
                    .conn
                    .caller
                    .redact(&format!("{}: {}", error.kind, error.message)),
            },
        }
    }
}

fn finish(
    provider: String,
    stop_reason: Option<String>,
    answer: Answer,
) -> Result<Answer, LlmError> {
    match stop_reason.as_deref() {
        Some("max_tokens") => Err(LlmError::Truncated {
            provider,
            reason: "max_tokens reached".into(),
        }),
        Some("model_context_window_exceeded") => Err(LlmError::ContextTooLong { provider }),
        _ => Ok(answer),
    }
}
