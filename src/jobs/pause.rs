//! The emergency pause: dayshift stopping itself when something goes wrong repeatedly —
//! like a person's STOP file, but written by dayshift, with the reason, and cleared only by
//! `dayshift resume` (a person's act). The file is `PAUSED` in the home: markdown a person
//! reads, with a small front matter dayshift reads back. It persists across restarts, so a
//! restarted daemon stays paused.
//!
//! Three scopes, narrowest first: `goals` (the tasks of those VISION goals wait; everything
//! else goes on) after a merge of that goal was reverted because its deploy was unhealthy
//! or the base's tests broke; `work` (the work loop and deploys wait; the morning, plan and
//! wrap-up still run and report) after `policy.max_consecutive_failures` tasks failed in a
//! row; and `all` (nothing touches the target) when a failed deploy's revert failed too. A
//! new pause only widens the one in force. A `PAUSED` file that cannot be read pauses
//! everything: a damaged brake is still a brake.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::JobName;
use crate::context::Ctx;
use crate::error::{IoContext, Result};
use crate::home::Home;
use crate::store::Event;

/// What a pause stops, narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseScope {
    /// The tasks of the goals the pause names.
    Goals,
    /// The work loop and deploys.
    Work,
    /// Every job that acts on the target (work, deploy, research, plan, monitor).
    All,
}

/// A pause dayshift made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pause {
    pub scope: PauseScope,
    pub since: DateTime<FixedOffset>,
    /// Why, in one paragraph a person can act on.
    pub reason: String,
    /// The VISION goals whose tasks wait (with any scope: a wider pause keeps them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goals: Vec<String>,
}

impl Pause {
    /// The pause in force, if any. A file that cannot be read is a pause of everything
    /// whose reason says so.
    pub fn read(home: &Home) -> Option<Pause> {
        let path = home.pause_file();
        let text = std::fs::read_to_string(&path).ok()?;
        Some(parse(&text).unwrap_or_else(|| Pause {
            scope: PauseScope::All,
            since: std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .map(|t| chrono::DateTime::<chrono::Utc>::from(t).fixed_offset())
                .unwrap_or_default(),
            reason: format!(
                "{} cannot be read as dayshift wrote it, so everything stays paused; read it, fix what it says, then `dayshift resume`",
                home.display_path(&path)
            ),
            goals: Vec::new(),
        }))
    }

    /// Whether this pause keeps `job` from running.
    pub fn blocks(&self, job: JobName) -> bool {
        match self.scope {
            PauseScope::All => !matches!(job, JobName::Morning | JobName::Wrapup),
            PauseScope::Work => matches!(job, JobName::Work | JobName::Deploy),
            PauseScope::Goals => false,
        }
    }

    /// Whether the tasks of `goal` wait.
    pub fn holds_goal(&self, goal: &str) -> bool {
        self.goals.iter().any(|g| g == goal)
    }

    /// Why `job` does not run, for a refusal.
    pub fn refusal(&self, home: &Home) -> String {
        let held = match self.scope {
            PauseScope::Goals => format!("; the tasks of {} wait", self.goals.join(", ")),
            _ => String::new(),
        };
        format!(
            "paused by dayshift since {} ({}{held}): {}; `dayshift resume` clears it once you have looked",
            self.since.format("%Y-%m-%d %H:%M"),
            home.display_path(&home.pause_file()),
            self.reason
        )
    }

    fn render(&self) -> String {
        let front = serde_json::to_string(self).unwrap_or_default();
        let goals = self.goals.join(", ");
        let what = match self.scope {
            PauseScope::Goals => format!("the tasks of {goals} wait"),
            PauseScope::Work => "the work loop and deploys wait".to_string(),
            PauseScope::All => "every job that acts on the target waits".to_string(),
        };
        format!(
            "---\n{front}\n---\n# dayshift paused itself\n\nSince {}: {what}.\n\n{}\n\nLook at what went wrong (`dayshift tasks list`, `dayshift logs`, the day's report), then run `dayshift resume`. Deleting this file by hand works too; `dayshift resume` also records who resumed.\n",
            self.since.format("%Y-%m-%d %H:%M %:z"),
            self.reason
        )
    }
}

fn parse(text: &str) -> Option<Pause> {
    let body = text.strip_prefix("---\n")?;
    let (front, _) = body.split_once("\n---")?;
    serde_json::from_str(front.trim()).ok()
}

