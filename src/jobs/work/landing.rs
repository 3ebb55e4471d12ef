//! Landing changes in review: on each pass of the work loop, what people decided where a
//! change was offered ([`super::people`]), then the merges that may go ahead; and
//! [`land_now`] for a change a person approved on the spot (`dayshift rollback`).

use super::review::Reviewer;
use super::{ACTOR, Ended, Stop, Tally, finish, people};
use crate::context::{Ctx, Verdict};
use crate::error::{Error, Result};
use crate::tasks::{Approval, Task};

/// Offer and land one committed task a person approved right now (`dayshift rollback`),
/// through the forge the config names: local-only merged at once; with GitHub its pull
/// request opened and merged when its checks are green, else left for the next work pass.
/// Returns what came of it, in words.
pub fn land_now(
    ctx: &Ctx,
    task: &mut Task,
    review: &crate::review::Review,
    why: &str,
) -> Result<String> {
    let forge = crate::forge::from_config(ctx)?;
    let branch = task.meta.branch.clone().unwrap_or_default();
    forge.offer(ctx, task, &branch, review)?;
    let ended = finish::merge(ctx, forge.as_ref(), task, &branch, why)?;
    Ok(match ended {
        Ended::Completed => "merged".to_string(),
        Ended::Interrupted(stop) => return Err(Error::Halted(stop.to_string())),
        other => other.to_string(),
    })
}

/// The tasks in review, on each pass: what people decided where the change was offered
/// ([`crate::forge::Forge::decisions`]: approved, closed, changes asked for), then the
/// merges that can go ahead — those a person approved, and those policy allowed whose
/// checks were pending. `Some(stop)` when a merge could not be pushed or GitHub could not
/// be reached.
///
/// `approval: approved` in the file is only a claim (a tool in the home can write it): a
/// task merges only when the store records a person's approval of the commit its branch
/// points at now, and the merge is logged as approved by who and when that record says. A
/// claim without one is flagged and set back to pending, never merged.
pub(super) fn land_reviewed(
    ctx: &Ctx,
    reviewer: &Reviewer,
    tally: &mut Tally,
    asked: &mut std::collections::BTreeSet<crate::tasks::TaskId>,
) -> Result<Option<Stop>> {
    for (mut task, branch) in super::in_review(ctx)? {
        let decided = if asked.insert(task.meta.id) {
            people::apply(ctx, reviewer, &mut task)
        } else {
            Ok(None)
        };
        let ended = match decided {
            Ok(Some(ended)) => Some(ended),
            Ok(None) => land_one(ctx, reviewer, &mut task, &branch)?,
            Err(e) => Some(Ended::Interrupted(Stop::PublishFailed(e.to_string()))),
        };
        match ended {
            Some(Ended::Interrupted(stop)) => return Ok(Some(stop)),
            Some(ended) => tally.count(task.meta.id, &ended),
            None => {}
        }
    }
    Ok(None)
}

/// Merge one task in review when it may: approved by a person (verified), or allowed by
/// policy with its checks pending. `None`: it still waits for a person.
fn land_one(
    ctx: &Ctx,
    reviewer: &Reviewer,
    task: &mut Task,
    branch: &str,
) -> Result<Option<Ended>> {
    if task.meta.approval == Some(Approval::Approved) {
        return Ok(Some(match ctx.verify_approval(task)? {
            Verdict::Granted { by, at } => {
                let why = format!("approved by {by} at {at}");
                finish::merge(ctx, reviewer.forge, task, branch, &why)?
            }
            Verdict::Unverified => {
                ctx.flag_unverified(
                    task,
                    ACTOR,
                    "no record of a person approving the commit its branch points at",
                )?;
                Ended::WaitingForPerson
            }
        }));
    }
    if task.meta.checks == Some(crate::tasks::Checks::Pending) && task.meta.approval.is_none() {
        let why = "policy allowed it; its checks were pending";
        return Ok(Some(finish::merge(ctx, reviewer.forge, task, branch, why)?));
    }
    Ok(None)
}
