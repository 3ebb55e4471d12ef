//! The HTTP side shared by the model providers: one blocking client per provider, the three
//! timeouts, the API key kept out of every message (its `Debug` prints `[redacted]`, its
//! header is marked sensitive, and error texts from the API are scrubbed of it), and the
//! mapping of transport failures to [`LlmError`] (statuses are mapped in [`super::status`]).
//!
//! Timeouts: `connect` is the client's connect timeout; `idle` is reqwest's blocking
//! per-wait timeout, which bounds the wait for the response head and then every single read
//! of the body (so a server that accepts and never answers, or stalls mid-stream, ends in
//! [`TimeoutPhase::Idle`]); `overall` bounds the whole call: the exchange runs on its own
//! thread and the caller waits for it at most [`CANCEL_CHECK`] at a time, so neither a
//! server trickling bytes nor one that never answers holds a call past `overall`, and a
//! stopping dayshift is heard within that slice ([`HttpClient::post_sse`]).

use std::error::Error as StdError;
use std::fmt;
use std::io::Read;
use std::time::{Duration, Instant};

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::sse::SseStream;
use super::status::status_error;
use super::{LlmError, TimeoutPhase};
use crate::process::CANCEL_CHECK;

/// How long a call may wait, per phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the TCP (and TLS) connection.
    pub connect: Duration,
    /// No byte from the server: before the response head or between two chunks.
    pub idle: Duration,
    /// The whole call, from sending to the last event (long answers from slow local models
    /// need minutes).
    pub overall: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            overall: Duration::from_secs(600),
        }
    }
}

/// An API key. Its `Debug` never shows it; only [`ApiKey::expose`] does, for the header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "[redacted]")
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Who is calling, for error messages: the provider's name and where its key comes from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub provider: String,
    pub key: Option<ApiKey>,
    /// The variable a refused key should be checked in.
    pub key_env: String,
}

impl Caller {
    pub fn redact(&self, text: &str) -> String {
        match &self.key {
            Some(key) => key.redact(text),
            None => text.to_string(),
        }
    }
}

/// Everything an HTTP provider is built from (agents.yaml data plus the key and timeouts).
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The provider's name in agents.yaml.
    pub name: String,
    pub model: String,
    /// Without a trailing `/`; `None` means the vendor's public API.
    pub base_url: Option<String>,
    /// `None` for local servers that need no key (no auth header is sent).
    pub key: Option<ApiKey>,
    /// Where the key comes from, for messages.
    pub key_env: String,
    pub timeouts: Timeouts,
}

impl Endpoint {
    pub fn caller(&self) -> Caller {
        Caller {
            provider: self.name.clone(),
            key: self.key.clone(),
            key_env: self.key_env.clone(),
        }
    }
}

/// What every HTTP provider holds: its endpoint, the URL it posts to, the redacting
/// caller and a client with its timeouts.
#[derive(Debug)]
pub struct Connection {
    pub endpoint: Endpoint,
    /// `{base_url}{path}`.
    pub url: String,
    pub caller: Caller,
    pub http: HttpClient,
}

impl Connection {
    pub fn new(endpoint: Endpoint, default_base: &str, path: &str) -> Result<Self, LlmError> {
        let base = endpoint.base_url.as_deref().unwrap_or(default_base);
        let http = HttpClient::new(endpoint.timeouts, base)?;
        Ok(Self {
            url: format!("{}{path}", base.trim_end_matches('/')),
            caller: endpoint.caller(),
            http,
            endpoint,
        })
    }

