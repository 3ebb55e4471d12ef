//! The pull-request endpoints: list, get, create, update, reviews, merge (really merged
//! into the bare repository, refused as GitHub refuses) and update-branch.

use serde_json::{Value, json};

use super::git::{self, GitFailure, Method};
use super::routes::{Call, Reply};
use super::state::{Item, Pull, Review, State, now};
use super::{ci, json};

const NOT_MERGEABLE: &str = "Pull Request is not mergeable";

fn pull_item(state: &State, number: u64) -> Option<&Item> {
    state.items.get(&number).filter(|i| i.pull.is_some())
}

fn pull_of(item: &Item) -> &Pull {
    item.pull.as_ref().expect("pull_item filters pull requests")
}

/// The head's current SHA (the bare repository's branch, else the last one known).
fn head_sha(state: &State, item: &Item) -> String {
    let pull = pull_of(item);
    git::branch_sha(&state.bare, &pull.head).unwrap_or_else(|| pull.head_sha.clone())
}

pub fn get(state: &mut State, number: u64) -> Reply {
    match pull_item(state, number) {
        Some(item) => Reply::json(200, json::pull(state, item)),
        None => Reply::not_found(),
    }
}

/// `GET /pulls?head=o:branch&base=…&state=open|closed|all`, newest first.
pub fn list(state: &mut State, call: &Call) -> Reply {
    let wanted = call.param("state").unwrap_or("open");
    let head = call
        .param("head")
        .map(|h| h.split_once(':').map_or(h, |(_, b)| b));
    let prs: Vec<Value> = state
        .items
        .values()
        .rev()
        .filter(|item| item.pull.is_some())
        .filter(|item| wanted == "all" || item.state() == wanted)
        .filter(|item| head.is_none_or(|h| pull_of(item).head == h))
        .filter(|item| call.param("base").is_none_or(|b| pull_of(item).base == b))
        .map(|item| json::pull(state, item))
        .collect();
    Reply::json(200, Value::Array(prs))
}

/// `POST /pulls {title, head, base, body, draft}`.
pub fn create(state: &mut State, call: &Call) -> Reply {
    let missing = ["title", "head", "base"]
        .into_iter()
        .find(|f| call.field(f).is_none());
    if let Some(field) = missing {
        return Reply::invalid(
            json!([{"resource": "PullRequest", "code": "missing_field", "field": field}]),
        );
    }
    let (title, base) = (
        call.field("title").unwrap_or_default(),
        call.field("base").unwrap_or_default(),
    );
    let head_spec = call.field("head").unwrap_or_default();
    let head = match head_spec.split_once(':') {
        Some((owner, branch)) if owner == state.owner => branch,
        Some(_) => {
            return Reply::invalid(
                json!([{"resource": "PullRequest", "code": "invalid", "field": "head"}]),
            );
        }
        None => head_spec,
    };
    let Some(head_sha) = git::branch_sha(&state.bare, head) else {
        return Reply::invalid(
            json!([{"resource": "PullRequest", "code": "invalid", "field": "head"}]),
        );
    };
    if git::branch_sha(&state.bare, base).is_none() {
        return Reply::invalid(
            json!([{"resource": "PullRequest", "code": "invalid", "field": "base"}]),
        );
    }
    let duplicate = state
        .items
        .values()
        .any(|i| i.open && i.pull.as_ref().is_some_and(|p| p.head == head));
    if duplicate {
        let message = format!("A pull request already exists for {}:{head}.", state.owner);
        return Reply::invalid(
            json!([{"resource": "PullRequest", "code": "custom", "message": message}]),
        );
    }
    if git::commits_ahead(&state.bare, &format!("refs/heads/{base}"), &head_sha) == 0 {
        let message = format!("No commits between {base} and {head}");
        return Reply::invalid(
            json!([{"resource": "PullRequest", "code": "custom", "message": message}]),
        );
    }
    let pull = Pull {
        head: head.to_string(),
        base: base.to_string(),
        draft: call
            .body
            .get("draft")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        merged: false,
        merge_commit_sha: None,
        merged_at: None,
        head_sha: head_sha.clone(),
        reviews: Vec::new(),
    };
    let (body, author) = (
        call.field("body").unwrap_or_default(),
        state.settings.bot_login.clone(),
    );
    let number = state.add_item(title, body, Vec::new(), &author, Some(pull));
    ci::ensure_runs(state, &head_sha);
    Reply::json(201, json::pull(state, &state.items[&number]))
}

