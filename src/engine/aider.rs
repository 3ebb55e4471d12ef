//! The `aider` engine: Aider run headless on a task's work tree (flags measured in
//! shared/notes/coding-tools.md).
//!
//! Aider exits 0 on almost every model-side failure, so its exit code proves nothing: this
//! engine reads its output (`Applied edit to …`, `did not conform to the edit format`,
//! `litellm.…Error`, `Tokens: … sent, … received. Cost: $…`), and the caller judges the
//! work tree's diff. Aider gets a HOME of its own, a model-metadata file (so it never
//! downloads a price list), no auto-commits, a closed stdin, the task in a message file
//! (`--message-file`, in a private directory removed after the run) and the API key only
//! through its environment — never on the command line, where `ps` would show it. A keyless
//! local server (Ollama, llama.cpp, vLLM, LM Studio: a `base_url` and no `api_key_env`)
//! still needs a key for Aider to start (litellm's OpenAI client refuses to run without
//! one): it gets [`PLACEHOLDER_KEY`], which such a server ignores. Confined,
//! it may write the worktree and its own state directory, and reaches its model's endpoint
//! (the provider's base URL) and nothing else.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::failure::{message_at, message_of};
use super::{Assignment, Engine, EngineError, EngineReport, ProviderRef, Spent, task_prompt};
use crate::llm::Usage;
use crate::process::{self, Spec};
use crate::sandbox::Scratch;

/// The key Aider gets for a keyless OpenAI-compatible server: its client will not start
/// without one, and a local server ignores it.
pub const PLACEHOLDER_KEY: &str = "dayshift-no-key";

#[derive(Clone)]
pub struct AiderEngine {
    /// `.venv/bin/aider`, or `aider` on PATH.
    pub program: PathBuf,
    /// Aider's model name, e.g. `openai/qwen2.5-coder` or `anthropic/claude-sonnet-4-5`.
    pub model: String,
    /// For OpenAI-compatible servers.
    pub api_base: Option<String>,
    /// The environment variable Aider reads the key from, and the key.
    pub api_key: Option<(String, String)>,
    /// The variable the key comes from in config/.env (`api_key_env`, or the kind's
    /// default), to name it when the key is refused; `None` for a keyless server.
    pub key_env: Option<String>,
    /// `diff` (search/replace) or `whole`.
    pub edit_format: String,
    /// Aider's own HOME and metadata file live here (e.g. `.dayshift/aider/`).
    pub state_dir: PathBuf,
    pub timeout: Duration,
    /// Repo-map size; 0 turns the map off.
    pub map_tokens: Option<u32>,
}

impl std::fmt::Debug for AiderEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiderEngine")
            .field("program", &self.program)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// What Aider said, read from its output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AiderOutput {
    pub applied: Vec<String>,
    pub nonconforming: bool,
    pub errors: Vec<String>,
    pub usage: Usage,
    pub cost_usd: Option<f64>,
}

impl AiderOutput {
    pub fn parse(output: &str) -> Self {
        let mut out = Self::default();
        for (at, line) in output.lines().enumerate() {
            let line = line.trim();
            if let Some(file) = line.strip_prefix("Applied edit to ") {
                out.applied.push(file.trim().to_string());
            } else if line.contains("did not conform to the edit format") {
                out.nonconforming = true;
            } else if line.contains("litellm.") && line.contains("Error") {
                // litellm's messages run over several of Aider's wrapped lines
                out.errors.push(message_at(output, at));
            } else if let Some(rest) = line.strip_prefix("Tokens: ") {
                let (tokens, cost) = rest
                    .split_once("Cost:")
                    .map_or((rest, None), |(t, c)| (t, Some(c)));
                for part in tokens.split(',') {
                    let part = part.trim().trim_end_matches('.');
                    if let Some(n) = part.strip_suffix(" sent") {
                        out.usage.input_tokens += count(n);
                    } else if let Some(n) = part.strip_suffix(" received") {
                        out.usage.output_tokens += count(n);
                    }
                }
                if let Some(message) = cost
                    .and_then(|c| c.trim().strip_prefix('$'))
                    .and_then(|c| c.split_whitespace().next())
                {
                    *out.cost_usd.get_or_insert(0.0) += message.parse::<f64>().unwrap_or(0.0);
                }
            }
        }
        out
    }
}

