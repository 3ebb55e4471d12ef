//! Any OpenAI-compatible chat completions API, streamed: OpenAI itself, and through
//! `base_url` Ollama, vLLM, the llama.cpp server, OpenRouter and the like.
//!
//! The system prompt is a `system` message; the answer is streamed with
//! `stream_options.include_usage` so the last chunk carries the token counts. An answer
//! counts only when a `finish_reason` other than `length` arrived and the stream ended with
//! `data: [DONE]`; otherwise it is [`LlmError::Truncated`]. The key is sent as a bearer token
//! only when one is configured (local servers need none). Usage follows Anthropic's split:
//! `input_tokens` are the prompt tokens not read from the cache, `cache_read_tokens` the
//! cached ones (`prompt_tokens_details.cached_tokens`), so their sum is the whole prompt and
//! nothing is counted twice.

use serde::Deserialize;
use serde_json::json;

use super::http::{Connection, Endpoint};
use super::{Answer, LlmError, Provider, Request, Usage};

/// The public API, used when agents.yaml gives no `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// A model behind an OpenAI-compatible chat completions API.
#[derive(Debug)]
pub struct OpenAiProvider {
    conn: Connection,
}

impl OpenAiProvider {
    pub fn new(endpoint: Endpoint) -> Result<Self, LlmError> {
        Ok(Self {
            conn: Connection::new(endpoint, DEFAULT_BASE_URL, "/chat/completions")?,
        })
    }

    /// The JSON body of a request (public for tests and recording).
    pub fn body(&self, request: &Request) -> serde_json::Value {
        let mut messages = Vec::with_capacity(request.messages.len() + 1);
        if !request.system.is_empty() {
            messages.push(json!({"role": "system", "content": request.system}));
        }
        messages.extend(request.messages.iter().map(|m| json!(m)));
        let mut body = json!({
            "model": self.conn.endpoint.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        if let Some(t) = request.temperature {
            // Rounded, so 0.2f32 goes out as 0.2 and not 0.20000000298023224.
            body["temperature"] = json!((f64::from(t) * 1e6).round() / 1e6);
        }
        body
    }
}

#[derive(Deserialize)]
struct Chunk {
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<ApiUsage>,
    /// Some servers (vLLM, OpenRouter) report a failure inside the stream.
    error: Option<ChunkError>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
}

#[derive(Deserialize)]
struct ApiUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: u64,
}

#[derive(Deserialize)]
struct ChunkError {
    #[serde(default)]
    message: String,
    code: Option<serde_json::Value>,
}

impl Provider for OpenAiProvider {
    fn name(&self) -> &str {
        &self.conn.endpoint.name
    }

    fn complete(&self, request: &Request) -> Result<Answer, LlmError> {
        let bearer = self
            .conn
            .endpoint
            .key
            .as_ref()
            .map(|k| format!("Bearer {}", k.expose()));
        let headers: Vec<(&'static str, &str)> = bearer
            .iter()
            .map(|b| ("authorization", b.as_str()))
            .collect();
        let mut stream = self.conn.post(&headers, &self.body(request))?;
        let provider = || self.conn.endpoint.name.clone();
        let mut text = String::new();
        let mut usage = Usage::default();
        let mut model = self.conn.endpoint.model.clone();
        let mut finish_reason: Option<String> = None;
        while let Some(event) = stream.next_event()? {
            if event.data.trim() == "[DONE]" {
                return match finish_reason.as_deref() {
                    None => Err(truncated(
                        provider(),
                        "the stream ended without a finish_reason",
                    )),
                    Some("length") => Err(truncated(provider(), "max_tokens reached")),
                    Some("content_filter") => {
                        Err(truncated(provider(), "stopped by the content filter"))
                    }
                    Some(_) => Ok(Answer {
                        text,
                        usage,
                        model,
                        provider: provider(),
                    }),
                };
            }
            let chunk: Chunk =
                serde_json::from_str(&event.data).map_err(|e| LlmError::Malformed {
                    provider: provider(),
                    detail: format!("chunk: {e}"),
                })?;
            if let Some(error) = chunk.error {
                return Err(self.stream_error(error));
            }
            if let Some(m) = chunk.model.filter(|m| !m.is_empty()) {
                model = m;
            }
            for choice in chunk.choices.into_iter().take(1) {
                if let Some(content) = choice.delta.and_then(|d| d.content) {
                    text.push_str(&content);
                }
                finish_reason = choice.finish_reason.or(finish_reason);
            }
            if let Some(u) = chunk.usage {
                let cached = u.prompt_tokens_details.map_or(0, |d| d.cached_tokens);
                usage = Usage {
                    input_tokens: u.prompt_tokens.saturating_sub(cached),
                    output_tokens: u.completion_tokens,
                    cache_read_tokens: cached,
                    cache_write_tokens: 0,
                };
            }
        }
        Err(truncated(provider(), "the stream ended before [DONE]"))
    }
}

impl OpenAiProvider {
    /// An error object inside a 200 stream, typed by its code where it has one.
    fn stream_error(&self, error: ChunkError) -> LlmError {
        let provider = self.conn.endpoint.name.clone();
        let code = match &error.code {
            Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(500),
            Some(serde_json::Value::String(s)) if s == "rate_limit_exceeded" => 429,
            Some(serde_json::Value::String(s)) if s == "context_length_exceeded" => {
                return LlmError::ContextTooLong { provider };
            }
            _ => 500,
        };
        match code {
            429 => LlmError::RateLimited {
                provider,
                retry_after: None,
            },
            _ if super::status::is_context_too_long(&error.message.to_lowercase()) => {
                LlmError::ContextTooLong { provider }
            }
            400..=499 => LlmError::BadRequest {
                provider,
                status: code as u16,
                message: self.conn.caller.redact(&error.message),
            },
            _ => LlmError::Server {
                provider,
                status: 500,
                retry_after: None,
            },
        }
    }
}

fn truncated(provider: String, reason: &str) -> LlmError {
    LlmError::Truncated {
        provider,
        reason: reason.into(),
    }
}
