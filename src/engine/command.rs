//! The `command` engine: any coding CLI through an argument template.
//!
//! `{prompt}`, `{files}` and `{workdir}` are replaced in each argument; an argument that is
//! exactly `{files}` becomes one argument per file. Presets cover Claude Code and Codex. The
//! tool runs through [`crate::process`]: in the work tree, stdin closed, its own process
//! group killed whole on timeout, and only the environment variables the config names.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Assignment, Engine, EngineError, EngineReport, tail, task_prompt};
use crate::llm::Usage;
use crate::process::{self, Spec};

/// Argument templates for tools dayshift knows.
pub fn preset(name: &str) -> Option<Vec<String>> {
    let args: &[&str] = match name {
        "claude" => &[
            "claude",
            "-p",
            "{prompt}",
            "--permission-mode",
            "acceptEdits",
            "--output-format",
            "json",
        ],
        "codex" => &[
            "codex",
            "exec",
            "--skip-git-repo-check",
            "--json",
            "{prompt}",
        ],
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
}

impl CommandEngine {
    /// `template[0]` is the program. It must mention `{prompt}` somewhere.
    pub fn new(
        name: &str,
        template: Vec<String>,
        env: BTreeMap<String, String>,
        timeout: Duration,
    ) -> Result<Self, EngineError> {
        if template.is_empty() {
            return Err(EngineError::Config(format!(
                "engine `{name}`: the command is empty; give e.g. [\"claude\", \"-p\", \"{{prompt}}\"]"
            )));
        }
        if !template.iter().any(|a| a.contains("{prompt}")) {
            return Err(EngineError::Config(format!(
                "engine `{name}`: the command never passes {{prompt}}, so the tool would not know the task"
            )));
        }
        Ok(Self {
            name: name.to_string(),
            template,
            env,
            timeout,
        })
    }

    /// The program the template runs.
    pub fn program(&self) -> &str {
        &self.template[0]
    }

    /// The command line for an assignment.
    pub fn expand(&self, job: &Assignment) -> Vec<String> {
        let prompt = task_prompt(job);
        let files = &job.task.files;
        let workdir = job.workdir.display().to_string();
        let mut out = Vec::new();
        for arg in &self.template {
            if arg == "{files}" {
                out.extend(files.iter().cloned());
            } else {
                out.push(
                    arg.replace("{prompt}", &prompt)
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
        let argv = self.expand(job);
        let mut spec = Spec::new(&argv[0], &[])
            .cwd(job.workdir)
            .timeout(self.timeout);
        spec.args = argv[1..].to_vec();
        spec.env = self.env.clone();
        let out = process::run(&spec).map_err(|e| EngineError::Spawn {
            engine: self.name.clone(),
            program: argv[0].clone(),
            detail: e.source.to_string(),
        })?;
        let combined = format!("{}{}", out.stdout, out.stderr);
        let output_tail = tail(&combined, 4000).to_string();
        if out.cancelled {
            return Err(EngineError::Cancelled {
                engine: self.name.clone(),
            });
        }
        if out.timed_out() {
            return Err(EngineError::TimedOut {
                engine: self.name.clone(),
                after: self.timeout,
            });
        }
        if !out.success() {
            let code = out.status.and_then(|s| s.code());
            return Err(EngineError::Crashed {
                engine: self.name.clone(),
                code,
                tail: tail(&combined, 1500).to_string(),
            });
        }
        let mut report = EngineReport {
            summary: format!("{} finished", self.name),
            output_tail,
            elapsed: out.elapsed,
            ..Default::default()
        };
        read_claude_result(&out.stdout, &mut report).map_err(|message| EngineError::Reported {
            engine: self.name.clone(),
            message,
        })?;
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
