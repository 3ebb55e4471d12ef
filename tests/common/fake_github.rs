//! A fake GitHub on 127.0.0.1 for the tests of dayshift's pull-request flow: a real HTTP
//! server (wiremock, one catch-all stateful responder) serving the REST calls dayshift
//! makes, over the same bare repository dayshift pushes to. Its merge really merges into
//! that repository; its CI really runs a command on a checkout of each head. A test sets
//! it up (CI jobs, required checks, faults, people's reviews and comments) and inspects
//! what dayshift did (the request log, the pull requests, the issues, the branches).
//!
//! Usable from plain `#[test]` functions: the server runs on a runtime the fake owns.
#![allow(dead_code)]

mod ci;
mod git;
mod issues;
mod json;
mod pulls;
mod routes;
mod state;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use wiremock::MockServer;

pub use state::{Comment, Fault, RepoSettings, Req, Review};

/// A pull request as the fake holds it (its comments are in [`FakeGithub::issues`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PrView {
    pub number: u64,
    pub head: String,
    pub base: String,
    /// `open` or `closed`.
    pub state: String,
    pub merged: bool,
    pub merge_commit_sha: Option<String>,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub draft: bool,
    pub reviews: Vec<Review>,
}

/// An issue (or a pull request, `is_pull_request`) as the fake holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueView {
    pub number: u64,
    pub title: String,
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    pub labels: Vec<String>,
    pub author: String,
    pub closed_by: Option<String>,
    pub comments: Vec<Comment>,
    pub is_pull_request: bool,
}

/// The running fake; the server stops when it is dropped.
pub struct FakeGithub {
    server: MockServer,
    state: Arc<Mutex<state::State>>,
    /// Owns the runtime the server was started on.
    _runtime: tokio::runtime::Runtime,
}

impl FakeGithub {
    /// Serve repository `owner/repo` backed by the bare repository `bare` (its HEAD is the
    /// default branch), accepting only `token`. The bot's login is `dayshift-bot`.
    pub fn start(bare: &Path, owner: &str, repo: &str, token: &str) -> FakeGithub {
        let default_branch = git::head_branch(bare);
        let state = Arc::new(Mutex::new(state::State::new(
            bare.to_path_buf(),
            owner,
            repo,
            token,
            default_branch,
        )));
        let (server, runtime) = super::serve(routes::Responder(state.clone()));
        state.lock().expect("fresh lock").api_url = server.uri();
        FakeGithub {
            server,
            state,
            _runtime: runtime,
        }
    }

    /// The API's base URL (`http://127.0.0.1:PORT`).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    fn lock(&self) -> MutexGuard<'_, state::State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Change the repository's settings (bot login, scopes, permissions, merge methods).
    pub fn configure(&self, change: impl FnOnce(&mut RepoSettings)) {
        change(&mut self.lock().settings);
    }

    /// The login the token belongs to.
    pub fn bot_login(&self) -> String {
        self.lock().settings.bot_login.clone()
    }

    /// A CI job: for each head whose checks matter, `command` runs (`sh -c`) on a checkout
    /// of it and becomes check run `name` (success on exit 0, else failure with the
    /// output's last 60 lines as summary).
    pub fn ci(&self, name: &str, command: &str) {
        self.lock()
            .ci_jobs
            .push((name.to_string(), command.to_string()));
    }

    /// While held, new check runs stay `queued`; releasing lets them run when next read.
    pub fn hold_checks(&self, hold: bool) {
        self.lock().hold_checks = hold;
    }

    /// A commit status `context` in `state` (success, pending, failure, error) on every head.
    pub fn status(&self, context: &str, state: &str) {
        let mut fake = self.lock();
        fake.statuses.retain(|(c, _)| c != context);
        fake.statuses.push((context.to_string(), state.to_string()));
    }

    /// Classic branch protection on the default branch requiring `contexts`; `strict`:
    /// the head must contain the base's tip.
    pub fn protect(&self, contexts: &[&str], strict: bool) {
        self.lock().protection = Some((contexts.iter().map(|c| c.to_string()).collect(), strict));
    }

    /// An active ruleset on the default branch requiring `contexts` (not strict).
    pub fn ruleset(&self, contexts: &[&str]) {
        self.lock().ruleset = Some(contexts.iter().map(|c| c.to_string()).collect());
    }

    /// Answer the next `method` request whose path ends with `path_suffix` with `status`,
    /// `headers` and `body`, once; normal behaviour resumes after it.
    pub fn fail_next(
        &self,
        method: &str,
        path_suffix: &str,
        status: u16,
        headers: &[(&str, &str)],
        body: Value,
    ) {
        self.lock().faults.push(Fault {
            method: method.to_string(),
            path_suffix: path_suffix.to_string(),
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body,
        });
    }

