//! How a worked task ends: committed and merged (or waiting for a person), failed with its
//! reason, or put back in the backlog because the loop must stop. Each end is written in
//! the task file and the audit log.

use std::time::Duration;

use super::meter::Meter;
use super::{ACTOR, Ended, Stop};
use crate::config::policy::AutoMerge;
use crate::context::Ctx;
use crate::error::Result;
use crate::forge::{Forge, Landing};
use crate::review::Review;
use crate::store::Event;
use crate::target;
use crate::tasks::{Approval, Risk, Task, TaskState};

/// The end of a reviewed change: merged when nothing asks for a person (`escalate`) and
/// policy allows its risk without one, else waiting for a person with every reason. The
/// review (each layer, the risk and why) is written into the task file and the audit.
pub(super) fn judge_review(
    ctx: &Ctx,
    forge: &dyn Forge,
    task: &mut Task,
    branch: &str,
    review: &Review,
    escalate: Option<String>,
) -> Result<Ended> {
    let risk = review.risk.max(task.meta.risk.unwrap_or(Risk::Low));
    task.meta.risk = Some(risk);
    task.set_section("Review", &review.markdown());
    // people see the change where they work (a pull request) before it merges or waits
    if let Err(e) = forge.offer(ctx, task, branch, review) {
        return offer_failed(ctx, task, &e.to_string());
    }
    if let Some(why) = escalate {
        record_review(ctx, task, review, "escalated")?;
        return wait(ctx, task, &why);
    }
    let outcome = if merges_without_a_person(ctx.config.policy.auto_merge, risk) {
        "merge"
    } else {
        "waiting"
    };
    record_review(ctx, task, review, outcome)?;
    let why = if risk == Risk::Low {
        "policy merges nothing without a person".to_string()
    } else {
        format!(
            "risk {}: {}",
            crate::review::risk_word(risk),
            review.reasons.join("; ")
        )
    };
    judge(ctx, forge, task, branch, risk, &why)
}

/// The `review.done` event: each layer's verdict, the risk and what came of it (`outcome`:
/// merge, waiting, escalated, sent_back) — what the report and PROGRESS.md count.
fn record_review(ctx: &Ctx, task: &Task, review: &Review, outcome: &str) -> Result<()> {
    let layers: Vec<_> = review
        .layers
        .iter()
        .map(|l| {
            serde_json::json!({
                "layer": l.layer,
                "verdict": if l.skipped.is_some() { "skipped".into() } else { serde_json::json!(l.verdict) },
                "findings": l.findings.iter().map(|f| ctx.redact(&f.located())).collect::<Vec<_>>(),
            })
        })
        .collect();
    ctx.audit(
        Event::new(ctx.now(), "reviewer", "review.done")
            .task(task.meta.id)
            .detail(serde_json::json!({
                "risk": review.risk,
                "reviewer": task.meta.reviewer,
                "outcome": outcome,
                "layers": layers,
                "reasons": review.reasons.iter().map(|r| ctx.redact(r)).collect::<Vec<_>>(),
            })),
    )
}

/// The reviewer asks for changes: the task goes back to in_progress with the comments as
/// the coder's next feedback (`.dayshift/feedback/<ID>.txt`), its committed change kept on
/// the branch for the next attempt to build on.
pub(super) fn send_back(ctx: &Ctx, task: &mut Task, review: &Review) -> Result<Ended> {
    task.meta.review_rounds += 1;
    task.meta.stage = None;
    task.meta.commit = None;
    task.meta.next_attempt = Some(task.meta.attempts + 1);
    task.set_section("Review", &review.markdown());
    record_review(ctx, task, review, "sent_back")?;
    let feedback = ctx.redact(&review.feedback());
    save_feedback(&feedback_file(ctx, task), &feedback);
    ctx.move_task(
        task,
        TaskState::InProgress,
        "reviewer",
        &format!(
            "sent back to the coder (review round {}): {}",
            task.meta.review_rounds,
            review.headline()
        ),
    )?;
    Ok(Ended::SentBack(feedback))
}

/// Keep the next attempt's feedback (a resumed task still hears it). A failure to keep it
/// is warned about, never fatal: this run passes it on in memory.
pub(super) fn save_feedback(path: &std::path::Path, feedback: &str) {
    let saved = path.parent().map_or(Ok(()), std::fs::create_dir_all);
    if let Err(e) = saved.and_then(|()| crate::fsx::write_atomic(path, feedback.as_bytes())) {
        tracing::warn!("{}: {e}", path.display());
    }
}

