//! `morning` (orchestrator): VISION.md → DAILY_PLAN.md.
//!
//! Without a model the plan takes open goals by priority up to `max_tasks_per_day`; with
//! one, the orchestrator chooses and orders them and says why ([`super::orchestrate`]).
//! Nothing is written until everything is known: a VISION.md that cannot be understood, a
//! failed model call or an unusable answer fails the job and the previous plan stays.
//!
//! A day is planned once. Run again for a date that has a plan, the morning does nothing
//! while VISION.md is the text that plan was made from, and amends the plan when it is not
//! ([`DailyPlan::amend`]: new goals appended, none dropped) — so a second `day` on the same
//! date cannot shrink the plan to the goals still open, nor lose the morning's record.

use chrono::NaiveDate;

use super::JobName;
use super::daily_plan::DailyPlan;
use super::orchestrate::{self, Model};
use super::outcome::JobOutcome;
use crate::context::Ctx;
use crate::error::Result;
use crate::store::Event;

pub fn run(ctx: &mut Ctx, day: NaiveDate, model: Option<&Model>) -> Result<JobOutcome> {
    let understood = ctx.read_vision(day)?;
    // labelled GitHub issues become backlog tasks first: the plan sees them
    let issues =
        match crate::forge::from_config(ctx).and_then(|f| super::issues::sync(ctx, f.as_ref())) {
            Ok(synced) => synced.summary(),
            Err(e) => {
                tracing::warn!("GitHub issues could not be read: {e}");
                Some(format!(
                    "GitHub issues could not be read ({e}); the plan goes on without them"
                ))
            }
        };
    let tasks = ctx.store.tasks()?;
    let fresh = DailyPlan::build(
        day,
        &understood,
        &tasks,
        ctx.config.agents.max_tasks_per_day,
        budget_line(ctx, day)?,
        &super::files_named::tracked_files(&ctx.home.target_clone()),
    );
    let (plan, amended) = match stored_plan(ctx, day)? {
        Some(stored) if stored.vision_sha256.as_deref() == fresh.vision_sha256.as_deref() => {
            return unchanged(ctx, day, &stored, &tasks);
        }
        Some(mut stored) => {
            let added = stored.amend(fresh);
            (stored, Some(added))
        }
        None => {
            let mut plan = fresh;
            if let Some(model) = model {
                let chosen = orchestrate::choose(ctx, model, &plan, &understood, &tasks, day)?;
                plan.apply(&chosen.value);
            }
            (plan, None)
        }
    };
    let mut plan = plan;
    plan.proposals = proposals_since_yesterday(ctx, day)?;
    understood
        .snapshot(day)
        .save(&ctx.home.snapshots_dir(), &understood.text)?;
    let json = serde_json::to_string(&plan).unwrap_or_default();
    ctx.store.save_plan(day, &json, ctx.now())?;
    let path = ctx.home.daily_plan();
    ctx.write_redacted(&path, &plan.render(&tasks, ctx.now()))?;
    let changes = plan.diff.changes().count();
    let mut detail = serde_json::json!({"day": day, "today": plan.today.len(), "research": plan.research.len(), "changes": changes});
    let counts = format!(
        "{} goals today, {} to research, {} deferred, {} waiting on a person",
        plan.today.len(),
        plan.research.len(),
        plan.deferred.len(),
        plan.waiting.len()
    );
    let (action, summary) = match &amended {
        None => (
            "plan.written",
            format!("{counts}; {changes} change(s) in VISION.md"),
        ),
        Some(added) => {
            detail["added"] = serde_json::json!(added);
            (
                "plan.amended",
                format!(
                    "morning already ran for {day}; VISION.md changed since, so the plan was amended: {} goal(s) added, none dropped; {counts}",
                    added.len()
                ),
            )
        }
    };
    ctx.audit(Event::new(ctx.now(), JobName::Morning.agent(), action).detail(detail))?;
    let summary = match issues {
        Some(issues) => format!("{summary}; {issues}"),
        None => summary,
    };
    Ok(JobOutcome {
        job: JobName::Morning,
        day,
        summary,
        wrote: vec![path],
    })
}

