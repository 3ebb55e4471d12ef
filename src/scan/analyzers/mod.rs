//! The analyzers' adapters: run a tool on a tree and read what it reports into
//! [`super::Finding`]s. Each is used only when installed.
//!
//! - code: [`ruff`], [`bandit`], [`semgrep`] (with the rules it is given), [`eslint`],
//!   [`clippy`]; secrets: [`gitleaks`];
//! - dependencies with known vulnerabilities: [`osv_scanner`], [`pip_audit`],
//!   [`cargo_audit`], [`npm_audit`];
//! - [`sarif`]: any SARIF 2.1.0 log, so any tool that writes one is a config entry.
//!
//! [`run`] (in `launch.rs`) is the one way to start an analyzer; [`Analyzer::scope`] and
//! [`Analyzer::applies`] (in `scope.rs`) say what it reads. The parsers are pure functions of
//! the tool's output and the scanned root, tested on outputs captured from the real tools
//! (or, for a tool that cannot run here, written from its documented format).

pub mod advisory;
pub mod bandit;
pub mod cargo_audit;
pub mod clippy;
pub mod eslint;
pub mod gitleaks;
mod launch;
pub mod npm_audit;
pub mod osv_scanner;
pub mod pip_audit;
pub mod ruff;
pub mod sarif;
mod scope;
pub mod semgrep;

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::{Finding, Severity};
use crate::process::NETWORK_ENV;

pub use launch::{OUTPUT_CAP, find_program, run, run_sarif, version};
pub use scope::{Scope, matches};

/// An analyzer dayshift knows how to run and read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Analyzer {
    /// dayshift's own layers (secrets, dangerous patterns, syntax): run in process by the
    /// scan, never as a program.
    Builtin,
    /// dayshift's code-health monitor ([`crate::scan::health`]: size, complexity,
    /// duplication, TODO age), in process too.
    Health,
    /// Direct dependencies a major version behind their registry's latest
    /// ([`crate::scan::outdated`]), in process; asks the network, so only when named.
    Outdated,
    Ruff,
    Bandit,
    /// semgrep with a rules file or folder; `None` (its registry is on the internet) is
    /// not run, and says how to configure it.
    Semgrep {
        rules: Option<PathBuf>,
    },
    Gitleaks,
    OsvScanner,
    PipAudit,
    CargoAudit,
    NpmAudit,
    Clippy,
    Eslint,
    /// A configured tool that writes SARIF 2.1.0 to stdout: `command` is its argv, where an
    /// argument `{root}` stands for the scanned root (it also runs in the root).
    Sarif {
        name: String,
        command: Vec<String>,
    },
}

/// What the cargo tools need besides the base environment: where cargo and rustup live.
const CARGO_ENV: [&str; 3] = ["CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN"];

