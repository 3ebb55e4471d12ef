//! Crash-safe file operations.
//!
//! Every file dayshift writes goes through [`write_atomic`]: the bytes land in a temporary
//! file in the same directory, are fsync'd, and the temp file is renamed over the target,
//! then the directory is fsync'd. A crash at any instant leaves either the old file or the
//! new one, never half of either. Temporary files carry the [`TMP_MARKER`] so a later start
//! can sweep the ones a crash left behind ([`sweep_temp_files`]) without touching user files.
//!
//! Reading goes the other way: a file of a tree that a tool may be changing while dayshift
//! reads it is opened through [`Beneath`], which cannot be led out of the tree.

mod beneath;

pub use beneath::Beneath;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Part of every temporary file name; nothing a person writes looks like this.
pub const TMP_MARKER: &str = ".dayshift-tmp.";

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Write `contents` to `path` atomically and durably (temp file + fsync + rename + dir fsync).
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_renamed(path, contents, true)
}

/// Write a cache file: atomically (a reader sees the old file or the new one, never half),
/// but not durably — no fsync, which a scan would wait for. After a power loss the file
/// can come back empty or old; a cache's reader must take that as no cache.
pub fn write_cache(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_renamed(path, contents, false)
}

fn write_renamed(path: &Path, contents: &[u8], durable: bool) -> io::Result<()> {
    let dir = parent_dir(path);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".{name}{TMP_MARKER}{}.{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(contents)?;
        if durable {
            file.sync_all()?;
        }
        drop(file);
        fs::rename(&tmp, path)?;
        if durable { sync_dir(&dir) } else { Ok(()) }
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Move a file with one `rename(2)` and make the move durable in both directories.
/// Refuses to replace an existing destination, so a move can never overwrite a file.
pub fn rename_durable(from: &Path, to: &Path) -> io::Result<()> {
    if to.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} already exists", to.display()),
        ));
    }
    fs::rename(from, to)?;
    sync_dir(&parent_dir(to))?;
    sync_dir(&parent_dir(from))
}

/// Append one line to a log-like file (O_APPEND, one write call, fsync'd).
pub fn append_line(path: &Path, line: &str) -> io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    file.write_all(buf.as_bytes())?;
    file.sync_data()
}

/// Remove temporary files a crash left in `dir` (not recursive). Returns how many went.
/// Only files whose writer is dead go: another process may be mid-write right now.
pub fn sweep_temp_files(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| writer_pid(&e.file_name().to_string_lossy()).is_some_and(|pid| !is_alive(pid)))
        .filter(|e| fs::remove_file(e.path()).is_ok())
        .count()
}

/// The pid embedded in a temp file name (`.<name>.dayshift-tmp.<pid>.<n>`).
fn writer_pid(name: &str) -> Option<i32> {
    let (_, rest) = name.split_once(TMP_MARKER)?;
    rest.split('.').next()?.parse().ok()
}

fn is_alive(pid: i32) -> bool {
    use nix::errno::Errno;
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(Errno::ESRCH) => false,
        Err(_) => true, // exists but not ours to signal
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        // a cache file is replaced the same way, without the flushes
        for write in [write_atomic, write_cache] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("a.md");
            write(&path, b"one").unwrap();
            write(&path, b"two").unwrap();
            assert_eq!(fs::read_to_string(&path).unwrap(), "two");
            assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        }
    }

    #[test]
    fn rename_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, "a").unwrap();
        fs::write(&b, "b").unwrap();
        assert!(rename_durable(&a, &b).is_err());
        assert_eq!(fs::read_to_string(&b).unwrap(), "b");
        assert!(a.exists());
    }

    #[test]
    fn sweep_removes_only_temp_files_of_dead_writers() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        fs::write(dir.path().join("keep.md"), "x").unwrap();
        fs::write(dir.path().join(format!(".a.md{TMP_MARKER}{dead}.0")), "x").unwrap();
        let live = dir
            .path()
            .join(format!(".b.md{TMP_MARKER}{}.0", std::process::id()));
        fs::write(&live, "x").unwrap();
        assert_eq!(sweep_temp_files(dir.path()), 1);
        assert!(dir.path().join("keep.md").exists());
        assert!(live.exists(), "a live writer's temp file stays");
    }
}