impl AiderOutput {
    /// Aider bills through dayshift's model metadata at zero cost, so its `Cost:` figure is
    /// not the real price: the budget prices its tokens from `prices:` instead.
    fn spent(&self) -> Spent {
        Spent {
            usage: self.usage,
            cost_usd: None,
            billed: false,
        }
    }
}

/// `2.4k` → 2400, `1.2M` → 1200000, `27` → 27.
fn count(text: &str) -> u64 {
    let t = text.trim();
    let (number, scale) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1_000.0),
        Some('M') => (&t[..t.len() - 1], 1_000_000.0),
        _ => (t, 1.0),
    };
    (number.parse::<f64>().unwrap_or(0.0) * scale).round() as u64
}

impl AiderEngine {
    /// The command line (without the key, and without the task: that is in `message_file`).
    pub fn args(&self, job: &Assignment, message_file: &Path) -> Vec<String> {
        let mut args: Vec<String> = vec!["--model".into(), self.model.clone()];
        if let Some(base) = &self.api_base {
            args.extend(["--openai-api-base".into(), base.clone()]);
        }
        args.extend([
            "--model-metadata-file".into(),
            self.metadata_file().display().to_string(),
        ]);
        for flag in [
            "--yes-always",
            "--no-auto-commits",
            "--no-dirty-commits",
            "--no-check-update",
            "--no-show-release-notes",
            "--no-show-model-warnings",
            "--analytics-disable",
            "--no-pretty",
            "--no-gitignore",
            "--no-stream",
        ] {
            args.push(flag.into());
        }
        args.extend([
            "--chat-history-file".into(),
            "/dev/null".into(),
            "--input-history-file".into(),
            "/dev/null".into(),
        ]);
        args.extend(["--edit-format".into(), self.edit_format.clone()]);
        if let Some(tokens) = self.map_tokens {
            args.extend(["--map-tokens".into(), tokens.to_string()]);
        }
        for file in &job.task.files {
            args.extend(["--file".into(), file.clone()]);
        }
        args.extend(["--message-file".into(), message_file.display().to_string()]);
        args
    }

    /// Where Aider talks to its model: the provider's base URL, else the API its model
    /// prefix names. Confined, it may connect nowhere else.
    pub fn endpoints(&self) -> Vec<crate::sandbox::Endpoint> {
        crate::sandbox::Endpoint::of_url(&self.base_url())
            .into_iter()
            .collect()
    }

    /// The provider's base URL, else the API its model prefix names.
    pub fn base_url(&self) -> String {
        self.api_base.clone().unwrap_or_else(|| {
            match self.model.split_once('/').map(|(prefix, _)| prefix) {
                Some("anthropic") => "https://api.anthropic.com".into(),
                _ => "https://api.openai.com".into(),
            }
        })
    }

    fn metadata_file(&self) -> PathBuf {
        self.state_dir.join("model-metadata.json")
    }

    fn prepare(&self) -> std::io::Result<PathBuf> {
        let home = self.state_dir.join("home");
        std::fs::create_dir_all(&home)?;
        self.write_metadata(&self.metadata_file())?;
        // Aider writes a placeholder identity into the repository's config when git has
        // none — for a worktree, the clone's shared config, outside the task's tree. Its
        // own HOME gets one (it never commits: --no-auto-commits).
        crate::fsx::write_atomic(
            &home.join(".gitconfig"),
            b"[user]\n\tname = dayshift coder\n\temail = coder@dayshift.invalid\n",
        )?;
        Ok(home)
    }

    /// The model metadata Aider needs so that it never downloads a price list.
    fn write_metadata(&self, path: &Path) -> std::io::Result<()> {
        let bare = self
            .model
            .split_once('/')
            .map_or(self.model.as_str(), |(_, m)| m);
        let provider = self.model.split_once('/').map_or("openai", |(p, _)| p);
        let entry = serde_json::json!({
            "max_tokens": 8192, "max_input_tokens": 128000, "max_output_tokens": 8192,
            "input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
            "litellm_provider": provider, "mode": "chat"
        });
        let metadata = serde_json::json!({ self.model.clone(): entry.clone(), bare: entry });
        crate::fsx::write_atomic(path, metadata.to_string().as_bytes())
    }