impl Analyzer {
    /// Every analyzer a config can name, in the order scans list them.
    pub const KNOWN: &'static [&'static str] = &[
        "builtin",
        "health",
        "ruff",
        "bandit",
        "semgrep",
        "gitleaks",
        "osv-scanner",
        "pip-audit",
        "cargo-audit",
        "npm-audit",
        "clippy",
        "eslint",
        "outdated",
    ];

    /// What a scan runs when `config/scan.yaml` does not say: every known analyzer but
    /// `outdated`, which asks the network.
    pub fn defaults() -> Vec<Analyzer> {
        Self::KNOWN
            .iter()
            .filter_map(|n| Analyzer::named(n))
            .filter(|a| *a != Analyzer::Outdated)
            .collect()
    }

    /// The analyzer called `name` (one of [`Analyzer::KNOWN`]); semgrep without rules.
    pub fn named(name: &str) -> Option<Analyzer> {
        Some(match name {
            "builtin" => Analyzer::Builtin,
            "health" => Analyzer::Health,
            "ruff" => Analyzer::Ruff,
            "bandit" => Analyzer::Bandit,
            "semgrep" => Analyzer::Semgrep { rules: None },
            "gitleaks" => Analyzer::Gitleaks,
            "osv-scanner" => Analyzer::OsvScanner,
            "pip-audit" => Analyzer::PipAudit,
            "cargo-audit" => Analyzer::CargoAudit,
            "npm-audit" => Analyzer::NpmAudit,
            "clippy" => Analyzer::Clippy,
            "eslint" => Analyzer::Eslint,
            "outdated" => Analyzer::Outdated,
            _ => return None,
        })
    }

    /// Whether running it runs the scanned tree's own code: clippy builds the crate (its
    /// build scripts and procedural macros run), eslint loads the tree's config and the
    /// plugins it names. Such an analyzer runs confined, as QA's tests do
    /// ([`crate::scan::analyze::Setup::tree_code`]).
    pub fn runs_tree_code(&self) -> bool {
        matches!(self, Analyzer::Clippy | Analyzer::Eslint)
    }

    /// Whether the program only reads the tree and leaves no process behind: it runs none
    /// of the tree's code, installs nothing, starts no daemon. Killing its process group
    /// when it ends is then enough, and the `/proc` hunt for escaped descendants — a walk
    /// of every process on the machine, while it runs and when it ends
    /// ([`crate::process::Spec::whole_tree`]) — is spared. pip-audit (pip is part of it,
    /// even told not to install), npm, clippy, eslint and configured SARIF tools are hunted.
    pub fn leaves_no_orphans(&self) -> bool {
        matches!(
            self,
            Analyzer::Ruff
                | Analyzer::Bandit
                | Analyzer::Semgrep { .. }
                | Analyzer::Gitleaks
                | Analyzer::OsvScanner
                | Analyzer::CargoAudit
        )
    }

    /// Whether it runs inside dayshift rather than as a program.
    pub fn in_process(&self) -> bool {
        matches!(
            self,
            Analyzer::Builtin | Analyzer::Health | Analyzer::Outdated
        )
    }

    /// The name findings carry and logs use (a SARIF tool's own name is in its findings).
    pub fn name(&self) -> &str {
        match self {
            Analyzer::Sarif { name, .. } => name,
            Analyzer::Builtin => "builtin",
            Analyzer::Health => "health",
            Analyzer::Outdated => "outdated",
            Analyzer::Ruff => "ruff",
            Analyzer::Bandit => "bandit",
            Analyzer::Semgrep { .. } => "semgrep",
            Analyzer::Gitleaks => "gitleaks",
            Analyzer::OsvScanner => "osv-scanner",
            Analyzer::PipAudit => "pip-audit",
            Analyzer::CargoAudit => "cargo-audit",
            Analyzer::NpmAudit => "npm-audit",
            Analyzer::Clippy => "clippy",
            Analyzer::Eslint => "eslint",
        }
    }

    /// The program to look for ([`find_program`]): `npm` for npm-audit, `cargo` for
    /// clippy, a SARIF tool's first argument, else the analyzer's name.
    pub fn program(&self) -> &str {
        match self {
            Analyzer::NpmAudit => "npm",
            Analyzer::Clippy => "cargo",
            Analyzer::Sarif { command, .. } => command.first().map_or("", String::as_str),
            other => other.name(),
        }
    }

    /// What a person does when the tool is missing.
    pub fn install_hint(&self) -> String {
        let how = match self {
            Analyzer::Builtin | Analyzer::Health | Analyzer::Outdated => "it is part of dayshift",
            Analyzer::Ruff => "install it with `pip install ruff`",
            Analyzer::Bandit => "install it with `pip install bandit`",
            Analyzer::Semgrep { .. } => "install it with `pip install semgrep`",
            Analyzer::Gitleaks => {
                "install gitleaks 8.19 or later from https://github.com/gitleaks/gitleaks/releases"
            }
            Analyzer::OsvScanner => {
                "install osv-scanner 2 from https://github.com/google/osv-scanner/releases"
            }
            Analyzer::PipAudit => "install it with `pip install pip-audit`",
            Analyzer::CargoAudit => "install it with `cargo install cargo-audit --locked`",
            Analyzer::NpmAudit => "install Node.js, which comes with npm",
            Analyzer::Clippy => "install it with `rustup component add clippy`",
            Analyzer::Eslint => "install it with `npm i -g eslint`",
            Analyzer::Sarif { name, command } => {
                return format!(
                    "install `{}` or change the command of `{name}` in config/scan.yaml",
                    command.first().map(String::as_str).unwrap_or("")
                );
            }
        };
        how.to_string()
    }

    /// The variables it gets from dayshift's environment besides [`crate::process::BASE_ENV`]:
    /// the network's for the tools that fetch a vulnerability database, cargo's for cargo.
    fn environment(&self) -> Vec<&'static str> {
        let fetches = matches!(
            self,
            Analyzer::OsvScanner | Analyzer::PipAudit | Analyzer::NpmAudit | Analyzer::CargoAudit
        );
        let cargo = matches!(self, Analyzer::CargoAudit | Analyzer::Clippy);
        let network: &[&'static str] = if fetches { &NETWORK_ENV } else { &[] };
        let cargo_env: &[&'static str] = if cargo { &CARGO_ENV } else { &[] };
        network.iter().chain(cargo_env).copied().collect()
    }

    /// The settings files it is given, written beside its `log` before each run, so none of
    /// the scanned tree's own is read: bandit's empty settings, gitleaks' default rules and
    /// an empty ignore list, osv-scanner's empty settings.
    pub fn settings(&self, log: &Path) -> Vec<(PathBuf, &'static str)> {
        match self {
            Analyzer::Bandit => vec![(log.with_extension("ini"), bandit::EMPTY_INI)],
            Analyzer::OsvScanner => vec![(log.with_extension("toml"), osv_scanner::SETTINGS)],
            Analyzer::Gitleaks => gitleaks::settings(log).to_vec(),
            _ => Vec::new(),
        }
    }

    /// Where it runs: the root, but cargo-audit runs in its `log`'s folder (it reads
    /// `./.cargo/audit.toml` where it runs, and a tree's own would hide advisories), and npm
    /// audit beside its log, on a copy of the project ([`npm_audit::copy_project`]: a
    /// tree's `.npmrc` would send the audit elsewhere).
    pub fn runs_in(&self, root: &Path, log: &Path) -> PathBuf {
        match (self, log.parent()) {
            (Analyzer::CargoAudit, Some(logs)) => logs.to_path_buf(),
            (Analyzer::NpmAudit, _) => log.with_extension("project"),
            _ => root.to_path_buf(),
        }
    }

    /// Its arguments for scanning `root`, or only `files` in it (after the program itself);
    /// `log` is where its output goes (bandit's empty settings file and clippy's build
    /// folder are kept beside it).
    pub fn args(&self, root: &Path, files: Option<&[String]>, log: &Path) -> Vec<String> {
        let targets = scope::targets(self, root, files);
        match self {
            Analyzer::Builtin | Analyzer::Health | Analyzer::Outdated => Vec::new(),
            Analyzer::Ruff => ruff::args(&ruff::default_select(), targets),
            Analyzer::Bandit => bandit::args(targets, &log.with_extension("ini")),
            Analyzer::Semgrep { rules } => {
                semgrep::args(rules.as_deref().unwrap_or(Path::new("")), root, targets)
            }
            Analyzer::Gitleaks => gitleaks::args(root, log),
            Analyzer::OsvScanner => osv_scanner::args(root, &log.with_extension("toml")),
            Analyzer::PipAudit => pip_audit::args(root),
            Analyzer::CargoAudit => cargo_audit::args(root),
            Analyzer::NpmAudit => npm_audit::args(),
            Analyzer::Clippy => clippy::args(&log.with_extension("target")),
            Analyzer::Eslint => eslint::args(targets),
            Analyzer::Sarif { command, .. } => {
                let root_arg = root.display().to_string();
                command
                    .iter()
                    .skip(1)
                    .map(|arg| arg.replace("{root}", &root_arg))
                    .collect()
            }
        }
    }

    /// Exit codes that mean "it ran" (a finding is not a failure).
    fn ran(&self, code: i32) -> bool {
        match self {
            // --exit-zero: anything else is ruff's own error
            Analyzer::Ruff | Analyzer::Builtin | Analyzer::Health | Analyzer::Outdated => {
                code == 0
            }
            // 1 means findings (semgrep only with --error, never set here)
            Analyzer::Bandit
            | Analyzer::Semgrep { .. }
            | Analyzer::Gitleaks
            | Analyzer::OsvScanner
            | Analyzer::PipAudit
            | Analyzer::CargoAudit
            | Analyzer::Eslint
            // npm audit also says 1 when it failed: its JSON then has an `error`, read as one
            | Analyzer::NpmAudit
            | Analyzer::Sarif { .. } => code == 0 || code == 1,
            // 101: a deny-by-default lint or a compile error, reported as findings
            Analyzer::Clippy => code == 0 || code == 101,
        }
    }

    fn parse(&self, stdout: &str, root: &Path) -> Result<Vec<Finding>, String> {
        match self {
            Analyzer::Builtin | Analyzer::Health | Analyzer::Outdated => Ok(Vec::new()),
            Analyzer::Ruff => ruff::parse(stdout, root),
            Analyzer::Bandit => {
                let report = bandit::parse(stdout, root)?;
                for skipped in &report.unparsed {
                    tracing::warn!(
                        "bandit could not read {}: {} (not a finding; ruff reports syntax errors)",
                        skipped.file,
                        skipped.reason
                    );
                }
                Ok(report.findings)
            }
            Analyzer::Semgrep { .. } => semgrep::parse(stdout, root),
            Analyzer::Gitleaks => gitleaks::parse(stdout, root),
            Analyzer::OsvScanner => osv_scanner::parse(stdout, root),
            Analyzer::PipAudit => pip_audit::parse(stdout, root),
            Analyzer::CargoAudit => cargo_audit::parse(stdout, root),
            Analyzer::NpmAudit => npm_audit::parse(stdout, root),
            Analyzer::Clippy => clippy::parse(stdout, root),
            Analyzer::Eslint => eslint::parse(stdout, root),
            Analyzer::Sarif { name, .. } => sarif::parse(stdout, root, name),
        }
    }
}

