//! Unit tests of the reliability layer with scripted providers and a recording sleeper.
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::Mutex;

use super::*;
use crate::config::AgentName;
use crate::llm::Usage;

/// Answers from a script, then a fixed result; counts its calls.
struct Scripted {
    name: String,
    script: Mutex<VecDeque<Result<Answer, LlmError>>>,
    calls: Mutex<u32>,
}

impl Scripted {
    fn new(name: &str, script: Vec<Result<Answer, LlmError>>) -> Arc<Self> {
        Arc::new(Self {
            name: name.into(),
            script: Mutex::new(script.into()),
            calls: Mutex::new(0),
        })
    }

    fn calls(&self) -> u32 {
        *self.calls.lock().unwrap()
    }
}

impl Provider for Scripted {
    fn name(&self) -> &str {
        &self.name
    }

    fn complete(&self, _: &Request) -> Result<Answer, LlmError> {
        *self.calls.lock().unwrap() += 1;
        self.script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Err(server(None)))
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Duration>>);

impl Sleeper for Recorder {
    fn sleep(&self, d: Duration) {
        self.0.lock().unwrap().push(d);
    }
}

fn ok(provider: &str) -> Result<Answer, LlmError> {
    Ok(Answer {
        text: "hi".into(),
        usage: Usage::default(),
        model: "m".into(),
        provider: provider.into(),
    })
}

fn server(retry_after: Option<Duration>) -> LlmError {
    LlmError::Server {
        provider: "p".into(),
        status: 503,
        retry_after,
    }
}

fn request() -> Request {
    Request {
        agent: AgentName::Planner,
        job: None,
        task: None,
        system: String::new(),
        messages: vec![],
        max_tokens: 10,
        temperature: None,
    }
}

fn reliable(primary: Arc<Scripted>, breaker: CircuitBreaker) -> (Reliable, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let r = Reliable::new(primary, Arc::new(breaker)).with_sleeper(recorder.clone());
    (r, recorder)
}

#[test]
fn backoff_doubles_with_jitter_and_honours_the_server() {
    let p = RetryPolicy::default();
    assert_eq!(p.delay(1, None, 0.5), Some(Duration::from_millis(500)));
    assert_eq!(p.delay(3, None, 0.0), Some(Duration::from_millis(1600)));
    assert_eq!(p.delay(3, None, 1.0), Some(Duration::from_millis(2400)));
    assert_eq!(p.delay(30, None, 0.5), Some(Duration::from_secs(60)));
    assert_eq!(
        p.delay(1, Some(Duration::from_secs(2)), 0.0),
        Some(Duration::from_secs(2))
    );
    assert_eq!(
        p.delay(1, Some(Duration::from_secs(2)), 1.0),
        Some(Duration::from_millis(2200))
    );
    assert_eq!(p.delay(1, Some(Duration::from_secs(3600)), 0.5), None);
}

#[test]
fn retryable_errors_are_retried_with_growing_waits() {
    let primary = Scripted::new("p", vec![Err(server(None)), Err(server(None)), ok("p")]);
    let (r, slept) = reliable(primary.clone(), CircuitBreaker::default());
    assert_eq!(r.complete(&request()).unwrap().text, "hi");
    assert_eq!(primary.calls(), 3);
    let waits = slept.0.lock().unwrap().clone();
    assert_eq!(waits.len(), 2);
    assert!((400..=600).contains(&waits[0].as_millis()), "{waits:?}");
    assert!((800..=1200).contains(&waits[1].as_millis()), "{waits:?}");
}

#[test]
fn fatal_errors_return_at_once_and_retries_stop_at_the_limit() {
    let refused = LlmError::Unauthorized {
        provider: "p".into(),
        status: 401,
        key_env: "K".into(),
    };
    let primary = Scripted::new("p", vec![Err(refused.clone())]);
    let (r, slept) = reliable(primary.clone(), CircuitBreaker::default());
    assert_eq!(r.complete(&request()), Err(refused));
    assert_eq!((primary.calls(), slept.0.lock().unwrap().len()), (1, 0));

    let primary = Scripted::new("p", vec![]);
    let (r, _) = reliable(
        primary.clone(),
        CircuitBreaker::new(100, Duration::from_secs(60)),
    );
    assert_eq!(r.complete(&request()), Err(server(None)));
    assert_eq!(primary.calls(), 4);
}

#[test]
fn the_server_wait_is_used_and_a_too_long_one_is_not_waited_for() {
    let primary = Scripted::new(
        "p",
        vec![Err(server(Some(Duration::from_secs(7)))), ok("p")],
    );
    let (r, slept) = reliable(primary, CircuitBreaker::default());
    r.complete(&request()).unwrap();
    let waits = slept.0.lock().unwrap().clone();
    assert!(
        waits[0] >= Duration::from_secs(7) && waits[0] <= Duration::from_millis(7700),
        "{waits:?}"
    );

    let primary = Scripted::new("p", vec![Err(server(Some(Duration::from_secs(600))))]);
    let (r, slept) = reliable(primary.clone(), CircuitBreaker::default());
    assert!(r.complete(&request()).is_err());
    assert_eq!((primary.calls(), slept.0.lock().unwrap().len()), (1, 0));
}

#[test]
fn an_open_circuit_skips_the_primary_and_the_fallback_answers() {
    let primary = Scripted::new("p", vec![]);
    let breaker = Arc::new(CircuitBreaker::new(2, Duration::from_secs(60)));
    let r =
        Reliable::new(primary.clone(), breaker.clone()).with_sleeper(Arc::new(Recorder::default()));
    let err = r.complete(&request()).unwrap_err();
    assert!(matches!(err, LlmError::CircuitOpen { .. }), "{err:?}");
    assert_eq!(primary.calls(), 2, "the third attempt met the open circuit");
    assert!(matches!(
        r.complete(&request()),
        Err(LlmError::CircuitOpen { .. })
    ));
    assert_eq!(primary.calls(), 2, "no call while open");

    let fallback = Scripted::new("f", vec![ok("f")]);
    let r = Reliable::new(primary.clone(), breaker).with_fallback(fallback.clone());
    assert_eq!(r.complete(&request()).unwrap().provider, "f");
    assert_eq!((primary.calls(), fallback.calls()), (2, 1));
}

#[test]
fn a_bad_request_does_not_fall_back() {
    let bad = LlmError::BadRequest {
        provider: "p".into(),
        status: 400,
        message: "no".into(),
    };
    let primary = Scripted::new("p", vec![Err(bad.clone())]);
    let fallback = Scripted::new("f", vec![ok("f")]);
    let r =
        Reliable::new(primary, Arc::new(CircuitBreaker::default())).with_fallback(fallback.clone());
    assert_eq!(r.complete(&request()), Err(bad));
    assert_eq!(fallback.calls(), 0);
}
