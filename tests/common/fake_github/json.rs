//! The fake's answers in GitHub's JSON shapes, with the fields octocrab's models require
//! (users carry their URL fields, labels their id and colour, and so on).

use serde_json::{Value, json};

use super::git;
use super::state::{Comment, Item, Review, State};

/// A user (`type` Bot for a `…[bot]` login, else User).
pub fn user(login: &str) -> Value {
    let url = format!("https://api.github.com/users/{login}");
    let kind = if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    json!({
        "login": login, "id": login.bytes().map(u64::from).sum::<u64>(), "node_id": format!("U_{login}"),
        "avatar_url": "https://avatars.githubusercontent.com/u/1", "gravatar_id": "",
        "url": url, "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{url}/followers"), "following_url": format!("{url}/following"),
        "gists_url": format!("{url}/gists"), "starred_url": format!("{url}/starred"),
        "subscriptions_url": format!("{url}/subscriptions"), "organizations_url": format!("{url}/orgs"),
        "repos_url": format!("{url}/repos"), "events_url": format!("{url}/events"),
        "received_events_url": format!("{url}/received_events"), "type": kind, "site_admin": false,
    })
}

pub fn label(state: &State, name: &str) -> Value {
    json!({
        "id": name.bytes().map(u64::from).sum::<u64>(), "node_id": format!("L_{name}"),
        "url": format!("{}/labels/{name}", repo_url(state)), "name": name,
        "description": null, "color": "ededed", "default": false,
    })
}

/// `{api}/repos/{o}/{r}`.
pub fn repo_url(state: &State) -> String {
    format!("{}/repos/{}/{}", state.api_url, state.owner, state.repo)
}

fn html_url(state: &State, kind: &str, number: u64) -> String {
    format!(
        "https://github.com/{}/{}/{kind}/{number}",
        state.owner, state.repo
    )
}

/// `GET /repos/{o}/{r}`.
pub fn repository(state: &State) -> Value {
    let s = &state.settings;
    let [admin, maintain, push, triage, pull] = s.permissions;
    json!({
        "id": 1, "node_id": "R_1", "name": state.repo, "full_name": format!("{}/{}", state.owner, state.repo),
        "owner": user(&state.owner), "private": true, "url": repo_url(state),
        "html_url": format!("https://github.com/{}/{}", state.owner, state.repo),
        "default_branch": s.default_branch,
        "permissions": {"admin": admin, "maintain": maintain, "push": push, "triage": triage, "pull": pull},
        "allow_merge_commit": s.allow_merge_commit, "allow_squash_merge": s.allow_squash_merge,
        "allow_rebase_merge": s.allow_rebase_merge,
    })
}

/// An issue as `GET /issues/{n}` shows it; a pull request carries `pull_request`.
pub fn issue(state: &State, item: &Item) -> Value {
    let url = format!("{}/issues/{}", repo_url(state), item.number);
    let mut value = json!({
        "id": item.id, "node_id": format!("I_{}", item.id), "url": url,
        "repository_url": repo_url(state), "labels_url": format!("{url}/labels{{/name}}"),
        "comments_url": format!("{url}/comments"), "events_url": format!("{url}/events"),
        "html_url": html_url(state, "issues", item.number), "number": item.number,
        "state": item.state(), "title": item.title, "body": item.body, "user": user(&item.author),
        "labels": item.labels.iter().map(|l| label(state, l)).collect::<Vec<_>>(),
        "assignees": [], "locked": false, "comments": item.comments.len(),
        "created_at": item.created_at, "updated_at": item.updated_at, "closed_at": item.closed_at,
        "closed_by": item.closed_by.as_deref().map(user),
    });
    if let Some(pull) = &item.pull {
        let pr_url = format!("{}/pulls/{}", repo_url(state), item.number);
        let html = html_url(state, "pull", item.number);
        value["pull_request"] = json!({
            "url": pr_url, "html_url": html, "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"), "merged_at": pull.merged_at,
        });
    }
    value
}

/// A pull request as `GET /pulls/{n}` shows it (head SHA read from the bare repository).
pub fn pull(state: &State, item: &Item) -> Value {
    let Some(pull) = &item.pull else {
        return Value::Null;
    };
    let head_sha =
        git::branch_sha(&state.bare, &pull.head).unwrap_or_else(|| pull.head_sha.clone());
    let base_sha = git::branch_sha(&state.bare, &pull.base).unwrap_or_default();
    let side = |branch: &str, sha: &str| {
        json!({"label": format!("{}:{branch}", state.owner), "ref": branch, "sha": sha,
               "user": user(&state.owner), "repo": repository(state)})
    };
    json!({
        "url": format!("{}/pulls/{}", repo_url(state), item.number), "id": item.id,
        "node_id": format!("PR_{}", item.id), "html_url": html_url(state, "pull", item.number),
        "number": item.number, "state": item.state(), "locked": false, "title": item.title,
        "body": item.body, "user": user(&item.author),
        "labels": item.labels.iter().map(|l| label(state, l)).collect::<Vec<_>>(),
        "draft": pull.draft, "merged": pull.merged, "mergeable": item.open.then_some(true),
        "merge_commit_sha": pull.merge_commit_sha, "merged_at": pull.merged_at,
        "closed_at": item.closed_at, "created_at": item.created_at, "updated_at": item.updated_at,
        "head": side(&pull.head, &head_sha), "base": side(&pull.base, &base_sha),
        "author_association": "COLLABORATOR",
    })
}

pub fn review(state: &State, number: u64, review: &Review) -> Value {
    json!({
        "id": review.id, "node_id": format!("PRR_{}", review.id),
        "html_url": format!("{}#pullrequestreview-{}", html_url(state, "pull", number), review.id),
        "pull_request_url": format!("{}/pulls/{number}", repo_url(state)),
        "user": user(&review.login), "author_association": review.association,
        "state": review.state, "body": review.body, "submitted_at": review.submitted_at,
        "commit_id": review.commit_id,
    })
}

pub fn comment(state: &State, number: u64, comment: &Comment) -> Value {
    json!({
        "id": comment.id, "node_id": format!("IC_{}", comment.id),
        "url": format!("{}/issues/comments/{}", repo_url(state), comment.id),
        "html_url": format!("{}#issuecomment-{}", html_url(state, "issues", number), comment.id),
        "issue_url": format!("{}/issues/{number}", repo_url(state)),
        "user": user(&comment.login), "author_association": comment.association,
        "body": comment.body, "created_at": comment.created_at, "updated_at": comment.created_at,
    })
}