    /// POST `body` to the provider's URL and open the event stream of the answer.
    pub fn post(
        &self,
        headers: &[(&'static str, &str)],
        body: &serde_json::Value,
    ) -> Result<SseStream<Body>, LlmError> {
        self.http.post_sse(&self.caller, &self.url, headers, body)
    }
}

/// A blocking HTTP client with the provider's timeouts.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: Client,
    timeouts: Timeouts,
}

impl HttpClient {
    /// A client for calls to `url`. The system proxy (`HTTPS_PROXY`, …) is used except for a
    /// server on this machine (a local model behind a corporate proxy still works).
    pub fn new(timeouts: Timeouts, url: &str) -> Result<Self, LlmError> {
        let mut builder = Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.idle.min(timeouts.overall))
            .user_agent(concat!("dayshift/", env!("CARGO_PKG_VERSION")));
        if is_loopback(url) {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| LlmError::Config(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Self { client, timeouts })
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// POST `body` as JSON and return the event stream of a 2xx answer; any other status
    /// becomes its typed error. `headers` carry the key, marked sensitive.
    ///
    /// The exchange runs on a thread of its own ([`call`]), and this thread only waits for
    /// what it hands over, [`CANCEL_CHECK`] at a time: the `overall` deadline and
    /// cancellation (a SIGTERM, `dayshift stop`) are seen within that, whatever the server
    /// does — never answering, or trickling a byte at a time, headers included. An abandoned
    /// exchange ends on its own at the next idle timeout; nobody waits for it.
    pub fn post_sse(
        &self,
        caller: &Caller,
        url: &str,
        headers: &[(&'static str, &str)],
        body: &serde_json::Value,
    ) -> Result<SseStream<Body>, LlmError> {
        let started = Instant::now();
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                LlmError::Config(format!(
                    "{}: the value for header {name} has characters HTTP cannot carry; check {}",
                    caller.provider, caller.key_env
                ))
            })?;
            value.set_sensitive(true);
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| LlmError::Config(format!("invalid header name {name}")))?;
            map.insert(name, value);
        }
        map.insert("accept", HeaderValue::from_static("text/event-stream"));
        let request = self.client.post(url).headers(map).json(body);
        let t = self.timeouts;
        let mut body = Body {
            rx: call(request, &caller.provider)?,
            chunk: Vec::new(),
            at: 0,
            deadline: started + t.overall,
        };
        let head = match body.wait() {
            Ok(Msg::Head(head)) => head,
            Ok(Msg::SendFailed(e)) => return Err(self.send_error(caller, &e, started)),
            Ok(_) => {
                return Err(LlmError::Malformed {
                    provider: caller.provider.clone(),
                    detail: "the exchange ended before an answer".into(),
                });
            }
            Err(Abandoned::Deadline) => {
                return Err(LlmError::Timeout {
                    provider: caller.provider.clone(),
                    phase: TimeoutPhase::Overall,
                    after: t.overall,
                });
            }
            Err(Abandoned::Cancelled) => {
                return Err(LlmError::Cancelled {
                    provider: caller.provider.clone(),
                });
            }
        };
        if let Some(text) = head.refusal {
            let status = head.status;
            if (200..300).contains(&status) {
                // A server that ignored `stream: true`, or reported an error as a 200.
                let message = caller.redact(&super::status::api_message(&text, status));
                return Err(LlmError::Malformed {
                    provider: caller.provider.clone(),
                    detail: format!("expected an event stream, got JSON: {message}"),
                });
            }
            return Err(status_error(caller, status, &head.headers, &text));
        }
        Ok(SseStream::new(
            body,
            &caller.provider,
            started,
            t.idle,
            t.overall,
        ))
    }

    fn send_error(&self, caller: &Caller, e: &reqwest::Error, started: Instant) -> LlmError {
        let provider = caller.provider.clone();
        let t = self.timeouts;
        if e.is_timeout() {
            let (phase, after) = if e.is_connect() {
                (TimeoutPhase::Connect, t.connect)
            } else if started.elapsed() >= t.overall {
                (TimeoutPhase::Overall, t.overall)
            } else {
                (TimeoutPhase::Idle, t.idle)
            };
            return LlmError::Timeout {
                provider,
                phase,
                after,
            };
        }
        LlmError::Connection {
            provider,
            detail: caller.redact(&error_chain(e)),
        }
    }
}

/// What the exchange's thread hands over, in order: the head (or why there is none), then
/// the body's chunks and its end.
enum Msg {
    Head(Head),
    SendFailed(reqwest::Error),
    Chunk(Vec<u8>),
    End,
    Broken(std::io::Error),
}

/// The response head, and the body's text when it is not an event stream (an error status,
/// or JSON) — read on the exchange's thread, 64 KiB at most.
struct Head {
    status: u16,
    headers: HeaderMap,
    refusal: Option<String>,
}

/// Bytes of the body per message.
const CHUNK: usize = 16 << 10;