/// A tool's arguments: `fixed` options, then `rest` (paths, values computed at run time).
fn arguments(fixed: &[&str], rest: impl IntoIterator<Item = String>) -> Vec<String> {
    fixed.iter().map(|a| a.to_string()).chain(rest).collect()
}

/// GitHub code scanning's reading of a CVSS-like score (SARIF's `security-severity`,
/// osv-scanner's and npm's CVSS base scores): ≥ 9 critical, ≥ 7 high, ≥ 4 medium, else low.
pub fn severity_of_score(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// `file` as the findings carry it: relative to `root`, `/`-separated, without `file://`
/// or `./`. A path outside `root` stays as the tool wrote it.
pub(crate) fn relative(file: &str, root: &Path) -> String {
    let file = file.strip_prefix("file://").unwrap_or(file);
    let path = Path::new(file);
    let inside = path.strip_prefix(root).ok().or_else(|| {
        let canonical = root.canonicalize().ok()?;
        path.strip_prefix(canonical).ok()
    });
    let rel = inside.unwrap_or(path).to_string_lossy().replace('\\', "/");
    let mut rel = rel.as_str();
    while let Some(rest) = rel.strip_prefix("./") {
        rel = rest;
    }
    rel.to_string()
}

/// Decode a tool's JSON into `T`, telling "not JSON" from "JSON of another shape".
pub(crate) fn decode<T: DeserializeOwned>(
    tool: &str,
    expected: &str,
    json: &str,
) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| {
        if e.is_data() {
            format!("{tool}'s output is JSON but not {expected}: {e}")
        } else {
            format!("{tool}'s output is not JSON ({expected} was expected): {e}")
        }
    })
}

