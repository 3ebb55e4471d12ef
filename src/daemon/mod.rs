//! The scheduler daemon (being written; see the interface below).

use serde::Serialize;

use crate::home::Home;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("a daemon is already running for this home (pid {pid}); `dayshift stop` stops it")]
    AlreadyRunning { pid: u32 },
    #[error("no daemon is running for this home; `dayshift start` starts one")]
    NotRunning,
    #[error("{0}")]
    Failed(String),
}

/// Whether a daemon runs for a home.
#[derive(Debug, Clone, Serialize)]
pub struct DaemonState {
    pub running: bool,
    pub pid: Option<u32>,
}

pub fn state(_home: &Home) -> DaemonState {
    DaemonState { running: false, pid: None }
}
