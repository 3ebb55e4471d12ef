//! The dashboard issue's body (`dashboard: true`): one issue kept current at wrap-up, like
//! Renovate's Dependency Dashboard. It says what waits for a person (a checkbox each, with
//! the task's pull request and why it waits), what waits for its checks, what is in
//! progress, today's spend, and what failed and why.
//!
//! [`gather`] reads the store and the task files into a [`Board`]; [`render`] writes the
//! markdown — every line through the redactor, cut to what GitHub takes — and [`ticks`]
//! reads back the boxes a person ticked. Text from task files is put on one line, so a
//! title or a reason can never start a checkbox line of its own.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::context::Ctx;
use crate::error::Result;
use crate::tasks::{Approval, Checks, Task, TaskId, TaskState};

/// The hidden line that tells dayshift's dashboard from any other issue.
pub const MARKER: &str = "<!-- dayshift-dashboard -->";
/// The dashboard issue's title.
pub const TITLE: &str = "dayshift dashboard";
/// Who approved, for a tick on the dashboard (the issue does not say who edited it).
pub const TICKED_BY: &str = "a person on the dashboard";
/// Failed tasks listed at most (the newest); the rest are counted.
const FAILED_SHOWN: usize = 50;

/// A task waiting for a person: its checkbox line.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub id: TaskId,
    pub title: String,
    pub pr: Option<u64>,
    pub why: String,
    /// The commit waiting for approval: a tick approves this change, not a later one.
    pub commit: String,
}

/// One task in a plain list: its id, title and a note (its PR, attempt or reason).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: TaskId,
    pub title: String,
    pub note: String,
}

/// What the dashboard shows, read from the home.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    pub waiting: Vec<Waiting>,
    pub checks: Vec<Entry>,
    pub in_progress: Vec<Entry>,
    /// Newest first.
    pub failed: Vec<Entry>,
    pub spend: String,
}

/// The board for `day`: the store's tasks (task files for those in review) and the day's
/// spend against the budget's cap.
pub fn gather(ctx: &Ctx, day: NaiveDate) -> Result<Board> {
    let mut board = Board {
        spend: spend_line(ctx, day)?,
        ..Board::default()
    };
    for row in ctx.store.tasks()? {
        let entry = |note: String| Entry {
            id: row.id,
            title: row.title.clone(),
            note,
        };
        match row.state {
            TaskState::InProgress => board
                .in_progress
                .push(entry(format!("attempt {}", row.attempts))),
            TaskState::Failed => board.failed.push(entry(
                row.reason
                    .clone()
                    .unwrap_or_else(|| "no reason recorded".into()),
            )),
            TaskState::InReview => match ctx.queue.find(row.id) {
                Ok(task) => board.place_in_review(&task),
                Err(e) => tracing::warn!("the dashboard leaves out {}: {e}", row.id),
            },
            TaskState::Backlog | TaskState::Completed => {}
        }
    }
    board.failed.reverse();
    Ok(board)
}

impl Board {
    /// A task in review goes where it waits: for a person, for its checks, or (approved,
    /// about to merge) in progress.
    fn place_in_review(&mut self, task: &Task) {
        let meta = &task.meta;
        if meta.approval == Some(Approval::Pending) {
            self.waiting.push(Waiting {
                id: meta.id,
                title: meta.title.clone(),
                pr: meta.pr,
                why: why_waiting(task),
                commit: meta.commit.clone().unwrap_or_default(),
            });
            return;
        }
        let entry = Entry {
            id: meta.id,
            title: meta.title.clone(),
            note: pull_ref(meta.pr),
        };
        if meta.checks == Some(Checks::Pending) {
            self.checks.push(entry);
        } else {
            self.in_progress.push(Entry {
                note: format!("in review, {}", entry.note),
                ..entry
            });
        }
    }
}

