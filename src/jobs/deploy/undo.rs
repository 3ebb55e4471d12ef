//! Undoing a bad release: the newest merge reverted through the forge (as devops, no
//! approval needed to undo dayshift's own merge), the previous good commit deployed again
//! and checked, the task marked `reverted` with the evidence, its goal paused, the people
//! told. When the revert cannot be made, or the previous version is unhealthy too,
//! everything pauses and the configured mention is paged (`pause.set` is urgent).

use super::release::{self, Release, Steps, Verdict};
use super::{short, told};
use crate::context::Ctx;
use crate::error::Result;
use crate::jobs::pause::{self, PauseScope};
use crate::jobs::rollback::{self, Undoer};
use crate::target::Git;
use crate::tasks::TaskId;

/// Undo `bad` (judged for the merge of `task`, if dayshift made one). Returns what was
/// done, in words.
pub(super) fn undo(ctx: &Ctx, bad: &Release, task: Option<TaskId>) -> Result<String> {
    let what = match bad.verdict {
        Verdict::TestsBroken => format!("the base's tests broke at {}", short(&bad.commit)),
        Verdict::Failed => format!("the deploy of {} failed", short(&bad.commit)),
        _ => format!("the deploy of {} was unhealthy", short(&bad.commit)),
    };
    let evidence = format!("{what}: {}", one_line(&bad.evidence));
    let reverted = task.map(|id| rollback::undo(ctx, id, Undoer::Devops(&evidence)));
    // what runs now may be the bad commit: the last good one goes back first
    let restored = if bad.deployed {
        match redeploy_previous(ctx, bad) {
            Ok(restored) => Some(restored),
            Err(e) => {
                // the revert and the people still come first; then everything waits
                let reason =
                    format!("{evidence}; the previous version could not be deployed again: {e}");
                pause::pause(ctx, PauseScope::All, &reason, &[])?;
                None
            }
        }
    } else {
        None
    };
    let restored_words = restored
        .as_ref()
        .map(|r| format!("{} deployed again: {}", short(&r.commit), r.verdict.word()));
    let mut done = Vec::new();
    let detail = |extra: serde_json::Value| {
        let mut detail = serde_json::json!({
            "commit": bad.commit,
            "verdict": bad.verdict,
            "evidence": bad.evidence,
            "log": ctx.home.display_path(&bad.log).to_string(),
            "restored": restored.as_ref().map(|r| serde_json::json!({"commit": r.commit, "verdict": r.verdict})),
        });
        if let (Some(map), serde_json::Value::Object(extra)) = (detail.as_object_mut(), extra) {
            map.extend(extra);
        }
        detail
    };
    match (task, reverted) {
        (Some(id), Some(Ok(rolled))) => {
            let mut task = ctx.queue.find(id)?;
            let log = ctx.home.display_path(&bad.log).to_string();
            task.set_section(
                "Reverted",
                &section(&evidence, &log, bad, restored_words.as_deref()),
            );
            ctx.save_task(&task, "devops", "task.logged", serde_json::Value::Null)?;
            done.push(format!(
                "{id} reverted by {} ({})",
                rolled.revert_task, rolled.outcome
            ));
            if let Some(goal) = task.meta.goal.clone() {
                let reason = format!(
                    "{id} was reverted ({evidence}); the other tasks of goal {goal} wait so the next one does not build on it"
                );
                pause::pause(ctx, PauseScope::Goals, &reason, std::slice::from_ref(&goal))?;
                done.push(format!("goal {goal} paused"));
            }
            told(
                ctx,
                "deploy.reverted",
                Some(id),
                detail(serde_json::json!({
                    "revert_task": rolled.revert_task.to_string(),
                    "outcome": rolled.outcome,
                    "title": task.meta.title,
                })),
            )?;
        }
        (Some(id), Some(Err(e))) => {
            let reason = format!(
                "{evidence}; reverting {id} failed too ({e}): the base still has the change; revert it by hand (`dayshift rollback {id}` once the cause is fixed)"
            );
            pause::pause(ctx, PauseScope::All, &reason, &[])?;
            done.push(format!("the revert of {id} failed; everything paused"));
            told(
                ctx,
                "deploy.revert_failed",
                Some(id),
                detail(serde_json::json!({"error": ctx.redact(&e.to_string())})),
            )?;
        }
        _ => {
            done.push("no merge of dayshift's to revert".into());
            told(
                ctx,
                "deploy.unhealthy",
                None,
                detail(serde_json::Value::Null),
            )?;
        }
    }
    if let Some(restored) = &restored {
        done.push(restored_words.clone().unwrap_or_default());
        if restored.verdict != Verdict::Healthy {
            let reason = format!(
                "{evidence}; the previous version {} is not healthy either: {}",
                short(&restored.commit),
                one_line(&restored.evidence)
            );
            pause::pause(ctx, PauseScope::All, &reason, &[])?;
            done.push("everything paused".into());
        }
    }
    Ok(done.join("; "))
}

/// Deploy again the last commit whose release was healthy (else the base before the bad
/// one) and check it.
fn redeploy_previous(ctx: &Ctx, bad: &Release) -> Result<Release> {
    let good = ctx
        .store
        .last_event_with("release.done", "verdict", "healthy")?
        .and_then(|e| e.commit)
        .filter(|c| c != &bad.commit);
    let previous = match good {
        Some(commit) => commit,
        None => Git::new(ctx.home.target_clone())
            .commit_of(&format!("{}^1", bad.commit))?
            .unwrap_or_else(|| bad.commit.clone()),
    };
    release::release(
        ctx,
        &previous,
        None,
        Steps {
            tests: false,
            deploy: true,
        },
        &format!("the previous good version, after {}", short(&bad.commit)),
    )
}

/// The task file's `## Reverted` section: what was seen, what was done.
/// The evidence is indented (a code block): a line of a service's answer cannot start a
/// section of the task file.
fn section(evidence: &str, log: &str, bad: &Release, restored: Option<&str>) -> String {
    let quoted: Vec<String> = bad.evidence.lines().map(|l| format!("    {l}")).collect();
    let mut text = format!(
        "Reverted by devops: {}\n\nEvidence (the whole output is in `{log}`):\n\n{}\n",
        one_line(evidence),
        quoted.join("\n")
    );
    if let Some(restored) = restored {
        text.push_str(&format!("\nThen: {restored}.\n"));
    }
    text
}

/// The evidence on one line: its lines (bullets dropped) joined by "; ".
fn one_line(text: &str) -> String {
    text.lines()
        .map(|l| l.trim().trim_start_matches("- "))
        .filter(|l| !l.is_empty())
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("; ")
}
