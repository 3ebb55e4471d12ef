//! One measured run of a program: its wall time, its exit code, its own peak resident memory
//! (polled from `/proc/<pid>/status`'s `VmHWM`) and the peak of its whole process tree (the
//! largest of it and the children it waited for, as `wait4` reports it). Its stdout goes to
//! a file, so reading it costs the program nothing.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What one run cost.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub wall: Duration,
    pub exit_code: i32,
    /// The program's own peak RSS in KiB (0 when it ended before the first poll).
    pub own_peak_kb: u64,
    /// The peak RSS of the program or of any child it waited for, in KiB.
    pub tree_peak_kb: u64,
}

/// Runs `command` to its end, stdout into `stdout`, stderr kept in `stderr`.
pub fn measure(mut command: Command, stdout: &Path, stderr: &Path) -> Run {
    let out = File::create(stdout).expect("create the stdout file");
    let err = File::create(stderr).expect("create the stderr file");
    let started = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("start {command:?}: {e}"));
    let pid = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let own_peak = Arc::new(AtomicU64::new(0));
    let poller = {
        let (done, own_peak) = (done.clone(), own_peak.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                if let Some(kb) = vm_hwm_kb(pid) {
                    own_peak.fetch_max(kb, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let (exit_code, tree_peak_kb) = wait4(pid);
    let wall = started.elapsed();
    done.store(true, Ordering::SeqCst);
    poller.join().expect("the memory poller");
    // the child is reaped by wait4 above; std's handle must not wait for it again
    drop(child);
    Run {
        wall,
        exit_code,
        own_peak_kb: own_peak.load(Ordering::SeqCst),
        tree_peak_kb,
    }
}

/// `VmHWM` of a live process, in KiB; `None` once it has ended.
fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reaps `pid`: its exit code (128 + the signal when killed) and `ru_maxrss` in KiB.
fn wait4(pid: u32) -> (i32, u64) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet waited for; both pointers are to live locals.
    let reaped = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(
        reaped,
        pid as libc::pid_t,
        "wait4: {}",
        std::io::Error::last_os_error()
    );
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    (code, usage.ru_maxrss.max(0) as u64)
}
