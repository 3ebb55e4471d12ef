//! A cheap, in-process fingerprint of a worktree's files: inode, size, mtime, ctime and
//! mode of every file and symlink, caches aside.
//!
//! After the checks ran, [`super::unchanged_since`] must know whether test code changed
//! the work. Building the tree again takes four git processes; when the files' stamps are
//! all as they were when the tree was built, nothing can have changed — a write changes the
//! ctime, which no unprivileged process can set back — so the git rebuild is skipped. Any
//! difference (a new file, a touched one) falls back to the exact answer from git, so a
//! stamp can only save time, never decide a violation.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The stamps of a worktree's files, keyed by path relative to its root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkStamp(BTreeMap<PathBuf, [i64; 7]>);

impl WorkStamp {
    /// Stamp every file under `root` but `.git` and the caches tests leave (which never
    /// enter a tree either: see `tree::NEVER_ADDED`).
    pub fn take(root: &Path) -> std::io::Result<Self> {
        let mut stamps = BTreeMap::new();
        walk(root, Path::new(""), &mut stamps)?;
        Ok(Self(stamps))
    }
}

fn walk(root: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, [i64; 7]>) -> std::io::Result<()> {
    for entry in fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if (rel.as_os_str().is_empty() && name == ".git") || is_cache(&name) {
            continue;
        }
        let path = rel.join(&*name);
        let meta = entry.metadata()?;
        if meta.is_dir() {
            walk(root, &path, out)?;
        } else {
            out.insert(
                path,
                [
                    meta.ino() as i64,
                    meta.size() as i64,
                    meta.mtime(),
                    meta.mtime_nsec(),
                    meta.ctime(),
                    meta.ctime_nsec(),
                    i64::from(meta.mode()),
                ],
            );
        }
    }
    Ok(())
}

/// Names of the caches that running checks leave behind.
fn is_cache(name: &str) -> bool {
    matches!(
        name,
        "__pycache__"
            | ".pytest_cache"
            | ".mypy_cache"
            | ".ruff_cache"
            | ".hypothesis"
            | "htmlcov"
            | ".coverage"
            | "coverage.xml"
    ) || name.starts_with(".aider")
        || name.starts_with(".coverage.")
        || name.ends_with(".pyc")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_write_a_new_file_or_a_restored_mtime_all_show_and_caches_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("a.py"), "x = 1\n").unwrap();
        fs::create_dir(root.join("pkg")).unwrap();
        fs::write(root.join("pkg/b.py"), "y = 2\n").unwrap();
        let before = WorkStamp::take(root).unwrap();
        assert_eq!(WorkStamp::take(root).unwrap(), before);

        fs::create_dir(root.join("pkg/__pycache__")).unwrap();
        fs::write(root.join("pkg/__pycache__/b.cpython-311.pyc"), "bytes").unwrap();
        fs::write(root.join(".coverage"), "data").unwrap();
        assert_eq!(
            WorkStamp::take(root).unwrap(),
            before,
            "caches do not count"
        );

        let mtime = fs::metadata(root.join("a.py")).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
        fs::write(root.join("a.py"), "x = 9\n").unwrap();
        fs::File::options()
            .write(true)
            .open(root.join("a.py"))
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert_ne!(
            WorkStamp::take(root).unwrap(),
            before,
            "same size and mtime"
        );

        let before = WorkStamp::take(root).unwrap();
        fs::write(root.join("pkg/new.txt"), "").unwrap();
        assert_ne!(WorkStamp::take(root).unwrap(), before, "a new file");
    }
}
