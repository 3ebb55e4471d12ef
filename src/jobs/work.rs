//! `work` (coder + QA): take the highest-priority ready task, work it on its own branch and
//! work tree, test it, and commit — or fail it with the reason.
//!
//! One attempt: snapshot `workspace/` → run the engine → refuse writes outside the work tree
//! and changes policy forbids (then roll back) → QA against the base branch (only new
//! failures count) → on success commit with a `Task:` trailer. A failed attempt is rolled
//! back and its reason (the engine's words, the guardrail, the failing tests' output) is
//! fed to the next attempt. After the last attempt the task moves to failed with that reason
//! and an escalation event. A committed task goes to in_review; when it touches no protected
//! path and policy's `auto_merge` allows low risk, it is merged into the base branch (pushed
//! when the target has a remote) and completed, otherwise it waits for a person
//! (`approval: pending`). The loop stops when no task is ready, or a STOP file appears.

use std::time::Duration;

use chrono::NaiveDate;

use super::JobName;
use super::runner::JobOutcome;
use crate::config::policy::AutoMerge;
use crate::context::Ctx;
use crate::engine::{Assignment, Engine};
use crate::error::{Error, Result};
use crate::qa::{self, Baseline, QaCommands};
use crate::store::Event;
use crate::target::{self, Snapshot, Worktree};
use crate::tasks::deps;
use crate::tasks::{Approval, Risk, Task, TaskKind, TaskState};

const ACTOR: &str = "coder";
/// Attempts per task when agents.yaml does not say.
pub const DEFAULT_ATTEMPTS: u32 = 3;
/// How long the target's checks may run.
const QA_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// How one task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ended {
    Completed,
    WaitingForPerson,
    Failed,
}

pub fn run(ctx: &mut Ctx, day: NaiveDate, engine: &dyn Engine) -> Result<JobOutcome> {
    let clone = ctx.home.target_clone();
    if !clone.join(".git").exists() {
        return Err(Error::Refused(
            "the target is not cloned yet; run `dayshift setup` first".into(),
        ));
    }
    // worktrees of tasks no longer in progress (finished, or moved by a person) go; the
    // branches stay
    ctx.reconcile()?;
    let in_progress: Vec<_> = ctx
        .store
        .tasks()?
        .iter()
        .filter(|t| t.state == TaskState::InProgress)
        .map(|t| t.id)
        .collect();
    if let Ok(removed) = target::clean_orphans(&clone, &in_progress)
        && !removed.is_empty()
    {
        tracing::info!("removed {} orphan work tree(s)", removed.len());
    }
    let (mut completed, mut waiting, mut failed) = (0, 0, 0);
    loop {
        if ctx.home.stop_file().exists() {
            break;
        }
        ctx.reconcile()?;
        let Some(mut task) = next_ready(ctx)? else {
            break;
        };
        match work_task(ctx, engine, &mut task)? {
            Ended::Completed => completed += 1,
            Ended::WaitingForPerson => waiting += 1,
            Ended::Failed => failed += 1,
        }
    }
    Ok(JobOutcome {
        job: JobName::Work,
        day,
        summary: format!(
            "{completed} task(s) completed, {waiting} waiting for a person, {failed} failed"
        ),
        wrote: vec![],
    })
}

/// A task a crash left in progress (resumed first: it holds no lock, we hold the job lock),
/// else the most urgent ready backlog task the coder can do (research waits for the
/// researcher).
fn next_ready(ctx: &Ctx) -> Result<Option<Task>> {
    let rows = ctx.store.tasks()?;
    if let Some(interrupted) = rows
        .iter()
        .filter(|t| t.state == TaskState::InProgress)
        .min_by_key(|t| (t.priority, t.id))
    {
        return Ok(Some(ctx.queue.find(interrupted.id)?));
    }
    let report = deps::analyze(
        rows.iter()
            .map(|t| (t.id, t.state, t.depends_on.as_slice())),
    );
    let next = rows
        .iter()
        .filter(|t| report.ready.contains(&t.id) && t.kind != TaskKind::Research)
        .min_by_key(|t| (t.priority, t.id));
    Ok(match next {
        Some(row) => Some(ctx.queue.find(row.id)?),
        None => None,
    })
}

