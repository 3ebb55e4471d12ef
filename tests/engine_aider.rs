//! The `aider` engine with the real Aider (installed into .venv by `make setup` and
//! `.ci/run`) against a fake OpenAI-compatible server on 127.0.0.1. Aider exits 0 on model
//! failures; these tests show the engine reads what happened from its output instead.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dayshift::engine::aider::AiderEngine;
use dayshift::engine::failure::{self, FailureClass};
use dayshift::engine::{Assignment, Engine, EngineError};
use dayshift::sandbox::Confinement;
use dayshift::tasks::{Task, TaskMeta, TaskState};
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[path = "common/fake_model.rs"]
mod fake_model;

const KEY: &str = "sk-aider-canary-0123456789";

fn aider() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/aider");
    assert!(
        path.is_file(),
        "Aider is not installed at {}: run `make setup` (it installs Aider into .venv/)",
        path.display()
    );
    path
}

fn task() -> TaskMeta {
    let text = "---\nid: T-0007\ntitle: Make the origins a list\npriority: high\nfiles: [settings.py]\nacceptance: [two origins load]\ncreated: 2026-11-22T07:46:02+06:00\n---\n";
    Task::parse(Path::new("T-0007-x.md"), TaskState::InProgress, text)
        .unwrap()
        .meta
}

/// A git work tree with settings.py, as a task's worktree would be.
fn worktree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("settings.py"),
        "import os\nORIGINS = os.environ['A'] + os.environ['B']\n",
    )
    .unwrap();
    for args in [
        &["init", "-q"][..],
        &["add", "."],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-q",
            "-m",
            "init",
        ],
    ] {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}

fn completion(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "fake-coder",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1234, "completion_tokens": 56, "total_tokens": 1290}
    }))
}

fn engine(uri: &str, state: &Path) -> AiderEngine {
    AiderEngine {
        program: aider(),
        model: "openai/fake-coder".into(),
        api_base: Some(format!("{uri}/v1")),
        api_key: Some(("OPENAI_API_KEY".into(), KEY.into())),
        key_env: Some("FAKE_MODEL_KEY".into()),
        edit_format: "diff".into(),
        state_dir: state.to_path_buf(),
        timeout: Duration::from_secs(120),
        map_tokens: Some(0),
    }
}

async fn run(
    server: &MockServer,
) -> (
    Result<dayshift::engine::EngineReport, EngineError>,
    tempfile::TempDir,
) {
    let tree = worktree();
    let state = tempfile::tempdir().unwrap();
    let (dir, state_dir, uri) = (
        tree.path().to_path_buf(),
        state.path().to_path_buf(),
        server.uri(),
    );
    let result = tokio::task::spawn_blocking(move || {
        let meta = task();
        // confined as the work loop runs it: the worktree and Aider's state writable, its
        // git metadata read-only, a (stand-in) dayshift home hidden, the host's network kept
        let bwrap = dayshift::sandbox::detect::bubblewrap().unwrap_or_else(|why| {
            panic!("{why}: install bubblewrap (`apt-get install bubblewrap`; CI does)")
        });
        let home = tempfile::tempdir().unwrap();
        let confine = Confinement::bubblewrap(bwrap, home.path(), &dir, &[dir.join(".git")], None);
        let job = Assignment {
            task: &meta,
            description: "Split by commas.",
            workdir: &dir,
            feedback: None,
            attempt: 1,
            notes: &[],
            confine: Some(&confine),
        };
        engine(&uri, &state_dir).run(&job)
    })
    .await
    .unwrap();
    (result, tree)
}

