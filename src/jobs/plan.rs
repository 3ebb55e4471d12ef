//! `plan` (planner, model-free): the morning's plan → task files.
//!
//! For each planned goal that has no task yet, one task in tasks/backlog (ideas become
//! research tasks). Backlog tasks whose goal is no longer in VISION.md move to failed with
//! the reason written in them; a reworded goal renames its backlog task when that task
//! still bears the old wording. Every step checks what is already on disk first, so a
//! re-run (or a run after a crash) adds nothing twice.
//! While any task file cannot be parsed the planner refuses to run: that file's goal is
//! unknown, and planning anyway could give the goal a second task. A run that finds nothing
//! to create, close or rename writes nothing — DAILY_PLAN.md stays byte for byte as the
//! morning (or the planner's first run) left it — and says so; unless DAILY_PLAN.md is not
//! the day's or misses a task of a planned goal (a run cut short before writing it).
//!
//! A model-free task's `files` are the names its goal gives, resolved against the target's
//! tracked files ([`super::files_named`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::JobName;
use super::daily_plan::{DailyPlan, PlannedGoal};
use super::decompose;
use super::files_named::{files_named_in, tracked_files};
use super::orchestrate::Model;
use super::outcome::JobOutcome;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::store::{Event, TaskRow};
use crate::tasks::queue::TaskDraft;
use crate::tasks::{Task, TaskKind, TaskState};
use crate::vision::{Change, GoalKind, Snapshot, VisionDiff};

const ACTOR: &str = "planner";

pub fn run(ctx: &mut Ctx, day: NaiveDate, model: Option<&Model>) -> Result<JobOutcome> {
    let plan = load_plan(ctx, day)?;
    let problems = ctx.store.task_problems(&ctx.home)?;
    if let Some(first) = problems.first() {
        return Err(Error::Refused(format!(
            "{first} — planning waits until {} task file(s) can be read, so no goal gets a second task",
            problems.len()
        )));
    }
    let snapshot = Snapshot::load(&ctx.home.snapshots_dir(), day)?;
    let current: BTreeMap<&str, &str> = snapshot
        .as_ref()
        .map(|s| {
            s.goals
                .iter()
                .map(|g| (g.id.as_str(), g.text.as_str()))
                .collect()
        })
        .unwrap_or_default();

    let tasks = ctx.store.tasks()?;
    let backlog: Vec<&TaskRow> = tasks
        .iter()
        .filter(|t| t.state == TaskState::Backlog)
        .collect();
    let closed = close_removed_goals(ctx, &backlog, &current, day)?;
    let renamed = follow_reworded_goals(ctx, &backlog, &plan.diff)?;
    // a goal removed from VISION.md since the morning gets no task (an amended plan keeps it)
    let still_wanted =
        |g: &&PlannedGoal| current.is_empty() || current.contains_key(g.goal_id.as_str());
    let created = match model {
        None => {
            let has_task: BTreeSet<&str> = tasks.iter().filter_map(|t| t.goal.as_deref()).collect();
            let wanted: Vec<&PlannedGoal> = plan
                .to_plan()
                .filter(still_wanted)
                .filter(|g| !has_task.contains(g.goal_id.as_str()))
                .collect();
            let tracked = if wanted.is_empty() {
                Vec::new()
            } else {
                tracked_files(&ctx.home.target_clone())
            };
            let drafts: Vec<TaskDraft> = wanted
                .into_iter()
                .map(|g| draft_for(g, &plan.notes, &tracked))
                .collect();
            create(ctx, drafts)?
        }
        Some(model) => create_with_model(ctx, model, &plan, day, &still_wanted)?,
    };

    let tasks = ctx.store.tasks()?;
    let path = ctx.home.daily_plan();
    if created.is_empty() && closed == 0 && renamed == 0 && shows_every_task(&path, &plan, &tasks) {
        let summary = format!(
            "nothing to plan for {day}: every goal of the day's plan has its task(s) already; DAILY_PLAN.md left as it is"
        );
        let detail = serde_json::json!({"day": day, "why": summary});
        ctx.audit(Event::new(ctx.now(), ACTOR, "plan.unchanged").detail(detail))?;
        return Ok(JobOutcome {
            job: JobName::Plan,
            day,
            summary,
            wrote: vec![],
        });
    }
    ctx.write_redacted(&path, &plan.render(&tasks, ctx.now()))?;
    let mut wrote: Vec<_> = created.iter().map(|t| t.path.clone()).collect();
    wrote.push(path);
    Ok(JobOutcome {
        job: JobName::Plan,
        day,
        summary: format!(
            "{} task(s) created, {closed} closed because their goal left VISION.md, {renamed} renamed after a reworded goal",
            created.len()
        ),
        wrote,
    })
}

