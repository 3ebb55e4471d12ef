//! `dayshift tasks`: list, show, approve, reject, retry, cancel.
//!
//! Commands that change a task hold the job lock, so a job never writes over a person's
//! decision with a copy it read before.

use std::process::ExitCode;

use clap::Subcommand;

use super::{print_json, table};
use crate::context::Ctx;
use crate::error::{Error, IoContext, Result};
use crate::home::Home;
use crate::lockfile::FileLock;
use crate::store::TaskRow;
use crate::tasks::deps::{self, DepReport};
use crate::tasks::{Approval, TaskId, TaskState};

#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// The queue as a table (or JSON).
    #[command(
        after_help = "Examples:\n  dayshift tasks list\n  dayshift tasks list --state failed --json"
    )]
    List {
        /// Only tasks in this state (backlog, in_progress, in_review, completed, failed).
        #[arg(long)]
        state: Option<TaskState>,
        /// JSON for scripts instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// One task file, whole.
    #[command(
        after_help = "Examples:\n  dayshift tasks show T-0007\n  dayshift tasks show T-0007 --json"
    )]
    Show {
        id: TaskId,
        /// JSON for scripts (front matter, state, path and body).
        #[arg(long)]
        json: bool,
    },
    /// Approve a task that waits on a person (recorded with who and the commit approved),
    /// or make a research proposal (P-…, listed in DAILY_PLAN.md) a backlog task.
    #[command(
        after_help = "Examples:\n  dayshift tasks approve T-0007\n  dayshift tasks approve T-0007 --by alice\n  dayshift tasks approve P-42          # a proposal from research becomes a task"
    )]
    Approve {
        id: Approvable,
        /// Who approves (default: $USER).
        #[arg(long)]
        by: Option<String>,
    },
    /// Reject a task: it moves to failed with the reason.
    #[command(after_help = "Example:\n  dayshift tasks reject T-0007 --reason \"wrong approach\"")]
    Reject {
        id: TaskId,
        /// Why, for the task log and the report.
        #[arg(long, default_value = "no reason given")]
        reason: String,
    },
    /// Put a failed task back in the backlog.
    #[command(after_help = "Example:\n  dayshift tasks retry T-0007")]
    Retry { id: TaskId },
    /// Cancel an open task: it moves to failed with the reason.
    #[command(after_help = "Example:\n  dayshift tasks cancel T-0007 --reason \"not needed\"")]
    Cancel {
        id: TaskId,
        /// Why, for the task log and the report.
        #[arg(long, default_value = "no reason given")]
        reason: String,
    },
}

/// What `tasks approve` takes: a task waiting on a person, or a research proposal.
#[derive(Debug, Clone, Copy)]
pub enum Approvable {
    Task(TaskId),
    /// `P-<n>`: the `research.proposed` event numbered n.
    Proposal(i64),
}

impl std::str::FromStr for Approvable {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        if let Some(number) = s.strip_prefix("P-").or_else(|| s.strip_prefix("p-")) {
            return number
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(Approvable::Proposal)
                .ok_or_else(|| format!("`{s}` is not a proposal id (like P-42)"));
        }
        s.parse::<TaskId>().map(Approvable::Task).map_err(|_| {
            format!("`{s}` is neither a task id (like T-0007) nor a proposal (like P-42)")
        })
    }
}

