//! Errors a person can act on.
//!
//! Each subsystem has its own `thiserror` enum (config, vision, tasks, store, daemon); they
//! meet in [`Error`], which the CLI prints as one line and maps to an exit code. Problems in
//! a user's file are a [`FileProblem`]: the file, the line when there is one, what is wrong
//! and what to do, so every message reads `file:line: problem; fix`; a file problem and an
//! I/O failure live below every subsystem, in [`crate::problem`]. The daemon's errors are
//! defined here ([`DaemonError`]) because the daemon runs jobs and so returns `Error` itself.

mod daemon;

pub use daemon::DaemonError;

pub use crate::config::ConfigError;
pub use crate::home::HomeError;
pub use crate::llm::models::ModelsError;
pub use crate::problem::{At, FileProblem, IoContext, IoError};
pub use crate::store::{ReconcileError, StoreError};
pub use crate::tasks::TaskError;
pub use crate::vision::VisionError;

/// Every error a dayshift command can end with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Vision(#[from] VisionError),
    #[error(transparent)]
    Task(#[from] TaskError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Daemon(#[from] DaemonError),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(transparent)]
    Audit(#[from] crate::store::RecordError),
    #[error(transparent)]
    Llm(#[from] crate::llm::LlmError),
    #[error(transparent)]
    Target(#[from] crate::target::TargetError),
    #[error(transparent)]
    Deploy(#[from] crate::deploy::DeployError),
    /// A model call failed, or its answer was unusable twice.
    #[error(transparent)]
    Model(#[from] crate::llm::structured::StructuredError),
    /// A prompt template or another file a person wrote is wrong.
    #[error(transparent)]
    File(#[from] FileProblem),
    /// The command line asked for something that cannot be done as asked (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// A job could not run now, for a reason the message explains (exit code 1).
    #[error("{0}")]
    Refused(String),
    /// Work stopped for a reason outside the task (the model provider is down): the tasks
    /// stay as they were, and the rest of the day waits, but the wrap-up still reports it.
    #[error("{0}")]
    Halted(String),
}

impl Error {
    /// 2 for bad usage, 1 for everything else (DESIGN §5).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// A home that cannot be opened is bad usage (exit code 2); one `init` found already there
/// is refused.
impl From<HomeError> for Error {
    fn from(e: HomeError) -> Self {
        match e {
            HomeError::NotAHome(message) => Error::Usage(message),
            HomeError::AlreadyAHome(message) => Error::Refused(message),
            HomeError::Io(e) => Error::Io(e),
        }
    }
}

impl From<ModelsError> for Error {
    fn from(e: ModelsError) -> Self {
        match e {
            ModelsError::Llm(e) => Error::Llm(e),
            ModelsError::Prompts(e) => Error::File(e),
        }
    }
}

impl From<ReconcileError> for Error {
    fn from(e: ReconcileError) -> Self {
        match e {
            ReconcileError::Task(e) => Error::Task(e),
            ReconcileError::Store(e) => Error::Store(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
