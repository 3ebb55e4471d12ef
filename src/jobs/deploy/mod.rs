//! DevOps (DESIGN §6, issue 14): after each merge, and on its schedule, bring what runs up
//! to the base branch — and undo a merge that broke it.
//!
//! - **When.** The work loop calls [`after_merges`] after every task it ends; the `deploy`
//!   job ([`run`]) does the same on its schedule or `dayshift run deploy`, so a merge a
//!   crash left unreleased is released at the next chance.
//! - **What.** A release ([`release::release`]) of the base's head: when the newest merge
//!   made a tree QA never ran (a merge commit), the base's own tests against the base
//!   before it; then, when target.yaml has a `build_command` or `deploy_command`, build,
//!   deploy and the health checks. Each is a run with its output kept, and a
//!   `release.done` event.
//! - **Undo.** A release that is unhealthy, failed, or broke the base's tests undoes the
//!   newest merge ([`undo`]): the revert through the forge, the previous good commit
//!   deployed again and checked, the task marked `reverted` with the evidence, its goal
//!   paused, the people told. A revert that fails too pauses everything and pages.
//!
//! What it never does: deploy a commit that is not on the base, give a command a variable
//! `deploy_env` does not name, revert a merge it did not make, or resume a pause.

mod release;
pub mod report;
mod undo;

use chrono::NaiveDate;

use super::{JobName, JobOutcome};
use crate::config::TargetConfig;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::store::Event;
use crate::target::Git;
use crate::tasks::TaskId;

pub use release::{Release, Verdict};

/// Whether target.yaml gives devops something to deploy with.
pub fn configured(target: &TargetConfig) -> bool {
    [&target.build_command, &target.deploy_command]
        .iter()
        .any(|c| c.as_deref().is_some_and(|c| !c.trim().is_empty()))
}

/// Why the `deploy` job cannot run here, if so.
pub fn not_ready(ctx: &Ctx) -> Option<String> {
    if !configured(&ctx.config.target) {
        return Some(
            "nothing to deploy with: config/target.yaml sets neither `build_command` nor `deploy_command`".into(),
        );
    }
    if !ctx.home.target_clone().join(".git").exists() {
        return Some(
            "the target is not cloned yet; set `repo` in config/target.yaml and run `dayshift setup`".into(),
        );
    }
    None
}

/// The `deploy` job: release the base's head unless it is what runs now and was healthy.
pub fn run(ctx: &Ctx, day: NaiveDate) -> Result<JobOutcome> {
    let head = newest_base(ctx)?;
    let current = ctx
        .store
        .last_event_with("release.done", "deployed", true)?;
    let summary = match current {
        Some(event)
            if event.commit.as_deref() == Some(head.as_str())
                && event.detail["verdict"] == "healthy" =>
        {
            format!(
                "nothing new to deploy: {} is deployed and was healthy at {}",
                short(&head),
                event.at.format("%Y-%m-%d %H:%M")
            )
        }
        // a commit already found bad is not deployed again: a revert or a fix comes first
        _ if let Some(bad) = ctx
            .store
            .last_event_of_commit("release.done", &head)?
            .filter(|e| e.detail["verdict"] != "healthy" && e.detail["verdict"] != "checked") =>
        {
            format!(
                "nothing deployed: the base's head {} was {} at {}; waiting for a new commit (a revert or a fix)",
                short(&head),
                bad.detail["verdict"]
                    .as_str()
                    .unwrap_or("bad")
                    .replace('_', " "),
                bad.at.format("%Y-%m-%d %H:%M")
            )
        }
        _ => match release_head(ctx, &head, "the deploy job")? {
            Some(released) => released.summary(),
            None => "nothing to release: no deploy command and no test to run".to_string(),
        },
    };
    Ok(JobOutcome {
        job: JobName::Deploy,
        day,
        summary,
        wrote: vec![],
    })
}

/// After the work loop ended a task: when dayshift merged since the last release, release
/// the base's head (tests when needed, deploy when configured) and undo a bad merge.
/// `None` when there was nothing to do; else a line for the loop's log.
pub fn after_merges(ctx: &Ctx) -> Result<Option<String>> {
    let tests = ctx.config.target.test_command.is_some();
    if !tests && !configured(&ctx.config.target) {
        return Ok(None);
    }
    let head = base_head(ctx)?;
    // a head released before (even one undone since) is not released again by itself
    if ctx
        .store
        .last_event_of_commit("release.done", &head)?
        .is_some()
    {
        return Ok(None);
    }
    if newest_merge(ctx)?.is_none() {
        return Ok(None);
    }
    Ok(release_head(ctx, &head, "after a merge")?.map(|r| r.summary()))
}

