//! eslint: `eslint -f json --no-inline-config <targets…>` read into findings.
//!
//! eslint's own severity 2 (error) is medium, 1 (warning) low; a file it could not parse
//! (`fatal`) is high, under the rule `parse-error`. A core rule's help URL is its page on
//! eslint.org (a plugin's rule, `plugin/rule`, has none here). `eslint-disable` comments
//! are ignored (`--no-inline-config`): text in the tree cannot hide a finding — though the
//! tree's own eslint config chooses the rules, and eslint runs that config's code. eslint
//! exits 1 when it found a problem, 2 when it could not run (no config, a bad option).

use std::path::Path;

use serde::Deserialize;

use crate::scan::{Finding, Severity};

/// `-f json --no-inline-config --no-warn-ignored <targets…>`.
pub fn args(targets: Vec<String>) -> Vec<String> {
    let fixed = ["-f", "json", "--no-inline-config", "--no-warn-ignored"];
    super::arguments(&fixed, targets)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileReport {
    file_path: String,
    messages: Vec<Message>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    rule_id: Option<String>,
    severity: u8,
    message: String,
    #[serde(default)]
    fatal: bool,
    line: Option<u32>,
    end_line: Option<u32>,
}

/// eslint's JSON (a report per file) → findings, files relative to `root`.
pub fn parse(json: &str, root: &Path) -> Result<Vec<Finding>, String> {
    let reports: Vec<FileReport> = super::decode("eslint", "a list of file reports", json)?;
    let mut findings = Vec::new();
    for report in reports {
        let file = super::relative(&report.file_path, root);
        for message in report.messages {
            let (rule, severity) = match (&message.rule_id, message.fatal, message.severity) {
                (_, true, _) => ("parse-error".to_string(), Severity::High),
                (Some(rule), false, 2) => (rule.clone(), Severity::Medium),
                (Some(rule), false, 1) => (rule.clone(), Severity::Low),
                (Some(rule), false, other) => {
                    return Err(format!(
                        "eslint's {rule} in {file} has the severity {other}, not 1 or 2"
                    ));
                }
                // a note about the file itself (ignored, no config), not a problem in it
                (None, false, _) => {
                    tracing::warn!("eslint on {file}: {}", message.message);
                    continue;
                }
            };
            let start = message.line.unwrap_or(1);
            let mut finding = Finding::at("eslint", &rule, severity, &file, start, message.message);
            finding.end_line = message.end_line.unwrap_or(start).max(finding.start_line);
            finding.help_url = (!rule.contains('/') && !message.fatal)
                .then(|| format!("https://eslint.org/docs/latest/rules/{rule}"));
            findings.push(finding);
        }
    }
    Ok(findings)
}

#[cfg(test)]
#[path = "eslint_tests.rs"]
mod tests;
