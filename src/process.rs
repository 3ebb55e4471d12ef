//! The one place dayshift starts other programs.
//!
//! Every child gets an explicit environment (nothing inherited but what the caller
//! allows), a closed stdin (tools that wait on a prompt would hang), its own process group
//! (so a timeout kills the whole tree, grandchildren included), a timeout, and output
//! captured on reader threads with a cap (a chatty tool cannot exhaust memory, and a full
//! pipe cannot deadlock it). The child is waited for on a thread, so a fast command returns
//! the moment it exits; the group is killed whenever [`run`] returns — at the timeout, on
//! [`cancel_all`], or when it unwinds.
//!
//! Cancellation is process-wide: a stopping daemon, or Ctrl-C on a foreground command
//! ([`cancel_on_signals`]), calls [`cancel_all`]; every running child's group is killed within
//! [`CANCEL_CHECK`], and [`cancelled`] tells the caller why its child ended.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Environment variables a child inherits unless the caller says otherwise.
pub const BASE_ENV: [&str; 6] = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

/// What to run.
#[derive(Debug, Clone)]
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub cwd: Option<PathBuf>,
    /// The whole environment of the child.
    pub env: BTreeMap<String, String>,
    pub timeout: Duration,
    /// Bytes kept of stdout and of stderr each (the rest is counted, not kept).
    pub output_cap: usize,
}

impl Spec {
    /// `program args…` with [`BASE_ENV`] from this process, a 60 s timeout and a 1 MiB cap.
    pub fn new(program: impl Into<PathBuf>, args: &[&str]) -> Self {
        let env = BASE_ENV
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        Self {
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            cwd: None,
            env,
            timeout: Duration::from_secs(60),
            output_cap: 1 << 20,
        }
    }

    pub fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// How often a waiting [`run`] looks at the cancellation flag.
pub const CANCEL_CHECK: Duration = Duration::from_millis(100);

static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Stop every child this process runs now or later (the daemon is stopping, or a person
/// pressed Ctrl-C): their groups are killed and [`run`] returns with `cancelled` set.
pub fn cancel_all() {
    CANCELLED.store(true, Ordering::SeqCst);
}

/// Whether [`cancel_all`] was called.
pub fn cancelled() -> bool {
    CANCELLED.load(Ordering::SeqCst)
}

/// For a foreground command: the first SIGINT or SIGTERM calls [`cancel_all`] so the
/// command stops its children and ends cleanly (a task stays resumable); a second one ends
/// the process at once (exit 130). Children run in their own process groups, so without
/// this a Ctrl-C would leave a coding tool running on.
pub fn cancel_on_signals() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, sigaction};
    extern "C" fn on_signal(_: nix::libc::c_int) {
        if CANCELLED.swap(true, Ordering::SeqCst) {
            // SAFETY: _exit is async-signal-safe.
            unsafe { nix::libc::_exit(130) };
        }
    }
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only touches an atomic and calls _exit.
        if let Err(e) = unsafe { sigaction(signal, &action) } {
            tracing::warn!("cannot handle {signal}: {e}");
        }
    }
}

/// How a child ended.
#[derive(Debug, Clone)]
pub struct Output {
    /// `None` when it was killed: past its timeout, or cancelled.
    pub status: Option<ExitStatus>,
    /// Killed because [`cancel_all`] was called.
    pub cancelled: bool,
    pub stdout: String,
    pub stderr: String,
    /// True when output was cut at the cap.
    pub truncated: bool,
    pub elapsed: Duration,
}

impl Output {
    pub fn timed_out(&self) -> bool {
        self.status.is_none() && !self.cancelled
    }

    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot start `{}`: {source}", program.display())]
pub struct SpawnError {
    pub program: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Run to completion (or timeout) and collect the output.
pub fn run(spec: &Spec) -> Result<Output, SpawnError> {
    let started = Instant::now();
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .env_clear()
        .envs(&spec.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    if let Some(dir) = &spec.cwd {
        command.current_dir(dir);
    }
    let mut child = command.spawn().map_err(|source| SpawnError {
        program: spec.program.clone(),
        source,
    })?;
    let guard = GroupGuard(child.id() as i32);
    let stdout = capture(child.stdout.take(), spec.output_cap);
    let stderr = capture(child.stderr.take(), spec.output_cap);
    let (exited, exit) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = exited.send(());
        status
    });
    let killed = loop {
        let left = spec.timeout.saturating_sub(started.elapsed());
        match exit.recv_timeout(left.min(CANCEL_CHECK)) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break None,
            Err(RecvTimeoutError::Timeout) if left.is_zero() => break Some(Killed::TimedOut),
            Err(RecvTimeoutError::Timeout) if self::cancelled() => break Some(Killed::Cancelled),
            Err(RecvTimeoutError::Timeout) => {}
        }
    };
    // kill whatever is left of the group: grandchildren, or the timed-out or cancelled child
    drop(guard);
    let waited = waiter.join().ok().and_then(Result::ok);
    let status = if killed.is_none() { waited } else { None };
    let (stdout, cut_out) = stdout.join().unwrap_or_default();
    let (stderr, cut_err) = stderr.join().unwrap_or_default();
    Ok(Output {
        status,
        cancelled: killed == Some(Killed::Cancelled),
        stdout,
        stderr,
        truncated: cut_out || cut_err,
        elapsed: started.elapsed(),
    })
}

#[derive(Debug, PartialEq)]
enum Killed {
    TimedOut,
    Cancelled,
}

/// Kills the process group when dropped.
struct GroupGuard(i32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        let _ = killpg(Pid::from_raw(self.0), Signal::SIGKILL);
    }
}

fn capture<R: Read + Send + 'static>(pipe: Option<R>, cap: usize) -> JoinHandle<(String, bool)> {
    std::thread::spawn(move || {
        let Some(mut pipe) = pipe else {
            return (String::new(), false);
        };
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        let mut truncated = false;
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = cap.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
            truncated |= n > room;
        }
        (String::from_utf8_lossy(&kept).into_owned(), truncated)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_exit_status() {
        let out = run(&Spec::new("sh", &["-c", "echo out; echo err >&2; exit 3"])).unwrap();
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert_eq!(out.status.and_then(|s| s.code()), Some(3));
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-alive");
        let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
        let out =
            run(&Spec::new("sh", &["-c", &script]).timeout(Duration::from_millis(300))).unwrap();
        assert!(out.timed_out());
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!marker.exists(), "the grandchild outlived the timeout");
    }

    #[test]
    fn output_is_capped_and_env_is_explicit() {
        let mut spec = Spec::new(
            "sh",
            &[
                "-c",
                "yes | head -c 100000; echo \"[$DAYSHIFT_SECRET_PROBE]\" >&2",
            ],
        );
        spec.output_cap = 1000;
        let out = run(&spec).unwrap();
        assert_eq!(out.stdout.len(), 1000);
        assert!(out.truncated);
        assert_eq!(out.stderr, "[]\n");
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let err = run(&Spec::new("/nonexistent/tool", &[])).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/tool"));
    }
}