/// What the adapters' tests share.
#[cfg(test)]
pub(crate) mod testing {
    use crate::scan::{Finding, Severity};

    /// Each finding as (rule, file, first line, severity, CWE), to compare at once.
    pub fn rows(findings: &[Finding]) -> Vec<(&str, &str, u32, Severity, Option<u32>)> {
        findings
            .iter()
            .map(|f| {
                let place = (f.rule.as_str(), f.file.as_str(), f.start_line);
                (place.0, place.1, place.2, f.severity, f.cwe)
            })
            .collect()
    }

    /// That a parser refused its input with a reason containing `expected`.
    pub fn assert_refused<T: std::fmt::Debug>(parsed: Result<T, String>, expected: &str) {
        let why = parsed.expect_err("the parser accepted what it must refuse");
        assert!(why.contains(expected), "`{why}` does not say `{expected}`");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_to_the_root_and_slash_separated() {
        let root = Path::new("/tmp/dayshift-scan/tree");
        assert_eq!(
            relative("/tmp/dayshift-scan/tree/app/db.py", root),
            "app/db.py"
        );
        assert_eq!(
            relative("file:///tmp/dayshift-scan/tree/a.py", root),
            "a.py"
        );
        assert_eq!(relative("./app/db.py", root), "app/db.py");
        assert_eq!(relative("app\\db.py", root), "app/db.py");
        assert_eq!(relative("/elsewhere/x.py", root), "/elsewhere/x.py");
    }

    #[test]
    fn the_tools_that_fetch_get_the_networks_proxies_and_certificates_and_no_other() {
        for fetches in [
            Analyzer::OsvScanner,
            Analyzer::PipAudit,
            Analyzer::NpmAudit,
            Analyzer::CargoAudit,
        ] {
            let env = fetches.environment();
            for name in [
                "HTTPS_PROXY",
                "REQUESTS_CA_BUNDLE",
                "PIP_CERT",
                "NODE_EXTRA_CA_CERTS",
            ] {
                assert!(env.contains(&name), "{}: {name}", fetches.name());
            }
        }
        assert!(Analyzer::Ruff.environment().is_empty());
        assert_eq!(Analyzer::Clippy.environment(), CARGO_ENV);
    }

    #[test]
    fn decode_tells_not_json_from_another_shape() {
        let not_json = decode::<Vec<u32>>("ruff", "a list", "not json").unwrap_err();
        assert!(not_json.contains("ruff's output is not JSON"), "{not_json}");
        let shape = decode::<Vec<u32>>("ruff", "a list", "{\"a\": 1}").unwrap_err();
        assert!(shape.contains("is JSON but not a list"), "{shape}");
    }

    #[test]
    fn find_program_looks_on_path_then_in_the_extra_dirs() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("dayshift-probe-tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        assert_eq!(
            find_program("dayshift-probe-tool", &[dir.path().into()]),
            None
        );
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            find_program("dayshift-probe-tool", &[dir.path().into()]),
            Some(tool.clone())
        );
        assert_eq!(find_program("dayshift-probe-tool", &[]), None);
        assert!(find_program("sh", &[]).is_some());
        assert_eq!(find_program(tool.to_str().unwrap(), &[]), Some(tool));
    }
}
