//! The home guard: what an agent's process changed in the home while it ran.
//!
//! The sandbox keeps the coding tool and the target's checks out of the home; this guard
//! is the defence that holds without it (`sandbox.mode: best_effort` on a machine with no
//! confinement, or `off`), and is off when the run is confined. Unconfined, it cannot tell
//! an agent from a person who edits the home during the run, so a person's edit is treated
//! the same way: put back, and kept in the quarantine (docs/security.md says so). Around every agent run — the engine, and the checks that run the
//! code it wrote — it records the files a person or dayshift owns and no agent may touch:
//! VISION.md and the other top-level markdown, `config/` (policy, keys), `tasks/`
//! (approvals, other tasks), `reports/`, and the state that decides what counts as a
//! failure or an id (`.dayshift/qa/`, `.dayshift/feedback/`, `.dayshift/snapshots/`,
//! `.dayshift/planner/`, the task counter). After the run each file must be as it was: the
//! same inode, size, mtime and ctime (ctime cannot be set back from user space, so a
//! rewrite that restores the mtime is still seen), or else the same bytes and mode. One
//! guard serves a task's runs: between them it takes in dayshift's own writes, reading
//! again only the files whose stamp moved.
//!
//! On a difference the guard puts the person's version back, keeps the agent's version in
//! `.dayshift/quarantine/<time>/` (nothing is lost, not even a person's concurrent edit)
//! and names every path, and the work loop fails the task: an agent that writes where it
//! must not is not retried. What the guard cannot restore it still reports: state.db and
//! the logs are written by dayshift itself during a run, so they are not watched (the
//! sandbox is what protects them; docs/security.md says so).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::fsx;
use crate::home::Home;

/// Files above this size are compared by metadata only (and then cannot be restored).
const KEEP_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    mode: u32,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Self {
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        Self {
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
            mode: meta.mode(),
        }
    }
}

#[derive(Debug, Clone)]
struct Kept {
    stamp: Stamp,
    /// The bytes, for files small enough to restore (shared with the next record while
    /// the file is unchanged).
    bytes: Option<Arc<[u8]>>,
}

impl Kept {
    /// The same inode, size, mtime and ctime; or, where those moved but both were read,
    /// the same bytes and mode (a file rewritten as it was).
    fn same_as(&self, before: &Kept) -> bool {
        if self.stamp == before.stamp {
            return true;
        }
        match (&self.bytes, &before.bytes) {
            (Some(now), Some(then)) => now == then && self.stamp.mode == before.stamp.mode,
            _ => false,
        }
    }
}

/// The watched files of a home at one moment.
#[derive(Debug)]
pub struct HomeGuard {
    root: PathBuf,
    quarantine: PathBuf,
    /// `None` when the run is confined: the agent cannot see the home, and a person may
    /// edit it while work runs (a config change is then reported and applies next run).
    files: Option<BTreeMap<PathBuf, Kept>>,
}

/// What an agent changed in the home; the person's versions are back in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tampered {
    /// Relative to the home: `config/policy.yaml (changed)`, `reports/x.md (added)`.
    pub paths: Vec<String>,
    /// Where the agent's versions were kept.
    pub kept_in: PathBuf,
    /// Paths that could not be put back (too large, or an I/O error), with why.
    pub unrestored: Vec<String>,
}

impl std::fmt::Display for Tampered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "an agent's process wrote into the home, where no agent may write: {}; the person's versions were put back and the agent's kept in {}",
            self.paths.join(", "),
            self.kept_in.display()
        )?;
        if !self.unrestored.is_empty() {
            write!(
                f,
                "; NOT restored (check by hand): {}",
                self.unrestored.join(", ")
            )?;
        }
        Ok(())
    }
}

impl HomeGuard {
    /// Record the watched files of `home` now — unless the agents' runs are `confined`,
    /// when the guard records nothing and always verifies.
    pub fn new(home: &Home, confined: bool) -> std::io::Result<Self> {
        let mut guard = Self {
            quarantine: home.state_dir().join("quarantine"),
            root: home.root().to_path_buf(),
            files: (!confined).then(BTreeMap::new),
        };
        guard.record(home)?;
        Ok(guard)
    }

