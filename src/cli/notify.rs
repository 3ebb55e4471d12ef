//! `dayshift notify test | list`: post one test message to every configured channel, and
//! show the outbox (what was sent, what waits and why, what was dropped).

use std::process::ExitCode;

use super::print_json;
use super::table;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::home::Home;
use crate::notify::{Notice, NoticeKind, Patience};
use crate::store::OutboxState;

#[derive(Debug, clap::Subcommand)]
pub enum NotifyCommand {
    /// Post one test message to every channel of config/notify.yaml (and send what waits).
    #[command(after_help = "Examples:\n  dayshift notify test\n  dayshift notify test --json")]
    Test {
        /// JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The outbox: the latest notifications, sent or waiting, with why they wait.
    #[command(
        after_help = "Examples:\n  dayshift notify list\n  dayshift notify list --limit 200 --json | jq '.[] | select(.state != \"sent\")'"
    )]
    List {
        /// How many of the latest messages to show.
        #[arg(long, default_value_t = 30)]
        limit: u32,
        /// JSON for scripts (an array, newest last).
        #[arg(long)]
        json: bool,
    },
}

pub fn notify(home: Home, command: NotifyCommand) -> Result<ExitCode> {
    match command {
        NotifyCommand::Test { json } => test(Ctx::open(home, None)?, json),
        NotifyCommand::List { limit, json } => list(&Ctx::open_read_only(home)?, limit, json),
    }
}

fn test(ctx: Ctx, json: bool) -> Result<ExitCode> {
    if !ctx.config.notify.is_on() {
        return Err(Error::Refused(
            "no channel is configured: add config/notify.yaml (e.g. `discord: {webhook_env: DISCORD_WEBHOOK_URL}`) and put the URL in config/.env; docs/notifications.md shows how".into(),
        ));
    }
    let host = hostname();
    let notice = Notice {
        kind: NoticeKind::Test,
        title: "dayshift can reach this channel".into(),
        summary: format!(
            "A test message from `dayshift notify test` on {host} for the home {}. Summaries, alerts and what needs you arrive here.",
            ctx.home.root().display()
        ),
        fields: ctx
            .config
            .notify
            .channels
            .iter()
            .map(|c| {
                let events: Vec<&str> = c.events.iter().map(|k| k.kind()).collect();
                (format!("{} gets", c.name), events.join(", "))
            })
            .collect(),
        link: None,
        task: None,
        urgent: false,
        at: ctx.now(),
    };
    if let Err(e) = crate::notify::outbox::enqueue(&ctx.config, &ctx.store, &[notice.into()], None)
    {
        return Err(Error::Refused(format!(
            "the test message could not be written to the outbox: {e}"
        )));
    }
    let delivery = ctx.deliver_notices(Patience::Full).unwrap_or_default();
    let tests: Vec<_> = delivery.sent.iter().filter(|r| r.kind == "test").collect();
    let ok = delivery.problems.is_empty() && delivery.failed.is_empty() && !delivery.busy;
    if json {
        print_json(&serde_json::json!({
            "sent": delivery.sent,
            "failed": delivery.failed.iter().map(|(r, why)| serde_json::json!({"message": r, "why": why})).collect::<Vec<_>>(),
            "problems": delivery.problems,
            "waiting": delivery.waiting,
            "busy": delivery.busy,
        }));
    } else {
        for channel in &ctx.config.notify.channels {
            if tests.iter().any(|r| r.channel == channel.name) {
                println!("{}: the test message was sent", channel.name);
            }
        }
        for problem in &delivery.problems {
            println!("not sent: {problem}");
        }
        for (row, why) in &delivery.failed {
            println!("{}: refused: {why}", row.channel);
        }
        if delivery.busy {
            println!(
                "another dayshift is sending the outbox now; `dayshift notify list` shows what it sent"
            );
        }
        if delivery.waiting > 0 {
            println!(
                "{} message(s) wait in the outbox; they are sent by the next run or the daemon (`dayshift notify list`)",
                delivery.waiting
            );
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn list(ctx: &Ctx, limit: u32, json: bool) -> Result<ExitCode> {
    let rows = ctx.store.outbox_recent(limit)?;
    if json {
        print_json(&rows);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        let hint = if ctx.config.notify.is_on() {
            "nothing has been sent yet; `dayshift notify test` posts a test message"
        } else {
            "no channel is configured (config/notify.yaml; see docs/notifications.md)"
        };
        println!("The outbox is empty: {hint}.");
        return Ok(ExitCode::SUCCESS);
    }
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let part = if r.parts > 1 {
                format!(" ({}/{})", r.part + 1, r.parts)
            } else {
                String::new()
            };
            let note = match r.state {
                OutboxState::Pending
                | OutboxState::Sending
                | OutboxState::Dropped
                | OutboxState::Failed => r.last_error.clone().unwrap_or_default(),
                OutboxState::Sent => String::new(),
            };
            vec![
                r.id.to_string(),
                r.created.format("%m-%d %H:%M").to_string(),
                r.channel.clone(),
                r.kind.clone(),
                r.state.to_string(),
                r.attempts.to_string(),
                format!("{}{part}", r.title),
                note,
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &[
                "#",
                "WRITTEN",
                "CHANNEL",
                "KIND",
                "STATE",
                "TRIES",
                "TITLE",
                "WHY IT WAITS"
            ],
            &table_rows,
            60,
        )
    );
    let waiting = rows
        .iter()
        .filter(|r| matches!(r.state, OutboxState::Pending | OutboxState::Sending))
        .count();
    if waiting > 0 {
        println!(
            "\n{waiting} message(s) wait; the next run or the daemon sends them in order ({} h at most, then they are dropped).",
            ctx.config.notify.max_age_hours
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this machine".into())
}
