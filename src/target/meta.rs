//! The clone's git metadata, held still around every tool run and every check run.
//!
//! A coding tool (or the test code it wrote) that can write the clone's `.git` can make
//! dayshift's later git calls do its bidding: a hook runs on commit or merge, a config
//! entry names a program to run or another repository to use, a moved `HEAD` or ref puts a
//! change where nobody judged it. Dayshift's own calls run with hooks off
//! ([`super::git::SAFE_CONFIG`]), and this module makes the rest hold: [`GitMeta::take`]
//! records, before the run, the exact bytes (and modes) of
//!
//! - the clone's top-level files (`config`, `HEAD`, `packed-refs`, `index`, `shallow`, …),
//! - everything under `hooks/`, `info/`, `refs/` (every branch, the task's own included:
//!   dayshift commits, the tool does not), `modules/` and `objects/info/` (alternates),
//! - each worktree record's `HEAD`, `config.worktree`, `gitdir`, `commondir` and `locked`
//!   (not its index, logs or commit message: ordinary git use writes those);
//!
//! and [`GitMeta::verify`] compares after the run, puts every difference back exactly
//! (rewrites changed files, deletes added ones, recreates removed ones) and returns
//! [`Violation::GitMetadata`] naming them, which fails the attempt.
//!
//! A crash (or a SIGKILL) between the two would leave whatever the tool wrote in place, and
//! the next run's record would take it for the truth. So the work loop holds the record
//! through [`Held`]: it is also written to a file in dayshift's state folder while the tool
//! or the checks may run, and removed when the hold ends; a file found at the next start
//! ([`recover`]) is a run that never got to compare, and is compared and restored then.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::guard::git_dirs;
use super::{Violation, Worktree};

/// Folders of the git dir recorded whole.
const WHOLE: [&str; 5] = ["hooks", "info", "refs", "modules", "objects/info"];
/// Files of each worktree record (`worktrees/<name>/`) recorded.
const RECORD_FILES: [&str; 5] = ["HEAD", "config.worktree", "gitdir", "commondir", "locked"];
/// Paths reported at most in one violation.
const SHOWN: usize = 8;

/// The recorded state of a clone's git metadata.
#[derive(Debug, Clone)]
pub struct GitMeta {
    /// The clone's git dir (canonical).
    common: PathBuf,
    entries: BTreeMap<PathBuf, Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir,
    File { bytes: Vec<u8>, mode: u32 },
    Link(PathBuf),
}

impl GitMeta {
    /// Record the metadata of the clone `worktree` belongs to.
    pub fn take(worktree: &Worktree) -> Result<Self, Violation> {
        let root = worktree
            .path
            .canonicalize()
            .map_err(|e| unverifiable(&worktree.path, e))?;
        let (_, common) = git_dirs(&root).ok_or_else(|| Violation::GitDir {
            path: ".git".into(),
        })?;
        Self::of(&common)
    }

    /// Record the metadata of the git dir `common`.
    pub fn of(common: &Path) -> Result<Self, Violation> {
        let mut entries = BTreeMap::new();
        let top = fs::read_dir(common).map_err(|e| unverifiable(common, e))?;
        for item in top {
            let item = item.map_err(|e| unverifiable(common, e))?;
            let path = item.path();
            if !path.is_dir() || path.is_symlink() {
                record(common, &path, &mut entries)?;
            }
        }
        for folder in WHOLE {
            walk(common, &common.join(folder), &mut entries)?;
        }
        let records = common.join("worktrees");
        if let Ok(list) = fs::read_dir(&records) {
            for item in list.flatten() {
                let path = item.path();
                record(common, &path, &mut entries)?;
                if path.is_dir() && !path.is_symlink() {
                    for name in RECORD_FILES {
                        record(common, &path.join(name), &mut entries)?;
                    }
                }
            }
        }
        Ok(Self {
            common: common.to_path_buf(),
            entries,
        })
    }

