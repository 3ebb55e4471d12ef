//! gitleaks: `gitleaks dir --report-format sarif --report-path - --redact <root>` (gitleaks
//! 8.19 or later), read with the SARIF reader.
//!
//! Every finding is a secret written in the tree: high, CWE-798. gitleaks puts the secret
//! in each result's snippet (`REDACTED` with `--redact`) and older versions quote it in
//! places; none of its text is kept — a finding's message is dayshift's own, naming the
//! rule, and the snippet is never read. gitleaks exits 1 when it found a secret.

use std::path::Path;

use crate::scan::{Finding, Severity};

/// `dir --report-format sarif --report-path - --no-banner --redact --log-level error <root>`.
pub fn args(root: &Path) -> Vec<String> {
    let fixed = [
        "dir",
        "--report-format",
        "sarif",
        "--report-path",
        "-",
        "--no-banner",
        "--redact",
        "--log-level",
        "error",
    ];
    super::arguments(&fixed, [root.display().to_string()])
}

/// CWE-798: Use of Hard-coded Credentials.
const HARD_CODED_CREDENTIALS: u32 = 798;

/// gitleaks' SARIF → one high finding per secret, its message free of the secret.
pub fn parse(json: &str, root: &Path) -> Result<Vec<Finding>, String> {
    let mut findings = super::sarif::parse(json, root, "gitleaks")?;
    for finding in &mut findings {
        finding.analyzer = "gitleaks".into();
        finding.severity = Severity::High;
        finding.message = format!(
            "a secret ({}) is written here: revoke it, then move it out of the code and its history",
            finding.rule
        );
        finding.cwe = Some(HARD_CODED_CREDENTIALS);
        finding.help_url = Some("https://github.com/gitleaks/gitleaks#readme".into());
    }
    Ok(findings)
}

#[cfg(test)]
#[path = "gitleaks_tests.rs"]
mod tests;
