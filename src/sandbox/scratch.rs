//! A private directory in the system temp dir for one run (a prompt file, a JUnit report
//! directory), removed when dropped.
//!
//! Outside the worktree, so nothing in it lands in a commit; new for every run, so a stale
//! file from an earlier run is never read as this one's; mode 0700, so other users cannot
//! read a prompt. Inside a sandbox `/tmp` is private, so a confinement re-exposes it
//! explicitly (read-only for a prompt, writable for reports).
//!
//! A process killed outright (SIGKILL, a power cut) cannot remove its directories: the
//! first one a later process makes sweeps those of processes that are gone.

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
        static SWEPT: std::sync::Once = std::sync::Once::new();
        SWEPT.call_once(|| sweep(&std::env::temp_dir(), STALE_AFTER));
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

/// How old a directory of a process that is gone must be before it is swept: a process of
/// another PID namespace sharing the temp dir is not taken for a dead one while it works.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Remove the scratch directories in `temp` of processes that no longer run, older than
/// `age`. Another user's cannot be removed and are left as they are.
fn sweep(temp: &Path, age: std::time::Duration) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = scratch_pid(&name) else {
            continue;
        };
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|at| at.elapsed().is_ok_and(|e| e >= age));
        let gone = !Path::new("/proc").join(pid.to_string()).exists();
        if old && gone && pid != std::process::id() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The process id in a scratch directory's name, `dayshift-<what>-<pid>-<nanos>-<n>`.
fn scratch_pid(name: &str) -> Option<u32> {
    let fields: Vec<&str> = name.strip_prefix("dayshift-")?.split('-').collect();
    let [what, pid, nanos, n] = fields.as_slice() else {
        return None;
    };
    let numbers = [nanos, n].iter().all(|f| f.parse::<u64>().is_ok());
    let pid: u32 = pid.parse().ok().filter(|&p| p <= PID_MAX)?;
    (KINDS.contains(what) && numbers).then_some(pid)
}

/// What scratch directories are made for (`Scratch::create`'s `what`): only these are
/// ever swept — `dayshift-demo-…`, a person's demo home, is not one.
const KINDS: [&str; 8] = [
    "egress",
    "git",
    "index",
    "junit",
    "preflight",
    "probe",
    "prompt",
    "recheck",
];

/// The largest process id Linux gives (`/proc/sys/kernel/pid_max` at most 2^22).
const PID_MAX: u32 = 1 << 22;

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directories_of_processes_that_are_gone_are_swept_and_no_other() {
        let temp = tempfile::tempdir().unwrap();
        // a pid no process has here (2^22 - 4; this machine's pid_max is lower)
        let gone = temp.path().join("dayshift-git-4194300-12-3");
        let alive = temp
            .path()
            .join(format!("dayshift-git-{}-12-3", std::process::id()));
        let parent = temp.path().join(format!(
            "dayshift-prompt-{}-1-1",
            std::os::unix::process::parent_id()
        ));
        let other = temp.path().join("dayshift-demo-20261207-060844-18617");
        let unrelated = temp.path().join("notes-99999999-1-1");
        for dir in [&gone, &alive, &parent, &other, &unrelated] {
            std::fs::create_dir_all(dir.join("objects")).unwrap();
        }
        sweep(temp.path(), std::time::Duration::from_secs(3600));
        assert!(gone.exists(), "too young to be swept");
        sweep(temp.path(), std::time::Duration::ZERO);
        assert!(!gone.exists(), "a dead process's directory is swept");
        for kept in [&alive, &parent, &other, &unrelated] {
            assert!(kept.exists(), "{} was swept", kept.display());
        }
        assert_eq!(scratch_pid("dayshift-egress-42-7-0"), Some(42));
        assert_eq!(scratch_pid("dayshift-git-x-7-0"), None);
        assert_eq!(
            scratch_pid("dayshift-notes-42-7-0"),
            None,
            "not a scratch kind"
        );
    }
}
