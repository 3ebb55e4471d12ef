//! VISION.md: the person's intent (DESIGN §3).
//!
//! [`parse`] reads the markdown into sections and bullets with their line numbers;
//! [`identity`] gives every goal a stable id by matching it against the last snapshot
//! (identical text keeps its id, a close rewording in the same section keeps it too) and
//! says what changed; [`snapshot`] stores one snapshot per day in `.dayshift/snapshots/`;
//! [`rules`] turns the notes that ask for files to be left alone into never-touch globs;
//! [`files_named`] finds the target's files a goal names (the rules and the planner use it).

pub mod files_named;
pub mod identity;
pub mod parse;
pub mod rules;
pub mod snapshot;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use identity::{Change, DiffEntry, VisionDiff};
pub use rules::{NoteRule, notes_and_rules, rules_from_notes};
pub use snapshot::Snapshot;

use crate::problem::{FileProblem, IoError};

#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    #[error(transparent)]
    Invalid(#[from] FileProblem),
    #[error(transparent)]
    Io(#[from] IoError),
}

/// How urgent a goal or task is. Orders most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Critical,
    High,
    Medium,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Critical,
        Priority::High,
        Priority::Medium,
        Priority::Low,
    ];

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(word.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a goal asks for: code, or research first (the "Ideas" section).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GoalKind {
    Code,
    Research,
}

/// One bullet of VISION.md that asks for work, with its stable id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    /// `g-` and hex digits; stable across days (DESIGN §3).
    pub id: String,
    pub text: String,
    pub priority: Priority,
    pub kind: GoalKind,
    /// The heading it sits under, as written.
    pub section: String,
    /// Line in VISION.md (1-based).
    pub line: u64,
}

/// A section under a heading dayshift does not interpret; handed to agents as context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextSection {
    pub heading: String,
    pub text: String,
}

/// VISION.md understood: goals with ids, notes (constraints for every agent) and context.
#[derive(Debug, Clone)]
pub struct Vision {
    pub title: Option<String>,
    pub goals: Vec<Goal>,
    pub notes: Vec<String>,
    pub context: Vec<ContextSection>,
}

/// VISION.md as of a day: the goals with their ids, the diff, and the text it was read from.
#[derive(Debug, Clone)]
pub struct Understood {
    pub vision: Vision,
    pub diff: VisionDiff,
    pub text: String,
}

impl Understood {
    /// The snapshot to store for `day`.
    pub fn snapshot(&self, day: chrono::NaiveDate) -> Snapshot {
        Snapshot {
            day,
            goals: self
                .vision
                .goals
                .iter()
                .map(snapshot::SnapshotGoal::from)
                .collect(),
            notes: self.vision.notes.clone(),
        }
    }
}

/// Read and understand VISION.md for `day`: goals keep the ids of the last snapshot before
/// `day` (and of an earlier snapshot of `day` itself, when the morning runs again).
pub fn understand(
    path: &std::path::Path,
    snapshots: &std::path::Path,
    day: chrono::NaiveDate,
) -> Result<Understood, VisionError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(FileProblem::new(
                crate::problem::At::file(path),
                "VISION.md does not exist",
                "write one (`dayshift init` creates an example)",
            )
            .into());
        }
        Err(source) => {
            return Err(IoError {
                path: path.to_path_buf(),
                source,
            }
            .into());
        }
    };
    let parsed = parse::parse(path, &text)?;
    let previous = Snapshot::latest_before(snapshots, day)?;
    let earlier_today = Snapshot::load(snapshots, day)?;
    let (goals, diff) = identity::identify(
        parsed.goals,
        previous.as_ref().map_or(&[][..], |s| &s.goals),
        earlier_today.as_ref().map_or(&[][..], |s| &s.goals),
        previous.as_ref().map(|s| s.day),
    );
    let vision = Vision {
        title: parsed.title,
        goals,
        notes: parsed.notes,
        context: parsed.context,
    };
    Ok(Understood { vision, diff, text })
}