/// Where the feedback for a task's next attempt is kept, so a resumed task still hears it.
pub(super) fn feedback_file(ctx: &Ctx, task: &Task) -> std::path::PathBuf {
    ctx.home
        .state_dir()
        .join("feedback")
        .join(format!("{}.txt", task.meta.id))
}

/// Merge a committed task when policy allows its risk without a person, else wait for one
/// (`why` says what a person must look at).
fn judge(
    ctx: &Ctx,
    forge: &dyn Forge,
    task: &mut Task,
    branch: &str,
    risk: Risk,
    why: &str,
) -> Result<Ended> {
    if merges_without_a_person(ctx.config.policy.auto_merge, risk) {
        let why = format!(
            "risk {}, which policy's auto_merge allows",
            crate::review::risk_word(risk)
        );
        return merge(ctx, forge, task, branch, &why);
    }
    wait(ctx, task, why)
}

/// Policy's `auto_merge` allows a change of `risk` without a person.
pub fn merges_without_a_person(auto_merge: AutoMerge, risk: Risk) -> bool {
    match auto_merge {
        AutoMerge::None => false,
        AutoMerge::Low => risk <= Risk::Low,
        AutoMerge::Medium => risk <= Risk::Medium,
    }
}

fn wait(ctx: &Ctx, task: &mut Task, why: &str) -> Result<Ended> {
    wait_for_person(
        ctx,
        task,
        &format!(
            "waiting for a person: {why}; `dayshift tasks approve {}` and the next work run merges it",
            task.meta.id
        ),
    )
}

/// Land the task's change through the forge ([`crate::forge::Forge::land`]: the clone's
/// base branch, pushed when origin takes it, or the pull request on green checks) and
/// complete it. Checks still running leave it in review (`checks: pending`) for a later
/// pass; a failed check sends it back to the coder with the failure (or fails it after
/// its last attempt); a merge that needs a person (a conflict, a base that diverged, a
/// dirty clone, a branch gone) waits for one with that reason; a remote or API that could
/// not be reached needs no decision: the task stays in review as it was and the loop
/// stops, saying what failed and what to do, and the next work run merges it again.
pub(super) fn merge(
    ctx: &Ctx,
    forge: &dyn Forge,
    task: &mut Task,
    branch: &str,
    why: &str,
) -> Result<Ended> {
    recover_git(ctx).map_err(crate::Error::Refused)?;
    let base = &ctx.config.target.base_branch;
    let message = super::message::merge_subject(task);
    let landing = match forge.land(ctx, task, branch, &message) {
        Ok(landing) => landing,
        Err(e) => Landing::Unreachable(e.to_string()),
    };
    let (head, pushed, note) = match landing {
        Landing::Merged { head, pushed, note } => (head, pushed, note),
        Landing::Unreachable(e) => return publish_failed(ctx, task, base, &e),
        Landing::NeedsPerson(e) => {
            return wait_for_person(ctx, task, &format!("waiting for a person: {e}"));
        }
        Landing::Pending(e) => return checks_pending(ctx, task, &e),
        Landing::ChecksFailed(feedback) => return checks_failed(ctx, task, &feedback),
        Landing::Conflict(why) => return start_over(ctx, task, branch, &why),
        Landing::Closed(e) => return fail(ctx, task, &format!("rejected: {e}")),
    };
    let _ = target::remove(&ctx.home.target_clone(), task.meta.id);
    let mut event = Event::new(ctx.now(), ACTOR, "task.merged").task(task.meta.id);
    event.commit = Some(head.clone());
    ctx.audit(event.detail(serde_json::json!({
        "why": why,
        "pushed": pushed,
        "note": note,
    })))?;
    let mut line = format!("merged into {base} at {} ({why})", short(&head));
    if let Some(note) = note {
        line.push_str(&format!("; {note}"));
    }
    ctx.move_task(task, TaskState::Completed, ACTOR, &line)?;
    Ok(Ended::Completed)
}

