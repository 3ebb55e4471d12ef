//! The scanned tree, walked once per scan and shared by every analyzer: its files (as
//! [`crate::scan::builtin::files_under`] finds them) and each file's SHA-256, computed the
//! first time an analyzer asks — or reads the file through [`Tree::read_into`] — and then
//! shared, streamed so a big file costs no memory. Files are opened through [`Beneath`]: an
//! analyzer running the tree's code cannot swap one for a link that leads out of the tree.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use globset::{Glob, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};

use crate::fsx::Beneath;

/// How long before the scan began a file must have last changed for a hash taken after a tool
/// read it to be trusted: one tick of a file system's coarse clock (which can stamp a
/// change a few milliseconds before the real time), and two seconds on a file system that
/// keeps whole seconds only.
pub(super) const FINE_TICK: Duration = Duration::from_millis(20);
const COARSE_TICK: Duration = Duration::from_secs(2);

/// The files of one tree and their content hashes.
#[derive(Debug)]
pub struct Tree {
    /// The root, where the files are opened: never out of the tree, whatever a tool
    /// changes in it while the scan reads it.
    beneath: Beneath,
    /// Walked by whoever first needs the files ([`Tree::at`]).
    walked: OnceLock<Walked>,
    /// When the scan began: before the walk, and before any analyzer read a file.
    began: SystemTime,
}

/// The files the walk found, and each one's hash once taken.
#[derive(Debug)]
struct Walked {
    files: Vec<String>,
    hashes: Vec<OnceLock<Option<Hashed>>>,
}

impl Walked {
    fn of(root: &Path) -> Self {
        let files = crate::scan::builtin::files_under(root);
        let hashes = files.iter().map(|_| OnceLock::new()).collect();
        Self { files, hashes }
    }
}

/// A file's content hash, and when the file last changed as the hash was taken (its
/// ctime, which no program can set back as it can the modification time).
#[derive(Debug)]
struct Hashed {
    sha: String,
    changed_at: SystemTime,
    whole_seconds: bool,
}

impl Hashed {
    /// Whether the file had settled before `began`: a tool that read it after that read
    /// these contents.
    fn settled_before(&self, began: SystemTime) -> bool {
        let tick = if self.whole_seconds {
            COARSE_TICK
        } else {
            FINE_TICK
        };
        self.changed_at + tick < began
    }
}

impl Tree {
    /// The tree at `root`, walked when its files are first needed — by [`Tree::files`] or
    /// anything that reads them — so a tool that reads the tree itself can start while the
    /// walk goes on.
    pub fn at(root: &Path) -> Self {
        Self {
            beneath: Beneath::new(root),
            walked: OnceLock::new(),
            began: SystemTime::now(),
        }
    }

    /// The tree at `root`, walked.
    pub fn walk(root: &Path) -> Self {
        let tree = Self::at(root);
        tree.files();
        tree
    }

    fn walked(&self) -> &Walked {
        self.walked.get_or_init(|| Walked::of(self.root()))
    }

    pub fn root(&self) -> &Path {
        self.beneath.root()
    }

    /// Every file, relative and `/`-separated, sorted.
    pub fn files(&self) -> &[String] {
        &self.walked().files
    }

    /// Whether `matcher` selects any file; before the walk, a walk that stops at the first
    /// such file tells.
    pub fn has_any(&self, matcher: &Matcher) -> bool {
        match self.walked.get() {
            Some(walked) => walked.files.iter().any(|file| matcher.matches(file)),
            None => crate::scan::builtin::any_file_under(self.root(), |f| matcher.matches(f)),
        }
    }

    /// The files `matcher` selects, with their hashes (a file that cannot be read is left
    /// out: no analyzer can read it either).
    pub fn hashed(&self, matcher: &Matcher) -> Vec<(&str, &str)> {
        self.hashed_where(matcher, |_| true)
    }

    /// [`Tree::hashed`], after a tool read the files: a file that changed since the scan
    /// began (or so shortly before that its clock cannot tell) has the empty hash, as the
    /// tool may have read other contents than the hash's — it is read again next time.
    pub fn hashed_after_reading(&self, matcher: &Matcher) -> Vec<(&str, &str)> {
        self.hashed_where(matcher, |hashed| hashed.settled_before(self.began))
    }

    fn hashed_where(
        &self,
        matcher: &Matcher,
        trusted: impl Fn(&Hashed) -> bool,
    ) -> Vec<(&str, &str)> {
        let walked = self.walked();
        walked
            .files
            .iter()
            .zip(&walked.hashes)
            .filter(|(file, _)| matcher.matches(file))
            .filter_map(|(file, hash)| {
                let hashed = hash
                    .get_or_init(|| hash_file(&self.beneath, file))
                    .as_ref()?;
                let sha = if trusted(hashed) {
                    hashed.sha.as_str()
                } else {
                    ""
                };
                Some((file.as_str(), sha))
            })
            .collect()
    }

