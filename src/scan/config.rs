//! `config/scan.yaml` (optional; in a home's config/, or `scan PATH --config FILE`): which
//! analyzers run, other tools that write SARIF 2.1.0, semgrep's rules, and the monitor's
//! settings (findings to tasks, code health, performance). Every problem names its file,
//! its line and what to write; a missing file means the defaults.
//!
//! ```yaml
//! analyzers: [builtin, ruff, bandit]      # default: every known one
//! tools:
//!   - name: codeql
//!     command: [codeql-wrapper, "{root}"]
//!     extensions: [py, js]                 # optional: re-run only when such files change
//! semgrep_config: config/semgrep-rules.yaml
//! findings_to_tasks: {min_severity: high, max_tasks_per_day: 3}
//! code_health: {max_file_lines: 1000, max_function_lines: 80, max_complexity: 15, todo_max_age_days: 180}
//! performance: {threshold: 0.10}
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::Severity;
use super::analyzers::Analyzer;
use super::health::HealthLimits;
use super::outdated::registry::Registries;
use crate::config::yaml;
use crate::problem::{At, FileProblem};

/// The file's name in a home's config/.
pub use crate::config::SCAN_CONFIG;

/// `config/scan.yaml`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanConfig {
    /// The analyzers asked for, in order (each still used only when installed and when the
    /// tree has what it reads).
    pub analyzers: Vec<Analyzer>,
    /// Other tools writing SARIF 2.1.0 to stdout.
    pub tools: Vec<Tool>,
    /// semgrep's rules file (absolute).
    pub semgrep_config: Option<PathBuf>,
    pub findings_to_tasks: FindingsToTasks,
    pub code_health: HealthLimits,
    pub performance: Performance,
    /// Where the `outdated` analyzer asks for latest versions.
    pub registries: Registries,
}

/// A configured SARIF tool.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    /// argv; an argument `{root}` stands for the scanned root.
    pub command: Vec<String>,
    /// It is re-run only when files with these extensions change (empty: any file).
    #[serde(default)]
    pub extensions: Vec<String>,
}

impl Tool {
    pub fn analyzer(&self) -> Analyzer {
        Analyzer::Sarif {
            name: self.name.clone(),
            command: self.command.clone(),
        }
    }
}

/// Which findings become backlog tasks (the monitor job).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FindingsToTasks {
    pub min_severity: Severity,
    pub max_tasks_per_day: u32,
    /// Whether a finding in a test file (tests/, test_*.py, *.spec.ts …) becomes a task: a
    /// test may pickle its own data or call eval on purpose. A secret always does.
    pub tests: bool,
}

impl Default for FindingsToTasks {
    fn default() -> Self {
        Self {
            min_severity: Severity::High,
            max_tasks_per_day: 3,
            tests: false,
        }
    }
}

impl FindingsToTasks {
    /// Whether `finding` is one the policy makes tasks of (its severity aside).
    pub fn takes(&self, finding: &super::Finding) -> bool {
        let secret = finding.analyzer == "gitleaks" || finding.rule.starts_with("secrets.");
        self.tests || secret || !crate::review::policy::is_test_path(&finding.file)
    }
}

/// A bench slower than its last run by more than `threshold` (0.10 = 10 %) is a finding.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Performance {
    pub threshold: f64,
}

impl Default for Performance {
    fn default() -> Self {
        Self { threshold: 0.10 }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    analyzers: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    tools: Vec<Spanned<Tool>>,
    #[serde(default)]
    semgrep_config: Option<Spanned<PathBuf>>,
    #[serde(default)]
    findings_to_tasks: Option<Spanned<FindingsToTasks>>,
    #[serde(default)]
    code_health: Option<Spanned<HealthLimits>>,
    #[serde(default)]
    performance: Option<Spanned<Performance>>,
    #[serde(default)]
    registries: Option<Spanned<Registries>>,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            analyzers: Analyzer::defaults(),
            tools: Vec::new(),
            semgrep_config: None,
            findings_to_tasks: FindingsToTasks::default(),
            code_health: HealthLimits::default(),
            performance: Performance::default(),
            registries: Registries::default(),
        }
    }
}

impl ScanConfig {
    /// Read `file`; `required`: it must exist (`--config FILE`), else missing = defaults.
    /// `base` is what a relative `semgrep_config` is relative to (the home).
    pub fn load(file: &Path, base: &Path, required: bool) -> Result<Self, FileProblem> {
        match std::fs::read_to_string(file) {
            Ok(text) => parse(file, &text, base),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(Self::default()),
            Err(e) => Err(FileProblem::new(
                At::file(file),
                format!("cannot be read: {e}"),
                "check the path (`--config` names a scan.yaml)",
            )),
        }
    }

    /// Whether `builtin` was left out of `analyzers`: the scan says so, it is never silent.
    pub fn without_builtin(&self) -> bool {
        !self.analyzers.contains(&Analyzer::Builtin)
    }
}

