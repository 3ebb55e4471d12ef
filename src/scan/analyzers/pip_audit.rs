//! pip-audit: `pip-audit -f json --progress-spinner off --disable-pip --no-deps -r
//! <requirements…>` read into findings — one per vulnerability of a dependency, at the
//! first requirements file naming it.
//!
//! By default pip-audit resolves what it audits by installing it with pip into a temporary
//! environment: a requirement on a local folder (`./evil`, `evil @ file:…`) or on an sdist
//! runs that package's `setup.py` or build backend — the scanned tree's code, unconfined,
//! with the user's files in reach. So it audits the requirements files as written, without
//! pip (`--disable-pip --no-deps`): pinned requirements are audited, the others are
//! skipped (and logged). A project with only a `pyproject.toml` is not audited: pip-audit
//! has no way to read one without installing it ([`not_run`]).
//!
//! pip-audit gives no severity: every finding is high. Dependencies it could not audit
//! (not pinned, not on its vulnerability source) are logged, not findings. It exits 1
//! when it found a vulnerability.

use std::path::Path;

use serde::Deserialize;

use super::advisory::{Lockfile, Vulnerable};
use crate::scan::{Finding, Severity};

/// The files it audits in `root`: its `requirements*.txt` (sorted), else `pyproject.toml`.
pub fn inputs(root: &Path) -> Vec<String> {
    let mut requirements: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| super::scope::matches("requirements*.txt", name))
        .collect();
    requirements.sort();
    if requirements.is_empty() {
        requirements.push("pyproject.toml".into());
    }
    requirements
}

/// Why pip-audit is not run on `root`, when it is not: the tree has no requirements file,
/// only a `pyproject.toml`, which pip-audit audits by installing the project's
/// dependencies (running their code).
pub fn not_run(root: &Path) -> Option<String> {
    let requirements = inputs(root);
    (requirements == ["pyproject.toml"]).then(|| {
        "the tree has a pyproject.toml and no requirements*.txt, and pip-audit audits a \
         pyproject.toml only by installing its dependencies, which runs their code: export \
         the pinned requirements (`uv export --no-hashes > requirements.txt`, `pip-compile`) \
         or let osv-scanner read the lockfile"
            .into()
    })
}

/// `-f json --progress-spinner off --disable-pip --no-deps` and `-r <file>` per
/// requirements file: audited as written, nothing installed.
pub fn args(root: &Path) -> Vec<String> {
    let fixed = [
        "-f",
        "json",
        "--progress-spinner",
        "off",
        "--disable-pip",
        "--no-deps",
    ];
    let audited = inputs(root)
        .into_iter()
        .filter(|file| file != "pyproject.toml")
        .flat_map(|file| ["-r".to_string(), file]);
    super::arguments(&fixed, audited)
}

#[derive(Debug, Deserialize)]
struct Output {
    dependencies: Vec<Dependency>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    name: String,
    version: Option<String>,
    #[serde(default)]
    vulns: Vec<Vuln>,
    skip_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Vuln {
    id: String,
    #[serde(default)]
    fix_versions: Vec<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    description: Option<String>,
}

/// pip-audit's JSON → findings at the requirements files of `root` (see [`inputs`]).
pub fn parse(json: &str, root: &Path) -> Result<Vec<Finding>, String> {
    let output: Output = super::decode("pip-audit", "a report with `dependencies`", json)?;
    let files: Vec<Lockfile> = inputs(root)
        .iter()
        .map(|file| Lockfile::read(root, file))
        .collect();
    let mut findings = Vec::new();
    for dependency in output.dependencies {
        if let Some(reason) = &dependency.skip_reason {
            tracing::warn!("pip-audit did not audit {}: {reason}", dependency.name);
            continue;
        }
        // `inputs` is never empty; a dependency no file names (a transitive one) is
        // placed at the first
        let naming = files
            .iter()
            .find(|f| f.find(&dependency.name).is_some())
            .unwrap_or(&files[0]);
        for vuln in &dependency.vulns {
            let mut ids = vec![vuln.id.clone()];
            ids.extend(vuln.aliases.iter().filter(|a| **a != vuln.id).cloned());
            let vulnerable = Vulnerable {
                package: dependency.name.clone(),
                version: dependency.version.clone().unwrap_or_default(),
                ids,
                summary: vuln.description.clone().unwrap_or_default(),
                fix: super::advisory::fixed_in(&vuln.fix_versions),
                severity: Severity::High,
                help_url: None,
                cwe: None,
            };
            findings.push(vulnerable.finding("pip-audit", naming));
        }
    }
    Ok(findings)
}

#[cfg(test)]
#[path = "pip_audit_tests.rs"]
mod tests;
