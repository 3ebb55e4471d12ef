//! The coder's engine tried once against its configured provider, for `dayshift doctor`:
//! a key, a model name or a server that is wrong shows there, named with its fix, instead of
//! failing every task of the night.
//!
//! It costs at most one tiny request: Aider is run once as work runs it, on a throwaway
//! directory, asked for one word ([`crate::engine::aider::AiderEngine::preflight`]); the native engine sends one
//! chat request of a few tokens through dayshift's own client (not recorded in the budget);
//! a command engine's tool is only started with `--version` (it reaches no model: its
//! provider is its own business). The result is classified like a work run's failure
//! ([`failure::classify`]), so doctor and the work loop agree on what is the setup's fault.

use std::time::Duration;

use super::build::{CoderEngine, coder_engine};
use super::failure::{self, FailureClass};
use super::{EngineError, ProviderRef};
use crate::config::agents::ProviderKind;
use crate::config::{AgentName, Config};
use crate::home::Home;
use crate::llm::build::build_http_provider;
use crate::llm::http::Timeouts;
use crate::llm::{Message, Request, Role};
use crate::process::{self, Spec};

/// How long the preflight's one run may take (Aider starts in ~4 s; a server that does not
/// answer by then would fail the night's runs too).
pub const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(40);

/// `Ok(what was reached)`, or the problem on one line with its fix (secrets redacted).
pub fn preflight(home: &Home, config: &Config) -> Result<String, String> {
    let engine = coder_engine(home, config).map_err(|e| e.to_string())?;
    engine.check_installed().map_err(|e| e.to_string())?;
    let said = match &engine {
        CoderEngine::Aider(aider) => aider
            .preflight(PREFLIGHT_TIMEOUT)
            .map_err(|e| explain(&e, super::Engine::provider(aider))),
        CoderEngine::Native => native(config),
        CoderEngine::Command(command) => version(command.program()).map_err(|e| explain(&e, None)),
    };
    said.map_err(|problem| config.secrets.redact(&problem))
}

/// The failure's line: the classifier's fix for the setup, the endpoint for an outage.
fn explain(error: &EngineError, provider: Option<ProviderRef>) -> String {
    let at = provider
        .as_ref()
        .map_or("its provider".to_string(), |p| p.endpoint.clone());
    match failure::classify(error, provider.as_ref()) {
        FailureClass::Environment(why) => why,
        FailureClass::ProviderDown(why) => format!(
            "the model server at {at} is unreachable or failing: {why}; start it, or fix `base_url` of the coder's provider in config/agents.yaml"
        ),
        FailureClass::Task => match error {
            EngineError::TimedOut { after, .. } => format!(
                "no answer from {at} within {after:?}; check that the server is up and `base_url` of the coder's provider in config/agents.yaml"
            ),
            _ => format!(
                "{}; the same would fail the night's runs",
                failure::headline(error)
            ),
        },
    }
}

/// One chat request of a few tokens through dayshift's client for the coder's provider.
fn native(config: &Config) -> Result<String, String> {
    let config_error = |m: String| explain(&EngineError::Config(m), None);
    let name = config
        .agents
        .provider_for(AgentName::Coder)
        .ok_or_else(|| config_error("the native engine needs a model: give agents.coder a `provider` (or set default_provider)".into()))?;
    let settings = config
        .agents
        .providers
        .get(name)
        .ok_or_else(|| config_error(format!("provider `{name}` is not defined")))?;
    if settings.kind == ProviderKind::Replay {
        return Ok(format!(
            "native engine: provider `{name}` replays a cassette (nothing to reach)"
        ));
    }
    let endpoint = settings
        .base_url
        .clone()
        .unwrap_or_else(|| match settings.kind {
            ProviderKind::Anthropic => "https://api.anthropic.com".into(),
            _ => "https://api.openai.com".into(),
        });
    let provider_ref = ProviderRef {
        key_env: settings.api_key_env.clone(),
        endpoint: endpoint.clone(),
    };
    let timeouts = Timeouts {
        connect: Duration::from_secs(10),
        idle: PREFLIGHT_TIMEOUT,
        overall: PREFLIGHT_TIMEOUT,
    };
    let client = build_http_provider(name, settings, &config.secrets, timeouts)
        .map_err(|e| explain(&EngineError::Model(e), Some(provider_ref.clone())))?;
    let request = Request {
        agent: AgentName::Coder,
        job: Some("doctor".into()),
        task: None,
        system: "Answer with one word.".into(),
        messages: vec![Message {
            role: Role::User,
            content: "Say ok.".into(),
        }],
        max_tokens: 8,
        temperature: None,
    };
    client
        .complete(&request)
        .map(|_| format!("native engine reached provider `{name}` at {endpoint} (one request)"))
        .map_err(|e| explain(&EngineError::Model(e), Some(provider_ref)))
}

/// A command engine's tool runs (`<program> --version`).
fn version(program: &str) -> Result<String, EngineError> {
    let spec = Spec::new(program, &["--version"]).timeout(Duration::from_secs(20));
    let out = process::run(&spec).map_err(|e| EngineError::Spawn {
        engine: "command".into(),
        program: program.to_string(),
        detail: e.source.to_string(),
    })?;
    if out.success() {
        let said = format!("{}{}", out.stdout, out.stderr);
        Ok(format!(
            "`{program} --version`: {}",
            failure::cap(said.lines().next().unwrap_or("").trim(), 80)
        ))
    } else {
        let text = format!("{}{}", out.stdout, out.stderr);
        Err(EngineError::Crashed {
            engine: "command".into(),
            code: out.status.and_then(|s| s.code()),
            tail: failure::message_of(&text),
            output: text,
        })
    }
}
