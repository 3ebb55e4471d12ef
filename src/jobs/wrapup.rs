//! `wrapup` (orchestrator, model-free): reports/daily/YYYY-MM-DD.md and PROGRESS.md.
//!
//! Both files are rewritten whole from the store and the folders, so running the wrap-up
//! twice updates them instead of appending. The Planned table is the day's stored plan
//! (which a re-run of the morning never shrinks), whatever is open now.
//!
//! Each task is in one section: Done and Failed list the day's moves (failed tasks of
//! earlier days are named under Failed, never as waiting); "Waiting on a person" lists only
//! open tasks with an approval pending, each with the reason it waits — the `why` of its
//! last `task.escalated` event (protected path, risk, failed merge or push, removed tests).
//! The Spend table counts what each row is: a coding tool's runs (one usage record per run,
//! however many requests the tool made inside it) or dayshift's own model requests.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::JobName;
use super::daily_plan::DailyPlan;
use super::day_facts::{StopKind, waiting_on_person};
use super::morning::budget_line;
use super::outcome::JobOutcome;
use crate::context::Ctx;
use crate::error::Result;
use crate::markdown::{stamp, table};
use crate::store::{Event, TaskRow};
use crate::tasks::TaskState;
use crate::vision::Snapshot;

pub fn run(ctx: &mut Ctx, day: NaiveDate) -> Result<JobOutcome> {
    let tasks = ctx.store.tasks()?;
    let report_path = ctx.home.daily_report(day);
    let (chart, look_back) = super::history_chart::write(ctx, day);
    ctx.write_redacted(&report_path, &render_report(ctx, day, &tasks, &look_back)?)?;
    let progress_path = ctx.home.progress();
    ctx.write_redacted(&progress_path, &render_progress(ctx, day, &tasks)?)?;
    let detail =
        serde_json::json!({"day": day, "report": ctx.home.display_path(&report_path).to_string()});
    ctx.audit(Event::new(ctx.now(), JobName::Wrapup.agent(), "report.written").detail(detail))?;
    let open = tasks.iter().filter(|t| t.state.is_open()).count();
    let mut summary = format!(
        "report for {day} written; {open} task(s) open, {} in total",
        tasks.len()
    );
    // the dashboard where people work; the report stands whatever happens to it
    match crate::forge::from_config(ctx).and_then(|f| f.update_dashboard(ctx, day)) {
        Ok(Some(at)) => summary.push_str(&format!("; dashboard updated: {at}")),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!("the dashboard could not be updated: {e}");
            summary.push_str(&format!("; the dashboard could not be updated ({e})"));
        }
    }
    Ok(JobOutcome {
        job: JobName::Wrapup,
        day,
        summary,
        wrote: [report_path, progress_path]
            .into_iter()
            .chain(chart)
            .collect(),
    })
}

