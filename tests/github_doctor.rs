//! `dayshift doctor` with `github:` pointing at a fake GitHub (wiremock on 127.0.0.1): one
//! line per GitHub check, each failure with its fix, a warning when nothing protects the
//! base branch, and the token never printed.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use common::{TestHome, stdout};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "github_pat_doctorCANARY0011223344";
const CODER: &str = "agents:\n  coder: {engine: command, command: [git]}\n";

/// A ready home whose target.yaml points `github:` at `api_url`.
fn ready_home(api_url: &str, env: &str) -> (TestHome, tempfile::TempDir) {
    let home = TestHome::new();
    let target = home.path("target-repo");
    assert!(
        Command::new("git")
            .args(["init", "-q"])
            .arg(&target)
            .status()
            .unwrap()
            .success()
    );
    home.write(
        "config/target.yaml",
        &format!(
            "repo: target-repo\nbase_branch: main\ngithub:\n  owner: acme\n  repo: shop\n  api_url: \"{api_url}\"\n  token_env: DOCTOR_GH_TOKEN\n"
        ),
    );
    home.write("config/agents.yaml", CODER);
    home.write("config/.env", env);
    std::fs::set_permissions(
        home.path("config/.env"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let git_home = tempfile::tempdir().unwrap();
    std::fs::write(
        git_home.path().join(".gitconfig"),
        "[user]\n\tname = Test\n\temail = test@example.invalid\n",
    )
    .unwrap();
    (home, git_home)
}

fn doctor(home: &TestHome, git_home: &tempfile::TempDir, flags: &[&str]) -> Output {
    home.cmd()
        .arg("doctor")
        .args(flags)
        .env("HOME", git_home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("DOCTOR_GH_TOKEN")
        .output()
        .unwrap()
}

fn repository(push: bool, squash: bool) -> serde_json::Value {
    json!({"full_name": "acme/shop", "default_branch": "main",
           "permissions": {"admin": false, "maintain": false, "push": push, "triage": true, "pull": true},
           "allow_merge_commit": true, "allow_squash_merge": squash, "allow_rebase_merge": false})
}

async fn github(user: ResponseTemplate, repo: serde_json::Value, protected: bool) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(user)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/shop"))
        .respond_with(ResponseTemplate::new(200).set_body_json(repo))
        .mount(&server)
        .await;
    let classic = if protected {
        ResponseTemplate::new(200)
            .set_body_json(json!({"strict": true, "contexts": ["test"], "checks": [{"context": "test", "app_id": null}]}))
    } else {
        ResponseTemplate::new(404).set_body_json(json!({"message": "Branch not protected"}))
    };
    Mock::given(method("GET"))
        .and(path(
            "/repos/acme/shop/branches/main/protection/required_status_checks",
        ))
        .respond_with(classic)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/shop/rules/branches/main"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    server
}

fn bot() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"login": "shop-bot", "id": 1, "type": "User"}))
        .insert_header("x-oauth-scopes", "repo, workflow")
}

#[tokio::test]
async fn a_working_token_and_repository_pass_and_an_unprotected_base_is_warned_about() {
    let server = github(bot(), repository(true, true), false).await;
    let (home, git) = ready_home(&server.uri(), &format!("DOCTOR_GH_TOKEN={TOKEN}\n"));
    let out = doctor(&home, &git, &[]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    for line in [
        "ok    github: $DOCTOR_GH_TOKEN is set",
        "ok    github: the token works (signed in as shop-bot)",
        "ok    github: classic token with the repo scope",
        "ok    github: acme/shop is reachable and the token can push",
        "ok    github: merge_method squash is allowed",
        "warn  github: `main` requires no checks, so nothing stops a red PR from merging except dayshift's own gate; protect `main` with required checks",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(!text.contains(TOKEN));
    let sent = server.received_requests().await.unwrap();
    assert!(
        sent.iter().all(|r| r.method.as_str() == "GET"),
        "doctor only reads"
    );
}

#[tokio::test]
async fn a_refused_token_says_how_to_make_one_and_stops_there() {
    let refused = ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"}));
    let server = github(refused, repository(true, true), true).await;
    let (home, git) = ready_home(&server.uri(), &format!("DOCTOR_GH_TOKEN={TOKEN}\n"));
    let out = doctor(&home, &git, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let fail: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(fail.len(), 1, "{text}");
    assert!(
        fail[0].contains("the token in $DOCTOR_GH_TOKEN was refused: Bad credentials"),
        "{text}"
    );
    assert!(fail[0].contains("create a fine-grained token") && fail[0].contains("docs/github.md"));
    assert!(!text.contains(TOKEN) && !String::from_utf8_lossy(&out.stderr).contains(TOKEN));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn no_push_and_a_disallowed_merge_method_fail_with_their_fixes() {
    let fine_grained =
        ResponseTemplate::new(200).set_body_json(json!({"login": "shop-bot", "id": 1}));
    let server = github(fine_grained, repository(false, false), true).await;
    let (home, git) = ready_home(&server.uri(), &format!("DOCTOR_GH_TOKEN={TOKEN}\n"));
    let text = stdout(&doctor(&home, &git, &[]));
    assert!(
        text.contains("FAIL  github: the token can read acme/shop but not push to it; give it Contents: read and write"),
        "{text}"
    );
    assert!(
        text.contains(
            "github.merge_method is squash but acme/shop does not allow it; use one of: merge"
        ),
        "{text}"
    );
    assert!(
        text.contains("needs Contents, Pull requests and Issues: read and write; Checks, Commit statuses and Metadata: read"),
        "{text}"
    );
    assert!(
        text.contains("ok    github: `main` requires test (up to date with the base)"),
        "{text}"
    );
}

#[test]
fn a_missing_token_fails_and_offline_skips_the_api() {
    let (home, git) = ready_home("http://127.0.0.1:9", "");
    let text = stdout(&doctor(&home, &git, &["--offline"]));
    assert!(
        text.contains("FAIL  github: $DOCTOR_GH_TOKEN is not set"),
        "{text}"
    );
    let (home, git) = ready_home("http://127.0.0.1:9", &format!("DOCTOR_GH_TOKEN={TOKEN}\n"));
    let out = doctor(&home, &git, &["--offline"]);
    let text = stdout(&out);
    assert!(
        text.contains("ok    github: $DOCTOR_GH_TOKEN is set"),
        "{text}"
    );
    assert!(text.contains("skip  github: --offline"), "{text}");
}
