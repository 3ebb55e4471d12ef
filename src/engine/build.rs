//! The coder's engine as agents.yaml describes it (`agents.coder`):
//!
//! ```yaml
//! coder: {engine: aider, provider: claude, attempts: 3, timeout_minutes: 10}
//! coder: {engine: command, preset: claude, env: [ANTHROPIC_API_KEY]}
//! coder: {engine: command, command: ["goose", "run", "-i", "{prompt_file}"], env: [OPENAI_API_KEY]}
//! coder: {engine: native, provider: local}
//! ```
//!
//! Aider gets its model, base URL and key from the coder's provider (a keyless local server
//! gets [`PLACEHOLDER_KEY`]). A command engine sees
//! only PATH, HOME, LANG and the variables listed under `env`. The native engine needs the
//! coder's model client, which the work loop pairs with it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::EngineError;
use super::aider::{AiderEngine, PLACEHOLDER_KEY};
use super::command::{CommandEngine, preset, preset_egress};
use crate::config::agents::{EngineKind, ProviderKind};
use crate::config::{AgentName, Config};
use crate::home::Home;
use crate::process::BASE_ENV;

/// Default minutes one engine run may take.
pub const DEFAULT_TIMEOUT_MINUTES: f64 = 10.0;

/// The engine the coder is configured with.
pub enum CoderEngine {
    Aider(AiderEngine),
    Command(CommandEngine),
    /// Edits through the coder's model; pair it with that model's client.
    Native,
}

impl CoderEngine {
    /// Whether the engine's program can be run here (checked before the work loop starts).
    pub fn check_installed(&self) -> Result<(), EngineError> {
        let (program, fix) = match self {
            CoderEngine::Aider(a) => (
                a.program.clone(),
                "run `dayshift setup` (it installs Aider into .venv/)",
            ),
            CoderEngine::Command(c) => (
                PathBuf::from(c.program()),
                "install it, or fix `command` in agents.coder",
            ),
            CoderEngine::Native => return Ok(()),
        };
        if is_runnable(&program) {
            Ok(())
        } else {
            Err(EngineError::Config(format!(
                "`{}` is not installed or not on PATH; {fix}",
                program.display()
            )))
        }
    }
}

fn is_runnable(program: &std::path::Path) -> bool {
    if program.components().count() > 1 {
        return program.is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|dir| dir.join(program).is_file()))
}

