//! A fake Discord webhook on 127.0.0.1 (wiremock, one stateful responder) that enforces
//! what Discord enforces: every message limit (400 with Discord's error shape on a breach,
//! counted in UTF-16 units and untrimmed, so stricter than Discord), `allowed_mentions`
//! present and parsing nothing by default, and its rate-limit bucket. It can be told to
//! rate-limit, to be down (503) or gone (404); it records the messages it accepted and
//! who each would have pinged.
#![allow(dead_code)]

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

/// The webhook's path; its token part is a canary the tests look for in errors.
pub const WEBHOOK_PATH: &str = "/api/webhooks/1234567890/CANARY-webhook-token-5f1e";

/// A message the fake accepted, with the mentions it would have pinged.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub payload: Value,
    pub pings: Vec<String>,
}

#[derive(Default)]
struct State {
    accepted: Vec<Accepted>,
    /// Answers of every request: status codes in order.
    statuses: Vec<u16>,
    /// The next this many requests get 429 with this retry_after (seconds).
    rate_limits: u32,
    retry_after: f64,
    /// The next this many requests get 503.
    down_for: u32,
    gone: bool,
    /// The next this many answers come after this delay.
    slow_for: u32,
    delay: Duration,
    /// A bucket of one message per this long, announced in the headers.
    bucket: Option<Duration>,
    bucket_free_at: Option<Instant>,
}

pub struct FakeDiscord {
    server: MockServer,
    state: Arc<Mutex<State>>,
    _runtime: tokio::runtime::Runtime,
}

impl FakeDiscord {
    pub fn start() -> FakeDiscord {
        let state = Arc::new(Mutex::new(State::default()));
        let (server, runtime) = super::serve(Responder(state.clone()));
        FakeDiscord {
            server,
            state,
            _runtime: runtime,
        }
    }

    /// The webhook's URL (with the canary token).
    pub fn url(&self) -> String {
        format!("{}{WEBHOOK_PATH}", self.server.uri())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Answer the next `times` requests with 429, asking to wait `retry_after` seconds.
    pub fn rate_limit(&self, times: u32, retry_after: f64) {
        let mut state = self.lock();
        state.rate_limits = times;
        state.retry_after = retry_after;
    }

    /// Answer the next `times` requests with 503.
    pub fn down(&self, times: u32) {
        self.lock().down_for = times;
    }

    /// Delay the next `times` answers by `delay` (a client with a shorter timeout sees no
    /// answer; the message is still saved, as on Discord).
    pub fn slow(&self, times: u32, delay: Duration) {
        let mut state = self.lock();
        state.slow_for = times;
        state.delay = delay;
    }

    /// The webhook was deleted: 404 from now on.
    pub fn gone(&self) {
        self.lock().gone = true;
    }

    /// One message per `every`: each 2xx says `X-RateLimit-Remaining: 0` and when it
    /// resets; a message before then gets 429.
    pub fn bucket(&self, every: Duration) {
        self.lock().bucket = Some(every);
    }

    pub fn accepted(&self) -> Vec<Accepted> {
        self.lock().accepted.clone()
    }

    /// The status of every answer so far, in order.
    pub fn statuses(&self) -> Vec<u16> {
        self.lock().statuses.clone()
    }
}

struct Responder(Arc<Mutex<State>>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let response = answer(&mut state, request);
        state.statuses.push(response.0);
        let mut template = ResponseTemplate::new(response.0).set_body_json(response.1);
        if state.slow_for > 0 {
            state.slow_for -= 1;
            template = template.set_delay(state.delay);
        }
        for (name, value) in response.2 {
            template = template.insert_header(name, value.as_str());
        }
        template
    }
}

