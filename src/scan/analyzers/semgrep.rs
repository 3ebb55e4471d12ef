//! semgrep: `semgrep scan --sarif` with the rules it is given, read with the SARIF reader.
//!
//! semgrep's registry configs (`auto`, `p/…`) are fetched from the internet, so it runs only
//! with a local rules file or folder (`semgrep_config` in config/scan.yaml). `# nosemgrep`
//! comments are ignored (`--disable-nosem`): text in the tree cannot hide a finding. Nor
//! can a `.semgrepignore` of the tree (one at any depth drops the files it names from a
//! scan of a folder): when the tree has one, semgrep is told to read none
//! (`--x-ignore-semgrepignore-files`, checked with semgrep 1.187; semgrep calls it
//! internal, so it is given only then).
//!
//! A result's message is its rule's message *template*: semgrep fills the template's
//! metavariables with the matched code (`password = $VALUE` becomes the password itself),
//! and a finding never carries a secret's value; the matched snippet is never read either.

use std::path::Path;

use serde_json::Value;

use crate::scan::Finding;

/// `scan --sarif --metrics off --disable-version-check --quiet --disable-nosem
/// [--x-ignore-semgrepignore-files] --config <rules> <targets…>`, the flag when `root` has a
/// `.semgrepignore` ([`has_ignore_file`]).
pub fn args(rules: &Path, root: &Path, targets: Vec<String>) -> Vec<String> {
    let fixed = [
        "scan",
        "--sarif",
        "--metrics",
        "off",
        "--disable-version-check",
        "--quiet",
        "--disable-nosem",
    ];
    let ignore_files = has_ignore_file(root).then(|| READ_NO_SEMGREPIGNORE.to_string());
    let rules = ["--config".to_string(), rules.display().to_string()];
    super::arguments(&fixed, ignore_files.into_iter().chain(rules).chain(targets))
}

/// semgrep's flag to read no `.semgrepignore`.
const READ_NO_SEMGREPIGNORE: &str = "--x-ignore-semgrepignore-files";

/// Whether a `.semgrepignore` is anywhere in the tree (where a scan reads).
pub fn has_ignore_file(root: &Path) -> bool {
    crate::scan::builtin::any_file_under(root, |file| {
        file.rsplit('/').next() == Some(".semgrepignore")
    })
}

/// semgrep's SARIF → findings of the analyzer `semgrep`, each message its rule's template.
pub fn parse(json: &str, root: &Path) -> Result<Vec<Finding>, String> {
    let mut log: Value = super::decode("semgrep", "a SARIF log", json)?;
    with_rule_templates(&mut log);
    let mut findings = super::sarif::parse(&log.to_string(), root, "semgrep")?;
    for finding in &mut findings {
        finding.analyzer = "semgrep".into();
    }
    Ok(findings)
}

/// Each result's message replaced by its rule's uninterpolated text (`fullDescription`,
/// else `help`), or by the rule id when the rule has neither.
fn with_rule_templates(log: &mut Value) {
    let Some(runs) = log.get_mut("runs").and_then(Value::as_array_mut) else {
        return;
    };
    for run in runs {
        let templates: Vec<(String, String)> = run
            .pointer("/tool/driver/rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|rule| {
                let id = rule.get("id")?.as_str()?;
                let text = ["/fullDescription/text", "/help/text"]
                    .iter()
                    .find_map(|at| rule.pointer(at)?.as_str())
                    .unwrap_or(id);
                Some((id.to_string(), text.to_string()))
            })
            .collect();
        let Some(results) = run.get_mut("results").and_then(Value::as_array_mut) else {
            continue;
        };
        for result in results {
            let id = result.get("ruleId").and_then(Value::as_str).unwrap_or("");
            let template = templates
                .iter()
                .find(|(rule, _)| rule == id)
                .map_or(id, |(_, text)| text.as_str())
                .to_string();
            result["message"] = serde_json::json!({ "text": template });
        }
    }
}

#[cfg(test)]
#[path = "semgrep_tests.rs"]
mod tests;