    /// Take in what changed since the last record (dayshift's own writes between agent
    /// runs): only files whose stamp moved are read again, so a record costs a `stat` per
    /// file in the usual case.
    pub fn record(&mut self, home: &Home) -> std::io::Result<()> {
        if let Some(files) = &self.files {
            let mut now = BTreeMap::new();
            for path in watched(home) {
                collect(&path, files, &mut now)?;
            }
            self.files = Some(now);
        }
        Ok(())
    }

    /// Compare with now; put back what changed and remove what was added (both kept in the
    /// quarantine first). `Ok(())` when nothing changed.
    pub fn verify(&self, home: &Home) -> Result<(), Tampered> {
        let Some(files) = &self.files else {
            return Ok(());
        };
        let mut now = BTreeMap::new();
        for path in watched(home) {
            if let Err(e) = collect(&path, files, &mut now) {
                tracing::warn!("home guard: cannot read {}: {e}", path.display());
            }
        }
        let mut changes: Vec<(PathBuf, Change)> = Vec::new();
        for (path, kept) in files {
            match now.get(path) {
                None => changes.push((path.clone(), Change::Removed)),
                Some(current) if !current.same_as(kept) => {
                    changes.push((path.clone(), Change::Changed))
                }
                Some(_) => {}
            }
        }
        for path in now.keys().filter(|p| !files.contains_key(*p)) {
            changes.push((path.clone(), Change::Added));
        }
        if changes.is_empty() {
            return Ok(());
        }
        changes.sort();
        let kept_in = self
            .quarantine
            .join(chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string());
        let mut tampered = Tampered {
            paths: Vec::new(),
            kept_in: kept_in.clone(),
            unrestored: Vec::new(),
        };
        for (path, change) in changes {
            let rel = path.strip_prefix(&self.root).unwrap_or(&path);
            tampered
                .paths
                .push(format!("{} ({})", rel.display(), change.word()));
            if let Err(why) = self.undo(&path, rel, change, &kept_in) {
                tampered
                    .unrestored
                    .push(format!("{}: {why}", rel.display()));
            }
        }
        Err(tampered)
    }

    /// Keep the agent's version aside, then put the person's back (or remove an added
    /// file). A changed file too large to have been kept stays as the agent left it.
    fn undo(&self, path: &Path, rel: &Path, change: Change, kept_in: &Path) -> Result<(), String> {
        let kept = (self.files.as_ref())
            .and_then(|files| files.get(path))
            .and_then(|k| k.bytes.as_ref().map(|b| (b, k.stamp.mode)));
        if change != Change::Removed {
            let aside = kept_in.join(rel);
            if let Some(dir) = aside.parent() {
                fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            }
            let restorable = change == Change::Added || kept.is_some();
            let moved = if restorable {
                fs::rename(path, &aside)
            } else {
                Err(std::io::ErrorKind::Unsupported.into())
            };
            moved
                .or_else(|_| fs::copy(path, &aside).map(|_| ()))
                .map_err(|e| format!("cannot keep the agent's version: {e}"))?;
        }
        if change == Change::Added {
            return match fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                _ => Ok(()),
            };
        }
        let Some((bytes, mode)) = kept else {
            return Err(
                "too large to have been kept: the agent's version is still in place".into(),
            );
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        fsx::write_atomic(path, bytes).map_err(|e| e.to_string())?;
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7777))
            .map_err(|e| e.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    Changed,
    Added,
    Removed,
}

impl Change {
    fn word(self) -> &'static str {
        match self {
            Change::Changed => "changed",
            Change::Added => "added",
            Change::Removed => "removed",
        }
    }
}