/// What a release of the head came to, undo included.
struct Released {
    release: Release,
    task: Option<TaskId>,
    undone: Option<String>,
}

impl Released {
    fn summary(&self) -> String {
        let mut line = format!(
            "released {}: {}",
            short(&self.release.commit),
            self.release.verdict.word()
        );
        if let Some(task) = self.task {
            line.push_str(&format!(" (after {task})"));
        }
        if let Some(undone) = &self.undone {
            line.push_str(&format!("; {undone}"));
        }
        line
    }
}

/// Release `head`; `None` when there is nothing to do (a fast-forward, no deploy).
fn release_head(ctx: &Ctx, head: &str, why: &str) -> Result<Option<Released>> {
    let blamed = newest_merge(ctx)?;
    let task = blamed.as_ref().map(|(id, _)| *id);
    // a fast-forward's tree is the one QA ran; a merge commit's is new
    let tests = ctx.config.target.test_command.is_some()
        && blamed
            .as_ref()
            .is_some_and(|(_, tested)| tested.as_deref() != Some(head));
    let steps = release::Steps {
        tests,
        deploy: configured(&ctx.config.target),
    };
    if !steps.tests && !steps.deploy {
        return Ok(None);
    }
    let release = release::release(ctx, head, task, steps, why)?;
    let undone = if release.verdict.is_bad() {
        Some(undo::undo(ctx, &release, task)?)
    } else {
        None
    };
    Ok(Some(Released {
        release,
        task,
        undone,
    }))
}

/// The newest merge dayshift made since the last release (a revert of its own excepted):
/// the task and the commit QA judged on its branch.
fn newest_merge(ctx: &Ctx) -> Result<Option<(TaskId, Option<String>)>> {
    let since = ctx
        .store
        .last_numbered_event("release.done")?
        .map_or(0, |(id, _)| id);
    for merged in ctx
        .store
        .events_of_after("task.merged", since)?
        .iter()
        .rev()
    {
        let Some(id) = merged.task else { continue };
        // a task file a person moved or broke since is still the merge to judge
        let task = ctx.queue.find(id).ok();
        let meta = task.as_ref().map(|t| &t.meta);
        if meta
            .and_then(|m| m.source.as_deref())
            .is_some_and(|s| s.starts_with("rollback:"))
        {
            continue;
        }
        return Ok(Some((id, meta.and_then(|m| m.commit.clone()))));
    }
    Ok(None)
}

/// The base as it stands now, for the scheduled deploy: origin's base when a person pushed
/// to it since (it is ahead of the clone's), else the clone's. The clone's branches are
/// not moved: the next merge catches up with origin as it always does.
pub(crate) fn newest_base(ctx: &Ctx) -> Result<String> {
    let local = base_head(ctx)?;
    let git = Git::new(ctx.home.target_clone());
    if !git.has_remote("origin")? {
        return Ok(local);
    }
    if let Err(e) = git.network(
        &["fetch", "--quiet", "origin"],
        "check that the target repo is reachable and your git credentials work",
    ) {
        tracing::warn!("deploying the clone's base without origin's news: {e}");
        return Ok(local);
    }
    let base = &ctx.config.target.base_branch;
    let Some(theirs) = git.commit_of(&format!("refs/remotes/origin/{base}"))? else {
        return Ok(local);
    };
    let ahead = theirs != local && git.probe(&["merge-base", "--is-ancestor", &local, &theirs])?;
    Ok(if ahead { theirs } else { local })
}

/// The base branch's head in the clone.
fn base_head(ctx: &Ctx) -> Result<String> {
    let base = &ctx.config.target.base_branch;
    Git::new(ctx.home.target_clone())
        .commit_of(base)?
        .ok_or_else(|| {
            Error::Refused(format!(
                "the target clone has no `{base}` branch; check `base_branch` in config/target.yaml and run `dayshift setup`"
            ))
        })
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(release::SHORT)]
}

/// The `deploy.*` event the people are told of.
fn told(ctx: &Ctx, action: &str, task: Option<TaskId>, detail: serde_json::Value) -> Result<()> {
    let mut event = Event::new(ctx.now(), "devops", action).detail(detail);
    if let Some(task) = task {
        event = event.task(task);
    }
    ctx.audit(event)
}
