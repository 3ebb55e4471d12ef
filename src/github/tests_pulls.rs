//! Pull request calls against wiremock: a create that may have happened is looked up, never
//! sent twice blindly; merge outcomes; which writes are retried.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::Mock;
use wiremock::matchers::{body_partial_json, method, path, query_param};

use super::tests::{Fake, answer};
use super::*;

const PULLS: &str = "/repos/acme/shop/pulls";

fn pull_json(number: u64, head: &str) -> serde_json::Value {
    json!({"number": number, "state": "open", "merged": false, "draft": false,
           "head": {"ref": head, "sha": "h1"}, "base": {"ref": "main", "sha": "b1"},
           "html_url": format!("https://github.com/acme/shop/pull/{number}"),
           "title": "T-0001", "body": null, "user": {"login": "bot"}})
}

fn new_pull() -> NewPull {
    NewPull {
        title: "T-0001".into(),
        head: "dayshift/T-0001".into(),
        base: "main".into(),
        body: "why".into(),
        draft: false,
    }
}

/// The create answers `first` once, then 201; the lookup by head finds `existing`.
fn create_fake(first: wiremock::ResponseTemplate, existing: Vec<serde_json::Value>) -> Fake {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("POST"))
            .and(path(PULLS))
            .respond_with(first)
            .up_to_n_times(1)
            .with_priority(1),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path(PULLS))
            .respond_with(answer(201, pull_json(8, "dayshift/T-0001")))
            .with_priority(2),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path(PULLS))
            .and(query_param("head", "acme:dayshift/T-0001"))
            .and(query_param("state", "open"))
            .respond_with(answer(200, json!(existing))),
    );
    fake
}

fn secondary_limit() -> wiremock::ResponseTemplate {
    answer(
        403,
        json!({"message": "You have exceeded a secondary rate limit"}),
    )
    .insert_header("retry-after", "1")
}

#[test]
fn a_rate_limited_create_that_happened_is_found_not_sent_again() {
    let fake = create_fake(secondary_limit(), vec![pull_json(7, "dayshift/T-0001")]);
    let started = Instant::now();
    let pull = fake.api().create_pull(&new_pull()).unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited retry-after"
    );
    assert_eq!(pull.number, 7);
    assert_eq!(fake.count("POST", PULLS), 1);
    assert_eq!(fake.count("GET", PULLS), 1);
}

#[test]
fn a_rate_limited_create_that_did_not_happen_is_sent_once_more() {
    let fake = create_fake(secondary_limit(), vec![]);
    let pull = fake.api().create_pull(&new_pull()).unwrap();
    assert_eq!(pull.number, 8);
    assert_eq!(pull.head_ref, "dayshift/T-0001");
    assert_eq!(fake.count("POST", PULLS), 2);
    let sent: serde_json::Value = serde_json::from_str(&fake.requests()[0].3).unwrap();
    assert_eq!(
        sent,
        json!({"title": "T-0001", "head": "dayshift/T-0001", "base": "main", "body": "why", "draft": false})
    );
}

#[test]
fn a_failed_create_is_looked_up_first() {
    let fake = create_fake(
        answer(502, json!({"message": "Server Error"})),
        vec![pull_json(7, "dayshift/T-0001")],
    );
    assert_eq!(fake.api().create_pull(&new_pull()).unwrap().number, 7);
    assert_eq!(fake.count("POST", PULLS), 1);
}

#[test]
fn an_existing_pull_answers_a_duplicate_create() {
    let fake = create_fake(
        answer(
            422,
            json!({"message": "Validation Failed",
            "errors": [{"message": "A pull request already exists for acme:dayshift/T-0001."}]}),
        ),
        vec![pull_json(7, "dayshift/T-0001")],
    );
    assert_eq!(fake.api().create_pull(&new_pull()).unwrap().number, 7);
    assert_eq!(fake.count("POST", PULLS), 1);
}

