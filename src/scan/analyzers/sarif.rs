//! SARIF 2.1.0 in: any tool's log (semgrep, eslint, gitleaks, CodeQL …) read into findings,
//! so a tool that writes SARIF needs a config entry, not an adapter.
//!
//! Per result: the run's `tool.driver.name` is the analyzer; `ruleId` (or `rule.id`, or
//! the rule at `ruleIndex`) the rule; the severity is the rule's
//! `properties.security-severity` when it has one (a CVSS-like score, as GitHub code
//! scanning reads it: ≥ 9 critical, ≥ 7 high, ≥ 4 medium, else low), otherwise the
//! result's `level` or the rule's default level (error → high, warning → medium,
//! note → low, none → info; SARIF's default is warning). The place is the first location's
//! `artifactLocation.uri` — `file://` and the root stripped, a `uriBaseId` resolved
//! through the run's `originalUriBaseIds` — and its region's lines. The rule gives the
//! help URL (`helpUri`) and the CWE (a tag `external/cwe/cwe-79` or `CWE-79: …`).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::scan::{Finding, Severity};

#[derive(Debug, Deserialize)]
struct Log {
    version: String,
    runs: Vec<Run>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    #[serde(default)]
    results: Vec<SarifResult>,
    #[serde(default)]
    original_uri_base_ids: HashMap<String, Artifact>,
}

#[derive(Debug, Deserialize)]
struct Tool {
    driver: Driver,
}

#[derive(Debug, Deserialize)]
struct Driver {
    name: Option<String>,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    help_uri: Option<String>,
    short_description: Option<Text>,
    default_configuration: Option<Configuration>,
    #[serde(default)]
    properties: Properties,
}

#[derive(Debug, Deserialize)]
struct Configuration {
    level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Properties {
    #[serde(rename = "security-severity")]
    security_severity: Option<Score>,
    #[serde(default)]
    tags: Vec<String>,
}

/// SARIF says a string (`"9.8"`); some writers put a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Score {
    Number(f64),
    Text(String),
}

#[derive(Debug, Deserialize)]
struct Text {
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: Option<String>,
    rule_index: Option<usize>,
    rule: Option<RuleReference>,
    level: Option<String>,
    message: Text,
    #[serde(default)]
    locations: Vec<Location>,
}

#[derive(Debug, Deserialize)]
struct RuleReference {
    id: Option<String>,
    index: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: Option<PhysicalLocation>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: Artifact,
    region: Option<Region>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    uri: String,
    uri_base_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: Option<u32>,
    end_line: Option<u32>,
}

/// A SARIF 2.1.0 log → findings, files relative to `root`; a run whose driver has no name
/// is `default_analyzer`'s.
pub fn parse(json: &str, root: &Path, default_analyzer: &str) -> Result<Vec<Finding>, String> {
    let log: Log = super::decode(default_analyzer, "a SARIF log", json)?;
    if log.version != "2.1.0" {
        return Err(format!(
            "{default_analyzer} wrote SARIF {}, and only 2.1.0 is read",
            log.version
        ));
    }
    let mut findings = Vec::new();
    for (run_number, run) in log.runs.iter().enumerate() {
        let analyzer = run.tool.driver.name.as_deref().unwrap_or(default_analyzer);
        for (result_number, result) in run.results.iter().enumerate() {
            let finding = read_result(run, analyzer, result, root).map_err(|why| {
                format!("{analyzer}'s SARIF run {run_number}, result {result_number}: {why}")
            })?;
            findings.push(finding);
        }
    }
    Ok(findings)
}

fn read_result(
    run: &Run,
    analyzer: &str,
    result: &SarifResult,
    root: &Path,
) -> Result<Finding, String> {
    let rules = &run.tool.driver.rules;
    let reference = result.rule.as_ref();
    let index = result.rule_index.or(reference.and_then(|r| r.index));
    let named = result
        .rule_id
        .as_deref()
        .or(reference.and_then(|r| r.id.as_deref()));
    let rule = match (index, named) {
        (Some(i), _) => rules.get(i),
        (None, Some(id)) => rules.iter().find(|r| r.id == id),
        (None, None) => None,
    };
    let id = named
        .or(rule.map(|r| r.id.as_str()))
        .ok_or("it has no ruleId, rule.id or ruleIndex")?;
    let physical = result
        .locations
        .first()
        .and_then(|l| l.physical_location.as_ref())
        .ok_or_else(|| format!("{id} has no physical location (a file and a line)"))?;
    let file = resolve(
        &physical.artifact_location,
        &run.original_uri_base_ids,
        root,
    );
    let region = physical.region.as_ref();
    let start = region.and_then(|r| r.start_line).unwrap_or(1);
    let message = result
        .message
        .text
        .clone()
        .or_else(|| rule.and_then(|r| r.short_description.as_ref()?.text.clone()))
        .unwrap_or_else(|| id.to_string());
    let mut finding = Finding::at(analyzer, id, severity(result, rule)?, &file, start, message);
    finding.end_line = region
        .and_then(|r| r.end_line)
        .unwrap_or(start)
        .max(finding.start_line);
    finding.help_url = rule.and_then(|r| r.help_uri.clone());
    finding.cwe = rule.and_then(|r| r.properties.tags.iter().find_map(|t| cwe_of_tag(t)));
    Ok(finding)
}

/// The file an artifact names (a URI: `%20` is a space), relative to `root` where it is
/// inside it.
fn resolve(artifact: &Artifact, bases: &HashMap<String, Artifact>, root: &Path) -> String {
    let uri = percent_decoded(&artifact.uri);
    let base = artifact
        .uri_base_id
        .as_ref()
        .and_then(|id| bases.get(id))
        .map(|b| b.uri.as_str())
        .filter(|_| !uri.starts_with("file:"));
    match base {
        Some(base) => {
            let joined = format!("{}/{uri}", percent_decoded(base).trim_end_matches('/'));
            super::relative(&joined, root)
        }
        None => super::relative(&uri, root),
    }
}

/// `%XX` escapes decoded; a malformed escape is kept as written.
fn percent_decoded(uri: &str) -> String {
    percent_encoding::percent_decode_str(uri)
        .decode_utf8_lossy()
        .into_owned()
}

fn severity(result: &SarifResult, rule: Option<&Rule>) -> Result<Severity, String> {
    if let Some(score) = rule.and_then(|r| r.properties.security_severity.as_ref()) {
        return score_severity(score);
    }
    let level = result
        .level
        .as_deref()
        .or(rule.and_then(|r| r.default_configuration.as_ref()?.level.as_deref()))
        .unwrap_or("warning");
    Ok(match level {
        "error" => Severity::High,
        "warning" => Severity::Medium,
        "note" => Severity::Low,
        "none" => Severity::Info,
        other => {
            return Err(format!(
                "the level `{other}` is not error, warning, note or none"
            ));
        }
    })
}

/// GitHub code scanning's reading of `security-severity`.
fn score_severity(score: &Score) -> Result<Severity, String> {
    let value = match score {
        Score::Number(n) => *n,
        Score::Text(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("the security-severity `{text}` is not a number"))?,
    };
    Ok(super::severity_of_score(value))
}

/// `external/cwe/cwe-79`, `CWE-79` or `CWE-79: Improper Neutralization…` → 79.
fn cwe_of_tag(tag: &str) -> Option<u32> {
    let lower = tag.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("external/cwe/cwe-")
        .or_else(|| lower.strip_prefix("cwe-"))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
#[path = "sarif_tests.rs"]
mod tests;