    /// The environment of an Aider run: its own HOME, no price-list download, no browser, no
    /// analytics, and the key (never on the command line).
    fn env(&self, spec: &mut Spec, home: &Path) {
        spec.env.insert("HOME".into(), home.display().to_string());
        spec.env
            .insert("LITELLM_LOCAL_MODEL_COST_MAP".into(), "True".into());
        spec.env.insert("BROWSER".into(), "true".into());
        spec.env.insert("AIDER_ANALYTICS".into(), "false".into());
        if let Some((var, key)) = &self.api_key {
            spec.env.insert(var.clone(), key.clone());
        }
    }

    /// `dayshift doctor`'s preflight: Aider run once the way work runs it — same model,
    /// base URL, key and environment — on a throwaway directory outside any repository
    /// (`--no-git`, its own HOME), asking for one word: one tiny request. `Ok` with what it
    /// reached; the error is classified like a work run's ([`super::failure::classify`]).
    pub fn preflight(&self, timeout: Duration) -> Result<String, EngineError> {
        let scratch = Scratch::create("preflight").map_err(|e| {
            EngineError::Config(format!(
                "aider: cannot make a directory in {}: {e}",
                std::env::temp_dir().display()
            ))
        })?;
        let dir = scratch.path();
        let home = dir.join("home");
        let (metadata, message) = (dir.join("model-metadata.json"), dir.join("message.md"));
        std::fs::create_dir_all(&home)
            .and_then(|()| self.write_metadata(&metadata))
            .and_then(|()| crate::fsx::write_atomic(&message, b"Answer with the one word: ok"))
            .map_err(|e| {
                EngineError::Config(format!("aider: cannot prepare the preflight: {e}"))
            })?;
        let mut args: Vec<String> = vec!["--model".into(), self.model.clone()];
        if let Some(base) = &self.api_base {
            args.extend(["--openai-api-base".into(), base.clone()]);
        }
        args.extend([
            "--model-metadata-file".into(),
            metadata.display().to_string(),
        ]);
        for flag in [
            "--no-git",
            "--yes-always",
            "--no-auto-commits",
            "--no-check-update",
            "--no-show-release-notes",
            "--no-show-model-warnings",
            "--analytics-disable",
            "--no-pretty",
            "--no-stream",
        ] {
            args.push(flag.into());
        }
        for (flag, value) in [
            ("--map-tokens", "0".to_string()),
            ("--chat-history-file", "/dev/null".into()),
            ("--input-history-file", "/dev/null".into()),
            ("--message-file", message.display().to_string()),
        ] {
            args.extend([flag.into(), value]);
        }
        let mut spec = Spec::new(&self.program, &[]).cwd(dir).timeout(timeout);
        spec.args = args;
        self.env(&mut spec, &home);
        let out = process::run(&spec).map_err(|e| EngineError::Spawn {
            engine: "aider".into(),
            program: self.program.display().to_string(),
            detail: e.source.to_string(),
        })?;
        let text = format!("{}{}", out.stdout, out.stderr);
        let said = AiderOutput::parse(&text);
        if let Some(message) = said.errors.first() {
            return Err(EngineError::Reported {
                engine: "aider".into(),
                message: message.clone(),
                output: text,
            });
        }
        if out.timed_out() {
            return Err(EngineError::TimedOut {
                engine: "aider".into(),
                after: timeout,
                output: text,
            });
        }
        if !out.success() {
            return Err(EngineError::Crashed {
                engine: "aider".into(),
                code: out.status.and_then(|s| s.code()),
                tail: message_of(&text),
                output: text,
            });
        }
        Ok(format!(
            "aider reached {} at {} (one request)",
            self.model,
            self.base_url()
        ))
    }
}

impl Engine for AiderEngine {
    fn name(&self) -> &str {
        "aider"
    }

    /// The model without Aider's provider prefix, as `prices:` names it.
    fn model(&self) -> Option<&str> {
        Some(
            self.model
                .split_once('/')
                .map_or(self.model.as_str(), |(_, m)| m),
        )
    }

    fn provider(&self) -> Option<ProviderRef> {
        Some(ProviderRef {
            key_env: self.key_env.clone(),
            endpoint: self.base_url(),
        })
    }

