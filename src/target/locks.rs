//! Lock files a killed git left in the clone's git dir.
//!
//! git takes a ref, the index, `HEAD`, `config` or `packed-refs` by creating `<name>.lock`
//! beside it and renaming it into place. A git process killed in between (dayshift killed
//! mid-push, the machine losing power) leaves the `.lock`, and every later git call that
//! needs that file fails — `! main -> origin/main (unable to update local ref)` on each
//! fetch, so no task could ever merge again. The clone is dayshift's own and only touched
//! under the job lock ([`crate::jobs::run_job`]), so at the start of a work run no git of
//! ours is alive and any lock in it is stale: [`clear_stale`] removes them, and says which.
//!
//! A `git worktree add` killed while it wrote a worktree's record (`.git/worktrees/<ID>`)
//! leaves it half written — `commondir` empty — and then every fetch fails (`failed to read
//! .git/worktrees/<ID>/commondir`). Such a record is removed the same way, with the task's
//! worktree folder (dayshift's own); the task starts its worktree afresh.

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
        half_made_worktrees(clone, &git_dir, &mut removed)?;
    }
    Ok(removed)
}

/// Records of worktrees a killed `git worktree add` left half written: `commondir`,
/// `gitdir` or `HEAD` missing or empty. Removed with the worktree folder they name under
/// [`super::worktree::worktrees_dir`] (dayshift's own, never a person's).
fn half_made_worktrees(
    clone: &Path,
    git_dir: &Path,
    removed: &mut Vec<PathBuf>,
) -> Result<(), TargetError> {
    let records = git_dir.join("worktrees");
    if !records.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(&records).at_path(&records)? {
        let record = entry.at_path(&records)?.path();
        let whole = ["commondir", "gitdir", "HEAD"]
            .iter()
            .all(|f| std::fs::metadata(record.join(f)).is_ok_and(|m| m.len() > 0));
        if whole || !record.is_dir() {
            continue;
        }
        std::fs::remove_dir_all(&record).at_path(&record)?;
        if let Some(name) = record.file_name() {
            let folder = super::worktree::worktrees_dir(clone).join(name);
            if folder.is_dir() {
                std::fs::remove_dir_all(&folder).at_path(&folder)?;
            }
        }
        removed.push(
            record
                .strip_prefix(git_dir)
                .unwrap_or(&record)
                .to_path_buf(),
        );
    }
    Ok(())
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

    fn git(dir: &Path, args: &[&str]) {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn a_half_written_worktree_record_goes_and_fetches_work_again() {
        let tmp = tempfile::tempdir().unwrap();
        let (remote, clone) = (tmp.path().join("remote.git"), tmp.path().join("ws/target"));
        git(tmp.path(), &["init", "-q", "--bare", "remote.git"]);
        std::fs::create_dir_all(&clone).unwrap();
        git(&clone, &["init", "-q"]);
        git(&clone, &["commit", "-q", "--allow-empty", "-m", "one"]);
        git(
            &clone,
            &["remote", "add", "origin", remote.to_str().unwrap()],
        );
        git(&clone, &["push", "-q", "origin", "HEAD:refs/heads/main"]);
        let folder = tmp.path().join("ws/worktrees/T-0006");
        git(
            &clone,
            &[
                "worktree",
                "add",
                "-q",
                folder.to_str().unwrap(),
                "-b",
                "agent/T-0006-x",
            ],
        );
        let whole = clone.join(".git/worktrees/T-0005");
        std::fs::create_dir_all(&whole).unwrap();
        for f in ["commondir", "gitdir", "HEAD"] {
            std::fs::write(whole.join(f), "x").unwrap();
        }
        // killed while writing T-0006's record
        std::fs::write(clone.join(".git/worktrees/T-0006/commondir"), "").unwrap();
        // new objects on the remote: the fetch then walks every worktree's refs
        let other = tmp.path().join("other");
        git(
            tmp.path(),
            &[
                "clone",
                "-q",
                "-b",
                "main",
                remote.to_str().unwrap(),
                "other",
            ],
        );
        git(&other, &["commit", "-q", "--allow-empty", "-m", "two"]);
        git(&other, &["push", "-q", "origin", "HEAD:refs/heads/main"]);

        let fetch = || {
            std::process::Command::new("git")
                .args(["fetch", "-q", "--prune", "origin"])
                .current_dir(&clone)
                .output()
                .unwrap()
        };
        let broken = fetch();
        assert!(
            !broken.status.success()
                && String::from_utf8_lossy(&broken.stderr).contains("commondir"),
            "git fails on the half-written record"
        );

        let removed = clear_stale(&clone).unwrap();
        assert_eq!(removed, [PathBuf::from("worktrees/T-0006")]);
        assert!(!folder.exists(), "the task's folder goes with it");
        assert!(whole.is_dir(), "a whole record stays");
        assert!(fetch().status.success());
    }

    #[test]
    fn stale_locks_go_and_nothing_else_does() {
        let tmp = tempfile::tempdir().unwrap();
        let git = tmp.path().join(".git");
        for dir in ["refs/remotes/origin", "worktrees/T-0001", "objects/ab"] {
            std::fs::create_dir_all(git.join(dir)).unwrap();
        }
        for whole in ["commondir", "gitdir", "HEAD"] {
            std::fs::write(git.join("worktrees/T-0001").join(whole), "x").unwrap();
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
