//! A confined coding tool's run: git that works though git's metadata is read-only, and
//! a network that reaches its model only.
//!
//! `git add` must work (Aider stages every file it creates): the tool gets a private index
//! (`GIT_INDEX_FILE`, a copy of the worktree's) and a private object directory
//! (`GIT_OBJECT_DIRECTORY`, with the repository's own objects as an alternate) in a scratch
//! directory that is thrown away after the run. Whatever the tool stages or writes into git
//! goes there; dayshift never commits from a tool's index. When the confinement names the
//! model's endpoints ([`Confinement::with_egress`]) the egress proxy starts for the run and
//! the tool runs behind the relay, with no other way out.

use std::path::{Path, PathBuf};

use super::{Confinement, Egress, Scratch, relay};
use crate::process::Spec;

/// What a tool's run needs kept until it is over: its git scratch directory and its egress
/// proxy.
#[derive(Default)]
pub struct ToolRun {
    _git: Option<Scratch>,
    _egress: Option<Egress>,
}

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
    /// gets a private git index and object directory, and — when endpoints are named and
    /// the relay program is known — no network but the way to them. Keep the returned
    /// [`ToolRun`] until the run is over.
    pub fn wrap_tool(&self, mut spec: Spec, worktree: &Path) -> std::io::Result<(Spec, ToolRun)> {
        if !self.is_active() {
            return Ok((self.wrap(spec), ToolRun::default()));
        }
        let mut confine = self.clone();
        let mut run = ToolRun::default();
        if let Some((admin, common)) = git_dirs(worktree) {
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
            confine = confine.with_write(scratch.path());
            run._git = Some(scratch);
        }
        if !self.egress().is_empty() {
            match relay::program() {
                Some(relay) => {
                    let egress = Egress::start(self.egress().to_vec())?;
                    confine = confine.behind_relay(relay, egress.socket(), egress.dir());
                    run._egress = Some(egress);
                }
                None => tracing::warn!(
                    "no relay program is known, so the coding tool keeps the host's network"
                ),
            }
        }
        Ok((confine.wrap(spec), run))
    }
}
