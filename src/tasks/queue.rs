//! The folders under tasks/: scan, create, rewrite and move task files safely.
//!
//! Every change happens under the queue lock (a short flock), so the daemon, a CLI command
//! and the file watcher never interleave a read-modify-write. Ids come from a counter in
//! `.dayshift/last-task-id` that is written (fsync'd) *before* the task file, and the next id
//! is always above both the counter and every id in the folders: a crash can skip a number
//! but never hand one out twice, and a task deleted by hand never has its id reused.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use chrono::{DateTime, FixedOffset};

use super::file::{Task, TaskMeta};
use super::id::{TaskId, slugify};
use super::{Difficulty, TaskError, TaskKind, TaskState};
use crate::fsx;
use crate::home::Home;
use crate::lockfile::FileLock;
use crate::problem::{At, FileProblem, IoContext, IoError};
use crate::vision::Priority;

/// A task file found in a state folder, with what is needed to tell whether it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFile {
    pub state: TaskState,
    pub path: PathBuf,
    pub mtime_ns: i64,
    pub size: i64,
}

/// What a new task is made of; the queue adds the id, dates and file.
#[derive(Debug, Clone)]
pub struct TaskDraft {
    pub title: String,
    pub priority: Priority,
    pub goal: Option<String>,
    pub source: Option<String>,
    pub kind: TaskKind,
    pub files: Vec<String>,
    pub depends_on: Vec<TaskId>,
    pub acceptance: Vec<String>,
    pub difficulty: Option<Difficulty>,
    pub description: String,
    /// The planner's label for it within its goal's plan.
    pub plan_key: Option<String>,
}

impl TaskDraft {
    /// The backlog task it becomes as `id`, its file in `backlog` (not written).
    pub fn into_task(self, id: TaskId, now: DateTime<FixedOffset>, backlog: &Path) -> Task {
        let slug = slugify(&self.title);
        let path = backlog.join(format!("{id}-{slug}.md"));
        let meta = TaskMeta {
            goal: self.goal,
            source: self.source,
            kind: self.kind,
            files: self.files,
            depends_on: self.depends_on,
            acceptance: self.acceptance,
            difficulty: self.difficulty,
            branch: Some(format!("agent/{id}-{slug}")),
            plan_key: self.plan_key,
            ..TaskMeta::new(id, self.title, self.priority, now)
        };
        let body = format!("## Description\n{}\n", self.description.trim_end());
        Task::new(meta, body, TaskState::Backlog, path)
    }
}

#[derive(Debug, Clone)]
pub struct Queue {
    tasks_dir: PathBuf,
    counter: PathBuf,
    lock: PathBuf,
}

/// The state folder people often mean by another word (`done/` for `completed/`).
fn state_meant(folder: &str) -> Option<&'static str> {
    let words: [(&[&str], TaskState); 5] = [
        (
            &["todo", "open", "new", "queue", "ready"],
            TaskState::Backlog,
        ),
        (
            &["doing", "wip", "active", "progress", "started"],
            TaskState::InProgress,
        ),
        (
            &["review", "reviewing", "pending", "waiting"],
            TaskState::InReview,
        ),
        (
            &["done", "finished", "complete", "merged", "closed"],
            TaskState::Completed,
        ),
        (
            &["failures", "broken", "error", "errors", "rejected"],
            TaskState::Failed,
        ),
    ];
    let folder = folder.to_lowercase();
    words
        .iter()
        .find(|(names, _)| names.contains(&folder.as_str()))
        .map(|(_, state)| state.folder())
}

impl Queue {
    pub fn new(home: &Home) -> Self {
        Self {
            tasks_dir: home.tasks_dir(),
            counter: home.task_counter(),
            lock: home.queue_lock(),
        }
    }

    fn dir(&self, state: TaskState) -> PathBuf {
        self.tasks_dir.join(state.folder())
    }