/// The files and folders no agent may write.
fn watched(home: &Home) -> Vec<PathBuf> {
    let root = home.root();
    let state = home.state_dir();
    let mut paths: Vec<PathBuf> = ["VISION.md", "PROGRESS.md", "DAILY_PLAN.md", "ROADMAP.md"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    paths.extend(
        ["config", "tasks", "reports", "templates"]
            .iter()
            .map(|d| root.join(d)),
    );
    paths.extend(
        ["qa", "feedback", "snapshots", "planner"]
            .iter()
            .map(|d| state.join(d)),
    );
    paths.push(home.task_counter());
    paths
}

/// Every regular file and symlink at or under `path` (nothing when it does not exist); a
/// file whose stamp is as in `known` is not read again.
fn collect(
    path: &Path,
    known: &BTreeMap<PathBuf, Kept>,
    out: &mut BTreeMap<PathBuf, Kept>,
) -> std::io::Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            collect(&entry?.path(), known, out)?;
        }
        return Ok(());
    }
    let stamp = Stamp::of(&meta);
    if let Some(kept) = known.get(path).filter(|k| k.stamp == stamp) {
        out.insert(path.to_path_buf(), kept.clone());
        return Ok(());
    }
    let bytes = if meta.is_file() && meta.size() <= KEEP_BYTES {
        match fs::read(path) {
            Ok(bytes) => Some(Arc::from(bytes)),
            // removed between the listing and the read: seen as removed next time
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    out.insert(path.to_path_buf(), Kept { stamp, bytes });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home() -> (tempfile::TempDir, Home) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("home"), "UTC").unwrap();
        (dir, home)
    }

    #[test]
    fn a_confined_run_is_not_watched() {
        let (_dir, home) = home();
        let guard = HomeGuard::new(&home, true).unwrap();
        fs::write(home.config_file("policy.yaml"), "auto_merge: none\n").unwrap();
        assert_eq!(guard.verify(&home), Ok(()));
    }

    #[test]
    fn an_untouched_home_passes() {
        let (_dir, home) = home();
        let guard = HomeGuard::new(&home, false).unwrap();
        // dayshift's own state that an agent run may change is not watched
        fs::write(home.state_dir().join("state.db-journal"), "x").unwrap();
        assert_eq!(guard.verify(&home), Ok(()));
    }

    #[test]
    fn changes_are_undone_and_the_agents_versions_kept() {
        let (_dir, home) = home();
        let policy = home.config_file("policy.yaml");
        let person = fs::read_to_string(&policy).unwrap();
        let task = home.tasks_dir().join("in_review/T-0001-x.md");
        fs::write(&task, "approval: pending\n").unwrap();
        let guard = HomeGuard::new(&home, false).unwrap();

        fs::write(&policy, "auto_merge: medium\n").unwrap();
        fs::write(&task, "approval: approved\n").unwrap();
        fs::write(home.root().join("reports/forged.md"), "forged").unwrap();
        fs::remove_file(home.vision()).unwrap();

        let tampered = guard.verify(&home).unwrap_err();
        assert_eq!(
            tampered.paths,
            vec![
                "VISION.md (removed)",
                "config/policy.yaml (changed)",
                "reports/forged.md (added)",
                "tasks/in_review/T-0001-x.md (changed)",
            ]
        );
        assert!(tampered.unrestored.is_empty(), "{tampered}");
        assert_eq!(fs::read_to_string(&policy).unwrap(), person);
        assert_eq!(fs::read_to_string(&task).unwrap(), "approval: pending\n");
        assert!(home.vision().exists());
        assert!(!home.root().join("reports/forged.md").exists());
        let kept = &tampered.kept_in;
        assert_eq!(
            fs::read_to_string(kept.join("config/policy.yaml")).unwrap(),
            "auto_merge: medium\n"
        );
        assert_eq!(
            fs::read_to_string(kept.join("reports/forged.md")).unwrap(),
            "forged"
        );
        // once undone, the home is as the person left it
        assert_eq!(guard.verify(&home), Ok(()));
    }

    #[test]
    fn a_rewrite_with_the_same_bytes_size_and_mtime_is_still_seen() {
        let (_dir, home) = home();
        let big = home.root().join("reports/big.md");
        fs::write(&big, vec![b'a'; (KEEP_BYTES + 1) as usize]).unwrap();
        let mtime = fs::metadata(&big).unwrap().modified().unwrap();
        let guard = HomeGuard::new(&home, false).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(&big, vec![b'b'; (KEEP_BYTES + 1) as usize]).unwrap();
        fs::File::options()
            .write(true)
            .open(&big)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let tampered = guard.verify(&home).unwrap_err();
        assert_eq!(tampered.paths, vec!["reports/big.md (changed)"]);
        assert_eq!(
            tampered.unrestored.len(),
            1,
            "too large to restore: said so"
        );
    }
}
