//! The planner with a model: one goal → atomic tasks (title, description, files found from
//! the target's file tree and a text search in it, acceptance, difficulty, dependencies).
//!
//! Crash safety: the checked answer is saved (`.dayshift/planner/<day>/<goal>.json`) before
//! any task file is written, and each task carries its `plan_key`. A run cut short resumes
//! from the saved answer and creates only the keys that have no task yet — the model is not
//! asked twice and no task is created twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use serde::Serialize;

use super::daily_plan::PlannedGoal;
use super::orchestrate::Model;
use crate::config::AgentName;
use crate::context::Ctx;
use crate::error::{At, Error, FileProblem, IoContext, Result};
use crate::fsx;
use crate::llm::answers::PlannerAnswer;
use crate::llm::structured;
use crate::llm::{Message, Request, Role};
use crate::process::{self, Spec};
use crate::store::TaskRow;
use crate::tasks::queue::TaskDraft;
use crate::tasks::{Task, TaskId};

/// The most tasks one goal becomes.
pub const MAX_TASKS_PER_GOAL: usize = 5;
/// Paths of the target's tree shown to the planner.
const MAX_FILES: usize = 1500;
/// Lines of the text search shown to the planner.
const MAX_MATCHES: usize = 40;

#[derive(Serialize)]
struct Context<'a> {
    goal: &'a PlannedGoal,
    max_tasks: usize,
    notes: &'a [String],
    /// The never-touch rules the notes ask for, resolved against the target's files.
    rules: Vec<crate::vision::NoteRule>,
    open_tasks: Vec<OpenTask>,
    files: Vec<String>,
    files_truncated: bool,
    matches: Vec<String>,
}

#[derive(Serialize)]
struct OpenTask {
    id: String,
    state: String,
    title: String,
}

/// The checked answer for `goal`: the one saved earlier today, or a fresh one (then saved).
pub fn answer_for(
    ctx: &Ctx,
    model: &Model,
    goal: &PlannedGoal,
    notes: &[String],
    tasks: &[TaskRow],
    day: NaiveDate,
) -> Result<PlannerAnswer> {
    let path = answer_path(ctx, day, &goal.goal_id);
    if let Some(saved) = load_saved(&path)? {
        return Ok(saved);
    }
    let tracked = super::files_named::tracked_files(&ctx.home.target_clone());
    let rules = crate::vision::rules_from_notes(notes, &tracked);
    let (files, files_truncated) = capped(tracked);
    let open_titles: Vec<String> = tasks
        .iter()
        .filter(|t| t.state.is_open())
        .map(|t| t.title.clone())
        .collect();
    let context = Context {
        goal,
        max_tasks: MAX_TASKS_PER_GOAL,
        notes,
        rules,
        open_tasks: tasks
            .iter()
            .filter(|t| t.state.is_open())
            .map(|t| OpenTask {
                id: t.id.to_string(),
                state: t.state.to_string(),
                title: t.title.clone(),
            })
            .collect(),
        files,
        files_truncated,
        matches: search(&ctx.home.target_clone(), &goal.text),
    };
    let request = Request {
        agent: AgentName::Planner,
        job: Some("plan".into()),
        task: None,
        system: model
            .prompts
            .render("planner.system.j2", &serde_json::json!({}))?,
        messages: vec![Message {
            role: Role::User,
            content: model.prompts.render("planner.user.j2", &context)?,
        }],
        max_tokens: model.max_tokens,
        temperature: None,
    };
    let answer = structured::ask(model.call, model.prompts, request, |a: &PlannerAnswer| {
        a.check(MAX_TASKS_PER_GOAL, &open_titles)
    })?
    .value;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).at_path(dir)?;
    }
    let json = serde_json::to_vec_pretty(&answer).unwrap_or_default();
    fsx::write_atomic(&path, &json).at_path(&path)?;
    Ok(answer)
}

/// Drafts for the keys of `answer` that have no task yet, in dependency order, with the
/// ids of the tasks they depend on (`existing` maps keys already created to their ids).
pub fn next_draft(
    answer: &PlannerAnswer,
    goal: &PlannedGoal,
    existing: &BTreeMap<String, TaskId>,
) -> Option<TaskDraft> {
    let task = answer
        .in_dependency_order()
        .into_iter()
        .find(|t| !existing.contains_key(&t.key))?;
    let depends_on = task
        .depends_on
        .iter()
        .filter_map(|k| existing.get(k).copied())
        .collect();
    Some(TaskDraft {
        title: task.title.trim().to_string(),
        priority: goal.priority,
        goal: Some(goal.goal_id.clone()),
        source: None,
        kind: task.kind,
        files: task.files.clone(),
        depends_on,
        acceptance: task
            .acceptance
            .iter()
            .filter(|a| !a.trim().is_empty())
            .cloned()
            .collect(),
        difficulty: task.difficulty,
        description: format!(
            "{}\n\nFor the goal in VISION.md: {}\n",
            task.description.trim(),
            goal.text
        ),
        plan_key: Some(task.key.clone()),
    })
}

/// The plan keys of tasks already created for a goal.
pub fn created_keys(
    ctx: &Ctx,
    tasks: &[TaskRow],
    goal_id: &str,
) -> Result<BTreeMap<String, TaskId>> {
    let mut keys = BTreeMap::new();
    for row in tasks.iter().filter(|t| t.goal.as_deref() == Some(goal_id)) {
        let task: Task = ctx.queue.find(row.id)?;
        if let Some(key) = task.meta.plan_key {
            keys.insert(key, row.id);
        }
    }
    Ok(keys)
}

/// Whether a saved answer exists for the goal (its tasks may still be missing).
pub fn has_saved_answer(ctx: &Ctx, day: NaiveDate, goal_id: &str) -> bool {
    answer_path(ctx, day, goal_id).is_file()
}

fn answer_path(ctx: &Ctx, day: NaiveDate, goal_id: &str) -> PathBuf {
    let safe: String = goal_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    ctx.home.planner_answers(day).join(format!("{safe}.json"))
}

fn load_saved(path: &Path) -> Result<Option<PlannerAnswer>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            Error::File(FileProblem::new(
                At::line(path, e.line() as u64),
                format!("the saved planner answer cannot be read: {e}"),
                "delete the file to ask the planner again",
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(crate::error::IoError {
            path: path.to_path_buf(),
            source,
        }
        .into()),
    }
}

/// The target's tracked files (`git ls-files`), capped; empty when it is not cloned.
fn capped(mut files: Vec<String>) -> (Vec<String>, bool) {
    let truncated = files.len() > MAX_FILES;
    files.truncate(MAX_FILES);
    (files, truncated)
}

/// Lines of the target that mention the goal's longer words (`git grep`), capped, each
/// `path:line:text`.
pub(crate) fn search(clone: &Path, goal_text: &str) -> Vec<String> {
    if !clone.join(".git").exists() {
        return Vec::new();
    }
    let mut words: Vec<String> = goal_text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.len() >= 5)
        .map(str::to_string)
        .collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    words.truncate(4);
    let mut args = vec!["grep", "-n", "-I", "-i", "-F", "--max-count=3"];
    for w in &words {
        args.extend(["-e", w.as_str()]);
    }
    if words.is_empty() {
        return Vec::new();
    }
    let out = process::run(
        &Spec::new("git", &args)
            .own_tool()
            .cwd(clone)
            .timeout(Duration::from_secs(30)),
    );
    out.map(|o| {
        o.stdout
            .lines()
            .take(MAX_MATCHES)
            .map(|l| l.chars().take(200).collect())
            .collect()
    })
    .unwrap_or_default()
}
