//! The one wiremock responder of the fake: records the request, checks the token, answers
//! a queued fault if one matches, else routes the call to the pull-request, issue, check
//! or repository handler. Anything it does not know is a recorded 404.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

use super::state::{Req, State};
use super::{ci, git, issues, json, pulls};

/// A parsed request.
pub struct Call {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Value,
}

impl Call {
    /// Query parameter `key`, if given.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// String field `key` of the JSON body.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }
}

/// An answer: status, extra headers and an optional JSON body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    /// GitHub's error body: `{"message": …}`.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, json!({"message": message}))
    }

    /// 422 Validation Failed with GitHub's `errors` list.
    pub fn invalid(errors: Value) -> Reply {
        Reply::json(
            422,
            json!({"message": "Validation Failed", "errors": errors}),
        )
    }

    pub fn not_found() -> Reply {
        Reply::error(404, "Not Found")
    }

    fn template(self) -> ResponseTemplate {
        let mut template = ResponseTemplate::new(self.status);
        for (name, value) in self.headers {
            template = template.insert_header(name.as_str(), value.as_str());
        }
        match self.body {
            Some(body) => template.set_body_json(body),
            None => template,
        }
    }
}

/// The responder mounted as the fake's catch-all mock.
pub struct Responder(pub Arc<Mutex<State>>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let call = Call {
            method: request.method.to_string(),
            path: percent_decode(request.url.path()),
            query: request
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            body: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
        };
        state.requests.push(Req {
            method: call.method.clone(),
            path: call.path.clone(),
            query: request.url.query().unwrap_or_default().to_string(),
            body: call.body.clone(),
        });
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let presented = authorization
            .strip_prefix("Bearer ")
            .or_else(|| authorization.strip_prefix("token "));
        let reply = if presented != Some(state.token.as_str()) {
            Reply::error(401, "Bad credentials")
        } else if let Some(fault) = state.take_fault(&call.method, &call.path) {
            Reply {
                status: fault.status,
                headers: fault.headers,
                body: Some(fault.body),
            }
        } else {
            route(&mut state, &call)
        };
        reply.template()
    }
}

fn route(state: &mut State, call: &Call) -> Reply {
    let method = call.method.as_str();
    if method == "GET" && call.path == "/user" {
        let mut reply = Reply::json(200, json::user(&state.settings.bot_login));
        reply
            .headers
            .push(("x-oauth-scopes".into(), state.settings.scopes.clone()));
        return reply;
    }
    let prefix = format!("/repos/{}/{}", state.owner, state.repo);
    let Some(rest) = call.path.strip_prefix(&prefix) else {
        return Reply::not_found();
    };
    let rest = rest.trim_start_matches('/');
    if let Some(reply) = route_by_branch(state, method, rest) {
        return reply;
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let number = segments
        .get(1)
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    match (method, segments.as_slice()) {
        ("GET", [""]) => Reply::json(200, json::repository(state)),
        ("GET", ["pulls"]) => pulls::list(state, call),
        ("POST", ["pulls"]) => pulls::create(state, call),
        ("GET", ["pulls", _]) => pulls::get(state, number),
        ("PATCH", ["pulls", _]) => pulls::update(state, call, number),
        ("GET", ["pulls", _, "reviews"]) => pulls::reviews(state, number),
        ("POST", ["pulls", _, "reviews"]) => pulls::add_review(state, call, number),
        ("PUT", ["pulls", _, "merge"]) => pulls::merge(state, call, number),
        ("PUT", ["pulls", _, "update-branch"]) => pulls::update_branch(state, call, number),
        ("GET", ["issues"]) => issues::list(state, call),
        ("POST", ["issues"]) => issues::create(state, call),
        ("GET", ["issues", _]) => issues::get(state, number),
        ("PATCH", ["issues", _]) => issues::update(state, call, number),
        ("PUT", ["issues", _, "labels"]) => issues::set_labels(state, call, number),
        ("GET", ["issues", _, "comments"]) => issues::comments(state, number),
        ("POST", ["issues", _, "comments"]) => issues::add_comment(state, call, number),
        _ => Reply::not_found(),
    }
}

/// The routes whose path holds a branch or ref name (which may contain `/`).
fn route_by_branch(state: &mut State, method: &str, rest: &str) -> Option<Reply> {
    let protection = rest
        .strip_prefix("branches/")
        .and_then(|r| r.strip_suffix("/protection/required_status_checks"));
    if let (Some(branch), "GET") = (protection, method) {
        return Some(match &state.protection {
            Some((contexts, strict)) if branch == state.settings.default_branch => Reply::json(
                200,
                json!({"strict": strict, "contexts": contexts,
                       "checks": contexts.iter().map(|c| json!({"context": c, "app_id": null})).collect::<Vec<_>>()}),
            ),
            _ => Reply::error(404, "Branch not protected"),
        });
    }
    if let (Some(branch), "GET") = (rest.strip_prefix("rules/branches/"), method) {
        let rules = match &state.ruleset {
            Some(contexts) if branch == state.settings.default_branch => json!([{
                "type": "required_status_checks",
                "parameters": {"strict_required_status_checks_policy": false,
                               "required_status_checks": contexts.iter().map(|c| json!({"context": c})).collect::<Vec<_>>()},
            }]),
            _ => json!([]),
        };
        return Some(Reply::json(200, rules));
    }
    if let (Some(branch), "DELETE") = (rest.strip_prefix("git/refs/heads/"), method) {
        return Some(if git::delete_branch(&state.bare, branch) {
            Reply {
                status: 204,
                headers: Vec::new(),
                body: None,
            }
        } else {
            Reply::error(422, "Reference does not exist")
        });
    }
    let commit = rest.strip_prefix("commits/")?;
    let (reference, checks) = match (
        commit.strip_suffix("/check-runs"),
        commit.strip_suffix("/status"),
    ) {
        (Some(reference), _) => (reference, true),
        (None, Some(reference)) => (reference, false),
        (None, None) => return None,
    };
    if method != "GET" {
        return None;
    }
    let Some(sha) = git::rev_parse(&state.bare, reference) else {
        return Some(Reply::error(
            422,
            &format!("No commit found for SHA: {reference}"),
        ));
    };
    Some(Reply::json(
        200,
        if checks {
            ci::check_runs_json(state, &sha)
        } else {
            ci::combined_status_json(state, &sha)
        },
    ))
}

/// `%2F` → `/` and so on (wiremock hands over the path still encoded).
fn percent_decode(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned()
}
