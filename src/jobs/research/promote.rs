//! A person promoting a research proposal to a task: `dayshift tasks approve P-<n>`. The
//! proposal is the `research.proposed` event numbered `n` (the morning's plan lists each
//! with its id); the task goes to the backlog with `source: proposal:P-<n>`, its text the
//! proposal's, the files it names resolved in the target. A proposal is promoted once; the
//! promotion is audited with who did it. Nothing else ever turns a proposal into work.

use super::ACTOR;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::store::Event;
use crate::tasks::queue::TaskDraft;
use crate::tasks::{Task, TaskKind};
use crate::vision::Priority;

/// The id a proposal is shown and approved by.
pub fn proposal_id(event: i64) -> String {
    format!("P-{event}")
}

/// The task `proposal` (`P-<n>`) was promoted to, if it was: the task whose source names
/// it (the task file is the truth, so a crash after its creation cannot promote twice).
pub fn promoted(ctx: &Ctx, proposal: &str) -> Result<Option<String>> {
    let source = format!("proposal:{proposal}");
    Ok(ctx
        .store
        .tasks()?
        .into_iter()
        .find(|t| t.source.as_deref() == Some(source.as_str()))
        .map(|t| t.id.to_string()))
}

/// Make proposal `number` a backlog task, as `by`'s act.
pub fn promote(ctx: &Ctx, number: i64, by: &str) -> Result<Task> {
    let id = proposal_id(number);
    let event = ctx
        .store
        .event_numbered(number)?
        .filter(|e| e.action == "research.proposed")
        .ok_or_else(|| {
            Error::Usage(format!(
                "{id} is not a research proposal; DAILY_PLAN.md lists them under \"Proposals from research\""
            ))
        })?;
    if let Some(task) = promoted(ctx, &id)? {
        return Err(Error::Refused(format!("{id} is a task already: {task}")));
    }
    let text = |key: &str| event.detail[key].as_str().unwrap_or_default().to_string();
    let (title, why, report) = (text("title"), text("why"), text("report"));
    let tracked = crate::vision::files_named::tracked_files(&ctx.home.target_clone());
    let draft = TaskDraft {
        title: title.clone(),
        priority: Priority::Medium,
        goal: None,
        source: Some(format!("proposal:{id}")),
        kind: TaskKind::Code,
        files: crate::vision::files_named::files_named_in(&format!("{title} {why}"), &tracked),
        depends_on: Vec::new(),
        acceptance: vec![format!("what {report} recommends for it is done")],
        difficulty: None,
        description: format!("{why}\n\nProposed by the researcher in {report}; promoted by {by}."),
        plan_key: None,
    };
    let (home, store) = (&ctx.home, &ctx.store);
    let mut created = ctx
        .queue
        .create_all(vec![draft], "human", ctx.now(), |task| {
            store.mirror_task(home, task)
        })?;
    let task = created.pop().expect("one draft, one task");
    ctx.audit(
        Event::new(ctx.now(), "human", "task.created")
            .task(task.meta.id)
            .detail(serde_json::json!({"source": task.meta.source, "title": task.meta.title})),
    )?;
    ctx.audit(
        Event::new(ctx.now(), "human", "proposal.promoted")
            .task(task.meta.id)
            .detail(serde_json::json!({"proposal": id, "by": by, "report": report, "proposed_by": ACTOR, "title": task.meta.title})),
    )?;
    Ok(task)
}
