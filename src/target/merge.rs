//! Committing a task's work and merging it into the base branch.
//!
//! [`commit`] commits exactly the tree the guardrails judged ([`super::ChangeSet::tree`]):
//! `git commit-tree` makes the commit from that tree on top of the task branch, and
//! `git update-ref <branch> <new> <old>` moves the branch only if it still is where it was
//! — never through `HEAD` (which a tool could have pointed at another branch) and never
//! through the worktree's index (which a tool could have staged anything into). It adds a
//! `Task: <ID>` trailer and commits as the person configured in git. [`merge_into_base`]
//! is the only writer of the base branch besides setup's fast-forward: in the main clone,
//! on a clean checkout, a fast-forward or a merge commit; a conflict is aborted before
//! anything changes; a failed push undoes the merge locally, so the clone never holds a
//! base that origin refused. A person's checkout as origin is never pushed into the branch
//! it has out ([`super::publish`]). Hooks never run in any of it ([`super::git::SAFE_CONFIG`]).

use super::publish::{Publish, publish_plan};
use super::{Git, TargetError, Worktree};
use crate::problem::IoContext;
use crate::tasks::TaskId;

const IDENTITY_HINT: &str =
    "set user.name and user.email (`git config --global user.name …`) so dayshift can commit";

/// Commit `tree` (a tree id the guardrails judged) on the task branch; returns the new
/// commit's sha. `message` is a conventional commit message (`fix: …`); the trailer is
/// added here.
pub fn commit(
    worktree: &Worktree,
    message: &str,
    task: TaskId,
    tree: &str,
) -> Result<String, TargetError> {
    let git = Git::new(&worktree.path);
    let branch = format!("refs/heads/{}", worktree.branch);
    let parent = git
        .commit_of(&branch)?
        .ok_or_else(|| TargetError::Unreadable {
            dir: worktree.path.clone(),
            message: format!("branch `{}` names no commit", worktree.branch),
        })?;
    if git.tree_of(&parent)?.as_deref() == Some(tree) {
        // the commit an interrupted run of this task made already holds exactly this tree
        if parent != worktree.base_commit && carries_trailer(&git, &parent, task)? {
            return Ok(parent);
        }
        return Err(TargetError::NothingToCommit {
            path: worktree.path.clone(),
        });
    }
    let full = with_trailer(message, task);
    let sha = git
        .run(
            &["commit-tree", tree, "-p", &parent, "-m", &full],
            IDENTITY_HINT,
        )?
        .trim()
        .to_string();
    let reason = format!("dayshift: commit {task}");
    git.run(&["update-ref", "-m", &reason, &branch, &sha, &parent], "")?;
    // the worktree's index to the commit (its files are already what was committed), so a
    // person looking at a waiting task sees a clean status
    git.run(&["reset", "--quiet"], "")?;
    Ok(sha)
}

/// `message` with a `Task: <ID>` trailer, unless it already has that exact line.
pub fn with_trailer(message: &str, task: TaskId) -> String {
    let message = message.trim();
    let trailer = format!("Task: {task}");
    if message.lines().any(|l| l.trim() == trailer) {
        format!("{message}\n")
    } else {
        format!("{message}\n\n{trailer}\n")
    }
}

/// While dayshift merges in the clone (catch-up, merge, push) this file sits in the clone's
/// git dir; only a crash leaves it behind.
const MERGING: &str = "dayshift-merging";

/// The [`MERGING`] marker for one merge: removed when the merge returns, whatever it
/// returns.
struct Merging(std::path::PathBuf);

impl Merging {
    fn start(clone: &std::path::Path) -> Result<Self, TargetError> {
        let path = clone.join(".git").join(MERGING);
        crate::fsx::write_atomic(&path, b"a merge by dayshift is under way\n").at_path(&path)?;
        Ok(Self(path))
    }
}

