//! One git worktree per task: `workspace/worktrees/<ID>` on branch `agent/<ID>-<slug>`,
//! started from the freshly fetched base branch.
//!
//! Starting is idempotent: after a crash the same call finds the worktree on its branch,
//! removes it and checks the branch out again fresh (its base is then the fork point of the
//! branch, so a diff still shows only the task's work). Nothing left in the folder is kept:
//! a process that outlived the crashed run may still have been writing there, and its
//! files must not be judged as the next attempt's work. The branch holds everything
//! dayshift committed. A path that holds anything else is an error, never overwritten.
//! Removing a worktree keeps its branch: the branch is the work, merged or waiting.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Git, TargetError};
use crate::problem::{IoContext, IoError};
use crate::tasks::TaskId;
use crate::tasks::id::is_valid_slug;

/// A task's worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worktree {
    /// `workspace/worktrees/<ID>`.
    pub path: PathBuf,
    /// `agent/<ID>-<slug>`.
    pub branch: String,
    /// The commit the branch started from: what guardrails diff against and rollback
    /// returns to.
    pub base_commit: String,
}

/// `workspace/worktrees`, beside the clone.
pub fn worktrees_dir(clone: &Path) -> PathBuf {
    clone.parent().unwrap_or(Path::new(".")).join("worktrees")
}

/// Create (or find again) the worktree of task `id`, branched off `origin/<base>` after a
/// fetch, or off the local `base` when the clone has no remote.
pub fn start_task(
    clone: &Path,
    base: &str,
    id: TaskId,
    slug: &str,
) -> Result<Worktree, TargetError> {
    if !is_valid_slug(slug) {
        return Err(TargetError::BadSlug {
            slug: slug.to_string(),
        });
    }
    let git = Git::new(clone);
    let start = if git.has_remote("origin")? {
        git.network(
            &["fetch", "--prune", "origin"],
            "check that the target repo is reachable and your git credentials work",
        )?;
        format!("origin/{base}")
    } else {
        base.to_string()
    };
    let Some(start_commit) = git.commit_of(&start)? else {
        return Err(TargetError::MissingBaseBranch {
            branch: base.to_string(),
            repo: clone.display().to_string(),
            available: Vec::new(),
        });
    };
    let branch = format!("agent/{id}-{slug}");
    let path = worktrees_dir(clone).join(id.to_string());
    let path_arg = path.to_string_lossy().into_owned();

    if path.exists() {
        let found = registered(&git)?
            .into_iter()
            .find(|w| same_path(&w.path, &path));
        match found {
            // left by an earlier run of this task: start clean (see the module docs)
            Some(w) if w.branch.as_deref() == Some(branch.as_str()) => {
                remove_path(&git, &path)?;
            }
            Some(w) => {
                return Err(TargetError::WorktreeBusy {
                    path,
                    branch,
                    found: w
                        .branch
                        .map_or("a detached worktree".into(), |b| format!("branch `{b}`")),
                });
            }
            // half made or half removed by an interrupted run: dayshift's own folder
            None => {
                remove_path(&git, &path)?;
            }
        }
    }
    fs::create_dir_all(worktrees_dir(clone)).at_path(&worktrees_dir(clone))?;
    if registered(&git)?.iter().any(|w| same_path(&w.path, &path)) {
        // a record of this folder outlived it (removed by hand): forget it first
        git.run(&["worktree", "prune"], "")?;
    }
    let local = format!("refs/heads/{branch}");
    if git.commit_of(&local)?.is_some() {
        git.run(&["worktree", "add", "--quiet", &path_arg, &branch], "")?;
        let base_commit = fork_point(&git, &branch, &start_commit)?;
        return Ok(Worktree {
            path,
            branch,
            base_commit,
        });
    }
    git.run(
        &[
            "worktree",
            "add",
            "--quiet",
            "--no-track",
            "-b",
            &branch,
            &path_arg,
            &start_commit,
        ],
        "",
    )?;
    Ok(Worktree {
        path,
        branch,
        base_commit: start_commit,
    })
}

