//! The daemon seen from outside: is it running, start it detached, stop it.
//!
//! "Running" means "some process holds `.dayshift/lock`" (flock, released by the kernel
//! when its holder dies), so a crashed daemon never looks alive. The pid file only says
//! *which* process that is; it is written once the daemon is ready and removed on a clean
//! exit, and a leftover one is ignored while the lock is free.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{DaemonError, DaemonState};
use crate::error::{IoContext, Result};
use crate::fsx;
use crate::home::Home;
use crate::lockfile;

/// How long `start` waits for the daemon to say it is ready.
const START_WAIT: Duration = Duration::from_secs(10);
/// Lines of `logs/daemon.out` shown when the daemon dies at start.
const TAIL_LINES: usize = 15;

pub fn state(home: &Home) -> DaemonState {
    let running = lockfile::is_held(&home.daemon_lock());
    DaemonState {
        running,
        pid: if running { read_pid(home) } else { None },
    }
}

/// The pid in the pid file, if there is a readable one.
pub(super) fn read_pid(home: &Home) -> Option<u32> {
    fs::read_to_string(home.pid_file())
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub(super) fn write_pid(home: &Home) -> Result<()> {
    let path = home.pid_file();
    Ok(fsx::write_atomic(&path, format!("{}\n", std::process::id()).as_bytes()).at_path(&path)?)
}

/// Remove the pid file if it names this process (a newer daemon's file is left alone).
pub(super) fn remove_own_pid(home: &Home) {
    if read_pid(home) == Some(std::process::id()) {
        let _ = fs::remove_file(home.pid_file());
    }
}

/// The refusal for a home whose lock is held.
pub(super) fn already_running(home: &Home) -> DaemonError {
    match read_pid(home) {
        Some(pid) => DaemonError::AlreadyRunning { pid },
        None => DaemonError::Starting,
    }
}

/// `logs/daemon.out`: the daemon's stdout and stderr when it runs in the background.
pub fn out_file(home: &Home) -> PathBuf {
    home.logs_dir().join("daemon.out")
}

pub fn start_background(home: &Home) -> Result<u32> {
    if lockfile::is_held(&home.daemon_lock()) {
        return Err(already_running(home).into());
    }
    // A pid file left by a daemon that died: it names no daemon, so it goes.
    let _ = fs::remove_file(home.pid_file());
    let root = home.root();
    let exe = std::env::current_exe().map_err(|e| {
        DaemonError::Failed(format!(
            "cannot find the dayshift binary to start the daemon: {e}"
        ))
    })?;
    let out_path = out_file(home);
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&out_path)
        .at_path(&out_path)?;
    let mark = out.metadata().map_or(0, |m| m.len());
    let err = out.try_clone().at_path(&out_path)?;
    let mut command = Command::new(&exe);
    command
        .arg("--home")
        .arg(root)
        .args(["start", "--foreground"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    // SAFETY: setsid(2) is async-signal-safe and touches no memory of the parent; it puts
    // the daemon in its own session, away from the terminal's hang-up and Ctrl-C.
    unsafe {
        command.pre_exec(|| nix::unistd::setsid().map(|_| ()).map_err(io::Error::from));
    }
    let mut child = command
        .spawn()
        .map_err(|e| DaemonError::Failed(format!("cannot start {}: {e}", exe.display())))?;
    let pid = child.id();
    let deadline = Instant::now() + START_WAIT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let tail = tail_since(&out_path, mark);
            return Err(DaemonError::Failed(format!(
                "the daemon exited at start ({status}); the last lines of {}:\n{tail}",
                home.display_path(&out_path)
            ))
            .into());
        }
        // The pid file is written once the daemon holds the lock and its timers are set.
        if read_pid(home) == Some(pid) && lockfile::is_held(&home.daemon_lock()) {
            return Ok(pid);
        }
        if Instant::now() >= deadline {
            return Err(DaemonError::Failed(format!(
                "the daemon (pid {pid}) did not report ready within {}s; see {} and `dayshift status`",
                START_WAIT.as_secs(),
                home.display_path(&out_path)
            ))
            .into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn stop(home: &Home, wait: Duration) -> Result<u32> {
    let lock = home.daemon_lock();
    if !lockfile::is_held(&lock) {
        return Err(DaemonError::NotRunning.into());
    }
    let pid = read_pid(home).ok_or(DaemonError::Starting)?;
    let raw = i32::try_from(pid).map_err(|_| {
        DaemonError::Failed(format!(
            "{}: pid {pid} is not valid; remove the file and retry",
            home.pid_file().display()
        ))
    })?;
    match kill(Pid::from_raw(raw), Signal::SIGTERM) {
        Ok(()) | Err(Errno::ESRCH) => {}
        Err(Errno::EPERM) => {
            return Err(DaemonError::Failed(format!(
                "the daemon (pid {pid}) belongs to another user; stop it as that user"
            ))
            .into());
        }
        Err(e) => {
            return Err(
                DaemonError::Failed(format!("cannot signal the daemon (pid {pid}): {e}")).into(),
            );
        }
    }
    if wait_until_free(&lock, wait) {
        Ok(pid)
    } else {
        Err(DaemonError::StillRunning { pid, waited: wait }.into())
    }
}

/// Poll until nobody holds the lock at `path`; false when `wait` ran out first.
fn wait_until_free(path: &Path, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(20);
    loop {
        if !lockfile::is_held(path) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// The last lines written to `path` after byte `mark`.
fn tail_since(path: &Path, mark: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let _ = file
            .seek(SeekFrom::Start(mark))
            .and_then(|_| file.read_to_string(&mut text));
    }
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
    if tail.trim().is_empty() {
        "(nothing was written)".to_string()
    } else {
        tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::FileLock;

    fn home() -> (tempfile::TempDir, Home) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("h"), "UTC").unwrap();
        (dir, home)
    }

    #[test]
    fn a_leftover_pid_file_without_the_lock_is_not_a_daemon() {
        let (_dir, home) = home();
        fs::write(home.pid_file(), "999999\n").unwrap();
        let s = state(&home);
        assert!(!s.running && s.pid.is_none(), "{s:?}");
        let err = stop(&home, Duration::from_millis(10)).unwrap_err();
        assert!(
            matches!(err, crate::Error::Daemon(DaemonError::NotRunning)),
            "{err}"
        );
    }

    #[test]
    fn a_held_lock_is_running_with_the_pid_of_the_file() {
        let (_dir, home) = home();
        let _lock = FileLock::try_acquire(&home.daemon_lock()).unwrap().unwrap();
        assert!(matches!(already_running(&home), DaemonError::Starting));
        write_pid(&home).unwrap();
        let s = state(&home);
        assert!(s.running);
        assert_eq!(s.pid, Some(std::process::id()));
        assert!(
            matches!(already_running(&home), DaemonError::AlreadyRunning { pid } if pid == std::process::id())
        );
        remove_own_pid(&home);
        assert!(!home.pid_file().exists());
    }

    #[test]
    fn the_tail_shows_only_what_this_start_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daemon.out");
        fs::write(&path, "old line\n").unwrap();
        let mark = fs::metadata(&path).unwrap().len();
        assert_eq!(tail_since(&path, mark), "(nothing was written)");
        fs::write(&path, "old line\nerror: config/agents.yaml:3: bad\n").unwrap();
        assert_eq!(tail_since(&path, mark), "error: config/agents.yaml:3: bad");
    }

    #[test]
    fn waiting_for_a_held_lock_times_out_and_a_free_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        assert!(wait_until_free(&path, Duration::from_millis(10)));
        let _held = FileLock::try_acquire(&path).unwrap().unwrap();
        assert!(!wait_until_free(&path, Duration::from_millis(60)));
    }
}
