//! Where a merge goes: pushed to origin, or kept in the clone.
//!
//! The repository `repo:` names is the person's. When it is a URL or a bare repository,
//! every merge is pushed to it. When it is a local checkout (a folder with a working tree),
//! it is the person's workspace: git itself refuses a push into the branch it has out
//! (`receive.denyCurrentBranch`, on by default), and moving its other branches behind the
//! person's back is no better. Then merges stay in the clone (`workspace/target`, where
//! `git pull <home>/workspace/target <base>` fetches them) and the task log, the report and
//! `doctor` say so. A checkout that asks for pushes (`receive.denyCurrentBranch =
//! updateInstead`, which also updates its clean work tree) is pushed to like any remote.

use std::path::{Path, PathBuf};

use super::{Git, TargetError};
use crate::config::target::is_local_path;

/// Where the merges into the base branch end up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publish {
    /// Pushed to origin after each merge.
    Push,
    /// Kept in the clone: origin is a local checkout that would refuse the push.
    KeepInClone {
        /// The person's checkout.
        origin: PathBuf,
        /// Why no push is made, in words.
        why: String,
    },
    /// The clone has no origin (a test or hand-made clone): nothing to push to.
    NoRemote,
}

impl Publish {
    /// One sentence for people: where merges land and how to get them.
    pub fn describe(&self, clone: &Path, base: &str) -> String {
        match self {
            Publish::Push => format!("merges into `{base}` are pushed to origin"),
            Publish::NoRemote => format!(
                "the clone has no origin: merges stay in `{base}` of {}",
                clone.display()
            ),
            Publish::KeepInClone { origin, why } => format!(
                "merges stay in `{base}` of the clone {} ({why}); take them with `git -C {} pull {} {base}`",
                clone.display(),
                origin.display(),
                clone.display()
            ),
        }
    }
}

/// What the clone's origin makes of a push of `base`.
pub fn publish_plan(clone: &Path, base: &str) -> Result<Publish, TargetError> {
    match Git::new(clone).remote_url("origin")? {
        Some(url) => plan_for(&url, base),
        None => Ok(Publish::NoRemote),
    }
}

/// What origin `url` (a URL, or a local path) makes of a push of `base`: what `doctor` says
/// before there is a clone.
pub fn plan_for(url: &str, base: &str) -> Result<Publish, TargetError> {
    let origin = PathBuf::from(url.strip_prefix("file://").unwrap_or(url));
    if !is_local_path(url) || !origin.is_dir() {
        return Ok(Publish::Push);
    }
    let theirs = Git::new(&origin);
    if theirs.is_bare()? {
        return Ok(Publish::Push);
    }
    // a person's working checkout takes pushes only when it says so
    let opted_in = theirs
        .config_value("receive.denyCurrentBranch")?
        .is_some_and(|v| v.eq_ignore_ascii_case("updateInstead"));
    if opted_in {
        return Ok(Publish::Push);
    }
    let branch = format!("refs/heads/{base}");
    let why = if theirs.checked_out_branches()?.contains(&branch) {
        format!(
            "{} is a checkout with `{base}` checked out, and git refuses pushes into a checked-out branch",
            origin.display()
        )
    } else {
        format!(
            "{} is a working checkout, not a bare repository: dayshift does not move its branches",
            origin.display()
        )
    };
    Ok(Publish::KeepInClone { why, origin })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        Git::new(dir).run(args, "").unwrap();
    }

    fn repo_with_commit(dir: &Path) {
        git(
            dir.parent().unwrap(),
            &["init", "-q", "-b", "main", dir.to_str().unwrap()],
        );
        std::fs::write(dir.join("a.txt"), "a\n").unwrap();
        git(dir, &["add", "a.txt"]);
        let who = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"];
        git(dir, &[&who[..], &["commit", "-qm", "a"]].concat());
    }

    fn clone_of(origin: &Path, into: &Path) {
        git(
            origin.parent().unwrap(),
            &[
                "clone",
                "-q",
                origin.to_str().unwrap(),
                into.to_str().unwrap(),
            ],
        );
    }

    #[test]
    fn a_checkout_with_the_base_out_keeps_merges_in_the_clone() {
        let tmp = tempfile::tempdir().unwrap();
        let (theirs, clone) = (tmp.path().join("theirs"), tmp.path().join("clone"));
        repo_with_commit(&theirs);
        clone_of(&theirs, &clone);
        let plan = publish_plan(&clone, "main").unwrap();
        assert!(
            matches!(&plan, Publish::KeepInClone { origin, .. } if *origin == theirs),
            "{plan:?}"
        );
        assert!(plan.describe(&clone, "main").contains("git -C"));

        // another branch checked out there: still a person's checkout, still not pushed to
        git(&theirs, &["checkout", "-q", "-b", "work"]);
        let plan = publish_plan(&clone, "main").unwrap();
        assert!(
            matches!(&plan, Publish::KeepInClone { why, .. } if why.contains("not a bare repository")),
            "{plan:?}"
        );
        // the checkout asks for pushes (and updates its work tree): pushed
        git(&theirs, &["checkout", "-q", "main"]);
        git(
            &theirs,
            &["config", "receive.denyCurrentBranch", "updateInstead"],
        );
        assert_eq!(publish_plan(&clone, "main").unwrap(), Publish::Push);
    }

    #[test]
    fn bare_repositories_urls_and_no_origin_are_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let (theirs, bare) = (tmp.path().join("theirs"), tmp.path().join("bare.git"));
        repo_with_commit(&theirs);
        git(
            tmp.path(),
            &[
                "clone",
                "-q",
                "--bare",
                theirs.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        let clone = tmp.path().join("clone");
        clone_of(&bare, &clone);
        assert_eq!(publish_plan(&clone, "main").unwrap(), Publish::Push);
        git(
            &clone,
            &[
                "remote",
                "set-url",
                "origin",
                "https://example.invalid/x.git",
            ],
        );
        assert_eq!(publish_plan(&clone, "main").unwrap(), Publish::Push);
        git(&clone, &["remote", "remove", "origin"]);
        assert_eq!(publish_plan(&clone, "main").unwrap(), Publish::NoRemote);
    }
}
