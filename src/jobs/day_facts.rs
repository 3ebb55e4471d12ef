//! Facts about a day that both the daily report ([`super::wrapup`]) and the summaries
//! sent to people ([`super::summary`]) state, found in one place so they always agree:
//! why an open task waits for a person, and why a job stopped the work early.

use crate::context::Ctx;
use crate::error::Result;
use crate::store::{Event, TaskRow};
use crate::tasks::Approval;

/// Why a job stopped the work before the day's tasks were done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopKind {
    /// The daily budget ran out.
    Budget,
    /// The model provider was unavailable.
    ProviderDown,
    /// A model the agents need could not be used (a refused key, a missing model).
    SetupNeedsFix,
}

impl StopKind {
    /// The kind of stop a run's error says, if it is one.
    pub(crate) fn of(error: &str) -> Option<StopKind> {
        if error.starts_with("budget:") {
            Some(StopKind::Budget)
        } else if error.contains(super::work::PROVIDER_DOWN) {
            Some(StopKind::ProviderDown)
        } else if error.contains(super::work::SETUP_NEEDS_FIX) {
            Some(StopKind::SetupNeedsFix)
        } else {
            None
        }
    }
}

/// The open tasks whose approval is pending, each with why it waits ([`waits_because`]).
pub(crate) fn waiting_on_person<'t>(
    ctx: &Ctx,
    tasks: &'t [TaskRow],
) -> Result<Vec<(&'t TaskRow, String)>> {
    tasks
        .iter()
        .filter(|t| t.state.is_open() && t.approval == Some(Approval::Pending))
        .map(|t| Ok((t, waits_because(ctx, t)?)))
        .collect()
}

/// Why an open task waits for a person: the `why` of its last `task.escalated` event (the
/// work loop writes one each time it hands a task to a person), else its recorded reason —
/// and, when an approval written into the file was set back to pending since, that too.
fn waits_because(ctx: &Ctx, task: &TaskRow) -> Result<String> {
    let last = |action: &str| -> Result<Option<Event>> {
        Ok(ctx.store.task_events(task.id, action)?.into_iter().last())
    };
    let escalated = last("task.escalated")?;
    let why = escalated
        .as_ref()
        .and_then(|e| e.detail["why"].as_str().map(str::to_string))
        .or_else(|| task.reason.clone())
        .unwrap_or_else(|| "no reason recorded (approval set by hand?)".to_string());
    // the next column says what to do: keep only the reason
    let why = why.strip_prefix("waiting for a person: ").unwrap_or(&why);
    let why = why.split("; `dayshift tasks approve").next().unwrap_or(why);
    let unverified =
        last("approval.unverified")?.filter(|u| escalated.as_ref().is_none_or(|e| u.at >= e.at));
    Ok(match unverified {
        Some(u) => format!(
            "{why}; `approval: approved` was written into the file, not given through `dayshift tasks approve` ({})",
            u.detail["why"]
                .as_str()
                .unwrap_or("no record of a person's approval")
        ),
        None => why.to_string(),
    })
}
