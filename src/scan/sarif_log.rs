//! The scan as a SARIF 2.1.0 log, the shape GitHub code scanning accepts: one run whose
//! driver is dayshift, a rule per `<analyzer>/<rule>` with its help URL and CWE tag, and a
//! result per finding with its level, message, place (relative to `%SRCROOT%`) and the
//! stable fingerprint as `partialFingerprints` (so code scanning follows a finding across
//! moved lines as dayshift does).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::run::ScanReport;
use super::{Finding, Severity};

/// The `$schema` a SARIF 2.1.0 log names.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// GitHub's `security-severity` for a severity (a CVSS-like score).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "7.5",
        Severity::Medium => "5.0",
        Severity::Low => "2.0",
        Severity::Info => "0.0",
    }
}

fn rule_id(f: &Finding) -> String {
    format!("{}/{}", f.analyzer, f.rule)
}

/// The SARIF log of `report`.
pub fn log(report: &ScanReport) -> Value {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    for found in &report.findings {
        let f = &found.finding;
        rules.entry(rule_id(f)).or_insert_with(|| {
            let mut tags = vec![json!("security"), json!(f.analyzer)];
            if let Some(cwe) = f.cwe {
                tags.push(json!(format!("external/cwe/cwe-{cwe}")));
            }
            let mut rule = json!({
                "id": rule_id(f),
                "name": f.rule,
                "shortDescription": {"text": f.message},
                "defaultConfiguration": {"level": f.severity.sarif_level()},
                "properties": {"tags": tags, "security-severity": security_severity(f.severity)},
            });
            if let Some(url) = &f.help_url {
                rule["helpUri"] = json!(url);
            }
            rule
        });
    }
    let index: BTreeMap<&String, usize> = rules.keys().enumerate().map(|(i, k)| (k, i)).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|found| {
            let f = &found.finding;
            let id = rule_id(f);
            json!({
                "ruleId": id,
                "ruleIndex": index[&id],
                "level": f.severity.sarif_level(),
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": f.start_line, "endLine": f.end_line.max(f.start_line)},
                    }
                }],
                "partialFingerprints": {"dayshift/v1": f.fingerprint},
                "properties": {"severity": f.severity, "new": found.new},
            })
        })
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "dayshift",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules.into_values().collect::<Vec<_>>(),
        }},
        "results": results,
    });
    // a home's scan of its base names a commit, not a folder: the paths stay relative
    if report.root.is_absolute() {
        run["originalUriBaseIds"] = json!({"%SRCROOT%": {"uri": root_uri(&report.root)}});
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    })
}

/// `file:///abs/path/` for the scanned root (absolute, ending in `/`, as SARIF asks).
fn root_uri(root: &std::path::Path) -> String {
    let absolute = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let path = absolute.to_string_lossy().replace('\\', "/");
    let path = path.trim_end_matches('/');
    format!("file://{path}/")
}
