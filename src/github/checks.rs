//! The checks on a commit, from both places GitHub keeps them: check runs (GitHub Actions,
//! Apps) and commit statuses (older CI). A required check can be either, so both are read.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::http::encode;
use super::{Api, Check, CheckState, Result};

impl Api {
    /// Every check run and commit status on `sha` (the latest of each name).
    pub fn checks(&self, sha: &str) -> Result<Vec<Check>> {
        let sha = encode(sha, false);
        let runs: CheckRuns = self.transport.get(&self.path(&format!(
            "/commits/{sha}/check-runs?filter=latest&per_page=100"
        )))?;
        let combined: CombinedStatus = self
            .transport
            .get(&self.path(&format!("/commits/{sha}/status?per_page=100")))?;
        let mut checks: Vec<Check> = runs.check_runs.into_iter().map(Check::from).collect();
        checks.extend(combined.statuses.into_iter().map(Check::from));
        Ok(checks)
    }
}

/// Where a set of checks stands. With `required` names, only those count and a required
/// check not reported yet is pending; without, every check counts. A failure decides
/// (it does not wait for the rest); success needs every counted check green.
pub fn overall_state(checks: &[Check], required: &BTreeSet<String>) -> CheckState {
    let counted: Vec<&Check> = checks
        .iter()
        .filter(|c| required.is_empty() || required.contains(&c.name))
        .collect();
    if counted.iter().any(|c| c.state == CheckState::Failure) {
        return CheckState::Failure;
    }
    let missing = required
        .iter()
        .any(|name| !counted.iter().any(|c| &c.name == name));
    if missing || counted.iter().any(|c| c.state == CheckState::Pending) {
        return CheckState::Pending;
    }
    CheckState::Success
}

/// A check run's state: not completed is pending; success, neutral and skipped pass;
/// every other conclusion (failure, cancelled, timed_out, action_required, stale) fails.
fn run_state(status: &str, conclusion: Option<&str>) -> CheckState {
    if status != "completed" {
        return CheckState::Pending;
    }
    match conclusion {
        Some("success" | "neutral" | "skipped") => CheckState::Success,
        _ => CheckState::Failure,
    }
}

/// A commit status's state: error and failure fail, pending waits.
fn status_state(state: &str) -> CheckState {
    match state {
        "success" => CheckState::Success,
        "pending" => CheckState::Pending,
        _ => CheckState::Failure,
    }
}

#[derive(Debug, Deserialize)]
struct CheckRuns {
    #[serde(default)]
    check_runs: Vec<CheckRun>,
}

#[derive(Debug, Deserialize)]
struct CheckRun {
    name: String,
    status: String,
    #[serde(default)]
    conclusion: Option<String>,
    #[serde(default)]
    output: Option<Output>,
    #[serde(default)]
    html_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Output {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    summary: Option<String>,
}

impl From<CheckRun> for Check {
    fn from(run: CheckRun) -> Self {
        let state = run_state(&run.status, run.conclusion.as_deref());
        let summary = run
            .output
            .map(|o| {
                [o.title, o.summary]
                    .into_iter()
                    .flatten()
                    .filter(|t| !t.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        Check {
            name: run.name,
            state,
            conclusion: run.conclusion.unwrap_or(run.status),
            summary,
            url: run.html_url.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct CombinedStatus {
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Debug, Deserialize)]
struct Status {
    context: String,
    state: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    target_url: Option<String>,
}

impl From<Status> for Check {
    fn from(status: Status) -> Self {
        Check {
            name: status.context,
            state: status_state(&status.state),
            conclusion: status.state,
            summary: status.description.unwrap_or_default(),
            url: status.target_url.unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, state: CheckState) -> Check {
        Check {
            name: name.into(),
            state,
            conclusion: String::new(),
            summary: String::new(),
            url: String::new(),
        }
    }

    #[test]
    fn run_conclusions_map_to_states() {
        assert_eq!(run_state("queued", None), CheckState::Pending);
        assert_eq!(run_state("in_progress", None), CheckState::Pending);
        for pass in ["success", "neutral", "skipped"] {
            assert_eq!(run_state("completed", Some(pass)), CheckState::Success);
        }
        for fail in ["failure", "cancelled", "timed_out", "action_required"] {
            assert_eq!(run_state("completed", Some(fail)), CheckState::Failure);
        }
        assert_eq!(status_state("error"), CheckState::Failure);
        assert_eq!(status_state("pending"), CheckState::Pending);
    }

    #[test]
    fn overall_needs_every_required_check_green() {
        let none = BTreeSet::new();
        let required: BTreeSet<String> = ["ci".to_string(), "lint".to_string()].into();
        let green = [
            check("ci", CheckState::Success),
            check("lint", CheckState::Success),
        ];
        assert_eq!(overall_state(&green, &required), CheckState::Success);
        assert_eq!(overall_state(&green[..1], &required), CheckState::Pending);
        let other_red = [
            check("ci", CheckState::Success),
            check("lint", CheckState::Success),
            check("optional", CheckState::Failure),
        ];
        assert_eq!(overall_state(&other_red, &required), CheckState::Success);
        assert_eq!(overall_state(&other_red, &none), CheckState::Failure);
        let waiting = [
            check("ci", CheckState::Pending),
            check("lint", CheckState::Success),
        ];
        assert_eq!(overall_state(&waiting, &none), CheckState::Pending);
        assert_eq!(overall_state(&[], &none), CheckState::Success);
    }
}
