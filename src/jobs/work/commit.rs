//! Committing a change the layers passed and handing it to the reviewer: after an attempt
//! ([`commit`]), or again after an interruption left it committed ([`review_committed`],
//! [`rejudge`]). The reviewer then ends it through [`super::finish`].

use super::finish::{fail, judge_review, short};
use super::review::Reviewer;
use super::{ACTOR, Ended};
use crate::context::Ctx;
use crate::error::Result;
use crate::review::{Finding, Layer, LayerReport, Review};
use crate::target::{self, ChangeSet, Worktree};
use crate::tasks::{Risk, Stage, Task, TaskState};

/// Commit the attempt's change (the deterministic and QA layers passed: `review`), move it
/// to in_review, and have the model review it ([`super::review::judge_with_model`]).
pub(super) fn commit(
    ctx: &Ctx,
    reviewer: &Reviewer,
    task: &mut Task,
    worktree: &Worktree,
    changes: &ChangeSet,
    review: Review,
) -> Result<Ended> {
    let message = super::message::commit_message(task);
    if !changes.staged_elsewhere.is_empty() {
        let what = changes.staged_elsewhere.join(", ");
        let line = format!("the tool staged {what} in git's index; only its files were judged");
        task.log(ctx.now(), ACTOR, &line);
    }
    let sha = match target::commit(worktree, &message, task.meta.id, &changes.tree) {
        Ok(sha) => sha,
        Err(e) => return fail(ctx, task, &format!("the commit failed: {e}")),
    };
    let risk = review.risk;
    task.meta.risk = Some(risk);
    task.meta.reviewer = None;
    task.meta.branch = Some(worktree.branch.clone());
    task.meta.stage = Some(Stage::Committed);
    task.meta.commit = Some(sha.clone());
    task.meta.next_attempt = None;
    task.set_section("Review", &review.markdown());
    // written before the move: a crash between the two resumes at the verdict, not the engine
    ctx.save_task(
        task,
        ACTOR,
        "task.committed",
        serde_json::json!({"commit": sha, "branch": worktree.branch, "risk": risk}),
    )?;
    ctx.move_task(
        task,
        TaskState::InReview,
        ACTOR,
        &format!(
            "committed {} on {} (risk {})",
            short(&sha),
            worktree.branch,
            crate::review::risk_word(risk)
        ),
    )?;
    super::review::judge_with_model(ctx, reviewer, task, &worktree.branch, review)
}

/// A task a crash left committed but still in progress (killed between writing the commit
/// into its front matter and the move): moved to in_review and judged like [`rejudge`],
/// without running the engine again.
pub(super) fn review_committed(
    ctx: &Ctx,
    reviewer: &Reviewer,
    task: &mut Task,
    branch: &str,
    doubts: &[String],
) -> Result<Ended> {
    let sha = task.meta.commit.clone().unwrap_or_default();
    ctx.move_task(
        task,
        TaskState::InReview,
        ACTOR,
        &format!(
            "committed {} on {branch} (found after an interruption)",
            short(&sha)
        ),
    )?;
    rejudge(ctx, reviewer, task, branch, doubts)
}

/// A committed task a crash (or a stop during its model review) left before it was merged
/// or set to wait (no approval recorded): judged again as if just committed. The risk
/// written at the commit counts only when nothing casts doubt on it (`doubts`: what the
/// branch itself shows — protected paths, a branch moved since, a declared test removal,
/// an unknown risk); any doubt makes it high, so a person decides. The model reviews it
/// again when it has not yet.
pub(super) fn rejudge(
    ctx: &Ctx,
    reviewer: &Reviewer,
    task: &mut Task,
    branch: &str,
    doubts: &[String],
) -> Result<Ended> {
    let written = task.meta.risk.unwrap_or(Risk::High);
    let risk = if doubts.is_empty() {
        written
    } else {
        Risk::High
    };
    task.meta.risk = Some(risk);
    let mut findings: Vec<Finding> = doubts
        .iter()
        .map(|d| Finding::warn(Layer::Policy, "recovery.doubt", Risk::High, d.clone()))
        .collect();
    if written > Risk::Low {
        findings.push(Finding::warn(
            Layer::Policy,
            "recovery.written_risk",
            written,
            "the risk written when it was committed",
        ));
    }
    let review = Review::new(vec![LayerReport::new(
        Layer::Policy,
        "judged again after an interruption",
        findings,
    )]);
    if task.meta.reviewer.is_none() {
        return super::review::judge_with_model(ctx, reviewer, task, branch, review);
    }
    judge_review(ctx, reviewer.forge, task, branch, &review, None)
}