fn work_task(ctx: &Ctx, engine: &dyn Engine, task: &mut Task) -> Result<Ended> {
    let base = ctx.config.target.base_branch.clone();
    let clone = ctx.home.target_clone();
    if task.state == TaskState::InProgress {
        task.log(ctx.now(), ACTOR, "resumed after an interruption");
        ctx.save_task(task, ACTOR, "task.resumed", serde_json::Value::Null)?;
    } else {
        let why = format!("taken by the coder (engine {})", engine.name());
        ctx.move_task(task, TaskState::InProgress, ACTOR, &why)?;
    }
    let slug = crate::tasks::id::slugify(&task.meta.title);
    let worktree = match target::start_task(&clone, &base, task.meta.id, &slug) {
        Ok(w) => w,
        Err(e) => return fail(ctx, task, &format!("could not make its work tree: {e}")),
    };
    let commands = QaCommands::from_target(&ctx.config.target);
    let checks = commands.lint.is_some() || commands.test.is_some();
    let baseline = if checks {
        let cache = ctx.home.state_dir().join("qa");
        match Baseline::get_or_run(&cache, &worktree.base_commit, || {
            qa::run_checks(&worktree.path, &commands, QA_TIMEOUT)
        }) {
            Ok(b) => Some(b),
            Err(e) => {
                return fail(
                    ctx,
                    task,
                    &format!("the base branch's checks could not run: {e}"),
                );
            }
        }
    } else {
        None
    };
    let attempts = ctx
        .config
        .agents
        .agents
        .get(&crate::config::AgentName::Coder)
        .and_then(|c| c.attempts)
        .unwrap_or(DEFAULT_ATTEMPTS);
    let mut feedback: Option<String> = None;
    for attempt in 1..=attempts {
        task.meta.attempts = attempt;
        task.log(
            ctx.now(),
            ACTOR,
            &format!("attempt {attempt} started (engine {})", engine.name()),
        );
        ctx.save_task(
            task,
            ACTOR,
            "task.attempt",
            serde_json::json!({"attempt": attempt, "engine": engine.name()}),
        )?;
        match attempt_once(
            ctx,
            engine,
            task,
            &worktree,
            feedback.as_deref(),
            attempt,
            &commands,
            baseline.as_ref(),
            checks,
        ) {
            Ok(protected) => return finish(ctx, task, &worktree, &base, protected),
            Err(why) => {
                let _ = target::rollback(&worktree);
                let line = why.lines().next().unwrap_or("").to_string();
                task.log(
                    ctx.now(),
                    ACTOR,
                    &format!("attempt {attempt} failed: {line}"),
                );
                ctx.save_task(
                    task,
                    ACTOR,
                    "task.attempt_failed",
                    serde_json::json!({"attempt": attempt, "why": line}),
                )?;
                feedback = Some(why);
            }
        }
    }
    let why = feedback
        .as_deref()
        .and_then(|f| f.lines().next())
        .unwrap_or("every attempt failed")
        .to_string();
    fail(
        ctx,
        task,
        &format!("{attempts} attempt(s) failed; the last: {why}"),
    )
}

/// One attempt; `Ok(protected paths touched)` when the change is good, `Err(reason)` else.
#[allow(clippy::too_many_arguments)]
fn attempt_once(
    ctx: &Ctx,
    engine: &dyn Engine,
    task: &Task,
    worktree: &Worktree,
    feedback: Option<&str>,
    attempt: u32,
    commands: &QaCommands,
    baseline: Option<&Baseline>,
    checks: bool,
) -> std::result::Result<Vec<String>, String> {
    let before = Snapshot::take(&ctx.home.workspace()).map_err(|e| e.to_string())?;
    let description = task
        .body
        .split("\n## ")
        .next()
        .unwrap_or("")
        .trim_start_matches("## Description")
        .trim();
    let notes = Vec::new();
    let job = Assignment {
        task: &task.meta,
        description,
        workdir: &worktree.path,
        feedback,
        attempt,
        notes: &notes,
    };
    let report = engine.run(&job).map_err(|e| e.to_string())?;
    target::escaped(worktree, &before).map_err(|v| v.to_string())?;
    let changes = target::inspect(worktree, &ctx.config.policy).map_err(|v| v.to_string())?;
    if changes.files.is_empty() {
        return Err(format!(
            "{} finished but changed nothing ({})",
            engine.name(),
            report.summary
        ));
    }
    if checks {
        let run =
            qa::run_checks(&worktree.path, commands, QA_TIMEOUT).map_err(|e| e.to_string())?;
        let verdict = qa::verdict(baseline, &run);
        if !verdict.passed {
            let new: Vec<&str> = verdict.new_failures.iter().map(String::as_str).collect();
            let head = if verdict.lint_ok {
                format!("new test failures: {}", new.join(", "))
            } else {
                "lint failed".to_string()
            };
            return Err(format!("{head}\n{}", verdict.output_tail));
        }
    }
    Ok(changes.protected)
}