    /// Compare with the metadata now; put back every difference and name it.
    pub fn verify(&self) -> Result<(), Violation> {
        let now = Self::of(&self.common)?;
        let mut changed: Vec<&PathBuf> = self
            .entries
            .iter()
            .filter(|(path, node)| now.entries.get(*path) != Some(node))
            .map(|(path, _)| path)
            .collect();
        let added: Vec<&PathBuf> = now
            .entries
            .keys()
            .filter(|path| !self.entries.contains_key(*path))
            .collect();
        if changed.is_empty() && added.is_empty() {
            return Ok(());
        }
        // added first (deepest first, so a folder's files go before it), then the recorded
        // state in path order (a folder before its files)
        for path in added.iter().rev() {
            remove(&self.common.join(path)).map_err(|e| unverifiable(path, e))?;
        }
        for path in &changed {
            let full = self.common.join(path);
            self.restore(&full, &self.entries[*path])
                .map_err(|e| unverifiable(&full, e))?;
        }
        changed.extend(added);
        changed.sort();
        let mut paths: Vec<String> = changed
            .iter()
            .take(SHOWN)
            .map(|p| Path::new(".git").join(p).display().to_string())
            .collect();
        if changed.len() > SHOWN {
            paths.push(format!("and {} more", changed.len() - SHOWN));
        }
        Err(Violation::GitMetadata { paths })
    }

    fn restore(&self, path: &Path, node: &Node) -> std::io::Result<()> {
        if let Ok(meta) = fs::symlink_metadata(path) {
            let is_dir = meta.is_dir();
            if matches!(node, Node::Dir) && is_dir {
                return Ok(());
            }
            remove(path)?;
        }
        match node {
            Node::Dir => fs::create_dir_all(path),
            Node::Link(target) => std::os::unix::fs::symlink(target, path),
            Node::File { bytes, mode } => {
                crate::fsx::write_atomic(path, bytes)?;
                fs::set_permissions(path, fs::Permissions::from_mode(*mode))
            }
        }
    }
}

/// A [`GitMeta`] held while a tool or the checks run, also on disk until dropped.
#[derive(Debug)]
pub struct Held {
    meta: GitMeta,
    file: PathBuf,
}

impl Held {
    /// Record the metadata of `worktree`'s clone and write the record to `file`.
    pub fn take(worktree: &Worktree, file: &Path) -> Result<Self, Violation> {
        let meta = GitMeta::take(worktree)?;
        meta.save(file).map_err(|e| unverifiable(file, e))?;
        Ok(Self {
            meta,
            file: file.to_path_buf(),
        })
    }

    /// [`GitMeta::verify`].
    pub fn verify(&self) -> Result<(), Violation> {
        self.meta.verify()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.file);
    }
}

/// Compare and restore the record an interrupted run left in `file` (there is none after
/// a clean end), then remove it. `Ok(())` when there was none or nothing had changed.
pub fn recover(file: &Path) -> Result<(), Violation> {
    let Some(meta) = GitMeta::load(file).map_err(|e| unverifiable(file, e))? else {
        return Ok(());
    };
    let result = meta.verify();
    if !matches!(result, Err(Violation::Unverifiable { .. })) {
        let _ = fs::remove_file(file);
    }
    result
}

/// First line of a saved record.
const MAGIC: &[u8] = b"dayshift git metadata 1\n";

impl GitMeta {
    /// Write the record to `file` (temp + rename): the git dir, the number of entries, then
    /// each entry as a kind byte, its path, its mode and its bytes, lengths first.
    pub fn save(&self, file: &Path) -> io::Result<()> {
        use std::os::unix::ffi::OsStrExt;
        let mut out = MAGIC.to_vec();
        let put = |out: &mut Vec<u8>, bytes: &[u8]| {
            out.extend((bytes.len() as u64).to_le_bytes());
            out.extend(bytes);
        };
        put(&mut out, self.common.as_os_str().as_bytes());
        out.extend((self.entries.len() as u64).to_le_bytes());
        for (path, node) in &self.entries {
            let (kind, mode, bytes) = match node {
                Node::Dir => (b'd', 0, &[][..]),
                Node::File { bytes, mode } => (b'f', *mode, &bytes[..]),
                Node::Link(target) => (b'l', 0, target.as_os_str().as_bytes()),
            };
            out.push(kind);
            put(&mut out, path.as_os_str().as_bytes());
            out.extend(mode.to_le_bytes());
            put(&mut out, bytes);
        }
        if let Some(dir) = file.parent() {
            fs::create_dir_all(dir)?;
        }
        crate::fsx::write_atomic(file, &out)
    }

