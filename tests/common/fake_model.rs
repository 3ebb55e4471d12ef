//! Fakes of the two model APIs on loopback: SSE bodies in each protocol's real shape,
//! wiremock templates, raw TCP servers that hang, stall or trickle, and a provider built
//! from config the way dayshift builds it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dayshift::config::AgentName;
use dayshift::config::Secrets;
use dayshift::config::agents::{ProviderConfig, ProviderKind};
use dayshift::llm::build::build_http_provider;
use dayshift::llm::http::Timeouts;
use dayshift::llm::reliable::Sleeper;
use dayshift::llm::{Message, Provider, Request, Role, Usage};
use serde_json::json;
use wiremock::ResponseTemplate;

pub const KEY_ENV: &str = "DAYSHIFT_FAKE_MODEL_KEY";
pub const MODEL: &str = "fake-model-1";

/// Short timeouts so faults end fast.
pub fn short_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        idle: Duration::from_millis(400),
        overall: Duration::from_secs(5),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Anthropic,
    OpenAi,
}

impl Proto {
    pub const ALL: [Proto; 2] = [Proto::Anthropic, Proto::OpenAi];

    /// The request path on a server whose root is `server.uri()`.
    pub fn path(self) -> &'static str {
        match self {
            Proto::Anthropic => "/v1/messages",
            Proto::OpenAi => "/v1/chat/completions",
        }
    }

    /// The `base_url` agents.yaml would carry for a server at `uri`.
    pub fn base_url(self, uri: &str) -> String {
        match self {
            Proto::Anthropic => uri.to_string(),
            Proto::OpenAi => format!("{uri}/v1"),
        }
    }

    /// A complete answer in this protocol.
    pub fn ok_body(self, text: &str, usage: Usage) -> String {
        match self {
            Proto::Anthropic => anthropic_sse(text, usage, "end_turn", true),
            Proto::OpenAi => openai_sse(text, usage, "stop", true),
        }
    }

    /// An answer whose stream ends early (no `message_stop` / no `[DONE]`).
    pub fn cut_body(self, text: &str) -> String {
        match self {
            Proto::Anthropic => anthropic_sse(text, Usage::default(), "end_turn", false),
            Proto::OpenAi => openai_sse(text, Usage::default(), "stop", false),
        }
    }

    /// An answer cut at max_tokens, properly terminated.
    pub fn max_tokens_body(self, text: &str) -> String {
        match self {
            Proto::Anthropic => anthropic_sse(text, Usage::default(), "max_tokens", true),
            Proto::OpenAi => openai_sse(text, Usage::default(), "length", true),
        }
    }

    /// The first event of a stream (for stalls and trickles).
    pub fn first_event(self) -> String {
        match self {
            Proto::Anthropic => event(
                "message_start",
                &json!({"type": "message_start", "message": {"model": MODEL, "usage": {"input_tokens": 1}}}),
            ),
            Proto::OpenAi => data(
                &json!({"model": MODEL, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "par"}, "finish_reason": null}]}),
            ),
        }
    }

    /// A stream with an event that is not JSON.
    pub fn malformed_body(self) -> String {
        match self {
            Proto::Anthropic => format!(
                "{}event: content_block_delta\ndata: {{\"type\": \"content_block_delta\", \"delta\": \n\n",
                self.first_event()
            ),
            Proto::OpenAi => format!(
                "{}data: {{not json}}\n\ndata: [DONE]\n\n",
                self.first_event()
            ),
        }
    }

    /// The API's error body for a prompt longer than the context.
    pub fn too_long_body(self) -> serde_json::Value {
        match self {
            Proto::Anthropic => {
                json!({"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long: 250000 tokens > 200000 maximum"}})
            }
            Proto::OpenAi => {
                json!({"error": {"message": "This model's maximum context length is 128000 tokens.", "type": "invalid_request_error", "code": "context_length_exceeded"}})
            }
        }
    }

    /// The provider dayshift builds from `{kind, model, base_url, api_key_env}` with `key` in
    /// config/.env. Build it on a blocking thread (the blocking client owns a runtime).
    pub fn provider(
        self,
        name: &str,
        uri: &str,
        key: &str,
        timeouts: Timeouts,
    ) -> Arc<dyn Provider> {
        let dir = tempfile::tempdir().expect("temp dir");
        let env = dir.path().join(".env");
        std::fs::write(&env, format!("{KEY_ENV}={key}\n")).expect("write .env");
        let secrets = Secrets::load(&env).expect("load .env");
        let config = ProviderConfig {
            kind: match self {
                Proto::Anthropic => ProviderKind::Anthropic,
                Proto::OpenAi => ProviderKind::Openai,
            },
            model: Some(MODEL.into()),
            base_url: Some(self.base_url(uri)),
            api_key_env: Some(KEY_ENV.into()),
            cassette: None,
            timeouts: None,
        };
        build_http_provider(name, &config, &secrets, timeouts).expect("build provider")
    }
}