/// `text`, the contents of `file`, checked.
pub fn parse(file: &Path, text: &str, base: &Path) -> Result<ScanConfig, FileProblem> {
    let raw: Raw = yaml::parse(file, text, 0)?;
    let at = |span: &serde_saphyr::Location| yaml::at(file, span);
    let defaults = ScanConfig::default();
    let analyzers = match raw.analyzers {
        None => defaults.analyzers,
        Some(names) => names
            .iter()
            .map(|name| {
                Analyzer::named(&name.value).ok_or_else(|| {
                    FileProblem::new(
                        at(&name.referenced),
                        format!("`{}` is not an analyzer dayshift knows", name.value),
                        format!(
                            "use some of {}; any other tool writing SARIF goes under `tools:`",
                            Analyzer::KNOWN.join(", ")
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let mut tools: Vec<Tool> = Vec::new();
    for tool in raw.tools {
        check_tool(&tool.value, &tools, at(&tool.referenced))?;
        tools.push(tool.value);
    }
    let semgrep_config = match raw.semgrep_config {
        None => None,
        Some(path) => {
            let full = base.join(&path.value);
            if !full.is_file() {
                return Err(FileProblem::new(
                    at(&path.referenced),
                    format!("semgrep's rules {} are not there", full.display()),
                    "write the rules file there, or fix `semgrep_config` (relative to the home)",
                ));
            }
            Some(full)
        }
    };
    let findings_to_tasks = spanned_or_default(file, raw.findings_to_tasks, |f, line| {
        positive(
            f.max_tasks_per_day,
            "findings_to_tasks.max_tasks_per_day",
            line,
        )
    })?;
    let code_health = spanned_or_default(file, raw.code_health, |c, line| {
        positive(c.max_file_lines, "code_health.max_file_lines", line)?;
        positive(c.max_function_lines, "code_health.max_function_lines", line)?;
        positive(c.max_complexity, "code_health.max_complexity", line)?;
        positive(c.todo_max_age_days, "code_health.todo_max_age_days", line)
    })?;
    let performance = spanned_or_default(file, raw.performance, |p, line| {
        if p.threshold > 0.0 && p.threshold <= 10.0 {
            Ok(())
        } else {
            Err(FileProblem::new(
                line.clone(),
                format!("performance.threshold is {}", p.threshold),
                "write a fraction above 0 and at most 10 (0.10: a bench 10 % slower is a finding)",
            ))
        }
    })?;
    let registries = spanned_or_default(file, raw.registries, |r, line| {
        for (key, url) in [("pypi", &r.pypi), ("npm", &r.npm), ("crates", &r.crates)] {
            let parsed = reqwest::Url::parse(url);
            let web = parsed
                .as_ref()
                .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some());
            if !web {
                return Err(FileProblem::new(
                    line.clone(),
                    format!("registries.{key} is `{url}`, not an http(s) URL"),
                    "write the registry's address (https://pypi.org, https://registry.npmjs.org, https://index.crates.io), or leave the key out",
                ));
            }
        }
        Ok(())
    })?;
    Ok(ScanConfig {
        analyzers,
        tools,
        semgrep_config,
        findings_to_tasks,
        code_health,
        performance,
        registries,
    })
}

/// A block's value (or its default) after `check` passes; problems are at the block's line.
fn spanned_or_default<T: Default>(
    file: &Path,
    value: Option<Spanned<T>>,
    check: impl Fn(&T, &At) -> Result<(), FileProblem>,
) -> Result<T, FileProblem> {
    let Some(value) = value else {
        return Ok(T::default());
    };
    check(&value.value, &yaml::at(file, &value.referenced))?;
    Ok(value.value)
}

fn positive(value: u32, key: &str, at: &At) -> Result<(), FileProblem> {
    if value > 0 {
        return Ok(());
    }
    Err(FileProblem::new(
        at.clone(),
        format!("{key} is 0"),
        "write a number above 0",
    ))
}

fn check_tool(tool: &Tool, before: &[Tool], at: At) -> Result<(), FileProblem> {
    let problem = |what: String, fix: &str| Err(FileProblem::new(at.clone(), what, fix));
    if tool.name.trim().is_empty() || tool.name.contains(['/', ' ']) {
        return problem(
            format!("`{}` cannot name a tool", tool.name),
            "name it with a word, e.g. `name: codeql`",
        );
    }
    if Analyzer::named(&tool.name).is_some() || before.iter().any(|t| t.name == tool.name) {
        return problem(
            format!("the tool name `{}` is taken", tool.name),
            "give each tool its own name, not one of the built-in analyzers'",
        );
    }
    if tool.command.first().is_none_or(|p| p.trim().is_empty()) {
        return problem(
            format!("the tool `{}` has no command", tool.name),
            "write its argv, e.g. `command: [codeql-wrapper, \"{root}\"]`",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        parse(Path::new("config/scan.yaml"), text, dir.path())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_template_is_the_defaults_and_a_full_file_is_read() {
        let home = tempfile::tempdir().unwrap();
        let template = include_str!("../../config/scan.yaml");
        let file = Path::new("config/scan.yaml");
        assert_eq!(
            parse(file, template, home.path()).unwrap(),
            ScanConfig::default()
        );
        std::fs::create_dir_all(home.path().join("config")).unwrap();
        std::fs::write(home.path().join("config/rules.yaml"), "rules: []\n").unwrap();
        let text = "analyzers: [ruff, bandit]\ntools:\n  - name: codeql\n    command: [cq, \"{root}\"]\n    extensions: [py]\nsemgrep_config: config/rules.yaml\nfindings_to_tasks: {min_severity: medium}\ncode_health: {max_complexity: 10}\nperformance: {threshold: 0.5}\n";
        let config = parse(file, text, home.path()).unwrap();
        assert_eq!(config.analyzers, [Analyzer::Ruff, Analyzer::Bandit]);
        assert!(config.without_builtin());
        assert_eq!(config.tools[0].extensions, ["py"]);
        assert_eq!(
            config.semgrep_config,
            Some(home.path().join("config/rules.yaml"))
        );
        assert_eq!(config.findings_to_tasks.min_severity, Severity::Medium);
        assert_eq!(config.findings_to_tasks.max_tasks_per_day, 3);
        assert_eq!(config.code_health.max_complexity, 10);
        assert_eq!(config.code_health.max_file_lines, 1000);
        assert_eq!(config.performance.threshold, 0.5);
        let named = parse(
            file,
            "analyzers: [outdated]\nregistries: {pypi: \"http://127.0.0.1:9/\"}\n",
            home.path(),
        )
        .unwrap();
        assert_eq!(named.analyzers, [Analyzer::Outdated]);
        assert_eq!(named.registries.pypi, "http://127.0.0.1:9/");
        assert_eq!(named.registries.npm, "https://registry.npmjs.org");
        assert!(
            !ScanConfig::default()
                .analyzers
                .contains(&Analyzer::Outdated),
            "it asks the network: only when named"
        );
    }

    #[test]
    fn problems_name_the_line_and_what_to_write() {
        for (text, says) in [
            (
                "analyzers:\n  - ruff\n  - rufff\n",
                "scan.yaml:3: `rufff` is not an analyzer",
            ),
            ("analyzers: [nope]\n", "use some of builtin, health, ruff"),
            ("colour: red\n", "scan.yaml:1: unknown field `colour`"),
            ("findings_to_tasks:\n  min_severity: huge\n", "scan.yaml:2"),
            (
                "\ncode_health: {max_file_lines: 0}\n",
                "scan.yaml:2: code_health.max_file_lines is 0",
            ),
            ("performance: {threshold: 11}\n", "above 0 and at most 10"),
            (
                "registries: {npm: \"file:///etc\"}\n",
                "scan.yaml:1: registries.npm is `file:///etc`, not an http(s) URL",
            ),
            (
                "registries: {maven: \"https://x\"}\n",
                "unknown field `maven`",
            ),
            (
                "performance: {threshold: 0}\n",
                "performance.threshold is 0",
            ),
            (
                "semgrep_config: nowhere.yaml\n",
                "scan.yaml:1: semgrep's rules",
            ),
            (
                "tools:\n  - name: ruff\n    command: [x]\n",
                "scan.yaml:2: the tool name `ruff` is taken",
            ),
            ("tools:\n  - name: cq\n    command: []\n", "has no command"),
            (
                "tools:\n  - name: cq\n    command: [x]\n    ext: [py]\n",
                "unknown field `ext`",
            ),
        ] {
            let err = problem(text);
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn findings_in_tests_become_tasks_only_when_asked_but_a_secret_always_does() {
        use crate::scan::{Finding, Severity};
        let at = |analyzer: &str, rule: &str, file: &str| {
            Finding::at(analyzer, rule, Severity::High, file, 3, "x")
        };
        let policy = FindingsToTasks::default();
        assert!(policy.takes(&at("ruff", "S301", "app/cache.py")));
        assert!(!policy.takes(&at("ruff", "S301", "tests/test_more.py")));
        assert!(!policy.takes(&at("builtin", "patterns.python.eval", "src/cart.spec.ts")));
        assert!(policy.takes(&at(
            "builtin",
            "secrets.aws-access-key",
            "tests/conftest.py"
        )));
        assert!(policy.takes(&at("gitleaks", "stripe-access-token", "test/fixtures.js")));
        let with_tests = FindingsToTasks {
            tests: true,
            ..FindingsToTasks::default()
        };
        assert!(with_tests.takes(&at("ruff", "S301", "tests/test_more.py")));
        let parsed = parse(
            Path::new("config/scan.yaml"),
            "findings_to_tasks: {tests: true}\n",
            Path::new("."),
        )
        .unwrap();
        assert!(parsed.findings_to_tasks.tests);
    }
}
