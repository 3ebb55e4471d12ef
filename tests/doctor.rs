//! `dayshift doctor`: every problem on one line with its fix, exit 1 if any, exit 0 when the
//! home is ready. Git runs with a HOME of the test's own, so the machine's config is not used.

mod common;
#[path = "common/fake_model.rs"]
mod fake_model;

use std::path::Path;
use std::process::Command;

use common::{TestHome, stdout};

/// A coder whose tool is git itself: the engine preflight runs `git --version`.
const CODER: &str = "agents:\n  coder: {engine: command, command: [git]}\n";

fn doctor(home: &TestHome, git_home: &Path) -> std::process::Output {
    doctor_with(home, git_home, &[])
}

/// `dayshift doctor <flags>` with `git_home` as HOME (its git identity, or none).
fn doctor_with(home: &TestHome, git_home: &Path, flags: &[&str]) -> std::process::Output {
    home.cmd()
        .arg("doctor")
        .args(flags)
        .env("HOME", git_home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap()
}

fn git_home(with_identity: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if with_identity {
        std::fs::write(
            dir.path().join(".gitconfig"),
            "[user]\n\tname = Test\n\temail = test@example.invalid\n",
        )
        .unwrap();
    }
    dir
}

#[test]
fn a_ready_home_passes_every_check() {
    let home = TestHome::new();
    let target = home.path("target-repo");
    let status = Command::new("git")
        .args(["init", "-q"])
        .arg(&target)
        .status()
        .unwrap();
    assert!(status.success());
    home.write(
        "config/target.yaml",
        "repo: target-repo\nbase_branch: main\n",
    );
    home.write("config/agents.yaml", CODER);
    let git = git_home(true);
    let out = doctor(&home, git.path());
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("all 10 checks passed"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn every_problem_is_one_line_with_its_fix() {
    let home = TestHome::new();
    home.write(
        "config/agents.yaml",
        "providers:\n  claude: {kind: anthropic}\ndefault_provider: claude\n",
    );
    home.write("config/schedules.yaml", "timezone: Mars/Olympus\n");
    home.write("VISION.md", "# nothing planned\n");
    let git = git_home(false);
    let out = doctor(&home, git.path());
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let fails: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    let has = |words: &str| fails.iter().any(|l| l.contains(words));
    assert!(has("schedules.yaml:1: unknown time zone"), "{text}");
    assert!(has("VISION.md:1: no goals found"), "{text}");
    assert!(
        has("git: `user.email` is not set") && has("git config --global user.email"),
        "{text}"
    );
    assert!(
        text.contains("skip  target: needs a valid config"),
        "checks that need the config say so: {text}"
    );
    assert!(
        fails
            .iter()
            .all(|l| l.contains("; ") || l.contains("run `") || l.contains(", ")),
        "each line says what to do: {text}"
    );
    let json = doctor_with(&home, git.path(), &["--json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["ok"], false);
}

#[test]
fn a_home_without_a_target_is_told_to_set_one() {
    let home = TestHome::new();
    let git = git_home(true);
    let out = doctor(&home, git.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("target.yaml: no `repo` is set; set it to"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_missing_key_and_a_world_readable_env_file_are_reported() {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new();
    home.write(
        "config/agents.yaml",
        "providers:\n  claude: {kind: anthropic, api_key_env: DAYSHIFT_TEST_KEY_THAT_IS_NOT_SET}\ndefault_provider: claude\n",
    );
    home.write("config/.env", "OTHER=1\n");
    std::fs::set_permissions(
        home.path("config/.env"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let git = git_home(true);
    let text = stdout(&doctor(&home, git.path()));
    assert!(
        text.contains("needs DAYSHIFT_TEST_KEY_THAT_IS_NOT_SET; put"),
        "{text}"
    );
    assert!(text.contains("chmod 600"), "{text}");
}

#[test]
fn a_misnamed_config_file_fails_with_the_name_meant() {
    let home = TestHome::new();
    let target = home.path("target-repo");
    let status = Command::new("git")
        .args(["init", "-q"])
        .arg(&target)
        .status()
        .unwrap();
    assert!(status.success());
    home.write(
        "config/target.yaml",
        "repo: target-repo\nbase_branch: main\n",
    );
    home.write("config/agents.yaml", CODER);
    // the person meant to forbid every merge; with the wrong extension it was never read
    home.write("config/policy.yml", "auto_merge: none\n");
    let git = git_home(true);
    let out = doctor(&home, git.path());
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    let fails: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(fails.len(), 1, "{text}");
    assert!(
        fails[0].contains("config/policy.yml is not read: did you mean config/policy.yaml?"),
        "{text}"
    );
    // and every command that loads the config warns about it
    let status = home.run(&["status"]);
    assert!(
        common::stderr(&status).contains("config/policy.yml is not read"),
        "{}",
        common::stderr(&status)
    );
}

/// A ready home (a target, git identity) whose coder is `agents`.
fn ready_home(agents: &str, env: &str) -> TestHome {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new();
    let target = home.path("target-repo");
    let status = Command::new("git")
        .args(["init", "-q"])
        .arg(&target)
        .status()
        .unwrap();
    assert!(status.success());
    home.write(
        "config/target.yaml",
        "repo: target-repo\nbase_branch: main\n",
    );
    home.write("config/agents.yaml", agents);
    home.write("config/.env", env);
    std::fs::set_permissions(
        home.path("config/.env"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    home
}

fn preflight_line(text: &str) -> &str {
    text.lines()
        .find(|l| l.contains("engine preflight"))
        .unwrap_or_else(|| panic!("a preflight line: {text}"))
}

/// The native engine's preflight is one tiny request through dayshift's client: it passes
/// against a server that answers, and a refused key is named by its variable, not its value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_engine_preflight_sends_one_request_and_names_a_refused_key() {
    use wiremock::matchers::{header, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    const SECRET: &str = "sk-doctor-preflight-canary-777";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("authorization", format!("Bearer {SECRET}").as_str()))
        .respond_with(fake_model::sse(fake_model::openai_sse(
            "ok",
            dayshift::llm::Usage::default(),
            "stop",
            true,
        )))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!(
            {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
        )))
        .with_priority(10)
        .mount(&server)
        .await;
    let agents = format!(
        "providers:\n  local: {{kind: openai, base_url: \"{}/v1\", model: m, api_key_env: LOCAL_MODEL_KEY}}\nagents:\n  coder: {{engine: native, provider: local}}\n",
        server.uri()
    );
    let git = git_home(true);
    for (env, passes) in [(SECRET, true), ("sk-wrong-one", false)] {
        let home = ready_home(&agents, &format!("LOCAL_MODEL_KEY={env}\n"));
        let (path, git) = (home.root.clone(), git.path().to_path_buf());
        let out = tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_dayshift"))
                .arg("--home")
                .arg(path)
                .arg("doctor")
                .env("HOME", git)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let text = stdout(&out);
        assert_eq!(out.status.success(), passes, "{text}");
        let line = preflight_line(&text);
        if passes {
            assert!(
                line.starts_with("ok    engine preflight: native engine reached provider `local`"),
                "{line}"
            );
        } else {
            assert!(
                line.starts_with("FAIL  engine preflight:")
                    && line.contains("check LOCAL_MODEL_KEY in config/.env"),
                "{line}"
            );
            assert!(!text.contains("sk-wrong-one"), "{text}");
        }
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "one request per doctor"
    );
}

/// A command engine's tool is only started (`--version`): a missing one fails doctor with
/// the fix.
#[test]
fn a_command_engines_missing_tool_fails_the_preflight() {
    let git = git_home(true);
    let home = ready_home(
        "agents:\n  coder: {engine: command, command: [\"/nonexistent/coding-tool\"]}\n",
        "",
    );
    let out = doctor(&home, git.path());
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let line = preflight_line(&text);
    assert!(
        line.contains("/nonexistent/coding-tool") && line.contains("not installed"),
        "{line}"
    );
    let home = ready_home("agents:\n  coder: {engine: command, command: [git]}\n", "");
    let out = doctor(&home, git.path());
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(preflight_line(&stdout(&out)).contains("`git --version`: git version"));
}

#[test]
fn a_missing_aider_is_installed_by_dayshift_setup() {
    let git = git_home(true);
    let home = ready_home(
        "providers:\n  local: {kind: openai, base_url: \"http://127.0.0.1:9/v1\", model: m}\nagents:\n  coder: {engine: aider, provider: local}\n",
        "",
    );
    // no Aider on this PATH
    let out = home
        .cmd()
        .args(["doctor", "--offline"])
        .env("HOME", git.path())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("FAIL") && l.contains("aider"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("`dayshift setup` installs it") && !line.contains("make setup"),
        "{line}"
    );
}

#[test]
fn each_scheduled_job_is_checked_for_what_it_needs_and_skips_are_said() {
    let git = git_home(true);
    // no coder, and the orchestrator's and planner's own model server is down
    let home = ready_home(
        "providers:\n  local: {kind: openai, base_url: \"http://127.0.0.1:9/v1\", model: m}\ndefault_provider: local\nagents:\n  orchestrator: {provider: local}\n",
        "",
    );
    let out = doctor(&home, git.path());
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let fails: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        fails
            .iter()
            .any(|l| l.contains("`work` is scheduled") && l.contains("has no coder")),
        "{text}"
    );
    for job in ["morning", "plan"] {
        assert!(
            fails
                .iter()
                .any(|l| l.contains(&format!("`{job}` is scheduled"))
                    && l.contains("http://127.0.0.1:9/v1")
                    && l.contains("accepts no connection")),
            "{job}: {text}"
        );
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("warn") && l.contains("`research` is scheduled")),
        "what a day skips is said: {text}"
    );
    // offline, no connection is tried
    let offline = doctor_with(&home, git.path(), &["--offline"]);
    assert!(
        !stdout(&offline).contains("accepts no connection"),
        "{}",
        stdout(&offline)
    );
}

#[test]
fn the_demo_home_passes() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = Command::new(common::BIN)
        .arg("demo")
        .arg(&demo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let git = git_home(true);
    let out = Command::new(common::BIN)
        .args(["--home", demo.to_str().unwrap(), "doctor"])
        .env("HOME", git.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
}
