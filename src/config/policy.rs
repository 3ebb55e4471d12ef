//! config/policy.yaml: what agents may change and merge. Enforced in code, never by a model.

use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::yaml;
use crate::problem::{At, FileProblem};

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
    #[serde(default = "default_max_coverage_drop")]
    max_coverage_drop: Spanned<Option<f64>>,
    #[serde(default)]
    sandbox: RawSandbox,
    #[serde(default = "default_max_consecutive_failures")]
    max_consecutive_failures: u32,
}

impl Default for RawPolicy {
    fn default() -> Self {
        Self {
            auto_merge: default_auto_merge(),
            protected_paths: None,
            never_touch: Vec::new(),
            max_files_changed: default_max_files(),
            max_lines_changed: default_max_lines(),
            max_coverage_drop: default_max_coverage_drop(),
            sandbox: RawSandbox::default(),
            max_consecutive_failures: default_max_consecutive_failures(),
        }
    }
}

/// Tasks failed in a row before the work loop pauses itself (`dayshift resume` clears it).
pub const DEFAULT_MAX_CONSECUTIVE_FAILURES: u32 = 3;
fn default_max_consecutive_failures() -> u32 {
    DEFAULT_MAX_CONSECUTIVE_FAILURES
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
/// Percentage points of total coverage a change may lose before review holds it.
pub const DEFAULT_MAX_COVERAGE_DROP: f64 = 1.0;
fn default_max_coverage_drop() -> Spanned<Option<f64>> {
    Spanned::new(
        Some(DEFAULT_MAX_COVERAGE_DROP),
        serde_saphyr::Location::UNKNOWN,
        serde_saphyr::Location::UNKNOWN,
    )
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
    /// The most total coverage a change may lose, in percentage points (0–100), when QA
    /// measures coverage; `None` (`max_coverage_drop: null`) checks no drop.
    pub max_coverage_drop: Option<f64>,
    pub sandbox: SandboxPolicy,
    /// Tasks failed in a row (dayshift's verdicts, not a person's moves) after which the
    /// work loop pauses itself with the reason (`PAUSED`); 0 never pauses.
    pub max_consecutive_failures: u32,
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

    /// The first pattern that matches `relative_path`, as written (to quote the rule).
    pub fn matching(&self, relative_path: &str) -> Option<&str> {
        self.set
            .matches(relative_path)
            .first()
            .and_then(|i| self.patterns.get(*i))
            .map(String::as_str)
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
            max_coverage_drop: coverage_drop(file, &raw.max_coverage_drop)?,
            sandbox: SandboxPolicy::from_raw(file, raw.sandbox)?,
            max_consecutive_failures: raw.max_consecutive_failures,
        })
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::parse(Path::new("config/policy.yaml"), "").expect("defaults are valid")
    }
}

/// `max_coverage_drop`: percentage points between 0 and 100.
fn coverage_drop(file: &Path, entry: &Spanned<Option<f64>>) -> Result<Option<f64>, FileProblem> {
    match entry.value {
        Some(points) if !(0.0..=100.0).contains(&points) => Err(FileProblem::new(
            At {
                file: file.to_path_buf(),
                line: yaml::line_of(&entry.referenced, 0),
            },
            format!("`max_coverage_drop` is {points}; it is percentage points between 0 and 100"),
            "write e.g. `max_coverage_drop: 1.0` (the most coverage a change may lose), or `null` to check no drop",
        )),
        value => Ok(value),
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

/// `sandbox.mode`: what happens when confinement is not available on this machine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxMode {
    /// Refuse to run work without confinement.
    Required,
    /// Confine when the machine can, else run unconfined with a warning (every check that
    /// does not need the sandbox still holds).
    #[default]
    BestEffort,
    /// Never confine.
    Off,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSandbox {
    #[serde(default)]
    mode: SandboxMode,
    #[serde(default)]
    read: Vec<Spanned<String>>,
    #[serde(default)]
    write: Vec<Spanned<String>>,
    #[serde(default)]
    network: bool,
}

/// `sandbox:` in policy.yaml: how the coding tool and the target's commands are confined
/// (see [`crate::sandbox`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxPolicy {
    pub mode: SandboxMode,
    /// Extra paths a toolchain needs, re-exposed read-only (absolute, `~/` expanded).
    pub read: Vec<std::path::PathBuf>,
    /// Extra paths re-exposed writable.
    pub write: Vec<std::path::PathBuf>,
    /// Network for the target's commands (the coding tool always keeps the host's: it
    /// must reach its model).
    pub network: bool,
}

impl SandboxPolicy {
    fn from_raw(file: &Path, raw: RawSandbox) -> Result<Self, FileProblem> {
        let paths = |key: &str, list: &[Spanned<String>]| {
            list.iter()
                .map(|p| sandbox_path(file, key, p))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            mode: raw.mode,
            read: paths("sandbox.read", &raw.read)?,
            write: paths("sandbox.write", &raw.write)?,
            network: raw.network,
        })
    }
}

