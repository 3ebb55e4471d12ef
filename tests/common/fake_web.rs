//! A fake web on 127.0.0.1 (wiremock, one stateful responder): Tavily-, SearxNG- and
//! Brave-shaped search answers for the queries it is given, HTML (or any) pages by path,
//! redirects, a robots.txt, a down mode (500 to everything), a slow mode and a key it accepts (any
//! other gets 401). It records every request's path, and the headers of search requests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

/// The key the fake accepts (a canary the tests look for in errors).
pub const GOOD_KEY: &str = "tvly-CANARY-good-key-7f3a";

/// A search result the fake gives for a query.
#[derive(Debug, Clone)]
pub struct FakeHit {
    pub title: String,
    pub url: String,
    pub snippet: String,
}

#[derive(Default)]
struct State {
    hits: HashMap<String, Vec<FakeHit>>,
    pages: HashMap<String, (String, Vec<u8>)>,
    robots: Option<String>,
    robots_status: Option<u16>,
    redirects: HashMap<String, String>,
    down: bool,
    delay: Option<Duration>,
    requests: Vec<String>,
    search_headers: Vec<HashMap<String, String>>,
}

pub struct FakeWeb {
    server: MockServer,
    state: Arc<Mutex<State>>,
    _runtime: tokio::runtime::Runtime,
}

impl FakeWeb {
    pub fn start() -> FakeWeb {
        let state = Arc::new(Mutex::new(State::default()));
        let (server, runtime) = super::serve(Responder(state.clone()));
        FakeWeb {
            server,
            state,
            _runtime: runtime,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.uri()
    }

    /// The URL of a page path (`/docs/a.html`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.uri())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The hits every provider shape answers `query` with.
    pub fn answer(&self, query: &str, hits: &[(&str, &str, &str)]) {
        let hits = hits
            .iter()
            .map(|(title, url, snippet)| FakeHit {
                title: title.to_string(),
                url: url.to_string(),
                snippet: snippet.to_string(),
            })
            .collect();
        self.lock().hits.insert(query.to_string(), hits);
    }

    /// An HTML page at `path`.
    pub fn page(&self, path: &str, html: &str) {
        self.body(path, "text/html; charset=utf-8", html.as_bytes().to_vec());
    }

    /// Any body at `path` with its content type.
    pub fn body(&self, path: &str, content_type: &str, body: Vec<u8>) {
        self.lock()
            .pages
            .insert(path.to_string(), (content_type.to_string(), body));
    }

    /// `path` answers 302 to `location`.
    pub fn redirect(&self, path: &str, location: &str) {
        self.lock()
            .redirects
            .insert(path.to_string(), location.to_string());
    }

    /// The robots.txt served (without one, /robots.txt is 404).
    pub fn robots(&self, text: &str) {
        self.lock().robots = Some(text.to_string());
    }

    /// /robots.txt answers `status` (a broken site).
    pub fn robots_fail(&self, status: u16) {
        self.lock().robots_status = Some(status);
    }

    /// Every request from now on gets 500.
    pub fn go_down(&self) {
        self.lock().down = true;
    }

    /// Every answer from now on comes after `delay`.
    pub fn slow(&self, delay: Duration) {
        self.lock().delay = Some(delay);
    }

    /// The paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// The headers of each search request, lower-case names.
    pub fn search_headers(&self) -> Vec<HashMap<String, String>> {
        self.lock().search_headers.clone()
    }
}

struct Responder(Arc<Mutex<State>>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let path = request.url.path().to_string();
        state.requests.push(path.clone());
        let answer = answer(&mut state, request, &path);
        match state.delay {
            Some(delay) => answer.set_delay(delay),
            None => answer,
        }
    }
}

fn answer(state: &mut State, request: &Request, path: &str) -> ResponseTemplate {
    if state.down {
        return ResponseTemplate::new(500).set_body_string("internal error");
    }
    let provider = match path {
        "/search" if request.method.as_str() == "POST" => Some("tavily"),
        "/search" => Some("searxng"),
        "/res/v1/web/search" => Some("brave"),
        _ => None,
    };
    if let Some(provider) = provider {
        return search(state, request, provider);
    }
    if path == "/robots.txt" {
        if let Some(status) = state.robots_status {
            return ResponseTemplate::new(status);
        }
        return match &state.robots {
            Some(text) => ResponseTemplate::new(200)
                .insert_header("content-type", "text/plain")
                .set_body_string(text.clone()),
            None => ResponseTemplate::new(404),
        };
    }
    if let Some(location) = state.redirects.get(path) {
        return ResponseTemplate::new(302).insert_header("location", location.as_str());
    }
    match state.pages.get(path) {
        Some((content_type, body)) => ResponseTemplate::new(200)
            .insert_header("content-type", content_type.as_str())
            .set_body_bytes(body.clone()),
        None => ResponseTemplate::new(404).set_body_string("not found"),
    }
}

fn search(state: &mut State, request: &Request, provider: &str) -> ResponseTemplate {
    let headers: HashMap<String, String> = request
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    state.search_headers.push(headers.clone());
    let key = match provider {
        "tavily" => headers
            .get("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .map(str::to_string),
        "brave" => headers.get("x-subscription-token").cloned(),
        _ => Some(GOOD_KEY.to_string()),
    };
    if key.as_deref() != Some(GOOD_KEY) {
        return ResponseTemplate::new(401).set_body_json(
            json!({"detail": {"error": "Unauthorized: missing or invalid API key."}}),
        );
    }
    let params: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
    let (query, max) = if provider == "tavily" {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        if body["search_depth"] != "basic" {
            return ResponseTemplate::new(400).set_body_string("search_depth must be basic");
        }
        (
            body["query"].as_str().unwrap_or("").to_string(),
            body["max_results"].as_u64().unwrap_or(5),
        )
    } else {
        if provider == "searxng" && params.get("format").map(String::as_str) != Some("json") {
            return ResponseTemplate::new(403).set_body_string("format not allowed");
        }
        let max = params
            .get("count")
            .and_then(|c| c.parse().ok())
            .unwrap_or(10);
        (params.get("q").cloned().unwrap_or_default(), max)
    };
    let hits: Vec<FakeHit> = state
        .hits
        .get(&query)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .take(max as usize)
        .collect();
    let body = match provider {
        "brave" => {
            json!({"type": "search", "web": {"type": "search", "results": hits.iter().map(|h| json!({"title": h.title, "url": h.url, "description": h.snippet})).collect::<Vec<_>>()}})
        }
        _ => {
            json!({"query": query, "results": hits.iter().map(|h| json!({"title": h.title, "url": h.url, "content": h.snippet, "score": 0.9})).collect::<Vec<_>>()})
        }
    };
    ResponseTemplate::new(200).set_body_json(body)
}
