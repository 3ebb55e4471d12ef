//! HTTP statuses of the model APIs → [`LlmError`]: what a retry can fix (429, 5xx, with the
//! server's `retry-after`) and what it cannot (a refused key, a prompt too long, a bad
//! request, reported with the API's own message and never with the key).

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::LlmError;
use super::http::Caller;

/// The typed error for a non-2xx answer.
pub fn status_error(caller: &Caller, status: u16, headers: &HeaderMap, body: &str) -> LlmError {
    let provider = caller.provider.clone();
    let lower = body.to_lowercase();
    match status {
        429 => LlmError::RateLimited {
            provider,
            retry_after: retry_after(headers, SystemTime::now()),
        },
        408 | 500..=599 => LlmError::Server {
            provider,
            status,
            retry_after: retry_after(headers, SystemTime::now()),
        },
        401 | 403 => LlmError::Unauthorized {
            provider,
            status,
            key_env: caller.key_env.clone(),
        },
        413 => LlmError::ContextTooLong { provider },
        400 if is_context_too_long(&lower) => LlmError::ContextTooLong { provider },
        _ => LlmError::BadRequest {
            provider,
            status,
            message: caller.redact(&api_message(body, status)),
        },
    }
}

/// Whether an API error text says the prompt does not fit the model's context.
pub fn is_context_too_long(lower: &str) -> bool {
    [
        "context_length_exceeded",
        "prompt is too long",
        "maximum context length",
        "context window",
        "too many tokens",
    ]
    .iter()
    .any(|marker| lower.contains(marker))
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<ErrorField>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorField {
    Detailed { message: Option<String> },
    Text(String),
}

/// The API's own error message (Anthropic, OpenAI and Ollama shapes), else the raw body.
pub fn api_message(body: &str, status: u16) -> String {
    let parsed = serde_json::from_str::<ErrorBody>(body)
        .ok()
        .and_then(|b| match b.error {
            Some(ErrorField::Detailed { message }) => message,
            Some(ErrorField::Text(text)) => Some(text),
            None => b.message,
        });
    let text = parsed.unwrap_or_else(|| body.trim().to_string());
    if text.is_empty() {
        return format!("HTTP {status} with no message");
    }
    text.chars().take(500).collect()
}

/// The wait a 429 or 5xx asks for: `retry-after-ms`, else `retry-after` in seconds or as an
/// HTTP date (relative to `now`).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::from(date);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::llm::http::ApiKey;
    use reqwest::header::HeaderValue;

    fn caller() -> Caller {
        Caller {
            provider: "p".into(),
            key: Some(ApiKey::new("sk-canary-secret")),
            key_env: "P_KEY".into(),
        }
    }

    #[test]
    fn retry_after_reads_seconds_milliseconds_and_dates() {
        let mut h = HeaderMap::new();
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_470);
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(2)));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(10)));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_millis(250)));
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn statuses_map_to_typed_errors_without_the_key() {
        let h = HeaderMap::new();
        let c = caller();
        assert!(matches!(
            status_error(&c, 529, &h, ""),
            LlmError::Server { status: 529, .. }
        ));
        let too_long = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#;
        assert_eq!(
            status_error(&c, 400, &h, too_long),
            LlmError::ContextTooLong {
                provider: "p".into()
            }
        );
        let bad = r#"{"error":{"message":"bad key sk-canary-secret in model"}}"#;
        let e = status_error(&c, 404, &h, bad);
        assert_eq!(
            e.to_string(),
            "p: the request was refused (HTTP 404): bad key [redacted] in model"
        );
        assert_eq!(
            api_message(r#"{"error":"model 'x' not found"}"#, 404),
            "model 'x' not found"
        );
        assert_eq!(api_message("", 418), "HTTP 418 with no message");
    }
}
