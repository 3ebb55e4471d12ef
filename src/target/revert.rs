//! Undoing a merged task: a commit on a new task branch that reverts what the task put on
//! the base branch, made in that task's own worktree (the base is written only by a merge).
//!
//! What to revert is read from git, not from a file an agent could write: the merge the
//! audit recorded when it is a merge commit (reverted against its first parent), else
//! every commit on the base carrying the task's `Task: <ID>` trailer (a fast-forward), else
//! the recorded commit itself (a squash merge made on GitHub).

use super::{Git, TargetError, Worktree};
use crate::tasks::TaskId;

/// Make the revert of task `of` (merged at `merged`, from the audit) on `worktree`'s
/// branch, committed with `message` (the trailer of the new task is added). Returns the
/// revert commit.
pub fn revert_merge(
    worktree: &Worktree,
    of: TaskId,
    merged: Option<&str>,
    message: &str,
    new: TaskId,
) -> Result<String, TargetError> {
    let git = Git::new(&worktree.path);
    let commits = to_revert(&git, &worktree.base_commit, of, merged)?;
    if commits.is_empty() {
        return Err(TargetError::Unreadable {
            dir: worktree.path.clone(),
            message: format!(
                "no commit of {of} is on the base branch: it was never merged, or was rolled back already"
            ),
        });
    }
    for (commit, is_merge) in &commits {
        let mut args = vec!["revert", "--no-commit", "--no-edit"];
        if *is_merge {
            args.extend(["-m", "1"]);
        }
        args.push(commit);
        if let Err(e) = git.run(&args, "") {
            let _ = git.run(&["revert", "--abort"], "");
            return Err(TargetError::Unreadable {
                dir: worktree.path.clone(),
                message: format!(
                    "{of} cannot be reverted cleanly (later changes build on it): {e}; revert it by hand"
                ),
            });
        }
    }
    let full = super::merge::with_trailer(message, new);
    git.run(
        &["commit", "--quiet", "--no-verify", "-m", &full],
        "set user.name and user.email (`git config --global user.name …`) so dayshift can commit",
    )?;
    Ok(git.commit_of("HEAD")?.unwrap_or_default())
}

/// (commit, is a merge commit), newest first, reachable from `base`.
fn to_revert(
    git: &Git,
    base: &str,
    of: TaskId,
    merged: Option<&str>,
) -> Result<Vec<(String, bool)>, TargetError> {
    let on_base = |commit: &str| git.probe(&["merge-base", "--is-ancestor", commit, base]);
    if let Some(merged) = merged
        && git.commit_of(merged)?.is_some()
        && on_base(merged)?
    {
        let parents = git.run(&["rev-list", "--parents", "-n", "1", merged], "")?;
        if parents.split_whitespace().count() > 2 {
            return Ok(vec![(merged.to_string(), true)]);
        }
    }
    let trailer = format!("^Task: {of}$");
    let found = git.run(&["log", "--format=%H %P", "--grep", &trailer, base], "")?;
    let mut commits: Vec<(String, bool)> = found
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let sha = parts.next()?.to_string();
            Some((sha, parts.count() > 1))
        })
        .collect();
    if commits.is_empty()
        && let Some(merged) = merged
        && git.commit_of(merged)?.is_some()
        && on_base(merged)?
    {
        commits.push((merged.to_string(), false));
    }
    Ok(commits)
}
