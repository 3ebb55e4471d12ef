//! What a crash (SIGKILL, power loss) can leave between two steps of a task, put right at
//! the start of every `work` run. Each step writes the task file before the next begins,
//! so the state on disk says where a task stood:
//!
//! - in_progress with `stage: committed` (killed after the commit was written into the
//!   task, before the move): moved to in_review and judged, when its branch still points at
//!   that commit ([`committed_in_progress`]);
//! - in_progress otherwise: resumed by the loop at the attempt its front matter names
//!   ([`super::finish::resumes_at`]);
//! - in_review, and its commit is already in the base branch (killed after the merge,
//!   before the move): completed — the merge is repeated, which is a no-op that still
//!   pushes the base if the push was lost;
//! - in_review, committed but not merged and no approval recorded (killed after the commit,
//!   before the verdict): judged again by policy — merged when allowed, else it waits;
//! - in_review waiting for or approved by a person: left to them (and to
//!   `merge_approved`).
//!
//! Every recovery is an audit event `task.recovered`.

use super::review::Reviewer;
use super::{ACTOR, Ended, Stop, Tally, commit, finish};
use crate::context::Ctx;
use crate::error::Result;
use crate::store::Event;
use crate::target::Git;
use crate::tasks::{Stage, Task};

/// `Some(stop)` when a merge found to do could not be pushed: no more work may start.
pub(super) fn recover(ctx: &Ctx, reviewer: &Reviewer, tally: &mut Tally) -> Result<Option<Stop>> {
    for (mut task, branch) in super::in_review(ctx)? {
        let Some(found) = found(ctx, &task, &branch) else {
            continue;
        };
        let ended = match found {
            Found::Merged => {
                audit(ctx, &task, "merged into the base branch before the crash")?;
                finish::merge(
                    ctx,
                    reviewer.forge,
                    &mut task,
                    &branch,
                    "found merged after an interruption",
                )?
            }
            Found::Unjudged => {
                audit(ctx, &task, "committed, never judged")?;
                let doubts = doubts(ctx, &task, &branch);
                commit::rejudge(ctx, reviewer, &mut task, &branch, &doubts)?
            }
        };
        match ended {
            Ended::Interrupted(stop) => return Ok(Some(stop)),
            ended => tally.count(task.meta.id, &ended),
        }
    }
    Ok(None)
}

/// A task in progress whose commit is already made: judged instead of worked again, when
/// its branch still points at the commit its front matter names. `None`: work it.
pub(super) fn committed_in_progress(
    ctx: &Ctx,
    reviewer: &Reviewer,
    task: &mut Task,
) -> Result<Option<Ended>> {
    let (Some(Stage::Committed), Some(commit), Some(branch)) = (
        task.meta.stage,
        task.meta.commit.clone(),
        task.meta.branch.clone(),
    ) else {
        return Ok(None);
    };
    let git = Git::new(ctx.home.target_clone());
    let head = git
        .commit_of(&format!("refs/heads/{branch}"))
        .ok()
        .flatten();
    if head.as_deref() != Some(commit.as_str()) {
        tracing::warn!(
            "{}: {branch} no longer points at {commit}; the task is worked again",
            task.meta.id
        );
        task.meta.stage = None;
        task.meta.commit = None;
        return Ok(None);
    }
    audit(ctx, task, "committed, still in progress")?;
    let doubts = doubts(ctx, task, &branch);
    commit::review_committed(ctx, reviewer, task, &branch, &doubts).map(Some)
}

enum Found {
    Merged,
    Unjudged,
}

/// What a crash left of an in_review task, when it needs recovering. "Merged" is read from
/// the branch itself (its head is in the base branch, so merging it again changes nothing),
/// never from the task file's `commit:`, which could name any commit.
fn found(ctx: &Ctx, task: &Task, branch: &str) -> Option<Found> {
    let git = Git::new(ctx.home.target_clone());
    let base = &ctx.config.target.base_branch;
    let Some(head) = git
        .commit_of(&format!("refs/heads/{branch}"))
        .ok()
        .flatten()
    else {
        tracing::warn!(
            "{}: its branch {branch} is gone; left for a person",
            task.meta.id
        );
        return None;
    };
    let merged = git.probe(&[
        "merge-base",
        "--is-ancestor",
        &head,
        &format!("refs/heads/{base}"),
    ]);
    match merged {
        Ok(true) => Some(Found::Merged),
        // judged, its pull request's checks awaited: the loop's pass lands it
        Ok(false) if task.meta.checks.is_some() => None,
        Ok(false) if task.meta.approval.is_none() => Some(Found::Unjudged),
        Ok(false) => None,
        Err(e) => {
            tracing::warn!(
                "{}: cannot tell whether {branch} is merged: {e}",
                task.meta.id
            );
            None
        }
    }
}

/// Why a committed task found after a crash must not be merged without a person, read from
/// the branch and the policy as they are now rather than trusted from the task file: the
/// branch moved since dayshift's commit, the change touches protected paths, the task
/// declares removed tests, or no risk was written.
fn doubts(ctx: &Ctx, task: &Task, branch: &str) -> Vec<String> {
    let git = Git::new(ctx.home.target_clone());
    let base = &ctx.config.target.base_branch;
    let mut doubts = Vec::new();
    let head = git
        .commit_of(&format!("refs/heads/{branch}"))
        .ok()
        .flatten();
    if head.is_none() || head != task.meta.commit {
        doubts.push(format!(
            "{branch} does not point at the commit dayshift made"
        ));
    }
    let range = format!("refs/heads/{base}...refs/heads/{branch}");
    match git.run(&["diff", "--name-only", "--no-renames", "-z", &range], "") {
        Ok(names) => {
            let protected: Vec<&str> = names
                .split('\0')
                .filter(|p| !p.is_empty() && ctx.config.policy.protected_paths.matches(p))
                .collect();
            if !protected.is_empty() {
                doubts.push(format!(
                    "it touches protected paths: {}",
                    protected.join(", ")
                ));
            }
        }
        Err(e) => doubts.push(format!("its change cannot be read: {e}")),
    }
    if task.meta.removes_tests {
        doubts.push("the task removes tests (removes_tests)".into());
    }
    if task.meta.risk.is_none() {
        doubts.push("its risk is unknown".into());
    }
    doubts
}

fn audit(ctx: &Ctx, task: &Task, found: &str) -> Result<()> {
    ctx.audit(
        Event::new(ctx.now(), ACTOR, "task.recovered")
            .task(task.meta.id)
            .detail(serde_json::json!({"found": found, "branch": task.meta.branch})),
    )
}
