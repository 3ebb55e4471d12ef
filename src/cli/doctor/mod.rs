//! `dayshift doctor`: every problem with the home on one line, with its fix. The last check
//! tries the coding engine once against its provider ([`crate::engine::preflight`]): at most
//! one tiny request, skipped with `--offline`. With `github:` set, [`github`] checks the
//! token, the repository and its protection against the API.

mod deploy;
mod github;
mod notify;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::print_json;
use crate::config::agents::{EngineKind, ProviderKind};
use crate::config::target::is_local_path;
use crate::config::{AgentName, Config};
use crate::error::Result;
use crate::home::Home;
use crate::process::{self, Spec};
use crate::sandbox::{self, Sandbox, State};
use crate::tasks::Queue;

#[derive(Debug, serde::Serialize)]
struct Check {
    check: &'static str,
    /// Not run because it needs a valid config (the `config` check says what is wrong).
    skipped: bool,
    problems: Vec<String>,
    /// What passed, when it is worth saying (the sandbox line).
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// Not failures, but a person should know (e.g. agents run unconfined).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    /// Why it was skipped, when not for the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped_because: Option<String>,
    /// Skipped because the person chose so (no `github:`): not a gap, not counted.
    #[serde(skip)]
    by_choice: bool,
}

impl Check {
    fn new(check: &'static str, problems: Vec<String>) -> Self {
        Self {
            check,
            skipped: false,
            problems,
            detail: None,
            warnings: vec![],
            skipped_because: None,
            by_choice: false,
        }
    }

    fn skipped(check: &'static str, because: String) -> Self {
        Self {
            skipped: true,
            skipped_because: Some(because),
            ..Self::new(check, vec![])
        }
    }

    fn needing_config(
        check: &'static str,
        home: &Home,
        config: Option<&Config>,
        run: fn(&Home, &Config) -> Vec<String>,
    ) -> Self {
        match config {
            Some(config) => Self::new(check, run(home, config)),
            None => Self {
                skipped: true,
                ..Self::new(check, vec![])
            },
        }
    }
}

