//! SQLite (bundled, WAL): the history markdown is bad at.
//!
//! The task folders are the truth; the `tasks` table is a mirror rebuilt from them by
//! [`Store::reconcile`] at start and on file-watcher events. Everything else — job runs,
//! daily plans, token usage and the audit events — lives only here (events are also
//! appended to logs/audit.jsonl). Schema changes are numbered migrations tracked in
//! `PRAGMA user_version`.
//!
//! Several processes share the file (the daemon, `work`, a person's `tasks list`): every
//! connection waits up to 30 s for a lock (`busy_timeout`) and every write transaction is
//! `BEGIN IMMEDIATE`, so none fails with "database is locked" while another writes.

mod budget;
mod events;
mod history;
mod mirror;
mod outbox;
mod plans;
mod runs;
mod usage;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

pub use budget::{AlertCheck, Ledger, NewReservation, Spend, UsageRecord};
pub use events::{Event, EventFilter, RecordError};
pub use history::MovedCounts;
pub use mirror::{ReconcileError, Reconciled, TaskRow};
pub use outbox::{NewOutboxItem, OutboxRow, OutboxState};
pub use runs::{RunOutcome, RunRow};
pub use usage::{Usage, UsageRow, UsageTotals};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}; if another dayshift is busy, wait and retry", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{}: schema version {found} is newer than this dayshift knows ({known}); upgrade dayshift", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
}

/// Schema migrations, applied in order; never edit one that has shipped, add a new one.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE tasks (
        path TEXT PRIMARY KEY,
        id TEXT NOT NULL,
        state TEXT NOT NULL,
        title TEXT NOT NULL,
        priority TEXT NOT NULL,
        goal TEXT,
        source TEXT,
        kind TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        approval TEXT,
        risk TEXT,
        depends_on TEXT NOT NULL,
        created TEXT NOT NULL,
        reason TEXT,
        mtime_ns INTEGER NOT NULL,
        size INTEGER NOT NULL
    );
    CREATE INDEX tasks_id ON tasks(id);
    CREATE INDEX tasks_goal ON tasks(goal);
    CREATE TABLE task_problems (
        path TEXT PRIMARY KEY,
        mtime_ns INTEGER NOT NULL,
        size INTEGER NOT NULL,
        line INTEGER,
        problem TEXT NOT NULL,
        fix TEXT NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        job TEXT NOT NULL,
        day TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started TEXT NOT NULL,
        ended TEXT,
        outcome TEXT,
        detail TEXT,
        error TEXT
    );
    CREATE INDEX runs_day ON runs(day);
    CREATE TABLE daily_plans (
        day TEXT PRIMARY KEY,
        written TEXT NOT NULL,
        plan TEXT NOT NULL
    );
    CREATE TABLE usage (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        day TEXT NOT NULL,
        agent TEXT NOT NULL,
        job TEXT,
        task_id TEXT,
        provider TEXT,
        model TEXT,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX usage_day ON usage(day);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        day TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        task_id TEXT,
        commit_sha TEXT,
        detail TEXT NOT NULL
    );
    CREATE INDEX events_day ON events(day);
    CREATE INDEX events_task ON events(task_id);",
    "CREATE TABLE budget_reservations (
        id INTEGER PRIMARY KEY,
        day TEXT NOT NULL,
        pid INTEGER NOT NULL,
        agent TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX budget_reservations_day ON budget_reservations(day);
    CREATE TABLE budget_alerts (
        day TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        spent REAL NOT NULL
    );",
    "CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        task_id TEXT,
        title TEXT NOT NULL,
        urgent INTEGER NOT NULL,
        dedupe TEXT,
        created TEXT NOT NULL,
        part INTEGER NOT NULL,
        parts INTEGER NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        done_at TEXT
    );
    CREATE INDEX outbox_open ON outbox(channel, state, id);
    CREATE UNIQUE INDEX outbox_dedupe ON outbox(channel, dedupe, part) WHERE dedupe IS NOT NULL;
    CREATE TABLE notify_cursor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        event_id INTEGER NOT NULL
    );",
];

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// How long opening the database keeps trying past a lock no busy handler waits for.
const OPEN_PATIENCE: Duration = Duration::from_secs(10);

/// SQLite's "database is locked" (or "table is locked"), whatever the extended code.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl Store {
    /// Open (or create) the database and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        // Opening can meet a lock the busy handler does not wait for: another process's last
        // connection closing (it checkpoints the WAL under an exclusive lock) while this one
        // reads the journal mode. That is over in milliseconds: try again for a while.
        let deadline = std::time::Instant::now() + OPEN_PATIENCE;
        loop {
            match Self::open_once(path) {
                Err(StoreError::Sqlite { source, .. })
                    if is_busy(&source) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Self, StoreError> {
        let wrap = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(wrap)?;
        // only a new database needs the switch (which takes an exclusive lock)
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .map_err(wrap)?;
        if !mode.eq_ignore_ascii_case("wal") {
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(wrap)?;
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(wrap)?;
        let mut store = Self {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let known = MIGRATIONS.len() as i64;
        let found: i64 = self.q(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0)))?;
        if found > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let path = self.path.clone();
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(|source| StoreError::Sqlite {
                    path: path.clone(),
                    source,
                })?;
            // another process may have migrated while we waited for the write lock
            let now: i64 = tx
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(|source| StoreError::Sqlite {
                    path: path.clone(),
                    source,
                })?;
            if now > index as i64 {
                continue;
            }
            let version = index as i64 + 1;
            let result = tx
                .execute_batch(sql)
                .and_then(|_| tx.pragma_update(None, "user_version", version));
            result
                .and_then(|_| tx.commit())
                .map_err(|source| StoreError::Sqlite { path, source })?;
        }
        Ok(())
    }

    /// Attach the database path to a rusqlite result.
    fn q<T>(&self, result: rusqlite::Result<T>) -> Result<T, StoreError> {
        result.map_err(|source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        })
    }

    /// The schema version in use.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.q(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0)))
    }
}

/// An enum as its serde word (`in_progress`, `high`), for TEXT columns.
fn word<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The enum for a serde word read back from a TEXT column.
fn from_word<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_refuse_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(store);
        let store = Store::open(&path).unwrap();
        store.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(store);
        let err = Store::open(&path).err().unwrap();
        assert!(
            err.to_string().contains("newer than this dayshift"),
            "{err}"
        );
    }
}