/// Remove task `id`'s worktree (untracked files in it go too); its branch stays.
/// Returns the path removed, or `None` when there was none.
pub fn remove(clone: &Path, id: TaskId) -> Result<Option<PathBuf>, TargetError> {
    let path = worktrees_dir(clone).join(id.to_string());
    remove_path(&Git::new(clone), &path)
}

/// Remove the worktree of dayshift's own at `path` (a task's, or a deploy checkout), and
/// git's record of it; a folder git forgot is deleted. Returns the path removed, or `None`
/// when there was none.
pub fn remove_at(clone: &Path, path: &Path) -> Result<Option<PathBuf>, TargetError> {
    remove_path(&Git::new(clone), path)
}

/// Remove every task worktree whose task is not in `keep` (the tasks in progress), and
/// prune git's records of worktrees that are gone. Returns the paths removed.
pub fn clean_orphans(clone: &Path, keep: &[TaskId]) -> Result<Vec<PathBuf>, TargetError> {
    let git = Git::new(clone);
    git.run(&["worktree", "prune"], "")?;
    let dir = worktrees_dir(clone);
    let mut removed = Vec::new();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
        Err(source) => return Err(IoError { path: dir, source }.into()),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(id) = name.parse::<TaskId>() else {
            continue;
        };
        if keep.contains(&id) {
            continue;
        }
        if let Some(path) = remove_path(&git, &entry.path())? {
            removed.push(path);
        }
    }
    removed.sort();
    Ok(removed)
}

/// Delete the task branches (`agent/<ID>-…`) of the tasks in `finished`, with their
/// worktrees if any are left. A person keeps a branch by renaming it. Returns the branches
/// deleted.
pub fn prune_branches(clone: &Path, finished: &[TaskId]) -> Result<Vec<String>, TargetError> {
    let git = Git::new(clone);
    let listed = git.run(
        &[
            "for-each-ref",
            "--format=%(refname:lstrip=2)",
            "refs/heads/agent/",
        ],
        "",
    )?;
    let mut deleted = Vec::new();
    for branch in listed.lines() {
        let Some(id) = branch
            .strip_prefix("agent/")
            .and_then(|rest| rest.get(..6))
            .and_then(|id| id.parse::<TaskId>().ok())
        else {
            continue;
        };
        if !finished.contains(&id) {
            continue;
        }
        remove(clone, id)?;
        git.run(&["branch", "--quiet", "-D", branch], "")?;
        deleted.push(branch.to_string());
    }
    Ok(deleted)
}

fn remove_path(git: &Git, path: &Path) -> Result<Option<PathBuf>, TargetError> {
    let is_registered = registered(git)?.iter().any(|w| same_path(&w.path, path));
    if is_registered {
        // removes git's record of it too
        let arg = path.to_string_lossy().into_owned();
        git.run(&["worktree", "remove", "--force", "--force", &arg], "")?;
    } else if path.exists() {
        // Left by a crash after git forgot it; it is dayshift's own folder.
        fs::remove_dir_all(path).at_path(path)?;
        git.run(&["worktree", "prune"], "")?;
    } else {
        return Ok(None);
    }
    Ok(Some(path.to_path_buf()))
}

/// Where `branch` left `start`: the start commit itself unless the base moved since.
fn fork_point(git: &Git, branch: &str, start: &str) -> Result<String, TargetError> {
    Ok(git
        .run(&["merge-base", branch, start], "")?
        .trim()
        .to_string())
}

struct Registered {
    path: PathBuf,
    /// Short branch name; `None` when detached.
    branch: Option<String>,
}

fn registered(git: &Git) -> Result<Vec<Registered>, TargetError> {
    Ok(git
        .worktrees()?
        .into_iter()
        .map(|(path, branch)| Registered { path, branch })
        .collect())
}

fn same_path(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}
