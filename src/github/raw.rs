//! GitHub's JSON, only the fields dayshift reads, and how each becomes its typed view in
//! [`super::models`].

use serde::Deserialize;

use super::models::{CommentItem, Issue, MergeMethods, Pull, Repository, ReviewItem};

#[derive(Debug, Deserialize)]
pub(crate) struct RawLogin {
    #[serde(default)]
    pub login: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawPermissions {
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub push: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawRepository {
    pub full_name: String,
    pub default_branch: String,
    #[serde(default)]
    pub permissions: Option<RawPermissions>,
    #[serde(default = "yes")]
    pub allow_merge_commit: bool,
    #[serde(default = "yes")]
    pub allow_squash_merge: bool,
    #[serde(default = "yes")]
    pub allow_rebase_merge: bool,
}

fn yes() -> bool {
    true
}

impl From<RawRepository> for Repository {
    fn from(raw: RawRepository) -> Self {
        let permissions = raw.permissions.unwrap_or(RawPermissions {
            admin: false,
            push: false,
        });
        Repository {
            full_name: raw.full_name,
            default_branch: raw.default_branch,
            can_push: permissions.push || permissions.admin,
            is_admin: permissions.admin,
            merge_methods: MergeMethods {
                merge: raw.allow_merge_commit,
                squash: raw.allow_squash_merge,
                rebase: raw.allow_rebase_merge,
            },
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawRef {
    #[serde(rename = "ref")]
    pub name: String,
    pub sha: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawPull {
    pub number: u64,
    pub state: String,
    #[serde(default)]
    pub merged: bool,
    #[serde(default)]
    pub merged_at: Option<String>,
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
    #[serde(default)]
    pub draft: bool,
    pub head: RawRef,
    pub base: RawRef,
    #[serde(default)]
    pub html_url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<RawLogin>,
}

impl From<RawPull> for Pull {
    fn from(raw: RawPull) -> Self {
        Pull {
            number: raw.number,
            state: raw.state,
            // The list endpoint has no `merged`; `merged_at` is there in both.
            merged: raw.merged || raw.merged_at.is_some(),
            merge_commit_sha: raw.merge_commit_sha,
            draft: raw.draft,
            head_ref: raw.head.name,
            head_sha: raw.head.sha,
            base_ref: raw.base.name,
            html_url: raw.html_url,
            title: raw.title,
            body: raw.body.unwrap_or_default(),
            user_login: raw.user.map(|u| u.login).unwrap_or_default(),
        }
    }
}

/// What reviews and comments share: who wrote what, as whom.
#[derive(Debug, Deserialize)]
pub(crate) struct RawAuthored {
    pub id: u64,
    #[serde(default)]
    pub user: Option<RawLogin>,
    #[serde(default)]
    pub author_association: String,
    #[serde(default)]
    pub body: Option<String>,
}

impl RawAuthored {
    /// (id, login, association, body)
    fn into_parts(self) -> (u64, String, String, String) {
        (
            self.id,
            self.user.map(|u| u.login).unwrap_or_default(),
            self.author_association,
            self.body.unwrap_or_default(),
        )
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawReview {
    #[serde(flatten)]
    pub authored: RawAuthored,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub submitted_at: Option<String>,
    #[serde(default)]
    pub commit_id: Option<String>,
}

impl From<RawReview> for ReviewItem {
    fn from(raw: RawReview) -> Self {
        let (id, login, association, body) = raw.authored.into_parts();
        ReviewItem {
            id,
            login,
            association,
            state: raw.state,
            body,
            submitted_at: raw.submitted_at,
            commit_id: raw.commit_id,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawComment {
    #[serde(flatten)]
    pub authored: RawAuthored,
    #[serde(default)]
    pub created_at: String,
}

impl From<RawComment> for CommentItem {
    fn from(raw: RawComment) -> Self {
        let (id, login, association, body) = raw.authored.into_parts();
        CommentItem {
            id,
            login,
            association,
            body,
            created_at: raw.created_at,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawLabel {
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawIssue {
    pub number: u64,
    pub state: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub labels: Vec<RawLabel>,
    #[serde(default)]
    pub closed_by: Option<RawLogin>,
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
    #[serde(default)]
    pub html_url: String,
    #[serde(default)]
    pub user: Option<RawLogin>,
}

impl From<RawIssue> for Issue {
    fn from(raw: RawIssue) -> Self {
        Issue {
            number: raw.number,
            state: raw.state,
            title: raw.title,
            body: raw.body.unwrap_or_default(),
            labels: raw.labels.into_iter().map(|l| l.name).collect(),
            closed_by: raw.closed_by.map(|u| u.login),
            is_pull: raw.pull_request.is_some(),
            html_url: raw.html_url,
            author: raw.user.map(|u| u.login).unwrap_or_default(),
        }
    }
}
