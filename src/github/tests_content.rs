//! Issues, checks and bodies against wiremock: pages followed and pull requests skipped,
//! check runs and commit statuses read together, long bodies cut before they are sent.

use serde_json::json;
use wiremock::Mock;
use wiremock::matchers::{method, path, query_param};

use super::tests::{Fake, answer, get};
use super::*;

#[test]
fn labelled_issues_follow_pages_and_skip_pulls() {
    let fake = Fake::start();
    let issue = |n: u64, pull: bool| {
        let mut value = json!({"number": n, "state": "open", "title": format!("t{n}"),
                               "body": null, "labels": [{"name": "dayshift"}], "closed_by": null});
        if pull {
            value["pull_request"] = json!({"url": "x"});
        }
        value
    };
    let next = format!(
        "<{}/repos/acme/shop/issues?labels=dayshift&state=open&per_page=100&page=2>; rel=\"next\", <{}/x?page=2>; rel=\"last\"",
        fake.server.uri(),
        fake.server.uri()
    );
    fake.mount(
        get("/repos/acme/shop/issues")
            .and(query_param("page", "2"))
            .respond_with(answer(200, json!([issue(3, false)])))
            .with_priority(1),
    );
    fake.mount(
        get("/repos/acme/shop/issues")
            .and(query_param("labels", "dayshift"))
            .and(query_param("state", "open"))
            .respond_with(
                answer(200, json!([issue(1, false), issue(2, true)]))
                    .insert_header("link", next.as_str()),
            )
            .with_priority(2),
    );
    let api = fake.api();
    let numbers: Vec<u64> = api
        .labelled_issues("dayshift")
        .unwrap()
        .iter()
        .map(|i| i.number)
        .collect();
    assert_eq!(numbers, [1, 3]);
    assert_eq!(api.calls(), 2);
}

#[test]
fn checks_read_check_runs_and_commit_statuses() {
    let fake = Fake::start();
    fake.mount(get("/repos/acme/shop/commits/abc/check-runs").respond_with(answer(
        200,
        json!({"total_count": 2, "check_runs": [
            {"id": 1, "name": "test", "head_sha": "abc", "status": "completed", "conclusion": "failure",
             "output": {"title": "2 failed", "summary": "test_a failed"}, "html_url": "http://ci/1"},
            {"id": 2, "name": "lint", "head_sha": "abc", "status": "in_progress", "conclusion": null,
             "output": {"title": null, "summary": null}, "html_url": "http://ci/2"}]}),
    )));
    fake.mount(get("/repos/acme/shop/commits/abc/status").respond_with(answer(
        200,
        json!({"state": "success", "sha": "abc", "total_count": 1, "statuses": [
            {"context": "legacy-ci", "state": "success", "description": "ok", "target_url": null}]}),
    )));
    let checks = fake.api().checks("abc").unwrap();
    let seen: Vec<(&str, CheckState)> = checks.iter().map(|c| (c.name.as_str(), c.state)).collect();
    assert_eq!(
        seen,
        [
            ("test", CheckState::Failure),
            ("lint", CheckState::Pending),
            ("legacy-ci", CheckState::Success)
        ]
    );
    assert_eq!(checks[0].summary, "2 failed\ntest_a failed");
    let legacy: std::collections::BTreeSet<String> = ["legacy-ci".to_string()].into();
    assert_eq!(overall_state(&checks, &legacy), CheckState::Success);
    assert_eq!(
        overall_state(&checks, &Default::default()),
        CheckState::Failure
    );
}

#[test]
fn a_long_body_is_cut_at_a_line_with_a_note() {
    let line = "x".repeat(99);
    let long = vec![line.as_str(); 1000].join("\n");
    let cut = cut_body(&long);
    assert!(cut.chars().count() <= MAX_BODY_CHARS);
    assert!(
        cut.ends_with("… (cut: the whole text is in the task file)"),
        "{}",
        &cut[cut.len() - 80..]
    );
    let kept = cut.split("\n\n").next().unwrap();
    assert!(kept.lines().all(|l| l == line), "cut at a line boundary");
    assert_eq!(cut_body("short"), "short");

    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/issues"))
            .respond_with(answer(
                201,
                json!({"number": 9, "state": "open", "title": "t", "body": "b", "labels": []}),
            )),
    );
    fake.api()
        .create_issue("t", &long, &["dayshift".into()])
        .unwrap();
    let sent: serde_json::Value = serde_json::from_str(&fake.requests()[0].3).unwrap();
    assert_eq!(sent["body"].as_str().unwrap(), cut);
    assert_eq!(sent["labels"], json!(["dayshift"]));
}
