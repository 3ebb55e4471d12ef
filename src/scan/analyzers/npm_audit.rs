//! npm audit: `npm audit --json` on the root's `package-lock.json` read into findings — one
//! per advisory of a vulnerable package, at the lockfile's `"node_modules/<name>"` line.
//!
//! npm reads the project's `.npmrc`, and a tree's own can send the audit to any server
//! (`registry=`, which answers "nothing found"), through any proxy with TLS checks off, or
//! leave dev dependencies out (`omit=dev`). So npm audit runs on a copy of the project's
//! manifest and lockfile outside the tree ([`copy_project`], in the folder
//! [`super::Analyzer::runs_in`] names); the user's own `~/.npmrc` still counts.
//!
//! The severity is npm's (`moderate` is medium); the rule the advisory's GHSA id (from its
//! URL), else `npm-<number>`. A package vulnerable only through another one (its `via`
//! names a package, not an advisory) is that other package's finding, not a second one.
//! npm exits 1 both when it found something and when it failed; a failure's JSON has an
//! `error`, which [`parse`] reports as one.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::advisory::{Lockfile, Vulnerable, cwe_number};
use crate::scan::{Finding, Severity};

/// `audit --json` (the program is `npm`).
pub fn args() -> Vec<String> {
    vec!["audit".into(), "--json".into()]
}

/// The files of a project npm audit reads: its manifest and lockfile (the shrinkwrap, when
/// there is one, comes before the lockfile).
const PROJECT_FILES: [&str; 3] = ["package.json", "package-lock.json", "npm-shrinkwrap.json"];

/// Larger than any lockfile a person keeps.
const MAX_PROJECT_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Copy `root`'s [`PROJECT_FILES`] (those it has, read beneath it) into `into`, where npm
/// audit runs instead of the tree, replacing the ones an earlier run left; nothing else of
/// the tree comes along.
pub fn copy_project(root: &Path, into: &Path) -> std::io::Result<()> {
    let tree = crate::fsx::Beneath::new(root);
    std::fs::create_dir_all(into)?;
    for name in PROJECT_FILES {
        let copy = into.join(name);
        match tree.read_to_string(name, MAX_PROJECT_FILE_BYTES) {
            Ok(text) => crate::fsx::write_cache(&copy, text.as_bytes())?,
            // not in the tree: nor in the copy (an earlier run's goes)
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::remove_file(&copy)
                .or_else(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Ok(()),
                    _ => Err(e),
                })?,
            Err(e) => return Err(std::io::Error::new(e.kind(), format!("{name}: {e}"))),
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output {
    error: Option<NpmError>,
    audit_report_version: Option<u32>,
    #[serde(default)]
    vulnerabilities: BTreeMap<String, Package>,
}

#[derive(Debug, Deserialize)]
struct NpmError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    detail: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    name: String,
    severity: String,
    #[serde(default)]
    via: Vec<Via>,
    #[serde(default)]
    range: String,
    #[serde(default)]
    fix_available: FixAvailable,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Via {
    Advisory(Advisory),
    /// Vulnerable through this package.
    Package(String),
}

#[derive(Debug, Deserialize)]
struct Advisory {
    source: Option<u64>,
    title: String,
    url: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    cwe: Vec<String>,
    #[serde(default)]
    range: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum FixAvailable {
    #[default]
    Unknown,
    Flag(bool),
    #[serde(rename_all = "camelCase")]
    Upgrade {
        name: String,
        version: String,
        is_sem_ver_major: bool,
    },
}

/// `npm audit --json` → findings at `root`'s `package-lock.json`.
pub fn parse(json: &str, root: &Path) -> Result<Vec<Finding>, String> {
    let output: Output = super::decode("npm audit", "an audit report", json)?;
    if let Some(error) = output.error {
        let what = [error.summary.trim(), error.detail.trim()]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(": ");
        return Err(format!(
            "npm audit failed ({}){}",
            error.code.as_deref().unwrap_or("no error code"),
            if what.is_empty() {
                String::new()
            } else {
                format!(": {what}")
            }
        ));
    }
    if output.audit_report_version != Some(2) {
        return Err("npm audit's report is not version 2 (npm 7 or later writes it)".into());
    }
    let lockfile = Lockfile::read(root, "package-lock.json");
    let mut findings = Vec::new();
    for package in output.vulnerabilities.into_values() {
        let fix = fix_advice(&package.fix_available);
        for via in &package.via {
            let advisory = match via {
                Via::Advisory(advisory) => advisory,
                Via::Package(through) => {
                    tracing::debug!("{} is vulnerable through {through}", package.name);
                    continue;
                }
            };
            let severity: Severity = advisory
                .severity
                .as_deref()
                .unwrap_or(&package.severity)
                .parse()?;
            let ghsa = advisory
                .url
                .as_deref()
                .and_then(|u| u.rsplit('/').next())
                .filter(|id| id.starts_with("GHSA-"));
            let rule = match (ghsa, advisory.source) {
                (Some(id), _) => id.to_string(),
                (None, Some(number)) => format!("npm-{number}"),
                (None, None) => "npm-advisory".into(),
            };
            let range = if advisory.range.is_empty() {
                &package.range
            } else {
                &advisory.range
            };
            let vulnerable = Vulnerable {
                package: package.name.clone(),
                version: range.clone(),
                ids: vec![rule],
                summary: advisory.title.clone(),
                fix: fix.clone(),
                severity,
                help_url: advisory.url.clone(),
                cwe: advisory.cwe.iter().find_map(|c| cwe_number(c)),
            };
            findings.push(vulnerable.finding("npm-audit", &lockfile));
        }
    }
    Ok(findings)
}

/// What `fixAvailable` says to do.
fn fix_advice(fix: &FixAvailable) -> String {
    match fix {
        FixAvailable::Flag(true) => "fix: `npm audit fix`".into(),
        FixAvailable::Flag(false) | FixAvailable::Unknown => "no fix available".into(),
        FixAvailable::Upgrade {
            name,
            version,
            is_sem_ver_major,
        } => format!(
            "fix: upgrade {name} to {version}{}",
            if *is_sem_ver_major {
                ", a major version"
            } else {
                ""
            }
        ),
    }
}

#[cfg(test)]
#[path = "npm_audit_tests.rs"]
mod tests;
