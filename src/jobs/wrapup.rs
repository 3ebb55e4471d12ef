//! `wrapup` (orchestrator, model-free): reports/daily/YYYY-MM-DD.md and PROGRESS.md.
//!
//! Both files are rewritten whole from the store and the folders, so running the wrap-up
//! twice updates them instead of appending.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::JobName;
use super::daily_plan::DailyPlan;
use super::morning::budget_line;
use super::runner::JobOutcome;
use crate::context::Ctx;
use crate::error::Result;
use crate::markdown::{stamp, table};
use crate::store::{Event, TaskRow};
use crate::tasks::{Approval, TaskState};
use crate::vision::Snapshot;

pub fn run(ctx: &mut Ctx, day: NaiveDate) -> Result<JobOutcome> {
    let tasks = ctx.store.tasks()?;
    let report_path = ctx.home.daily_report(day);
    ctx.write_redacted(&report_path, &render_report(ctx, day, &tasks)?)?;
    let progress_path = ctx.home.progress();
    ctx.write_redacted(&progress_path, &render_progress(ctx, day, &tasks)?)?;
    let detail =
        serde_json::json!({"day": day, "report": ctx.home.display_path(&report_path).to_string()});
    ctx.audit(Event::new(ctx.now(), JobName::Wrapup.agent(), "report.written").detail(detail))?;
    let open = tasks.iter().filter(|t| t.state.is_open()).count();
    Ok(JobOutcome {
        job: JobName::Wrapup,
        day,
        summary: format!(
            "report for {day} written; {open} task(s) open, {} in total",
            tasks.len()
        ),
        wrote: vec![report_path, progress_path],
    })
}

