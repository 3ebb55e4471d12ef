//! `dayshift rollback <TASK-ID> | --last`: undo an agent's merge, as a person's act — and
//! devops' revert of a merge whose deploy was unhealthy ([`undo`] with [`Undoer::Devops`]).
//!
//! The undo is a task of its own (`source: rollback:<ID>`), so it goes where every change
//! goes: a revert commit on its own branch ([`crate::target::revert`]), approved by the
//! person who asked (recorded like `dayshift tasks approve`), then landed through the
//! forge — local-only a merge into the base pushed to the remote at once; with GitHub a
//! revert pull request through the same gate (merged now when its checks are green, else by
//! the next work pass). The rolled-back task's file and the audit say who rolled back what.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::review::{Layer, LayerReport, Review};
use crate::store::Event;
use crate::target;
use crate::tasks::queue::TaskDraft;
use crate::tasks::{Risk, Stage, Task, TaskId, TaskKind, TaskState};

/// Which merge to undo.
#[derive(Debug, Clone, Copy)]
pub enum Which {
    Task(TaskId),
    /// The latest merge dayshift made.
    Last,
}

/// What a rollback did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RolledBack {
    pub task: TaskId,
    pub revert_task: TaskId,
    pub commit: String,
    /// `merged`, or what it waits for.
    pub outcome: String,
}

/// Who undoes a merge.
#[derive(Debug, Clone, Copy)]
pub enum Undoer<'a> {
    /// A person (`dayshift rollback`): the revert is approved by them.
    Person(&'a str),
    /// DevOps, after the merge's deploy was unhealthy or the base's tests broke (`why`):
    /// the revert of dayshift's own merge needs no approval; the task is marked reverted.
    Devops(&'a str),
}

impl Undoer<'_> {
    fn actor(&self) -> &'static str {
        match self {
            Undoer::Person(_) => "human",
            Undoer::Devops(_) => "devops",
        }
    }

    fn by(&self) -> &str {
        match self {
            Undoer::Person(by) => by,
            Undoer::Devops(_) => "devops",
        }
    }
}

pub fn rollback(ctx: &Ctx, which: Which, by: &str) -> Result<RolledBack> {
    let id = match which {
        Which::Task(id) => id,
        Which::Last => ctx
            .store
            .last_event("task.merged")?
            .and_then(|e| e.task)
            .ok_or_else(|| Error::Refused("dayshift has merged nothing yet".into()))?,
    };
    undo(ctx, id, Undoer::Person(by))
}

/// Revert the merge of completed task `id` as `who`: a revert task, landed through the
/// forge. Refused when the task is not completed or was rolled back already.
pub fn undo(ctx: &Ctx, id: TaskId, who: Undoer) -> Result<RolledBack> {
    let mut original = ctx.queue.find(id)?;
    if original.state != TaskState::Completed {
        return Err(Error::Refused(format!(
            "{id} is {}, not completed: only a merged task can be rolled back",
            original.state
        )));
    }
    if let Some(done) = ctx.store.task_events(id, "task.rolled_back")?.pop() {
        return Err(Error::Refused(format!(
            "{id} was rolled back already, by {} in {}",
            done.detail["by"].as_str().unwrap_or("someone"),
            done.detail["revert_task"]
                .as_str()
                .unwrap_or("another task")
        )));
    }
    let merged = ctx
        .store
        .task_events(id, "task.merged")?
        .pop()
        .and_then(|e| e.commit);
    let actor = who.actor();
    let by = who.by();
    let mut task = create(ctx, &original, actor)?;
    let commit = match revert(ctx, &mut task, id, merged.as_deref(), actor) {
        Ok(commit) => commit,
        Err(e) => {
            let why = format!("the rollback of {id} could not be made: {e}");
            let _ = target::remove(&ctx.home.target_clone(), task.meta.id);
            ctx.move_task(&mut task, TaskState::Failed, actor, &why)?;
            return Err(Error::Refused(why));
        }
    };
    let why = match who {
        Undoer::Person(by) => {
            ctx.grant_approval(&mut task, by, "cli")?;
            format!("rolled back by {by}")
        }
        Undoer::Devops(why) => format!("reverted by devops: {why}"),
    };
    let review = Review::new(vec![LayerReport::new(
        Layer::Policy,
        format!("a rollback of {id}: {why}"),
        Vec::new(),
    )]);
    let outcome = super::work::land_now(ctx, &mut task, &review, &why)?;
    original.log(
        ctx.now(),
        actor,
        &format!(
            "{why}: {} reverts it (commit {})",
            task.meta.id,
            &commit[..commit.len().min(10)]
        ),
    );
    if let Undoer::Devops(evidence) = who {
        original.meta.reverted = Some(commit.clone());
        original.meta.reason = Some(format!("reverted: {evidence}"));
    }
    let mut event = Event::new(ctx.now(), actor, "task.rolled_back")
        .task(id)
        .detail(serde_json::json!({
            "by": by,
            "revert_task": task.meta.id.to_string(),
            "outcome": outcome,
        }));
    event.commit = Some(commit.clone());
    ctx.save_task(&original, actor, "task.logged", serde_json::Value::Null)?;
    ctx.audit(event)?;
    Ok(RolledBack {
        task: id,
        revert_task: task.meta.id,
        commit,
        outcome,
    })
}

/// The rollback's own task, in progress.
fn create(ctx: &Ctx, original: &Task, actor: &str) -> Result<Task> {
    let id = original.meta.id;
    let draft = TaskDraft {
        title: format!("Roll back {id}: {}", original.meta.title),
        priority: original.meta.priority,
        goal: original.meta.goal.clone(),
        source: Some(format!("rollback:{id}")),
        kind: TaskKind::Code,
        files: original.meta.files.clone(),
        depends_on: Vec::new(),
        acceptance: vec![format!("what {id} changed on the base branch is undone")],
        difficulty: None,
        description: format!("Undo the merge of {id} ({}).", original.meta.title),
        plan_key: None,
    };
    let mut created = ctx
        .queue
        .create_all(vec![draft], actor, ctx.now(), |_| Ok(()))?;
    let mut task = created.pop().expect("one draft, one task");
    ctx.move_task(
        &mut task,
        TaskState::InProgress,
        actor,
        "a rollback of a merge",
    )?;
    Ok(task)
}

/// The revert commit on the task's branch; the task committed and in review.
fn revert(
    ctx: &Ctx,
    task: &mut Task,
    of: TaskId,
    merged: Option<&str>,
    actor: &str,
) -> Result<String> {
    let clone = ctx.home.target_clone();
    let slug = crate::tasks::id::slugify(&task.meta.title);
    let worktree = target::start_task(&clone, &ctx.config.target.base_branch, task.meta.id, &slug)?;
    let message = format!("revert: {of} ({})", task.meta.title);
    let commit = target::revert::revert_merge(&worktree, of, merged, &message, task.meta.id)?;
    task.meta.branch = Some(worktree.branch.clone());
    task.meta.commit = Some(commit.clone());
    task.meta.stage = Some(Stage::Committed);
    task.meta.risk = Some(Risk::Low);
    ctx.move_task(
        task,
        TaskState::InReview,
        actor,
        &format!("revert of {of} committed on {}", worktree.branch),
    )?;
    Ok(commit)
}
