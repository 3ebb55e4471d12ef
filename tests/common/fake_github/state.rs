//! What the fake GitHub remembers between requests: the repository's settings, issues and
//! pull requests (one numbering for both, as on GitHub), the CI knobs and the check runs
//! they produced, queued one-shot faults and the log of every request.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

/// Settings a test may change with [`super::FakeGithub::configure`].
#[derive(Debug, Clone)]
pub struct RepoSettings {
    /// The login `GET /user` answers for the token; also the author of what the API creates.
    pub bot_login: String,
    /// The `x-oauth-scopes` header of `GET /user`.
    pub scopes: String,
    /// The repository's default branch (the bare repository's HEAD at start).
    pub default_branch: String,
    /// The token's `permissions` on the repository: admin, maintain, push, triage, pull.
    pub permissions: [bool; 5],
    pub allow_merge_commit: bool,
    pub allow_squash_merge: bool,
    pub allow_rebase_merge: bool,
}

/// One request as the fake received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Req {
    pub method: String,
    /// The path, percent-decoded (`/repos/o/r/pulls/1/merge`).
    pub path: String,
    /// The raw query string, empty when there is none.
    pub query: String,
    /// The JSON body, `Value::Null` when the body is empty or not JSON.
    pub body: Value,
}

/// A review on a pull request, by the API or by a person ([`super::FakeGithub::review`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub id: u64,
    pub login: String,
    pub association: String,
    /// APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING.
    pub state: String,
    pub body: String,
    pub commit_id: String,
    pub submitted_at: String,
}

/// A conversation comment on an issue or a pull request.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: u64,
    pub login: String,
    pub association: String,
    pub body: String,
    pub created_at: String,
}

/// What only a pull request has.
#[derive(Debug, Clone)]
pub struct Pull {
    pub head: String,
    pub base: String,
    pub draft: bool,
    pub merged: bool,
    pub merge_commit_sha: Option<String>,
    pub merged_at: Option<String>,
    /// The head's last known SHA (kept when the branch is deleted).
    pub head_sha: String,
    pub reviews: Vec<Review>,
}

/// An issue, or a pull request when `pull` is set.
#[derive(Debug, Clone)]
pub struct Item {
    pub number: u64,
    pub id: u64,
    pub title: String,
    pub body: String,
    pub open: bool,
    pub labels: Vec<String>,
    pub author: String,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub comments: Vec<Comment>,
    pub created_at: String,
    pub updated_at: String,
    pub pull: Option<Pull>,
}

impl Item {
    pub fn state(&self) -> &'static str {
        if self.open { "open" } else { "closed" }
    }

    /// Close it as `login` did.
    pub fn close(&mut self, login: &str) {
        self.open = false;
        self.closed_by = Some(login.to_string());
        self.closed_at = Some(now());
        self.updated_at = now();
    }

    pub fn reopen(&mut self) {
        self.open = true;
        self.closed_by = None;
        self.closed_at = None;
        self.updated_at = now();
    }
}

/// A check run one CI job made for one commit.
#[derive(Debug, Clone)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    /// None while queued (held); then `success` or `failure`.
    pub conclusion: Option<String>,
    pub title: String,
    pub summary: String,
}

/// A one-shot answer for the next request that matches.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: String,
    pub path_suffix: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

/// The whole fake, behind one lock.
#[derive(Debug)]
pub struct State {
    pub bare: PathBuf,
    pub owner: String,
    pub repo: String,
    pub token: String,
    /// `http://127.0.0.1:PORT`, for the `url` fields of answers.
    pub api_url: String,
    pub settings: RepoSettings,
    /// Classic branch protection of the default branch: required contexts and strictness.
    pub protection: Option<(Vec<String>, bool)>,
    /// The contexts an active ruleset requires on the default branch.
    pub ruleset: Option<Vec<String>>,
    pub items: BTreeMap<u64, Item>,
    /// CI jobs: name and shell command.
    pub ci_jobs: Vec<(String, String)>,
    pub hold_checks: bool,
    pub check_runs: Vec<CheckRun>,
    /// Commit statuses (context, state) every head carries.
    pub statuses: Vec<(String, String)>,
    pub faults: Vec<Fault>,
    pub requests: Vec<Req>,
    next_id: u64,
}

impl State {
    pub fn new(
        bare: PathBuf,
        owner: &str,
        repo: &str,
        token: &str,
        default_branch: String,
    ) -> Self {
        State {
            bare,
            owner: owner.to_string(),
            repo: repo.to_string(),
            token: token.to_string(),
            api_url: String::new(),
            settings: RepoSettings {
                bot_login: "dayshift-bot".to_string(),
                scopes: "repo".to_string(),
                default_branch,
                permissions: [true; 5],
                allow_merge_commit: true,
                allow_squash_merge: true,
                allow_rebase_merge: true,
            },
            protection: None,
            ruleset: None,
            items: BTreeMap::new(),
            ci_jobs: Vec::new(),
            hold_checks: false,
            check_runs: Vec::new(),
            statuses: Vec::new(),
            faults: Vec::new(),
            requests: Vec::new(),
            next_id: 1000,
        }
    }

    /// A fresh id for a review, comment, check run or item.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Add an issue (or a pull request with `pull`) by `author`; returns its number.
    pub fn add_item(
        &mut self,
        title: &str,
        body: &str,
        labels: Vec<String>,
        author: &str,
        pull: Option<Pull>,
    ) -> u64 {
        let number = self.items.keys().next_back().map_or(1, |n| n + 1);
        let id = self.next_id();
        let stamp = now();
        self.items.insert(
            number,
            Item {
                number,
                id,
                title: title.to_string(),
                body: body.to_string(),
                open: true,
                labels,
                author: author.to_string(),
                closed_by: None,
                closed_at: None,
                comments: Vec::new(),
                created_at: stamp.clone(),
                updated_at: stamp,
                pull,
            },
        );
        number
    }

    /// Add a comment by `login` to item `number`; None when there is no such item.
    pub fn add_comment(
        &mut self,
        number: u64,
        login: &str,
        association: &str,
        body: &str,
    ) -> Option<Comment> {
        let comment = Comment {
            id: self.next_id(),
            login: login.to_string(),
            association: association.to_string(),
            body: body.to_string(),
            created_at: now(),
        };
        let item = self.items.get_mut(&number)?;
        item.comments.push(comment.clone());
        item.updated_at = now();
        Some(comment)
    }

    /// Take the first queued fault this request matches.
    pub fn take_fault(&mut self, method: &str, path: &str) -> Option<Fault> {
        let at = self.faults.iter().position(|f| {
            f.method.eq_ignore_ascii_case(method) && path.ends_with(&f.path_suffix)
        })?;
        Some(self.faults.remove(at))
    }
}

/// Now as GitHub writes it: `2026-12-06T19:35:03Z`.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
