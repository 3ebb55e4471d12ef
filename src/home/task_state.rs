//! The states of a task and the folders under `tasks/` that hold them: the folder a task
//! file is in is its state (DESIGN §4). Part of the home's layout; [`crate::tasks`]
//! re-exports it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a task is in its life; each state is a folder under tasks/.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Backlog,
    InProgress,
    InReview,
    Completed,
    Failed,
}

impl TaskState {
    pub const ALL: [TaskState; 5] = [
        TaskState::Backlog,
        TaskState::InProgress,
        TaskState::InReview,
        TaskState::Completed,
        TaskState::Failed,
    ];

    pub fn folder(self) -> &'static str {
        match self {
            TaskState::Backlog => "backlog",
            TaskState::InProgress => "in_progress",
            TaskState::InReview => "in_review",
            TaskState::Completed => "completed",
            TaskState::Failed => "failed",
        }
    }

    pub fn from_folder(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.folder() == name)
    }

    /// Not finished: backlog, in progress or in review.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            TaskState::Backlog | TaskState::InProgress | TaskState::InReview
        )
    }

    /// The moves DESIGN §4 allows dayshift to make (a person may move files any way).
    pub fn can_move_to(self, to: TaskState) -> bool {
        use TaskState::*;
        matches!(
            (self, to),
            (Backlog, InProgress)
                | (InProgress, InReview)
                | (InReview, Completed)
                | (InReview, InProgress)
                | (Failed, Backlog)
                | (Backlog | InProgress | InReview, Failed)
        )
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.folder())
    }
}

impl std::str::FromStr for TaskState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::from_folder(&s.replace('-', "_")).ok_or_else(|| {
            format!("unknown state `{s}`; use backlog, in_progress, in_review, completed or failed")
        })
    }
}
