//! The orchestrator with a model: it reads VISION.md and its diff, the notes, PROGRESS.md,
//! yesterday's report, the open goals with their tasks, the recent history and the budget,
//! and chooses today's goals in order, with its reasoning and the day's capacity.
//!
//! The answer is checked ([`OrchestratorAnswer::check`]): the model can only pick among the
//! open goals it was shown, each once, within `max_tasks_per_day`.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

use super::daily_plan::DailyPlan;
use crate::config::AgentName;
use crate::context::Ctx;
use crate::error::Result;
use crate::llm::answers::OrchestratorAnswer;
use crate::llm::structured::{self, Structured};
use crate::llm::{Message, Request, Role};
use crate::store::TaskRow;
use crate::tasks::TaskState;
use crate::vision::{Change, ContextSection, Understood};

pub use crate::llm::models::Model;

/// Longest excerpt of PROGRESS.md or a report handed to the model.
const EXCERPT: usize = 6000;
/// Days of history the orchestrator sees.
const HISTORY_DAYS: u64 = 7;

#[derive(Serialize)]
struct Context<'a> {
    day: NaiveDate,
    max_goals: u32,
    budget: &'a str,
    history: Vec<HistoryDay>,
    diff: &'a crate::vision::VisionDiff,
    changes: Vec<ChangeLine>,
    goals: Vec<OpenGoal>,
    notes: &'a [String],
    /// The never-touch rules the notes ask for (the morning resolved them).
    rules: &'a [crate::vision::NoteRule],
    context: &'a [ContextSection],
    progress: String,
    yesterday: String,
}

#[derive(Serialize)]
struct HistoryDay {
    day: NaiveDate,
    done: usize,
    cost: String,
}

#[derive(Serialize)]
struct ChangeLine {
    change: &'static str,
    priority: String,
    goal_id: String,
    text: String,
    old_text: Option<String>,
}

#[derive(Serialize)]
struct OpenGoal {
    goal_id: String,
    priority: String,
    kind: String,
    text: String,
    tasks: String,
}

/// Ask the orchestrator to choose the day.
pub fn choose(
    ctx: &Ctx,
    model: &Model,
    plan: &DailyPlan,
    understood: &Understood,
    tasks: &[TaskRow],
    day: NaiveDate,
) -> Result<Structured<OrchestratorAnswer>> {
    let open = plan.open_goals();
    let context = Context {
        day,
        max_goals: plan.capacity,
        budget: &plan.budget,
        history: history(ctx, day)?,
        diff: &understood.diff,
        changes: changes(understood),
        goals: open
            .iter()
            .map(|g| OpenGoal {
                goal_id: g.goal_id.clone(),
                priority: g.priority.to_string(),
                kind: format!("{:?}", g.kind).to_lowercase(),
                text: g.text.clone(),
                tasks: tasks
                    .iter()
                    .filter(|t| t.goal.as_deref() == Some(g.goal_id.as_str()))
                    .map(|t| format!("{} {}", t.id, t.state))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
        notes: &understood.vision.notes,
        rules: &plan.note_rules.rules,
        context: &understood.vision.context,
        progress: excerpt(&std::fs::read_to_string(ctx.home.progress()).unwrap_or_default()),
        yesterday: excerpt(
            &std::fs::read_to_string(ctx.home.daily_report(day.pred_opt().unwrap_or(day)))
                .unwrap_or_default(),
        ),
    };
    let request = Request {
        agent: AgentName::Orchestrator,
        job: Some("morning".into()),
        task: None,
        system: model
            .prompts
            .render("orchestrator.system.j2", &serde_json::json!({}))?,
        messages: vec![Message {
            role: Role::User,
            content: model.prompts.render("orchestrator.user.j2", &context)?,
        }],
        max_tokens: model.max_tokens,
        temperature: None,
    };
    let open_ids: BTreeSet<String> = open.iter().map(|g| g.goal_id.clone()).collect();
    let max = plan.capacity;
    Ok(structured::ask(
        model.call,
        model.prompts,
        request,
        |a: &OrchestratorAnswer| a.check(&open_ids, max),
    )?)
}

fn history(ctx: &Ctx, day: NaiveDate) -> Result<Vec<HistoryDay>> {
    let mut out = Vec::new();
    for back in (1..=HISTORY_DAYS).rev() {
        let Some(d) = day.checked_sub_days(chrono::Days::new(back)) else {
            continue;
        };
        let done = ctx
            .store
            .events_on(d)?
            .iter()
            .filter(|e| {
                e.action == "task.moved"
                    && e.detail["to"] == serde_json::json!(TaskState::Completed)
            })
            .count();
        let spent = ctx.store.usage_total(d)?;
        if done > 0 || spent.tokens > 0 || ctx.store.load_plan(d)?.is_some() {
            out.push(HistoryDay {
                day: d,
                done,
                cost: format!("${:.2}", spent.cost_usd),
            });
        }
    }
    Ok(out)
}

fn changes(understood: &Understood) -> Vec<ChangeLine> {
    understood
        .diff
        .changes()
        .map(|e| {
            let (change, old_text) = match &e.change {
                Change::New => ("new", None),
                Change::Changed { old_text, .. } => ("changed", Some(old_text.clone())),
                Change::Removed => ("removed", None),
                Change::Unchanged => ("unchanged", None),
            };
            ChangeLine {
                change,
                priority: e.priority.to_string(),
                goal_id: e.goal_id.clone(),
                text: e.text.clone(),
                old_text,
            }
        })
        .collect()
}

fn excerpt(text: &str) -> String {
    if text.len() <= EXCERPT {
        return text.trim().to_string();
    }
    let cut = (0..=EXCERPT)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    format!(
        "{}\n[… cut at {EXCERPT} characters]",
        text[..cut].trim_end()
    )
}
