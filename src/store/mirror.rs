//! The `tasks` table: a mirror of the task folders, reconciled from them.
//!
//! Reconciling stats every task file and re-reads only those whose size or mtime changed
//! since the mirror saw them, so it stays cheap with thousands of tasks. A file that fails
//! to parse goes to `task_problems` (and is reported, never moved); a task that changed
//! folder since the last look was moved by a person and is audited as such.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::params;

use super::{Store, StoreError, from_word, word};
use crate::home::Home;
use crate::problem::{At, FileProblem};
use crate::tasks::queue::TaskFile;
use crate::tasks::{Approval, Queue, Risk, Task, TaskError, TaskId, TaskKind, TaskState};
use crate::vision::Priority;

/// One task as the mirror knows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskRow {
    pub id: TaskId,
    pub state: TaskState,
    pub title: String,
    pub priority: Priority,
    pub goal: Option<String>,
    pub source: Option<String>,
    pub kind: TaskKind,
    pub attempts: u32,
    pub approval: Option<Approval>,
    pub risk: Option<Risk>,
    pub depends_on: Vec<TaskId>,
    pub created: String,
    pub reason: Option<String>,
    /// Relative to the home.
    pub path: String,
}

/// What one reconcile found.
#[derive(Debug, Clone, Default)]
pub struct Reconciled {
    /// Files (re)read because they were new or changed.
    pub reread: usize,
    /// Mirror rows dropped because their file is gone.
    pub removed: usize,
    /// (id, from, to) for tasks found in another folder than last time.
    pub moved_by_hand: Vec<(TaskId, TaskState, TaskState)>,
    /// Every task file that cannot be parsed, current or cached.
    pub problems: Vec<FileProblem>,
}