/// Commit, then merge when policy allows it without a person.
fn finish(
    ctx: &Ctx,
    task: &mut Task,
    worktree: &Worktree,
    base: &str,
    protected: Vec<String>,
) -> Result<Ended> {
    let kind = match task.meta.kind {
        TaskKind::Test => "test",
        TaskKind::Docs => "docs",
        _ => "fix",
    };
    let message = format!("{kind}: {}", task.meta.title);
    let sha = match target::commit(worktree, &message, task.meta.id) {
        Ok(sha) => sha,
        Err(e) => return fail(ctx, task, &format!("the commit failed: {e}")),
    };
    let risk = if protected.is_empty() {
        Risk::Low
    } else {
        Risk::High
    };
    task.meta.risk = Some(risk);
    task.meta.branch = Some(worktree.branch.clone());
    ctx.move_task(
        task,
        TaskState::InReview,
        ACTOR,
        &format!("committed {} on {}", short(&sha), worktree.branch),
    )?;
    let allowed = match ctx.config.policy.auto_merge {
        AutoMerge::None => false,
        AutoMerge::Low => risk <= Risk::Low,
        AutoMerge::Medium => risk <= Risk::Medium,
    };
    if !allowed {
        task.meta.approval = Some(Approval::Pending);
        let why = if protected.is_empty() {
            "policy merges nothing without a person".to_string()
        } else {
            format!("it touches protected paths: {}", protected.join(", "))
        };
        task.log(
            ctx.now(),
            ACTOR,
            &format!(
                "waiting for a person: {why}; `dayshift tasks approve {}`",
                task.meta.id
            ),
        );
        ctx.save_task(
            task,
            ACTOR,
            "task.escalated",
            serde_json::json!({"why": why}),
        )?;
        return Ok(Ended::WaitingForPerson);
    }
    let merged = target::merge_into_base(
        &ctx.home.target_clone(),
        &worktree.branch,
        base,
        &format!("Merge {} ({})", task.meta.id, task.meta.title),
    );
    match merged {
        Ok(merge_sha) => {
            let _ = target::remove(&ctx.home.target_clone(), task.meta.id);
            let mut event = Event::new(ctx.now(), ACTOR, "task.merged").task(task.meta.id);
            event.commit = Some(merge_sha.clone());
            ctx.audit(event)?;
            ctx.move_task(
                task,
                TaskState::Completed,
                ACTOR,
                &format!("merged into {base} at {}", short(&merge_sha)),
            )?;
            Ok(Ended::Completed)
        }
        Err(e) => {
            task.meta.approval = Some(Approval::Pending);
            task.log(
                ctx.now(),
                ACTOR,
                &format!("the merge into {base} failed: {e}; a person decides"),
            );
            ctx.save_task(
                task,
                ACTOR,
                "task.escalated",
                serde_json::json!({"why": e.to_string()}),
            )?;
            Ok(Ended::WaitingForPerson)
        }
    }
}

fn fail(ctx: &Ctx, task: &mut Task, why: &str) -> Result<Ended> {
    let _ = target::remove(&ctx.home.target_clone(), task.meta.id);
    ctx.move_task(task, TaskState::Failed, ACTOR, why)?;
    ctx.audit(
        Event::new(ctx.now(), ACTOR, "task.escalated")
            .task(task.meta.id)
            .detail(serde_json::json!({"why": why})),
    )?;
    Ok(Ended::Failed)
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}