/// `PATCH /pulls/{n} {title?, body?, state?, base?}`.
pub fn update(state: &mut State, call: &Call, number: u64) -> Reply {
    let bot = state.settings.bot_login.clone();
    let Some(item) = state.items.get_mut(&number).filter(|i| i.pull.is_some()) else {
        return Reply::not_found();
    };
    if let Some(title) = call.field("title") {
        item.title = title.to_string();
    }
    if let Some(body) = call.field("body") {
        item.body = body.to_string();
    }
    if let (Some(base), Some(pull)) = (call.field("base"), item.pull.as_mut()) {
        pull.base = base.to_string();
    }
    match call.field("state") {
        Some("closed") if item.open => item.close(&bot),
        Some("open") if pull_of(item).merged => {
            return Reply::invalid(
                json!([{"resource": "PullRequest", "code": "custom", "message": "state cannot be changed. The pull request has been merged."}]),
            );
        }
        Some("open") if !item.open => item.reopen(),
        _ => item.updated_at = now(),
    }
    get(state, number)
}

pub fn reviews(state: &mut State, number: u64) -> Reply {
    let Some(item) = pull_item(state, number) else {
        return Reply::not_found();
    };
    let list: Vec<Value> = pull_of(item)
        .reviews
        .iter()
        .map(|r| json::review(state, number, r))
        .collect();
    Reply::json(200, Value::Array(list))
}

/// `POST /pulls/{n}/reviews {commit_id?, body, event}` as the token's user.
pub fn add_review(state: &mut State, call: &Call, number: u64) -> Reply {
    let Some(item) = pull_item(state, number) else {
        return Reply::not_found();
    };
    let bot = state.settings.bot_login.clone();
    let own = item.author == bot;
    let review_state = match call.field("event") {
        Some("APPROVE") if own => return own_pr_refusal("Can not approve your own pull request"),
        Some("REQUEST_CHANGES") if own => {
            return own_pr_refusal("Can not request changes on your own pull request");
        }
        Some("APPROVE") => "APPROVED",
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        Some("COMMENT") => "COMMENTED",
        _ => "PENDING",
    };
    let commit_id = call
        .field("commit_id")
        .map_or_else(|| head_sha(state, item), str::to_string);
    let body = call.field("body").unwrap_or_default().to_string();
    let review = add(
        state,
        number,
        &bot,
        "COLLABORATOR",
        review_state,
        &body,
        &commit_id,
    );
    Reply::json(200, json::review(state, number, &review))
}

fn own_pr_refusal(message: &str) -> Reply {
    Reply::json(
        422,
        json!({"message": "Unprocessable Entity", "errors": [message]}),
    )
}

/// Add a review to pull request `number` (which must exist); returns it.
pub fn add(
    state: &mut State,
    number: u64,
    login: &str,
    association: &str,
    review_state: &str,
    body: &str,
    commit_id: &str,
) -> Review {
    let review = Review {
        id: state.next_id(),
        login: login.to_string(),
        association: association.to_string(),
        state: review_state.to_string(),
        body: body.to_string(),
        commit_id: commit_id.to_string(),
        submitted_at: now(),
    };
    if let Some(pull) = state.items.get_mut(&number).and_then(|i| i.pull.as_mut()) {
        pull.reviews.push(review.clone());
    }
    review
}

