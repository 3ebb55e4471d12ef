//! The home's configuration: four YAML files and a .env, parsed into typed, validated data.
//!
//! Raw YAML goes through serde-saphyr into structs that deny unknown keys; semantic checks
//! (cron, time zone, globs, provider references) run right after, so the rest of dayshift
//! only ever sees valid settings. A missing file means its defaults; a wrong one is a
//! [`FileProblem`] naming file, line and fix.

pub mod agents;
pub mod policy;
pub mod schedules;
pub mod secrets;
pub mod target;
pub mod yaml;

use std::path::Path;

pub use agents::{AgentName, AgentsConfig};
pub use policy::Policy;
pub use schedules::{CronSchedule, Schedules};
pub use secrets::Secrets;
pub use target::TargetConfig;

use crate::error::{At, FileProblem};
use crate::home::Home;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Invalid(#[from] FileProblem),
}

/// Everything under config/, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub target: TargetConfig,
    pub agents: AgentsConfig,
    pub schedules: Schedules,
    pub policy: Policy,
    pub secrets: Secrets,
}

impl Config {
    /// Load and validate every config file; the first problem found is the error.
    pub fn load(home: &Home) -> Result<Self, ConfigError> {
        Ok(Self {
            target: read(&home.config_file("target.yaml"), TargetConfig::parse)?,
            agents: read(&home.config_file("agents.yaml"), AgentsConfig::parse)?,
            schedules: read(&home.config_file("schedules.yaml"), Schedules::parse)?,
            policy: read(&home.config_file("policy.yaml"), Policy::parse)?,
            secrets: Secrets::load(&home.env_file())?,
        })
    }

    /// Every problem in every config file (for `doctor`), not just the first.
    pub fn problems(home: &Home) -> Vec<FileProblem> {
        let checks = [
            read(&home.config_file("target.yaml"), TargetConfig::parse).err(),
            read(&home.config_file("agents.yaml"), AgentsConfig::parse).err(),
            read(&home.config_file("schedules.yaml"), Schedules::parse).err(),
            read(&home.config_file("policy.yaml"), Policy::parse).err(),
            Secrets::load(&home.env_file()).err(),
        ];
        checks.into_iter().flatten().collect()
    }
}

fn read<T: Default>(
    path: &Path,
    parse: fn(&Path, &str) -> Result<T, FileProblem>,
) -> Result<T, FileProblem> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(FileProblem::new(
            At::file(path),
            format!("cannot read: {e}"),
            "check the file's permissions",
        )),
    }
}
