//! The one place dayshift starts other programs.
//!
//! Every child gets an explicit environment (nothing inherited but what the caller
//! allows), a closed stdin unless the caller gives bytes for it (tools that wait on a
//! prompt would hang), its own process group, `PR_SET_PDEATHSIG(SIGKILL)` (it dies with
//! dayshift), a timeout, and output captured on reader threads with a cap (a chatty tool
//! cannot exhaust memory, and a full pipe cannot deadlock it). The child is waited for on a
//! thread, so a fast command returns the moment it exits; everything the run started — its
//! group, its descendants and whatever carries its marker, `setsid` grandchildren included
//! ([`tree`]) — is killed whenever [`run`] returns: at the end, at the timeout or on
//! [`cancel_all`]. Readers never hold the run past that by more than [`READ_GRACE`].
//! What a dayshift that died (SIGKILL, a crash) left running is found by its run marker and
//! killed by [`kill_orphans`] before a task resumes.
//!
//! Confinement (bubblewrap) is not decided here: [`crate::sandbox`] rewrites a [`Spec`]
//! into a confined one, and this module runs whatever it is given.
//!
//! Cancellation is process-wide: a stopping daemon, or Ctrl-C on a foreground command
//! ([`cancel_on_signals`]), calls [`cancel_all`]; every running child's group is killed within
//! [`CANCEL_CHECK`], and [`cancelled`] tells the caller why its child ended.

mod tree;

pub use tree::kill_orphans;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

/// Environment variables a child inherits unless the caller says otherwise.
pub const BASE_ENV: [&str; 6] = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

/// How this machine reaches the network: proxies and the certificates that go with them
/// (the file or folder each kind of client reads: OpenSSL's, git's, curl's, Python
/// requests' and pip's, Node's). Passed to what dayshift fetches with itself (git's clone,
/// fetch and push; pip in `setup`; the audit tools) — never to a coding tool or the
/// target's commands, which get only what their config names.
pub const NETWORK_ENV: [&str; 15] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_SSL_CAINFO",
    "CURL_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "PIP_CERT",
    "NODE_EXTRA_CA_CERTS",
];