/// Start the exchange on its own thread; its messages arrive on the returned channel. The
/// thread stops when the body ends or the receiver is gone.
fn call(request: RequestBuilder, provider: &str) -> Result<Receiver<Msg>, LlmError> {
    let (tx, rx) = mpsc::sync_channel(8);
    let spawned = std::thread::Builder::new()
        .name("dayshift-http".into())
        .spawn(move || exchange(request, &tx));
    spawned.map_err(|e| LlmError::Connection {
        provider: provider.to_string(),
        detail: format!("cannot start the call's thread: {e}"),
    })?;
    Ok(rx)
}

fn exchange(request: RequestBuilder, tx: &SyncSender<Msg>) {
    let mut response = match request.send() {
        Ok(response) => response,
        Err(e) => {
            let _ = tx.send(Msg::SendFailed(e));
            return;
        }
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(200..300).contains(&status) || is_json {
        let mut text = String::new();
        let _ = (&mut response).take(64 << 10).read_to_string(&mut text);
        let refusal = Some(text);
        let _ = tx.send(Msg::Head(Head {
            status,
            headers,
            refusal,
        }));
        return;
    }
    let head = Head {
        status,
        headers,
        refusal: None,
    };
    if tx.send(Msg::Head(head)).is_err() {
        return;
    }
    loop {
        let mut buf = vec![0; CHUNK];
        let msg = match response.read(&mut buf) {
            Ok(0) => Msg::End,
            Ok(n) => {
                buf.truncate(n);
                Msg::Chunk(buf)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => Msg::Broken(e),
        };
        let last = matches!(msg, Msg::End | Msg::Broken(_));
        if tx.send(msg).is_err() || last {
            return;
        }
    }
}

/// Why [`Body`] stopped waiting for the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Abandoned {
    #[error("the call's overall deadline passed")]
    Deadline,
    #[error("dayshift is stopping")]
    Cancelled,
}

/// The answer's body as the exchange's thread hands it over. Every read waits at most
/// [`CANCEL_CHECK`] at a time and fails at the overall deadline (`TimedOut`) or when
/// dayshift is stopping (an [`Abandoned`] inside the error).
pub struct Body {
    rx: Receiver<Msg>,
    chunk: Vec<u8>,
    at: usize,
    deadline: Instant,
}

impl Body {
    /// The next message, waiting in short slices for the deadline and cancellation.
    fn wait(&mut self) -> Result<Msg, Abandoned> {
        loop {
            if crate::process::cancelled() {
                return Err(Abandoned::Cancelled);
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Abandoned::Deadline);
            }
            match self.rx.recv_timeout(left.min(CANCEL_CHECK)) {
                Ok(msg) => return Ok(msg),
                Err(RecvTimeoutError::Timeout) => {}
                // the thread ended without a word: treat as the end (it sends End first)
                Err(RecvTimeoutError::Disconnected) => return Ok(Msg::End),
            }
        }
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.chunk.len() {
            match self.wait() {
                Ok(Msg::Chunk(bytes)) => {
                    self.chunk = bytes;
                    self.at = 0;
                }
                Ok(Msg::Broken(e)) => return Err(e),
                Ok(_) => return Ok(0),
                Err(Abandoned::Deadline) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        Abandoned::Deadline,
                    ));
                }
                Err(why) => return Err(std::io::Error::other(why)),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The error and all its causes, joined, e.g. `error sending request …: tcp connect error:
/// Connection refused (os error 111)`.
pub fn error_chain(e: &dyn StdError) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// Whether `url` names this machine (`localhost`, `127.x.x.x`, `[::1]`).
pub fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a read error is a timeout (reqwest wraps its own timeouts in an `io::Error`).
pub fn io_is_timeout(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:11434/v1"));
        assert!(is_loopback("http://localhost/v1"));
        assert!(is_loopback("http://[::1]:8080"));
        assert!(!is_loopback("https://api.anthropic.com"));
        assert!(!is_loopback("http://10.0.0.2:8000/v1"));
    }

    #[test]
    fn api_key_debug_is_redacted() {
        let key = ApiKey::new("sk-canary-secret");
        assert_eq!(format!("{key:?}"), "[redacted]");
        assert_eq!(key.redact("a sk-canary-secret b"), "a [redacted] b");
    }
}
