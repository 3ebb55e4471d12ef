//! A finding, normalized: whichever analyzer reported it (ruff, bandit, a SARIF writer,
//! dayshift's own layers), it has a rule, a severity, a place (file and line range), a
//! one-line message, and where known a help URL and a CWE — and a fingerprint that
//! survives the lines around it moving ([`super::fingerprint`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad a finding is, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn word(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// SARIF's `level` for it.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Severity::Info => "note",
            Severity::Low | Severity::Medium => "warning",
            Severity::High | Severity::Critical => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "info" | "note" | "none" => Severity::Info,
            "low" => Severity::Low,
            "medium" | "moderate" | "warning" => Severity::Medium,
            "high" | "error" => Severity::High,
            "critical" => Severity::Critical,
            other => {
                return Err(format!(
                    "`{other}` is not a severity: use info, low, medium, high or critical"
                ));
            }
        })
    }
}

/// One finding of one analyzer, normalized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Who found it: `builtin`, `ruff`, `bandit`, or a SARIF tool's name.
    pub analyzer: String,
    /// The analyzer's rule id: `S602`, `B602`, `secrets.aws-access-key`.
    pub rule: String,
    pub severity: Severity,
    /// Relative to the scanned root, `/`-separated.
    pub file: String,
    /// 1-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    /// One line a person reads. Never a secret's value.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_url: Option<String>,
    /// The CWE number, where the analyzer says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwe: Option<u32>,
    /// Stable across lines moving ([`super::fingerprint`]); set by the scan.
    #[serde(default)]
    pub fingerprint: String,
}

impl Finding {
    /// A finding at one line, without help URL, CWE or fingerprint yet.
    pub fn at(
        analyzer: &str,
        rule: &str,
        severity: Severity,
        file: &str,
        line: u32,
        message: impl Into<String>,
    ) -> Self {
        Self {
            analyzer: analyzer.to_string(),
            rule: rule.to_string(),
            severity,
            file: file.to_string(),
            start_line: line.max(1),
            end_line: line.max(1),
            message: message.into(),
            help_url: None,
            cwe: None,
            fingerprint: String::new(),
        }
    }

    /// `file:line`.
    pub fn located(&self) -> String {
        format!("{}:{}", self.file, self.start_line)
    }
}