    fn run(&self, job: &Assignment) -> Result<EngineReport, EngineError> {
        let home = self.prepare().map_err(|e| {
            EngineError::Config(format!(
                "aider: cannot prepare {}: {e}",
                self.state_dir.display()
            ))
        })?;
        let message = Scratch::create("prompt").map_err(|e| {
            EngineError::Config(format!(
                "aider: cannot make a directory for the message file in {}: {e}",
                std::env::temp_dir().display()
            ))
        })?;
        let message_file = message.path().join("message.md");
        crate::fsx::write_atomic(&message_file, task_prompt(job).as_bytes()).map_err(|e| {
            EngineError::Config(format!("aider: cannot write the message file: {e}"))
        })?;
        let mut spec = Spec::new(&self.program, &[])
            .cwd(job.workdir)
            .timeout(self.timeout);
        spec.args = self.args(job, &message_file);
        self.env(&mut spec, &home);
        let (spec, tool_run) = job
            .tool_confinement()
            .with_egress(self.endpoints())
            .with_read(message.path())
            .with_write(&self.state_dir)
            .wrap_tool(spec, job.workdir)
            .map_err(|e| {
                EngineError::Config(format!("aider: cannot prepare its run (git, network): {e}"))
            })?;
        let out = process::run(&spec);
        drop((message, tool_run));
        let out = out.map_err(|e| EngineError::Spawn {
            engine: "aider".into(),
            program: self.program.display().to_string(),
            detail: e.source.to_string(),
        })?;
        let text = format!("{}{}", out.stdout, out.stderr);
        if out.cancelled {
            return Err(EngineError::Cancelled {
                engine: "aider".into(),
            });
        }
        if out.timed_out() {
            return Err(EngineError::TimedOut {
                engine: "aider".into(),
                after: self.timeout,
                output: text,
            });
        }
        if !out.success() {
            let code = out.status.and_then(|s| s.code());
            return Err(EngineError::Crashed {
                engine: "aider".into(),
                code,
                tail: message_of(&text),
                output: text,
            });
        }
        let said = AiderOutput::parse(&text);
        if said.applied.is_empty() {
            let message = said.errors.first().cloned().or_else(|| {
                said.nonconforming
                    .then(|| "the model's answer did not follow the edit format".into())
            });
            return Err(match message {
                Some(message) => EngineError::Reported {
                    engine: "aider".into(),
                    message,
                    output: text,
                },
                None => EngineError::NoChange {
                    engine: "aider".into(),
                    spent: said.spent(),
                    output: text,
                },
            });
        }
        let summary = format!("applied edits to {}", said.applied.join(", "));
        Ok(EngineReport {
            summary,
            spent: said.spent(),
            output: text,
            elapsed: out.elapsed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lines_are_read() {
        let out = AiderOutput::parse(
            "Aider v0.86.1\nApplied edit to core/settings.py\nApplied edit to core/urls.py\nTokens: 2.4k sent, 27 received. Cost: $0.00074 message, $0.00074 session.\nTokens: 1.1M sent, 3 received.\n",
        );
        assert_eq!(out.applied, ["core/settings.py", "core/urls.py"]);
        assert_eq!(
            (out.usage.input_tokens, out.usage.output_tokens),
            (1_102_400, 30)
        );
        assert_eq!(out.cost_usd, Some(0.00074));
        let bad = AiderOutput::parse(
            "The LLM did not conform to the edit format.\nlitellm.AuthenticationError: bad key\n",
        );
        assert!(bad.nonconforming && bad.applied.is_empty());
        assert_eq!(bad.errors, ["litellm.AuthenticationError: bad key"]);
        let wrapped = AiderOutput::parse(
            "litellm.AuthenticationError: AuthenticationError: OpenAIException - The api_key \nclient option must be set\nThe API provider is not able to authenticate you.\n",
        );
        assert_eq!(
            wrapped.errors,
            [
                "litellm.AuthenticationError: AuthenticationError: OpenAIException - The api_key client option must be set"
            ]
        );
        assert_eq!(
            AiderOutput::parse("garbage\n\u{0}\n"),
            AiderOutput::default()
        );
    }
}