pub fn coder_engine(home: &Home, config: &Config) -> Result<CoderEngine, EngineError> {
    let coder = config
        .agents
        .agents
        .get(&AgentName::Coder)
        .cloned()
        .unwrap_or_default();
    let minutes = coder
        .timeout_minutes
        .filter(|m| m.is_finite() && *m > 0.0)
        .unwrap_or(DEFAULT_TIMEOUT_MINUTES);
    let timeout = Duration::from_secs_f64(minutes * 60.0);
    match coder.engine.unwrap_or(EngineKind::Aider) {
        EngineKind::Native => Ok(CoderEngine::Native),
        EngineKind::Command => {
            let template = match (&coder.command, &coder.preset) {
                (Some(command), _) => command.clone(),
                (None, Some(name)) => preset(name)
                    .ok_or_else(|| EngineError::Config(format!("unknown preset `{name}`")))?,
                (None, None) => {
                    return Err(EngineError::Config(
                        "`engine: command` needs `preset` or `command` in agents.coder".into(),
                    ));
                }
            };
            let mut env: BTreeMap<String, String> = BASE_ENV
                .iter()
                .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
                .collect();
            for name in &coder.env {
                if let Some(value) = config.secrets.get(name) {
                    env.insert(name.clone(), value);
                }
            }
            let egress = if coder.egress.is_empty() {
                coder
                    .preset
                    .as_deref()
                    .map(preset_egress)
                    .unwrap_or_default()
            } else {
                coder
                    .egress
                    .iter()
                    .filter_map(|e| crate::sandbox::Endpoint::of_config(e))
                    .collect()
            };
            Ok(CoderEngine::Command(
                CommandEngine::new("command", template, env, timeout)?.with_egress(egress),
            ))
        }
        EngineKind::Aider => {
            let name = config.agents.provider_for(AgentName::Coder).ok_or_else(|| {
                EngineError::Config("the aider engine needs a model: give agents.coder a `provider` (or set default_provider)".into())
            })?;
            let provider =
                config.agents.providers.get(name).ok_or_else(|| {
                    EngineError::Config(format!("provider `{name}` is not defined"))
                })?;
            let model = provider
                .model
                .clone()
                .ok_or_else(|| EngineError::Config(format!("provider `{name}` has no `model`")))?;
            let (prefix, key_var) = match provider.kind {
                ProviderKind::Anthropic => ("anthropic", "ANTHROPIC_API_KEY"),
                ProviderKind::Openai => ("openai", "OPENAI_API_KEY"),
                ProviderKind::Replay => {
                    return Err(EngineError::Config(format!(
                        "provider `{name}` replays a cassette; Aider needs a live model (use `engine: native` to replay a coder)"
                    )));
                }
            };
            // a local OpenAI-compatible server (Ollama, llama.cpp, vLLM, LM Studio) needs
            // no key unless one is named; Aider still wants one to start: a placeholder
            let keyless = provider.kind == ProviderKind::Openai
                && provider.base_url.is_some()
                && provider.api_key_env.is_none();
            let key_env = provider
                .api_key_env
                .clone()
                .unwrap_or_else(|| key_var.to_string());
            let api_key = match config.secrets.get(&key_env) {
                Some(key) => Some((key_var.to_string(), key)),
                None if keyless => Some((key_var.to_string(), PLACEHOLDER_KEY.to_string())),
                None => None,
            };
            let api_base = provider.base_url.as_ref().map(|b| match provider.kind {
                ProviderKind::Openai => b.trim_end_matches('/').to_string(),
                _ => b.clone(),
            });
            let local = home.root().join(".venv/bin/aider");
            Ok(CoderEngine::Aider(AiderEngine {
                program: if local.is_file() {
                    local
                } else {
                    PathBuf::from("aider")
                },
                model: format!("{prefix}/{model}"),
                api_base,
                api_key,
                key_env: (!keyless).then_some(key_env),
                edit_format: coder.edit_format.clone().unwrap_or_else(|| "diff".into()),
                state_dir: home.state_dir().join("aider"),
                timeout,
                map_tokens: None,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home_with(agents: &str, env: &str) -> (tempfile::TempDir, Home, Config) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("h"), "UTC").unwrap();
        std::fs::write(home.config_file("agents.yaml"), agents).unwrap();
        std::fs::write(home.env_file(), env).unwrap();
        let config = Config::load(&home).unwrap();
        (dir, home, config)
    }

    #[test]
    fn aider_takes_model_base_url_and_key_from_the_coder_provider() {
        let (_d, home, config) = home_with(
            "providers:\n  local: {kind: openai, base_url: \"http://127.0.0.1:11434/v1/\", model: qwen, api_key_env: LOCAL_KEY}\nagents:\n  coder: {engine: aider, provider: local, timeout_minutes: 3, edit_format: whole}\n",
            "LOCAL_KEY=abc123secret\n",
        );
        let Ok(CoderEngine::Aider(aider)) = coder_engine(&home, &config) else {
            panic!("an aider engine")
        };
        assert_eq!(aider.model, "openai/qwen");
        assert_eq!(aider.api_base.as_deref(), Some("http://127.0.0.1:11434/v1"));
        let endpoint = |text: &str| crate::sandbox::Endpoint::of_config(text).unwrap();
        assert_eq!(aider.endpoints(), vec![endpoint("127.0.0.1:11434")]);
        assert_eq!(
            aider.api_key,
            Some(("OPENAI_API_KEY".to_string(), "abc123secret".to_string()))
        );
        assert_eq!(
            (aider.edit_format.as_str(), aider.timeout),
            ("whole", Duration::from_secs(180))
        );
        assert!(!format!("{aider:?}").contains("abc123secret"));
    }

    #[test]
    fn a_keyless_local_server_gets_a_placeholder_key() {
        let (_d, home, config) = home_with(
            "providers:\n  local: {kind: openai, base_url: \"http://127.0.0.1:11434/v1\", model: qwen}\nagents:\n  coder: {engine: aider, provider: local}\n",
            "",
        );
        let Ok(CoderEngine::Aider(aider)) = coder_engine(&home, &config) else {
            panic!("an aider engine")
        };
        assert_eq!(
            aider.api_key,
            Some(("OPENAI_API_KEY".to_string(), PLACEHOLDER_KEY.to_string()))
        );
        assert_eq!(aider.key_env, None);
        // a hosted provider with no key gets none (Aider says so, and `doctor` before it)
        let (_d, home, config) = home_with(
            "providers:\n  claude: {kind: anthropic, model: claude-sonnet-4-5, api_key_env: NOT_SET_ANYWHERE_KEY}\nagents:\n  coder: {engine: aider, provider: claude}\n",
            "",
        );
        let Ok(CoderEngine::Aider(aider)) = coder_engine(&home, &config) else {
            panic!("an aider engine")
        };
        assert_eq!(aider.api_key, None);
        assert_eq!(aider.key_env.as_deref(), Some("NOT_SET_ANYWHERE_KEY"));
    }

    #[test]
    fn a_command_preset_and_the_native_engine_are_built() {
        let (_d, home, config) = home_with(
            "agents:\n  coder: {engine: command, preset: codex, env: [OPENAI_API_KEY]}\n",
            "",
        );
        let Ok(CoderEngine::Command(codex)) = coder_engine(&home, &config) else {
            panic!("a command engine")
        };
        let endpoint = |text: &str| crate::sandbox::Endpoint::of_config(text).unwrap();
        assert_eq!(codex.egress(), [endpoint("api.openai.com:443")]);
        let (_d, home, config) = home_with(
            "agents:\n  coder: {engine: command, command: [goose], egress: [\"https://llm.corp:8443/v1\", \"10.0.0.5:11434\"]}\n",
            "",
        );
        let Ok(CoderEngine::Command(goose)) = coder_engine(&home, &config) else {
            panic!("a command engine")
        };
        assert_eq!(
            goose.egress(),
            [endpoint("llm.corp:8443"), endpoint("10.0.0.5:11434")]
        );
        let (_d, home, config) = home_with("agents:\n  coder: {engine: native}\n", "");
        assert!(matches!(
            coder_engine(&home, &config),
            Ok(CoderEngine::Native)
        ));
        let (_d, home, config) = home_with("agents:\n  coder: {engine: aider}\n", "");
        let err = coder_engine(&home, &config).err().unwrap();
        assert!(err.to_string().contains("needs a model"), "{err}");
    }

    #[test]
    fn coder_settings_are_checked_when_the_config_loads() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("h"), "UTC").unwrap();
        for (yaml, words) in [
            ("agents:\n  coder: {engine: command}\n", "needs `preset"),
            (
                "agents:\n  coder: {engine: command, preset: cursor}\n",
                "unknown preset `cursor`",
            ),
            (
                "agents:\n  coder: {engine: command, command: [goose], egress: [anywhere]}\n",
                "`egress` lists something that is neither a URL",
            ),
            (
                "agents:\n  coder: {engine: command, command: [tool, --go, \"{prompt}\"]}\n",
                "where every process on the machine can read it",
            ),
            (
                "agents:\n  coder: {engine: aider, edit_format: udiff}\n",
                "diff or whole",
            ),
            (
                "agents:\n  coder: {engine: command, preset: claude, env: [\"BAD NAME\"]}\n",
                "not an environment variable",
            ),
        ] {
            std::fs::write(home.config_file("agents.yaml"), yaml).unwrap();
            let err = Config::load(&home).unwrap_err().to_string();
            assert!(
                err.contains(words) && err.contains("agents.coder"),
                "{yaml}: {err}"
            );
        }
    }
}
