//! The scheduler daemon: one per home, firing the jobs of config/schedules.yaml on time.
//!
//! - [`process`]: the daemon seen from outside — is it running ([`state`]), start it in the
//!   background ([`start_background`]), stop it ([`stop`]). The daemon holds the flock
//!   `.dayshift/lock` for its whole life, so "running" is a question to the kernel, never
//!   to a pid file that a crash could leave behind.
//! - [`serve`]: the daemon itself ([`run_foreground`]): lock, pid file, tokio runtime,
//!   signals, graceful stop.
//! - [`fire`]: what happens when a job is due — paused by STOP, never on top of itself,
//!   one job at a time, run on a blocking thread with a fresh context.
//! - [`schedule`]: the cron timers (tokio-cron-scheduler), [`next_runs`] and the catch-up
//!   of jobs missed while the machine was off (DESIGN §1).
//! - [`watch`]: the task folders watched, debounced, and mirrored into the store.
//!
//! The daemon keeps nothing open between jobs (each run opens its own `Ctx`), so its idle
//! footprint is the runtime, the timers and the watcher.

mod catchup;
mod fire;
mod process;
mod schedule;
mod serve;
mod watch;

use std::time::Duration;

use serde::Serialize;

use crate::jobs::JobName;

pub use process::{start_background, state, stop};
pub use schedule::next_runs;
pub use serve::run_foreground;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("a daemon is already running for this home (pid {pid}); `dayshift stop` stops it")]
    AlreadyRunning { pid: u32 },
    /// The lock is held but the pid file is not written yet: a daemon is starting.
    #[error(
        "a daemon is already running for this home (it is starting and has not written its pid yet); run `dayshift status` in a moment"
    )]
    Starting,
    #[error("no daemon is running for this home; `dayshift start` starts one")]
    NotRunning,
    #[error(
        "the daemon (pid {pid}) is still finishing a job after {}s; wait and check `dayshift status`, or end it now with `kill -9 {pid}` (files are written atomically and the run is marked interrupted at the next start)",
        waited.as_secs()
    )]
    StillRunning { pid: u32, waited: Duration },
    #[error("{0}")]
    Failed(String),
}

/// Whether a daemon runs for a home.
#[derive(Debug, Clone, Serialize)]
pub struct DaemonState {
    pub running: bool,
    /// The daemon's pid, when it runs and has written its pid file.
    pub pid: Option<u32>,
}

/// When a scheduled job fires next.
#[derive(Debug, Clone, Serialize)]
pub struct NextRun {
    pub job: JobName,
    /// The expression as configured.
    pub cron: String,
    /// In the configured zone; `None` when the expression never matches again.
    pub next: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// Hand memory freed by a finished job back to the system, so the idle daemon stays small
/// (glibc keeps freed heap otherwise; reconciling 10,000 tasks would leave it holding ~10 MB).
pub(crate) fn release_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let e = DaemonError::AlreadyRunning { pid: 42 };
        assert_eq!(
            e.to_string(),
            "a daemon is already running for this home (pid 42); `dayshift stop` stops it"
        );
        assert!(
            DaemonError::Starting
                .to_string()
                .contains("already running")
        );
        assert!(
            DaemonError::NotRunning
                .to_string()
                .contains("`dayshift start`")
        );
        let e = DaemonError::StillRunning {
            pid: 7,
            waited: Duration::from_secs(60),
        };
        let text = e.to_string();
        assert!(
            text.contains("pid 7") && text.contains("after 60s") && text.contains("kill -9 7"),
            "{text}"
        );
    }
}
