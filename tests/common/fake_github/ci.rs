//! The fake's CI and required checks: each CI job runs its shell command on a checkout of
//! a commit the first time that commit's checks matter (unless checks are held), and
//! becomes a check run; commit statuses come from the test; the required contexts come
//! from classic protection or a ruleset on the default branch.

use std::process::Command;

use serde_json::{Value, json};

use super::git;
use super::state::{CheckRun, State};

/// Lines of a failing job's output kept as the check run's summary.
const SUMMARY_LINES: usize = 60;

/// Make sure every CI job has a check run for `sha`: queued while checks are held, else
/// run now (a queued one runs once the hold is lifted).
pub fn ensure_runs(state: &mut State, sha: &str) {
    for (name, command) in state.ci_jobs.clone() {
        let at = state
            .check_runs
            .iter()
            .position(|r| r.head_sha == sha && r.name == name);
        let at = match at {
            Some(at) => at,
            None => {
                let id = state.next_id();
                state.check_runs.push(CheckRun {
                    id,
                    name: name.clone(),
                    head_sha: sha.to_string(),
                    conclusion: None,
                    title: String::new(),
                    summary: String::new(),
                });
                state.check_runs.len() - 1
            }
        };
        if state.check_runs[at].conclusion.is_none() && !state.hold_checks {
            let (conclusion, title, summary) = run_job(state, sha, &name, &command);
            let run = &mut state.check_runs[at];
            (run.conclusion, run.title, run.summary) = (Some(conclusion), title, summary);
        }
    }
}

/// Run one job's command on a checkout of `sha`: (conclusion, title, summary).
fn run_job(state: &State, sha: &str, name: &str, command: &str) -> (String, String, String) {
    let work = match git::checkout(&state.bare, sha) {
        Ok(work) => work,
        Err(e) => return ("failure".into(), format!("{name}: checkout failed"), e),
    };
    let out = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(work.path())
        .output();
    match out {
        Ok(out) if out.status.success() => {
            ("success".into(), format!("{name} passed"), String::new())
        }
        Ok(out) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(SUMMARY_LINES)..].join("\n");
            let code = out
                .status
                .code()
                .map_or("a signal".to_string(), |c| format!("exit {c}"));
            ("failure".into(), format!("{name} failed ({code})"), tail)
        }
        Err(e) => (
            "failure".into(),
            format!("{name}: cannot run sh"),
            e.to_string(),
        ),
    }
}

/// `GET …/commits/{ref}/check-runs` for commit `sha`.
pub fn check_runs_json(state: &mut State, sha: &str) -> Value {
    ensure_runs(state, sha);
    let base = format!("{}/repos/{}/{}", state.api_url, state.owner, state.repo);
    let runs: Vec<Value> = state
        .check_runs
        .iter()
        .filter(|r| r.head_sha == sha)
        .map(|r| {
            json!({
                "id": r.id, "node_id": format!("CR_{}", r.id), "name": r.name, "head_sha": r.head_sha,
                "status": if r.conclusion.is_some() { "completed" } else { "queued" },
                "conclusion": r.conclusion,
                "url": format!("{base}/check-runs/{}", r.id),
                "html_url": format!("https://github.com/{}/{}/runs/{}", state.owner, state.repo, r.id),
                "details_url": null, "started_at": null, "completed_at": null,
                "output": {"title": r.title, "summary": r.summary, "text": null, "annotations_count": 0,
                           "annotations_url": format!("{base}/check-runs/{}/annotations", r.id)},
                "pull_requests": [],
            })
        })
        .collect();
    json!({"total_count": runs.len(), "check_runs": runs})
}

/// `GET …/commits/{ref}/status` for commit `sha` (commit statuses only, as on GitHub).
pub fn combined_status_json(state: &State, sha: &str) -> Value {
    let states: Vec<&str> = state.statuses.iter().map(|(_, s)| s.as_str()).collect();
    let combined = if states.iter().any(|s| *s == "failure" || *s == "error") {
        "failure"
    } else if states.is_empty() || states.contains(&"pending") {
        "pending"
    } else {
        "success"
    };
    let statuses: Vec<Value> = state
        .statuses
        .iter()
        .map(|(context, s)| json!({"context": context, "state": s, "description": format!("{context} is {s}"), "target_url": null}))
        .collect();
    json!({"state": combined, "sha": sha, "total_count": statuses.len(), "statuses": statuses})
}

/// The contexts required on `branch` (protection and rulesets together) and whether the
/// head must be up to date with it.
pub fn required(state: &State, branch: &str) -> (Vec<String>, bool) {
    if branch != state.settings.default_branch {
        return (Vec::new(), false);
    }
    let (mut contexts, strict) = state.protection.clone().unwrap_or_default();
    for context in state.ruleset.iter().flatten() {
        if !contexts.contains(context) {
            contexts.push(context.clone());
        }
    }
    (contexts, strict)
}

/// The first required context of `base` that is not passing on `sha`, if any.
pub fn unmet_context(state: &mut State, base: &str, sha: &str) -> Option<String> {
    let (contexts, _) = required(state, base);
    ensure_runs(state, sha);
    contexts.into_iter().find(|context| {
        let run_passed = state.check_runs.iter().any(|r| {
            r.head_sha == sha
                && &r.name == context
                && matches!(
                    r.conclusion.as_deref(),
                    Some("success" | "neutral" | "skipped")
                )
        });
        let status_passed = state
            .statuses
            .iter()
            .any(|(c, s)| c == context && s == "success");
        !run_passed && !status_passed
    })
}
