//! osv-scanner: `osv-scanner scan source --format json --config=<dayshift's> -r <root>`
//! (osv-scanner 2) read into findings — one per vulnerability of a package, at the line of
//! its lockfile naming the package.
//!
//! osv-scanner reads an `osv-scanner.toml` beside each lockfile, whose `[[IgnoredVulns]]`
//! hide vulnerabilities: a tree's own would hide its findings. `--config` names one file
//! for every lockfile instead of theirs, and dayshift's ignores nothing ([`SETTINGS`]).
//!
//! osv-scanner groups a vulnerability's aliases (`GHSA-…`, `CVE-…`): a group is one
//! finding, its first id the rule, every id in the message. The severity is the group's
//! CVSS base score (`max_severity`; ≥ 9 critical, ≥ 7 high, ≥ 4 medium, else low), high
//! when it has none. osv-scanner exits 1 when it found a vulnerability.

use std::path::Path;

use serde::Deserialize;

use super::advisory::{Lockfile, Vulnerable, cwe_number};
use crate::scan::{Finding, Severity};

/// `scan source --format json --config=<config> -r <root>`.
pub fn args(root: &Path, config: &Path) -> Vec<String> {
    let fixed = ["scan", "source", "--format", "json"];
    let config = format!("--config={}", config.display());
    super::arguments(&fixed, [config, "-r".into(), root.display().to_string()])
}

/// The settings [`args`]' `config` holds: none (nothing ignored).
pub const SETTINGS: &str = "# dayshift's settings for osv-scanner: no vulnerability is ignored, and no osv-scanner.toml of the scanned tree is read\n";

#[derive(Debug, Deserialize)]
struct Output {
    #[serde(default)]
    results: Vec<Source>,
}

#[derive(Debug, Deserialize)]
struct Source {
    source: SourceFile,
    #[serde(default)]
    packages: Vec<PackageReport>,
}

#[derive(Debug, Deserialize)]
struct SourceFile {
    path: String,
}

#[derive(Debug, Deserialize)]
struct PackageReport {
    package: Package,
    #[serde(default)]
    vulnerabilities: Vec<Vulnerability>,
    #[serde(default)]
    groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
struct Package {
    name: String,
    #[serde(default)]
    version: String,
}

#[derive(Debug, Deserialize)]
struct Vulnerability {
    id: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    affected: Vec<Affected>,
    #[serde(default)]
    database_specific: DatabaseSpecific,
}

#[derive(Debug, Deserialize)]
struct Affected {
    package: Option<AffectedPackage>,
    #[serde(default)]
    ranges: Vec<Range>,
}

#[derive(Debug, Deserialize)]
struct AffectedPackage {
    name: String,
}

#[derive(Debug, Deserialize)]
struct Range {
    #[serde(default)]
    events: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Default, Deserialize)]
struct DatabaseSpecific {
    #[serde(default)]
    cwe_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Group {
    ids: Vec<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    max_severity: String,
}

/// osv-scanner's JSON → findings at the lockfiles (read from `root` for the lines).
pub fn parse(json: &str, root: &Path) -> Result<Vec<Finding>, String> {
    let output: Output = super::decode("osv-scanner", "a report with `results`", json)?;
    let mut findings = Vec::new();
    for source in output.results {
        let lockfile = Lockfile::read(root, &source.source.path);
        for report in source.packages {
            for vulnerable in vulnerabilities(&report)? {
                findings.push(vulnerable.finding("osv-scanner", &lockfile));
            }
        }
    }
    Ok(findings)
}

/// One [`Vulnerable`] per group (each vulnerability its own group when there are none).
fn vulnerabilities(report: &PackageReport) -> Result<Vec<Vulnerable>, String> {
    let ungrouped: Vec<Group>;
    let groups = if report.groups.is_empty() {
        ungrouped = report
            .vulnerabilities
            .iter()
            .map(|v| Group {
                ids: vec![v.id.clone()],
                aliases: v.aliases.clone(),
                max_severity: String::new(),
            })
            .collect();
        &ungrouped
    } else {
        &report.groups
    };
    groups
        .iter()
        .map(|group| vulnerable(report, group))
        .collect()
}

fn vulnerable(report: &PackageReport, group: &Group) -> Result<Vulnerable, String> {
    let package = &report.package;
    let first = group
        .ids
        .first()
        .ok_or_else(|| format!("a vulnerability group of {} has no id", package.name))?;
    let mut ids = group.ids.clone();
    for alias in &group.aliases {
        if !ids.contains(alias) {
            ids.push(alias.clone());
        }
    }
    let advisory = report.vulnerabilities.iter().find(|v| &v.id == first);
    let severity = match group.max_severity.trim() {
        "" => Severity::High,
        score => super::severity_of_score(score.parse().map_err(|_| {
            format!(
                "{first} of {} has the score `{score}`, not a number",
                package.name
            )
        })?),
    };
    Ok(Vulnerable {
        package: package.name.clone(),
        version: package.version.clone(),
        ids,
        summary: advisory
            .map(|a| match a.summary.trim() {
                "" => a.details.clone(),
                summary => summary.to_string(),
            })
            .unwrap_or_default(),
        fix: super::advisory::fixed_in(
            &advisory.map_or_else(Vec::new, |a| fixed_versions(a, &package.name)),
        ),
        severity,
        help_url: None,
        cwe: advisory.and_then(|a| {
            a.database_specific
                .cwe_ids
                .iter()
                .find_map(|c| cwe_number(c))
        }),
    })
}

/// The `fixed` events of the advisory's ranges for `package`, in order, once each.
fn fixed_versions(advisory: &Vulnerability, package: &str) -> Vec<String> {
    let mut fixed: Vec<String> = Vec::new();
    let ranges = advisory
        .affected
        .iter()
        .filter(|a| a.package.as_ref().is_none_or(|p| p.name == package))
        .flat_map(|a| &a.ranges);
    for event in ranges.flat_map(|r| &r.events) {
        if let Some(version) = event.get("fixed").and_then(|v| v.as_str())
            && !fixed.iter().any(|f| f == version)
        {
            fixed.push(version.to_string());
        }
    }
    fixed
}

#[cfg(test)]
#[path = "osv_scanner_tests.rs"]
mod tests;
