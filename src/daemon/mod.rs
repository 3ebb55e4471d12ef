//! The scheduler daemon.

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{0}")]
    AlreadyRunning(String),
}
