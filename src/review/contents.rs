//! Where the syntax layer reads a changed file's whole text: two git revisions (a task's
//! base commit and the tree judged, or a branch and its merge base), or a directory on disk
//! for a diff given as a file.

use std::path::{Path, PathBuf};

use super::Contents;

/// The largest file read (a bigger one is not parsed).
const MAX_BYTES: usize = 2 * 1024 * 1024;

/// A file's text at two revisions of a repository (in-process, git2).
pub struct GitRevisions {
    repo: git2::Repository,
    before: Option<String>,
    after: String,
}

impl GitRevisions {
    /// `before` and `after` are anything git can resolve to a tree (a commit, a tree id, a
    /// branch); `before` may be absent (everything is new).
    pub fn open(repo: &Path, before: Option<&str>, after: &str) -> Result<Self, git2::Error> {
        Ok(Self {
            repo: git2::Repository::open(repo)?,
            before: before.map(str::to_string),
            after: after.to_string(),
        })
    }

    fn read(&self, rev: &str, path: &str) -> Option<String> {
        let tree = self.repo.revparse_single(rev).ok()?.peel_to_tree().ok()?;
        let entry = tree.get_path(Path::new(path)).ok()?;
        let blob = entry.to_object(&self.repo).ok()?.peel_to_blob().ok()?;
        if blob.size() > MAX_BYTES {
            return None;
        }
        String::from_utf8(blob.content().to_vec()).ok()
    }
}

impl Contents for GitRevisions {
    fn before(&self, path: &str) -> Option<String> {
        self.read(self.before.as_deref()?, path)
    }

    fn after(&self, path: &str) -> Option<String> {
        self.read(&self.after, path)
    }
}

/// Files as they are now under a directory, for a diff given as a file: a file counts only
/// when the diff is applied there (each added line is where the diff puts it), else the
/// syntax layer would judge the file as it was; nothing before.
pub struct OnDisk {
    root: PathBuf,
    /// path → its added lines (number, text).
    added: std::collections::HashMap<String, Vec<(u32, String)>>,
}

impl OnDisk {
    pub fn new(root: PathBuf, diff: &super::Diff) -> Self {
        let added = diff
            .files
            .iter()
            .map(|f| {
                let lines = f.added.iter().map(|l| (l.number, l.text.clone())).collect();
                (f.path.clone(), lines)
            })
            .collect();
        Self { root, added }
    }
}

impl Contents for OnDisk {
    fn before(&self, _path: &str) -> Option<String> {
        None
    }

    fn after(&self, path: &str) -> Option<String> {
        if path.split('/').any(|p| p == "..") || path.starts_with('/') {
            return None;
        }
        let full = self.root.join(path);
        let meta = std::fs::symlink_metadata(&full).ok()?;
        if !meta.is_file() || meta.len() as usize > MAX_BYTES {
            return None;
        }
        let text = std::fs::read_to_string(full).ok()?;
        let lines: Vec<&str> = text.lines().collect();
        let applied = self.added.get(path).is_none_or(|added| {
            added.iter().all(|(n, line)| {
                lines
                    .get((*n as usize).wrapping_sub(1))
                    .is_some_and(|l| l.trim_end() == line.trim_end())
            })
        });
        applied.then_some(text)
    }
}
