//! The one place dayshift starts other programs.
//!
//! Every child gets an explicit environment (nothing inherited but what the caller
//! allows), a closed stdin (tools that wait on a prompt would hang), its own process group
//! (so a timeout kills the whole tree, grandchildren included), a timeout, and output
//! captured on reader threads with a cap (a chatty tool cannot exhaust memory, and a full
//! pipe cannot deadlock it). A [`Child`] dropped early kills its group.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
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

/// How a child ended.
#[derive(Debug, Clone)]
pub struct Output {
    /// `None` when it was killed for running past its timeout.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    /// True when output was cut at the cap.
    pub truncated: bool,
    pub elapsed: Duration,
}

impl Output {
    pub fn timed_out(&self) -> bool {
        self.status.is_none()
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
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= spec.timeout => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    drop(guard); // kill whatever is left of the group: grandchildren, or the timed-out child
    let _ = child.wait();
    let (stdout, cut_out) = stdout.join().unwrap_or_default();
    let (stderr, cut_err) = stderr.join().unwrap_or_default();
    Ok(Output {
        status,
        stdout,
        stderr,
        truncated: cut_out || cut_err,
        elapsed: started.elapsed(),
    })
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
