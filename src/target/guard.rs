//! Guardrails: what a coding engine changed in a worktree, judged against policy.yaml in
//! code (DESIGN §7), deterministically, before anything is committed.
//!
//! The change is the tree [`super::tree::build`] makes of the worktree's files (with an
//! index of dayshift's own, never the tool's), compared with the base commit's tree by
//! `git diff-tree`. That tree id travels in the [`ChangeSet`] and is what
//! [`super::commit`] commits, so what was judged is exactly what lands. Lines are counted
//! with `--text --no-textconv --no-ext-diff`, so `.gitattributes` (`-diff`, `binary`, a
//! textconv driver) cannot hide them; a file is binary when either side has a NUL byte in
//! its first 8000 bytes (git's own test), and then counts as a file with no lines.
//!
//! Git's own paths are checked first: the worktree's `.git` file must still point into the
//! clone (otherwise every later git command would run against whatever it names) and no
//! change may create a `.git` or an embedded repository anywhere. Then never-touch paths,
//! symlinks that lead out of the worktree (judged by the target recorded in the tree), and
//! the size limits. A guard that cannot look fails closed: [`Violation::Unverifiable`].

use std::fs;
use std::path::{Component, Path, PathBuf};

use super::stamp::WorkStamp;
use super::tree::{self, Built};
use super::{Git, TargetError, Worktree};
use crate::config::policy::Policy;

/// How a file differs from the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Added,
    Modified,
    Deleted,
    /// File ↔ symlink (or submodule).
    TypeChanged,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChangedFile {
    /// Relative to the worktree, `/`-separated.
    pub path: String,
    pub added: u64,
    pub removed: u64,
    pub status: FileStatus,
    /// Binary files count as files, with no lines.
    pub binary: bool,
}

/// A change that passed the guardrails.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChangeSet {
    pub files: Vec<ChangedFile>,
    /// Added plus removed lines over all files.
    pub lines: u64,
    /// Changed paths matching `protected_paths`: allowed, but never merged without a person.
    pub protected: Vec<String>,
    /// The tree judged (a git tree id): the one [`super::commit`] commits.
    pub tree: String,
    /// Paths the tool staged in its own git index with content other than what was judged.
    /// Nothing staged is ever used; this is reported, not refused (tools stage as a habit).
    pub staged_elsewhere: Vec<String>,
    /// The files' stamps taken just before the tree was built: when they are unchanged
    /// after the checks, so is the tree.
    #[serde(skip)]
    pub stamp: Option<WorkStamp>,
}

/// Why a change is refused. Displayed as one line for the task log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error(
        "changed `{path}`, which policy.yaml never lets an agent touch (never_touch: `{rule}`)"
    )]
    NeverTouch { path: String, rule: String },
    #[error("changed `{path}`: git's own files are never an agent's to write")]
    GitDir { path: String },
    #[error(
        "`{path}` is a symlink to `{target}`, outside the worktree: it could read or overwrite files beyond the target"
    )]
    SymlinkEscape { path: String, target: String },
    #[error("changed {count} files; policy.yaml allows at most {max} (max_files_changed)")]
    TooManyFiles { count: u64, max: u64 },
    #[error("changed {count} lines; policy.yaml allows at most {max} (max_lines_changed)")]
    TooManyLines { count: u64, max: u64 },
    #[error("wrote outside its worktree: {}", paths.join(", "))]
    WroteOutside { paths: Vec<String> },
    #[error("the change could not be checked, so it is refused: {reason}")]
    Unverifiable { reason: String },
    #[error("wrote git's metadata: {}; restored", paths.join(", "))]
    GitMetadata { paths: Vec<String> },
    #[error("the checks (test code) changed the work after it was inspected: {}", paths.join(", "))]
    ChangedByChecks { paths: Vec<String> },
}

