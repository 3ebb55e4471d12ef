//! config/target.yaml: the repository the agents work on.

use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

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
    #[serde(default)]
    pub build_command: Option<String>,
    #[serde(default)]
    pub deploy_command: Option<String>,
    /// Optional: without it, dayshift works local-only.
    #[serde(default)]
    pub github: Option<GithubTarget>,
    /// Days the branch of a completed or failed task is kept in the clone (for a person to
    /// look at) before a work run deletes it.
    #[serde(default = "default_keep_branches_days")]
    pub keep_branches_days: u32,
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
            build_command: None,
            deploy_command: None,
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
        Ok(config)
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
    fn bad_branch_is_refused() {
        let err = TargetConfig::parse(Path::new("t.yaml"), "base_branch: \"../x\"\n").unwrap_err();
        assert!(err.problem.contains("not a valid git branch"), "{err}");
    }
}
