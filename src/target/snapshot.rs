//! Noticing writes outside a worktree.
//!
//! A coding engine runs with the worktree as its folder, but nothing in the kernel stops it
//! writing next door. The caller takes a [`Snapshot`] of `workspace/` (names, sizes,
//! mtimes and symlink targets, recursively, never following links) before the engine runs,
//! and [`escaped`] takes another after and reports every difference that is not the
//! worktree itself or git's bookkeeping for it (its admin folder, new objects, its own
//! branch ref) — so a hook dropped into the clone's `.git/hooks`, an edit to the clone's
//! files or to another task's worktree is caught. Folder mtimes are not compared (a new
//! file changes its folder's); the new file itself is.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::guard::git_dirs;
use super::{TargetError, Violation, Worktree};
use crate::problem::IoError;

/// Paths reported at most in one violation.
const SHOWN: usize = 5;

/// The state of a folder tree at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Canonical root.
    root: PathBuf,
    /// Absolute paths under `root` not recorded (nor walked).
    skip: Vec<PathBuf>,
    entries: BTreeMap<PathBuf, Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Dir,
    File { len: u64, mtime: Option<SystemTime> },
    Link(PathBuf),
    Other,
}

impl Snapshot {
    /// Record every entry under `dir`.
    pub fn take(dir: &Path) -> Result<Self, TargetError> {
        let io = |source| IoError {
            path: dir.to_path_buf(),
            source,
        };
        Self::walk(dir.canonicalize().map_err(io)?, Vec::new())
    }

    /// Record every entry under `dir` (a folder holding `worktree`) but what work in the
    /// worktree may change: the state [`escaped`] compares with.
    pub fn around(worktree: &Worktree, dir: &Path) -> Result<Self, Violation> {
        let root = dir.canonicalize().map_err(|e| Violation::Unverifiable {
            reason: format!("{}: {e}", dir.display()),
        })?;
        let skip = allowed_prefixes(worktree, &root)?
            .into_iter()
            .map(|p| root.join(p))
            .collect();
        Self::walk(root, skip).map_err(|e| Violation::Unverifiable {
            reason: e.to_string(),
        })
    }

    fn walk(root: PathBuf, skip: Vec<PathBuf>) -> Result<Self, TargetError> {
        let mut entries = BTreeMap::new();
        let mut stack = vec![root.clone()];
        while let Some(folder) = stack.pop() {
            let Ok(list) = fs::read_dir(&folder) else {
                continue; // vanished or unreadable since listed: its absence shows in the diff
            };
            for item in list.flatten() {
                let path = item.path();
                if skip.contains(&path) {
                    continue;
                }
                let Ok(meta) = fs::symlink_metadata(&path) else {
                    continue;
                };
                let entry = if meta.file_type().is_symlink() {
                    Entry::Link(fs::read_link(&path).unwrap_or_default())
                } else if meta.is_dir() {
                    stack.push(path.clone());
                    Entry::Dir
                } else if meta.is_file() {
                    Entry::File {
                        len: meta.len(),
                        mtime: meta.modified().ok(),
                    }
                } else {
                    Entry::Other
                };
                if let Ok(rel) = path.strip_prefix(&root) {
                    entries.insert(rel.to_path_buf(), entry);
                }
            }
        }
        Ok(Self {
            root,
            skip,
            entries,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Paths (relative to the root) added, removed or changed between `self` and `after`.
    pub fn diff(&self, after: &Snapshot) -> Vec<PathBuf> {
        let mut changed: Vec<PathBuf> = self
            .entries
            .iter()
            .filter(|(path, entry)| after.entries.get(*path) != Some(entry))
            .map(|(path, _)| path.clone())
            .collect();
        changed.extend(
            after
                .entries
                .keys()
                .filter(|path| !self.entries.contains_key(*path))
                .cloned(),
        );
        changed.sort();
        changed
    }
}

/// Compare `before` (taken of a folder holding the worktree) with now; a change outside
/// the worktree and git's bookkeeping for it is a [`Violation::WroteOutside`].
pub fn escaped(worktree: &Worktree, before: &Snapshot) -> Result<(), Violation> {
    let after = Snapshot::walk(before.root.clone(), before.skip.clone()).map_err(|e| {
        Violation::Unverifiable {
            reason: e.to_string(),
        }
    })?;
    let allowed = allowed_prefixes(worktree, &before.root)?;
    let outside: Vec<String> = before
        .diff(&after)
        .into_iter()
        .filter(|p| !allowed.iter().any(|a| p.starts_with(a)))
        .map(|p| before.root.join(p).display().to_string())
        .collect();
    if outside.is_empty() {
        return Ok(());
    }
    let mut paths: Vec<String> = outside.iter().take(SHOWN).cloned().collect();
    if outside.len() > SHOWN {
        paths.push(format!("and {} more", outside.len() - SHOWN));
    }
    Err(Violation::WroteOutside { paths })
}

/// The worktree and the git files that work inside it legitimately writes, relative to
/// `root`.
fn allowed_prefixes(worktree: &Worktree, root: &Path) -> Result<Vec<PathBuf>, Violation> {
    let tree = worktree
        .path
        .canonicalize()
        .map_err(|e| Violation::Unverifiable {
            reason: format!("{}: {e}", worktree.path.display()),
        })?;
    let (admin, common) = git_dirs(&tree).ok_or_else(|| Violation::GitDir {
        path: ".git".into(),
    })?;
    let mut allowed = vec![tree, admin, common.join("objects")];
    let branch = Path::new("refs/heads").join(&worktree.branch);
    allowed.push(common.join(&branch));
    allowed.push(common.join("logs").join(&branch));
    Ok(allowed
        .into_iter()
        .filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn diff_sees_new_changed_and_removed_files_but_not_folder_mtimes() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("a")).unwrap();
        fs::write(dir.path().join("a/keep"), "1").unwrap();
        fs::write(dir.path().join("a/gone"), "1").unwrap();
        fs::write(dir.path().join("grow"), "1").unwrap();
        let before = Snapshot::take(dir.path()).unwrap();
        fs::remove_file(dir.path().join("a/gone")).unwrap();
        fs::write(dir.path().join("a/new"), "1").unwrap();
        fs::write(dir.path().join("grow"), "12").unwrap();
        let after = Snapshot::take(dir.path()).unwrap();
        let changed = before.diff(&after);
        let names: Vec<&str> = changed.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(names, ["a/gone", "a/new", "grow"]);
    }
}