/// Where pip finds packages (a mirror, a private index, its config and certificates).
pub const PIP_ENV: [&str; 7] = [
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_TRUSTED_HOST",
    "PIP_CERT",
    "PIP_CONFIG_FILE",
    "PIP_FIND_LINKS",
    "REQUESTS_CA_BUNDLE",
];

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
    /// Written to the child's stdin on a thread, then closed; `None` gives a closed stdin.
    /// Prompts go here (or in a file), never on the command line, where any process on
    /// the machine can read them in `/proc/<pid>/cmdline`.
    pub stdin: Option<Vec<u8>>,
    /// Hunt down every process of the run when it ends — descendants and `setsid` orphans
    /// too, through `/proc` and a marker variable ([`tree`]) — rather than only its
    /// process group. On by default: anything an agent runs, or that runs an agent's code,
    /// must die with its run. [`Spec::own_tool`] turns it off for dayshift's own programs.
    pub whole_tree: bool,
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
            stdin: None,
            whole_tree: true,
        }
    }

    /// Also pass these variables from this process, where they are set.
    pub fn inherit(mut self, names: &[&str]) -> Self {
        for name in names {
            if let Ok(value) = std::env::var(name) {
                self.env.insert((*name).to_string(), value);
            }
        }
        self
    }

    /// A program that runs no agent's or tree's code and leaves no orphans — dayshift's
    /// own (git, hooks off), an analyzer that only reads the tree
    /// ([`crate::scan::analyzers::Analyzer::leaves_no_orphans`]): killing its process group
    /// suffices, and the `/proc` walk — a scan of every process on the machine while it
    /// runs and when it ends — is spared on the hot path.
    pub fn own_tool(mut self) -> Self {
        self.whole_tree = false;
        self
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

/// For a command that only prints (`status`, `logs`, `tasks list` …): when the reader of
/// its output goes away (`dayshift status | head -1`), end at once with exit 0, as Unix
/// tools do, instead of a "Broken pipe" panic. Never for a command that writes to a child's
/// stdin: a child that exits early would end dayshift.
pub fn exit_quietly_on_broken_pipe() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, sigaction};
    extern "C" fn on_sigpipe(_: nix::libc::c_int) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { nix::libc::_exit(0) };
    }
    let action = SigAction::new(
        SigHandler::Handler(on_sigpipe),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only calls _exit.
    if let Err(e) = unsafe { sigaction(Signal::SIGPIPE, &action) } {
        tracing::warn!("cannot handle SIGPIPE: {e}");
    }
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
///
/// Whatever the child started is killed when this returns (see [`tree`]); output readers
/// get [`READ_GRACE`] after that and then the run returns with what was read, so a process
/// that escaped with the pipe open cannot hold the caller past its deadline.
pub fn run(spec: &Spec) -> Result<Output, SpawnError> {
    let started = Instant::now();
    let marker = spec.whole_tree.then(tree::marker);
    let mut command = Command::new(&spec.program);
    command.args(&spec.args).env_clear().envs(&spec.env);
    if let Some(marker) = &marker {
        command.env(tree::MARKER_ENV, marker);
    }
    command
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let parent = std::process::id() as nix::libc::pid_t;
    // SAFETY: prctl and getppid are async-signal-safe and touch no memory of the parent.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
            // the child dies with the thread that started it (this one waits for it), so a
            // crash of dayshift cannot leave a tool writing into a worktree
            if nix::libc::prctl(nix::libc::PR_SET_PDEATHSIG, nix::libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // dayshift died before the line above: nobody would kill this child
            if nix::libc::getppid() != parent {
                return Err(std::io::Error::other("dayshift exited while starting it"));
            }
            Ok(())
        });
    }
    if let Some(dir) = &spec.cwd {
        command.current_dir(dir);
    }
    let mut child = spawn(&mut command).map_err(|source| SpawnError {
        program: spec.program.clone(),
        source,
    })?;
    let pid = child.id() as i32;
    let mut family = marker.map(|marker| tree::Family::new(pid, marker));
    if let (Some(mut pipe), Some(bytes)) = (child.stdin.take(), spec.stdin.clone()) {
        // a thread, so a child that never reads cannot block the run; the pipe closes when
        // it is done (or when the child is gone)
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let stdout = Capture::start(child.stdout.take(), spec.output_cap);
    let stderr = Capture::start(child.stderr.take(), spec.output_cap);
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
            Err(RecvTimeoutError::Timeout) => family.iter_mut().for_each(tree::Family::collect),
        }
    };
    // kill whatever is left of the run: grandchildren (setsid ones too), or the timed-out
    // or cancelled child
    match &mut family {
        Some(family) => family.kill_all(),
        None => {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    let waited = waiter.join().ok().and_then(Result::ok);
    let status = if killed.is_none() { waited } else { None };
    let deadline = Instant::now() + READ_GRACE;
    let (stdout, cut_out) = stdout.finish(deadline);
    let (stderr, cut_err) = stderr.finish(deadline);
    Ok(Output {
        status,
        cancelled: killed == Some(Killed::Cancelled),
        stdout,
        stderr,
        truncated: cut_out || cut_err,
        elapsed: started.elapsed(),
    })
}

/// How long output readers may go on after the run's processes are killed: what a pipe
/// still buffers is read in microseconds, so this only matters when something escaped.
pub const READ_GRACE: Duration = Duration::from_millis(200);

/// Spawn, retrying a few times on ETXTBSY: a script written just now can be "busy" for a
/// moment while another thread of this process forks with the script's fd still open.
fn spawn(command: &mut Command) -> std::io::Result<std::process::Child> {
    let mut tries = 0;
    loop {
        match command.spawn() {
            Err(e) if e.raw_os_error() == Some(nix::libc::ETXTBSY) && tries < 5 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20 * tries));
            }
            other => return other,
        }
    }
}

#[derive(Debug, PartialEq)]
enum Killed {
    TimedOut,
    Cancelled,
}

/// One pipe read on a thread into a shared buffer, so the run can stop waiting for it.
struct Capture {
    kept: Arc<Mutex<(Vec<u8>, bool)>>,
    done: mpsc::Receiver<()>,
}

