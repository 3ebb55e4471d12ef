//! Coding engines (issue #4): the `command` engine drives a script standing in for a CLI
//! through its argument template; the `native` engine applies a fake model's edit blocks
//! (real HTTP on 127.0.0.1).

#[path = "common/fake_model.rs"]
mod fake_model;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use dayshift::engine::command::{CommandEngine, preset};
use dayshift::engine::failure::{self, FailureClass};
use dayshift::engine::native::NativeEngine;
use dayshift::engine::{Assignment, Engine, EngineError};
use dayshift::llm::Usage;
use dayshift::llm::prompts::Prompts;
use dayshift::tasks::TaskMeta;
use fake_model::{Proto, anthropic_sse, short_timeouts, sse};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

fn task() -> TaskMeta {
    let text = "---\nid: T-0007\ntitle: Split the origins\npriority: high\nfiles: [core/settings.py, core/urls.py]\nacceptance: [settings load with two origins]\ncreated: 2026-11-22T07:46:02+06:00\n---\n";
    dayshift::tasks::Task::parse(
        Path::new("T-0007-x.md"),
        dayshift::tasks::TaskState::InProgress,
        text,
    )
    .unwrap()
    .meta
}

fn assignment<'a>(task: &'a TaskMeta, dir: &'a Path, notes: &'a [String]) -> Assignment<'a> {
    Assignment {
        task,
        description: "Use a list.",
        workdir: dir,
        feedback: Some("FAILED test_origins"),
        attempt: 2,
        notes,
        confine: None,
    }
}