/// Whether DAILY_PLAN.md is the plan of this day and names every task of its planned goals
/// — false when a run was cut short after creating tasks and before writing the file, so
/// the next run writes it though it creates nothing.
fn shows_every_task(path: &std::path::Path, plan: &DailyPlan, tasks: &[TaskRow]) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let goals: BTreeSet<&str> = plan.to_plan().map(|g| g.goal_id.as_str()).collect();
    text.starts_with(&format!("# Daily plan — {}\n", plan.day))
        && tasks
            .iter()
            .filter(|t| t.goal.as_deref().is_some_and(|g| goals.contains(g)))
            .all(|t| text.contains(&t.id.to_string()))
}

/// Create tasks in the backlog, mirror and audit each. The text comes from VISION.md and
/// the planner's answer: a key pasted there is redacted before it reaches a task file.
pub(super) fn create(ctx: &Ctx, mut drafts: Vec<TaskDraft>) -> Result<Vec<Task>> {
    for draft in &mut drafts {
        draft.title = ctx.redact(&draft.title);
        draft.description = ctx.redact(&draft.description);
        for line in draft.acceptance.iter_mut().chain(draft.files.iter_mut()) {
            *line = ctx.redact(line);
        }
    }
    let (home, store) = (&ctx.home, &ctx.store);
    let created = ctx
        .queue
        .create_all(drafts, ACTOR, ctx.clock.now(), |task| {
            store.mirror_task(home, task)
        })?;
    for task in &created {
        let detail = serde_json::json!({"goal": task.meta.goal, "title": task.meta.title, "plan_key": task.meta.plan_key});
        ctx.audit(
            Event::new(ctx.now(), ACTOR, "task.created")
                .task(task.meta.id)
                .detail(detail),
        )?;
    }
    Ok(created)
}

/// Each planned goal without tasks goes to the planner model; its tasks are created one by
/// one in dependency order. A goal whose saved answer is only partly created (a crash) is
/// finished from that answer.
fn create_with_model(
    ctx: &Ctx,
    model: &Model,
    plan: &DailyPlan,
    day: NaiveDate,
    wanted: &dyn Fn(&&PlannedGoal) -> bool,
) -> Result<Vec<Task>> {
    let mut created = Vec::new();
    for goal in plan.to_plan().filter(wanted) {
        // the queue as it is now: the planner must see the tasks made for earlier goals
        let tasks = &ctx.store.tasks()?;
        let has_any = tasks
            .iter()
            .any(|t| t.goal.as_deref() == Some(goal.goal_id.as_str()));
        if has_any && !decompose::has_saved_answer(ctx, day, &goal.goal_id) {
            continue;
        }
        let answer = decompose::answer_for(ctx, model, goal, &plan.notes, tasks, day)?;
        let mut existing = decompose::created_keys(ctx, tasks, &goal.goal_id)?;
        while let Some(draft) = decompose::next_draft(&answer, goal, &existing) {
            let key = draft.plan_key.clone().unwrap_or_default();
            for task in create(ctx, vec![draft])? {
                existing.insert(key.clone(), task.meta.id);
                created.push(task);
            }
        }
    }
    Ok(created)
}

