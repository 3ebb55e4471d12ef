//! config/policy.yaml: what agents may change and merge. Enforced in code, never by a model.

use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::yaml;
use crate::error::{At, FileProblem};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoMerge {
    None,
    Low,
    Medium,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default = "default_auto_merge")]
    auto_merge: AutoMerge,
    #[serde(default)]
    protected_paths: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    never_touch: Vec<Spanned<String>>,
    #[serde(default = "default_max_files")]
    max_files_changed: u32,
    #[serde(default = "default_max_lines")]
    max_lines_changed: u32,
}

impl Default for RawPolicy {
    fn default() -> Self {
        Self {
            auto_merge: default_auto_merge(),
            protected_paths: None,
            never_touch: Vec::new(),
            max_files_changed: default_max_files(),
            max_lines_changed: default_max_lines(),
        }
    }
}

fn default_auto_merge() -> AutoMerge {
    AutoMerge::Low
}
fn default_max_files() -> u32 {
    20
}
fn default_max_lines() -> u32 {
    400
}

/// Paths that are protected when policy.yaml does not say otherwise.
pub const DEFAULT_PROTECTED: [&str; 4] = [
    "**/migrations/**",
    "**/settings.py",
    ".github/**",
    "Dockerfile",
];

/// The validated policy, with its globs compiled.
#[derive(Debug, Clone)]
pub struct Policy {
    pub auto_merge: AutoMerge,
    pub protected_paths: PathRules,
    pub never_touch: PathRules,
    pub max_files_changed: u32,
    pub max_lines_changed: u32,
}

/// A list of glob patterns over paths relative to the target's root.
#[derive(Debug, Clone)]
pub struct PathRules {
    pub patterns: Vec<String>,
    set: GlobSet,
}

impl PathRules {
    pub fn matches(&self, relative_path: &str) -> bool {
        self.set.is_match(relative_path)
    }
}

impl Policy {
    pub fn parse(file: &Path, text: &str) -> Result<Self, FileProblem> {
        let raw: RawPolicy = yaml::parse(file, text, 0)?;
        let protected = match raw.protected_paths {
            Some(list) => list,
            None => DEFAULT_PROTECTED
                .iter()
                .map(|p| {
                    Spanned::new(
                        p.to_string(),
                        serde_saphyr::Location::UNKNOWN,
                        serde_saphyr::Location::UNKNOWN,
                    )
                })
                .collect(),
        };
        Ok(Self {
            auto_merge: raw.auto_merge,
            protected_paths: compile(file, "protected_paths", &protected)?,
            never_touch: compile(file, "never_touch", &raw.never_touch)?,
            max_files_changed: raw.max_files_changed,
            max_lines_changed: raw.max_lines_changed,
        })
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::parse(Path::new("config/policy.yaml"), "").expect("defaults are valid")
    }
}

fn compile(file: &Path, key: &str, patterns: &[Spanned<String>]) -> Result<PathRules, FileProblem> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let p = pattern.value.trim();
        let at = At {
            file: file.to_path_buf(),
            line: yaml::line_of(&pattern.referenced, 0),
        };
        let escapes = p.starts_with('/') || p.split('/').any(|part| part == "..");
        if p.is_empty() || escapes {
            return Err(FileProblem::new(
                at,
                format!("`{key}` entry `{p}` is not a path inside the target"),
                "write a glob relative to the target's root, e.g. \"**/migrations/**\" or \"Dockerfile\"",
            ));
        }
        let glob = Glob::new(p).map_err(|e| {
            FileProblem::new(
                at,
                format!("`{key}` entry `{p}` is not a valid glob: {}", e.kind()),
                "fix the pattern",
            )
        })?;
        builder.add(glob);
    }
    let set = builder
        .build()
        .map_err(|e| FileProblem::new(At::file(file), e.to_string(), "fix the patterns"))?;
    Ok(PathRules {
        patterns: patterns
            .iter()
            .map(|p| p.value.trim().to_string())
            .collect(),
        set,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_protect_migrations_and_ci() {
        let p = Policy::default();
        assert!(p.protected_paths.matches("shop/migrations/0001_init.py"));
        assert!(p.protected_paths.matches(".github/workflows/ci.yml"));
        assert!(!p.protected_paths.matches("shop/views.py"));
        assert_eq!(p.auto_merge, AutoMerge::Low);
    }

    #[test]
    fn a_path_that_leaves_the_target_is_refused() {
        let err = Policy::parse(Path::new("p.yaml"), "never_touch:\n  - \"../secrets/**\"\n")
            .unwrap_err();
        assert_eq!(err.at.line, Some(2));
        assert!(err.problem.contains("not a path inside the target"));
    }

    #[test]
    fn bad_auto_merge_word_is_refused() {
        let err = Policy::parse(Path::new("p.yaml"), "auto_merge: always\n").unwrap_err();
        assert!(err.problem.contains("always"), "{err}");
    }
}
