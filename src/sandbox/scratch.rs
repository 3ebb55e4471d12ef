//! A private directory in the system temp dir for one run (a prompt file, a JUnit report
//! directory), removed when dropped.
//!
//! Outside the worktree, so nothing in it lands in a commit; new for every run, so a stale
//! file from an earlier run is never read as this one's; mode 0700, so other users cannot
//! read a prompt. Inside a sandbox `/tmp` is private, so a confinement re-exposes it
//! explicitly (read-only for a prompt, writable for reports).

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// `<temp>/dayshift-<what>-<pid>-<nanos>-<n>`, created empty.
    pub fn create(what: &str) -> std::io::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "dayshift-{what}-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
