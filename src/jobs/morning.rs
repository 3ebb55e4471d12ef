//! `morning` (orchestrator): VISION.md → DAILY_PLAN.md.
//!
//! Without a model the plan takes open goals by priority up to `max_tasks_per_day`; with
//! one, the orchestrator chooses and orders them and says why ([`super::orchestrate`]).
//! Nothing is written until everything is known: a VISION.md that cannot be understood, a
//! failed model call or an unusable answer fails the job and the previous plan stays.

use chrono::NaiveDate;

use super::JobName;
use super::daily_plan::DailyPlan;
use super::orchestrate::{self, Model};
use super::runner::JobOutcome;
use crate::context::Ctx;
use crate::error::Result;
use crate::store::Event;

pub fn run(ctx: &mut Ctx, day: NaiveDate, model: Option<&Model>) -> Result<JobOutcome> {
    let understood = ctx.read_vision(day)?;
    let tasks = ctx.store.tasks()?;
    let mut plan = DailyPlan::build(
        day,
        &understood,
        &tasks,
        ctx.config.agents.max_tasks_per_day,
        budget_line(ctx, day)?,
    );
    if let Some(model) = model {
        let chosen = orchestrate::choose(ctx, model, &plan, &understood, &tasks, day)?;
        plan.apply(&chosen.value);
    }
    understood
        .snapshot(day)
        .save(&ctx.home.snapshots_dir(), &understood.text)?;
    let json = serde_json::to_string(&plan).unwrap_or_default();
    ctx.store.save_plan(day, &json, ctx.now())?;
    let path = ctx.home.daily_plan();
    ctx.write_redacted(&path, &plan.render(&tasks, ctx.now()))?;
    let changes = plan.diff.changes().count();
    let detail = serde_json::json!({"day": day, "today": plan.today.len(), "research": plan.research.len(), "changes": changes});
    ctx.audit(Event::new(ctx.now(), JobName::Morning.agent(), "plan.written").detail(detail))?;
    Ok(JobOutcome {
        job: JobName::Morning,
        day,
        summary: format!(
            "{} goals today, {} to research, {} deferred, {} waiting on a person; {changes} change(s) in VISION.md",
            plan.today.len(),
            plan.research.len(),
            plan.deferred.len(),
            plan.waiting.len()
        ),
        wrote: vec![path],
    })
}

/// The budget in one line: the cap and what is spent, or that no model is configured.
pub fn budget_line(ctx: &Ctx, day: NaiveDate) -> Result<String> {
    let spent = ctx.store.usage_total(day)?;
    let Some(budget) = &ctx.config.agents.budget else {
        return Ok(
            if ctx.config.agents.default_provider.is_none() && ctx.config.agents.agents.is_empty() {
                "no model configured, nothing is spent".to_string()
            } else {
                format!(
                    "no daily cap set; spent today ${:.2} ({} tokens)",
                    spent.cost_usd, spent.tokens
                )
            },
        );
    };
    let b = &budget.value;
    Ok(match (b.daily_usd, b.daily_tokens) {
        (Some(usd), _) => format!("${:.2} of ${usd:.2} spent today", spent.cost_usd),
        (_, Some(tokens)) => format!("{} of {tokens} tokens spent today", spent.tokens),
        _ => String::new(),
    })
}
