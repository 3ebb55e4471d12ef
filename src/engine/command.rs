//! The `command` engine: any coding CLI through an argument template.
//!
//! The prompt comes on the tool's stdin. `{prompt_file}`, `{files}` and `{workdir}` are
//! replaced in each argument; an argument that is exactly `{files}` becomes one argument per
//! file. `{prompt_file}` is a file holding the prompt, in a private directory made for the
//! run (readable inside the sandbox) and removed after it. `{prompt}` is refused: a command
//! line is readable by every process on the machine (`/proc/<pid>/cmdline`), and prompts
//! carry task text and earlier failures' output. Presets cover Claude Code and Codex. The
//! tool runs through [`crate::process`], confined when the work run is: in the work tree,
//! its whole run killed on timeout, and only the environment variables the config names.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Assignment, Engine, EngineError, EngineReport, tail, task_prompt};
use crate::llm::Usage;
use crate::process::{self, Spec};
use crate::sandbox::Endpoint;
use crate::sandbox::Scratch;

pub use crate::config::agents::PROMPT_ON_ARGV;

/// Argument templates for tools dayshift knows.
pub fn preset(name: &str) -> Option<Vec<String>> {
    let args: &[&str] = match name {
        "claude" => &[
            "claude",
            "-p",
            "--permission-mode",
            "acceptEdits",
            "--output-format",
            "json",
        ],
        "codex" => &["codex", "exec", "--skip-git-repo-check", "--json", "-"],
        _ => return None,
    };
    Some(args.iter().map(|a| a.to_string()).collect())
}

pub struct CommandEngine {
    name: String,
    template: Vec<String>,
    /// The whole environment of the tool (PATH, HOME … plus what the config names).
    env: BTreeMap<String, String>,
    timeout: Duration,
    /// Where the tool may connect when confined (its model's API); empty: the host's
    /// network.
    egress: Vec<Endpoint>,
}

/// Where a preset's tool talks to its model, by default.
pub fn preset_egress(name: &str) -> Vec<Endpoint> {
    let url = match name {
        "claude" => "https://api.anthropic.com",
        "codex" => "https://api.openai.com",
        _ => return vec![],
    };
    Endpoint::of_url(url).into_iter().collect()
}

impl CommandEngine {
    /// `template[0]` is the program. It must not mention `{prompt}` ([`PROMPT_ON_ARGV`]).
    pub fn new(
        name: &str,
        template: Vec<String>,
        env: BTreeMap<String, String>,
        timeout: Duration,
    ) -> Result<Self, EngineError> {
        if template.is_empty() {
            return Err(EngineError::Config(format!(
                "engine `{name}`: the command is empty; give e.g. [\"claude\", \"-p\"] (the prompt comes on stdin)"
            )));
        }
        if template.iter().any(|a| a.contains("{prompt}")) {
            return Err(EngineError::Config(format!(
                "engine `{name}`: {PROMPT_ON_ARGV}"
            )));
        }
        Ok(Self {
            name: name.to_string(),
            template,
            env,
            timeout,
            egress: vec![],
        })
    }

    /// Confined, the tool may connect to `endpoints` only.
    pub fn with_egress(mut self, endpoints: Vec<Endpoint>) -> Self {
        self.egress = endpoints;
        self
    }

    /// Where the tool may connect when confined.
    pub fn egress(&self) -> &[Endpoint] {
        &self.egress
    }

    /// The program the template runs.
    pub fn program(&self) -> &str {
        &self.template[0]
    }

    /// Whether the template asks for the prompt in a file.
    fn wants_prompt_file(&self) -> bool {
        self.template.iter().any(|a| a.contains("{prompt_file}"))
    }

    /// The command line for an assignment, with the prompt file at `prompt_file`.
    pub fn expand(&self, job: &Assignment, prompt_file: &std::path::Path) -> Vec<String> {
        let files = &job.task.files;
        let workdir = job.workdir.display().to_string();
        let prompt_file = prompt_file.display().to_string();
        let mut out = Vec::new();
        for arg in &self.template {
            if arg == "{files}" {
                out.extend(files.iter().cloned());
            } else {
                out.push(
                    arg.replace("{prompt_file}", &prompt_file)
                        .replace("{files}", &files.join(" "))
                        .replace("{workdir}", &workdir),
                );
            }
        }
        out
    }
}

