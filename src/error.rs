//! Errors a person can act on.
//!
//! Each subsystem has its own `thiserror` enum (config, vision, tasks, store, daemon); they
//! meet in [`Error`], which the CLI prints as one line and maps to an exit code. Problems in
//! a user's file are a [`FileProblem`]: the file, the line when there is one, what is wrong
//! and what to do, so every message reads `file:line: problem; fix`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

pub use crate::config::ConfigError;
pub use crate::daemon::DaemonError;
pub use crate::store::StoreError;
pub use crate::tasks::TaskError;
pub use crate::vision::VisionError;

/// A place in a user's file: `path` or `path:line`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct At {
    pub file: PathBuf,
    pub line: Option<u64>,
}

impl At {
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            line: None,
        }
    }

    pub fn line(file: impl Into<PathBuf>, line: u64) -> Self {
        Self {
            file: file.into(),
            line: Some(line),
        }
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// Something wrong in a file a person edits, with the fix.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{at}: {problem}; {fix}")]
pub struct FileProblem {
    pub at: At,
    pub problem: String,
    pub fix: String,
}

impl FileProblem {
    pub fn new(at: At, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            at,
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// An I/O failure on a named path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct IoError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Attach the path to an `io::Result`.
pub trait IoContext<T> {
    fn at_path(self, path: &Path) -> Result<T, IoError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at_path(self, path: &Path) -> Result<T, IoError> {
        self.map_err(|source| IoError {
            path: path.to_path_buf(),
            source,
        })
    }
}

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

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_problem_reads_as_one_line_with_file_line_and_fix() {
        let p = FileProblem::new(
            At::line("VISION.md", 4),
            "unknown priority `SOMEDAY`",
            "use critical, high, medium or low",
        );
        assert_eq!(
            p.to_string(),
            "VISION.md:4: unknown priority `SOMEDAY`; use critical, high, medium or low"
        );
        let p = FileProblem::new(At::file("x.yaml"), "empty", "fill it");
        assert_eq!(p.to_string(), "x.yaml: empty; fill it");
    }
}
