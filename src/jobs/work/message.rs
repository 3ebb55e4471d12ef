//! The commit message for a task's change: a short conventional subject a log line can
//! show whole, and the goal in the body.
//!
//! ```text
//! fix: Return 503 from /health when the database is down and log the…
//!
//! Return 503 from /health when the database is down and log the cause at warning level.
//!
//! Done when:
//! - /health answers 503 without a database
//!
//! Task: T-0007            (added by target::commit)
//! ```

use crate::tasks::{Task, TaskKind};

/// Subjects longer than this are cut at a word boundary (git's and GitHub's one-line views).
const SUBJECT_MAX: usize = 72;
/// The body keeps this much of the task's description.
const BODY_MAX: usize = 2000;

/// The commit message (without the `Task:` trailer).
pub(super) fn commit_message(task: &Task) -> String {
    let kind = match task.meta.kind {
        TaskKind::Test => "test",
        TaskKind::Docs => "docs",
        _ => "fix",
    };
    let title = task.meta.title.trim();
    // "fix: Fix add" says it twice: the title's own verb, when it is the kind, goes
    let said = title
        .split_once(' ')
        .filter(|(verb, _)| verb.eq_ignore_ascii_case(kind))
        .map_or(title, |(_, rest)| rest.trim_start());
    let subject = shorten(&format!("{kind}: {said}"), SUBJECT_MAX);
    let mut body = Vec::new();
    if subject.ends_with('…') {
        body.push(title.to_string());
    }
    let description = description(&task.body);
    let same = |a: &str, b: &str| a.trim_end_matches('.') == b.trim_end_matches('.');
    if !description.is_empty() && !same(description, title) {
        body.push(shorten(description, BODY_MAX));
    }
    if !task.meta.acceptance.is_empty() {
        let done: Vec<String> = task
            .meta
            .acceptance
            .iter()
            .map(|a| format!("- {}", a.trim()))
            .collect();
        body.push(format!("Done when:\n{}", done.join("\n")));
    }
    if body.is_empty() {
        subject
    } else {
        format!("{subject}\n\n{}", body.join("\n\n"))
    }
}

/// The merge commit's subject: `Merge T-0007 (<title, cut>)`.
pub(super) fn merge_subject(task: &Task) -> String {
    shorten(
        &format!("Merge {} ({})", task.meta.id, task.meta.title.trim()),
        SUBJECT_MAX,
    )
}

/// The task file's `## Description` section.
fn description(body: &str) -> &str {
    body.split("\n## ")
        .next()
        .unwrap_or("")
        .trim_start_matches("## Description")
        .trim()
}

/// `text` on one line, at most `max` characters: cut at the last space that fits, with `…`.
fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    let at_word = match cut.rfind(' ') {
        Some(space) if space > max / 2 => &cut[..space],
        _ => &cut,
    };
    format!(
        "{}…",
        at_word.trim_end_matches([' ', ',', ';', ':', '.', '…'])
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn task(title: &str, description: &str) -> Task {
        let text = format!(
            "---\nid: T-0007\ntitle: \"{title}\"\npriority: high\nacceptance: [\"health answers 503\"]\ncreated: 2026-11-22T07:46:02+00:00\n---\n## Description\n{description}\n\n## Log\n- x\n"
        );
        Task::parse(
            std::path::Path::new("tasks/backlog/T-0007-x.md"),
            crate::tasks::TaskState::Backlog,
            &text,
        )
        .unwrap()
    }

    #[test]
    fn a_long_title_is_cut_at_a_word_and_kept_whole_in_the_body() {
        let title = "Return 503 from the health endpoint when the database is down and log the cause at warning level";
        let message = commit_message(&task(title, "The goal, in full."));
        let subject = message.lines().next().unwrap();
        assert!(subject.chars().count() <= SUBJECT_MAX, "{subject}");
        assert!(
            subject.starts_with("fix: Return 503") && subject.ends_with("is down and…"),
            "{subject}"
        );
        assert!(
            message.contains(&format!("\n\n{title}\n\nThe goal, in full.")),
            "{message}"
        );
        assert!(
            message.ends_with("Done when:\n- health answers 503"),
            "{message}"
        );
        assert!(!message.contains("## Log"));
    }

    #[test]
    fn a_short_title_is_the_subject_as_it_is() {
        let message = commit_message(&task("Fix add", "Fix add"));
        assert_eq!(message, "fix: add\n\nDone when:\n- health answers 503");
        let message = commit_message(&task("Fixture loader for tests", ""));
        assert!(message.starts_with("fix: Fixture loader"), "{message}");
        assert_eq!(
            merge_subject(&task("Fix add", "")),
            "Merge T-0007 (Fix add)"
        );
        assert_eq!(shorten("abcdefghij", 5), "abcd…");
    }
}
