//! The models of a home, put together from config/agents.yaml: for every agent that has a
//! provider (its own, or `default_provider`), a client made of
//!
//! ```text
//! LlmClient (budget: reserve → call → settle)
//!   └ Recorder (only with --record FILE: every exchange to a cassette, secrets redacted)
//!       └ Reliable (retries with backoff, circuit breaker per provider, optional fallback)
//!           └ provider (anthropic | openai-compatible over HTTP, or replay from a cassette)
//! ```
//!
//! An agent without a provider gets no client, and its job runs model-free.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::breaker::Breakers;
use super::budget::Budget;
use super::build::build_http_provider;
use super::cassette::{Recorder, build_replay};
use super::client::LlmClient;
use super::http::Timeouts;
use super::prompts::Prompts;
use super::reliable::Reliable;
use super::{Answer, LlmError, Provider, Request};
use crate::clock::Clock;
use crate::config::agents::{ProviderKind, TimeoutSettings};
use crate::config::{AgentName, Config};
use crate::home::Home;
use crate::problem::FileProblem;

/// Output tokens an agent may use per call when agents.yaml does not say.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// How to build: where to record, and the HTTP timeouts.
#[derive(Debug, Clone, Default)]
pub struct ModelOptions {
    /// Record every exchange to this cassette (JSON lines).
    pub record: Option<PathBuf>,
    pub timeouts: Timeouts,
}

/// How a job reaches its model: the call (budget, retries and recording included) and
/// the prompts.
pub struct Model<'a> {
    pub call: &'a (dyn Fn(&Request) -> std::result::Result<Answer, LlmError> + Sync),
    pub prompts: &'a Prompts,
    pub max_tokens: u32,
}

pub struct Models {
    clients: BTreeMap<AgentName, LlmClient>,
    max_tokens: BTreeMap<AgentName, u32>,
    pub prompts: Prompts,
}

/// Why the models of a job could not be built: a provider or the budget ledger, or a prompt
/// template a person overrode.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Prompts(#[from] FileProblem),
}

impl Models {
    /// Clients for `agents` (only those with a provider).
    pub fn build(
        home: &Home,
        config: &Config,
        clock: Clock,
        agents: &[AgentName],
        options: &ModelOptions,
    ) -> Result<Self, ModelsError> {
        let prompts = Prompts::load(Some(&home.config_file("prompts")))?;
        let breakers = Breakers::default();
        let mut clients = BTreeMap::new();
        let mut max_tokens = BTreeMap::new();
        for agent in agents {
            let Some(name) = config.agents.provider_for(*agent) else {
                continue;
            };
            let settings = config.agents.agents.get(agent);
            let primary = provider(home, config, name, options)?;
            let mut reliable = Reliable::new(primary, breakers.get(name));
            if let Some(fallback) = settings.and_then(|s| s.fallback.as_ref()) {
                reliable = reliable.with_fallback(Arc::new(Reliable::new(
                    provider(home, config, &fallback.value, options)?,
                    breakers.get(&fallback.value),
                )));
            }
            let mut wrapped: Arc<dyn Provider> = Arc::new(reliable);
            if let Some(path) = &options.record {
                wrapped = Arc::new(Recorder::new(
                    wrapped,
                    absolute(home, path),
                    config.secrets.clone(),
                ));
            }
            let budget = Budget::new(
                config.agents.budget.as_ref().map(|b| b.value.clone()),
                config.agents.prices.clone(),
                &home.db_path(),
                clock,
            )?;
            let mut client = LlmClient::new(wrapped, budget);
            if let Some(model) = config
                .agents
                .providers
                .get(name)
                .and_then(|p| p.model.clone())
            {
                client = client.with_model(model);
            }
            clients.insert(*agent, client);
            max_tokens.insert(
                *agent,
                settings
                    .and_then(|s| s.max_tokens)
                    .unwrap_or(DEFAULT_MAX_TOKENS),
            );
        }
        Ok(Self {
            clients,
            max_tokens,
            prompts,
        })
    }

    pub fn client(&self, agent: AgentName) -> Option<&LlmClient> {
        self.clients.get(&agent)
    }

    /// Run `f` with `agent`'s model, or with `None` when agents.yaml gives it none.
    pub fn with_model<R>(&self, agent: AgentName, f: impl FnOnce(Option<&Model>) -> R) -> R {
        let client = self.client(agent);
        let call = |request: &Request| match client {
            Some(client) => client.call(request),
            None => Err(LlmError::Config(format!("the {agent} has no model"))),
        };
        let model = client.map(|_| Model {
            call: &call,
            prompts: &self.prompts,
            max_tokens: self.max_tokens(agent),
        });
        f(model.as_ref())
    }

    pub fn max_tokens(&self, agent: AgentName) -> u32 {
        self.max_tokens
            .get(&agent)
            .copied()
            .unwrap_or(DEFAULT_MAX_TOKENS)
    }
}

fn provider(
    home: &Home,
    config: &Config,
    name: &str,
    options: &ModelOptions,
) -> Result<Arc<dyn Provider>, LlmError> {
    let settings = config.agents.providers.get(name).ok_or_else(|| {
        LlmError::Config(format!(
            "provider `{name}` is not defined under `providers:` in config/agents.yaml"
        ))
    })?;
    Ok(match settings.kind {
        ProviderKind::Replay => build_replay(name, settings, home.root())?,
        _ => build_http_provider(
            name,
            settings,
            &config.secrets,
            timeouts(options.timeouts, settings.timeouts),
        )?,
    })
}

/// The provider's own timeouts over the defaults.
fn timeouts(defaults: Timeouts, own: Option<TimeoutSettings>) -> Timeouts {
    let own = own.unwrap_or_default();
    let secs = |s: Option<f64>, default: std::time::Duration| {
        s.map_or(default, std::time::Duration::from_secs_f64)
    };
    Timeouts {
        connect: secs(own.connect, defaults.connect),
        idle: secs(own.idle, defaults.idle),
        overall: secs(own.overall, defaults.overall),
    }
}

fn absolute(home: &Home, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        home.root().join(path)
    }
}
