//! The task queue (DESIGN §4): one markdown file per task, and the folder it is in is its
//! state.
//!
//! - [`id`]: task ids (`T-0007`) and slugs, validated so no name can leave its folder.
//! - [`file`]: a task file's YAML front matter and markdown body, parsed with line numbers
//!   and rendered back; a log line is appended without disturbing what a person wrote.
//! - [`queue`]: the folders — scanning, creating (ids never repeat, even after a crash),
//!   rewriting (temp + fsync + rename) and moving (one `rename(2)`).
//! - [`deps`]: `depends_on` — cycles, missing dependencies and readiness.

pub mod deps;
pub mod file;
pub mod id;
pub mod queue;

use serde::{Deserialize, Serialize};

pub use file::{Checks, Stage, Task, TaskMeta};
pub use id::TaskId;
pub use queue::Queue;

pub use crate::home::TaskState;

use crate::problem::{FileProblem, IoError};

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// A task file that cannot be understood; it stays where it is.
    #[error(transparent)]
    Invalid(#[from] FileProblem),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("no task {0}; `dayshift tasks list` shows the queue")]
    NotFound(String),
    #[error("{id} is {from}; it cannot go to {to} ({hint})")]
    BadMove {
        id: TaskId,
        from: TaskState,
        to: TaskState,
        hint: &'static str,
    },
    #[error("{0}")]
    Refused(String),
}

/// What a task asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    Code,
    Test,
    Research,
    Docs,
    Deploy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Difficulty {
    S,
    M,
    L,
}

/// The reviewer model's verdict on a change, kept in the task file
/// ([`crate::review::model`] asks for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelDecision {
    Approve,
    RequestChanges,
    Escalate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
    Critical,
}

/// A person's decision on a task that needs one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Approval {
    Pending,
    Approved,
    Rejected,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_moves_only() {
        use TaskState::*;
        assert!(Backlog.can_move_to(InProgress));
        assert!(InReview.can_move_to(InProgress));
        assert!(Failed.can_move_to(Backlog));
        assert!(InProgress.can_move_to(Failed));
        assert!(!Completed.can_move_to(Failed));
        assert!(!Backlog.can_move_to(Completed));
        assert_eq!("in-review".parse::<TaskState>(), Ok(InReview));
    }
}
