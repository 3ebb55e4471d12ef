//! Tests of the fake GitHub itself (tests/common/fake_github.rs), through plain HTTP: it
//! must refuse and merge as GitHub does, and really change the bare repository, or the
//! pull-request tests built on it prove nothing.

mod common;
#[path = "fake_github/merging.rs"]
mod merging;

use std::path::{Path, PathBuf};

use common::fake_github::FakeGithub;
use common::{bare_remote, git};
use reqwest::blocking::Client;
use serde_json::{Value, json};

const TOKEN: &str = "ghp_test_token_for_the_fake";

/// A bare repository holding calc.py on main, served by a fake GitHub as acme/calc.
struct Fixture {
    dir: tempfile::TempDir,
    bare: PathBuf,
    fake: FakeGithub,
    http: Client,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bare = bare_remote(
            dir.path(),
            "calc",
            &[("calc.py", "def add(a, b):\n    return a + b\n")],
        );
        let fake = FakeGithub::start(&bare, "acme", "calc", TOKEN);
        Fixture {
            dir,
            bare,
            fake,
            http: Client::new(),
        }
    }

    /// Push branch `name` (from main) with one commit per `(file, text)`; returns its SHA.
    fn push_branch(&self, name: &str, commits: &[(&str, &str)]) -> String {
        let work = self
            .dir
            .path()
            .join(format!("work-{}", name.replace('/', "-")));
        if !work.exists() {
            git(
                self.dir.path(),
                &[
                    "clone",
                    "-q",
                    self.bare.to_str().unwrap(),
                    work.to_str().unwrap(),
                ],
            );
            git(&work, &["checkout", "-q", "-b", name]);
        }
        for (file, text) in commits {
            std::fs::write(work.join(file), text).unwrap();
            git(&work, &["add", file]);
            git(&work, &["commit", "-q", "-m", &format!("change {file}")]);
        }
        git(&work, &["push", "-q", "origin", name]);
        git(&work, &["rev-parse", "HEAD"]).trim().to_string()
    }

    /// `method path` with `body` and the good token: (status, JSON body or Null).
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_as(&format!("Bearer {TOKEN}"), method, path, body)
    }

    fn call_as(
        &self,
        authorization: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.fake.uri());
        let mut request = self
            .http
            .request(method.parse().unwrap(), url)
            .header("authorization", authorization);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// Open a PR for `head` into main; returns its number.
    fn open_pr(&self, head: &str, title: &str) -> u64 {
        let body = json!({"title": title, "head": format!("acme:{head}"), "base": "main", "body": "why", "draft": false});
        let (status, pr) = self.call("POST", "/repos/acme/calc/pulls", Some(body));
        assert_eq!(status, 201, "{pr}");
        pr["number"].as_u64().unwrap()
    }

    fn merge(&self, pr: u64, body: Value) -> (u16, Value) {
        self.call(
            "PUT",
            &format!("/repos/acme/calc/pulls/{pr}/merge"),
            Some(body),
        )
    }

    fn main_sha(&self) -> String {
        self.fake.base_sha("main").unwrap()
    }
}

