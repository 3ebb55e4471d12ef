//! The merge gate: a pull request merges only when every required check is green on the
//! exact head that was tested. Required checks come from `required_checks` in target.yaml,
//! else from the base branch's protection and rulesets; both check runs and commit
//! statuses count (a required check can be either).

use std::collections::BTreeSet;

use crate::github::{Check, CheckState};

/// What the checks on a head allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Every required check passed (and nothing reported failed).
    Green,
    /// Some required check has not reported or is still running: the names.
    Pending(Vec<String>),
    /// A check failed: what the coder needs to fix it (name, conclusion, output).
    Red(String),
}

/// Judge `checks` (everything reported on the head) against `required` (names; empty:
/// nothing is required, and every reported check must not fail).
pub fn judge(required: &BTreeSet<String>, checks: &[Check]) -> Gate {
    let failed: Vec<&Check> = checks
        .iter()
        .filter(|c| c.state == CheckState::Failure)
        .filter(|c| required.is_empty() || required.contains(&c.name))
        .collect();
    if !failed.is_empty() {
        return Gate::Red(feedback(&failed));
    }
    let mut waiting: Vec<String> = required
        .iter()
        .filter(|name| {
            !checks
                .iter()
                .any(|c| &c.name == *name && c.state == CheckState::Success)
        })
        .cloned()
        .collect();
    if required.is_empty() {
        waiting.extend(
            checks
                .iter()
                .filter(|c| c.state == CheckState::Pending)
                .map(|c| c.name.clone()),
        );
    }
    if waiting.is_empty() {
        Gate::Green
    } else {
        waiting.sort();
        waiting.dedup();
        Gate::Pending(waiting)
    }
}

/// The failed checks as the coder's next feedback.
fn feedback(failed: &[&Check]) -> String {
    let mut out = String::from("The pull request's CI failed on this change:\n");
    for check in failed {
        out.push_str(&format!(
            "\n- check `{}`: {}{}\n",
            check.name,
            check.conclusion,
            if check.url.is_empty() {
                String::new()
            } else {
                format!(" ({})", check.url)
            }
        ));
        if !check.summary.trim().is_empty() {
            out.push_str(&format!("\n```\n{}\n```\n", check.summary.trim_end()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, state: CheckState) -> Check {
        Check {
            name: name.into(),
            state,
            conclusion: match state {
                CheckState::Success => "success",
                CheckState::Failure => "failure",
                CheckState::Pending => "queued",
            }
            .into(),
            summary: if state == CheckState::Failure {
                "FAILED test_calc.py::test_add".into()
            } else {
                String::new()
            },
            url: String::new(),
        }
    }

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_required_check_must_be_green_on_the_head() {
        let required = names(&["ci", "lint"]);
        let ci = check("ci", CheckState::Success);
        assert_eq!(
            judge(&required, std::slice::from_ref(&ci)),
            Gate::Pending(vec!["lint".into()])
        );
        let lint = check("lint", CheckState::Pending);
        assert_eq!(
            judge(&required, &[ci.clone(), lint]),
            Gate::Pending(vec!["lint".into()])
        );
        let lint = check("lint", CheckState::Success);
        assert_eq!(judge(&required, &[ci, lint]), Gate::Green);
    }

    #[test]
    fn a_failed_check_is_red_with_its_output_for_the_coder() {
        let required = names(&["ci"]);
        let gate = judge(&required, &[check("ci", CheckState::Failure)]);
        let Gate::Red(feedback) = gate else {
            panic!("{gate:?}")
        };
        assert!(feedback.contains("`ci`: failure") && feedback.contains("test_add"));
        // a failing check nobody requires does not hold a required-green change
        let other = check("optional", CheckState::Failure);
        let ci = check("ci", CheckState::Success);
        assert_eq!(judge(&required, &[ci, other]), Gate::Green);
    }

    #[test]
    fn with_nothing_required_every_reported_check_counts() {
        let none = BTreeSet::new();
        assert_eq!(judge(&none, &[]), Gate::Green);
        assert_eq!(
            judge(&none, &[check("build", CheckState::Pending)]),
            Gate::Pending(vec!["build".into()])
        );
        assert!(matches!(
            judge(&none, &[check("build", CheckState::Failure)]),
            Gate::Red(_)
        ));
    }
}