    /// Read `file` (one of the tree's) into `bytes` when it is at most `max_bytes`, its hash
    /// taken from the same read when none was yet: an analyzer that reads the files itself
    /// spares the cache a second read. Whether it was read.
    pub fn read_into(&self, file: &str, max_bytes: u64, bytes: &mut Vec<u8>) -> bool {
        bytes.clear();
        let Ok(mut opened) = self.beneath.open(file) else {
            return false;
        };
        let size = opened.metadata().map_or(u64::MAX, |m| m.len());
        if size > max_bytes || opened.read_to_end(bytes).is_err() {
            return false;
        }
        // the change time after the read: a change during it is seen
        let Ok(meta) = opened.metadata() else {
            return false;
        };
        let walked = self.walked();
        if let Ok(at) = walked.files.binary_search_by(|f| f.as_str().cmp(file)) {
            walked.hashes[at].get_or_init(|| {
                let sha = crate::hex::lower(&Sha256::digest(&bytes));
                Some(hashed(sha, &meta))
            });
        }
        true
    }
}

fn hash_file(tree: &Beneath, relative: &str) -> Option<Hashed> {
    let mut file = tree.open(relative).ok()?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).ok()?;
    // the change time after the read: a change during it is seen
    let meta = file.metadata().ok()?;
    Some(hashed(crate::hex::lower(&hasher.finalize()), &meta))
}

fn hashed(sha: String, meta: &std::fs::Metadata) -> Hashed {
    let (seconds, nanos) = (meta.ctime(), meta.ctime_nsec());
    let since_epoch = Duration::new(
        u64::try_from(seconds).unwrap_or(0),
        u32::try_from(nanos).unwrap_or(0),
    );
    Hashed {
        sha,
        changed_at: SystemTime::UNIX_EPOCH + since_epoch,
        whole_seconds: nanos == 0,
    }
}

/// Which files an analyzer reads, by file name: `*.py`, `Cargo.lock`; none = every file.
#[derive(Debug, Clone)]
pub struct Matcher {
    globs: Option<GlobSet>,
}

impl Matcher {
    pub fn every_file() -> Self {
        Self { globs: None }
    }

    /// Files with one of `extensions` (`py`, `js`); none = every file.
    pub fn extensions<S: AsRef<str>>(extensions: &[S]) -> Self {
        let globs: Vec<String> = extensions
            .iter()
            .map(|e| format!("*.{}", e.as_ref().trim_start_matches('.')))
            .collect();
        Self::names(&globs)
    }

    /// Files named one of `names` (globs on the file name); none = every file. A name that
    /// is not a glob matches itself only.
    pub fn names<S: AsRef<str>>(names: &[S]) -> Self {
        if names.is_empty() {
            return Self::every_file();
        }
        let mut builder = GlobSetBuilder::new();
        for name in names {
            let name = name.as_ref();
            let glob = Glob::new(name)
                .or_else(|_| Glob::new(&globset::escape(name)))
                .expect("an escaped name is a glob");
            builder.add(glob);
        }
        Self {
            globs: builder.build().ok(),
        }
    }

    pub fn matches(&self, file: &str) -> bool {
        let name = file.rsplit('/').next().unwrap_or(file);
        self.globs.as_ref().is_none_or(|g| g.is_match(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_select_by_extension_or_name_and_hashes_are_of_contents() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/a.py"), "x = 1\n").unwrap();
        std::fs::write(dir.path().join("app/b.py"), "x = 1\n").unwrap();
        std::fs::write(dir.path().join("Cargo.lock"), "lock\n").unwrap();
        std::fs::write(dir.path().join("README.md"), "hi\n").unwrap();
        let tree = Tree::walk(dir.path());
        let py = tree.hashed(&Matcher::extensions(&["py"]));
        assert_eq!(
            py.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
            ["app/a.py", "app/b.py"]
        );
        assert_eq!(py[0].1, py[1].1, "same contents, same hash");
        let lock = tree.hashed(&Matcher::names(&["Cargo.lock", "*.toml"]));
        assert_eq!(lock.len(), 1);
        assert_eq!(tree.hashed(&Matcher::every_file()).len(), 4);
        assert_eq!(tree.hashed(&Matcher::extensions::<&str>(&[])).len(), 4);
    }

    #[test]
    fn a_tree_not_yet_walked_tells_which_files_it_has_as_the_walk_would() {
        let dir = tempfile::tempdir().unwrap();
        for dir_name in ["app/deep/er", "node_modules/x", ".git", "docs"] {
            std::fs::create_dir_all(dir.path().join(dir_name)).unwrap();
        }
        std::fs::write(dir.path().join("app/deep/er/a.py"), "x = 1\n").unwrap();
        std::fs::write(dir.path().join("node_modules/x/b.js"), "x\n").unwrap();
        std::fs::write(dir.path().join(".git/config"), "x\n").unwrap();
        std::fs::write(dir.path().join("docs/logo.png"), "x\n").unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "x\n").unwrap();
        let matchers = [
            Matcher::extensions(&["py"]),
            Matcher::extensions(&["js"]),
            Matcher::extensions(&["png"]),
            Matcher::names(&["Cargo.toml"]),
            Matcher::names(&["config"]),
            Matcher::every_file(),
        ];
        let walked = Tree::walk(dir.path());
        let expected: Vec<bool> = matchers.iter().map(|m| walked.has_any(m)).collect();
        // .py deep down and Cargo.toml are there; node_modules, .git and images are not walked
        assert_eq!(expected, [true, false, false, true, false, true]);
        let unwalked = Tree::at(dir.path());
        let told: Vec<bool> = matchers.iter().map(|m| unwalked.has_any(m)).collect();
        assert_eq!(told, expected);
        assert!(
            unwalked.walked.get().is_none(),
            "telling walks no more than it needs"
        );
        assert_eq!(unwalked.files(), walked.files());
    }
}