/// A script that records its arguments and environment, then edits a file.
fn fake_cli(dir: &Path, body: &str) -> String {
    let path = dir.join("fake-cli.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

fn env_with(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = [("PATH", std::env::var("PATH").unwrap_or_default())]
        .into_iter()
        .map(|(k, v)| (k.into(), v))
        .collect();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

#[test]
fn the_command_engine_passes_prompt_files_and_workdir_through_its_template() {
    let tools = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // the tool records its arguments, its stdin, the prompt file and its own command line
    let script = fake_cli(
        tools.path(),
        "printf '%s\\n' \"$@\" > args.txt\ncat > stdin.txt\ncat \"$2\" > prompt-file.txt\ntr '\\0' '\\n' < /proc/$$/cmdline > cmdline.txt\necho \"token=[$GITHUB_TOKEN] allowed=[$ALLOWED]\" > env.txt\necho 'ORIGINS = [a, b]' > edited.py",
    );
    let template = vec![
        script,
        "--prompt-file".into(),
        "{prompt_file}".into(),
        "--files".into(),
        "{files}".into(),
        "--cwd={workdir}".into(),
    ];
    let engine = CommandEngine::new(
        "fake",
        template,
        env_with(&[("ALLOWED", "yes")]),
        Duration::from_secs(20),
    )
    .unwrap();
    let meta = task();
    let notes = vec!["Don't touch the webhook".to_string()];
    let report = engine.run(&assignment(&meta, work.path(), &notes)).unwrap();
    assert_eq!(report.summary, "fake finished");

    let read = |name: &str| std::fs::read_to_string(work.path().join(name)).unwrap();
    let (args, stdin, file, cmdline) = (
        read("args.txt"),
        read("stdin.txt"),
        read("prompt-file.txt"),
        read("cmdline.txt"),
    );
    assert!(
        stdin.starts_with("Task T-0007: Split the origins\n"),
        "{stdin}"
    );
    for part in [
        "Use a list.",
        "settings load with two origins",
        "Don't touch the webhook",
        "FAILED test_origins",
        "Do not commit.",
    ] {
        assert!(stdin.contains(part), "the prompt carries `{part}`: {stdin}");
    }
    assert_eq!(file, stdin, "{{prompt_file}} holds the same prompt");
    for line in [&args, &cmdline] {
        assert!(
            !line.contains("Split the origins"),
            "the prompt is on argv: {line}"
        );
    }
    let prompt_file = args.lines().nth(1).unwrap();
    assert!(
        !std::path::Path::new(prompt_file).exists(),
        "the prompt file is removed after the run"
    );
    assert!(
        args.contains("--files\ncore/settings.py\ncore/urls.py\n"),
        "one argument per file: {args}"
    );
    assert!(
        args.contains(&format!("--cwd={}", work.path().display())),
        "{args}"
    );
    let env = std::fs::read_to_string(work.path().join("env.txt")).unwrap();
    assert_eq!(
        env, "token=[] allowed=[yes]\n",
        "only the configured environment reaches the tool"
    );
    assert!(
        work.path().join("edited.py").exists(),
        "it ran in the work tree"
    );
}

#[test]
fn the_command_engine_reports_crashes_timeouts_and_claude_errors() {
    let tools = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let meta = task();
    let job = assignment(&meta, work.path(), &[]);
    let run = |body: &str, timeout: u64| {
        let script = fake_cli(tools.path(), body);
        CommandEngine::new(
            "fake",
            vec![script],
            env_with(&[]),
            Duration::from_secs(timeout),
        )
        .unwrap()
        .run(&job)
    };
    assert!(
        matches!(run("echo boom >&2; exit 3", 20), Err(EngineError::Crashed { code: Some(3), ref tail, .. }) if tail.contains("boom"))
    );
    let started = std::time::Instant::now();
    let marker = work.path().join("grandchild");
    let err = run(
        &format!("(sleep 2; touch {}) & sleep 30", marker.display()),
        1,
    )
    .unwrap_err();
    assert!(matches!(err, EngineError::TimedOut { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!marker.exists(), "the whole process group was killed");
    let claude = run(
        r#"echo '{"type":"result","is_error":true,"result":"Credit balance too low"}'"#,
        20,
    )
    .unwrap_err();
    assert!(
        claude.to_string().contains("Credit balance too low"),
        "{claude}"
    );
    // the environment's fault, not the task's: the loop stops instead of retrying
    assert!(
        matches!(
            failure::classify(&claude, None),
            FailureClass::Environment(ref why) if why.contains("quota or billing")
        ),
        "{claude}"
    );
    // the whole output is carried, for logs/runs/ (not only the tail the message shows)
    let long = run(
        "for i in $(seq 1 3000); do echo \"line $i of the tool's output\"; done; exit 2",
        20,
    )
    .unwrap_err();
    let output = long.output().unwrap();
    assert!(
        output.starts_with("line 1 of") && output.contains("line 3000 of"),
        "{} bytes",
        output.len()
    );
    assert!(
        long.to_string().len() < 2000,
        "the message shows the end only"
    );
    let ok = run(r#"echo '{"type":"result","is_error":false,"result":"Done.","total_cost_usd":0.012,"usage":{"input_tokens":900,"output_tokens":40}}'"#, 20).unwrap();
    assert_eq!(
        (
            ok.spent.cost_usd,
            ok.spent.usage.input_tokens,
            ok.summary.as_str()
        ),
        (Some(0.012), 900, "Done.")
    );
    let missing = CommandEngine::new(
        "fake",
        vec!["/nonexistent/cli".into()],
        env_with(&[]),
        Duration::from_secs(5),
    )
    .unwrap();
    assert!(matches!(missing.run(&job), Err(EngineError::Spawn { .. })));
}

#[test]
fn presets_and_templates_are_checked() {
    assert_eq!(
        preset("claude").unwrap(),
        [
            "claude",
            "-p",
            "--permission-mode",
            "acceptEdits",
            "--output-format",
            "json"
        ]
    );
    assert_eq!(
        preset("codex").unwrap(),
        ["codex", "exec", "--skip-git-repo-check", "--json", "-"]
    );
    assert!(preset("nope").is_none());
    let err = CommandEngine::new(
        "x",
        vec!["tool".into(), "--go={prompt}".into()],
        BTreeMap::new(),
        Duration::from_secs(1),
    )
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("/proc/<pid>/cmdline") && err.to_string().contains("stdin"),
        "{err}"
    );
}

const EDIT: &str = "core/settings.py\n<<<<<<< SEARCH\nORIGINS = a + b\n=======\nORIGINS = [a, b]\n>>>>>>> REPLACE\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_engine_applies_the_model_edits_and_retries_a_refused_one() {
    let server = MockServer::start().await;
    let usage = Usage {
        input_tokens: 500,
        output_tokens: 60,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
    };
    let wrong = EDIT.replace("ORIGINS = a + b", "ORIGINS = a+b");
    Mock::given(method("POST"))
        .respond_with(sse(anthropic_sse(&wrong, usage, "end_turn", true)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(sse(anthropic_sse(EDIT, usage, "end_turn", true)))
        .mount(&server)
        .await;
    let uri = server.uri();
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("core")).unwrap();
    std::fs::write(
        work.path().join("core/settings.py"),
        "import os\nORIGINS = a + b\n",
    )
    .unwrap();
    let dir = work.path().to_path_buf();
    let report = tokio::task::spawn_blocking(move || {
        let provider = Proto::Anthropic.provider("fake", &uri, "sk-test", short_timeouts());
        let call = |r: &dayshift::llm::Request| provider.complete(r);
        let prompts = Prompts::built_in();
        let engine = NativeEngine {
            call: &call,
            prompts: &prompts,
            max_tokens: 2000,
        };
        let meta = task();
        engine.run(&assignment(&meta, &dir, &[]))
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(work.path().join("core/settings.py")).unwrap(),
        "import os\nORIGINS = [a, b]\n"
    );
    assert_eq!(
        report.spent.usage.input_tokens, 1000,
        "both calls are counted"
    );
    assert!(
        report.spent.billed,
        "the model client already recorded them in the budget"
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let first = String::from_utf8_lossy(&requests[0].body);
    assert!(
        first.contains("ORIGINS = a + b") && first.contains("T-0007"),
        "the model saw the file and the task"
    );
    let second = String::from_utf8_lossy(&requests[1].body);
    assert!(
        second.contains("not in `core/settings.py` exactly"),
        "the refusal went back"
    );
}