impl Drop for Merging {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Put the clone back after a merge of ours that a crash cut short (the [`MERGING`] marker
/// is there): a half-made merge is aborted and what a half-done checkout wrote is
/// discarded — the clone's working tree is only ever written by dayshift's merges — so it
/// cannot stay dirty for every later merge. The base keeps whatever commit it reached; a
/// lost push happens with the next merge. Without the marker the clone is left alone, and a
/// dirty one is reported (someone else's work).
fn undo_interrupted_merge(git: &Git, clone: &std::path::Path) -> Result<(), TargetError> {
    let marker = clone.join(".git").join(MERGING);
    if !marker.is_file() {
        return Ok(());
    }
    tracing::warn!(
        "putting {} back after a merge an interruption cut short",
        clone.display()
    );
    if clone.join(".git/MERGE_HEAD").is_file() {
        git.run(&["merge", "--abort"], "")?;
    }
    git.run(&["reset", "--quiet", "--hard", "HEAD"], "")?;
    git.run(&["clean", "--quiet", "-fd"], "")?;
    std::fs::remove_file(&marker).at_path(&marker)?;
    Ok(())
}

/// What [`merge_into_base`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The base branch's new commit.
    pub head: String,
    /// Where the merge went ([`Publish::Push`]: it was pushed, when there was anything new).
    pub publish: Publish,
}

/// Merge `branch` into `base` in the main clone (fast-forward when possible, otherwise a
/// merge commit with `message`) and push `base` to origin when origin takes it
/// ([`publish_plan`]: a person's checkout with `base` checked out does not, and the merge
/// stays in the clone).
pub fn merge_into_base(
    clone: &std::path::Path,
    branch: &str,
    base: &str,
    message: &str,
) -> Result<Merged, TargetError> {
    let git = Git::new(clone);
    let publish = publish_plan(clone, base)?;
    let remote = publish != Publish::NoRemote;
    if remote {
        git.network(
            &["fetch", "--prune", "origin"],
            "check that the target repo is reachable and your git credentials work",
        )
        .map_err(|e| TargetError::Unpublished(Box::new(e)))?;
    }
    undo_interrupted_merge(&git, clone)?;
    let dirty = git.dirty_files()?;
    if !dirty.is_empty() {
        return Err(TargetError::Dirty {
            path: clone.to_path_buf(),
            files: dirty,
        });
    }
    if git.commit_of(&format!("refs/heads/{branch}"))?.is_none() {
        return Err(TargetError::Unreadable {
            dir: clone.to_path_buf(),
            message: format!(
                "the task branch `{branch}` does not exist, so there is nothing to merge"
            ),
        });
    }
    let _merging = Merging::start(clone)?;
    if git.current_branch()?.as_deref() != Some(base) {
        git.run(
            &["checkout", "--quiet", base],
            "run setup to create the base branch",
        )?;
    }
    let origin_base = format!("refs/remotes/origin/{base}");
    let mut before = head(&git)?;
    let tracked = if remote {
        git.commit_of(&origin_base)?
    } else {
        None
    };
    // origin's base moved since our last push (someone else pushed): catch up first
    if let Some(theirs) = tracked.filter(|theirs| *theirs != before) {
        if git.probe(&["merge-base", "--is-ancestor", "HEAD", &theirs])? {
            git.run(&["merge", "--quiet", "--ff-only", &theirs], "")?;
            before = theirs;
        } else if !git.probe(&["merge-base", "--is-ancestor", &theirs, "HEAD"])? {
            return Err(TargetError::Diverged {
                path: clone.to_path_buf(),
                branch: base.to_string(),
            });
        }
    }
    let args = [
        "merge",
        "--quiet",
        "--no-edit",
        "--no-verify",
        "-m",
        message,
        branch,
    ];
    let out = git.output_of(&args)?;
    if !out.success() {
        let conflicts = git
            .run(&["diff", "--name-only", "--diff-filter=U"], "")
            .unwrap_or_default();
        let _ = git.output_of(&["merge", "--abort"]);
        if head(&git)? != before || !git.dirty_files()?.is_empty() {
            git.run(&["reset", "--quiet", "--hard", &before], "")?;
        }
        let files: Vec<String> = conflicts.lines().map(str::to_string).collect();
        let identity = ["tell me who you are", "empty ident", "user.email"]
            .iter()
            .any(|w| out.stderr.to_lowercase().contains(w));
        let hint = if identity {
            IDENTITY_HINT
        } else {
            "the base branch is unchanged; merge the task branch by hand to see why"
        };
        return Err(if files.is_empty() {
            git.failure(&args, &out, hint)
        } else {
            TargetError::MergeConflict {
                branch: branch.to_string(),
                base: base.to_string(),
                files,
            }
        });
    }
    let after = head(&git)?;
    if publish == Publish::Push && after != before {
        let refspec = format!("refs/heads/{base}:refs/heads/{base}");
        let pushed = git.network(
            &["push", "--quiet", "origin", &refspec],
            "the merge was undone in the clone; check your push rights and that origin accepts pushes to the base branch, then merge again",
        );
        if let Err(e) = pushed {
            git.run(&["reset", "--quiet", "--hard", &before], "")?;
            return Err(TargetError::Unpublished(Box::new(e)));
        }
    }
    Ok(Merged {
        head: after,
        publish,
    })
}

/// Whether `commit`'s message has the `Task:` trailer of `task`.
fn carries_trailer(git: &Git, commit: &str, task: TaskId) -> Result<bool, TargetError> {
    let trailers = git.run(
        &[
            "log",
            "-1",
            "--format=%(trailers:key=Task,valueonly)",
            commit,
        ],
        "",
    )?;
    Ok(trailers.lines().any(|l| l.trim() == task.to_string()))
}

fn head(git: &Git) -> Result<String, TargetError> {
    git.commit_of("HEAD")?
        .ok_or_else(|| TargetError::Unreadable {
            dir: git.dir().to_path_buf(),
            message: "HEAD names no commit".into(),
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn trailer_is_added_once() {
        let id = TaskId::new(7);
        assert_eq!(with_trailer("fix: x\n", id), "fix: x\n\nTask: T-0007\n");
        assert_eq!(
            with_trailer("fix: x\n\nTask: T-0007", id),
            "fix: x\n\nTask: T-0007\n"
        );
    }
}
