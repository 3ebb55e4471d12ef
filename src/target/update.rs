//! Bringing a task branch up to date with a base that moved (another change merged since
//! it was made): the base merged into the branch in the task's worktree, or — when the two
//! conflict — the branch set back to the base so the task is done again on top of it.

use super::{Git, TargetError, start_task, worktree};
use crate::tasks::TaskId;

/// What [`update_from_base`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Updated {
    /// The branch already holds the base.
    UpToDate,
    /// The base was merged into the branch: its new head.
    Merged(String),
    /// The base conflicts with the branch in these files; the branch is unchanged.
    Conflict(Vec<String>),
}

/// Merge the freshly fetched base into task `id`'s branch (`agent/<ID>-<slug>`), with
/// `message` (a `Task:` trailer added). The worktree used is removed again.
pub fn update_from_base(
    clone: &std::path::Path,
    base: &str,
    id: TaskId,
    branch: &str,
    message: &str,
) -> Result<Updated, TargetError> {
    let slug = branch
        .strip_prefix(&format!("agent/{id}-"))
        .ok_or_else(|| TargetError::Unreadable {
            dir: clone.to_path_buf(),
            message: format!("`{branch}` is not the branch of {id}"),
        })?;
    let tree = start_task(clone, base, id, slug)?;
    let updated = merge_base_in(clone, &tree.path, base, message, id);
    worktree::remove(clone, id)?;
    updated
}

fn merge_base_in(
    clone: &std::path::Path,
    dir: &std::path::Path,
    base: &str,
    message: &str,
    id: TaskId,
) -> Result<Updated, TargetError> {
    let upstream = if Git::new(clone).has_remote("origin")? {
        format!("origin/{base}")
    } else {
        base.to_string()
    };
    let git = Git::new(dir);
    if git.probe(&["merge-base", "--is-ancestor", &upstream, "HEAD"])? {
        return Ok(Updated::UpToDate);
    }
    let full = super::merge::with_trailer(message, id);
    let out = git.output_of(&["merge", "--no-ff", "--no-edit", "-m", &full, &upstream])?;
    if !out.success() {
        let conflicted = git
            .run(&["diff", "--name-only", "--diff-filter=U"], "")
            .unwrap_or_default();
        let _ = git.run(&["merge", "--abort"], "");
        return Ok(Updated::Conflict(
            conflicted.lines().map(str::to_string).collect(),
        ));
    }
    Ok(Updated::Merged(git.commit_of("HEAD")?.unwrap_or_default()))
}

/// Set task `id`'s branch back to the freshly fetched base (its worktree removed), so its
/// next attempt starts over on top of what merged since.
pub fn restart_on_base(
    clone: &std::path::Path,
    base: &str,
    id: TaskId,
    branch: &str,
) -> Result<(), TargetError> {
    worktree::remove(clone, id)?;
    let git = Git::new(clone);
    let upstream = if git.has_remote("origin")? {
        git.network(&["fetch", "--prune", "origin"], "")?;
        format!("origin/{base}")
    } else {
        base.to_string()
    };
    git.run(&["branch", "--force", branch, &upstream], "")?;
    Ok(())
}