/// The plan stored for `day`, if the morning made one. One this dayshift cannot read (a
/// plan written by another version) counts as none, with a warning: the day is planned
/// again rather than left unplannable.
fn stored_plan(ctx: &Ctx, day: NaiveDate) -> Result<Option<DailyPlan>> {
    let Some(json) = ctx.store.load_plan(day)? else {
        return Ok(None);
    };
    Ok(serde_json::from_str(&json)
        .inspect_err(|e| {
            tracing::warn!("the stored plan for {day} cannot be read ({e}); planning {day} again")
        })
        .ok())
}

/// The morning of a day already planned from this very VISION.md: nothing to do. Only a
/// DAILY_PLAN.md that went missing is written again, from the stored plan.
fn unchanged(
    ctx: &Ctx,
    day: NaiveDate,
    plan: &DailyPlan,
    tasks: &[crate::store::TaskRow],
) -> Result<JobOutcome> {
    let path = ctx.home.daily_plan();
    let mut wrote = Vec::new();
    if !path.exists() {
        ctx.write_redacted(&path, &plan.render(tasks, ctx.now()))?;
        wrote.push(path);
    }
    let summary =
        format!("morning already ran for {day} and VISION.md has not changed; nothing to do");
    let detail = serde_json::json!({"day": day, "why": summary});
    ctx.audit(Event::new(ctx.now(), JobName::Morning.agent(), "plan.unchanged").detail(detail))?;
    Ok(JobOutcome {
        job: JobName::Morning,
        day,
        summary,
        wrote,
    })
}

/// The researcher's follow-ups of yesterday and today (`research.proposed`), each title
/// once, but those that are a task already (promoted by a person, or planned).
fn proposals_since_yesterday(
    ctx: &Ctx,
    day: NaiveDate,
) -> Result<Vec<super::daily_plan::Proposal>> {
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let tasks = ctx.store.tasks()?;
    let mut proposals: Vec<super::daily_plan::Proposal> = Vec::new();
    for on in [day - chrono::Days::new(1), day] {
        for (number, event) in ctx.store.numbered_events_on(on, "research.proposed")? {
            let text = |k: &str| event.detail[k].as_str().unwrap_or_default().to_string();
            let proposal = super::daily_plan::Proposal {
                id: super::research::proposal_id(number),
                title: text("title"),
                why: text("why"),
                report: text("report"),
            };
            if proposal.title.is_empty()
                || proposals.iter().any(|p| same(&p.title, &proposal.title))
                || tasks.iter().any(|t| same(&t.title, &proposal.title))
            {
                continue;
            }
            proposals.push(proposal);
        }
    }
    Ok(proposals)
}

/// The budget in one line: the cap and what is spent, or that no model is configured.
pub fn budget_line(ctx: &Ctx, day: NaiveDate) -> Result<String> {
    spend_line(ctx, day, "today")
}

/// [`budget_line`] for any day, which `when` names ("today", "on 2026-12-05").
pub(crate) fn spend_line(ctx: &Ctx, day: NaiveDate, when: &str) -> Result<String> {
    let spent = ctx.store.usage_total(day)?;
    let Some(budget) = &ctx.config.agents.budget else {
        return Ok(
            if ctx.config.agents.default_provider.is_none() && ctx.config.agents.agents.is_empty() {
                "no model configured, nothing is spent".to_string()
            } else {
                format!(
                    "no daily cap set; spent {when} ${:.2} ({} tokens)",
                    spent.cost_usd, spent.tokens
                )
            },
        );
    };
    let b = &budget.value;
    Ok(match (b.daily_usd, b.daily_tokens) {
        (Some(usd), _) => format!("${:.2} of ${usd:.2} spent {when}", spent.cost_usd),
        (_, Some(tokens)) => format!("{} of {tokens} tokens spent {when}", spent.tokens),
        _ => String::new(),
    })
}