/// Check what changed in `worktree` since its base commit against `policy`.
pub fn inspect(worktree: &Worktree, policy: &Policy) -> Result<ChangeSet, Violation> {
    let stamp = WorkStamp::take(&worktree.path).ok();
    let (root, tree) = tree_now(worktree)?;
    let base_tree = format!("{}^{{tree}}", worktree.base_commit);
    let diff = Git::new(&root)
        .run(
            &[
                "diff-tree",
                "-r",
                "-z",
                "--raw",
                "--no-abbrev",
                "--no-renames",
                &base_tree,
                &tree,
            ],
            "",
        )
        .map_err(unverifiable)?;
    let repo = git2::Repository::open(&root).map_err(unverifiable)?;
    let mut files = Vec::new();
    for (mut file, raw) in tree_changes(&diff).map_err(unverifiable)? {
        if file.path.split('/').any(|part| part == ".git") || raw.new_mode == GITLINK {
            return Err(Violation::GitDir { path: file.path });
        }
        if let Some(rule) = policy.never_touch.matching(&file.path) {
            return Err(Violation::NeverTouch {
                rule: rule.to_string(),
                path: file.path,
            });
        }
        let old = blob(&repo, &raw.old).map_err(unverifiable)?;
        let new = blob(&repo, &raw.new).map_err(unverifiable)?;
        if raw.new_mode == SYMLINK {
            check_symlink(&root, &file.path, new.as_ref().map_or(&[], |b| b.content()))?;
        }
        let head = |b: &Option<git2::Blob>| {
            b.as_ref()
                .is_some_and(|b| is_binary(&b.content()[..b.content().len().min(BINARY_PROBE)]))
        };
        if head(&old) || head(&new) {
            file.binary = true;
        } else {
            (file.added, file.removed) =
                count_lines(old.as_ref(), new.as_ref()).map_err(unverifiable)?;
        }
        files.push(file);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let count = files.len() as u64;
    if count > u64::from(policy.max_files_changed) {
        return Err(Violation::TooManyFiles {
            count,
            max: policy.max_files_changed.into(),
        });
    }
    let lines: u64 = files.iter().map(|f| f.added + f.removed).sum();
    if lines > u64::from(policy.max_lines_changed) {
        return Err(Violation::TooManyLines {
            count: lines,
            max: policy.max_lines_changed.into(),
        });
    }
    let protected = files
        .iter()
        .filter(|f| policy.protected_paths.matches(&f.path))
        .map(|f| f.path.clone())
        .collect();
    let staged_elsewhere = tree::staged_elsewhere(&root, &tree).map_err(unverifiable)?;
    Ok(ChangeSet {
        files,
        lines,
        protected,
        tree,
        staged_elsewhere,
        stamp,
    })
}

/// Build the worktree's tree again (after the checks ran) and compare it with the one
/// `changes` judged: any difference means code run after the inspection changed the work.
pub fn unchanged_since(worktree: &Worktree, changes: &ChangeSet) -> Result<(), Violation> {
    if changes.stamp.is_some() && WorkStamp::take(&worktree.path).ok() == changes.stamp {
        return Ok(());
    }
    let (root, now) = tree_now(worktree)?;
    if now == changes.tree {
        return Ok(());
    }
    let paths = tree::changed_paths(&root, &changes.tree, &now).map_err(unverifiable)?;
    Err(Violation::ChangedByChecks { paths })
}

/// The patch from the base to the judged tree, every file as text whatever
/// `.gitattributes` says (no external diff, no textconv): what the secret scan reads.
pub fn patch(worktree: &Worktree, changes: &ChangeSet) -> Result<String, Violation> {
    patch_between(
        &Git::new(&worktree.path),
        &worktree.base_commit,
        &changes.tree,
    )
    .map_err(unverifiable)
}

/// A branch's change against the base branch, read in `repo` (the clone, or any
/// repository): the commit they diverged at and the patch from it to the branch, as
/// [`patch`] writes it. The base is `origin/<base>` when the repository has it (the local
/// one may lag behind what was fetched).
pub fn branch_change(
    repo: &Path,
    base: &str,
    branch: &str,
) -> Result<(String, String), TargetError> {
    let git = Git::new(repo);
    let remote = format!("refs/remotes/origin/{base}");
    let base_ref = match git.commit_of(&remote)? {
        Some(_) => remote,
        None => base.to_string(),
    };
    let fork = git
        .run(
            &["merge-base", &base_ref, branch],
            "check that both branches exist",
        )?
        .trim()
        .to_string();
    let patch = patch_between(&git, &fork, branch)?;
    Ok((fork, patch))
}

/// A task's change on its branch, merged or not: from the parent of the branch's first
/// commit with the task's `Task: <ID>` trailer to the branch (after a merge the base
/// already holds the branch, so [`branch_change`] would find nothing). `None` when no
/// commit on the branch carries the trailer.
pub fn task_change(
    repo: &Path,
    branch: &str,
    task: crate::tasks::TaskId,
) -> Result<Option<(String, String)>, TargetError> {
    let git = Git::new(repo);
    let grep = format!("--grep=^Task: {task}$");
    let first = git.run(&["rev-list", "--reverse", &grep, branch], "")?;
    let Some(first) = first.lines().next() else {
        return Ok(None);
    };
    let Some(fork) = git.commit_of(&format!("{first}^"))? else {
        return Ok(None);
    };
    let patch = patch_between(&git, &fork, branch)?;
    Ok(Some((fork, patch)))
}

/// The patch from `from` to `to` (commits or trees), every file as text whatever
/// `.gitattributes` says: no external diff, no textconv, no renames.
fn patch_between(git: &Git, from: &str, to: &str) -> Result<String, TargetError> {
    git.run(
        &[
            "diff-tree",
            "-p",
            "-r",
            "--text",
            "--no-ext-diff",
            "--no-textconv",
            "--no-color",
            "--no-renames",
            from,
            to,
        ],
        "",
    )
}

/// The worktree's canonical path and the tree of its files now, once its `.git` is the
/// file git wrote for it.
fn tree_now(worktree: &Worktree) -> Result<(PathBuf, String), Violation> {
    let root = worktree.path.canonicalize().map_err(unverifiable)?;
    if git_dirs(&root).is_none() {
        return Err(Violation::GitDir {
            path: ".git".into(),
        });
    }
    match tree::build(&root, &worktree.base_commit) {
        Ok(tree) => Ok((root, tree)),
        Err(Built::EmbeddedRepository(path)) => Err(Violation::GitDir { path }),
        Err(Built::Failed(e)) => Err(unverifiable(e)),
    }
}

/// Put the worktree back exactly at its base commit: `git reset --hard` (the branch too)
/// and `git clean -ffdx` (untracked and ignored files, nested repositories).
pub fn rollback(worktree: &Worktree) -> Result<(), TargetError> {
    if git_dirs(&worktree.path).is_none() {
        return Err(TargetError::WorktreeCorrupt {
            path: worktree.path.clone(),
        });
    }
    let git = Git::new(&worktree.path);
    git.run(&["reset", "--quiet", "--hard", &worktree.base_commit], "")?;
    git.run(&["clean", "-ffdxq"], "")?;
    Ok(())
}

/// The worktree's git directories `(admin, common)`, when its `.git` is the file git
/// wrote — `gitdir: <common>/worktrees/<name>` — and that admin folder points back at it.
/// A `.git` folder is refused: one written by an engine could carry a config that makes
/// git run its commands.
pub(crate) fn git_dirs(root: &Path) -> Option<(PathBuf, PathBuf)> {
    let dot_git = root.join(".git");
    if !fs::symlink_metadata(&dot_git).ok()?.is_file() {
        return None;
    }
    let text = fs::read_to_string(&dot_git).ok()?;
    let admin = root.join(text.trim().strip_prefix("gitdir:")?.trim());
    let admin = admin.canonicalize().ok()?;
    let common = fs::read_to_string(admin.join("commondir")).ok()?;
    let common = admin.join(common.trim()).canonicalize().ok()?;
    let back = fs::read_to_string(admin.join("gitdir")).ok()?;
    let points_back = Path::new(back.trim()).canonicalize().ok()? == dot_git.canonicalize().ok()?;
    let expected = common.join("worktrees").join(admin.file_name()?);
    (admin == expected && points_back).then_some((admin, common))
}

/// Mode of a symlink and of an embedded repository (gitlink) in a tree.
const SYMLINK: &str = "120000";
const GITLINK: &str = "160000";
/// The all-zero id `--raw` shows for a side that does not exist.
const NO_OBJECT: &str = "0000000000000000000000000000000000000000";

/// One `--raw` entry's modes and object ids.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Raw {
    new_mode: String,
    old: String,
    new: String,
}

