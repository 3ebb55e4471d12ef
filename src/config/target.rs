//! config/target.yaml: the repository the agents work on.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::deploy::{
    HealthCheck, default_deploy_timeout_minutes, default_health_delay_s, line_of_top_key,
    validate_deploy_env, validate_health,
};
pub use super::github::GithubTarget;
use super::yaml;
use crate::problem::{At, FileProblem};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// A git URL or a local path; absent until the person sets it.
    #[serde(default)]
    pub repo: Option<Spanned<String>>,
    #[serde(default = "default_branch")]
    pub base_branch: String,
    #[serde(default)]
    pub test_command: Option<String>,
    #[serde(default)]
    pub lint_command: Option<String>,
    /// Prints a total coverage percentage (coverage.py, lcov, …); optional.
    #[serde(default)]
    pub coverage_command: Option<String>,
    /// Prints the target's benchmark timings; the monitor runs it on each scan of the base
    /// and reports a bench that got slower (optional).
    #[serde(default)]
    pub bench_command: Option<String>,
    /// Minutes the bench command may take (fractions allowed: 0.5 is 30 s).
    #[serde(default = "default_bench_timeout_minutes")]
    pub bench_timeout_minutes: f64,
    #[serde(default)]
    pub build_command: Option<String>,
    #[serde(default)]
    pub deploy_command: Option<String>,
    /// HTTP checks that judge a deploy; none: a deploy that exits 0 is good.
    #[serde(default)]
    pub health: Vec<Spanned<HealthCheck>>,
    /// The only variables build and deploy commands see besides PATH, HOME, LANG, LC_ALL,
    /// TZ and TMPDIR (values from config/.env or the environment).
    #[serde(default)]
    pub deploy_env: Vec<Spanned<String>>,
    /// Minutes the build command, and then the deploy command, may each take.
    #[serde(default = "default_deploy_timeout_minutes")]
    pub deploy_timeout_minutes: u32,
    /// Seconds to wait after a deploy before the first health check.
    #[serde(default = "default_health_delay_s")]
    pub health_delay_s: u64,
    /// Optional: without it, dayshift works local-only.
    #[serde(default)]
    pub github: Option<GithubTarget>,
    /// Days the branch of a completed or failed task is kept in the clone (for a person to
    /// look at) before a work run deletes it.
    #[serde(default = "default_keep_branches_days")]
    pub keep_branches_days: u32,
}

fn default_bench_timeout_minutes() -> f64 {
    30.0
}

fn default_keep_branches_days() -> u32 {
    14
}

fn default_branch() -> String {
    "main".into()
}

impl Default for TargetConfig {
    fn default() -> Self {
        Self {
            repo: None,
            base_branch: default_branch(),
            test_command: None,
            lint_command: None,
            coverage_command: None,
            bench_command: None,
            bench_timeout_minutes: default_bench_timeout_minutes(),
            build_command: None,
            deploy_command: None,
            health: Vec::new(),
            deploy_env: Vec::new(),
            deploy_timeout_minutes: default_deploy_timeout_minutes(),
            health_delay_s: default_health_delay_s(),
            github: None,
            keep_branches_days: default_keep_branches_days(),
        }
    }
}