/// `look_back`: markdown put under the heading (the 14-day chart's link and sparklines).
fn render_report(ctx: &Ctx, day: NaiveDate, tasks: &[TaskRow], look_back: &str) -> Result<String> {
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
    out.push_str(look_back);

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
        let mut rows = moved_to(state);
        // a task moved on since (a failed task retried, a completed one reopened by hand)
        // says where it is now, so this table and the Queue agree
        for row in &mut rows {
            if let Some(now) = by_id.get(&row[0]).map(|t| t.state).filter(|s| *s != state) {
                row[5].push_str(&format!(" (now {now})"));
            }
        }
        if rows.is_empty() {
            out.push_str("None.\n\n");
        } else {
            out.push_str(&table(
                &["task", "title", "attempts", "tokens", "by", "why"],
                &rows,
            ));
            out.push('\n');
        }
        if state == TaskState::Failed {
            out.push_str(&still_failed(tasks, &rows));
        }
    }

    out.push_str("## Waiting on a person\n\n");
    let mut waiting: Vec<Vec<String>> = Vec::new();
    for (t, why) in waiting_on_person(ctx, tasks)? {
        waiting.push(vec![
            t.id.to_string(),
            t.title.clone(),
            why,
            format!(
                "`dayshift tasks approve {}` (the next work run merges it) or `dayshift tasks reject {}`",
                t.id, t.id
            ),
        ]);
    }
    if waiting.is_empty() {
        out.push_str("Nobody is waited on.\n\n");
    } else {
        out.push_str(&table(
            &["task", "title", "why it waits", "what is needed"],
            &waiting,
        ));
        out.push('\n');
    }

    out.push_str(&reviewed(&events, &by_id));
    out.push_str(&super::deploy::report::section(&events));
    out.push_str(&super::monitor::report::section(&events));
    out.push_str(&unpushed(ctx, tasks)?);
    out.push_str(&where_merges_are(ctx));

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
                    counted(ctx, &u.agent, u.calls),
                    u.input_tokens.to_string(),
                    u.output_tokens.to_string(),
                    format!("${:.4}", u.cost_usd),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "agent",
                "tool runs / model requests",
                "input tokens",
                "output tokens",
                "cost",
            ],
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
    let stop_lines = |kind: StopKind| -> Vec<String> {
        runs.iter()
            .filter_map(|r| {
                let e = r
                    .error
                    .as_deref()
                    .filter(|e| StopKind::of(e) == Some(kind))?;
                Some(format!("- {}: {e}", r.job))
            })
            .collect()
    };
    let budget_stops = stop_lines(StopKind::Budget);
    let outages = stop_lines(StopKind::ProviderDown);
    let setup_stops = stop_lines(StopKind::SetupNeedsFix);
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
        out.push_str("## Work stopped: the setup needs a fix\n\nA model the agents need (the coding tool's, or the reviewer's) could not be used (the line says what to fix; `dayshift doctor` checks it). No task was failed and no attempt was used; the next work run after the fix resumes them.\n\n");
        out.push_str(&setup_stops.join("\n"));
        out.push_str("\n\n");
    }
    let held: Vec<String> = runs
        .iter()
        .filter_map(|r| {
            let detail = r.detail.as_deref()?;
            let why = detail.split("stopped: ").nth(1)?;
            (why.starts_with("pr_hourly_limit") || why.starts_with("pr_concurrent_limit"))
                .then(|| format!("- {}: {why}", r.job))
        })
        .collect();
    if !held.is_empty() {
        out.push_str("## New tasks held by the pull request limits\n\nTasks in the backlog waited: target.yaml's `pr_hourly_limit` / `pr_concurrent_limit` were reached. They are taken when a pull request merges or closes, or the hour passes.\n\n");
        out.push_str(&held.join("\n"));
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

/// Failed tasks that did not fail on this day (so are not in its Failed table), named in
/// one line with how to try one again.
fn still_failed(tasks: &[TaskRow], failed_today: &[Vec<String>]) -> String {
    let today: std::collections::BTreeSet<&str> = failed_today
        .iter()
        .filter_map(|r| r.first().map(String::as_str))
        .collect();
    let earlier: Vec<String> = tasks
        .iter()
        .filter(|t| t.state == TaskState::Failed && !today.contains(t.id.to_string().as_str()))
        .map(|t| t.id.to_string())
        .collect();
    if earlier.is_empty() {
        return String::new();
    }
    format!(
        "Failed on earlier days and still failed: {}. `dayshift tasks retry <id>` tries one again.\n\n",
        earlier.join(", ")
    )
}

/// Tasks merged in the clone whose push failed (in review, no person asked): what failed,
/// from their last `task.merge_failed` event. Empty when there are none.
fn unpushed(ctx: &Ctx, tasks: &[TaskRow]) -> Result<String> {
    let mut rows = Vec::new();
    for t in tasks
        .iter()
        .filter(|t| t.state == TaskState::InReview && t.approval.is_none())
    {
        let Some(failed) = ctx.store.task_events(t.id, "task.merge_failed")?.pop() else {
            continue;
        };
        let why = failed.detail["why"].as_str().unwrap_or("").to_string();
        rows.push(vec![t.id.to_string(), t.title.clone(), why]);
    }
    if rows.is_empty() {
        return Ok(String::new());
    }
    Ok(format!(
        "## Not merged yet: the push failed\n\nNobody needs to decide anything: fix what the message says and the next work run merges them.\n\n{}\n",
        table(&["task", "title", "what failed"], &rows)
    ))
}

/// Where the day's merges are, when that is not origin: a person's own checkout as `repo`
/// keeps them in the clone ([`crate::target::publish`]). Empty otherwise.
fn where_merges_are(ctx: &Ctx) -> String {
    let clone = ctx.home.target_clone();
    let base = &ctx.config.target.base_branch;
    match crate::target::publish_plan(&clone, base) {
        Ok(plan @ crate::target::Publish::KeepInClone { .. }) => format!(
            "## Where the merges are\n\nNot pushed: {}.\n\n",
            plan.describe(&clone, base)
        ),
        _ => String::new(),
    }
}

/// The day's reviews (`review.done` events): each change's risk, the reviewer model's
/// verdict, what came of it and why, newest review of a task last.
fn reviewed(events: &[Event], by_id: &BTreeMap<String, &TaskRow>) -> String {
    let rows: Vec<Vec<String>> = events
        .iter()
        .filter(|e| e.action == "review.done")
        .filter_map(|e| {
            let id = e.task?.to_string();
            let d = &e.detail;
            let word = |v: &serde_json::Value| v.as_str().unwrap_or("—").replace('_', " ");
            let reasons: Vec<&str> = d["reasons"]
                .as_array()
                .map(|r| r.iter().filter_map(|x| x.as_str()).take(3).collect())
                .unwrap_or_default();
            Some(vec![
                id.clone(),
                by_id.get(&id).map_or(String::new(), |t| t.title.clone()),
                word(&d["risk"]),
                word(&d["reviewer"]),
                match d["outcome"].as_str() {
                    Some("merge") => "merged by policy",
                    Some("sent_back") => "sent back",
                    Some("waiting") => "waits for a person",
                    Some("escalated") => "escalated",
                    _ => "—",
                }
                .to_string(),
                reasons.join("; "),
            ])
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let count = |what: &str| rows.iter().filter(|r| r[4] == what).count();
    format!(
        "## Reviewed\n\n{} review(s): {} merged by policy, {} sent back to the coder, {} waiting for a person, {} escalated by the reviewer.\n\n{}\n",
        rows.len(),
        count("merged by policy"),
        count("sent back"),
        count("waits for a person"),
        count("escalated"),
        table(
            &["task", "title", "risk", "reviewer", "outcome", "why"],
            &rows
        )
    )
}

/// A Spend row's count, named for what it counts. The coder's records are one per run of
/// its coding tool (Aider or a CLI makes many model requests inside one run, which dayshift
/// does not see); with the native engine, and for every other agent, they are dayshift's
/// own model requests.
fn counted(ctx: &Ctx, agent: &str, records: u64) -> String {
    use crate::config::AgentName;
    use crate::config::agents::EngineKind;
    let tool_runs = agent == AgentName::Coder.to_string()
        && ctx
            .config
            .agents
            .agents
            .get(&AgentName::Coder)
            .and_then(|c| c.engine)
            .is_none_or(|e| e != EngineKind::Native);
    if tool_runs {
        format!("{records} tool run(s)")
    } else {
        format!("{records} request(s)")
    }
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
    let outcomes = ctx.store.review_outcomes()?;
    if !outcomes.is_empty() {
        let n = |k: &str| outcomes.get(k).copied().unwrap_or(0);
        out.push_str(&format!(
            "## Review\n\n{} change(s) reviewed: {} merged by policy, {} sent back to the coder, {} left to a person by risk, {} escalated.\n\n",
            outcomes.values().sum::<u64>(),
            n("merge"),
            n("sent_back"),
            n("waiting"),
            n("escalated"),
        ));
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