/// Changed files from `git diff-tree -r -z --raw --no-abbrev --no-renames`: entries
/// `:<old mode> <new mode> <old id> <new id> <status>` NUL `<path>` NUL. Lines are not
/// counted yet.
fn tree_changes(diff: &str) -> Result<Vec<(ChangedFile, Raw)>, String> {
    let mut files = Vec::new();
    let mut parts = diff.split('\0').filter(|p| !p.is_empty());
    while let Some(meta) = parts.next() {
        let fields: Vec<&str> = meta.strip_prefix(':').unwrap_or("").split(' ').collect();
        let (&[_, new_mode, old, new, code], Some(path)) = (&fields[..], parts.next()) else {
            return Err(format!("unexpected `git diff-tree` output: {meta:?}"));
        };
        let status = match code.chars().next() {
            Some('A') => FileStatus::Added,
            Some('D') => FileStatus::Deleted,
            Some('T') => FileStatus::TypeChanged,
            _ => FileStatus::Modified,
        };
        let file = ChangedFile {
            path: path.to_string(),
            added: 0,
            removed: 0,
            status,
            binary: false,
        };
        let raw = Raw {
            new_mode: new_mode.to_string(),
            old: old.to_string(),
            new: new.to_string(),
        };
        files.push((file, raw));
    }
    Ok(files)
}