/// `PUT /pulls/{n}/merge {sha?, merge_method?, commit_title?, commit_message?}`.
pub fn merge(state: &mut State, call: &Call, number: u64) -> Reply {
    let Some(item) = pull_item(state, number) else {
        return Reply::not_found();
    };
    let (pull, head) = (pull_of(item).clone(), head_sha(state, item));
    let (title, open) = (item.title.clone(), item.open);
    if !open || pull.merged {
        return Reply::error(405, NOT_MERGEABLE);
    }
    if pull.draft {
        return Reply::error(405, "Pull Request is still a draft");
    }
    if call.field("sha").is_some_and(|sha| sha != head) {
        return Reply::error(
            409,
            "Head branch was modified. Review and try the merge again.",
        );
    }
    let settings = &state.settings;
    let (method, allowed, refusal) = match call.field("merge_method").unwrap_or("merge") {
        "squash" => (
            Method::Squash,
            settings.allow_squash_merge,
            "Squash merges are not allowed on this repository.",
        ),
        "rebase" => (
            Method::Rebase,
            settings.allow_rebase_merge,
            "Rebase merges are not allowed on this repository.",
        ),
        _ => (
            Method::Merge,
            settings.allow_merge_commit,
            "Merge commits are not allowed on this repository.",
        ),
    };
    if !allowed {
        return Reply::error(405, refusal);
    }
    if ci::unmet_context(state, &pull.base, &head).is_some() {
        return Reply::error(405, NOT_MERGEABLE);
    }
    let strict = ci::required(state, &pull.base).1;
    if strict && !git::is_ancestor(&state.bare, &format!("refs/heads/{}", pull.base), &head) {
        return Reply::error(405, "Head branch is not up to date with the base branch");
    }
    let message = merge_message(state, call, method, number, &pull.head, &title);
    let sha = match git::merge_into(&state.bare, &pull.base, &head, method, &message) {
        Ok(sha) => sha,
        Err(GitFailure::Conflict) => return Reply::error(405, NOT_MERGEABLE),
        Err(GitFailure::Other(detail)) => {
            return Reply::error(500, &format!("fake GitHub: {detail}"));
        }
    };
    let bot = state.settings.bot_login.clone();
    if let Some(item) = state.items.get_mut(&number) {
        item.close(&bot);
        if let Some(pull) = item.pull.as_mut() {
            (
                pull.merged,
                pull.merge_commit_sha,
                pull.merged_at,
                pull.head_sha,
            ) = (true, Some(sha.clone()), Some(now()), head);
        }
    }
    Reply::json(
        200,
        json!({"sha": sha, "merged": true, "message": "Pull Request successfully merged"}),
    )
}

/// The merge or squash commit's message: the call's title and message, else GitHub's defaults.
fn merge_message(
    state: &State,
    call: &Call,
    method: Method,
    number: u64,
    head: &str,
    title: &str,
) -> String {
    let default_title = match method {
        Method::Squash => format!("{title} (#{number})"),
        _ => format!("Merge pull request #{number} from {}/{head}", state.owner),
    };
    let default_body = if method == Method::Squash { "" } else { title };
    let commit_title = call.field("commit_title").unwrap_or(&default_title);
    match call.field("commit_message").unwrap_or(default_body) {
        "" => commit_title.to_string(),
        body => format!("{commit_title}\n\n{body}"),
    }
}

/// `PUT /pulls/{n}/update-branch {expected_head_sha?}`: merge the base into the head.
pub fn update_branch(state: &mut State, call: &Call, number: u64) -> Reply {
    let Some(item) = pull_item(state, number) else {
        return Reply::not_found();
    };
    let (pull, head) = (pull_of(item).clone(), head_sha(state, item));
    if call
        .field("expected_head_sha")
        .is_some_and(|sha| sha != head)
    {
        return Reply::error(422, "expected head sha didn't match current head ref.");
    }
    let base_ref = format!("refs/heads/{}", pull.base);
    if git::is_ancestor(&state.bare, &base_ref, &head) {
        return Reply::json(
            202,
            json!({"message": "Updating pull request branch.", "url": json::pull(state, item)["html_url"]}),
        );
    }
    match git::update_branch(&state.bare, &pull.head, &pull.base) {
        Ok(sha) => {
            ci::ensure_runs(state, &sha);
            let url = format!(
                "https://github.com/{}/{}/pull/{number}",
                state.owner, state.repo
            );
            Reply::json(
                202,
                json!({"message": "Updating pull request branch.", "url": url}),
            )
        }
        Err(GitFailure::Conflict) => Reply::error(422, "merge conflict between base and head"),
        Err(GitFailure::Other(detail)) => Reply::error(500, &format!("fake GitHub: {detail}")),
    }
}
