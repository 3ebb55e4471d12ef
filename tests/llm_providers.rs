//! The model providers against fakes of both APIs on loopback (wiremock, or raw TCP for
//! connections that hang or stall): every fault in both protocols, through the same
//! reliability layer the jobs use. No test reaches the internet or needs a key.

#[path = "common/fake_model.rs"]
mod fake_model;
#[path = "llm_providers/faults.rs"]
mod faults;
#[path = "llm_providers/refusals.rs"]
mod refusals;

use std::sync::Arc;
use std::time::{Duration, Instant};

use dayshift::llm::http::Timeouts;
use dayshift::llm::reliable::{CircuitBreaker, Reliable, RetryPolicy};
use dayshift::llm::{Answer, LlmError, Provider, TimeoutPhase, Usage};
use fake_model::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-key-0001";
const CANARY: &str = "sk-canary-DO-NOT-LEAK-7f3a9c";

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

/// One call straight to the provider (no retries), with its duration.
async fn call_once(
    proto: Proto,
    uri: String,
    timeouts: Timeouts,
) -> (Result<Answer, LlmError>, Duration) {
    blocking(move || {
        let provider = proto.provider("fake", &uri, KEY, timeouts);
        let started = Instant::now();
        (provider.complete(&request()), started.elapsed())
    })
    .await
}

/// One call through [`Reliable`] with `attempts`, recorded waits and its own breaker.
async fn call_reliable(
    proto: Proto,
    uri: String,
    attempts: u32,
) -> (Result<Answer, LlmError>, Vec<Duration>) {
    blocking(move || {
        let sleeper = Arc::new(Recorder::default());
        let provider = Reliable::new(
            proto.provider("fake", &uri, KEY, short_timeouts()),
            Arc::new(CircuitBreaker::default()),
        )
        .with_policy(RetryPolicy {
            max_attempts: attempts,
            ..RetryPolicy::default()
        })
        .with_sleeper(sleeper.clone());
        (provider.complete(&request()), sleeper.waits())
    })
    .await
}

async fn mount(
    server: &MockServer,
    proto: Proto,
    response: ResponseTemplate,
    times: Option<u64>,
    expect: u64,
) {
    let mock = Mock::given(method("POST"))
        .and(path(proto.path()))
        .respond_with(response);
    let mock = match times {
        Some(n) => mock.up_to_n_times(n),
        None => mock,
    };
    mock.expect(expect).mount(server).await;
}