fn render_report(ctx: &Ctx, day: NaiveDate, tasks: &[TaskRow]) -> Result<String> {
    let plan: Option<DailyPlan> = ctx
        .store
        .load_plan(day)?
        .and_then(|j| serde_json::from_str(&j).ok());
    let by_id: BTreeMap<String, &TaskRow> = tasks.iter().map(|t| (t.id.to_string(), t)).collect();
    let events = ctx.store.events_on(day)?;
    let spent = ctx.store.usage_by_task(day)?;
    let moved_to = |state: TaskState| -> Vec<Vec<String>> {
        let mut rows: Vec<Vec<String>> = events
            .iter()
            .filter(|e| e.action == "task.moved" && e.detail["to"] == serde_json::json!(state))
            .filter_map(|e| {
                let id = e.task?.to_string();
                let task = by_id.get(&id);
                let title = task.map_or(String::new(), |t| t.title.clone());
                let attempts = task.map_or(0, |t| t.attempts);
                let tokens = spent.get(&id).map_or(0, |u| u.tokens);
                let why = e.detail["why"]
                    .as_str()
                    .unwrap_or("moved by hand")
                    .to_string();
                Some(vec![
                    id,
                    title,
                    attempts.to_string(),
                    tokens.to_string(),
                    e.actor.clone(),
                    why,
                ])
            })
            .collect();
        rows.dedup();
        rows
    };
    let mut out = format!(
        "# Daily report — {day}\n\n_Written by dayshift (orchestrator) at {}._\n\n",
        stamp(ctx.now())
    );

    out.push_str("## Planned\n\n");
    match &plan {
        None => out.push_str("No plan was made this day (the morning job did not run).\n\n"),
        Some(plan) if plan.to_plan().next().is_none() => {
            out.push_str("The plan had no goal for this day.\n\n")
        }
        Some(plan) => {
            let rows: Vec<Vec<String>> = plan
                .to_plan()
                .map(|g| {
                    let goal_tasks: Vec<String> = tasks
                        .iter()
                        .filter(|t| t.goal.as_deref() == Some(g.goal_id.as_str()))
                        .map(|t| format!("{} {}", t.id, t.state))
                        .collect();
                    let tasks = if goal_tasks.is_empty() {
                        "—".to_string()
                    } else {
                        goal_tasks.join("; ")
                    };
                    vec![
                        g.priority.to_string(),
                        format!("{} (`{}`)", g.text, g.goal_id),
                        tasks,
                    ]
                })
                .collect();
            out.push_str(&table(&["priority", "goal", "tasks now"], &rows));
            out.push('\n');
        }
    }

    for (heading, state) in [
        ("Done", TaskState::Completed),
        ("Failed", TaskState::Failed),
    ] {
        out.push_str(&format!("## {heading}\n\n"));
        let rows = moved_to(state);
        if rows.is_empty() {
            out.push_str("None.\n\n");
        } else {
            out.push_str(&table(
                &["task", "title", "attempts", "tokens", "by", "why"],
                &rows,
            ));
            out.push('\n');
        }
    }

    out.push_str("## Waiting on a person\n\n");
    let waiting: Vec<Vec<String>> = tasks
        .iter()
        .filter_map(|t| {
            let what = match (t.state, t.approval) {
                (TaskState::Failed, _) => format!(
                    "failed: {} — `dayshift tasks retry {}` to try again",
                    t.reason.as_deref().unwrap_or("no reason recorded"),
                    t.id
                ),
                (s, Some(Approval::Pending)) if s.is_open() => {
                    format!(
                        "needs approval — `dayshift tasks approve {}` or `reject {}`",
                        t.id, t.id
                    )
                }
                _ => return None,
            };
            Some(vec![t.id.to_string(), t.title.clone(), what])
        })
        .collect();
    if waiting.is_empty() {
        out.push_str("Nobody is waited on.\n\n");
    } else {
        out.push_str(&table(&["task", "title", "what is needed"], &waiting));
        out.push('\n');
    }

    out.push_str("## Queue\n\n");
    let counts: Vec<Vec<String>> = TaskState::ALL
        .iter()
        .map(|s| {
            vec![
                s.to_string(),
                tasks.iter().filter(|t| t.state == *s).count().to_string(),
            ]
        })
        .collect();
    out.push_str(&table(&["state", "tasks"], &counts));
    out.push('\n');

    out.push_str(&format!(
        "## Spend\n\nBudget: {}.\n\n",
        budget_line(ctx, day)?
    ));
    let usage = ctx.store.usage_by_agent(day, 1)?;
    if !usage.is_empty() {
        let rows: Vec<Vec<String>> = usage
            .iter()
            .map(|u| {
                vec![
                    u.agent.clone(),
                    u.calls.to_string(),
                    u.input_tokens.to_string(),
                    u.output_tokens.to_string(),
                    format!("${:.4}", u.cost_usd),
                ]
            })
            .collect();
        out.push_str(&table(
            &["agent", "calls", "input tokens", "output tokens", "cost"],
            &rows,
        ));
        out.push('\n');
    }

    let mut job_lines: BTreeMap<String, String> = BTreeMap::new();
    for run in ctx.store.runs_on(day)? {
        let outcome = match run.outcome {
            Some(outcome) => outcome,
            None if run.job == JobName::Wrapup.as_str() => "writing this report".into(),
            None => "running".into(),
        };
        let line = match run.error {
            Some(err) => format!("{outcome}: {err}"),
            None => outcome,
        };
        job_lines.insert(run.job, line);
    }
    let runs = ctx.store.runs_on(day)?;
    let stop_lines = |is_stop: fn(&str) -> bool| -> Vec<String> {
        runs.iter()
            .filter_map(|r| {
                let e = r.error.as_deref().filter(|e| is_stop(e))?;
                Some(format!("- {}: {e}", r.job))
            })
            .collect()
    };
    let budget_stops = stop_lines(|e| e.starts_with("budget:"));
    let outages = stop_lines(|e| e.contains(crate::jobs::work::PROVIDER_DOWN));
    let setup_stops = stop_lines(|e| e.contains(crate::jobs::work::SETUP_NEEDS_FIX));
    if !budget_stops.is_empty() {
        out.push_str("## Stopped early\n\nThe daily budget ran out; the rest of the day waits for tomorrow.\n\n");
        out.push_str(&budget_stops.join("\n"));
        out.push_str("\n\n");
    }
    if !outages.is_empty() {
        out.push_str("## Work stopped: the model provider was unavailable\n\nNo task was failed for it; the tasks stay where they were and the next work run resumes them.\n\n");
        out.push_str(&outages.join("\n"));
        out.push_str("\n\n");
    }
    if !setup_stops.is_empty() {
        out.push_str("## Work stopped: the setup needs a fix\n\nThe coding tool could not reach a working model (the line says what to fix; `dayshift doctor` checks it). No task was failed and no attempt was used; the next work run after the fix resumes them.\n\n");
        out.push_str(&setup_stops.join("\n"));
        out.push_str("\n\n");
    }
    out.push_str("## Jobs\n\n");
    for (job, line) in &job_lines {
        out.push_str(&format!("- {job}: {line}\n"));
    }
    if job_lines.is_empty() {
        out.push_str("No job ran.\n");
    }
    out.push('\n');

    let problems = ctx.store.task_problems(&ctx.home)?;
    if !problems.is_empty() {
        out.push_str("## Task files that cannot be read\n\nThey were left where they are; fix them and the next job picks them up.\n\n");
        for p in problems {
            out.push_str(&format!("- {p}\n"));
        }
        out.push('\n');
    }
    Ok(out)
}