/// Why a task waits: its last "waiting for a person: …" log line (the reason only), else
/// its risk.
fn why_waiting(task: &Task) -> String {
    const SAID: &str = "waiting for a person: ";
    let logged = task.section("Log").and_then(|log| {
        log.lines()
            .rev()
            .find_map(|line| line.find(SAID).map(|at| &line[at + SAID.len()..]))
    });
    match (logged, task.meta.risk) {
        (Some(why), _) => why
            .split("; `dayshift tasks approve")
            .next()
            .unwrap_or(why)
            .to_string(),
        (None, Some(risk)) => format!("risk {}", crate::review::risk_word(risk)),
        (None, None) => "no reason recorded".into(),
    }
}

/// `#N` (GitHub links it in an issue), or that there is none yet.
fn pull_ref(pr: Option<u64>) -> String {
    pr.map_or("no pull request yet".into(), |n| format!("#{n}"))
}

/// Today's spend, and the daily cap when agents.yaml sets one.
fn spend_line(ctx: &Ctx, day: NaiveDate) -> Result<String> {
    let spent = ctx.store.usage_total(day)?;
    let cap = ctx.config.agents.budget.as_ref().map(|b| &b.value);
    let cap = match cap.map(|b| (b.daily_usd, b.daily_tokens)) {
        Some((Some(usd), _)) => format!("daily cap ${usd:.2}"),
        Some((None, Some(tokens))) => format!("daily cap {tokens} tokens"),
        _ => "no daily cap set".into(),
    };
    Ok(format!(
        "${:.2} ({} tokens) spent on {day}; {cap}.",
        spent.cost_usd, spent.tokens
    ))
}

/// The dashboard's body: `ticked` boxes stay ticked, `updated` says when. Everything passes
/// `redact`; the whole is cut to what GitHub takes.
pub fn render(
    board: &Board,
    ticked: &BTreeSet<TaskId>,
    updated: &str,
    redact: &dyn Fn(&str) -> String,
) -> String {
    let mut out = format!(
        "{MARKER}\n# {TITLE}\n\n_Kept current by dayshift at each wrap-up; last updated {updated}._\n\n## Waiting for a person\n\n"
    );
    if board.waiting.is_empty() {
        out.push_str("Nothing waits for a person.\n");
    } else {
        out.push_str(
            "Tick a box to approve that task's change as it is now, like `dayshift tasks approve`; \
             dayshift reads the ticks at its next work run. Only people with write access to the \
             repository can edit this issue.\n\n",
        );
    }
    for task in &board.waiting {
        let tick = if ticked.contains(&task.id) { 'x' } else { ' ' };
        out.push_str(&format!(
            "- [{tick}] {} {} — {} — {}\n",
            task.id,
            one_line(&task.title),
            pull_ref(task.pr),
            one_line(&task.why)
        ));
    }
    list(&mut out, "Waiting for checks", &board.checks, "None.");
    list(&mut out, "In progress", &board.in_progress, "None.");
    out.push_str(&format!(
        "\n## Today's spend\n\n{}\n",
        one_line(&board.spend)
    ));
    let shown = board.failed.len().min(FAILED_SHOWN);
    list(&mut out, "Failed", &board.failed[..shown], "None.");
    if board.failed.len() > shown {
        out.push_str(&format!(
            "- … and {} older, in tasks/failed/\n",
            board.failed.len() - shown
        ));
    }
    crate::github::cut_body(&redact(&out))
}

fn list(out: &mut String, heading: &str, entries: &[Entry], none: &str) {
    out.push_str(&format!("\n## {heading}\n\n"));
    if entries.is_empty() {
        out.push_str(&format!("{none}\n"));
    }
    for entry in entries {
        out.push_str(&format!(
            "- {} {} — {}\n",
            entry.id,
            one_line(&entry.title),
            one_line(&entry.note)
        ));
    }
}

/// Text from a file or a tool as one line of plain words.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The tasks whose box is ticked in `body` (`- [x] T-0003 …`).
pub fn ticks(body: &str) -> BTreeSet<TaskId> {
    body.lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("- [")?;
            let rest = rest.strip_prefix('x').or_else(|| rest.strip_prefix('X'))?;
            rest.strip_prefix("] ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

#[cfg(test)]
#[path = "dashboard_tests.rs"]
mod tests;
