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
//! - [`tell`]: the daemon's start, stop and crash recovery audited (and so told to the
//!   channels that want them), and the notification outbox sent every few minutes.
//!
//! The daemon keeps nothing open between jobs (each run opens its own `Ctx`), so its idle
//! footprint is the runtime, the timers and the watcher.

mod catchup;
mod fire;
mod process;
mod schedule;
mod serve;
mod tell;
mod watch;

use serde::Serialize;

use crate::jobs::JobName;

pub use process::{start_background, state, stop};
pub use schedule::next_runs;
pub use serve::run_foreground;

pub use crate::error::DaemonError;

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