    /// Every `*.md` file in the state folders (hidden and temp files are skipped).
    pub fn scan(&self) -> Result<Vec<TaskFile>, TaskError> {
        let mut files = Vec::new();
        for state in TaskState::ALL {
            let dir = self.dir(state);
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(IoError { path: dir, source }.into()),
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if !name.ends_with(".md") || name.starts_with('.') {
                    continue;
                }
                let Ok(meta) = entry.metadata() else { continue };
                if !meta.is_file() {
                    continue;
                }
                let mtime_ns = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos() as i64);
                files.push(TaskFile {
                    state,
                    path: entry.path(),
                    mtime_ns,
                    size: meta.len() as i64,
                });
            }
        }
        files.sort_by(|a, b| {
            a.path
                .file_name()
                .cmp(&b.path.file_name())
                .then(a.state.cmp(&b.state))
        });
        Ok(files)
    }

    /// Task files dayshift would never see: `*.md` in a folder of `tasks/` that is not a
    /// state (`tasks/done/`), or directly in `tasks/`. One problem per such place, naming
    /// the folder meant.
    pub fn strays(&self) -> Vec<FileProblem> {
        let Ok(entries) = fs::read_dir(&self.tasks_dir) else {
            return Vec::new();
        };
        let count_md = |dir: &Path| {
            fs::read_dir(dir).map_or(0, |e| {
                e.flatten()
                    .filter(|f| {
                        let name = f.file_name().to_string_lossy().into_owned();
                        name.ends_with(".md") && !name.starts_with('.')
                    })
                    .count()
            })
        };
        let states: Vec<&str> = TaskState::ALL.iter().map(|s| s.folder()).collect();
        let mut problems = Vec::new();
        let mut names: Vec<_> = entries.flatten().collect();
        names.sort_by_key(|e| e.file_name());
        for entry in names {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.starts_with('.') || TaskState::from_folder(&name).is_some() {
                continue;
            }
            if path.is_dir() {
                let files = count_md(&path);
                if files == 0 {
                    continue;
                }
                let meant = state_meant(&name)
                    .or_else(|| crate::suggest::closest(&name, states.iter().copied()))
                    .map(|s| format!("move them to tasks/{s}/ if that is what it means; "))
                    .unwrap_or_default();
                problems.push(FileProblem::new(
                    At::file(&path),
                    format!("tasks/{name}/ is not a state folder, so its {files} task file(s) are ignored"),
                    format!("{meant}the states are {}", states.join(", ")),
                ));
            } else if name.ends_with(".md") && !name.to_lowercase().starts_with("readme") {
                problems.push(FileProblem::new(
                    At::file(&path),
                    format!("tasks/{name} is in no state folder, so it is ignored"),
                    "move it into tasks/backlog/ (or another state folder)",
                ));
            }
        }
        problems
    }

    /// Read and parse one task file.
    pub fn read(&self, path: &Path, state: TaskState) -> Result<Task, FileProblem> {
        let text = fs::read_to_string(path).map_err(|e| {
            FileProblem::new(
                At::file(path),
                format!("cannot read: {e}"),
                "check that it is a UTF-8 text file",
            )
        })?;
        Task::parse(path, state, &text)
    }

    /// The task with this id, wherever it is. Two files with one id is an error.
    pub fn find(&self, id: TaskId) -> Result<Task, TaskError> {
        let mut found: Vec<(PathBuf, TaskState)> = Vec::new();
        for state in TaskState::ALL {
            let Ok(entries) = fs::read_dir(self.dir(state)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                if TaskId::from_file_name(&name.to_string_lossy()).is_some_and(|(i, _)| i == id) {
                    found.push((entry.path(), state));
                }
            }
        }
        match found.as_slice() {
            [] => Err(TaskError::NotFound(id.to_string())),
            [(path, state)] => Ok(self.read(path, *state)?),
            [(first, _), (second, _), ..] => Err(TaskError::Invalid(FileProblem::new(
                At::file(second),
                format!("{id} is also in {}", first.display()),
                "a task lives in exactly one folder: delete or renumber one of the two files",
            ))),
        }
    }

    /// Hold the queue lock for a batch of changes.
    pub fn lock(&self) -> Result<FileLock, TaskError> {
        Ok(FileLock::acquire(&self.lock).at_path(&self.lock)?)
    }

    /// Create tasks in the backlog, each with a fresh id and a first log line by `actor`.
    /// `on_created` sees each task right after its file is durable.
    pub fn create_all(
        &self,
        drafts: Vec<TaskDraft>,
        actor: &str,
        now: DateTime<FixedOffset>,
        mut on_created: impl FnMut(&Task) -> Result<(), TaskError>,
    ) -> Result<Vec<Task>, TaskError> {
        if drafts.is_empty() {
            return Ok(Vec::new());
        }
        let _lock = self.lock()?;
        let mut last = self.last_id()?.max(self.highest_id_in_folders()?);
        let mut created = Vec::with_capacity(drafts.len());
        for draft in drafts {
            let id = TaskId::after(last).ok_or_else(|| {
                TaskError::Invalid(FileProblem::new(
                    At::line(&self.counter, 1),
                    format!("task numbers are used up: {last} is the highest a task id can have"),
                    "archive old tasks and renumber them, or start a new home",
                ))
            })?;
            last = id.number();
            fsx::write_atomic(&self.counter, format!("{last}\n").as_bytes())
                .at_path(&self.counter)?;
            let origin = match (&draft.goal, &draft.source) {
                (Some(goal), _) => format!("created for goal {goal}"),
                (None, Some(source)) => format!("created from {source}"),
                (None, None) => "created".to_string(),
            };
            let mut task = draft.into_task(id, now, &self.dir(TaskState::Backlog));
            task.log(now, actor, &origin);
            fsx::write_atomic(&task.path, task.render().as_bytes()).at_path(&task.path)?;
            on_created(&task)?;
            created.push(task);
        }
        Ok(created)
    }

    /// Rewrite a task file in place (its folder unchanged).
    pub fn save(&self, task: &Task) -> Result<(), TaskError> {
        let _lock = self.lock()?;
        self.save_locked(task)
    }

    fn save_locked(&self, task: &Task) -> Result<(), TaskError> {
        if !task.path.is_file() {
            return Err(TaskError::Refused(format!(
                "{} moved or vanished while dayshift was working on it; nothing was written, run the command again",
                task.path.display()
            )));
        }
        fsx::write_atomic(&task.path, task.render().as_bytes()).at_path(&task.path)?;
        Ok(())
    }

    /// Move a task to another state: log why (once, even across a crash and re-run), write
    /// the file in place, then one `rename(2)` into the new folder.
    pub fn transition(
        &self,
        task: &mut Task,
        to: TaskState,
        actor: &str,
        why: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<(), TaskError> {
        if !task.state.can_move_to(to) {
            return Err(TaskError::BadMove {
                id: task.meta.id,
                from: task.state,
                to,
                hint: "docs/tasks.md (States and moves) lists the allowed moves",
            });
        }
        let _lock = self.lock()?;
        let message = format!("{} → {to}: {why}", task.state);
        if !task.last_log_is(actor, &message) {
            task.log(now, actor, &message);
        }
        if to == TaskState::Failed {
            task.meta.reason = Some(why.to_string());
        } else if task.state == TaskState::Failed {
            task.meta.reason = None;
        }
        self.save_locked(task)?;
        let dest = self.dir(to).join(task.file_name());
        fsx::rename_durable(&task.path, &dest).map_err(|source| IoError {
            path: dest.clone(),
            source,
        })?;
        task.path = dest;
        task.state = to;
        Ok(())
    }

    fn last_id(&self) -> Result<u32, TaskError> {
        match fs::read_to_string(&self.counter) {
            Ok(text) => text.trim().parse().map_err(|_| {
                TaskError::Invalid(FileProblem::new(
                    At::line(&self.counter, 1),
                    format!("`{}` is not a number", text.trim()),
                    "write the highest task number ever used (or delete the file: it is rebuilt from tasks/)",
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(source) => Err(IoError { path: self.counter.clone(), source }.into()),
        }
    }

    fn highest_id_in_folders(&self) -> Result<u32, TaskError> {
        Ok(self
            .scan()?
            .iter()
            .filter_map(|f| {
                TaskId::from_file_name(&f.path.file_name()?.to_string_lossy())
                    .map(|(id, _)| id.number())
            })
            .max()
            .unwrap_or(0))
    }
}

impl Task {
    /// Whether the last log line is this entry.
    pub fn last_log_is(&self, actor: &str, message: &str) -> bool {
        let tail = format!(
            " {actor}: {}",
            message.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        self.body
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.starts_with("- ") && l.ends_with(&tail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(title: &str) -> TaskDraft {
        TaskDraft {
            title: title.into(),
            priority: Priority::High,
            goal: Some("g-abcdef".into()),
            source: None,
            kind: TaskKind::Code,
            files: vec![],
            depends_on: vec![],
            acceptance: vec!["it works".into()],
            difficulty: None,
            description: "Do it.".into(),
            plan_key: None,
        }
    }

    fn setup() -> (tempfile::TempDir, Home, Queue) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("h"), "UTC").unwrap();
        let queue = Queue::new(&home);
        (dir, home, queue)
    }

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-22T07:46:02+06:00").unwrap()
    }

    #[test]
    fn ids_never_repeat_even_when_files_are_deleted() {
        let (_d, _home, queue) = setup();
        let made = queue
            .create_all(vec![draft("One"), draft("Two")], "planner", now(), |_| {
                Ok(())
            })
            .unwrap();
        assert_eq!(made[1].meta.id, TaskId::new(2));
        for t in &made {
            fs::remove_file(&t.path).unwrap();
        }
        let again = queue
            .create_all(vec![draft("Three")], "planner", now(), |_| Ok(()))
            .unwrap();
        assert_eq!(again[0].meta.id, TaskId::new(3));
    }

    #[test]
    fn ids_never_wrap_past_the_last_number() {
        let (_d, _home, queue) = setup();
        fs::write(&queue.counter, format!("{}\n", u32::MAX - 1)).unwrap();
        let last = queue
            .create_all(vec![draft("Last")], "planner", now(), |_| Ok(()))
            .unwrap();
        assert_eq!(last[0].meta.id, TaskId::new(u32::MAX));
        let err = queue
            .create_all(vec![draft("One too many")], "planner", now(), |_| Ok(()))
            .unwrap_err();
        assert!(
            err.to_string().contains("task numbers are used up"),
            "{err}"
        );
        assert_eq!(
            fs::read_to_string(&queue.counter).unwrap().trim(),
            u32::MAX.to_string(),
            "the counter persists at the top"
        );
    }

    #[test]
    fn ids_stay_above_files_added_by_hand() {
        let (_d, home, queue) = setup();
        let made = queue
            .create_all(vec![draft("One")], "planner", now(), |_| Ok(()))
            .unwrap();
        let copy = home
            .task_state_dir(TaskState::Backlog)
            .join("T-0041-by-hand.md");
        fs::write(&copy, made[0].render().replace("T-0001", "T-0041")).unwrap();
        let next = queue
            .create_all(vec![draft("Two")], "planner", now(), |_| Ok(()))
            .unwrap();
        assert_eq!(next[0].meta.id, TaskId::new(42));
    }

    #[test]
    fn transition_moves_by_rename_and_records_the_reason() {
        let (_d, home, queue) = setup();
        let mut task = queue
            .create_all(vec![draft("One")], "planner", now(), |_| Ok(()))
            .unwrap()
            .remove(0);
        queue
            .transition(
                &mut task,
                TaskState::Failed,
                "planner",
                "goal removed",
                now(),
            )
            .unwrap();
        assert_eq!(task.state, TaskState::Failed);
        assert!(
            !home
                .task_state_dir(TaskState::Backlog)
                .join(task.file_name())
                .exists()
        );
        let read = queue.find(task.meta.id).unwrap();
        assert_eq!(read.state, TaskState::Failed);
        assert_eq!(read.meta.reason.as_deref(), Some("goal removed"));
        assert!(read.has_log("planner", "backlog → failed: goal removed"));
        let mut read = read;
        let err = queue
            .transition(&mut read, TaskState::Completed, "x", "y", now())
            .unwrap_err();
        assert!(matches!(err, TaskError::BadMove { .. }));
    }

    #[test]
    fn a_task_in_two_folders_is_reported_not_guessed() {
        let (_d, home, queue) = setup();
        let task = queue
            .create_all(vec![draft("One")], "planner", now(), |_| Ok(()))
            .unwrap()
            .remove(0);
        fs::copy(
            &task.path,
            home.task_state_dir(TaskState::Failed)
                .join(task.file_name()),
        )
        .unwrap();
        let err = queue.find(task.meta.id).unwrap_err();
        assert!(err.to_string().contains("exactly one folder"), "{err}");
    }

    #[test]
    fn corrupt_counter_is_an_error_naming_the_file() {
        let (_d, home, queue) = setup();
        fs::write(home.task_counter(), "lots").unwrap();
        let err = queue
            .create_all(vec![draft("One")], "planner", now(), |_| Ok(()))
            .unwrap_err();
        assert!(err.to_string().contains("last-task-id:1"), "{err}");
    }
}