fn usage() -> Usage {
    Usage {
        input_tokens: 1200,
        output_tokens: 34,
        cache_read_tokens: 1000,
        cache_write_tokens: 200,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn success_assembles_the_answer_and_sends_the_right_request() {
    for proto in Proto::ALL {
        let server = MockServer::start().await;
        let mut expected = usage();
        if proto == Proto::OpenAi {
            expected.cache_write_tokens = 0; // the chat API does not report cache writes
        }
        mount(
            &server,
            proto,
            sse(proto.ok_body("Three tasks for today.", expected)),
            None,
            1,
        )
        .await;
        let (answer, _) = call_once(proto, server.uri(), short_timeouts()).await;
        let answer = answer.unwrap_or_else(|e| panic!("{proto:?}: {e}"));
        assert_eq!(answer.text, "Three tasks for today.", "{proto:?}");
        assert_eq!(answer.usage, expected, "{proto:?}");
        assert_eq!(
            (answer.model.as_str(), answer.provider.as_str()),
            (MODEL, "fake")
        );

        let requests = server.received_requests().await.expect("recorded");
        let sent = &requests[0];
        let body: Value = sent.body_json().expect("json body");
        let header = |name: &str| {
            sent.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(body["model"], MODEL);
        assert_eq!(body["max_tokens"], 512);
        assert_eq!(body["stream"], true);
        assert_eq!(body["temperature"], 0.2);
        assert!(header("content-type").starts_with("application/json"));
        let user = json!({"role": "user", "content": "Plan the day."});
        match proto {
            Proto::Anthropic => {
                assert_eq!(
                    body["system"],
                    json!([{"type": "text", "text": "You are the planner. Answer in JSON.", "cache_control": {"type": "ephemeral"}}])
                );
                assert_eq!(body["messages"], json!([user]));
                assert_eq!(header("x-api-key"), KEY);
                assert_eq!(header("anthropic-version"), "2023-06-01");
                assert_eq!(header("authorization"), "");
            }
            Proto::OpenAi => {
                let system =
                    json!({"role": "system", "content": "You are the planner. Answer in JSON."});
                assert_eq!(body["messages"], json!([system, user]));
                assert_eq!(body["stream_options"], json!({"include_usage": true}));
                assert_eq!(header("authorization"), format!("Bearer {KEY}"));
                assert_eq!(header("x-api-key"), "");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_wait_as_long_as_the_server_asks() {
    for proto in Proto::ALL {
        for (header, value, at_least) in
            [("retry-after", "1", 1000), ("retry-after-ms", "1500", 1500)]
        {
            let server = MockServer::start().await;
            let limited = ResponseTemplate::new(429)
                .insert_header(header, value)
                .set_body_json(
                    json!({"error": {"type": "rate_limit_error", "message": "slow down"}}),
                );
            mount(&server, proto, limited, Some(1), 1).await;
            mount(&server, proto, sse(proto.ok_body("ok", usage())), None, 1).await;
            let (answer, waits) = call_reliable(proto, server.uri(), 4).await;
            assert_eq!(
                answer.map(|a| a.text).map_err(|e| e.to_string()),
                Ok("ok".to_string()),
                "{proto:?} {header}"
            );
            assert_eq!(waits.len(), 1, "{proto:?} {header}: {waits:?}");
            let waited = waits[0].as_millis();
            assert!(
                waited >= at_least && waited <= at_least * 11 / 10,
                "{proto:?} {header}: waited {waited} ms"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_retried_until_an_answer() {
    let cases = [
        (Proto::Anthropic, 500),
        (Proto::Anthropic, 529),
        (Proto::OpenAi, 500),
        (Proto::OpenAi, 503),
    ];
    for (proto, status) in cases {
        let server = MockServer::start().await;
        mount(&server, proto, ResponseTemplate::new(status), Some(2), 2).await;
        mount(
            &server,
            proto,
            sse(proto.ok_body("third time", usage())),
            None,
            1,
        )
        .await;
        let (answer, waits) = call_reliable(proto, server.uri(), 4).await;
        assert_eq!(
            answer.map(|a| a.text).map_err(|e| e.to_string()),
            Ok("third time".to_string()),
            "{proto:?}"
        );
        assert_eq!(waits.len(), 2, "{proto:?} {status}: two backoffs");
        assert!(
            waits[1] > waits[0],
            "{proto:?}: the backoff grows: {waits:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_circuit_opens_after_repeated_failures_and_the_fallback_answers() {
    for (proto, other) in [
        (Proto::Anthropic, Proto::OpenAi),
        (Proto::OpenAi, Proto::Anthropic),
    ] {
        let down = MockServer::start().await;
        mount(&down, proto, ResponseTemplate::new(503), None, 2).await;
        let backup = MockServer::start().await;
        mount(
            &backup,
            other,
            sse(other.ok_body("from the backup", usage())),
            None,
            1,
        )
        .await;
        let (down_uri, backup_uri) = (down.uri(), backup.uri());
        let (first, second, third) = blocking(move || {
            let breaker = Arc::new(CircuitBreaker::new(2, Duration::from_secs(60)));
            let quick = RetryPolicy {
                max_attempts: 2,
                ..RetryPolicy::default()
            };
            let primary = Reliable::new(
                proto.provider("main", &down_uri, KEY, short_timeouts()),
                breaker.clone(),
            )
            .with_policy(quick)
            .with_sleeper(Arc::new(Recorder::default()));
            let first = primary.complete(&request());
            let second = primary.complete(&request());
            let fallback = Reliable::new(
                other.provider("backup", &backup_uri, KEY, short_timeouts()),
                Arc::new(CircuitBreaker::default()),
            );
            let third = primary
                .with_fallback(Arc::new(fallback))
                .complete(&request());
            (first, second, third)
        })
        .await;
        assert!(
            matches!(first, Err(LlmError::Server { status: 503, .. })),
            "{proto:?}: {first:?}"
        );
        assert!(
            matches!(second, Err(LlmError::CircuitOpen { .. })),
            "{proto:?}: {second:?}"
        );
        let answer = third.unwrap_or_else(|e| panic!("{proto:?}: {e}"));
        assert_eq!(
            (answer.text.as_str(), answer.provider.as_str()),
            ("from the backup", "backup")
        );
    }
}