fn render_progress(ctx: &Ctx, day: NaiveDate, tasks: &[TaskRow]) -> Result<String> {
    let snapshot = match Snapshot::load(&ctx.home.snapshots_dir(), day)? {
        Some(s) => Some(s),
        None => Snapshot::latest_before(&ctx.home.snapshots_dir(), day)?,
    };
    let mut out = format!(
        "# Progress\n\n_Updated by dayshift at {} (wrap-up of {day})._\n\n",
        stamp(ctx.now())
    );
    let goals = snapshot.map(|s| s.goals).unwrap_or_default();
    if goals.is_empty() {
        out.push_str("No goals yet: the morning job has not read VISION.md.\n\n");
    } else {
        let rows: Vec<Vec<String>> = goals
            .iter()
            .map(|g| {
                let mine: Vec<&TaskRow> = tasks
                    .iter()
                    .filter(|t| t.goal.as_deref() == Some(g.id.as_str()))
                    .collect();
                vec![
                    format!("{} (`{}`)", g.text, g.id),
                    g.priority.to_string(),
                    goal_state(&mine).to_string(),
                    task_refs(&mine),
                ]
            })
            .collect();
        out.push_str(&table(&["goal", "priority", "state", "tasks"], &rows));
        out.push('\n');
    }
    let known: std::collections::BTreeSet<&str> = goals.iter().map(|g| g.id.as_str()).collect();
    let others: Vec<Vec<String>> = tasks
        .iter()
        .filter(|t| t.goal.as_deref().is_none_or(|g| !known.contains(g)))
        .map(|t| {
            let origin = t
                .goal
                .clone()
                .or_else(|| t.source.clone())
                .unwrap_or_else(|| "—".into());
            vec![
                t.id.to_string(),
                t.title.clone(),
                origin,
                t.state.to_string(),
            ]
        })
        .collect();
    if !others.is_empty() {
        out.push_str("## Tasks not tied to a current goal\n\n");
        out.push_str(&table(
            &["task", "title", "goal or source", "state"],
            &others,
        ));
        out.push('\n');
    }
    Ok(out)
}

fn goal_state(tasks: &[&TaskRow]) -> &'static str {
    let any = |s: TaskState| tasks.iter().any(|t| t.state == s);
    if tasks.is_empty() {
        "not started"
    } else if any(TaskState::InProgress) {
        "in progress"
    } else if any(TaskState::InReview) {
        "in review"
    } else if any(TaskState::Backlog) {
        "planned"
    } else if any(TaskState::Completed) {
        "done"
    } else {
        "failed"
    }
}

fn task_refs(tasks: &[&TaskRow]) -> String {
    if tasks.is_empty() {
        return "—".into();
    }
    tasks
        .iter()
        .map(|t| format!("{} {}", t.id, t.state))
        .collect::<Vec<_>>()
        .join("; ")
}
