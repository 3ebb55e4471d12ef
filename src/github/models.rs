//! The small typed views of GitHub's answers dayshift works with, and the raw JSON shapes
//! they are parsed from (only the fields dayshift reads).

use std::collections::BTreeSet;

/// The token's account (`GET /user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub login: String,
    /// A classic token's scopes (`x-oauth-scopes`); `None` for fine-grained tokens and
    /// GitHub App tokens, which send no such header.
    pub scopes: Option<Vec<String>>,
}

/// The merge methods a repository allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeMethods {
    pub merge: bool,
    pub squash: bool,
    pub rebase: bool,
}

impl MergeMethods {
    pub fn allows(&self, method: MergeMethod) -> bool {
        match method {
            MergeMethod::Merge => self.merge,
            MergeMethod::Squash => self.squash,
            MergeMethod::Rebase => self.rebase,
        }
    }
}

/// The repository as the token sees it (`GET /repos/{o}/{r}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub full_name: String,
    pub default_branch: String,
    pub can_push: bool,
    pub is_admin: bool,
    pub merge_methods: MergeMethods,
}

/// The checks GitHub requires before a merge into a branch: classic branch protection and
/// rulesets together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequiredChecks {
    pub names: BTreeSet<String>,
    /// The branch must be up to date with the base before merging.
    pub strict: bool,
    /// Classic protection or an active ruleset with required checks applies.
    pub protected: bool,
}

/// A pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    pub merged: bool,
    /// The commit a merge made (also set by GitHub on an open PR: its test merge).
    pub merge_commit_sha: Option<String>,
    pub draft: bool,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    pub html_url: String,
    pub title: String,
    pub body: String,
    pub user_login: String,
}

/// What `create_pull` sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPull {
    pub title: String,
    pub head: String,
    pub base: String,
    pub body: String,
    pub draft: bool,
}

/// Where one check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckState {
    Pending,
    Success,
    Failure,
}

/// One check on a commit: a check run (GitHub Actions and Apps) or a commit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub state: CheckState,
    /// GitHub's word: a check run's conclusion (or its status while not completed), or a
    /// commit status's state.
    pub conclusion: String,
    /// The check run's output title and summary, or the status's description.
    pub summary: String,
    pub url: String,
}

pub use crate::config::github::MergeMethod;

/// What a merge request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// Merged; the sha of the merge (or squash) commit.
    Merged { sha: String },
    /// 405: GitHub will not merge it (a required check, a review, a conflict, a draft):
    /// GitHub's message.
    NotMergeable(String),
    /// 409: the head is no longer the sha that was tested: GitHub's message.
    HeadMoved(String),
}

/// A review on a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    pub id: u64,
    pub login: String,
    /// `author_association`: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE, …
    pub association: String,
    /// APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING.
    pub state: String,
    pub body: String,
    pub submitted_at: Option<String>,
    pub commit_id: Option<String>,
}

/// A conversation comment on an issue or pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentItem {
    pub id: u64,
    pub login: String,
    pub association: String,
    pub body: String,
    pub created_at: String,
}

/// An issue (or, with `is_pull`, the issue side of a pull request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub number: u64,
    pub state: String,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub closed_by: Option<String>,
    pub is_pull: bool,
    pub html_url: String,
    /// Who opened it (`user.login`).
    pub author: String,
}

/// True for the associations GitHub gives people with write access to the repository:
/// only their approvals and commands count.
pub fn has_write_access(association: &str) -> bool {
    matches!(association, "OWNER" | "MEMBER" | "COLLABORATOR")
}
