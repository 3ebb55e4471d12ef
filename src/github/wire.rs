//! The pieces of one exchange with GitHub: the method, what may be retried, the answer
//! and the headers dayshift reads, how long a rate limit says to wait, `Link` pages and
//! the encoding of names in paths and queries.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;

use super::error::GithubError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// What may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// GETs: rate limits, 5xx and transport errors.
    Read,
    /// PUT labels, PATCH, DELETE: doing them twice is doing them once.
    Idempotent,
    /// A merge or branch update: a rate-limited attempt did nothing, so it is sent again
    /// after the wait; after a 5xx it may have happened, so it is not.
    AfterRateLimit,
    /// POSTs that create something: never sent twice.
    Once,
}

/// The headers dayshift reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct Headers {
    pub retry_after: Option<u64>,
    pub remaining: Option<u64>,
    pub reset: Option<u64>,
    pub scopes: Option<String>,
    pub link: Option<String>,
}

/// A complete answer: status, the headers above and the body text.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Headers,
    pub body: String,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// GitHub's `message`, with its `errors` details when given.
    pub fn message(&self) -> String {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&self.body) else {
            return self.body.trim().chars().take(300).collect();
        };
        let mut message = value["message"].as_str().unwrap_or("").to_string();
        let details: Vec<String> = value["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                e.as_str()
                    .or_else(|| e["message"].as_str())
                    .map(str::to_string)
            })
            .collect();
        if !details.is_empty() {
            message = format!("{message}: {}", details.join("; "));
        }
        message
    }
}

/// `GET /repos/o/r/pulls/7`, naming a request in messages.
pub(crate) fn what(method: Method, path: &str) -> String {
    format!("{} {}", method.as_str(), path)
}

/// Parse an answer's JSON body.
pub(crate) fn parse<T: DeserializeOwned>(
    answer: &Answer,
    method: Method,
    path: &str,
) -> Result<T, GithubError> {
    serde_json::from_str(&answer.body).map_err(|e| GithubError::Decode {
        what: what(method, path),
        message: e.to_string(),
    })
}

/// How long to wait before sending again, when `answer` is a rate-limit refusal.
pub(crate) fn rate_limit_wait(
    answer: &Answer,
    attempt: u32,
    max_wait: Duration,
) -> Option<Duration> {
    let exhausted = answer.headers.remaining == Some(0);
    let limited = answer.status == 429
        || (answer.status == 403
            && (exhausted || answer.message().to_lowercase().contains("rate limit")));
    if !limited {
        return None;
    }
    let wait = match (answer.headers.retry_after, answer.headers.reset) {
        (Some(seconds), _) => Duration::from_secs(seconds),
        (None, Some(reset)) if exhausted => until_epoch(reset),
        _ => Duration::from_secs(60u64 << attempt.min(6)),
    };
    Some(wait.min(max_wait))
}

/// From now to `epoch` seconds (at least one second: GitHub's reset is rounded down).
pub(crate) fn until_epoch(epoch: u64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    Duration::from_secs(epoch.saturating_sub(now).max(1))
}

/// The `rel="next"` URL of a `Link` header.
pub(crate) fn next_link(link: &str) -> Option<&str> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| url.trim().trim_start_matches('<').trim_end_matches('>'))
    })
}

/// Percent-encode a path segment or query value (branch names, labels).
pub(crate) fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let plain = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/');
        if plain {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
