//! What a finished job hands back to the runner that ran it: the jobs make it, the runner
//! records and shows it (so the jobs never import the runner).

use std::path::PathBuf;

use chrono::NaiveDate;

use super::JobName;

/// What a finished job did, for the person watching.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JobOutcome {
    pub job: JobName,
    pub day: NaiveDate,
    /// One line: what happened.
    pub summary: String,
    /// Files written, for "where is it" hints.
    pub wrote: Vec<PathBuf>,
}