/// The change could not be offered (the branch not pushed, the PR not opened): like a
/// push that failed, the task stays in review unjudged and the loop stops; the next work
/// run judges it again ([`super::recover`]).
fn offer_failed(ctx: &Ctx, task: &mut Task, error: &str) -> Result<Ended> {
    let why = format!("the change could not be offered for review: {error}");
    task.log(
        ctx.now(),
        ACTOR,
        &format!("{why}; the task stays in review and the next work run tries again"),
    );
    ctx.save_task(
        task,
        ACTOR,
        "task.offer_failed",
        serde_json::json!({"why": why}),
    )?;
    Ok(Ended::Interrupted(Stop::PublishFailed(why)))
}

/// Checks still run on the pull request's head: the task waits in review (`checks:
/// pending` in its file) while other tasks are worked; a later pass lands it.
fn checks_pending(ctx: &Ctx, task: &mut Task, why: &str) -> Result<Ended> {
    let first = !task.body.contains(why);
    if first {
        task.log(ctx.now(), ACTOR, why);
    }
    ctx.save_task(
        task,
        ACTOR,
        "task.checks_pending",
        serde_json::json!({"why": why}),
    )?;
    Ok(Ended::ChecksPending)
}

/// The base moved and conflicts with the change: the branch is set back to the new base
/// and the task done again on it (an attempt), the conflict its feedback.
fn start_over(ctx: &Ctx, task: &mut Task, branch: &str, why: &str) -> Result<Ended> {
    let clone = ctx.home.target_clone();
    let base = &ctx.config.target.base_branch;
    if let Err(e) = target::update::restart_on_base(&clone, base, task.meta.id, branch) {
        return wait_for_person(
            ctx,
            task,
            &format!("waiting for a person: {why}, and the branch could not be set back: {e}"),
        );
    }
    let feedback = format!(
        "{why}. The branch now starts from the current {base}: make the change again on top of it."
    );
    back_to_coder(ctx, task, &feedback, why)
}

/// A required check failed on the pull request: its failure is the coder's next
/// feedback, as a failed test would be; after the last attempt the task fails with it.
fn checks_failed(ctx: &Ctx, task: &mut Task, feedback: &str) -> Result<Ended> {
    let headline = feedback
        .lines()
        .find(|l| l.starts_with("- check"))
        .unwrap_or("a check failed")
        .trim_start_matches("- ");
    back_to_coder(ctx, task, feedback, headline)
}

/// Back to the coder for the next attempt with `feedback` (`headline` in the log), or
/// failed with it after the last attempt.
fn back_to_coder(ctx: &Ctx, task: &mut Task, feedback: &str, headline: &str) -> Result<Ended> {
    let attempts = super::coder_attempts(ctx) + task.meta.review_rounds;
    if task.meta.attempts >= attempts {
        return fail(ctx, task, &format!("after the last attempt: {headline}"));
    }
    task.meta.stage = None;
    task.meta.commit = None;
    task.meta.checks = None;
    task.meta.checks_since = None;
    task.meta.next_attempt = Some(task.meta.attempts + 1);
    save_feedback(&feedback_file(ctx, task), feedback);
    ctx.move_task(
        task,
        TaskState::InProgress,
        ACTOR,
        &format!("back to the coder: {headline}"),
    )?;
    Ok(Ended::SentBack(feedback.to_string()))
}

/// The merge was made but could not reach origin (or origin could not be fetched): the
/// task stays in review untouched — its approval too — and the loop stops
/// ([`Stop::PublishFailed`]); the next work run merges it again ([`super::recover`]).
fn publish_failed(ctx: &Ctx, task: &mut Task, base: &str, error: &str) -> Result<Ended> {
    let why = format!("the merge into {base} could not be pushed: {error}");
    task.log(
        ctx.now(),
        ACTOR,
        &format!("{why}; the task stays in review and the next work run merges it again"),
    );
    ctx.save_task(
        task,
        ACTOR,
        "task.merge_failed",
        serde_json::json!({"why": why}),
    )?;
    Ok(Ended::Interrupted(Stop::PublishFailed(why)))
}

/// Where the clone's git metadata is recorded while a tool or the checks run
/// ([`target::meta::Held`]).
pub(super) fn git_record(ctx: &Ctx) -> std::path::PathBuf {
    ctx.home.state_dir().join("git-metadata")
}