/// Why the mirror could not be brought in line: the folders could not be read, or the
/// database refused.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Task(#[from] TaskError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Bring the mirror in line with the folders.
    pub fn reconcile(&mut self, home: &Home, queue: &Queue) -> Result<Reconciled, ReconcileError> {
        let files = queue.scan()?;
        let known = self.known_files()?;
        let mut out = Reconciled::default();
        let wrap = |source| StoreError::Sqlite {
            path: home.db_path(),
            source,
        };
        // IMMEDIATE: take the write lock up front (waiting up to the busy timeout), never
        // upgrade a read later, which SQLite refuses at once when another writer got in
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(wrap)?;
        let mut seen: HashMap<String, ()> = HashMap::with_capacity(files.len());
        for file in &files {
            let rel = relative(home, &file.path);
            seen.insert(rel.clone(), ());
            match known.get(&rel) {
                Some(k) if k.mtime_ns == file.mtime_ns && k.size == file.size => {
                    if let Some(problem) = &k.problem {
                        let mut problem = problem.clone();
                        problem.at.file = home.root().join(&problem.at.file);
                        out.problems.push(problem);
                    }
                    continue;
                }
                _ => {}
            }
            out.reread += 1;
            match queue.read(&file.path, file.state) {
                Ok(task) => {
                    let previous: Option<String> = tx
                        .query_row(
                            "SELECT state FROM tasks WHERE id = ?1 AND path != ?2",
                            params![task.meta.id.to_string(), rel],
                            |r| r.get(0),
                        )
                        .ok();
                    if let Some(from) = previous.as_deref().and_then(from_word::<TaskState>)
                        && from != file.state
                    {
                        out.moved_by_hand.push((task.meta.id, from, file.state));
                    }
                    upsert(&tx, &rel, file, &task).map_err(wrap)?;
                    tx.execute("DELETE FROM task_problems WHERE path = ?1", [&rel])
                        .map_err(wrap)?;
                }
                Err(problem) => {
                    tx.execute(
                        "INSERT OR REPLACE INTO task_problems (path, mtime_ns, size, line, problem, fix) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![rel, file.mtime_ns, file.size, problem.at.line.map(|l| l as i64), problem.problem, problem.fix],
                    )
                    .map_err(wrap)?;
                    tx.execute("DELETE FROM tasks WHERE path = ?1", [&rel])
                        .map_err(wrap)?;
                    out.problems.push(problem);
                }
            }
        }
        for rel in known.keys().filter(|k| !seen.contains_key(*k)) {
            tx.execute("DELETE FROM tasks WHERE path = ?1", [rel])
                .map_err(wrap)?;
            tx.execute("DELETE FROM task_problems WHERE path = ?1", [rel])
                .map_err(wrap)?;
            out.removed += 1;
        }
        tx.commit().map_err(wrap)?;
        out.problems.extend(self.duplicate_ids(home)?);
        out.problems.extend(queue.strays());
        Ok(out)
    }

    /// Record a task dayshift itself just wrote, so the mirror need not re-read it.
    pub fn mirror_task(&self, home: &Home, task: &Task) -> Result<(), TaskError> {
        let meta = std::fs::metadata(&task.path).map_err(|source| crate::problem::IoError {
            path: task.path.clone(),
            source,
        })?;
        let file = TaskFile {
            state: task.state,
            path: task.path.clone(),
            mtime_ns: meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64),
            size: meta.len() as i64,
        };
        let rel = relative(home, &task.path);
        let wrap = |source| TaskError::Refused(format!("{}: {source}", home.db_path().display()));
        self.conn
            .execute(
                "DELETE FROM tasks WHERE id = ?1 AND path != ?2",
                params![task.meta.id.to_string(), rel],
            )
            .map_err(wrap)?;
        upsert(&self.conn, &rel, &file, task).map_err(wrap)?;
        Ok(())
    }

    /// Every mirrored task, by id.
    pub fn tasks(&self) -> Result<Vec<TaskRow>, StoreError> {
        let mut stmt = self.q(self.conn.prepare_cached(
            "SELECT id, state, title, priority, goal, source, kind, attempts, approval, risk, depends_on, created, reason, path FROM tasks ORDER BY id, path",
        ))?;
        let rows = stmt.query_map([], |r| {
            let text = |i: usize| r.get::<_, String>(i);
            let opt = |i: usize| r.get::<_, Option<String>>(i);
            Ok((
                text(0)?,
                text(1)?,
                text(2)?,
                text(3)?,
                opt(4)?,
                opt(5)?,
                text(6)?,
                r.get::<_, i64>(7)?,
                opt(8)?,
                opt(9)?,
                text(10)?,
                text(11)?,
                opt(12)?,
                text(13)?,
            ))
        });
        let rows = self.q(rows.and_then(|rows| rows.collect::<Result<Vec<_>, _>>()))?;
        Ok(rows
            .into_iter()
            .filter_map(
                |(
                    id,
                    state,
                    title,
                    priority,
                    goal,
                    source,
                    kind,
                    attempts,
                    approval,
                    risk,
                    deps,
                    created,
                    reason,
                    path,
                )| {
                    Some(TaskRow {
                        id: id.parse().ok()?,
                        state: from_word(&state)?,
                        title,
                        priority: from_word(&priority)?,
                        goal,
                        source,
                        kind: from_word(&kind)?,
                        attempts: attempts as u32,
                        approval: approval.as_deref().and_then(from_word),
                        risk: risk.as_deref().and_then(from_word),
                        depends_on: serde_json::from_str(&deps).unwrap_or_default(),
                        created,
                        reason,
                        path,
                    })
                },
            )
            .collect())
    }

    /// Task files that cannot be parsed, as last seen, and files that share an id.
    pub fn task_problems(&self, home: &Home) -> Result<Vec<FileProblem>, StoreError> {
        let mut stmt = self.q(self
            .conn
            .prepare_cached("SELECT path, line, problem, fix FROM task_problems ORDER BY path"))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        });
        let rows = self.q(rows.and_then(|rows| rows.collect::<Result<Vec<_>, _>>()))?;
        let mut problems: Vec<FileProblem> = rows
            .into_iter()
            .map(|(path, line, problem, fix)| {
                let at = At {
                    file: home.root().join(path),
                    line: line.map(|l| l as u64),
                };
                FileProblem::new(at, problem, fix)
            })
            .collect();
        problems.extend(self.duplicate_ids(home)?);
        Ok(problems)
    }

    /// One problem per extra file that carries an id another file has too.
    fn duplicate_ids(&self, home: &Home) -> Result<Vec<FileProblem>, StoreError> {
        let mut stmt = self.q(self.conn.prepare_cached(
            "SELECT a.id, a.path, b.path FROM tasks a JOIN tasks b ON a.id = b.id AND a.path < b.path ORDER BY a.id",
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        });
        let rows = self.q(rows.and_then(|rows| rows.collect::<Result<Vec<_>, _>>()))?;
        Ok(rows
            .into_iter()
            .map(|(id, first, second)| {
                FileProblem::new(
                    At::file(home.root().join(second)),
                    format!("{id} is also in {first}"),
                    "a task lives in exactly one folder: delete or renumber one of the two files",
                )
            })
            .collect())
    }

    fn known_files(&self) -> Result<HashMap<String, Known>, StoreError> {
        let mut known = HashMap::new();
        let mut stmt = self.q(self
            .conn
            .prepare_cached("SELECT path, mtime_ns, size FROM tasks"))?;
        let rows =
            self.q(stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))))?;
        for row in rows {
            let (path, mtime_ns, size) = self.q(row)?;
            known.insert(
                path,
                Known {
                    mtime_ns,
                    size,
                    problem: None,
                },
            );
        }
        let mut stmt = self.q(self.conn.prepare_cached(
            "SELECT path, mtime_ns, size, line, problem, fix FROM task_problems",
        ))?;
        let rows = self.q(stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        }))?;
        for row in rows {
            let (path, mtime_ns, size, line, problem, fix) = self.q(row)?;
            let at = At {
                file: path.clone().into(),
                line: line.map(|l| l as u64),
            };
            known.insert(
                path,
                Known {
                    mtime_ns,
                    size,
                    problem: Some(FileProblem::new(at, problem, fix)),
                },
            );
        }
        Ok(known)
    }
}

struct Known {
    mtime_ns: i64,
    size: i64,
    problem: Option<FileProblem>,
}

fn upsert(
    conn: &rusqlite::Connection,
    rel: &str,
    file: &TaskFile,
    task: &Task,
) -> rusqlite::Result<usize> {
    let m = &task.meta;
    conn.execute(
        "INSERT OR REPLACE INTO tasks (path, id, state, title, priority, goal, source, kind, attempts, approval, risk, depends_on, created, reason, mtime_ns, size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            rel,
            m.id.to_string(),
            word(&task.state),
            m.title,
            word(&m.priority),
            m.goal,
            m.source,
            word(&m.kind),
            m.attempts,
            m.approval.as_ref().map(word),
            m.risk.as_ref().map(word),
            serde_json::to_string(&m.depends_on).unwrap_or_else(|_| "[]".into()),
            m.created.to_rfc3339(),
            m.reason,
            file.mtime_ns,
            file.size,
        ],
    )
}

fn relative(home: &Home, path: &Path) -> String {
    path.strip_prefix(home.root())
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}