/// Pause (writing `PAUSED` atomically, audited as `pause.set`, which the people are told
/// as urgent). A pause already in force is only widened: the wider scope of the two, the
/// goals of both, both reasons.
pub fn pause(ctx: &Ctx, scope: PauseScope, reason: &str, goals: &[String]) -> Result<Pause> {
    let mut pause = Pause {
        scope,
        since: ctx.now(),
        reason: ctx.redact(reason),
        goals: goals.to_vec(),
    };
    if let Some(existing) = Pause::read(&ctx.home) {
        pause.scope = pause.scope.max(existing.scope);
        pause.since = existing.since;
        pause.reason = format!("{}\n\nThen: {}", existing.reason, pause.reason);
        let mut all = existing.goals;
        all.extend(
            pause
                .goals
                .iter()
                .filter(|g| !all.contains(g))
                .cloned()
                .collect::<Vec<_>>(),
        );
        pause.goals = all;
    }
    let path = ctx.home.pause_file();
    crate::fsx::write_atomic(&path, pause.render().as_bytes()).at_path(&path)?;
    tracing::error!("{}", pause.refusal(&ctx.home));
    ctx.audit(Event::new(ctx.now(), "dayshift", "pause.set").detail(
        serde_json::json!({"scope": pause.scope, "reason": ctx.redact(reason), "goals": goals}),
    ))?;
    Ok(pause)
}

/// Clear the pause as `by`'s act (`dayshift resume`): the pause it cleared, if any.
pub fn resume(ctx: &Ctx, by: &str) -> Result<Option<Pause>> {
    let Some(pause) = Pause::read(&ctx.home) else {
        return Ok(None);
    };
    let path = ctx.home.pause_file();
    std::fs::remove_file(&path).at_path(&path)?;
    ctx.audit(
        Event::new(ctx.now(), "human", "pause.cleared").detail(serde_json::json!({
            "by": by, "scope": pause.scope, "reason": pause.reason,
        })),
    )?;
    Ok(Some(pause))
}

/// After a task failed: when the last `policy.max_consecutive_failures` tasks dayshift
/// finished all failed, pause the work loop naming them. Returns the pause made.
pub fn after_a_failure(ctx: &Ctx) -> Result<Option<Pause>> {
    let limit = ctx.config.policy.max_consecutive_failures;
    if limit == 0 {
        return Ok(None);
    }
    let ends = ctx.store.last_task_ends(limit)?;
    if ends.len() < limit as usize || ends.iter().any(|(_, to)| to != "failed") {
        return Ok(None);
    }
    let ids: Vec<String> = ends.iter().rev().map(|(id, _)| id.to_string()).collect();
    let reason = format!(
        "{limit} tasks failed in a row ({}): something may be wrong with the target, its tests or the coding tool rather than with the tasks (policy.yaml `max_consecutive_failures: {limit}`)",
        ids.join(", ")
    );
    pause(ctx, PauseScope::Work, &reason, &[]).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_reads_back_and_a_damaged_one_pauses_everything() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("h"), "UTC").unwrap();
        assert!(Pause::read(&home).is_none());
        let pause = Pause {
            scope: PauseScope::Work,
            since: DateTime::parse_from_rfc3339("2026-12-06T10:00:00+06:00").unwrap(),
            reason: "3 tasks failed in a row".into(),
            goals: vec!["g-1".into()],
        };
        std::fs::write(home.pause_file(), pause.render()).unwrap();
        assert_eq!(Pause::read(&home), Some(pause.clone()));
        assert!(pause.blocks(JobName::Work) && pause.blocks(JobName::Deploy));
        assert!(!pause.blocks(JobName::Wrapup) && !pause.blocks(JobName::Plan));
        assert!(pause.holds_goal("g-1") && !pause.holds_goal("g-2"));
        let goals_only = Pause {
            scope: PauseScope::Goals,
            ..pause.clone()
        };
        assert!(!goals_only.blocks(JobName::Work) && !goals_only.blocks(JobName::Deploy));

        std::fs::write(home.pause_file(), "someone edited this\n").unwrap();
        let damaged = Pause::read(&home).unwrap();
        assert_eq!(damaged.scope, PauseScope::All);
        assert!(
            damaged.reason.contains("cannot be read"),
            "{}",
            damaged.reason
        );
        assert!(damaged.blocks(JobName::Plan) && !damaged.blocks(JobName::Morning));
    }
}
