//! The scanned tree, walked once per scan and shared by every analyzer: its files (as
//! [`crate::scan::builtin::files_under`] finds them) and each file's SHA-256, computed the
//! first time an analyzer asks and then shared, streamed so a big file costs no memory.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use globset::{Glob, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};

/// The files of one tree and their content hashes.
#[derive(Debug)]
pub struct Tree {
    root: PathBuf,
    files: Vec<String>,
    hashes: Vec<OnceLock<Option<String>>>,
}

impl Tree {
    pub fn walk(root: &Path) -> Self {
        let files = crate::scan::builtin::files_under(root);
        let hashes = files.iter().map(|_| OnceLock::new()).collect();
        Self {
            root: root.to_path_buf(),
            files,
            hashes,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every file, relative and `/`-separated, sorted.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Whether `matcher` selects any file.
    pub fn has_any(&self, matcher: &Matcher) -> bool {
        self.files.iter().any(|file| matcher.matches(file))
    }

    /// The files `matcher` selects, with their hashes (a file that cannot be read is left
    /// out: no analyzer can read it either).
    pub fn hashed(&self, matcher: &Matcher) -> Vec<(&str, &str)> {
        self.files
            .iter()
            .zip(&self.hashes)
            .filter(|(file, _)| matcher.matches(file))
            .filter_map(|(file, hash)| {
                let hash = hash.get_or_init(|| hash_file(&self.root.join(file)));
                Some((file.as_str(), hash.as_deref()?))
            })
            .collect()
    }
}

fn hash_file(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).ok()?;
    Some(hex(&hasher.finalize()))
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
}