pub fn tasks(home: Home, command: TasksCommand) -> Result<ExitCode> {
    // list and show only read: a config problem is a warning there
    let mut ctx = match command {
        TasksCommand::List { .. } | TasksCommand::Show { .. } => Ctx::open_read_only(home)?,
        _ => Ctx::open(home, None)?,
    };
    match command {
        TasksCommand::List { state, json } => list(&mut ctx, state, json),
        TasksCommand::Show { id, json } => show(&ctx, id, json),
        TasksCommand::Approve { id, by } => {
            let by = by
                .or_else(|| std::env::var("USER").ok())
                .or_else(|| std::env::var("LOGNAME").ok())
                .filter(|b| !b.trim().is_empty())
                .unwrap_or_else(|| "an unnamed person".into());
            match id {
                Approvable::Task(id) => decide(&mut ctx, id, Decision::Approve(by)),
                Approvable::Proposal(number) => {
                    let task = crate::jobs::research::promote(&ctx, number, &by)?;
                    println!(
                        "{} is now {} in the backlog ({}); the next work run can take it",
                        crate::jobs::research::proposal_id(number),
                        task.meta.id,
                        task.meta.title
                    );
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        TasksCommand::Reject { id, reason } => decide(&mut ctx, id, Decision::Reject(reason)),
        TasksCommand::Retry { id } => decide(&mut ctx, id, Decision::Retry),
        TasksCommand::Cancel { id, reason } => decide(&mut ctx, id, Decision::Cancel(reason)),
    }
}

fn list(ctx: &mut Ctx, state: Option<TaskState>, json: bool) -> Result<ExitCode> {
    let found = ctx.reconcile()?;
    let mut rows = ctx.store.tasks()?;
    let report = deps::analyze(
        rows.iter()
            .map(|t| (t.id, t.state, t.depends_on.as_slice())),
    );
    // a goal devops paused holds its tasks however ready they are
    let pause = crate::jobs::pause::Pause::read(&ctx.home);
    let held = |t: &TaskRow| {
        t.goal
            .as_deref()
            .is_some_and(|g| pause.as_ref().is_some_and(|p| p.holds_goal(g)))
    };
    rows.retain(|t| state.is_none_or(|s| t.state == s));
    rows.sort_by(|a, b| {
        a.state
            .cmp(&b.state)
            .then(a.priority.cmp(&b.priority))
            .then(a.id.cmp(&b.id))
    });
    if json {
        let value: Vec<_> = rows
            .iter()
            .map(|t| {
                let mut v = serde_json::to_value(t).unwrap_or_default();
                v["ready"] = serde_json::json!(report.ready.contains(&t.id) && !held(t));
                if held(t) {
                    v["held"] = serde_json::json!("its goal is paused (PAUSED)");
                }
                v
            })
            .collect();
        print_json(&value);
    } else if rows.is_empty() {
        println!(
            "no tasks{}",
            state.map(|s| format!(" in {s}")).unwrap_or_default()
        );
    } else {
        let table_rows: Vec<Vec<String>> = rows
            .iter()
            .map(|t| {
                vec![
                    t.id.to_string(),
                    t.state.to_string(),
                    t.priority.to_string(),
                    if held(t) && t.state == TaskState::Backlog {
                        "held".into()
                    } else {
                        readiness(t, &report)
                    },
                    t.goal
                        .clone()
                        .or_else(|| t.source.clone())
                        .unwrap_or_else(|| "—".into()),
                    t.title.clone(),
                ]
            })
            .collect();
        print!(
            "{}",
            table::render(
                &["ID", "STATE", "PRIORITY", "READY", "GOAL", "TITLE"],
                &table_rows,
                24
            )
        );
    }
    for cycle in &report.cycles {
        let ids: Vec<String> = cycle.iter().map(ToString::to_string).collect();
        eprintln!(
            "warning: these tasks depend on each other in a circle and none can start: {}; edit depends_on",
            ids.join(" → ")
        );
    }
    for problem in &found.problems {
        eprintln!("error: {problem} (the file was left where it is)");
    }
    Ok(if found.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn readiness(task: &TaskRow, report: &DepReport) -> String {
    if task.state != TaskState::Backlog {
        return "—".into();
    }
    if report.ready.contains(&task.id) {
        return "ready".into();
    }
    if report.cycles.iter().any(|c| c.contains(&task.id)) {
        return "cycle".into();
    }
    if let Some((_, missing)) = report.missing.iter().find(|(t, _)| *t == task.id) {
        return format!("missing {missing}");
    }
    let waits: Vec<String> = task.depends_on.iter().map(ToString::to_string).collect();
    format!("waits {}", waits.join(","))
}

fn show(ctx: &Ctx, id: TaskId, json: bool) -> Result<ExitCode> {
    let task = ctx.queue.find(id)?;
    if json {
        print_json(&serde_json::json!({
            "state": task.state,
            "path": ctx.home.display_path(&task.path).to_string(),
            "meta": task.meta,
            "body": task.body,
        }));
    } else {
        println!(
            "# {} — {} ({})",
            task.meta.id,
            task.state,
            ctx.home.display_path(&task.path)
        );
        print!("{}", task.render());
    }
    Ok(ExitCode::SUCCESS)
}

enum Decision {
    /// By whom.
    Approve(String),
    Reject(String),
    Retry,
    Cancel(String),
}

fn decide(ctx: &mut Ctx, id: TaskId, decision: Decision) -> Result<ExitCode> {
    let lock_path = ctx.home.job_lock();
    if crate::lockfile::is_held(&lock_path) {
        eprintln!("a job is running for this home; waiting for it to finish…");
    }
    let _lock = FileLock::acquire(&lock_path).at_path(&lock_path)?;
    ctx.reconcile()?;
    let mut task = ctx.queue.find(id)?;
    let closed = |what: &str| {
        Error::Refused(format!(
            "{id} is {}; only an open task can be {what}",
            task.state
        ))
    };
    match decision {
        Decision::Approve(by) => {
            if !task.state.is_open() {
                return Err(closed("approved"));
            }
            // an approval is of a committed change: before there is one it would approve nothing
            if task.state != TaskState::InReview {
                return Err(Error::Refused(format!(
                    "{id} is {}: there is no change to approve yet; a task waits for approval in in_review once its change is committed (`dayshift tasks list --state in_review` shows them)",
                    task.state
                )));
            }
            if ctx.approval_commit(&task).is_none() {
                return Err(Error::Refused(format!(
                    "{id} has no commit to approve (its branch {} is not in the clone); reject it (`dayshift tasks reject {id}`) and plan it again",
                    task.meta.branch.as_deref().unwrap_or("is not set")
                )));
            }
            ctx.grant_approval(&mut task, &by, "cli")?;
            println!(
                "{id} approved; the next work run merges it (`dayshift run work` to do it now)"
            );
        }
        Decision::Reject(reason) => {
            if !task.state.is_open() {
                return Err(closed("rejected"));
            }
            task.meta.approval = Some(Approval::Rejected);
            ctx.move_task(
                &mut task,
                TaskState::Failed,
                "human",
                &format!("rejected by a person: {reason}"),
            )?;
            println!("{id} rejected and moved to failed");
        }
        Decision::Retry => {
            if task.state != TaskState::Failed {
                return Err(Error::Refused(format!(
                    "{id} is {}; only a failed task can be retried",
                    task.state
                )));
            }
            task.meta.approval = None;
            // the failed (or rejected) change goes: a retry starts again from the base
            let clone = ctx.home.target_clone();
            let dropped = if clone.join(".git").exists() {
                crate::target::prune_branches(&clone, &[task.meta.id]).map_err(|e| {
                    Error::Refused(format!(
                        "{id}'s branch could not be deleted ({e}); nothing was changed"
                    ))
                })?
            } else {
                Vec::new()
            };
            task.meta.branch = None;
            task.meta.stage = None;
            task.meta.commit = None;
            let why = match dropped.as_slice() {
                [] => "retried by a person".to_string(),
                branches => format!(
                    "retried by a person; the earlier change ({}) was deleted: the coder starts again from the base",
                    branches.join(", ")
                ),
            };
            ctx.move_task(&mut task, TaskState::Backlog, "human", &why)?;
            println!("{id} is back in the backlog");
        }
        Decision::Cancel(reason) => {
            if !task.state.is_open() {
                return Err(closed("cancelled"));
            }
            ctx.move_task(
                &mut task,
                TaskState::Failed,
                "human",
                &format!("cancelled by a person: {reason}"),
            )?;
            println!("{id} cancelled and moved to failed");
        }
    }
    Ok(ExitCode::SUCCESS)
}