impl Capture {
    fn start<R: Read + Send + 'static>(pipe: Option<R>, cap: usize) -> Self {
        let kept = Arc::new(Mutex::new((Vec::new(), false)));
        let (tx, done) = mpsc::channel();
        let shared = Arc::clone(&kept);
        std::thread::spawn(move || {
            let Some(mut pipe) = pipe else {
                return;
            };
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut kept = shared.lock().unwrap_or_else(|e| e.into_inner());
                let room = cap.saturating_sub(kept.0.len());
                kept.0.extend_from_slice(&buf[..n.min(room)]);
                kept.1 |= n > room;
            }
            drop(tx);
        });
        Self { kept, done }
    }

    /// What was read by `deadline` (or by the end of the pipe, if sooner).
    fn finish(self, deadline: Instant) -> (String, bool) {
        let _ = self
            .done
            .recv_timeout(deadline.saturating_duration_since(Instant::now()));
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        (String::from_utf8_lossy(&kept.0).into_owned(), kept.1)
    }
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
    fn an_own_tool_still_takes_its_process_group_with_it_and_carries_no_marker() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-alive");
        let script = format!(
            "echo \"[$DAYSHIFT_RUN]\"; (sleep 1; touch {}) >/dev/null 2>&1 &",
            marker.display()
        );
        let out = run(&Spec::new("sh", &["-c", &script]).own_tool()).unwrap();
        assert!(out.success());
        assert_eq!(out.stdout, "[]\n", "no run marker for dayshift's own tools");
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!marker.exists(), "the background job outlived its run");
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

    /// Whether any process carries `word` on its command line (the test's own tag).
    fn running(word: &str) -> bool {
        std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(word))
        })
    }

    #[test]
    fn a_setsid_grandchild_holding_stdout_neither_delays_the_run_nor_outlives_it() {
        let tag = format!("{}", 600 + std::process::id() % 1000);
        // the grandchild leaves the group (setsid), keeps stdout open and sleeps on
        let script = format!("setsid sleep {tag}.1 & echo started; sleep 30");
        let out = run(&Spec::new("sh", &["-c", &script]).timeout(Duration::from_secs(1))).unwrap();
        assert!(out.timed_out());
        assert!(out.elapsed < Duration::from_secs(2), "{:?}", out.elapsed);
        assert_eq!(out.stdout, "started\n");
        assert!(
            !running(&format!("sleep {tag}.1")),
            "the setsid grandchild survived"
        );
        // and when the child ends by itself, an orphaned setsid process still goes with it
        let script = format!("setsid sh -c 'sleep {tag}.2' & echo done");
        let out = run(&Spec::new("sh", &["-c", &script])).unwrap();
        assert!(out.success() && out.elapsed < Duration::from_secs(2));
        std::thread::sleep(Duration::from_millis(100));
        assert!(!running(&format!("sleep {tag}.2")), "the orphan survived");
    }

    #[test]
    fn stdin_bytes_reach_the_child_and_are_not_on_its_command_line() {
        let mut spec = Spec::new("sh", &["-c", "cat; cat /proc/$$/cmdline"]);
        let prompt = "a long prompt\n".repeat(20_000);
        spec.stdin = Some(prompt.clone().into_bytes());
        let out = run(&spec).unwrap();
        assert!(out.success());
        assert!(out.stdout.starts_with(&prompt));
        assert!(!out.stdout[prompt.len()..].contains("a long prompt"));
        // a child that never reads its stdin still ends
        let mut spec = Spec::new("true", &[]);
        spec.stdin = Some(vec![b'x'; 1 << 20]);
        assert!(run(&spec).unwrap().success());
    }

    #[test]
    fn orphans_of_a_dayshift_that_is_gone_are_killed_and_live_runs_are_not() {
        let spawn = |marker: &str| {
            Command::new("sleep")
                .arg("30")
                .env(tree::MARKER_ENV, marker)
                .spawn()
                .unwrap()
        };
        // no process has pid 0: this owner is gone
        let mut orphan = spawn("0.0-0");
        let mut live = spawn(&tree::marker());
        std::thread::sleep(Duration::from_millis(50));
        assert!(kill_orphans() >= 1);
        let status = orphan.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "the orphan was killed"
        );
        assert!(
            live.try_wait().unwrap().is_none(),
            "a live run was left alone"
        );
        live.kill().unwrap();
        live.wait().unwrap();
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let err = run(&Spec::new("/nonexistent/tool", &[])).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/tool"));
    }
}
