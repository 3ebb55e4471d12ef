//! `runs`: every job run — when it started and ended, how it ended, and why.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    Ok,
    Failed,
    /// Skipped on purpose (STOP file, already running, nothing to do).
    Skipped,
    /// The process died mid-run; found and closed by the next start.
    Interrupted,
}

impl RunOutcome {
    fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Ok => "ok",
            RunOutcome::Failed => "failed",
            RunOutcome::Skipped => "skipped",
            RunOutcome::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunRow {
    pub id: i64,
    pub job: String,
    pub day: String,
    pub started: String,
    pub ended: Option<String>,
    pub outcome: Option<String>,
    pub detail: Option<String>,
    pub error: Option<String>,
}

impl Store {
    pub fn start_run(
        &self,
        job: &str,
        day: NaiveDate,
        now: DateTime<FixedOffset>,
    ) -> Result<i64, StoreError> {
        self.q(self.conn.execute(
            "INSERT INTO runs (job, day, pid, started) VALUES (?1, ?2, ?3, ?4)",
            params![job, day.to_string(), std::process::id(), now.to_rfc3339()],
        ))?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_run(
        &self,
        id: i64,
        outcome: RunOutcome,
        detail: &str,
        error: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> Result<(), StoreError> {
        self.q(self.conn.execute(
            "UPDATE runs SET ended = ?2, outcome = ?3, detail = ?4, error = ?5 WHERE id = ?1",
            params![id, now.to_rfc3339(), outcome.as_str(), detail, error],
        ))?;
        Ok(())
    }

    /// Close runs that never ended: call only while holding the job lock, when no run can
    /// be in flight. Returns how many there were.
    pub fn close_interrupted_runs(&self, now: DateTime<FixedOffset>) -> Result<usize, StoreError> {
        self.q(self.conn.execute(
            "UPDATE runs SET ended = ?1, outcome = 'interrupted', error = 'the process ended before the run finished' WHERE ended IS NULL",
            [now.to_rfc3339()],
        ))
    }

    pub fn runs_on(&self, day: NaiveDate) -> Result<Vec<RunRow>, StoreError> {
        self.select_runs("WHERE day = ?1 ORDER BY id", params![day.to_string()])
    }

    pub fn last_run(&self, job: &str) -> Result<Option<RunRow>, StoreError> {
        Ok(self
            .select_runs("WHERE job = ?1 ORDER BY id DESC LIMIT 1", params![job])?
            .pop())
    }

    /// Whether `job` already ended well for `day` (used to catch up missed jobs).
    pub fn ran_ok(&self, job: &str, day: NaiveDate) -> Result<bool, StoreError> {
        let found = self.q(self
            .conn
            .query_row(
                "SELECT 1 FROM runs WHERE job = ?1 AND day = ?2 AND outcome = 'ok' LIMIT 1",
                params![job, day.to_string()],
                |_| Ok(()),
            )
            .optional())?;
        Ok(found.is_some())
    }

    fn select_runs(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<RunRow>, StoreError> {
        let sql = format!(
            "SELECT id, job, day, started, ended, outcome, detail, error FROM runs {filter}"
        );
        let mut stmt = self.q(self.conn.prepare(&sql))?;
        let rows = stmt.query_map(args, |r| {
            Ok(RunRow {
                id: r.get(0)?,
                job: r.get(1)?,
                day: r.get(2)?,
                started: r.get(3)?,
                ended: r.get(4)?,
                outcome: r.get(5)?,
                detail: r.get(6)?,
                error: r.get(7)?,
            })
        });
        self.q(rows.and_then(|rows| rows.collect()))
    }
}
