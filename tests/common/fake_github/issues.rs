//! The issue endpoints, which serve pull requests too (as on GitHub): get, list by
//! labels and state, create, update, replace labels, list and add comments.

use serde_json::{Value, json};

use super::json;
use super::routes::{Call, Reply};
use super::state::{State, now};

/// The string items of a JSON array (labels given as names).
fn names(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn get(state: &mut State, number: u64) -> Reply {
    match state.items.get(&number) {
        Some(item) => Reply::json(200, json::issue(state, item)),
        None => Reply::not_found(),
    }
}

/// `GET /issues?labels=a,b&state=open|closed|all`: issues and pull requests, newest first.
pub fn list(state: &mut State, call: &Call) -> Reply {
    let wanted = call.param("state").unwrap_or("open");
    let labels: Vec<&str> = call
        .param("labels")
        .map(|l| l.split(',').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let items: Vec<Value> = state
        .items
        .values()
        .rev()
        .filter(|item| wanted == "all" || item.state() == wanted)
        .filter(|item| {
            labels
                .iter()
                .all(|l| item.labels.iter().any(|have| have == l))
        })
        .map(|item| json::issue(state, item))
        .collect();
    Reply::json(200, Value::Array(items))
}

/// `POST /issues {title, body, labels}` as the token's user.
pub fn create(state: &mut State, call: &Call) -> Reply {
    let Some(title) = call.field("title") else {
        return Reply::invalid(
            json!([{"resource": "Issue", "code": "missing_field", "field": "title"}]),
        );
    };
    let author = state.settings.bot_login.clone();
    let labels = names(call.body.get("labels"));
    let number = state.add_item(
        title,
        call.field("body").unwrap_or_default(),
        labels,
        &author,
        None,
    );
    Reply::json(201, json::issue(state, &state.items[&number]))
}

/// `PATCH /issues/{n} {title?, body?, state?, labels?}`.
pub fn update(state: &mut State, call: &Call, number: u64) -> Reply {
    let bot = state.settings.bot_login.clone();
    let Some(item) = state.items.get_mut(&number) else {
        return Reply::not_found();
    };
    if let Some(title) = call.field("title") {
        item.title = title.to_string();
    }
    if let Some(body) = call.field("body") {
        item.body = body.to_string();
    }
    if call.body.get("labels").is_some() {
        item.labels = names(call.body.get("labels"));
    }
    let merged = item.pull.as_ref().is_some_and(|p| p.merged);
    match call.field("state") {
        Some("closed") if item.open => item.close(&bot),
        Some("open") if !item.open && !merged => item.reopen(),
        _ => item.updated_at = now(),
    }
    get(state, number)
}

/// `PUT /issues/{n}/labels {labels: [..]}`: replace the labels.
pub fn set_labels(state: &mut State, call: &Call, number: u64) -> Reply {
    let given = if call.body.is_array() {
        Some(&call.body)
    } else {
        call.body.get("labels")
    };
    let Some(item) = state.items.get_mut(&number) else {
        return Reply::not_found();
    };
    item.labels = names(given);
    item.updated_at = now();
    let labels: Vec<Value> = item
        .labels
        .clone()
        .iter()
        .map(|l| json::label(state, l))
        .collect();
    Reply::json(200, Value::Array(labels))
}

pub fn comments(state: &mut State, number: u64) -> Reply {
    let Some(item) = state.items.get(&number) else {
        return Reply::not_found();
    };
    let list: Vec<Value> = item
        .comments
        .iter()
        .map(|c| json::comment(state, number, c))
        .collect();
    Reply::json(200, Value::Array(list))
}

/// `POST /issues/{n}/comments {body}` as the token's user.
pub fn add_comment(state: &mut State, call: &Call, number: u64) -> Reply {
    let Some(body) = call.field("body") else {
        return Reply::invalid(
            json!([{"resource": "IssueComment", "code": "missing_field", "field": "body"}]),
        );
    };
    let bot = state.settings.bot_login.clone();
    match state.add_comment(number, &bot, "COLLABORATOR", body) {
        Some(comment) => Reply::json(201, json::comment(state, number, &comment)),
        None => Reply::not_found(),
    }
}
