//! The HTTP health checks of target.yaml (`health:`), run after a deploy: a GET of each URL,
//! tried up to `retries + 1` times with a pause between tries, healthy when the status is
//! the one expected and the body contains the text expected. Blocking reqwest over rustls,
//! a timeout per try; the system proxy is used except for a service on this machine. The
//! [`HealthReport`] keeps, per check, what was last seen — status, a snippet of the body,
//! the error, the tries — as evidence a person can read in a task or a notification.

use std::fmt;
use std::io::Read;
use std::time::Duration;

use reqwest::blocking::Client;

use crate::config::TargetConfig;
use crate::config::deploy::HealthCheck;
use crate::llm::http::is_loopback;

/// Bytes of a body read: enough to find a marker, never a whole page.
const BODY_CAP: u64 = 64 * 1024;
/// Characters of the body kept as evidence.
const SNIPPET_CHARS: usize = 200;
/// The pause between two tries of a check unless the caller sets another.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(2);

/// How the checks are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthOptions {
    /// Waited once before the first check (a service needs a moment to start).
    pub delay: Duration,
    /// Waited between two tries of one check.
    pub pause: Duration,
}

impl HealthOptions {
    /// target.yaml's `health_delay_s`, and the default pause between tries.
    pub fn of(target: &TargetConfig) -> Self {
        Self {
            delay: target.health_delay(),
            pause: DEFAULT_PAUSE,
        }
    }
}

/// What one check saw on its last try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckEvidence {
    pub url: String,
    pub healthy: bool,
    /// Tries made (1 when the first one was healthy).
    pub tries: u32,
    /// The last status received; `None` when no answer came.
    pub status: Option<u16>,
    /// The start of the last body, whitespace collapsed.
    pub snippet: String,
    /// Why the last try was not healthy (no answer, wrong status, text missing).
    pub error: Option<String>,
}

impl CheckEvidence {
    /// Not healthy, nothing seen yet, after `tries`.
    fn unanswered(check: &HealthCheck, tries: u32) -> Self {
        Self {
            url: check.url.clone(),
            healthy: false,
            tries,
            status: None,
            snippet: String::new(),
            error: None,
        }
    }
}

impl fmt::Display for CheckEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tries = match self.tries {
            1 => "1 try".to_string(),
            n => format!("{n} tries"),
        };
        let verdict = if self.healthy { "healthy" } else { "UNHEALTHY" };
        write!(f, "{verdict}: GET {} after {tries}", self.url)?;
        if let Some(status) = self.status {
            write!(f, ", status {status}")?;
        }
        if let Some(error) = &self.error {
            write!(f, ": {error}")?;
        }
        if !self.snippet.is_empty() {
            write!(f, "; body: \"{}\"", self.snippet)?;
        }
        Ok(())
    }
}

/// Every check's evidence, in the order configured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HealthReport {
    pub checks: Vec<CheckEvidence>,
}

impl HealthReport {
    /// Every check healthy (true when none is configured).
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(|c| c.healthy)
    }
}

impl fmt::Display for HealthReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.checks.is_empty() {
            return f.write_str("no health checks configured");
        }
        let lines: Vec<String> = self.checks.iter().map(|c| format!("- {c}")).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// Run every check (after `options.delay`), each until healthy or out of tries.
pub fn check(checks: &[HealthCheck], options: &HealthOptions) -> HealthReport {
    if !checks.is_empty() {
        std::thread::sleep(options.delay);
    }
    HealthReport {
        checks: checks.iter().map(|c| check_one(c, options.pause)).collect(),
    }
}

fn check_one(check: &HealthCheck, pause: Duration) -> CheckEvidence {
    let client = match client_for(check) {
        Ok(client) => client,
        Err(e) => {
            return CheckEvidence {
                error: Some(format!("cannot set up the HTTP client: {e}")),
                ..CheckEvidence::unanswered(check, 0)
            };
        }
    };
    let tries = check.retries.saturating_add(1);
    let mut evidence = try_once(&client, check, 1);
    for attempt in 2..=tries {
        if evidence.healthy {
            break;
        }
        std::thread::sleep(pause);
        evidence = try_once(&client, check, attempt);
    }
    evidence
}

fn client_for(check: &HealthCheck) -> reqwest::Result<Client> {
    let mut builder = Client::builder()
        .timeout(check.timeout())
        .connect_timeout(check.timeout())
        .user_agent(concat!("dayshift/", env!("CARGO_PKG_VERSION"), " health"));
    if is_loopback(&check.url) {
        builder = builder.no_proxy();
    }
    builder.build()
}

fn try_once(client: &Client, check: &HealthCheck, tries: u32) -> CheckEvidence {
    let mut evidence = CheckEvidence::unanswered(check, tries);
    let response = match client.get(&check.url).send() {
        Ok(response) => response,
        Err(e) => {
            evidence.error = Some(no_answer(&e, check));
            return evidence;
        }
    };
    let status = response.status().as_u16();
    evidence.status = Some(status);
    let mut body = Vec::new();
    let read = response.take(BODY_CAP).read_to_end(&mut body);
    let body = String::from_utf8_lossy(&body);
    evidence.snippet = snippet(&body);
    evidence.error = if status != check.expect_status {
        Some(format!("expected status {}", check.expect_status))
    } else if let Err(e) = read {
        Some(format!("the answer could not be read: {e}"))
    } else {
        check
            .contains
            .as_deref()
            .filter(|text| !body.contains(text))
            .map(|text| format!("the answer does not contain \"{text}\""))
    };
    evidence.healthy = evidence.error.is_none();
    evidence
}

/// Why no answer came, in words: timeout, refused connection, or reqwest's own.
fn no_answer(e: &reqwest::Error, check: &HealthCheck) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", check.timeout_s)
    } else if e.is_connect() {
        "cannot connect (is the service running and listening there?)".to_string()
    } else {
        format!("the request failed: {e}")
    }
}

fn snippet(body: &str) -> String {
    let collapsed = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}