fn event(name: &str, value: &serde_json::Value) -> String {
    format!("event: {name}\ndata: {value}\n\n")
}

fn data(value: &serde_json::Value) -> String {
    format!("data: {value}\n\n")
}

/// An Anthropic Messages stream: message_start (input and cache usage), ping, one text block
/// in word-sized deltas, message_delta (output usage, stop reason), message_stop if `stop`.
pub fn anthropic_sse(text: &str, usage: Usage, stop_reason: &str, stop: bool) -> String {
    let mut out = event(
        "message_start",
        &json!({"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": MODEL, "content": [],
        "usage": {"input_tokens": usage.input_tokens, "cache_creation_input_tokens": usage.cache_write_tokens,
                  "cache_read_input_tokens": usage.cache_read_tokens, "output_tokens": 1}}}),
    );
    out += &event("ping", &json!({"type": "ping"}));
    out += &event(
        "content_block_start",
        &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    );
    for piece in text.split_inclusive(' ') {
        out += &event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}),
        );
    }
    out += &event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    );
    out += &event(
        "message_delta",
        &json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": usage.output_tokens}}),
    );
    if stop {
        out += &event("message_stop", &json!({"type": "message_stop"}));
    }
    out
}

/// An OpenAI chat completions stream: a role chunk, word-sized content chunks, a chunk with
/// the finish reason, the usage chunk (prompt tokens include the cached ones), `[DONE]` if `done`.
pub fn openai_sse(text: &str, usage: Usage, finish_reason: &str, done: bool) -> String {
    let chunk = |delta: serde_json::Value, finish: Option<&str>| {
        data(
            &json!({"id": "c1", "object": "chat.completion.chunk", "model": MODEL,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
        )
    };
    let mut out = chunk(json!({"role": "assistant", "content": ""}), None);
    for piece in text.split_inclusive(' ') {
        out += &chunk(json!({"content": piece}), None);
    }
    out += &chunk(json!({}), Some(finish_reason));
    out += &data(
        &json!({"id": "c1", "object": "chat.completion.chunk", "model": MODEL, "choices": [],
        "usage": {"prompt_tokens": usage.input_tokens + usage.cache_read_tokens, "completion_tokens": usage.output_tokens,
                  "total_tokens": usage.input_tokens + usage.cache_read_tokens + usage.output_tokens,
                  "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens}}}),
    );
    if done {
        out += "data: [DONE]\n\n";
    }
    out
}

/// A 200 event stream.
pub fn sse(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream")
        .set_body_raw(body, "text/event-stream")
}

/// A request as a job makes it.
pub fn request() -> Request {
    Request {
        agent: AgentName::Planner,
        job: Some("plan".into()),
        task: None,
        system: "You are the planner. Answer in JSON.".into(),
        messages: vec![Message {
            role: Role::User,
            content: "Plan the day.".into(),
        }],
        max_tokens: 512,
        temperature: Some(0.2),
    }
}

/// Records waits instead of sleeping.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<Duration>>);

impl Sleeper for Recorder {
    fn sleep(&self, d: Duration) {
        self.0.lock().expect("lock").push(d);
    }
}

impl Recorder {
    pub fn waits(&self) -> Vec<Duration> {
        self.0.lock().expect("lock").clone()
    }
}

/// A raw HTTP server on 127.0.0.1 that serves one connection with `serve`; returns its URI.
pub fn raw_server(serve: impl FnOnce(TcpStream) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let uri = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            serve(stream);
        }
    });
    uri
}

/// Read until the client hangs up (it does when it gives up on us).
pub fn drain(mut stream: TcpStream) {
    let mut buf = [0u8; 4096];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

/// Send a 200 event-stream head and one chunk of `body`.
pub fn send_head_and_chunk(stream: &mut TcpStream, body: &str) -> std::io::Result<()> {
    let mut buf = [0u8; 8192];
    let _ = stream.read(&mut buf)?;
    stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
    )?;
    send_chunk(stream, body)
}

pub fn send_chunk(stream: &mut TcpStream, body: &str) -> std::io::Result<()> {
    write!(stream, "{:x}\r\n{body}\r\n", body.len())?;
    stream.flush()
}

/// A port where nothing listens.
pub fn closed_port_uri() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let uri = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    uri
}

/// An OpenAI-compatible server refusing every POST with `status` and OpenAI's error body
/// for `code` (`invalid_api_key`, `model_not_found`, …), in the words OpenAI uses.
pub async fn openai_refusing(status: u16, code: &str) -> wiremock::MockServer {
    let message = match code {
        "invalid_api_key" => {
            "Incorrect API key provided: sk-wrong. You can find your API key at https://platform.openai.com/account/api-keys."
        }
        "model_not_found" => {
            "The model `fake-coder` does not exist or you do not have access to it."
        }
        _ => "refused",
    };
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            ResponseTemplate::new(status).set_body_json(json!({"error": {
                "message": message, "type": "invalid_request_error", "code": code
            }})),
        )
        .mount(&server)
        .await;
    server
}
