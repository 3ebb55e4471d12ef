//! Model providers built from their agents.yaml entry, as data: the kind picks the wire
//! protocol, `base_url` points it at any compatible server, `api_key_env` names where the
//! key is (config/.env or the environment). Replay providers are built from their cassette
//! elsewhere.

use std::sync::Arc;

use super::anthropic::AnthropicProvider;
use super::http::{ApiKey, Endpoint, Timeouts};
use super::openai::OpenAiProvider;
use super::{LlmError, Provider};
use crate::config::agents::{ProviderConfig, ProviderKind};
use crate::config::secrets::Secrets;

/// Build the provider `name` of kind anthropic or openai from its agents.yaml entry.
pub fn build_http_provider(
    name: &str,
    config: &ProviderConfig,
    secrets: &Secrets,
    timeouts: Timeouts,
) -> Result<Arc<dyn Provider>, LlmError> {
    let (default_env, key_required) = match config.kind {
        ProviderKind::Anthropic => ("ANTHROPIC_API_KEY", true),
        // A local server (Ollama, vLLM, llama.cpp) needs no key unless one is named.
        ProviderKind::Openai => (
            "OPENAI_API_KEY",
            config.base_url.is_none() || config.api_key_env.is_some(),
        ),
        ProviderKind::Replay => {
            return Err(LlmError::Config(format!(
                "provider `{name}` is of kind replay: it answers from its cassette, not over HTTP"
            )));
        }
    };
    let model = config.model.clone().ok_or_else(|| {
        LlmError::Config(format!(
            "provider `{name}` has no `model` in config/agents.yaml; add e.g. `model: {}`",
            if config.kind == ProviderKind::Anthropic {
                "claude-sonnet-4-5"
            } else {
                "gpt-4o-mini"
            }
        ))
    })?;
    let base_url = match &config.base_url {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Some(url.trim_end_matches('/').to_string())
        }
        Some(url) => {
            return Err(LlmError::Config(format!(
                "provider `{name}`: base_url `{url}` is not an http:// or https:// URL"
            )));
        }
        None => None,
    };
    let key_env = config
        .api_key_env
        .clone()
        .unwrap_or_else(|| default_env.to_string());
    let key = secrets.get(&key_env).map(ApiKey::new);
    if key.is_none() && key_required {
        return Err(LlmError::Config(format!(
            "provider `{name}` needs an API key: set {key_env}=… in config/.env (or in the environment)"
        )));
    }
    let endpoint = Endpoint {
        name: name.to_string(),
        model,
        base_url,
        key,
        key_env,
        timeouts,
    };
    Ok(match config.kind {
        ProviderKind::Anthropic => Arc::new(AnthropicProvider::new(endpoint)?),
        _ => Arc::new(OpenAiProvider::new(endpoint)?),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn config(kind: ProviderKind, base_url: Option<&str>, key_env: Option<&str>) -> ProviderConfig {
        ProviderConfig {
            kind,
            model: Some("m".into()),
            base_url: base_url.map(String::from),
            api_key_env: key_env.map(String::from),
            cassette: None,
            timeouts: None,
        }
    }

    fn message(result: Result<Arc<dyn Provider>, LlmError>) -> String {
        result.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn missing_key_names_the_variable_and_local_servers_need_none() {
        let s = Secrets::default();
        let t = Timeouts::default();
        let anthropic = config(
            ProviderKind::Anthropic,
            None,
            Some("DAYSHIFT_TEST_UNSET_KEY"),
        );
        let err = message(build_http_provider("claude", &anthropic, &s, t));
        assert!(
            err.contains("DAYSHIFT_TEST_UNSET_KEY=… in config/.env"),
            "{err}"
        );
        let local = config(
            ProviderKind::Openai,
            Some("http://127.0.0.1:11434/v1/"),
            None,
        );
        assert_eq!(
            build_http_provider("local", &local, &s, t).unwrap().name(),
            "local"
        );
        let replay = config(ProviderKind::Replay, None, None);
        assert!(message(build_http_provider("demo", &replay, &s, t)).contains("replay"));
        let ftp = config(ProviderKind::Openai, Some("ftp://x"), None);
        assert!(message(build_http_provider("x", &ftp, &s, t)).contains("not an http"));
    }
}
