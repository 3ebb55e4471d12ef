//! Problems every subsystem reports, below all of them: a place in a user's file ([`At`]),
//! what is wrong there and the fix ([`FileProblem`]), and an I/O failure on a named path
//! ([`IoError`], attached with [`IoContext`]). [`crate::error`] re-exports them; a subsystem
//! imports them from here so it never imports the error that wraps it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

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
