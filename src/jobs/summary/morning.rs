//! The morning summary: yesterday in numbers, today's plan (goals in order, what was
//! deferred and why) and what needs a person now, linking to DAILY_PLAN.md.

use chrono::NaiveDate;

use super::{DayMoves, bullets, needs_you, safe, section, spend, summary_notice};
use crate::context::Ctx;
use crate::error::Result;
use crate::jobs::daily_plan::{DailyPlan, PlannedGoal};
use crate::notify::{Notice, NoticeKind};

/// The morning summary of `day`, from the plan the morning stored and yesterday's moves.
pub fn morning(ctx: &Ctx, day: NaiveDate) -> Result<Notice> {
    let tasks = ctx.store.tasks()?;
    let link = ctx.home.display_path(&ctx.home.daily_plan()).to_string();
    let plan: Option<DailyPlan> = ctx
        .store
        .load_plan(day)?
        .and_then(|json| serde_json::from_str(&json).ok());
    let yesterday = day.pred_opt().unwrap_or(day);
    let moves = DayMoves::of(ctx, yesterday)?;
    let needs = needs_you(ctx, &tasks)?;

    let title = match &plan {
        Some(plan) => {
            let planned = plan.to_plan().count();
            let goals = if planned == 1 { "goal" } else { "goals" };
            format!("Morning, {day}: {planned} {goals} planned")
        }
        None => format!("Morning, {day}: no plan was made"),
    };
    let fields = vec![
        (
            "Merged yesterday".to_string(),
            moves.merged.len().to_string(),
        ),
        (
            "Failed yesterday".to_string(),
            moves.failed.len().to_string(),
        ),
        ("Waiting on a person".to_string(), needs.len().to_string()),
        ("Spend yesterday".to_string(), spend(ctx, yesterday)?),
    ];

    let mut parts = Vec::new();
    match &plan {
        None => parts.push(
            "No plan was stored for this day: the morning job did not finish. `dayshift run morning` plans it."
                .to_string(),
        ),
        Some(plan) => parts.extend(plan_sections(plan, &link)),
    }
    parts.push(section(
        "Needs you now",
        &if needs.is_empty() {
            "Nothing: no change waits for your approval.".to_string()
        } else {
            bullets(&needs, &link)
        },
    ));
    Ok(summary_notice(
        ctx,
        NoticeKind::Morning,
        title,
        &parts,
        fields,
        link,
    ))
}

/// Today's goals in order, the research, what was deferred and why, and the goals whose
/// tasks all failed.
fn plan_sections(plan: &DailyPlan, link: &str) -> Vec<String> {
    let why = |g: &PlannedGoal| plan.reasoning.as_ref().and_then(|r| r.why.get(&g.goal_id));
    let goal = |g: &PlannedGoal| {
        let text = format!("{} ({})", safe(&g.text), g.priority);
        match why(g) {
            Some(why) => format!("{text} — {}", super::one_line(why)),
            None => text,
        }
    };
    let mut out = Vec::new();
    let today = if plan.today.is_empty() {
        "Nothing to do today: every goal is done or waiting.".to_string()
    } else {
        let items: Vec<String> = plan.today.iter().map(goal).collect();
        super::list(&items, link, true)
    };
    out.push(section("Today's plan", &today));
    if !plan.research.is_empty() {
        let items: Vec<String> = plan.research.iter().map(goal).collect();
        out.push(section("Research first", &bullets(&items, link)));
    }
    if !plan.deferred.is_empty() {
        let items: Vec<String> = plan
            .deferred
            .iter()
            .map(|g| match why(g) {
                Some(_) => goal(g),
                None => format!("{} — over today's capacity", goal(g)),
            })
            .collect();
        out.push(section("Deferred", &bullets(&items, link)));
    }
    if !plan.waiting.is_empty() {
        let items: Vec<String> = plan
            .waiting
            .iter()
            .map(|g| {
                format!(
                    "{} — its tasks failed; `dayshift tasks retry ID` tries one again",
                    goal(g)
                )
            })
            .collect();
        out.push(section("Goals waiting on a person", &bullets(&items, link)));
    }
    out
}
