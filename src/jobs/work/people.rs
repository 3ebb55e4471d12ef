//! What people decided where a change was offered (the pull request), applied to the task
//! exactly as the same act through dayshift would be: an approval is recorded like
//! `dayshift tasks approve` (then merged by the usual check), a close rejects the task, a
//! request for changes sends it back to the coder with the person's words as feedback.
//! Words from people without write access change nothing and are audited.

use super::review::Reviewer;
use super::{ACTOR, Ended, finish};
use crate::context::Ctx;
use crate::error::Result;
use crate::forge::Decision;
use crate::store::Event;
use crate::tasks::{Approval, Task, TaskState};

/// Apply what people decided about `task`; `Some(ended)` when that ended its wait (failed
/// or sent back), `None` when it stays in review (approved: the caller merges it).
pub(super) fn apply(ctx: &Ctx, reviewer: &Reviewer, task: &mut Task) -> Result<Option<Ended>> {
    let decisions = reviewer.forge.decisions(ctx, task)?;
    let mut ended = None;
    for decision in decisions {
        if ended.is_some() {
            break;
        }
        ended = match decision {
            Decision::Approve { by } => {
                approve(ctx, task, &by)?;
                None
            }
            Decision::Close { by } => {
                let why = format!("rejected: the pull request was closed by {by}");
                Some(finish::fail(ctx, task, &why)?)
            }
            Decision::RequestChanges { by, text } => Some(send_back(ctx, task, &by, &text)?),
            Decision::Ignored { by, what } => {
                ctx.audit(
                    Event::new(ctx.now(), "github", "github.ignored")
                        .task(task.meta.id)
                        .detail(serde_json::json!({"by": by, "what": what})),
                )?;
                None
            }
        };
    }
    reviewer.forge.acted_on(ctx, task)?;
    Ok(ended)
}

/// A person approved on the pull request: recorded as their act when the task waits for
/// one (the merge then goes through the usual verified-approval path).
fn approve(ctx: &Ctx, task: &mut Task, by: &str) -> Result<()> {
    if task.meta.approval != Some(Approval::Pending) {
        return Ok(());
    }
    ctx.grant_approval(task, &format!("{by} on GitHub"), "github")?;
    Ok(())
}

/// A person asked for changes: back to the coder, their words the next attempt's feedback
/// (an extra round, like the reviewer's).
fn send_back(ctx: &Ctx, task: &mut Task, by: &str, text: &str) -> Result<Ended> {
    let feedback = ctx.redact(&format!(
        "{by} asked for changes on the pull request (a person's words, to weigh like a reviewer's):\n\n{}",
        text.trim()
    ));
    task.meta.review_rounds += 1;
    task.meta.stage = None;
    task.meta.commit = None;
    task.meta.approval = None;
    task.meta.checks = None;
    task.meta.checks_since = None;
    task.meta.next_attempt = Some(task.meta.attempts + 1);
    finish::save_feedback(&finish::feedback_file(ctx, task), &feedback);
    ctx.move_task(
        task,
        TaskState::InProgress,
        ACTOR,
        &format!("sent back to the coder by {by} on the pull request"),
    )?;
    Ok(Ended::SentBack(feedback))
}
