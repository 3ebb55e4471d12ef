//! The client against a real HTTP server on 127.0.0.1 (wiremock): headers, error
//! messages, retries of reads, required checks, the rate-limit pause, the token kept out
//! of sight, and calls from inside a tokio runtime. The shared [`Fake`] lives here.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

pub(super) const TOKEN: &str = "ghp_canaryTOKEN0123456789abcdef";

/// A wiremock server (on its own threads) and a runtime to set it up from sync tests.
pub(super) struct Fake {
    pub runtime: tokio::runtime::Runtime,
    pub server: MockServer,
}

impl Fake {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(MockServer::start());
        Self { runtime, server }
    }

    pub fn mount(&self, mock: Mock) {
        self.runtime.block_on(mock.mount(&self.server));
    }

    pub fn api(&self) -> Api {
        let mut settings = GithubSettings::new(self.server.uri(), "acme", "shop", TOKEN);
        settings.max_wait = Duration::from_secs(1);
        Api::new(settings).unwrap()
    }

    /// (method, path, query, body) of every request received, in order.
    pub fn requests(&self) -> Vec<(String, String, String, String)> {
        let received = self.runtime.block_on(self.server.received_requests());
        received
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                (
                    r.method.to_string(),
                    r.url.path().to_string(),
                    r.url.query().unwrap_or("").to_string(),
                    String::from_utf8_lossy(&r.body).into_owned(),
                )
            })
            .collect()
    }

    pub fn count(&self, verb: &str, path_is: &str) -> usize {
        self.requests()
            .iter()
            .filter(|(m, p, _, _)| m == verb && p == path_is)
            .count()
    }
}

