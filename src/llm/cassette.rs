//! Cassettes: record real answers once, replay them forever (demos and tests, no network).
//!
//! A cassette is JSON lines, one `{"agent", "key", "request", "answer"}` per successful call,
//! appended by [`Recorder`] with every secret value the config knows redacted (a provider key
//! under a custom `api_key_env` name, set only in the environment, too). [`Replay`] answers by `key`:
//! the agent plus the SHA-256 of the canonical JSON of what the model sees (system, messages,
//! max_tokens, temperature) — not the job or task ids, so renumbered tasks still replay.
//! Identical requests are answered in recorded order; past the last recording the last answer
//! repeats (a retry loop stays deterministic). A request never recorded is a
//! [`LlmError::ReplayMiss`] naming the agent, key and cassette, never a made-up answer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Answer, LlmError, Message, Provider, Request};
use crate::config::agents::{ProviderConfig, ProviderKind};
use crate::config::{AgentName, Secrets};
use crate::fsx;

/// One line of a cassette.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub agent: String,
    pub key: String,
    pub request: Request,
    pub answer: Answer,
}

/// What the key hashes: the model-relevant fields, in a fixed order.
#[derive(Serialize)]
struct Canonical<'a> {
    agent: AgentName,
    system: &'a str,
    messages: &'a [Message],
    max_tokens: u32,
    temperature: Option<f32>,
}

/// `<agent>-<sha256 hex>` of the request's model-relevant fields.
pub fn request_key(request: &Request) -> String {
    let canonical = Canonical {
        agent: request.agent,
        system: &request.system,
        messages: &request.messages,
        max_tokens: request.max_tokens,
        temperature: request.temperature,
    };
    // Serializing plain strings, numbers and enums cannot fail.
    let json = serde_json::to_vec(&canonical).unwrap_or_default();
    format!("{}-{:x}", request.agent, Sha256::digest(&json))
}

/// Wraps a provider and appends each successful answer to a cassette.
pub struct Recorder {
    inner: Arc<dyn Provider>,
    path: PathBuf,
    secrets: Secrets,
}

impl Recorder {
    pub fn new(inner: Arc<dyn Provider>, path: impl Into<PathBuf>, secrets: Secrets) -> Self {
        Self {
            inner,
            path: path.into(),
            secrets,
        }
    }
}

impl Provider for Recorder {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn complete(&self, request: &Request) -> Result<Answer, LlmError> {
        let answer = self.inner.complete(request)?;
        let entry = Entry {
            agent: request.agent.to_string(),
            key: request_key(request),
            request: request.clone(),
            answer: answer.clone(),
        };
        let mut value = serde_json::to_value(&entry)
            .map_err(|e| LlmError::Config(format!("cassette: cannot serialize the answer: {e}")))?;
        // Each string first (a secret with a quote in it is escaped in the line), then the line.
        crate::config::redact::map_json_strings(&mut value, &|s| self.secrets.redact(s));
        let line = self.secrets.redact(&value.to_string());
        fsx::append_line(&self.path, &line).map_err(|e| {
            LlmError::Config(format!(
                "{}: cannot append to the cassette: {e}; check that its folder exists and is writable",
                self.path.display()
            ))
        })?;
        Ok(answer)
    }
}

/// Recorded answers for one key, and how many were handed out.
#[derive(Debug, Default)]
struct Track {
    answers: Vec<Answer>,
    next: usize,
}

/// Answers from a cassette, loaded once.
pub struct Replay {
    name: String,
    path: PathBuf,
    entries: Mutex<HashMap<String, Track>>,
}

impl Replay {
    /// Load the cassette at `path`. A line that is not an entry is an error naming it.
    pub fn load(name: impl Into<String>, path: impl Into<PathBuf>) -> Result<Self, LlmError> {
        let name = name.into();
        let path = path.into();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            LlmError::Config(format!(
                "{}: cannot read the cassette of provider `{name}`: {e}; fix its `cassette:` path in config/agents.yaml or record one",
                path.display()
            ))
        })?;
        let mut entries: HashMap<String, Track> = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let entry: Entry = serde_json::from_str(line).map_err(|e| {
                LlmError::Config(format!(
                    "{}:{}: not a cassette entry ({e}); fix or delete that line, or record the cassette again",
                    path.display(),
                    index + 1
                ))
            })?;
            entries
                .entry(entry.key)
                .or_default()
                .answers
                .push(entry.answer);
        }
        Ok(Self {
            name,
            path,
            entries: Mutex::new(entries),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Provider for Replay {
    fn name(&self) -> &str {
        &self.name
    }

    fn complete(&self, request: &Request) -> Result<Answer, LlmError> {
        let key = request_key(request);
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let answer = entries.get_mut(&key).and_then(|track| {
            let index = track.next.min(track.answers.len().saturating_sub(1));
            track.next = track.next.saturating_add(1);
            track.answers.get(index).cloned()
        });
        answer.ok_or_else(|| LlmError::ReplayMiss {
            agent: request.agent.to_string(),
            key,
            cassette: self.path.display().to_string(),
        })
    }
}

/// The replay provider `name` of agents.yaml; its cassette path is relative to the home.
pub fn build_replay(
    name: &str,
    config: &ProviderConfig,
    home_root: &Path,
) -> Result<Arc<dyn Provider>, LlmError> {
    if config.kind != ProviderKind::Replay {
        return Err(LlmError::Config(format!(
            "provider `{name}` is not of kind replay; it cannot be replayed from a cassette"
        )));
    }
    let Some(cassette) = &config.cassette else {
        return Err(LlmError::Config(format!(
            "provider `{name}` is of kind replay but has no `cassette`; add `cassette: path/to/answers.jsonl` in config/agents.yaml"
        )));
    };
    Ok(Arc::new(Replay::load(name, home_root.join(cassette))?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Role;
    use crate::tasks::TaskId;

    fn request() -> Request {
        Request {
            agent: AgentName::Planner,
            job: Some("plan".into()),
            task: None,
            system: "You plan.".into(),
            messages: vec![Message {
                role: Role::User,
                content: "Goal: G-1".into(),
            }],
            max_tokens: 1000,
            temperature: Some(0.2),
        }
    }

    #[test]
    fn request_key_is_stable_and_ignores_job_and_task() {
        // sha256 of {"agent":"planner","system":"You plan.","messages":[{"role":"user",
        // "content":"Goal: G-1"}],"max_tokens":1000,"temperature":0.2} (checked with sha256sum).
        let key = request_key(&request());
        assert_eq!(
            key, "planner-269616597f6105c4adf8b719f590c54b5bab9c6ec75fd21127090a50bb361d28",
            "the cassette key changed: every recorded cassette would miss"
        );
        let mut other = request();
        other.job = Some("work".into());
        other.task = Some(TaskId::new(7));
        assert_eq!(request_key(&other), key);
        other.system.push('!');
        assert_ne!(request_key(&other), key);
        let mut other = request();
        other.temperature = None;
        assert_ne!(request_key(&other), key);
        let mut other = request();
        other.agent = AgentName::Coder;
        assert!(request_key(&other).starts_with("coder-"));
    }
}