/// Blob `id`, `None` for the all-zero id of a side that does not exist (or a gitlink).
fn blob<'r>(repo: &'r git2::Repository, id: &str) -> Result<Option<git2::Blob<'r>>, git2::Error> {
    if id == NO_OBJECT {
        return Ok(None);
    }
    Ok(repo
        .find_object(git2::Oid::from_str(id)?, None)?
        .into_blob()
        .ok())
}

/// Lines added and removed between two blobs, as text whatever `.gitattributes` says (the
/// blobs are compared without a path, so no attribute, diff driver or textconv applies).
fn count_lines(
    old: Option<&git2::Blob>,
    new: Option<&git2::Blob>,
) -> Result<(u64, u64), git2::Error> {
    let mut options = git2::DiffOptions::new();
    options.force_text(true).context_lines(0);
    let old = old.map_or(&[][..], |b| b.content());
    let new = new.map_or(&[][..], |b| b.content());
    let patch = git2::Patch::from_buffers(old, None, new, None, Some(&mut options))?;
    let (_, added, removed) = patch.line_stats()?;
    Ok((added as u64, removed as u64))
}

/// How much of a file git looks at to call it binary.
const BINARY_PROBE: usize = 8000;

fn is_binary(head: &[u8]) -> bool {
    head.contains(&0)
}

/// A symlink at `rel` whose target (as recorded in the tree) is `target` must stay inside
/// the worktree and out of `.git`, both as written and as resolved now.
fn check_symlink(root: &Path, rel: &str, target: &[u8]) -> Result<(), Violation> {
    use std::os::unix::ffi::OsStrExt;
    let link = root.join(rel);
    let target = Path::new(std::ffi::OsStr::from_bytes(target));
    let joined = link.parent().unwrap_or(root).join(target);
    let lexical = normalize(&joined);
    let inside = |p: &Path| {
        p.strip_prefix(root)
            .is_ok_and(|r| !r.components().any(|c| c.as_os_str() == ".git"))
    };
    let resolved_ok = joined.canonicalize().map_or(true, |c| inside(&c));
    if inside(&lexical) && resolved_ok {
        Ok(())
    } else {
        Err(Violation::SymlinkEscape {
            path: rel.to_string(),
            target: target.to_string_lossy().into_owned(),
        })
    }
}

/// `.` and `..` resolved without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn unverifiable(e: impl std::fmt::Display) -> Violation {
    Violation::Unverifiable {
        reason: e.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn raw_entries_of_one_diff_are_read() {
        // `git diff-tree -r -z --raw --no-abbrev --no-renames` of a deletion, an edit, a new
        // file and a symlink
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        let diff = [
            format!(":100644 000000 {a} {NO_OBJECT} D"),
            "d.txt".into(),
            format!(":100644 100644 {a} {b} M"),
            "m.txt".into(),
            format!(":000000 100644 {NO_OBJECT} {b} A"),
            "n.txt".into(),
            format!(":000000 120000 {NO_OBJECT} {b} A"),
            "a link".into(),
            String::new(),
        ]
        .join("\0");
        let files = tree_changes(&diff).unwrap();
        let seen: Vec<(&str, FileStatus, &str)> = files
            .iter()
            .map(|(f, r)| (f.path.as_str(), f.status, r.new_mode.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("d.txt", FileStatus::Deleted, "000000"),
                ("m.txt", FileStatus::Modified, "100644"),
                ("n.txt", FileStatus::Added, "100644"),
                ("a link", FileStatus::Added, "120000"),
            ]
        );
        assert_eq!(
            (files[0].1.old.as_str(), files[0].1.new.as_str()),
            (a.as_str(), NO_OBJECT)
        );
        assert!(tree_changes("").unwrap().is_empty());
        assert!(tree_changes("1\t0\tn.txt\0").is_err(), "fails closed");
        assert!(tree_changes(&format!(":000000 100644 {NO_OBJECT} {b} A")).is_err());
        assert!(is_binary(b"PNG\0") && !is_binary(b"text\n"));
    }

    #[test]
    fn lines_are_counted_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let old = repo.blob(b"1\n2\n3\n").unwrap();
        let new = repo.blob(b"1\nzwei\n3\n4").unwrap();
        let (old, new) = (repo.find_blob(old).unwrap(), repo.find_blob(new).unwrap());
        assert_eq!(count_lines(Some(&old), Some(&new)).unwrap(), (2, 1));
        assert_eq!(count_lines(None, Some(&new)).unwrap(), (4, 0));
        assert_eq!(count_lines(Some(&old), None).unwrap(), (0, 3));
    }
}
