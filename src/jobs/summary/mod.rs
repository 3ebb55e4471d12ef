//! The morning and nightly summaries as [`Notice`](crate::notify::Notice)s (issue 13): what
//! people read in their channel instead of DAILY_PLAN.md and the daily report.
//!
//! [`morning`] tells yesterday in numbers, today's plan, what was deferred and what needs a
//! person now; [`nightly`] condenses the day's report (merged with PR links, failed with
//! their reasons, waiting, stopped early). Both state the same facts as the files
//! ([`super::day_facts`]), and link to them for the whole text.
//!
//! Text dayshift did not write (task titles, goals, reasons) is escaped with
//! [`escape::markdown`] before it goes in, so it can neither format nor ping; the bold
//! headings and bullets are dayshift's own. Reasons are cut to one line, and a list longer
//! than [`LIST_MAX`] ends with how many more there are and where to read them.

mod morning;
mod nightly;

pub use morning::morning;
pub use nightly::nightly;

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::day_facts::waiting_on_person;
use crate::context::Ctx;
use crate::error::Result;
use crate::notify::discord::escape;
use crate::notify::{Notice, NoticeKind};
use crate::store::TaskRow;
use crate::tasks::{TaskId, TaskState};

/// The most items a list in a summary shows; the rest are counted and linked.
pub const LIST_MAX: usize = 15;

/// The longest reason shown, in characters (cut at a word, with "…").
pub const REASON_MAX: usize = 200;

/// Text from a task, a model, an issue or the repository, shown literally.
fn safe(text: &str) -> String {
    escape::markdown(text.trim())
}

/// A reason in one line: its first non-empty line, cut at a word boundary to at most
/// [`REASON_MAX`] characters with "…" when longer, then escaped.
fn one_line(reason: &str) -> String {
    let line = reason
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no reason recorded");
    if line.chars().count() <= REASON_MAX {
        let more_lines = reason.trim().lines().count() > 1;
        return format!("{}{}", safe(line), if more_lines { "…" } else { "" });
    }
    let head: String = line.chars().take(REASON_MAX - 1).collect();
    let head = match head.rfind(char::is_whitespace) {
        Some(at) if at > 0 => head[..at].trim_end(),
        _ => head.as_str(),
    };
    format!("{}…", safe(head))
}

/// `items` as a bulleted list of at most [`LIST_MAX`] lines; a longer list ends with how
/// many more there are and `link`, where they all are.
fn bullets(items: &[String], link: &str) -> String {
    list(items, link, false)
}

/// `items` as a list (numbered, or bulleted) of at most [`LIST_MAX`] lines, then the count
/// of the rest and where to read them.
fn list(items: &[String], link: &str, numbered: bool) -> String {
    let mut out: Vec<String> = items
        .iter()
        .take(LIST_MAX)
        .enumerate()
        .map(|(n, item)| match numbered {
            true => format!("{}. {item}", n + 1),
            false => format!("- {item}"),
        })
        .collect();
    if items.len() > LIST_MAX {
        out.push(format!(
            "… and {} more (see {})",
            items.len() - LIST_MAX,
            escape::mentions(link)
        ));
    }
    out.join("\n")
}

/// A section of a summary: a bold heading, then `body`.
fn section(heading: &str, body: &str) -> String {
    format!("**{heading}**\n{body}")
}

/// The tasks moved to merged (completed) and to failed on a day, each once, in the order
/// they moved; a failed task with the reason of its last failing move.
struct DayMoves {
    merged: Vec<TaskId>,
    failed: Vec<(TaskId, String)>,
}

impl DayMoves {
    fn of(ctx: &Ctx, day: NaiveDate) -> Result<DayMoves> {
        let mut merged: Vec<TaskId> = Vec::new();
        let mut failed: BTreeMap<TaskId, (usize, String)> = BTreeMap::new();
        for (n, event) in ctx.store.events_on(day)?.iter().enumerate() {
            let Some(id) = event.task.filter(|_| event.action == "task.moved") else {
                continue;
            };
            let why = event.detail["why"].as_str().unwrap_or("moved by hand");
            if event.detail["to"] == serde_json::json!(TaskState::Completed) {
                if !merged.contains(&id) {
                    merged.push(id);
                }
            } else if event.detail["to"] == serde_json::json!(TaskState::Failed) {
                let first = failed.get(&id).map_or(n, |(at, _)| *at);
                failed.insert(id, (first, why.to_string()));
            }
        }
        let mut failed: Vec<(usize, TaskId, String)> = failed
            .into_iter()
            .map(|(id, (n, why))| (n, id, why))
            .collect();
        failed.sort_by_key(|(n, ..)| *n);
        Ok(DayMoves {
            merged,
            failed: failed.into_iter().map(|(_, id, why)| (id, why)).collect(),
        })
    }
}

/// A task named in a list: its id in bold and its title, escaped.
fn task_label(id: TaskId, tasks: &[TaskRow]) -> String {
    match tasks.iter().find(|t| t.id == id) {
        Some(t) => format!("**{id}** {}", safe(&t.title)),
        None => format!("**{id}**"),
    }
}

/// The open tasks waiting for a person's approval, each with why it waits and the
/// command that decides it.
fn needs_you(ctx: &Ctx, tasks: &[TaskRow]) -> Result<Vec<String>> {
    Ok(waiting_on_person(ctx, tasks)?
        .into_iter()
        .map(|(t, why)| {
            format!(
                "{} — {} · `dayshift tasks approve {}`",
                task_label(t.id, tasks),
                one_line(&why),
                t.id
            )
        })
        .collect())
}

/// The day's spend against the cap, "today" when `day` is today.
fn spend(ctx: &Ctx, day: NaiveDate) -> Result<String> {
    let when = if day == ctx.today() {
        "today".to_string()
    } else {
        format!("on {day}")
    };
    super::morning::spend_line(ctx, day, &when)
}

/// A summary as a notice: `parts` (its sections) one paragraph each, read in full at
/// `link`; never urgent (summaries wait for quiet hours to end).
fn summary_notice(
    ctx: &Ctx,
    kind: NoticeKind,
    title: String,
    parts: &[String],
    fields: Vec<(String, String)>,
    link: String,
) -> Notice {
    Notice {
        kind,
        title,
        summary: parts.join("\n\n"),
        fields,
        link: Some(link),
        task: None,
        urgent: false,
        at: ctx.now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_one_escaped_line_cut_at_a_word() {
        assert_eq!(one_line("tests *failed*"), "tests \\*failed\\*");
        assert_eq!(one_line("\n  first\nsecond"), "first…");
        let long = "word ".repeat(100);
        let cut = one_line(&long);
        assert!(
            cut.ends_with("word…") && cut.chars().count() <= REASON_MAX,
            "{cut}"
        );
        let one_word = "x".repeat(500);
        assert_eq!(one_line(&one_word).chars().count(), REASON_MAX);
        assert_eq!(one_line(""), "no reason recorded");
    }

    #[test]
    fn a_long_list_ends_with_how_many_more_and_where() {
        let items: Vec<String> = (1..=17).map(|n| format!("item {n}")).collect();
        let text = list(&items, "reports/daily/2026-12-06.md", true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), LIST_MAX + 1);
        assert_eq!(lines[0], "1. item 1");
        assert_eq!(
            lines[LIST_MAX],
            "… and 2 more (see reports/daily/2026-12-06.md)"
        );
        assert_eq!(bullets(&items[..2], "x"), "- item 1\n- item 2");
    }
}