impl Engine for CommandEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&self, job: &Assignment) -> Result<EngineReport, EngineError> {
        let prompt = task_prompt(job);
        let mut confine = job.tool_confinement().with_egress(self.egress.clone());
        let scratch = if self.wants_prompt_file() {
            let dir = Scratch::create("prompt").map_err(|e| {
                EngineError::Config(format!(
                    "{}: cannot make a directory for the prompt file in {}: {e}",
                    self.name,
                    std::env::temp_dir().display()
                ))
            })?;
            crate::fsx::write_atomic(&dir.path().join("prompt.md"), prompt.as_bytes()).map_err(
                |e| {
                    EngineError::Config(format!("{}: cannot write the prompt file: {e}", self.name))
                },
            )?;
            confine = confine.with_read(dir.path());
            Some(dir)
        } else {
            None
        };
        let prompt_file = scratch
            .as_ref()
            .map(|d| d.path().join("prompt.md"))
            .unwrap_or_default();
        let argv = self.expand(job, &prompt_file);
        let mut spec = Spec::new(&argv[0], &[])
            .cwd(job.workdir)
            .timeout(self.timeout);
        spec.args = argv[1..].to_vec();
        spec.env = self.env.clone();
        spec.stdin = Some(prompt.into_bytes());
        let (spec, tool_run) = confine.wrap_tool(spec, job.workdir).map_err(|e| {
            EngineError::Config(format!(
                "{}: cannot prepare the tool's run (git, network): {e}",
                self.name
            ))
        })?;
        let out = process::run(&spec);
        drop((scratch, tool_run));
        let out = out.map_err(|e| EngineError::Spawn {
            engine: self.name.clone(),
            program: argv[0].clone(),
            detail: e.source.to_string(),
        })?;
        let combined = format!("{}{}", out.stdout, out.stderr);
        if out.cancelled {
            return Err(EngineError::Cancelled {
                engine: self.name.clone(),
            });
        }
        if out.timed_out() {
            return Err(EngineError::TimedOut {
                engine: self.name.clone(),
                after: self.timeout,
                output: combined,
            });
        }
        if !out.success() {
            let code = out.status.and_then(|s| s.code());
            return Err(EngineError::Crashed {
                engine: self.name.clone(),
                code,
                tail: tail(&combined, 1500).to_string(),
                output: combined,
            });
        }
        let mut report = EngineReport {
            summary: format!("{} finished", self.name),
            elapsed: out.elapsed,
            ..Default::default()
        };
        if let Err(message) = read_claude_result(&out.stdout, &mut report) {
            return Err(EngineError::Reported {
                engine: self.name.clone(),
                message: super::failure::one_line(&message),
                output: combined,
            });
        }
        report.output = combined;
        Ok(report)
    }
}

/// Claude Code's `--output-format json` result: cost, usage, and `is_error` (it exits 0 on
/// some failures). Other output is left alone.
fn read_claude_result(stdout: &str, report: &mut EngineReport) -> Result<(), String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(stdout.trim()) else {
        return Ok(());
    };
    if value.get("type").and_then(|t| t.as_str()) != Some("result") {
        return Ok(());
    }
    if value["is_error"].as_bool() == Some(true) {
        return Err(value["result"].as_str().unwrap_or("no message").to_string());
    }
    report.spent.cost_usd = value["total_cost_usd"].as_f64();
    let n = |k: &str| value["usage"][k].as_u64().unwrap_or(0);
    report.spent.usage = Usage {
        input_tokens: n("input_tokens"),
        output_tokens: n("output_tokens"),
        cache_read_tokens: n("cache_read_input_tokens"),
        cache_write_tokens: n("cache_creation_input_tokens"),
    };
    if let Some(text) = value["result"].as_str() {
        report.summary = tail(text, 300).to_string();
    }
    Ok(())
}
