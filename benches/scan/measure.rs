//! One measured run of a program: its wall time, its exit code, its own peak resident memory
//! and the peak of its whole process tree (the largest of it and the programs it started),
//! both polled every 5 ms from `/proc/<pid>/status`'s `VmHWM` (`wait4`'s `ru_maxrss` would
//! count the benchmark's own memory, copied at the fork). Its stdout goes to a file, so
//! reading it costs the program nothing.

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
    /// The largest peak RSS of the program and of the programs it started, in KiB.
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
    let tree_peak = Arc::new(AtomicU64::new(0));
    let poller = {
        let (done, own_peak, tree_peak) = (done.clone(), own_peak.clone(), tree_peak.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                if let Some(kb) = vm_hwm_kb(pid) {
                    own_peak.fetch_max(kb, Ordering::SeqCst);
                }
                for descendant in descendants(pid) {
                    if let Some(kb) = vm_hwm_kb(descendant) {
                        tree_peak.fetch_max(kb, Ordering::SeqCst);
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let exit_code = wait(pid);
    let wall = started.elapsed();
    done.store(true, Ordering::SeqCst);
    poller.join().expect("the memory poller");
    // the child is reaped by waitpid above; std's handle must not wait for it again
    drop(child);
    Run {
        wall,
        exit_code,
        own_peak_kb: own_peak.load(Ordering::SeqCst),
        tree_peak_kb: tree_peak
            .load(Ordering::SeqCst)
            .max(own_peak.load(Ordering::SeqCst)),
    }
}

/// `VmHWM` of a live process, in KiB; `None` once it has ended.
fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Every live process started by `pid`, and by those, through their threads' `children`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut parents = vec![pid];
    while let Some(parent) = parents.pop() {
        let tasks = std::fs::read_dir(format!("/proc/{parent}/task"))
            .into_iter()
            .flatten();
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            let children = children.split_whitespace().filter_map(|c| c.parse().ok());
            for child in children {
                found.push(child);
                parents.push(child);
            }
        }
    }
    found
}

/// Reaps `pid`: its exit code (128 + the signal when killed).
fn wait(pid: u32) -> i32 {
    let mut status = 0;
    // SAFETY: pid is our child, not yet waited for; status is a live local.
    let reaped = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
    assert_eq!(
        reaped,
        pid as libc::pid_t,
        "waitpid: {}",
        std::io::Error::last_os_error()
    );
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}
