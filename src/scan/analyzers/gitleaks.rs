//! gitleaks: `gitleaks dir --report-format sarif --report-path - --redact <root>` (gitleaks
//! 8.19 or later), read with the SARIF reader.
//!
//! The scanned tree cannot hide a secret from it: gitleaks reads a `.gitleaks.toml` (its
//! allow-lists) and a `.gitleaksignore` from the folder it scans unless told otherwise, so
//! it is given dayshift's own — its default rules, nothing ignored — written beside its log.
//! (A `gitleaks:allow` comment on a line it always honours; the built-in secrets layer,
//! which honours no comment, still reads that line.)
//!
//! Every finding is a secret written in the tree: high, CWE-798. gitleaks puts the secret
//! in each result's snippet (`REDACTED` with `--redact`) and older versions quote it in
//! places; none of its text is kept — a finding's message is dayshift's own, naming the
//! rule, and the snippet is never read. gitleaks exits 1 when it found a secret.

use std::path::Path;

use crate::scan::{Finding, Severity};

/// What the config file given to gitleaks holds: its default rules and allow-list, nothing
/// of the tree's.
pub const DEFAULT_CONFIG: &str = "[extend]\nuseDefault = true\n";

/// The settings files gitleaks is given, beside its `log`: its config, and an empty ignore
/// file (fingerprints it would skip).
pub fn settings(log: &Path) -> [(std::path::PathBuf, &'static str); 2] {
    [
        (log.with_extension("toml"), DEFAULT_CONFIG),
        (log.with_extension("ignore"), ""),
    ]
}

/// `dir --report-format sarif --report-path - --no-banner --redact --log-level error --config
/// <log>.toml --gitleaks-ignore-path <log>.ignore <root>`.
pub fn args(root: &Path, log: &Path) -> Vec<String> {
    let [(config, _), (ignore, _)] = settings(log);
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
        "--config",
    ];
    let settings = [
        config.display().to_string(),
        "--gitleaks-ignore-path".to_string(),
        ignore.display().to_string(),
    ];
    super::arguments(
        &fixed,
        settings.into_iter().chain([root.display().to_string()]),
    )
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