/// `git log` of `range` in `repo`: one line per commit, `<parents>|<subject>`.
fn history(repo: &Path, range: &str) -> Vec<String> {
    git(repo, &["log", "--format=%P|%s", range])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_pr_is_created_once_per_head_and_only_for_a_pushed_branch() {
    let f = Fixture::new();
    let sha = f.push_branch(
        "dayshift/T-0001-add",
        &[("calc.py", "def add(a, b):\n    return b + a\n")],
    );
    let number = f.open_pr("dayshift/T-0001-add", "Add");
    let (status, pr) = f.call("GET", &format!("/repos/acme/calc/pulls/{number}"), None);
    assert_eq!(
        (status, pr["head"]["sha"].as_str(), pr["state"].as_str()),
        (200, Some(sha.as_str()), Some("open"))
    );

    let again = json!({"title": "Add", "head": "acme:dayshift/T-0001-add", "base": "main"});
    let (status, refusal) = f.call("POST", "/repos/acme/calc/pulls", Some(again));
    assert_eq!(status, 422);
    assert_eq!(
        refusal["errors"][0]["message"],
        "A pull request already exists for acme:dayshift/T-0001-add."
    );

    let missing = json!({"title": "Nope", "head": "acme:never-pushed", "base": "main"});
    assert_eq!(
        f.call("POST", "/repos/acme/calc/pulls", Some(missing)).0,
        422
    );

    let (_, listed) = f.call(
        "GET",
        "/repos/acme/calc/pulls?head=acme:dayshift/T-0001-add&state=open",
        None,
    );
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(f.call("GET", "/repos/acme/calc/pulls/99", None).0, 404);
    assert_eq!(f.fake.prs().len(), 1);
}

#[test]
fn a_queued_fault_answers_once_then_the_fake_behaves() {
    let f = Fixture::new();
    f.push_branch("feature", &[("notes.txt", "one\n")]);
    let limit = json!({"message": "You have exceeded a secondary rate limit"});
    f.fake
        .fail_next("POST", "/pulls", 403, &[("retry-after", "1")], limit);
    let url = format!("{}/repos/acme/calc/pulls", f.fake.uri());
    let body = json!({"title": "Notes", "head": "feature", "base": "main"});
    let create = || {
        f.http
            .post(&url)
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .unwrap()
    };
    let first = create();
    assert_eq!(first.status().as_u16(), 403);
    assert_eq!(first.headers()["retry-after"], "1");
    assert!(f.fake.prs().is_empty(), "the refused call created nothing");
    let second = create();
    assert_eq!(second.status().as_u16(), 201);
    assert_eq!(f.fake.count("POST", "/repos/acme/calc/pulls"), 2);
}

#[test]
fn a_wrong_or_missing_token_gets_401_and_is_still_recorded() {
    let f = Fixture::new();
    let (status, body) = f.call_as("Bearer not-the-token", "GET", "/user", None);
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("Bad credentials"))
    );
    assert_eq!(f.call_as("", "GET", "/repos/acme/calc", None).0, 401);

    let user = f
        .http
        .get(format!("{}/user", f.fake.uri()))
        .header("authorization", format!("token {TOKEN}"))
        .send()
        .unwrap();
    assert_eq!(user.headers()["x-oauth-scopes"], "repo");
    assert_eq!(user.json::<Value>().unwrap()["login"], "dayshift-bot");
    let (_, repo) = f.call("GET", "/repos/acme/calc", None);
    assert_eq!(
        (
            repo["default_branch"].as_str(),
            &repo["permissions"]["push"]
        ),
        (Some("main"), &json!(true))
    );
    assert_eq!(f.call("GET", "/repos/acme/calc/actions/runs", None).0, 404);
    let paths: Vec<String> = f.fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/user",
            "/repos/acme/calc",
            "/user",
            "/repos/acme/calc",
            "/repos/acme/calc/actions/runs"
        ]
    );
}

#[test]
fn issues_by_label_include_prs_and_the_bot_cannot_approve_its_own_pr() {
    let f = Fixture::new();
    let issue = f.fake.issue("Crash on empty input", "steps", &["dayshift"]);
    f.fake.issue("Unrelated", "", &["other"]);
    f.push_branch("feature", &[("notes.txt", "one\n")]);
    let pr = f.open_pr("feature", "Notes");
    let (status, labels) = f.call(
        "PUT",
        &format!("/repos/acme/calc/issues/{pr}/labels"),
        Some(json!({"labels": ["dayshift"]})),
    );
    assert_eq!((status, &labels[0]["name"]), (200, &json!("dayshift")));

    let (_, listed) = f.call(
        "GET",
        "/repos/acme/calc/issues?labels=dayshift&state=all",
        None,
    );
    let numbers: Vec<(u64, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["number"].as_u64().unwrap(),
                i.get("pull_request").is_some(),
            )
        })
        .collect();
    assert_eq!(numbers, [(pr, true), (issue, false)]);

    let approve = json!({"body": "lgtm", "event": "APPROVE"});
    let (status, refusal) = f.call(
        "POST",
        &format!("/repos/acme/calc/pulls/{pr}/reviews"),
        Some(approve),
    );
    assert_eq!(
        (status, &refusal["errors"][0]),
        (422, &json!("Can not approve your own pull request"))
    );
    f.fake
        .review(pr, "alice", "OWNER", "CHANGES_REQUESTED", "rename it");
    f.fake.comment(issue, "alice", "OWNER", "any news?");
    f.fake.close(issue, "alice");
    let (_, reviews) = f.call("GET", &format!("/repos/acme/calc/pulls/{pr}/reviews"), None);
    assert_eq!(
        (&reviews[0]["user"]["login"], &reviews[0]["state"]),
        (&json!("alice"), &json!("CHANGES_REQUESTED"))
    );
    let (_, closed) = f.call("GET", &format!("/repos/acme/calc/issues/{issue}"), None);
    assert_eq!(
        (&closed["state"], &closed["closed_by"]["login"]),
        (&json!("closed"), &json!("alice"))
    );
    let (_, comments) = f.call(
        "GET",
        &format!("/repos/acme/calc/issues/{issue}/comments"),
        None,
    );
    assert_eq!(comments[0]["body"], "any news?");
}