type Answer = (u16, Value, Vec<(&'static str, String)>);

fn answer(state: &mut State, request: &Request) -> Answer {
    let wait = request
        .url
        .query_pairs()
        .any(|(k, v)| k == "wait" && v == "true");
    if request.method.as_str() != "POST" || request.url.path() != WEBHOOK_PATH || state.gone {
        return (
            404,
            json!({"message": "Unknown Webhook", "code": 10015}),
            vec![],
        );
    }
    if state.down_for > 0 {
        state.down_for -= 1;
        return (503, json!({"message": "upstream connect error"}), vec![]);
    }
    let now = Instant::now();
    let early = state.bucket_free_at.is_some_and(|free| free > now);
    if state.rate_limits > 0 || early {
        state.rate_limits = state.rate_limits.saturating_sub(1);
        let wait_s = if early {
            (state.bucket_free_at.unwrap() - now).as_secs_f64()
        } else {
            state.retry_after
        };
        let body = json!({"message": "You are being rate limited.", "retry_after": wait_s, "global": false});
        let header = vec![("retry-after", (wait_s.ceil() as u64).to_string())];
        return (429, body, header);
    }
    let payload: Value = match serde_json::from_slice(&request.body) {
        Ok(v) => v,
        Err(_) => return breach("body", "not JSON"),
    };
    if let Err((path, problem)) = check(&payload) {
        return breach(&path, &problem);
    }
    let id = format!(
        "{}",
        1_100_000_000_000_000_000u64 + state.accepted.len() as u64
    );
    state.accepted.push(Accepted {
        pings: pings(&payload),
        payload,
    });
    let mut headers = vec![];
    if let Some(every) = state.bucket {
        state.bucket_free_at = Some(now + every);
        headers.push(("x-ratelimit-remaining", "0".to_string()));
        headers.push((
            "x-ratelimit-reset-after",
            format!("{:.3}", every.as_secs_f64()),
        ));
    }
    if !wait {
        return (204, Value::Null, headers);
    }
    (200, json!({"id": id, "type": 0}), headers)
}

/// Discord's shape for an invalid form body.
fn breach(path: &str, problem: &str) -> Answer {
    let body = json!({"code": 50035, "message": "Invalid Form Body",
        "errors": {path: {"_errors": [{"code": "BASE_TYPE_INVALID", "message": problem}]}}});
    (400, body, vec![])
}

fn len(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.encode_utf16().count())
}

/// The first limit `payload` breaks, as (path, problem).
fn check(payload: &Value) -> Result<(), (String, String)> {
    let over = |path: &str, max: usize, v: &Value| {
        if len(v) > max {
            Err((
                path.to_string(),
                format!("Must be {max} or fewer in length."),
            ))
        } else {
            Ok(())
        }
    };
    over("content", 2000, &payload["content"])?;
    let embeds = payload["embeds"].as_array().cloned().unwrap_or_default();
    if payload["content"].as_str().unwrap_or("").trim().is_empty() && embeds.is_empty() {
        return Err(("content".into(), "Cannot send an empty message".into()));
    }
    if embeds.len() > 10 {
        return Err(("embeds".into(), "Must be 10 or fewer in length.".into()));
    }
    let mut total = 0;
    for (n, embed) in embeds.iter().enumerate() {
        let at = |f: &str| format!("embeds.{n}.{f}");
        over(&at("title"), 256, &embed["title"])?;
        over(&at("description"), 4096, &embed["description"])?;
        over(&at("footer.text"), 2048, &embed["footer"]["text"])?;
        let fields = embed["fields"].as_array().cloned().unwrap_or_default();
        if fields.len() > 25 {
            return Err((at("fields"), "Must be 25 or fewer in length.".into()));
        }
        for (k, field) in fields.iter().enumerate() {
            over(&at(&format!("fields.{k}.name")), 256, &field["name"])?;
            over(&at(&format!("fields.{k}.value")), 1024, &field["value"])?;
            if len(&field["name"]) == 0 || len(&field["value"]) == 0 {
                return Err((at(&format!("fields.{k}")), "This field is required".into()));
            }
            total += len(&field["name"]) + len(&field["value"]);
        }
        total += len(&embed["title"]) + len(&embed["description"]) + len(&embed["footer"]["text"]);
    }
    if total > 6000 {
        return Err((
            "embeds".into(),
            "Embed size exceeds maximum size of 6000".into(),
        ));
    }
    let allowed = &payload["allowed_mentions"];
    let parse = allowed["parse"].as_array();
    let Some(parse) = parse else {
        return Err((
            "allowed_mentions".into(),
            "missing: webhooks parse user mentions by default".into(),
        ));
    };
    if !parse.is_empty() {
        return Err((
            "allowed_mentions.parse".into(),
            format!("parses {parse:?} by default"),
        ));
    }
    Ok(())
}

/// Who the message would ping: only `content` pings, only what allowed_mentions lists.
fn pings(payload: &Value) -> Vec<String> {
    let content = payload["content"].as_str().unwrap_or("");
    let allowed = &payload["allowed_mentions"];
    let listed = |key: &str| -> Vec<String> {
        allowed[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = vec![];
    for id in listed("roles") {
        if content.contains(&format!("<@&{id}>")) {
            out.push(format!("<@&{id}>"));
        }
    }
    for id in listed("users") {
        if content.contains(&format!("<@{id}>")) || content.contains(&format!("<@!{id}>")) {
            out.push(format!("<@{id}>"));
        }
    }
    out
}
