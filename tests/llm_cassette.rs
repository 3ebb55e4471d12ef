//! Cassettes: what a `Recorder` writes, a `Replay` answers with — in order, without the
//! provider — and what it cannot answer it says so, naming the agent and the file. Secrets
//! never reach the file.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dayshift::config::Secrets;
use dayshift::config::agents::{ProviderConfig, ProviderKind};
use dayshift::llm::cassette::{Recorder, build_replay, request_key};
use dayshift::llm::{Answer, LlmError, Message, Provider, Request, Role, Usage};
use dayshift::tasks::TaskId;

const CANARY: &str = "sk-canary-cassette-1234567890";

/// Numbers its answers, so the order of replay shows.
struct Counting(AtomicUsize);

impl Provider for Counting {
    fn name(&self) -> &str {
        "claude"
    }

    fn complete(&self, request: &Request) -> Result<Answer, LlmError> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        let text = if request.system.contains(CANARY) {
            format!("answer #{n}, echoing {CANARY}")
        } else {
            format!("answer #{n}")
        };
        Ok(Answer {
            text,
            usage: Usage {
                input_tokens: 10 * n as u64,
                output_tokens: 5,
                cache_read_tokens: 1,
                cache_write_tokens: 0,
            },
            model: "claude-sonnet-4-5".into(),
            provider: "claude".into(),
        })
    }
}

fn request(content: &str) -> Request {
    Request {
        agent: dayshift::config::AgentName::Planner,
        job: Some("plan".into()),
        task: Some(TaskId::new(1)),
        system: "You plan.".into(),
        messages: vec![Message {
            role: Role::User,
            content: content.into(),
        }],
        max_tokens: 500,
        temperature: Some(0.0),
    }
}

fn replay_config(cassette: &str) -> ProviderConfig {
    ProviderConfig {
        kind: ProviderKind::Replay,
        model: None,
        base_url: None,
        api_key_env: None,
        cassette: Some(cassette.into()),
        timeouts: None,
    }
}

fn recorder(home: &Path, secrets: Secrets) -> Recorder {
    let inner = Arc::new(Counting(AtomicUsize::new(0)));
    Recorder::new(inner, home.join("demo.jsonl"), secrets)
}

#[test]
fn a_recording_replays_in_order_without_the_provider() {
    let home = tempfile::tempdir().unwrap();
    let rec = recorder(home.path(), Secrets::default());
    let script = ["goal A", "goal A", "goal B", "goal A"];
    let recorded: Vec<Answer> = script
        .iter()
        .map(|c| rec.complete(&request(c)).unwrap())
        .collect();
    let text = std::fs::read_to_string(home.path().join("demo.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 4);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["agent"], "planner");
    assert_eq!(first["key"], request_key(&request("goal A")));
    assert_eq!(first["answer"]["text"], "answer #1");

    let replay = build_replay("demo", &replay_config("demo.jsonl"), home.path()).unwrap();
    assert_eq!(replay.name(), "demo");
    // Job and task ids are not part of the key: a renumbered task still replays.
    let mut renumbered = request("goal A");
    renumbered.task = Some(TaskId::new(42));
    renumbered.job = Some("work".into());
    let replayed: Vec<Answer> = [
        renumbered,
        request("goal A"),
        request("goal B"),
        request("goal A"),
    ]
    .iter()
    .map(|r| replay.complete(r).unwrap())
    .collect();
    assert_eq!(replayed, recorded, "identical answers, in recorded order");
    // Past the last recording of a request, its last answer repeats.
    assert_eq!(replay.complete(&request("goal A")).unwrap(), recorded[3]);
    assert_eq!(replay.complete(&request("goal B")).unwrap(), recorded[2]);
}

#[test]
fn a_changed_request_is_a_miss_naming_agent_and_cassette() {
    let home = tempfile::tempdir().unwrap();
    recorder(home.path(), Secrets::default())
        .complete(&request("goal A"))
        .unwrap();
    let replay = build_replay("demo", &replay_config("demo.jsonl"), home.path()).unwrap();
    let mut changed = request("goal A");
    changed.max_tokens = 501;
    let err = replay.complete(&changed).unwrap_err();
    let LlmError::ReplayMiss {
        agent,
        key,
        cassette,
    } = &err
    else {
        panic!("expected a replay miss, got {err:?}");
    };
    assert_eq!(agent, "planner");
    assert_eq!(key, &request_key(&changed));
    assert!(cassette.ends_with("demo.jsonl"), "{cassette}");
    let message = err.to_string();
    assert!(
        message.contains("agent planner") && message.contains("demo.jsonl"),
        "{message}"
    );
}

#[test]
fn a_malformed_line_is_named_with_file_and_line() {
    let home = tempfile::tempdir().unwrap();
    recorder(home.path(), Secrets::default())
        .complete(&request("goal A"))
        .unwrap();
    let path = home.path().join("demo.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("\n{\"agent\": \"planner\", \"key\": truncated\n");
    std::fs::write(&path, text).unwrap();
    let err = build_replay("demo", &replay_config("demo.jsonl"), home.path())
        .err()
        .unwrap();
    assert!(matches!(err, LlmError::Config(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("{}:3:", path.display()))
            && message.contains("record the cassette again"),
        "{message}"
    );
}

#[test]
fn a_missing_cassette_or_path_is_a_config_error() {
    let home = tempfile::tempdir().unwrap();
    let err = build_replay("demo", &replay_config("nope.jsonl"), home.path())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("nope.jsonl") && err.contains("`cassette:`"),
        "{err}"
    );
    let mut config = replay_config("x");
    config.cassette = None;
    let err = build_replay("demo", &config, home.path())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("has no `cassette`"), "{err}");
}

#[test]
fn secrets_in_request_or_answer_never_reach_the_cassette() {
    let home = tempfile::tempdir().unwrap();
    let env = home.path().join(".env");
    // The second value has a quote and a backslash: JSON escapes them in the line.
    std::fs::write(
        &env,
        format!("DAYSHIFT_TEST_CASSETTE_CANARY={CANARY}\nDAYSHIFT_TEST_QUOTED=pa\"ss\\word-99\n"),
    )
    .unwrap();
    let secrets = Secrets::load(&env).unwrap();
    let mut leaky = request("the password is pa\"ss\\word-99");
    leaky.system = format!("You plan. The key is {CANARY}.");
    let answer = recorder(home.path(), secrets).complete(&leaky).unwrap();
    assert!(
        answer.text.contains(CANARY),
        "the caller gets the real answer"
    );
    let text = std::fs::read_to_string(home.path().join("demo.jsonl")).unwrap();
    assert!(!text.contains(CANARY), "{text}");
    assert!(!text.contains("word-99"), "{text}");
    assert_eq!(
        text.matches("[redacted:DAYSHIFT_TEST_CASSETTE_CANARY]")
            .count(),
        2,
        "{text}"
    );
    assert_eq!(
        text.matches("[redacted:DAYSHIFT_TEST_QUOTED]").count(),
        1,
        "{text}"
    );
    // The key was taken before redaction, so the same request still replays.
    let replay = build_replay("demo", &replay_config("demo.jsonl"), home.path()).unwrap();
    let replayed = replay.complete(&leaky).unwrap();
    assert_eq!(
        replayed.text,
        "answer #1, echoing [redacted:DAYSHIFT_TEST_CASSETTE_CANARY]"
    );
}