fn load_plan(ctx: &Ctx, day: NaiveDate) -> Result<DailyPlan> {
    let json = ctx.store.load_plan(day)?.ok_or_else(|| {
        Error::Refused(format!(
            "there is no plan for {day} yet; run `dayshift run morning` first (or `dayshift day`)"
        ))
    })?;
    serde_json::from_str(&json).map_err(|e| {
        Error::Refused(format!("the stored plan for {day} cannot be read ({e}); run `dayshift run morning` to write it again"))
    })
}

/// Backlog tasks whose VISION goal is gone move to failed, with the reason in the file.
fn close_removed_goals(
    ctx: &Ctx,
    backlog: &[&TaskRow],
    current: &BTreeMap<&str, &str>,
    day: NaiveDate,
) -> Result<usize> {
    if current.is_empty() {
        return Ok(0);
    }
    let orphans: Vec<&&TaskRow> = backlog
        .iter()
        .filter(|t| {
            t.goal
                .as_deref()
                .is_some_and(|g| g.starts_with("g-") && !current.contains_key(g))
        })
        .collect();
    for row in &orphans {
        let mut task = ctx.queue.find(row.id)?;
        let goal = row.goal.as_deref().unwrap_or_default();
        let why = format!(
            "goal {goal} is no longer in VISION.md (removed by {day}); nothing was deleted"
        );
        ctx.move_task(&mut task, TaskState::Failed, ACTOR, &why)?;
    }
    Ok(orphans.len())
}

/// A backlog task titled after its goal's old wording follows the new one (title and a
/// log line), once. Only a goal the day's diff says was reworded, and only a title that is
/// the old wording: a title the planner model or a person gave is never overwritten.
fn follow_reworded_goals(ctx: &Ctx, backlog: &[&TaskRow], diff: &VisionDiff) -> Result<usize> {
    let mut renamed = 0;
    for entry in &diff.entries {
        let Change::Changed { old_text, .. } = &entry.change else {
            continue;
        };
        let (old_title, title) = (title_for(old_text), title_for(&entry.text));
        if old_title == title {
            continue;
        }
        let rows = backlog.iter().filter(|row| {
            row.goal.as_deref() == Some(entry.goal_id.as_str()) && row.title == old_title
        });
        for row in rows {
            let mut task = ctx.queue.find(row.id)?;
            let message = format!("goal reworded in VISION.md: \"{}\"", entry.text);
            task.log(ctx.now(), ACTOR, &message);
            let old = std::mem::replace(&mut task.meta.title, title.clone());
            ctx.save_task(
                &task,
                ACTOR,
                "task.updated",
                serde_json::json!({"title": {"from": old, "to": task.meta.title}}),
            )?;
            renamed += 1;
        }
    }
    Ok(renamed)
}

pub(super) fn draft_for(goal: &PlannedGoal, notes: &[String], tracked: &[String]) -> TaskDraft {
    let research = goal.kind == GoalKind::Research;
    let mut description = format!(
        "From VISION.md, \"{}\" (line {}):\n\n> {}\n",
        goal.section, goal.line, goal.text
    );
    if research {
        description.push_str("\nResearch first: answer the question with a report in reports/research/ (recommendation, pros and cons, effort, links).\n");
    }
    if !notes.is_empty() {
        description.push_str("\nNotes for every agent:\n");
        for note in notes {
            description.push_str(&format!("- {note}\n"));
        }
    }
    TaskDraft {
        title: title_for(&goal.text),
        priority: goal.priority,
        goal: Some(goal.goal_id.clone()),
        source: None,
        kind: if research {
            TaskKind::Research
        } else {
            TaskKind::Code
        },
        files: files_named_in(&goal.text, tracked),
        depends_on: vec![],
        acceptance: vec![if research {
            format!("a report in reports/research/ answers: {}", goal.text)
        } else {
            format!("done as VISION.md asks: {}", goal.text)
        }],
        difficulty: None,
        description,
        plan_key: None,
    }
}

fn title_for(goal_text: &str) -> String {
    let mut title: String = goal_text.chars().take(120).collect();
    if title.len() < goal_text.len() {
        title.push('…');
    }
    title
}
