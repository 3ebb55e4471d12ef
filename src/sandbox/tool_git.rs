//! Git for a confined coding tool: `git add` must work (Aider stages every file it creates),
//! yet git's metadata stays read-only.
//!
//! The tool gets a private index (`GIT_INDEX_FILE`, a copy of the worktree's) and a private
//! object directory (`GIT_OBJECT_DIRECTORY`, with the repository's own objects as an
//! alternate) in a scratch directory that is thrown away after the run. Whatever the tool
//! stages or writes into git goes there; dayshift never commits from a tool's index.

use std::path::{Path, PathBuf};

use super::{Confinement, Scratch};
use crate::process::Spec;

/// Where a worktree's git lives: its own admin directory (index) and the repository's
/// common directory (objects).
fn git_dirs(worktree: &Path) -> Option<(PathBuf, PathBuf)> {
    let dot_git = worktree.join(".git");
    if dot_git.is_dir() {
        return Some((dot_git.clone(), dot_git));
    }
    let pointer = std::fs::read_to_string(&dot_git).ok()?;
    let admin = worktree.join(pointer.strip_prefix("gitdir:")?.trim());
    let common = match std::fs::read_to_string(admin.join("commondir")) {
        Ok(rel) => admin.join(rel.trim()),
        Err(_) => admin.clone(),
    };
    Some((admin, std::fs::canonicalize(&common).unwrap_or(common)))
}

impl Confinement {
    /// [`wrap`](Self::wrap) for a coding tool in `worktree`: when confined, the tool also
    /// gets a private git index and object directory. Keep the returned scratch directory
    /// until the run is over.
    pub fn wrap_tool(
        &self,
        mut spec: Spec,
        worktree: &Path,
    ) -> std::io::Result<(Spec, Option<Scratch>)> {
        let Some((admin, common)) = self.is_active().then(|| git_dirs(worktree)).flatten() else {
            return Ok((self.wrap(spec), None));
        };
        let scratch = Scratch::create("git")?;
        let index = scratch.path().join("index");
        if admin.join("index").is_file() {
            std::fs::copy(admin.join("index"), &index)?;
        }
        let objects = scratch.path().join("objects");
        std::fs::create_dir(&objects)?;
        for (var, value) in [
            ("GIT_INDEX_FILE", index),
            ("GIT_OBJECT_DIRECTORY", objects),
            ("GIT_ALTERNATE_OBJECT_DIRECTORIES", common.join("objects")),
        ] {
            spec.env
                .insert(var.into(), value.to_string_lossy().into_owned());
        }
        let spec = self.clone().with_write(scratch.path()).wrap(spec);
        Ok((spec, Some(scratch)))
    }
}
