//! Guardrails: what a coding engine changed in a worktree, judged against policy.yaml in
//! code (DESIGN §7), deterministically, before anything is committed.
//!
//! The change is everything between the task's `base_commit` and the working tree —
//! tracked files through `git diff --numstat` (so commits the engine made itself count
//! too), untracked ones through `git status --porcelain=v1 -z --untracked-files=all` with
//! their lines counted here. Git's own paths are checked first: the worktree's `.git` file
//! must still point into the clone (otherwise every later git command would run against
//! whatever it names) and no change may create a `.git` anywhere. Then never-touch paths,
//! symlinks that lead out of the worktree, and the size limits. A guard that cannot look
//! fails closed: [`Violation::Unverifiable`].

use std::fs;
use std::path::{Component, Path, PathBuf};

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
    /// New and not yet staged.
    Untracked,
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
}

/// Why a change is refused. Displayed as one line for the task log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("changed `{path}`, which policy.yaml lists under never_touch")]
    NeverTouch { path: String },
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
}

/// Check what changed in `worktree` since its base commit against `policy`.
pub fn inspect(worktree: &Worktree, policy: &Policy) -> Result<ChangeSet, Violation> {
    let root = worktree.path.canonicalize().map_err(unverifiable)?;
    if git_dirs(&root).is_none() {
        return Err(Violation::GitDir {
            path: ".git".into(),
        });
    }
    let git = Git::new(&root);
    let base = worktree.base_commit.as_str();
    let diff = git
        .run(
            &["diff", "--raw", "--numstat", "-z", "--no-renames", base],
            "",
        )
        .map_err(unverifiable)?;
    let status = git
        .run(
            &["status", "--porcelain=v1", "-z", "--untracked-files=all"],
            "",
        )
        .map_err(unverifiable)?;

    let mut files = tracked_changes(&diff);
    for path in untracked(&status) {
        if path.ends_with('/') {
            // An embedded repository: status shows its folder, never its files.
            return Err(Violation::GitDir { path });
        }
        let (added, binary) = count_lines(&root.join(&path));
        files.push(ChangedFile {
            path,
            added,
            removed: 0,
            status: FileStatus::Untracked,
            binary,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));

    for file in &files {
        if file.path.split('/').any(|part| part == ".git") {
            return Err(Violation::GitDir {
                path: file.path.clone(),
            });
        }
        if policy.never_touch.matches(&file.path) {
            return Err(Violation::NeverTouch {
                path: file.path.clone(),
            });
        }
        if file.status != FileStatus::Deleted {
            check_symlink(&root, &file.path)?;
        }
    }
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
    Ok(ChangeSet {
        files,
        lines,
        protected,
    })
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

/// Changed tracked files from `git diff --raw --numstat -z --no-renames`: first the raw
/// entries (`:<modes> <shas> <status>` NUL `<path>` NUL), then the numstat ones
/// (`<added>\t<removed>\t<path>` NUL).
fn tracked_changes(diff: &str) -> Vec<ChangedFile> {
    let mut status = std::collections::HashMap::new();
    let mut parts = diff.split('\0').peekable();
    while parts.peek().is_some_and(|p| p.starts_with(':')) {
        let (Some(meta), Some(path)) = (parts.next(), parts.next()) else {
            break;
        };
        let s = match meta.rsplit(' ').next().and_then(|code| code.chars().next()) {
            Some('A') => FileStatus::Added,
            Some('D') => FileStatus::Deleted,
            Some('T') => FileStatus::TypeChanged,
            _ => FileStatus::Modified,
        };
        status.insert(path, s);
    }
    parts
        .filter_map(|entry| {
            let mut fields = entry.splitn(3, '\t');
            let (added, removed, path) = (fields.next()?, fields.next()?, fields.next()?);
            let binary = added == "-";
            Some(ChangedFile {
                path: path.to_string(),
                added: added.parse().unwrap_or(0),
                removed: removed.parse().unwrap_or(0),
                status: status.get(path).copied().unwrap_or(FileStatus::Modified),
                binary,
            })
        })
        .collect()
}

/// Untracked paths from `git status --porcelain=v1 -z`.
fn untracked(status: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut entries = status.split('\0');
    while let Some(entry) = entries.next() {
        if let Some(path) = entry.strip_prefix("?? ") {
            out.push(path.to_string());
        } else if entry.starts_with('R') || entry.starts_with('C') {
            entries.next(); // the original path of a rename or copy
        }
    }
    out
}

/// Lines of a new file as git would count them, and whether it is binary.
fn count_lines(path: &Path) -> (u64, bool) {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => (1, false),
        Ok(m) if m.is_file() => match fs::read(path) {
            Ok(bytes) if bytes[..bytes.len().min(8000)].contains(&0) => (0, true),
            Ok(bytes) => {
                let newlines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
                (
                    newlines + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n")),
                    false,
                )
            }
            Err(_) => (0, true),
        },
        _ => (0, false),
    }
}

fn check_symlink(root: &Path, rel: &str) -> Result<(), Violation> {
    let link = root.join(rel);
    let Ok(meta) = fs::symlink_metadata(&link) else {
        return Ok(());
    };
    if !meta.file_type().is_symlink() {
        return Ok(());
    }
    let target = fs::read_link(&link).map_err(unverifiable)?;
    let joined = link.parent().unwrap_or(root).join(&target);
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
    fn raw_and_numstat_entries_of_one_diff_are_read_together() {
        // `git diff --raw --numstat -z --no-renames` of a deletion, an edit and a new file
        let diff = [
            ":100644 000000 587be6b 0000000 D",
            "d.txt",
            ":100644 100644 422c2b7 6372083 M",
            "m.txt",
            ":000000 100644 0000000 8ba3a16 A",
            "n.txt",
            "0\t1\td.txt",
            "2\t1\tm.txt",
            "1\t0\tn.txt",
            "-\t-\tlogo.png",
            "",
        ]
        .join("\0");
        let files = tracked_changes(&diff);
        let seen: Vec<(&str, u64, u64, FileStatus, bool)> = files
            .iter()
            .map(|f| (f.path.as_str(), f.added, f.removed, f.status, f.binary))
            .collect();
        assert_eq!(
            seen,
            [
                ("d.txt", 0, 1, FileStatus::Deleted, false),
                ("m.txt", 2, 1, FileStatus::Modified, false),
                ("n.txt", 1, 0, FileStatus::Added, false),
                ("logo.png", 0, 0, FileStatus::Modified, true),
            ]
        );
        assert!(tracked_changes("").is_empty());
    }
}