pub fn doctor(home_dir: &Path, json: bool, offline: bool) -> Result<ExitCode> {
    let home = Home::open(home_dir)?;
    let config = Config::load(&home).ok();
    let config = config.as_ref();
    let mut checks = vec![
        Check::new(
            "config",
            Config::problems(&home)
                .iter()
                .map(ToString::to_string)
                .collect(),
        ),
        Check::new("VISION.md", vision_problems(&home)),
        Check::new("task files", task_problems(&home)),
        Check::needing_config("keys", &home, config, key_problems),
        Check::new("git", git_problems(&home)),
        target_check(&home, config),
        Check::needing_config("coding tool", &home, config, tool_problems),
        sandbox_check(&home, config),
        jobs_check(&home, config, offline),
    ];
    // after the tool check: a missing binary is named there once
    let ready = checks
        .iter()
        .filter(|c| c.check == "coding tool")
        .all(|c| !c.skipped && c.problems.is_empty());
    checks.push(match config {
        None => Check::needing_config(PREFLIGHT, &home, None, |_, _| vec![]),
        Some(_) if offline => Check::skipped(PREFLIGHT, "--offline".into()),
        Some(_) if !ready => Check::skipped(
            PREFLIGHT,
            "needs the coding tool (fix the line above first)".into(),
        ),
        Some(config) => preflight_check(&home, config),
    });
    checks.extend(github::checks(&home, config, offline));
    checks.extend(deploy::checks(config));
    checks.extend(notify::checks(&home, config));
    let failed = checks.iter().map(|c| c.problems.len()).sum::<usize>();
    if json {
        print_json(&serde_json::json!({"ok": failed == 0, "checks": checks}));
    } else {
        for check in &checks {
            if check.skipped {
                let because = check
                    .skipped_because
                    .as_deref()
                    .unwrap_or("needs a valid config (fix the config lines above first)");
                println!("skip  {}: {because}", check.check);
            } else if check.problems.is_empty() {
                println!("ok    {}", check.detail.as_deref().unwrap_or(check.check));
            }
            for warning in &check.warnings {
                println!("warn  {warning}");
            }
            for problem in &check.problems {
                println!("FAIL  {problem}");
            }
        }
        let skipped = checks.iter().filter(|c| c.skipped && !c.by_choice).count();
        if failed == 0 && skipped == 0 {
            let run = checks.iter().filter(|c| !c.by_choice).count();
            println!("all {run} checks passed");
        } else if failed == 0 {
            println!("no problem found; {skipped} check(s) skipped");
        } else {
            println!("{failed} problem(s); each line says what to do");
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn vision_problems(home: &Home) -> Vec<String> {
    let path = home.vision();
    match std::fs::read_to_string(&path) {
        Err(e) => vec![format!(
            "{}: cannot read ({e}); write a VISION.md (`dayshift init` has an example)",
            path.display()
        )],
        Ok(text) => crate::vision::parse::parse(&path, &text)
            .err()
            .map(|p| p.to_string())
            .into_iter()
            .collect(),
    }
}

fn task_problems(home: &Home) -> Vec<String> {
    let queue = Queue::new(home);
    let mut problems: Vec<String> = match queue.scan() {
        Err(e) => vec![e.to_string()],
        Ok(files) => files
            .iter()
            .filter_map(|f| queue.read(&f.path, f.state).err())
            .map(|p| p.to_string())
            .collect(),
    };
    problems.extend(queue.strays().iter().map(ToString::to_string));
    problems
}

fn key_problems(home: &Home, config: &Config) -> Vec<String> {
    let agents_file = home.config_file("agents.yaml");
    let mut problems = Vec::new();
    for (name, provider) in &config.agents.providers {
        let wanted = provider
            .api_key_env
            .clone()
            .or_else(|| match provider.kind {
                ProviderKind::Anthropic => Some("ANTHROPIC_API_KEY".into()),
                ProviderKind::Openai if provider.base_url.is_none() => {
                    Some("OPENAI_API_KEY".into())
                }
                _ => None,
            });
        if let Some(var) = wanted
            && config.secrets.get(&var).is_none()
        {
            problems.push(format!(
                "{}: provider `{name}` needs {var}; put `{var}=…` in config/.env or the environment",
                agents_file.display()
            ));
        }
    }
    if let Ok(meta) = std::fs::metadata(home.env_file())
        && meta.permissions().mode() & 0o077 != 0
    {
        problems.push(format!(
            "{}: readable by other users; run `chmod 600 {}`",
            home.env_file().display(),
            home.env_file().display()
        ));
    }
    problems
}

fn git_problems(home: &Home) -> Vec<String> {
    let git = |args: &[&str]| {
        process::run(
            &Spec::new("git", args)
                .own_tool()
                .cwd(home.root())
                .timeout(Duration::from_secs(10)),
        )
    };
    match git(&["--version"]) {
        Ok(out) if out.success() => {}
        _ => return vec!["git: not found on PATH; install git (2.30 or newer)".into()],
    }
    ["user.name", "user.email"]
        .iter()
        .filter(|key| !git(&["config", "--get", key]).is_ok_and(|o| o.success() && !o.stdout.trim().is_empty()))
        .map(|key| format!("git: `{key}` is not set, so agents cannot commit; run `git config --global {key} \"…\"`"))
        .collect()
}

/// The target line: problems with `repo`, and where merges will go when that is worth
/// saying (a local checkout keeps them in the clone).
fn target_check(home: &Home, config: Option<&Config>) -> Check {
    let mut check = Check::needing_config("target", home, config, target_problems);
    let Some(config) = config.filter(|_| check.problems.is_empty()) else {
        return check;
    };
    let Some(repo) = config.target.repo().filter(|r| is_local_path(r)) else {
        return check;
    };
    let origin = home.root().join(repo);
    let base = &config.target.base_branch;
    match crate::target::plan_for(&origin.to_string_lossy(), base) {
        Ok(plan @ crate::target::Publish::KeepInClone { .. }) => {
            check.detail = Some(format!(
                "target: {}",
                plan.describe(&home.target_clone(), base)
            ));
        }
        Ok(_) => {}
        Err(e) => check.problems.push(format!("target: {e}")),
    }
    check
}

/// What each scheduled job needs ([`super::readiness`]), and what a day would skip.
fn jobs_check(home: &Home, config: Option<&Config>, offline: bool) -> Check {
    let Some(config) = config else {
        return Check::needing_config("scheduled jobs", home, None, |_, _| vec![]);
    };
    let (problems, warnings) = super::readiness::scheduled_jobs(home, config, offline);
    Check {
        warnings,
        ..Check::new("scheduled jobs", problems)
    }
}

fn target_problems(home: &Home, config: &Config) -> Vec<String> {
    let file = home.config_file("target.yaml");
    match config.target.repo() {
        None => vec![format!(
            "{}: no `repo` is set; set it to the target's git URL or local path",
            file.display()
        )],
        Some(repo) if is_local_path(repo) => {
            let path = home.root().join(repo);
            if path.join(".git").exists() || path.join("HEAD").exists() {
                vec![]
            } else {
                vec![format!(
                    "{}: `repo: {repo}` is not a git repository at {}; fix the path",
                    file.display(),
                    path.display()
                )]
            }
        }
        Some(_) => vec![],
    }
}

fn tool_problems(home: &Home, config: &Config) -> Vec<String> {
    let coder = config.agents.agents.get(&AgentName::Coder);
    let engine = coder.and_then(|c| c.engine);
    if coder.is_none() || engine.is_some_and(|e| e != EngineKind::Aider) {
        return vec![];
    }
    let in_venv = home.root().join(".venv/bin/aider").is_file();
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("aider").is_file()));
    if in_venv || on_path {
        vec![]
    } else {
        vec![
            "aider: not found in .venv/bin or on PATH; `dayshift setup` installs it into .venv/ of the home".into(),
        ]
    }
}

const PREFLIGHT: &str = "engine preflight";

/// The coder's engine tried once against its provider; nothing to try without a coder.
fn preflight_check(home: &Home, config: &Config) -> Check {
    if !config.agents.agents.contains_key(&AgentName::Coder) {
        let mut check = Check::new(PREFLIGHT, vec![]);
        check.detail = Some(format!(
            "{PREFLIGHT}: no coder in config/agents.yaml (nothing to try)"
        ));
        return check;
    }
    match crate::engine::preflight::preflight(home, config) {
        Ok(reached) => {
            let mut check = Check::new(PREFLIGHT, vec![]);
            check.detail = Some(format!("{PREFLIGHT}: {reached}"));
            check
        }
        Err(problem) => Check::new(PREFLIGHT, vec![format!("{PREFLIGHT}: {problem}")]),
    }
}

/// The sandbox line: what confinement this machine gives, and what `sandbox.mode` makes of
/// it — a failure when work would be refused, a warning when agents would run unconfined.
fn sandbox_check(home: &Home, config: Option<&Config>) -> Check {
    let Some(config) = config else {
        return Check::needing_config("sandbox", home, None, |_, _| vec![]);
    };
    let landlock = sandbox::detect::landlock_abi()
        .map_or("Landlock unavailable".to_string(), |v| {
            format!("Landlock ABI {v}")
        });
    let policy = &config.policy.sandbox;
    let mut check = Check::new("sandbox", vec![]);
    match Sandbox::decide(policy, home.root(), sandbox::detect::bubblewrap()) {
        Err(e) => check.problems.push(format!("sandbox: {e}")),
        Ok(s) => match s.state() {
            State::Confined { .. } => {
                check.detail = Some(format!(
                    "sandbox: bubblewrap works (mount, pid, net namespaces); {landlock}"
                ));
            }
            State::Unavailable { why } => check.warnings.push(format!(
                "sandbox: {why}; the coding tool and the target's commands run unconfined (sandbox.mode: best_effort); install bubblewrap (`apt-get install bubblewrap`)"
            )),
            State::Off => check.warnings.push(format!(
                "sandbox: sandbox.mode is off in {}: the coding tool and the target's commands run unconfined; set best_effort or required",
                home.config_file("policy.yaml").display()
            )),
        },
    }
    check
}