#[test]
fn merge_outcomes_follow_the_status() {
    let fake = Fake::start();
    let merge = |number: u64, status: u16, body: serde_json::Value| {
        Mock::given(method("PUT"))
            .and(path(format!("{PULLS}/{number}/merge")))
            .and(body_partial_json(
                json!({"sha": "h1", "merge_method": "squash"}),
            ))
            .respond_with(answer(status, body))
    };
    fake.mount(merge(
        1,
        200,
        json!({"sha": "m1", "merged": true, "message": "Pull Request successfully merged"}),
    ));
    fake.mount(merge(
        2,
        405,
        json!({"message": "Pull Request is not mergeable"}),
    ));
    fake.mount(merge(
        3,
        409,
        json!({"message": "Head branch was modified. Review and try the merge again."}),
    ));
    let api = fake.api();
    let outcome = |n| {
        api.merge(n, "h1", MergeMethod::Squash, "T-0001 (#1)")
            .unwrap()
    };
    assert_eq!(outcome(1), MergeOutcome::Merged { sha: "m1".into() });
    assert_eq!(
        outcome(2),
        MergeOutcome::NotMergeable("Pull Request is not mergeable".into())
    );
    assert!(
        matches!(outcome(3), MergeOutcome::HeadMoved(m) if m.starts_with("Head branch was modified"))
    );
    assert_eq!(api.calls(), 3);
}

#[test]
fn writes_are_retried_only_where_twice_is_once() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("PUT"))
            .and(path("/repos/acme/shop/issues/5/labels"))
            .respond_with(answer(429, json!({"message": "slow"})).insert_header("retry-after", "1"))
            .up_to_n_times(1)
            .with_priority(1),
    );
    fake.mount(
        Mock::given(method("PUT"))
            .and(path("/repos/acme/shop/issues/5/labels"))
            .and(body_partial_json(json!({"labels": ["dayshift"]})))
            .respond_with(answer(200, json!([{"name": "dayshift"}])))
            .with_priority(2),
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/repos/acme/shop/issues/5/comments"))
            .respond_with(answer(500, json!({"message": "boom"}))),
    );
    fake.mount(
        Mock::given(method("DELETE"))
            .and(path("/repos/acme/shop/git/refs/heads/dayshift/T-0001"))
            .respond_with(answer(422, json!({"message": "Reference does not exist"}))),
    );
    let api = fake.api();
    api.set_labels(5, &["dayshift".into()]).unwrap();
    assert_eq!(fake.count("PUT", "/repos/acme/shop/issues/5/labels"), 2);
    let err = api.comment(5, "hello").unwrap_err();
    assert_eq!(err.status(), Some(500), "{err}");
    assert_eq!(
        fake.count("POST", "/repos/acme/shop/issues/5/comments"),
        1,
        "never sent twice"
    );
    api.delete_branch("dayshift/T-0001").unwrap();
}

#[test]
fn reviews_and_comments_are_read_with_their_authors() {
    let fake = Fake::start();
    fake.mount(
        Mock::given(method("GET"))
            .and(path(format!("{PULLS}/4/reviews")))
            .respond_with(answer(
                200,
                json!([{"id": 1, "user": {"login": "ann", "type": "User"},
                "author_association": "MEMBER", "state": "CHANGES_REQUESTED", "body": "fix x",
                "submitted_at": "2026-01-01T00:00:00Z", "commit_id": "h1"}]),
            )),
    );
    fake.mount(
        Mock::given(method("GET"))
            .and(path("/repos/acme/shop/issues/4/comments"))
            .respond_with(answer(200, json!([{"id": 2, "user": {"login": "eve", "type": "User"},
                "author_association": "NONE", "body": "/dayshift merge", "created_at": "2026-01-01T00:00:00Z"}]))),
    );
    let api = fake.api();
    let review = &api.reviews(4).unwrap()[0];
    assert_eq!(
        (review.login.as_str(), review.state.as_str()),
        ("ann", "CHANGES_REQUESTED")
    );
    assert!(has_write_access(&review.association));
    let comment = &api.comments(4).unwrap()[0];
    assert_eq!(comment.body, "/dayshift merge");
    assert!(!has_write_access(&comment.association));
}