    /// Read a record [`GitMeta::save`] wrote; `None` when there is no file.
    pub fn load(file: &Path) -> io::Result<Option<Self>> {
        use std::os::unix::ffi::OsStrExt;
        let data = match fs::read(file) {
            Ok(data) => data,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "not a saved git metadata record",
            )
        };
        let path = |b: &[u8]| PathBuf::from(std::ffi::OsStr::from_bytes(b));
        let mut cursor = Cursor(data.strip_prefix(MAGIC).ok_or_else(bad)?);
        let common = path(cursor.bytes().ok_or_else(bad)?);
        let count = cursor.u64().ok_or_else(bad)?;
        let mut entries = BTreeMap::new();
        while let Some(&[kind]) = cursor.take(1) {
            let (Some(rel), Some(mode), Some(data)) =
                (cursor.bytes(), cursor.u32(), cursor.bytes())
            else {
                return Err(bad());
            };
            let node = match kind {
                b'd' => Node::Dir,
                b'f' => Node::File {
                    bytes: data.to_vec(),
                    mode,
                },
                b'l' => Node::Link(path(data)),
                _ => return Err(bad()),
            };
            entries.insert(path(rel), node);
        }
        // a record cut short would make verify delete what it lost
        if entries.len() as u64 != count {
            return Err(bad());
        }
        Ok(Some(Self { common, entries }))
    }
}

/// Reads a saved record front to back.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    /// A length (u64) and that many bytes.
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.u64()?;
        self.take(usize::try_from(len).ok()?)
    }
}

/// Record `path` (relative to `common`) if it exists, without following a symlink.
fn record(
    common: &Path,
    path: &Path,
    entries: &mut BTreeMap<PathBuf, Node>,
) -> Result<(), Violation> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(unverifiable(path, e)),
    };
    let node = if meta.file_type().is_symlink() {
        Node::Link(fs::read_link(path).map_err(|e| unverifiable(path, e))?)
    } else if meta.is_dir() {
        Node::Dir
    } else {
        Node::File {
            bytes: fs::read(path).map_err(|e| unverifiable(path, e))?,
            mode: meta.permissions().mode() & 0o7777,
        }
    };
    if let Ok(rel) = path.strip_prefix(common) {
        entries.insert(rel.to_path_buf(), node);
    }
    Ok(())
}

/// Record `folder` and everything under it, never following a symlink.
fn walk(
    common: &Path,
    folder: &Path,
    entries: &mut BTreeMap<PathBuf, Node>,
) -> Result<(), Violation> {
    let mut stack = vec![folder.to_path_buf()];
    while let Some(path) = stack.pop() {
        record(common, &path, entries)?;
        let is_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if is_dir {
            for item in fs::read_dir(&path).map_err(|e| unverifiable(&path, e))? {
                stack.push(item.map_err(|e| unverifiable(&path, e))?.path());
            }
        }
    }
    Ok(())
}