pub(super) fn answer(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

pub(super) fn get(route: &str) -> wiremock::MockBuilder {
    Mock::given(method("GET")).and(path(route.to_string()))
}

#[test]
fn user_sends_the_version_agent_and_token_and_reads_scopes() {
    let fake = Fake::start();
    fake.mount(
        get("/user")
            .and(header("x-github-api-version", "2022-11-28"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(
                answer(200, json!({"login": "bot", "id": 1}))
                    .insert_header("x-oauth-scopes", "repo, workflow"),
            ),
    );
    let api = fake.api();
    let user = api.user().unwrap();
    assert_eq!(user.login, "bot");
    assert_eq!(user.scopes, Some(vec!["repo".into(), "workflow".into()]));
    assert_eq!(api.calls(), 1);
    let received = fake
        .runtime
        .block_on(fake.server.received_requests())
        .unwrap();
    let agents: Vec<&str> = received[0]
        .headers
        .get_all("user-agent")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let ours = format!("dayshift/{}", env!("CARGO_PKG_VERSION"));
    assert!(agents.iter().any(|a| a.contains(&ours)), "{agents:?}");
}

#[test]
fn refusals_say_what_to_do_and_never_show_the_token() {
    let fake = Fake::start();
    fake.mount(get("/user").respond_with(answer(
        401,
        json!({"message": format!("Bad credentials for {TOKEN}")}),
    )));
    fake.mount(get("/repos/acme/shop").respond_with(answer(404, json!({"message": "Not Found"}))));
    fake.mount(
        get("/repos/acme/shop/commits/abc/check-runs").respond_with(answer(
            403,
            json!({"message": "Resource not accessible by personal access token"}),
        )),
    );
    let api = fake.api();
    let unauthorized = api.user().unwrap_err().to_string();
    assert!(
        unauthorized.starts_with("the token in $GITHUB_TOKEN was refused: Bad credentials"),
        "{unauthorized}"
    );
    assert!(unauthorized.contains("docs/github.md"), "{unauthorized}");
    let missing = api.repository().unwrap_err().to_string();
    assert!(
        missing.contains("acme/shop not found or the token cannot see it"),
        "{missing}"
    );
    let forbidden = api.checks("abc").unwrap_err().to_string();
    assert!(forbidden.contains("Checks: read"), "{forbidden}");
    for text in [
        unauthorized,
        missing,
        forbidden,
        format!("{api:?}"),
        format!("{:?}", GithubSettings::new("u", "o", "r", TOKEN)),
    ] {
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
    }
    assert_eq!(api.calls(), 3, "refusals are not retried");
}

#[test]
fn a_rate_limited_or_failing_read_is_retried() {
    let fake = Fake::start();
    fake.mount(
        get("/repos/acme/shop")
            .respond_with(
                answer(429, json!({"message": "slow down"})).insert_header("retry-after", "1"),
            )
            .up_to_n_times(1)
            .with_priority(1),
    );
    fake.mount(
        get("/repos/acme/shop")
            .respond_with(answer(502, json!({"message": "Bad Gateway"})))
            .up_to_n_times(1)
            .with_priority(2),
    );
    fake.mount(
        get("/repos/acme/shop")
            .respond_with(answer(
                200,
                json!({"full_name": "acme/shop", "default_branch": "main",
                       "permissions": {"admin": false, "push": true},
                       "allow_merge_commit": false, "allow_squash_merge": true, "allow_rebase_merge": true}),
            ))
            .with_priority(3),
    );
    let api = fake.api();
    let started = Instant::now();
    let repository = api.repository().unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited retry-after"
    );
    assert_eq!(api.calls(), 3);
    assert!(repository.can_push && !repository.is_admin);
    assert!(!repository.merge_methods.allows(MergeMethod::Merge));
    assert!(repository.merge_methods.allows(MergeMethod::Squash));
}

#[test]
fn a_read_still_limited_after_three_retries_is_an_error() {
    let fake = Fake::start();
    fake.mount(
        get("/user").respond_with(
            answer(
                403,
                json!({"message": "You have exceeded a secondary rate limit"}),
            )
            .insert_header("retry-after", "0"),
        ),
    );
    let err = fake.api().user().unwrap_err();
    assert!(
        matches!(err, GithubError::RateLimited { retries: 3, .. }),
        "{err}"
    );
    assert_eq!(fake.count("GET", "/user"), 4);
}

#[test]
fn required_checks_join_classic_protection_and_rulesets() {
    let fake = Fake::start();
    fake.mount(
        get("/repos/acme/shop/branches/main/protection/required_status_checks").respond_with(
            answer(200, json!({"strict": false, "contexts": ["ci"], "checks": [{"context": "lint", "app_id": null}]})),
        ),
    );
    fake.mount(
        get("/repos/acme/shop/rules/branches/main").respond_with(answer(
            200,
            json!([{"type": "deletion"},
               {"type": "required_status_checks", "parameters": {
                   "strict_required_status_checks_policy": true,
                   "required_status_checks": [{"context": "e2e"}, {"context": "ci"}]}}]),
        )),
    );
    fake.mount(
        get("/repos/acme/shop/branches/dev/protection/required_status_checks")
            .respond_with(answer(404, json!({"message": "Branch not protected"}))),
    );
    fake.mount(get("/repos/acme/shop/rules/branches/dev").respond_with(answer(200, json!([]))));
    let api = fake.api();
    let main = api.required_checks("main").unwrap();
    let names: Vec<&str> = main.names.iter().map(String::as_str).collect();
    assert_eq!(names, ["ci", "e2e", "lint"]);
    assert!(main.protected && main.strict);
    assert_eq!(
        api.required_checks("dev").unwrap(),
        RequiredChecks::default()
    );
}

#[test]
fn an_exhausted_limit_pauses_the_next_request_until_the_reset() {
    let fake = Fake::start();
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 30;
    fake.mount(
        get("/user").respond_with(
            answer(200, json!({"login": "bot"}))
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str()),
        ),
    );
    let api = fake.api();
    api.user().unwrap();
    let started = Instant::now();
    api.user().unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert!(
        waited < Duration::from_secs(10),
        "capped at max_wait: {waited:?}"
    );
}

#[test]
fn calls_from_inside_a_tokio_runtime_work() {
    let fake = Fake::start();
    fake.mount(get("/user").respond_with(answer(200, json!({"login": "bot"}))));
    let api = std::sync::Arc::new(fake.api());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let in_blocking = api.clone();
    let login = runtime
        .block_on(async move { tokio::task::spawn_blocking(move || in_blocking.user()).await })
        .unwrap()
        .unwrap()
        .login;
    assert_eq!(login, "bot");
    let in_async = api.clone();
    let login = runtime
        .block_on(async move { in_async.user() })
        .unwrap()
        .login;
    assert_eq!(login, "bot");
    // Dropped inside a runtime: must not panic either.
    runtime.block_on(async move { drop(api) });
}