/// Put back the clone's git metadata as it was before a run that was killed before it
/// could compare ([`target::meta::recover`]): `Ok(Some(line))` saying what was restored,
/// `Err(why)` when it cannot be checked — then nothing may use the clone, and the work run
/// stops with that reason, every task left as it was.
pub(super) fn recover_git(ctx: &Ctx) -> std::result::Result<Option<String>, String> {
    match target::meta::recover(&git_record(ctx)) {
        Ok(()) => Ok(None),
        Err(v @ target::Violation::Unverifiable { .. }) => Err(format!(
            "the clone's git metadata could not be checked against the record an interrupted run left ({v}); check {}/.git by hand (hooks, config, refs), then delete {}",
            ctx.home.target_clone().display(),
            git_record(ctx).display()
        )),
        Err(v) => {
            let line = format!("an interrupted run's tool {v}");
            tracing::warn!("{line}");
            Ok(Some(line))
        }
    }
}

fn wait_for_person(ctx: &Ctx, task: &mut Task, why: &str) -> Result<Ended> {
    task.meta.approval = Some(Approval::Pending);
    task.log(ctx.now(), ACTOR, why);
    ctx.save_task(
        task,
        ACTOR,
        "task.escalated",
        serde_json::json!({"why": why, "outcome": "waiting"}),
    )?;
    Ok(Ended::WaitingForPerson)
}

pub(super) fn fail(ctx: &Ctx, task: &mut Task, why: &str) -> Result<Ended> {
    let _ = target::remove(&ctx.home.target_clone(), task.meta.id);
    task.meta.stage = None;
    task.meta.next_attempt = None;
    ctx.move_task(task, TaskState::Failed, ACTOR, why)?;
    ctx.audit(
        Event::new(ctx.now(), ACTOR, "task.escalated")
            .task(task.meta.id)
            .detail(serde_json::json!({"why": why, "outcome": "failed"})),
    )?;
    Ok(Ended::Failed)
}

/// The loop must stop between attempts: the task stays in progress (its uncommitted change
/// was rolled back) and the next work run resumes it at `next_attempt` (front matter).
pub(super) fn pause(ctx: &Ctx, task: &mut Task, next_attempt: u32, stop: Stop) -> Result<Ended> {
    task.meta.next_attempt = Some(next_attempt);
    task.meta.stage = None;
    task.log(
        ctx.now(),
        ACTOR,
        &format!("paused before attempt {next_attempt}: {stop}; the next work run resumes it"),
    );
    ctx.save_task(
        task,
        ACTOR,
        "task.paused",
        serde_json::json!({"next_attempt": next_attempt, "why": stop.to_string()}),
    )?;
    Ok(Ended::Interrupted(stop))
}

/// The attempt a task left in progress resumes at, from its front matter: the one it was
/// paused before (`next_attempt`), else the one a crash interrupted (`attempts`; attempts
/// are not refunded). The log's prose is never read back.
pub(super) fn resumes_at(task: &Task) -> u32 {
    task.meta.next_attempt.unwrap_or(task.meta.attempts.max(1))
}

/// The `task.worked` event: how the task ended, its attempts, tokens and where the time
/// went (`overhead_ms` is dayshift's own share: all but the engine and the checks).
pub(super) fn record_worked(
    ctx: &Ctx,
    task: &Task,
    ended: &Ended,
    meter: &Meter,
    elapsed: Duration,
) -> Result<()> {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let overhead = elapsed.saturating_sub(meter.engine + meter.checks);
    let ended = match ended {
        Ended::Completed => "completed".to_string(),
        Ended::WaitingForPerson => "waiting".to_string(),
        Ended::Failed => "failed".to_string(),
        Ended::SentBack(_) => "sent back to the coder".to_string(),
        Ended::ChecksPending => "waiting for the pull request's checks".to_string(),
        Ended::Interrupted(stop) => format!("interrupted: {stop}"),
    };
    ctx.audit(
        Event::new(ctx.now(), ACTOR, "task.worked")
            .task(task.meta.id)
            .detail(serde_json::json!({
                "ended": ended,
                "attempts": task.meta.attempts,
                "tokens": meter.tokens,
                "cost_usd": meter.cost_usd,
                "elapsed_ms": ms(elapsed),
                "engine_ms": ms(meter.engine),
                "checks_ms": ms(meter.checks),
                "overhead_ms": ms(overhead),
            })),
    )
}

pub(super) fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}