fn remove(path: &Path) -> std::io::Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn unverifiable(path: &Path, e: std::io::Error) -> Violation {
    Violation::Unverifiable {
        reason: format!("{}: {e}", path.display()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_difference_is_put_back_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        for folder in ["hooks", "refs/heads", "worktrees/T-0001/logs"] {
            fs::create_dir_all(git.join(folder)).unwrap();
        }
        fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        fs::write(git.join("refs/heads/main"), "a\n").unwrap();
        fs::write(git.join("hooks/pre-commit.sample"), "#!/bin/sh\n").unwrap();
        fs::write(
            git.join("worktrees/T-0001/HEAD"),
            "ref: refs/heads/agent/x\n",
        )
        .unwrap();
        fs::write(git.join("worktrees/T-0001/index"), "tool's").unwrap();
        let sample = git.join("hooks/pre-commit.sample");
        let sample_mode = fs::metadata(&sample).unwrap().permissions().mode() & 0o7777;
        let before = GitMeta::of(&git).unwrap();
        before.verify().unwrap();

        // what ordinary git use in the worktree writes is not watched
        fs::write(git.join("worktrees/T-0001/index"), "staged").unwrap();
        fs::write(git.join("worktrees/T-0001/logs/HEAD"), "log").unwrap();
        before.verify().unwrap();

        fs::write(git.join("hooks/post-commit"), "#!/bin/sh\nevil\n").unwrap();
        fs::create_dir_all(git.join("hooks/deep/er")).unwrap();
        fs::write(git.join("hooks/deep/er/x"), "x").unwrap();
        fs::set_permissions(&sample, fs::Permissions::from_mode(0o4755)).unwrap();
        fs::write(git.join("worktrees/T-0001/HEAD"), "ref: refs/heads/main\n").unwrap();
        fs::remove_file(git.join("refs/heads/main")).unwrap();
        fs::write(git.join("config"), "[core]\n\tfsmonitor = evil\n").unwrap();
        let v = before.verify().unwrap_err();
        assert_eq!(
            v.to_string(),
            "wrote git's metadata: .git/config, .git/hooks/deep, .git/hooks/deep/er, \
             .git/hooks/deep/er/x, .git/hooks/post-commit, .git/hooks/pre-commit.sample, \
             .git/refs/heads/main, .git/worktrees/T-0001/HEAD; restored"
        );
        before.verify().unwrap();
        assert!(!git.join("config").exists() && !git.join("hooks/deep").exists());
        assert_eq!(
            fs::read_to_string(git.join("refs/heads/main")).unwrap(),
            "a\n"
        );
        let mode = fs::metadata(&sample).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, sample_mode);
    }

    #[test]
    fn a_record_left_by_an_interrupted_run_is_restored_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        fs::create_dir_all(git.join("hooks")).unwrap();
        fs::create_dir_all(git.join("refs/heads")).unwrap();
        fs::write(git.join("config"), "[core]\n").unwrap();
        fs::write(git.join("refs/heads/main"), "a\n").unwrap();
        std::os::unix::fs::symlink("elsewhere", git.join("refs/heads/odd")).unwrap();
        let file = dir.path().join("state/git-metadata");
        let meta = GitMeta::of(&git).unwrap();
        meta.save(&file).unwrap();
        let loaded = GitMeta::load(&file).unwrap().unwrap();
        assert_eq!(
            (&loaded.common, &loaded.entries),
            (&meta.common, &meta.entries)
        );
        // the run is killed after the tool wrote a hook and a config
        fs::write(git.join("hooks/post-merge"), "evil").unwrap();
        fs::write(git.join("config"), "[core]\n\tsshCommand = evil\n").unwrap();
        let v = recover(&file).unwrap_err();
        assert_eq!(
            v.to_string(),
            "wrote git's metadata: .git/config, .git/hooks/post-merge; restored"
        );
        assert!(!file.exists() && !git.join("hooks/post-merge").exists());
        assert_eq!(fs::read_to_string(git.join("config")).unwrap(), "[core]\n");
        recover(&file).unwrap();

        fs::write(dir.path().join("junk"), "not a record").unwrap();
        assert!(GitMeta::load(&dir.path().join("junk")).is_err());
        meta.save(&file).unwrap();
        let whole = fs::read(&file).unwrap();
        let last = whole.len() - b"elsewhere".len() - 8 - 4 - "refs/heads/odd".len() - 8 - 1;
        for cut in [whole.len() - 3, last] {
            fs::write(&file, &whole[..cut]).unwrap();
            assert!(GitMeta::load(&file).is_err(), "cut at {cut} is refused");
        }
    }
}