/// A fake OpenAI-compatible server answering every chat completion with `answer`.
async fn answering(answer: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion(answer))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aider_applies_the_model_edit_and_reports_its_tokens() {
    let server = answering("settings.py\n```python\n<<<<<<< SEARCH\nORIGINS = os.environ['A'] + os.environ['B']\n=======\nORIGINS = [os.environ['A'], os.environ['B']]\n>>>>>>> REPLACE\n```\n").await;
    let (result, tree) = run(&server).await;
    let report = result.unwrap();
    assert_eq!(report.summary, "applied edits to settings.py");
    assert_eq!(
        std::fs::read_to_string(tree.path().join("settings.py")).unwrap(),
        "import os\nORIGINS = [os.environ['A'], os.environ['B']]\n"
    );
    assert!(
        report.spent.usage.input_tokens > 0 && report.spent.usage.output_tokens > 0,
        "{:?}",
        report.spent.usage
    );
    let requests = server.received_requests().await.unwrap();
    let body = String::from_utf8_lossy(&requests[0].body);
    assert!(
        body.contains("Make the origins a list") && body.contains("\"model\":\"fake-coder\""),
        "{body}"
    );
    assert_eq!(
        requests[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {KEY}")
    );
    assert!(
        report.output.contains("Applied edit to settings.py") && !report.output.contains(KEY),
        "the whole output is carried, for logs/runs/: {}",
        report.output
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_aider_cannot_apply_is_a_failure_though_aider_exits_0() {
    let server = answering("I would change the settings, but here is prose instead.").await;
    let (result, tree) = run(&server).await;
    let err = result.unwrap_err();
    assert!(matches!(err, EngineError::NoChange { .. }), "{err}");
    assert!(
        err.to_string().contains("here is prose instead"),
        "what the model said is kept: {err}"
    );
    let spent = err.spent();
    assert!(
        spent.usage.input_tokens > 0 && !spent.billed,
        "the tokens a failed run spent are still reported, for the budget: {spent:?}"
    );
    assert_eq!(
        std::fs::read_to_string(tree.path().join("settings.py")).unwrap(),
        "import os\nORIGINS = os.environ['A'] + os.environ['B']\n",
        "nothing changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_is_read_from_aiders_output_whole_and_named() {
    let server = fake_model::openai_refusing(401, "invalid_api_key").await;
    let (result, _tree) = run(&server).await;
    let err = result.unwrap_err();
    let EngineError::Reported {
        ref message,
        ref output,
        ..
    } = err
    else {
        panic!("a reported error: {err}")
    };
    // Aider wraps the message over lines; the reason is all of it, on one line
    assert!(
        message.starts_with("litellm.AuthenticationError")
            && message.contains("You can find your API key")
            && !message.contains('\n'),
        "{message}\n--- output:\n{output}"
    );
    assert!(
        !err.to_string().contains(KEY),
        "the key is not in the error"
    );
    let provider = Engine::provider(&engine(&server.uri(), Path::new("/x")));
    let FailureClass::Environment(why) = failure::classify(&err, provider.as_ref()) else {
        panic!("a refused key is the environment's: {err}")
    };
    assert!(
        why.starts_with(&format!(
            "FAKE_MODEL_KEY was refused by {}/v1",
            server.uri()
        )),
        "{why}"
    );
}

/// `dayshift doctor`'s preflight: one tiny request the way work runs Aider; a model the
/// server does not have is named as such.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preflight_reaches_the_model_once_or_names_what_is_wrong() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("the one word: ok"))
        .respond_with(completion("ok"))
        .mount(&server)
        .await;
    let state = tempfile::tempdir().unwrap();
    let (uri, dir) = (server.uri(), state.path().to_path_buf());
    let said =
        tokio::task::spawn_blocking(move || engine(&uri, &dir).preflight(Duration::from_secs(60)))
            .await
            .unwrap();
    assert!(
        said.as_ref()
            .is_ok_and(|s| s.contains("aider reached openai/fake-coder")),
        "{said:?}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "one request"
    );

    let missing = fake_model::openai_refusing(404, "model_not_found").await;
    let (uri, dir) = (missing.uri(), state.path().to_path_buf());
    let err =
        tokio::task::spawn_blocking(move || engine(&uri, &dir).preflight(Duration::from_secs(60)))
            .await
            .unwrap()
            .unwrap_err();
    assert!(
        matches!(failure::classify(&err, None), FailureClass::Environment(ref w) if w.contains("the model was not found")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aider_creates_a_new_file_though_git_metadata_is_read_only() {
    let server =
        answering("origins.py\n```python\n<<<<<<< SEARCH\n=======\nORIGINS = ['a', 'b']\n>>>>>>> REPLACE\n```\n")
            .await;
    let (result, tree) = run(&server).await;
    let report = result.unwrap();
    assert_eq!(report.summary, "applied edits to origins.py");
    assert_eq!(
        std::fs::read_to_string(tree.path().join("origins.py")).unwrap(),
        "ORIGINS = ['a', 'b']\n"
    );
}
