//! `dayshift budget`: today against the cap, a bar per day, where the money went (agents,
//! the tasks that cost most) and the totals.

use std::collections::BTreeMap;
use std::process::ExitCode;

use chrono::NaiveDate;

use super::{print_json, table};
use crate::config::agents::BudgetConfig;
use crate::context::Ctx;
use crate::error::Result;
use crate::home::Home;
use crate::store::UsageRow;

/// Width of a full bar (the cap, or the costliest day without one).
const BAR: usize = 20;
/// How many tasks the "most spent" list shows.
const TOP_TASKS: usize = 5;

pub fn budget(home: Home, days: u32, json: bool) -> Result<ExitCode> {
    let ctx = Ctx::open_read_only(home)?;
    let today = ctx.today();
    let days = days.max(1);
    let mut rows = ctx.store.usage_by_agent(today, days)?;
    // nothing in the window but spend before it (e.g. the demo's home, whose day ran on a
    // fixed date): show the window that ends with the latest spend, and say so
    let mut window_end = today;
    if rows.is_empty()
        && let Some(latest) = ctx.store.latest_usage_day()?
        && latest < today
    {
        window_end = latest;
        rows = ctx.store.usage_by_agent(latest, days)?;
    }
    let cap = ctx.config.agents.budget.as_ref().map(|b| b.value.clone());
    let per_day = per_day(&rows);
    // the latest day with spend (today, or the demo's fixed date)
    let latest = per_day
        .keys()
        .next_back()
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .unwrap_or(today);
    let tasks = top_tasks(&ctx, latest)?;
    if json {
        print_json(&serde_json::json!({
            "days": days,
            "window_end": window_end,
            "cap_usd": cap.as_ref().and_then(|b| b.daily_usd),
            "cap_tokens": cap.as_ref().and_then(|b| b.daily_tokens),
            "rows": rows,
            "per_day": per_day.iter().map(|(day, s)| serde_json::json!({
                "day": day, "tokens": s.tokens, "cost_usd": s.cost_usd,
                "of_cap": cap.as_ref().and_then(|c| share(s, c)),
            })).collect::<Vec<_>>(),
            "top_tasks_day": latest,
            "top_tasks": tasks.iter().map(|(id, s)| serde_json::json!({
                "task": id, "tokens": s.tokens, "cost_usd": s.cost_usd,
            })).collect::<Vec<_>>(),
        }));
        return Ok(ExitCode::SUCCESS);
    }
    println!("budget    {}", crate::jobs::budget_line(&ctx, today)?);
    if let Some(cap) = &cap {
        let spent = per_day.get(&today.to_string()).copied().unwrap_or_default();
        if let Some(of) = share(&spent, cap) {
            println!(
                "today     {} of the cap; an alert at {:.0}%, work stops at 100%",
                bar(of),
                cap.alert_at * 100.0
            );
        }
    }
    if rows.is_empty() {
        println!("no model calls recorded in the last {days} day(s)");
        return Ok(ExitCode::SUCCESS);
    }
    if !per_day.contains_key(&today.to_string())
        && let Some(last) = per_day.keys().next_back()
    {
        // e.g. the demo's home, whose day ran on a fixed date
        println!("          nothing spent today ({today}); the latest spend was on {last}");
        if window_end != today {
            println!(
                "          nothing in the last {days} day(s) either: showing the {days} day(s) up to {window_end}"
            );
        }
    }
    println!("\nper day");
    let widest = per_day.values().map(|s| s.cost_usd).fold(0.0, f64::max);
    let most_tokens = per_day.values().map(|s| s.tokens).max().unwrap_or(0);
    let day_rows: Vec<Vec<String>> = per_day
        .iter()
        .rev()
        .map(|(day, s)| {
            let of = cap.as_ref().and_then(|c| share(s, c)).unwrap_or_else(|| {
                // no cap: bars compare the days with each other
                if widest > 0.0 {
                    s.cost_usd / widest
                } else {
                    s.tokens as f64 / most_tokens.max(1) as f64
                }
            });
            vec![
                day.clone(),
                s.tokens.to_string(),
                format!("${:.4}", s.cost_usd),
                bar(of),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["DAY", "TOKENS", "COST", "OF CAP"], &day_rows, 30)
    );
    println!("\nper agent");
    let agent_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.day.clone(),
                r.agent.clone(),
                r.calls.to_string(),
                r.input_tokens.to_string(),
                r.output_tokens.to_string(),
                r.cache_tokens.to_string(),
                format!("${:.4}", r.cost_usd),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &["DAY", "AGENT", "CALLS", "INPUT", "OUTPUT", "CACHE", "COST"],
            &agent_rows,
            30
        )
    );
    if !tasks.is_empty() {
        let when = if latest == today {
            "today".to_string()
        } else {
            format!("on {latest}")
        };
        println!("\nmost spent {when}, by task");
        let task_rows: Vec<Vec<String>> = tasks
            .iter()
            .map(|(id, s)| {
                vec![
                    id.clone(),
                    s.tokens.to_string(),
                    format!("${:.4}", s.cost_usd),
                ]
            })
            .collect();
        print!(
            "{}",
            table::render(&["TASK", "TOKENS", "COST"], &task_rows, 30)
        );
    }
    let total = per_day.values().fold(Spent::default(), |a, s| Spent {
        tokens: a.tokens + s.tokens,
        cost_usd: a.cost_usd + s.cost_usd,
    });
    println!(
        "\ntotal     {} tokens, ${:.4} over the last {days} day(s)",
        total.tokens, total.cost_usd
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Spent {
    tokens: u64,
    cost_usd: f64,
}

/// Each day's spend, all agents together (every token kind counts against a token cap).
fn per_day(rows: &[UsageRow]) -> BTreeMap<String, Spent> {
    let mut days: BTreeMap<String, Spent> = BTreeMap::new();
    for r in rows {
        let day = days.entry(r.day.clone()).or_default();
        day.tokens += r.input_tokens + r.output_tokens + r.cache_tokens;
        day.cost_usd += r.cost_usd;
    }
    days
}

/// The tasks that spent most on `day`, costliest first.
fn top_tasks(ctx: &Ctx, day: NaiveDate) -> Result<Vec<(String, Spent)>> {
    let mut tasks: Vec<(String, Spent)> = ctx
        .store
        .usage_by_task(day)?
        .into_iter()
        .map(|(id, u)| {
            (
                id,
                Spent {
                    tokens: u.tokens,
                    cost_usd: u.cost_usd,
                },
            )
        })
        .collect();
    tasks.sort_by(|a, b| {
        b.1.cost_usd
            .total_cmp(&a.1.cost_usd)
            .then(b.1.tokens.cmp(&a.1.tokens))
            .then(a.0.cmp(&b.0))
    });
    tasks.truncate(TOP_TASKS);
    Ok(tasks)
}

/// What part of the cap `spent` is (money when the cap is money, else tokens).
fn share(spent: &Spent, cap: &BudgetConfig) -> Option<f64> {
    match (cap.daily_usd, cap.daily_tokens) {
        (Some(usd), _) if usd > 0.0 => Some(spent.cost_usd / usd),
        (_, Some(tokens)) if tokens > 0 => Some(spent.tokens as f64 / tokens as f64),
        _ => None,
    }
}

/// `████▌       ` for a share of 0–1 (more than the whole is a full bar and a `!`).
fn bar(share: f64) -> String {
    let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let units = (share.clamp(0.0, 1.0) * BAR as f64 * 8.0).round() as usize;
    let mut out = "█".repeat(units / 8);
    out.push_str(eighths[units % 8]);
    let drawn = units.div_ceil(8);
    out.push_str(&" ".repeat(BAR.saturating_sub(drawn)));
    if share > 1.0 {
        out.push('!');
    }
    format!("{out} {:>5.1}%", share * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_grow_with_the_share_and_say_the_percent() {
        assert_eq!(bar(0.0), format!("{}   0.0%", " ".repeat(BAR)));
        assert_eq!(
            bar(0.5),
            format!("{}{}  50.0%", "█".repeat(10), " ".repeat(10))
        );
        assert!(bar(1.5).contains('!') && bar(1.5).ends_with("150.0%"));
        assert!(bar(0.025).starts_with('▌'), "{}", bar(0.025));
    }

    #[test]
    fn days_add_up_their_agents_and_share_is_of_the_cap_kind() {
        let row = |day: &str, agent: &str, tokens: u64, cost: f64| UsageRow {
            day: day.into(),
            agent: agent.into(),
            calls: 1,
            input_tokens: tokens,
            output_tokens: 0,
            cache_tokens: 0,
            cost_usd: cost,
        };
        let days = per_day(&[row("d1", "coder", 100, 1.0), row("d1", "planner", 50, 0.5)]);
        assert_eq!(
            days["d1"],
            Spent {
                tokens: 150,
                cost_usd: 1.5
            }
        );
        let money = BudgetConfig {
            daily_usd: Some(3.0),
            daily_tokens: None,
            alert_at: 0.8,
        };
        assert_eq!(share(&days["d1"], &money), Some(0.5));
        let tokens = BudgetConfig {
            daily_usd: None,
            daily_tokens: Some(300),
            alert_at: 0.8,
        };
        assert_eq!(share(&days["d1"], &tokens), Some(0.5));
    }
}