/// An absolute path (or `~/…`, under the HOME dayshift runs with), without `..`.
fn sandbox_path(
    file: &Path,
    key: &str,
    entry: &Spanned<String>,
) -> Result<std::path::PathBuf, FileProblem> {
    let text = entry.value.trim();
    let at = At {
        file: file.to_path_buf(),
        line: yaml::line_of(&entry.referenced, 0),
    };
    let expanded = match text.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME").map(|h| Path::new(&h).join(rest)),
        None => Some(Path::new(text).to_path_buf()),
    };
    match expanded {
        Some(path)
            if path.is_absolute()
                && path.components().count() > 1
                && !path
                    .components()
                    .any(|c| c == std::path::Component::ParentDir) =>
        {
            Ok(path)
        }
        _ => Err(FileProblem::new(
            at,
            format!("`{key}` entry `{text}` is not an absolute path below /"),
            "write a full path such as /opt/toolchain or ~/.cache/pip (no `..`)",
        )),
    }
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
    fn sandbox_keys_are_typed_and_checked() {
        let p = Policy::default();
        assert_eq!(p.sandbox.mode, SandboxMode::BestEffort);
        assert!(!p.sandbox.network && p.sandbox.read.is_empty());
        let p = Policy::parse(
            Path::new("p.yaml"),
            "sandbox:\n  mode: required\n  read: [/opt/jdk]\n  write: [\"/var/cache/x\"]\n  network: true\n",
        )
        .unwrap();
        assert_eq!(p.sandbox.mode, SandboxMode::Required);
        assert_eq!(p.sandbox.read, [Path::new("/opt/jdk")]);
        assert_eq!(p.sandbox.write, [Path::new("/var/cache/x")]);
        assert!(p.sandbox.network);
        for (yaml, line, words) in [
            ("sandbox:\n  mode: strict\n", 2, "strict"),
            (
                "sandbox:\n  write:\n    - relative/dir\n",
                3,
                "not an absolute path",
            ),
            ("sandbox:\n  read: [\"/\"]\n", 2, "not an absolute path"),
            (
                "sandbox:\n  read: [/opt/../etc]\n",
                2,
                "not an absolute path",
            ),
            ("sandbox:\n  netwrk: true\n", 2, "netwrk"),
        ] {
            let err = Policy::parse(Path::new("p.yaml"), yaml).unwrap_err();
            assert_eq!(err.at.line, Some(line), "{yaml}: {err}");
            assert!(err.to_string().contains(words), "{yaml}: {err}");
        }
    }

    #[test]
    fn max_coverage_drop_is_percentage_points_between_0_and_100() {
        assert_eq!(Policy::default().max_coverage_drop, Some(1.0));
        let p = Policy::parse(Path::new("p.yaml"), "max_coverage_drop: 2.5\n").unwrap();
        assert_eq!(p.max_coverage_drop, Some(2.5));
        let p = Policy::parse(Path::new("p.yaml"), "max_coverage_drop: 0\n").unwrap();
        assert_eq!(p.max_coverage_drop, Some(0.0));
        let p = Policy::parse(Path::new("p.yaml"), "max_coverage_drop: null\n").unwrap();
        assert_eq!(p.max_coverage_drop, None);
        for yaml in [
            "auto_merge: low\nmax_coverage_drop: -3\n",
            "auto_merge: low\nmax_coverage_drop: 101\n",
            "auto_merge: low\nmax_coverage_drop: .nan\n",
        ] {
            let err = Policy::parse(Path::new("config/policy.yaml"), yaml).unwrap_err();
            assert_eq!(err.at.line, Some(2), "{yaml}: {err}");
            assert!(err.at.file.ends_with("config/policy.yaml"));
            assert!(
                err.problem.contains("max_coverage_drop")
                    && err.problem.contains("between 0 and 100"),
                "{err}"
            );
        }
        let err = Policy::parse(Path::new("p.yaml"), "max_coverage_drop: lots\n").unwrap_err();
        assert_eq!(err.at.line, Some(1), "{err}");
    }

    #[test]
    fn bad_auto_merge_word_is_refused() {
        let err = Policy::parse(Path::new("p.yaml"), "auto_merge: always\n").unwrap_err();
        assert!(err.problem.contains("always"), "{err}");
    }
}
