//! npm audit: `npm audit --json` in the root (it reads `package-lock.json`) read into
//! findings — one per advisory of a vulnerable package, at the lockfile's
//! `"node_modules/<name>"` line.
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
