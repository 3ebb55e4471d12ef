//! Lock files a killed git left in the clone's git dir.
//!
//! git takes a ref, the index, `HEAD`, `config` or `packed-refs` by creating `<name>.lock`
//! beside it and renaming it into place. A git process killed in between (dayshift killed
//! mid-push, the machine losing power) leaves the `.lock`, and every later git call that
//! needs that file fails — `! main -> origin/main (unable to update local ref)` on each
//! fetch, so no task could ever merge again. The clone is dayshift's own and only touched
//! under the job lock ([`crate::jobs::run_job`]), so at the start of a work run no git of
//! ours is alive and any lock in it is stale: [`clear_stale`] removes them, and says which.

use std::path::{Path, PathBuf};

use super::TargetError;
use crate::problem::IoContext;

/// Remove every `*.lock` file under `clone`'s git dir (the worktrees' admin dirs included,
/// the object store and symlinks skipped). The caller must hold the job lock. Returns the
/// files removed, relative to the git dir.
pub fn clear_stale(clone: &Path) -> Result<Vec<PathBuf>, TargetError> {
    let git_dir = clone.join(".git");
    let mut removed = Vec::new();
    if git_dir.is_dir() {
        sweep(&git_dir, &git_dir, &mut removed)?;
    }
    Ok(removed)
}

fn sweep(root: &Path, dir: &Path, removed: &mut Vec<PathBuf>) -> Result<(), TargetError> {
    for entry in std::fs::read_dir(dir).at_path(dir)? {
        let entry = entry.at_path(dir)?;
        let path = entry.path();
        let kind = entry.file_type().at_path(&path)?;
        if kind.is_dir() {
            if path != root.join("objects") {
                sweep(root, &path, removed)?;
            }
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "lock") {
            std::fs::remove_file(&path).at_path(&path)?;
            removed.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stale_locks_go_and_nothing_else_does() {
        let tmp = tempfile::tempdir().unwrap();
        let git = tmp.path().join(".git");
        for dir in ["refs/remotes/origin", "worktrees/T-0001", "objects/ab"] {
            std::fs::create_dir_all(git.join(dir)).unwrap();
        }
        for file in [
            "index.lock",
            "refs/remotes/origin/main.lock",
            "refs/remotes/origin/main",
            "worktrees/T-0001/index.lock",
            "objects/ab/keep.lock",
            "config",
        ] {
            std::fs::write(git.join(file), "x").unwrap();
        }
        std::os::unix::fs::symlink(git.join("config"), git.join("linked.lock")).unwrap();

        let mut removed = clear_stale(tmp.path()).unwrap();
        removed.sort();
        assert_eq!(
            removed,
            [
                "index.lock",
                "refs/remotes/origin/main.lock",
                "worktrees/T-0001/index.lock"
            ]
            .map(PathBuf::from)
        );
        for kept in [
            "refs/remotes/origin/main",
            "objects/ab/keep.lock",
            "config",
            "linked.lock",
        ] {
            assert!(git.join(kept).symlink_metadata().is_ok(), "{kept} kept");
        }
    }
}
