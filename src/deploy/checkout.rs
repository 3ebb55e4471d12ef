//! The clean checkout a deploy builds from: a detached git worktree of the target clone at
//! one commit, in `workspace/deploy/<short-sha>` beside the clone. Made through the target's
//! git helper ([`crate::target::Git`]: hooks off, explicit environment, never a shell
//! string), and made fresh: a checkout already at that place is removed first, so nothing a
//! previous deploy built or left there is deployed again.

use std::path::{Path, PathBuf};

use super::DeployError;
use crate::problem::IoContext;
use crate::target::Git;
use crate::target::worktree::remove_at;

/// Characters of the commit the checkout's folder is named by.
const SHORT_SHA: usize = 12;

/// `workspace/deploy/<short-sha>` for `commit`, beside the clone.
pub fn deploy_dir(clone: &Path, commit: &str) -> PathBuf {
    let short: String = commit.chars().take(SHORT_SHA).collect();
    clone
        .parent()
        .unwrap_or(Path::new("."))
        .join("deploy")
        .join(short)
}

/// Make `dir` a clean detached worktree of `clone` at `commit` (a sha or any name git
/// resolves), replacing whatever checkout was there. A commit the clone lacks is fetched
/// from origin once; still missing, it is [`DeployError::UnknownCommit`].
pub fn checkout_at(clone: &Path, dir: &Path, commit: &str) -> Result<(), DeployError> {
    let git = Git::new(clone);
    let mut resolved = git.commit_of(commit)?;
    if resolved.is_none() && git.has_remote("origin")? {
        git.network(
            &["fetch", "--quiet", "origin"],
            "check that the target repo is reachable and your git credentials work",
        )?;
        resolved = git.commit_of(commit)?;
    }
    let Some(sha) = resolved else {
        return Err(DeployError::UnknownCommit {
            commit: commit.to_string(),
            clone: clone.to_path_buf(),
        });
    };
    remove(clone, dir)?;
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).at_path(parent)?;
    }
    // a record of a folder removed by hand would make `worktree add` refuse the place
    git.run(&["worktree", "prune"], "")?;
    let dir_arg = dir.to_string_lossy().into_owned();
    git.run(
        &["worktree", "add", "--quiet", "--detach", &dir_arg, &sha],
        "check that the disk has room and the folder is writable",
    )?;
    Ok(())
}

/// Remove the checkout at `dir` (what was built in it goes too) and git's record of it.
/// Nothing there is no error.
pub fn remove(clone: &Path, dir: &Path) -> Result<(), DeployError> {
    remove_at(clone, dir)?;
    Ok(())
}
