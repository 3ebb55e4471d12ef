//! `status`, `budget` and `audit`: what is going on, as tables or JSON.

use std::collections::BTreeMap;
use std::process::ExitCode;

use super::{print_json, table};
use crate::context::Ctx;
use crate::error::Result;
use crate::home::Home;
use crate::jobs::WorkNow;
use crate::tasks::TaskState;

pub fn status(home: &Home, json: bool) -> Result<ExitCode> {
    let daemon = crate::daemon::state(home);
    let mut ctx = Ctx::open_read_only(home.clone())?;
    let found = ctx.reconcile()?;
    let tasks = ctx.store.tasks()?;
    let counts: BTreeMap<TaskState, usize> = TaskState::ALL
        .iter()
        .map(|s| (*s, tasks.iter().filter(|t| t.state == *s).count()))
        .collect();
    let next = crate::daemon::next_runs(&ctx.config.schedules, chrono::Utc::now());
    let today = ctx.today();
    let spent = ctx.store.usage_total(today)?;
    let budget = crate::jobs::budget_line(&ctx, today)?;
    let paused = ctx.home.stop_file().exists();
    let pause = crate::jobs::pause::Pause::read(&ctx.home);
    // what a work run is doing now (in this terminal's home, from any process)
    let working = WorkNow::read(&ctx.home);
    let last_scan = ctx.store.last_event("scan.done")?;
    if json {
        let cap = ctx.config.agents.budget.as_ref().map(|b| &b.value);
        print_json(&serde_json::json!({
            "home": ctx.home.root(),
            "daemon": daemon,
            "paused": paused,
            "pause": pause,
            "timezone": ctx.config.schedules.timezone.name(),
            "next_runs": next,
            "tasks": counts.iter().map(|(s, n)| (s.folder(), n)).collect::<BTreeMap<_, _>>(),
            "spend": {
                "day": today,
                "tokens": spent.tokens,
                "cost_usd": spent.cost_usd,
                "cap_usd": cap.and_then(|b| b.daily_usd),
                "cap_tokens": cap.and_then(|b| b.daily_tokens),
            },
            "problems": found.problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "working": working,
            "last_scan": last_scan.as_ref().map(|e| serde_json::json!({
                "at": e.at, "commit": e.commit, "counts": e.detail["counts"], "report": e.detail["report"],
            })),
        }));
        return Ok(ExitCode::SUCCESS);
    }
    let running = match (daemon.running, daemon.pid) {
        (true, Some(pid)) => format!("running (pid {pid})"),
        (true, None) => "running".to_string(),
        (false, _) => "stopped (`dayshift start` starts it)".to_string(),
    };
    // a pause dayshift made is the first thing a person must see
    if let Some(pause) = &pause {
        println!("PAUSED    {}", pause.refusal(&ctx.home));
    }
    println!("daemon    {running}");
    if paused {
        println!("paused    STOP file present: every job waits until it is removed");
    }
    println!("home      {}", ctx.home.root().display());
    println!("zone      {}", ctx.config.schedules.timezone.name());
    let per_state: Vec<String> = counts.iter().map(|(s, n)| format!("{s} {n}")).collect();
    println!("tasks     {}", per_state.join(" · "));
    println!("spend     {budget}");
    if let Some(scan) = &last_scan {
        println!(
            "scan      {}",
            crate::jobs::monitor::report::status_line(scan)
        );
    }
    if let Some(now) = &working {
        let since = chrono::DateTime::parse_from_rfc3339(&now.since)
            .map(|t| {
                let secs = (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds();
                format!(" (this attempt for {}m{:02}s)", secs / 60, secs % 60)
            })
            .unwrap_or_default();
        println!("working   {}{since}", now.line());
    }
    println!();
    let rows: Vec<Vec<String>> =
        crate::jobs::JobName::ALL
            .iter()
            .map(|job| {
                let scheduled = next.iter().find(|n| n.job == *job);
                let next_time = match scheduled {
                    None => "on demand only".to_string(),
                    Some(n) => n.next.map_or("never".into(), |t| {
                        t.format("%Y-%m-%d %H:%M %:z").to_string()
                    }),
                };
                let last = ctx.store.last_run(job.as_str()).ok().flatten().map_or(
                    "—".to_string(),
                    |r| {
                        format!(
                            "{} {}",
                            r.outcome.unwrap_or_else(|| "running".into()),
                            r.started.get(..16).unwrap_or("")
                        )
                    },
                );
                vec![
                    job.to_string(),
                    scheduled.map_or("—".into(), |n| n.cron.clone()),
                    next_time,
                    last,
                ]
            })
            .collect();
    print!(
        "{}",
        table::render(&["JOB", "CRON", "NEXT RUN", "LAST RUN"], &rows, 40)
    );
    for problem in &found.problems {
        eprintln!("error: {problem} (the file was left where it is)");
    }
    Ok(ExitCode::SUCCESS)
}

/// `dayshift audit`'s options.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// How many of the latest matching events to show.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Events of this day and later: YYYY-MM-DD, `today`, `yesterday`, or `7d` (the last
    /// seven days, today included).
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    pub since: Option<Since>,
    /// Only this task's events.
    #[arg(long, value_name = "TASK-ID")]
    pub task: Option<crate::tasks::TaskId>,
    /// Only this action (`task.moved`) or family of actions (`task`, `scan`, `review`).
    #[arg(long, value_name = "ACTION")]
    pub kind: Option<String>,
    /// Only this actor's events: `human`, `dayshift`, or an agent (`coder`, `scanner`…).
    #[arg(long, value_name = "ACTOR")]
    pub actor: Option<String>,
    /// JSON for scripts (an array of events, newest last).
    #[arg(long)]
    pub json: bool,
}

/// When `--since` starts: a date, or a number of days back from today (in the home's zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    Day(chrono::NaiveDate),
    DaysBack(u32),
}

fn parse_since(text: &str) -> std::result::Result<Since, String> {
    let text = text.trim();
    match text {
        "today" => return Ok(Since::DaysBack(1)),
        "yesterday" => return Ok(Since::DaysBack(2)),
        _ => {}
    }
    if let Some(days) = text.strip_suffix('d').and_then(|n| n.parse::<u32>().ok()) {
        return if days == 0 {
            Err("`0d` is no time: give `1d` for today".into())
        } else {
            Ok(Since::DaysBack(days))
        };
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Since::Day)
        .map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD), `today`, `yesterday` or a number of days like `7d`"))
}

pub fn audit(home: Home, args: AuditArgs) -> Result<ExitCode> {
    let ctx = Ctx::open_read_only(home)?;
    let since = args.since.map(|since| match since {
        Since::Day(day) => day,
        Since::DaysBack(days) => ctx.today() - chrono::Days::new(u64::from(days - 1)),
    });
    let filter = crate::store::EventFilter {
        since,
        task: args.task,
        kind: args.kind.clone(),
        actor: args.actor.clone(),
    };
    let events = ctx.store.events_matching(&filter, args.limit)?;
    let json = args.json;
    if json {
        print_json(&events);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                e.actor.clone(),
                e.action.clone(),
                e.task.map_or("—".into(), |t| t.to_string()),
                if e.detail.is_null() {
                    String::new()
                } else {
                    e.detail.to_string()
                },
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["AT", "ACTOR", "ACTION", "TASK", "DETAIL"], &rows, 30)
    );
    Ok(ExitCode::SUCCESS)
}
