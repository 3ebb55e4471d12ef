//! [`Forge::land`](crate::forge::Forge::land) on GitHub: the merge gate. The pull
//! request's head must be the commit dayshift tested; every required check green on it
//! ([`super::gate`]) → merged with `sha` = that head (compare-and-swap) and
//! `merge_method`; pending → the task waits in review (`checks: pending`), escalated past
//! `checks_timeout_minutes`; failed → the coder's next attempt. GitHub refusing a green
//! pull request (405) because the base moved: the base is merged into the branch (the
//! checks run again) or, on a conflict, the task is done again on the new base.

use super::gate::{self, Gate};
use super::{GitHubForge, github_error, short};
use crate::context::Ctx;
use crate::error::Result;
use crate::forge::Landing;
use crate::github::{MergeOutcome, Pull};
use crate::target::{self, update::Updated};
use crate::tasks::{Checks, Task};

pub(super) fn land(
    forge: &GitHubForge,
    ctx: &Ctx,
    task: &mut Task,
    branch: &str,
    title: &str,
) -> Result<Landing> {
    let Some(pull) = forge.pull_of(task, branch)? else {
        return Ok(Landing::NeedsPerson(format!(
            "no pull request found for {branch}; the next work run opens one"
        )));
    };
    if pull.merged {
        return Ok(Landing::Merged {
            head: pull.merge_commit_sha.clone().unwrap_or_default(),
            pushed: true,
            note: Some(format!("#{} was merged on GitHub", pull.number)),
        });
    }
    if pull.state != "open" {
        let by = forge
            .api
            .issue(pull.number)
            .ok()
            .and_then(|i| i.closed_by)
            .map_or("someone".into(), |l| format!("@{l}"));
        return Ok(Landing::Closed(format!("#{} closed by {by}", pull.number)));
    }
    let tested = task.meta.commit.clone().unwrap_or_default();
    if !tested.is_empty() && pull.head_sha != tested {
        return Ok(Landing::NeedsPerson(format!(
            "#{}'s head is {}, not the commit dayshift tested ({}): someone pushed to {branch}",
            pull.number,
            short(&pull.head_sha),
            short(&tested)
        )));
    }
    let required = forge.required_checks(&ctx.config.target.base_branch)?;
    let checks = forge.api.checks(&pull.head_sha).map_err(github_error)?;
    match gate::judge(&required, &checks) {
        Gate::Red(feedback) => {
            task.meta.checks = Some(Checks::Failed);
            task.meta.checks_since = None;
            return Ok(Landing::ChecksFailed(ctx.redact(&feedback)));
        }
        Gate::Pending(names) => return Ok(pending(forge, ctx, task, &pull, &names)),
        Gate::Green => {}
    }
    match forge
        .api
        .merge(pull.number, &pull.head_sha, forge.merge_method, title)
        .map_err(github_error)?
    {
        MergeOutcome::Merged { sha } => {
            task.meta.checks = None;
            task.meta.checks_since = None;
            forge.tidy_after_merge(ctx, branch);
            Ok(Landing::Merged {
                head: sha,
                pushed: true,
                note: Some(format!("pull request #{}: {}", pull.number, pull.html_url)),
            })
        }
        // a check turned pending, the base moved, or GitHub is still computing whether
        // it can merge: a later pass tries again (escalated past the checks timeout)
        MergeOutcome::NotMergeable(why) => {
            // a repository setting or a draft: waiting would change nothing
            if why.contains("not allowed") || why.contains("draft") {
                return Ok(Landing::NeedsPerson(format!(
                    "GitHub refused to merge #{}: {why}",
                    pull.number
                )));
            }
            let again = forge.api.checks(&pull.head_sha).map_err(github_error)?;
            if let Gate::Pending(names) = gate::judge(&required, &again) {
                return Ok(pending(forge, ctx, task, &pull, &names));
            }
            bring_up_to_date(forge, ctx, task, &pull, branch, &why)
        }
        // the head moved under the merge: someone pushed; when it did not, try again
        MergeOutcome::HeadMoved(why) => {
            let now = forge.api.pull(pull.number).map_err(github_error)?;
            if now.head_sha == pull.head_sha {
                return Ok(pending(
                    forge,
                    ctx,
                    task,
                    &pull,
                    &[format!("GitHub said: {why}")],
                ));
            }
            Ok(Landing::NeedsPerson(format!(
                "#{}'s head moved while it was merged ({why}): someone pushed to {branch}",
                pull.number
            )))
        }
    }
}

/// GitHub would not merge a PR whose checks are green: when the base moved, merge it
/// into the branch (pushed: the checks run again on the new head, a later pass merges
/// it) or, when they conflict, have the task done again on the new base.
fn bring_up_to_date(
    forge: &GitHubForge,
    ctx: &Ctx,
    task: &mut Task,
    pull: &Pull,
    branch: &str,
    why: &str,
) -> Result<Landing> {
    let base = &ctx.config.target.base_branch;
    let message = format!("merge {base} into {branch}");
    let clone = ctx.home.target_clone();
    match target::update::update_from_base(&clone, base, task.meta.id, branch, &message) {
        Ok(Updated::Merged(head)) => {
            forge.push(ctx, branch)?;
            task.meta.commit = Some(head);
            task.meta.checks_since = None;
            let names = [format!(
                "{base} moved: {branch} was brought up to date, its checks run again"
            )];
            Ok(pending(forge, ctx, task, pull, &names))
        }
        Ok(Updated::Conflict(files)) => Ok(Landing::Conflict(format!(
            "{base} moved since this change was made and conflicts with it in {}",
            if files.is_empty() {
                "some files".into()
            } else {
                files.join(", ")
            }
        ))),
        Ok(Updated::UpToDate) => Ok(pending(
            forge,
            ctx,
            task,
            pull,
            &[format!("GitHub said: {why}")],
        )),
        Err(e) => Ok(Landing::NeedsPerson(format!(
            "GitHub refused to merge #{} ({why}) and {branch} could not be brought up to date: {e}",
            pull.number
        ))),
    }
}

fn pending(
    forge: &GitHubForge,
    ctx: &Ctx,
    task: &mut Task,
    pull: &Pull,
    names: &[String],
) -> Landing {
    task.meta.checks = Some(Checks::Pending);
    if forge.waited_too_long(ctx, task) {
        return Landing::NeedsPerson(format!(
            "the checks of #{} ({}) have been pending for over {} minutes",
            pull.number,
            names.join(", "),
            forge.checks_timeout.num_minutes()
        ));
    }
    Landing::Pending(format!(
        "#{} waits for its checks: {}",
        pull.number,
        names.join(", ")
    ))
}
