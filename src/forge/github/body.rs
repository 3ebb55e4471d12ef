//! What a task's pull request says: its title, its body (the task, its goal, acceptance,
//! the review with QA, the diff stat, attempts, tokens and cost, `Closes #N`) and labels.
//! Everything in it passes the redactor; text from the task file is quoted as data.

use crate::context::Ctx;
use crate::review::Review;
use crate::tasks::Task;

/// The PR's title: the task's, with its id.
pub fn title(task: &Task) -> String {
    format!("{} ({})", task.meta.title, task.meta.id)
}

/// The issue the task came from (`source: github#N`).
pub fn issue_of(task: &Task) -> Option<u64> {
    task.meta
        .source
        .as_deref()?
        .strip_prefix("github#")?
        .parse()
        .ok()
}

/// The labels a task's PR carries: `dayshift` and its risk.
pub fn labels(task: &Task) -> Vec<String> {
    let mut labels = vec!["dayshift".to_string()];
    if let Some(risk) = task.meta.risk {
        labels.push(format!("risk:{}", crate::review::risk_word(risk)));
    }
    labels
}

/// The PR's body. `diffstat` is `git diff --stat` of the change against the base.
pub fn body(ctx: &Ctx, task: &Task, review: &Review, diffstat: &str) -> String {
    let meta = &task.meta;
    let mut out = format!("**{}** — {}\n\n", meta.id, meta.title);
    if let Some(goal) = &meta.goal {
        out.push_str(&format!("Goal: {goal}\n\n"));
    }
    if let Some(description) = task.section("Description") {
        out.push_str(&format!("### Task\n\n{}\n\n", quote(description.trim())));
    }
    if !meta.acceptance.is_empty() {
        out.push_str("### Acceptance\n\n");
        for item in &meta.acceptance {
            out.push_str(&format!("- {item}\n"));
        }
        out.push('\n');
    }
    out.push_str("### Review and QA\n\n");
    out.push_str(&review.markdown());
    out.push('\n');
    if !diffstat.trim().is_empty() {
        out.push_str(&format!(
            "### Diff\n\n```\n{}\n```\n\n",
            diffstat.trim_end()
        ));
    }
    let spent = ctx.store.usage_of_task(meta.id).unwrap_or_default();
    out.push_str(&format!(
        "Attempts: {} · review rounds: {} · tokens: {} · cost: ${:.4}\n",
        meta.attempts, meta.review_rounds, spent.tokens, spent.cost_usd
    ));
    if let Some(issue) = issue_of(task) {
        out.push_str(&format!("\nCloses #{issue}\n"));
    }
    out.push_str(&format!(
        "\n---\nOpened by dayshift. Approve with a review to merge what waits for a person; close the PR to reject the task; request changes (or mention the bot) to send it back to the coder with your words.\n<!-- dayshift:{} -->\n",
        meta.id
    ));
    ctx.redact(&out)
}

/// The review posted on the PR (event COMMENT: a bot cannot approve its own PR).
pub fn review_comment(ctx: &Ctx, review: &Review) -> String {
    ctx.redact(&format!("dayshift's review\n\n{}", review.markdown()))
}

/// Text from the task file shown as a quote, so it reads as data, not as the PR's own words.
fn quote(text: &str) -> String {
    text.lines()
        .map(|l| format!("> {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