    /// Someone else pushes a commit onto pull request `pr`'s head; returns the new head SHA.
    pub fn move_head(&self, pr: u64) -> String {
        let fake = self.lock();
        let head = head_branch(&fake, pr);
        git::push_commit(&fake.bare, &head)
            .unwrap_or_else(|e| panic!("move the head of #{pr}: {e:?}"))
    }

    /// Person `login` reviews pull request `pr` (`state`: APPROVED, CHANGES_REQUESTED,
    /// COMMENTED, DISMISSED) on its current head.
    pub fn review(&self, pr: u64, login: &str, association: &str, state: &str, body: &str) {
        let mut fake = self.lock();
        let head = head_branch(&fake, pr);
        let sha = git::branch_sha(&fake.bare, &head).unwrap_or_default();
        pulls::add(&mut fake, pr, login, association, state, body, &sha);
    }

    /// Person `login` comments on issue or pull request `number`.
    pub fn comment(&self, number: u64, login: &str, association: &str, body: &str) {
        let added = self.lock().add_comment(number, login, association, body);
        assert!(added.is_some(), "#{number} does not exist");
    }

    /// Person `login` closes issue or pull request `number`.
    pub fn close(&self, number: u64, login: &str) {
        self.change_item(number, |item| item.close(login));
    }

    /// Change issue or pull request `number` as a person on the website would.
    fn change_item(&self, number: u64, change: impl FnOnce(&mut state::Item)) {
        let mut fake = self.lock();
        let item = fake
            .items
            .get_mut(&number)
            .unwrap_or_else(|| panic!("#{number} does not exist"));
        change(item);
    }

    /// The repository's owner opens an issue; returns its number.
    pub fn issue(&self, title: &str, body: &str, labels: &[&str]) -> u64 {
        let owner = self.lock().owner.clone();
        self.issue_by(&owner, title, body, labels)
    }

    /// Person `login` opens an issue; returns its number.
    pub fn issue_by(&self, login: &str, title: &str, body: &str, labels: &[&str]) -> u64 {
        self.lock().add_item(
            title,
            body,
            labels.iter().map(|l| l.to_string()).collect(),
            login,
            None,
        )
    }

    /// A person edits the body of issue `number` on the website (ticks a box).
    pub fn edit_body(&self, number: u64, body: &str) {
        self.change_item(number, |item| {
            item.body = body.to_string();
            item.updated_at = state::now();
        });
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Req> {
        self.lock().requests.clone()
    }

    /// How many `method` requests had a path containing `path_contains`.
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        let fake = self.lock();
        fake.requests
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.contains(path_contains))
            .count()
    }

    /// The pull requests, by number.
    pub fn prs(&self) -> Vec<PrView> {
        let fake = self.lock();
        let pulls = fake
            .items
            .values()
            .filter_map(|item| item.pull.as_ref().map(|pull| (item, pull)));
        pulls
            .map(|(item, pull)| PrView {
                number: item.number,
                head: pull.head.clone(),
                base: pull.base.clone(),
                state: item.state().to_string(),
                merged: pull.merged,
                merge_commit_sha: pull.merge_commit_sha.clone(),
                title: item.title.clone(),
                body: item.body.clone(),
                labels: item.labels.clone(),
                draft: pull.draft,
                reviews: pull.reviews.clone(),
            })
            .collect()
    }

    /// Every issue and pull request, by number.
    pub fn issues(&self) -> Vec<IssueView> {
        let fake = self.lock();
        fake.items
            .values()
            .map(|item| IssueView {
                number: item.number,
                title: item.title.clone(),
                body: item.body.clone(),
                state: item.state().to_string(),
                labels: item.labels.clone(),
                author: item.author.clone(),
                closed_by: item.closed_by.clone(),
                comments: item.comments.clone(),
                is_pull_request: item.pull.is_some(),
            })
            .collect()
    }

    /// The SHA of `branch` in the bare repository, None when it does not exist.
    pub fn base_sha(&self, branch: &str) -> Option<String> {
        git::branch_sha(&self.lock().bare, branch)
    }
}

/// The head branch of pull request `pr`; panics when there is no such pull request.
fn head_branch(fake: &state::State, pr: u64) -> String {
    let pull = fake.items.get(&pr).and_then(|item| item.pull.as_ref());
    pull.map(|p| p.head.clone())
        .unwrap_or_else(|| panic!("#{pr} is not a pull request"))
}
