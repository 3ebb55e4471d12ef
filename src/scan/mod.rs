//! The scanner (DESIGN §6, issue 15): the analyzers people already trust, orchestrated and
//! normalized, plus dayshift's own layers, so a repository with no tool installed still
//! gets a scan.
//!
//! - [`finding`]: the normalized [`Finding`] and its [`Severity`].
//! - [`analyzers`]: one adapter per tool (ruff, bandit, semgrep, gitleaks, osv-scanner,
//!   pip-audit, cargo-audit, npm audit, clippy, eslint, any SARIF 2.1.0 writer), each used
//!   when installed and when the tree has what it reads.
//! - [`builtin`], [`health`], [`perf`]: dayshift's own analyzers — the reviewer's layers over
//!   whole files, code health, the target's bench.
//! - [`config`]: config/scan.yaml; [`analyze`]: every analyzer side by side, each through
//!   the [`cache`]; [`fingerprint`]: one finding per place, stable across moves; [`run`]:
//!   the comparison with the last scan; [`ignore`]: the home's suppressions; [`tree`]: one
//!   scan of one tree, as `dayshift scan` and the monitor make it; [`report`] and
//!   [`sarif_log`]: the markdown report and SARIF 2.1.0.

pub mod analyze;
pub mod analyzers;
pub mod builtin;
pub mod cache;
pub mod config;
pub mod finding;
pub mod fingerprint;
pub mod health;
pub mod ignore;
pub mod outdated;
pub mod perf;
pub mod recheck;
pub mod report;
pub mod run;
pub mod sarif_log;
pub mod tree;

pub use finding::{Finding, Severity};

/// What stops an analyzer from giving findings: it is not installed or not configured, it
/// could not run, or its output could not be read. A tool that ran and found things is not
/// an error.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{analyzer} is not installed ({hint})")]
    NotInstalled { analyzer: String, hint: String },
    #[error("{analyzer} is not configured ({hint})")]
    NotConfigured { analyzer: String, hint: String },
    #[error("{analyzer} could not run: {why}")]
    Failed { analyzer: String, why: String },
    #[error("{analyzer}'s output could not be read: {why}; its whole output is in {}", log.display())]
    Unreadable {
        analyzer: String,
        why: String,
        log: std::path::PathBuf,
    },
}