impl TargetConfig {
    pub fn parse(file: &Path, text: &str) -> Result<Self, FileProblem> {
        let config: Self = yaml::parse(file, text, 0)?;
        let branch = &config.base_branch;
        let bad_branch = branch.is_empty()
            || branch.contains("..")
            || branch.starts_with(['-', '/'])
            || branch
                .chars()
                .any(|c| c.is_whitespace() || "~^:?*[\\".contains(c));
        if bad_branch {
            return Err(FileProblem::new(
                At::file(file),
                format!("`base_branch: {branch}` is not a valid git branch name"),
                "use the name of the target's main branch, e.g. main",
            ));
        }
        if let Some(repo) = &config.repo
            && repo.value.trim().is_empty()
        {
            return Err(FileProblem::new(
                At {
                    file: file.to_path_buf(),
                    line: yaml::line_of(&repo.referenced, 0),
                },
                "`repo` is empty",
                "set it to a git URL or a local path, or remove the key",
            ));
        }
        if let Some(github) = &config.github {
            github.validate(file, text)?;
        }
        validate_health(file, text, &config.health)?;
        validate_deploy_env(file, text, &config.deploy_env)?;
        if !(1..=24 * 60).contains(&config.deploy_timeout_minutes) {
            return Err(FileProblem::new(
                At {
                    file: file.to_path_buf(),
                    line: line_of_top_key(text, "deploy_timeout_minutes"),
                },
                format!(
                    "`deploy_timeout_minutes: {}` is out of range",
                    config.deploy_timeout_minutes
                ),
                "use 1 to 1440 minutes, e.g. 10",
            ));
        }
        if !(config.bench_timeout_minutes > 0.0 && config.bench_timeout_minutes <= 24.0 * 60.0) {
            return Err(FileProblem::new(
                At {
                    file: file.to_path_buf(),
                    line: line_of_top_key(text, "bench_timeout_minutes"),
                },
                format!(
                    "`bench_timeout_minutes: {}` is out of range",
                    config.bench_timeout_minutes
                ),
                "use more than 0 and at most 1440 minutes, e.g. 30",
            ));
        }
        Ok(config)
    }

    /// The health checks, without their places in the file.
    pub fn health_checks(&self) -> Vec<HealthCheck> {
        self.health.iter().map(|c| c.value.clone()).collect()
    }

    /// The variables build and deploy commands may see, besides the base ones.
    pub fn deploy_env_names(&self) -> Vec<String> {
        self.deploy_env.iter().map(|n| n.value.clone()).collect()
    }

    /// How long the build command, and then the deploy command, may each take.
    pub fn deploy_timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.deploy_timeout_minutes) * 60)
    }

    /// How long the bench command may take.
    pub fn bench_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.bench_timeout_minutes * 60.0)
    }

    /// How long to wait after a deploy before checking its health.
    pub fn health_delay(&self) -> Duration {
        Duration::from_secs(self.health_delay_s)
    }

    /// The repository as written, if set.
    pub fn repo(&self) -> Option<&str> {
        self.repo.as_ref().map(|r| r.value.as_str())
    }
}

/// True when `repo` names a local path rather than a URL (`https://`, `ssh://`, `git@host:`).
pub fn is_local_path(repo: &str) -> bool {
    !(repo.contains("://") || (repo.contains('@') && repo.contains(':')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_example_parses() {
        let t = TargetConfig::parse(
            Path::new("t.yaml"),
            "repo: https://github.com/acme/shop.git\nbase_branch: main\ntest_command: pytest -q\nlint_command: ruff check .\ngithub: {owner: acme, repo: shop}\n",
        )
        .unwrap();
        assert_eq!(t.repo(), Some("https://github.com/acme/shop.git"));
        assert!(!is_local_path(t.repo().unwrap()));
        assert!(is_local_path("../shop"));
        assert!(!is_local_path("git@github.com:acme/shop.git"));
    }

    #[test]
    fn the_bench_command_is_optional_and_its_timeout_in_range() {
        let t = TargetConfig::parse(Path::new("t.yaml"), "base_branch: main\n").unwrap();
        assert_eq!(t.bench_command, None);
        assert_eq!(t.bench_timeout(), Duration::from_secs(30 * 60));
        let t = TargetConfig::parse(
            Path::new("t.yaml"),
            "bench_command: cargo bench\nbench_timeout_minutes: 0.5\n",
        )
        .unwrap();
        assert_eq!(t.bench_command.as_deref(), Some("cargo bench"));
        assert_eq!(t.bench_timeout(), Duration::from_secs(30));
        for bad in ["0", "-1", "2000", ".nan"] {
            let err = TargetConfig::parse(
                Path::new("t.yaml"),
                &format!("base_branch: main\nbench_timeout_minutes: {bad}\n"),
            )
            .unwrap_err();
            assert!(err.problem.contains("out of range"), "{bad}: {err}");
            assert_eq!(err.at.line, Some(2), "{bad}: {err}");
        }
    }

    #[test]
    fn bad_branch_is_refused() {
        let err = TargetConfig::parse(Path::new("t.yaml"), "base_branch: \"../x\"\n").unwrap_err();
        assert!(err.problem.contains("not a valid git branch"), "{err}");
    }
}
