//! Running the target's build and deploy commands in a deploy checkout: `sh -c <command>`
//! through [`crate::process::run`] (timeout, own process group killed with everything it
//! started, capped output), with an explicit environment — [`process::BASE_ENV`] from this process
//! and the variables `deploy_env` names, their values from config/.env or the environment —
//! and nothing else: no token dayshift holds reaches a command that config did not give it.
//!
//! The build runs first; the deploy runs only when the build succeeded. Each command's
//! output is appended to the deploy's log, redacted, under a header naming the step.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::DeployError;
use crate::config::Secrets;
use crate::problem::IoContext;
use crate::process::{self, Spec};

/// Bytes kept of each command's stdout and of its stderr.
const OUTPUT_CAP: usize = 256 * 1024;
/// Lines of output an outcome keeps for a person to read.
const TAIL_LINES: usize = 20;

/// One deploy of one checkout.
#[derive(Debug, Clone)]
pub struct DeploySpec<'a> {
    /// The clean checkout ([`super::checkout_at`]); the commands run there.
    pub dir: PathBuf,
    pub build_command: Option<String>,
    pub deploy_command: Option<String>,
    /// The variables (`deploy_env`) the commands see besides [`process::BASE_ENV`].
    pub env_names: Vec<String>,
    /// Where their values come from, and what is redacted from the log and the outcome.
    pub secrets: &'a Secrets,
    /// How long each command may take.
    pub timeout: Duration,
    /// The log both outputs are appended to (made with its folder if missing).
    pub log: PathBuf,
}

/// A step of a deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Build,
    Deploy,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Build => "build",
            Step::Deploy => "deploy",
        })
    }
}

/// How one command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRun {
    pub step: Step,
    /// The command as configured, redacted.
    pub command: String,
    /// `None` when it was killed (timed out or cancelled) or ended by a signal.
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    /// Stopped because dayshift is stopping ([`process::cancel_all`]).
    pub cancelled: bool,
    pub duration: Duration,
    /// The last lines of its output (stdout, then stderr), redacted.
    pub tail: String,
}

impl StepRun {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// One line: what ran and how it ended.
    pub fn summary(&self) -> String {
        let ended = if self.timed_out {
            format!(
                "timed out after {} s and was killed",
                self.duration.as_secs()
            )
        } else if self.cancelled {
            "was stopped (dayshift is stopping)".to_string()
        } else {
            match self.exit_code {
                Some(0) => "succeeded".to_string(),
                Some(code) => format!("failed with exit code {code}"),
                None => "was killed by a signal".to_string(),
            }
        };
        format!(
            "{} `{}` {ended} ({:.1} s)",
            self.step,
            self.command,
            self.duration.as_secs_f64()
        )
    }
}

/// What a deploy did: the steps that ran, in order; the last one failed if any did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployOutcome {
    pub steps: Vec<StepRun>,
    pub duration: Duration,
}

impl DeployOutcome {
    pub fn succeeded(&self) -> bool {
        self.steps.iter().all(StepRun::succeeded)
    }

    /// The step that failed (timed out, exited non-zero, was stopped), if one did.
    pub fn failed_step(&self) -> Option<&StepRun> {
        self.steps.iter().find(|s| !s.succeeded())
    }

    /// Whether `step` ran.
    pub fn ran(&self, step: Step) -> bool {
        self.steps.iter().any(|s| s.step == step)
    }
}

/// Build, then deploy, in `spec.dir`. A command that fails ends the deploy with an
/// outcome saying so (the deploy step does not run after a failed build); only a command
/// that cannot be started, or a log that cannot be written, is an error.
pub fn deploy(spec: &DeploySpec) -> Result<DeployOutcome, DeployError> {
    let started = Instant::now();
    let commands: Vec<(Step, &str)> = [
        (Step::Build, spec.build_command.as_deref()),
        (Step::Deploy, spec.deploy_command.as_deref()),
    ]
    .into_iter()
    .filter_map(|(step, command)| command.map(|c| (step, c)))
    .filter(|(_, command)| !command.trim().is_empty())
    .collect();
    if commands.is_empty() {
        return Err(DeployError::NothingToRun);
    }
    let mut steps = Vec::new();
    for (step, command) in commands {
        let run = run_step(spec, step, command)?;
        let failed = !run.succeeded();
        steps.push(run);
        if failed {
            break;
        }
    }
    Ok(DeployOutcome {
        steps,
        duration: started.elapsed(),
    })
}

fn run_step(spec: &DeploySpec, step: Step, command: &str) -> Result<StepRun, DeployError> {
    let mut process_spec = Spec::new("sh", &["-c", command])
        .cwd(&spec.dir)
        .timeout(spec.timeout);
    process_spec.output_cap = OUTPUT_CAP;
    // Spec::new starts from BASE_ENV of this process; add what deploy_env names
    process_spec.env.extend(
        spec.env_names
            .iter()
            .filter_map(|name| spec.secrets.get(name).map(|value| (name.clone(), value))),
    );
    let out = process::run(&process_spec).map_err(|source| DeployError::Spawn { step, source })?;
    let redacted = |text: &str| spec.secrets.redact(text);
    let output = redacted(&format!("{}{}", out.stdout, out.stderr));
    let run = StepRun {
        step,
        command: redacted(command),
        exit_code: out.status.and_then(|s| s.code()),
        timed_out: out.timed_out(),
        cancelled: out.cancelled,
        duration: out.elapsed,
        tail: last_lines(&output, TAIL_LINES),
    };
    let cut = if out.truncated {
        "\n[output cut at the cap]"
    } else {
        ""
    };
    append_log(
        &spec.log,
        &format!(
            "== {step}: {}\n{output}{cut}\n== {}\n\n",
            run.command,
            run.summary()
        ),
    )?;
    Ok(run)
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

fn append_log(path: &std::path::Path, text: &str) -> Result<(), DeployError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).at_path(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .at_path(path)?;
    file.write_all(text.as_bytes()).at_path(path)?;
    Ok(())
}
