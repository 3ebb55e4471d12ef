//! Real git on the bare repository the fake serves: read branches, merge a pull request
//! the three ways GitHub can, bring a head up to date with its base, push a commit onto a
//! head, delete a branch, and check a commit out for CI. Changes are made in a temp
//! clone and pushed back, as GitHub's own merge would land on the remote.

use std::path::Path;
use std::process::Command;

/// Why a merge or an update did not happen.
#[derive(Debug)]
pub enum GitFailure {
    /// The two sides conflict.
    Conflict,
    /// git failed otherwise; its stderr.
    Other(String),
}

/// Run git in `dir` with a fixed identity and no user config; stdout trimmed, or stderr.
pub fn run(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=GitHub",
            "-c",
            "user.email=noreply@github.com",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "advice.detachedHead=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "git {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The commit `rev` names in the bare repository (a branch, a SHA), if any.
pub fn rev_parse(bare: &Path, rev: &str) -> Option<String> {
    run(
        bare,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .ok()
}

/// The SHA of branch `name`, if it exists.
pub fn branch_sha(bare: &Path, name: &str) -> Option<String> {
    rev_parse(bare, &format!("refs/heads/{name}"))
}

/// The branch HEAD points at.
pub fn head_branch(bare: &Path) -> String {
    run(bare, &["symbolic-ref", "--short", "HEAD"]).unwrap_or_else(|_| "main".to_string())
}

/// Whether commit `ancestor` is reachable from `tip`.
pub fn is_ancestor(bare: &Path, ancestor: &str, tip: &str) -> bool {
    run(bare, &["merge-base", "--is-ancestor", ancestor, tip]).is_ok()
}

/// How many commits `head` has that `base` lacks.
pub fn commits_ahead(bare: &Path, base: &str, head: &str) -> usize {
    run(bare, &["rev-list", "--count", &format!("{base}..{head}")])
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Delete branch `name`; false when it does not exist.
pub fn delete_branch(bare: &Path, name: &str) -> bool {
    branch_sha(bare, name).is_some()
        && run(bare, &["update-ref", "-d", &format!("refs/heads/{name}")]).is_ok()
}

/// A temp clone of the bare repository, checked out (detached) at `rev`: a SHA, or
/// `origin/<branch>` for a branch.
pub fn checkout(bare: &Path, rev: &str) -> Result<tempfile::TempDir, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let (from, to) = (bare.to_string_lossy(), dir.path().to_string_lossy());
    run(dir.path(), &["clone", "-q", "--no-checkout", &from, &to])?;
    run(dir.path(), &["checkout", "-q", "--detach", rev])?;
    Ok(dir)
}

/// How a pull request is merged (the `merge_method` of the merge call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Merge,
    Squash,
    Rebase,
}

/// Land `head_sha` on branch `base` by `method`, with `message` (title, blank line, body)
/// for the merge or squash commit; returns the base's new SHA.
pub fn merge_into(
    bare: &Path,
    base: &str,
    head_sha: &str,
    method: Method,
    message: &str,
) -> Result<String, GitFailure> {
    let work = checkout(bare, &format!("origin/{base}")).map_err(GitFailure::Other)?;
    let dir = work.path();
    let landed = match method {
        Method::Merge => run(dir, &["merge", "-q", "--no-ff", "-m", message, head_sha]),
        Method::Squash => run(dir, &["merge", "-q", "--squash", head_sha])
            .and_then(|_| run(dir, &["commit", "-q", "-m", message])),
        Method::Rebase => run(dir, &["checkout", "-q", "--detach", head_sha]).and_then(|_| {
            run(
                dir,
                &["rebase", "-q", "--force-rebase", &format!("origin/{base}")],
            )
        }),
    };
    if landed.is_err() {
        return Err(GitFailure::Conflict);
    }
    push_head(dir, base)
}

/// Merge `base` into branch `head` (GitHub's "update branch"); returns the head's new SHA.
pub fn update_branch(bare: &Path, head: &str, base: &str) -> Result<String, GitFailure> {
    let work = checkout(bare, &format!("origin/{head}")).map_err(GitFailure::Other)?;
    let dir = work.path();
    let message = format!("Merge branch '{base}' into {head}");
    if run(
        dir,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            &message,
            &format!("origin/{base}"),
        ],
    )
    .is_err()
    {
        return Err(GitFailure::Conflict);
    }
    push_head(dir, head)
}

/// Push one new commit (a new file) onto branch `name`; returns its SHA.
pub fn push_commit(bare: &Path, name: &str) -> Result<String, GitFailure> {
    let work = checkout(bare, &format!("origin/{name}")).map_err(GitFailure::Other)?;
    let dir = work.path();
    let file = format!("moved-{}.txt", std::process::id());
    let text = format!("pushed by someone else at {}\n", super::state::now());
    let mut existing = std::fs::read_to_string(dir.join(&file)).unwrap_or_default();
    existing.push_str(&text);
    std::fs::write(dir.join(&file), existing).map_err(|e| GitFailure::Other(e.to_string()))?;
    run(dir, &["add", &file])
        .and_then(|_| {
            run(
                dir,
                &["commit", "-q", "-m", "Someone else pushed to this branch"],
            )
        })
        .map_err(GitFailure::Other)?;
    push_head(dir, name)
}

fn push_head(dir: &Path, branch: &str) -> Result<String, GitFailure> {
    run(
        dir,
        &["push", "-q", "origin", &format!("HEAD:refs/heads/{branch}")],
    )
    .map_err(GitFailure::Other)?;
    run(dir, &["rev-parse", "HEAD"]).map_err(GitFailure::Other)
}
