//! What can stop the daemon's own commands (start, stop, status): another daemon, none, or
//! one that does not end. Defined here, below the daemon, because [`super::Error`] wraps it
//! and the daemon returns `Error` (it runs jobs); [`crate::daemon`] re-exports it.

use std::time::Duration;

/// Why a daemon command could not do what it was asked.
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
