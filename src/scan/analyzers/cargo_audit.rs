//! cargo-audit: `cargo audit --json --file <root>/Cargo.lock` read into findings at the
//! lockfile's `name = "<crate>"` line.
//!
//! cargo-audit reads `./.cargo/audit.toml` where it runs, whose `ignore` list hides
//! advisories: in the tree, a tree's own would hide its findings. So it runs in the folder
//! of its log ([`super::Analyzer::runs_in`]) and is given the tree's lockfile by path; the
//! user's `~/.cargo/audit.toml` still counts.
//!
//! A vulnerability is high (its CVSS vector is kept in the advisory, not scored here);
//! a warning — a crate unmaintained, unsound or yanked — is low. The rule is the RustSec
//! id (`RUSTSEC-2020-0071`), or `yanked`; the help URL RustSec's page. cargo-audit exits 1
//! when it found a vulnerability.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::advisory::{Lockfile, Vulnerable};
use crate::scan::{Finding, Severity};

/// `audit --json --file <root>/Cargo.lock` (the program is `cargo-audit`, which takes its
/// subcommand's name first).
pub fn args(root: &Path) -> Vec<String> {
    let lockfile = root.join("Cargo.lock").display().to_string();
    super::arguments(&["audit", "--json", "--file"], [lockfile])
}

#[derive(Debug, Deserialize)]
struct Output {
    vulnerabilities: Vulnerabilities,
    #[serde(default)]
    warnings: BTreeMap<String, Vec<Warning>>,
}

#[derive(Debug, Deserialize)]
struct Vulnerabilities {
    #[serde(default)]
    list: Vec<Vulnerability>,
}

#[derive(Debug, Deserialize)]
struct Vulnerability {
    advisory: Advisory,
    #[serde(default)]
    versions: Versions,
    package: Package,
}

#[derive(Debug, Deserialize)]
struct Warning {
    kind: String,
    package: Package,
    advisory: Option<Advisory>,
}

#[derive(Debug, Deserialize)]
struct Advisory {
    id: String,
    title: String,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Versions {
    #[serde(default)]
    patched: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Package {
    name: String,
    version: String,
}

/// RustSec's page of an advisory.
fn rustsec_url(id: &str) -> String {
    format!("https://rustsec.org/advisories/{id}")
}

/// cargo-audit's JSON → findings at `root`'s `Cargo.lock`.
pub fn parse(json: &str, root: &Path) -> Result<Vec<Finding>, String> {
    let output: Output = super::decode("cargo-audit", "a report with `vulnerabilities`", json)?;
    let lockfile = Lockfile::read(root, "Cargo.lock");
    let mut findings: Vec<Finding> = output
        .vulnerabilities
        .list
        .into_iter()
        .map(|v| {
            let mut ids = vec![v.advisory.id.clone()];
            ids.extend(v.advisory.aliases);
            Vulnerable {
                package: v.package.name,
                version: v.package.version,
                ids,
                summary: v.advisory.title,
                fix: super::advisory::fixed_in(&v.versions.patched),
                severity: Severity::High,
                help_url: Some(rustsec_url(&v.advisory.id)),
                cwe: None,
            }
            .finding("cargo-audit", &lockfile)
        })
        .collect();
    for warning in output.warnings.into_values().flatten() {
        let package = &warning.package;
        let (rule, why, help_url) = match &warning.advisory {
            Some(advisory) => (
                advisory.id.clone(),
                advisory.title.clone(),
                Some(rustsec_url(&advisory.id)),
            ),
            None => (warning.kind.clone(), "this version was yanked".into(), None),
        };
        let message = format!(
            "{} {} is {}: {why}",
            package.name, package.version, warning.kind
        );
        let line = lockfile.line_of(&package.name);
        let mut finding = Finding::at(
            "cargo-audit",
            &rule,
            Severity::Low,
            &lockfile.file,
            line,
            message,
        );
        finding.help_url = help_url;
        findings.push(finding);
    }
    Ok(findings)
}

#[cfg(test)]
#[path = "cargo_audit_tests.rs"]
mod tests;
