//! The home: the folder that holds one target's VISION.md, config, tasks, reports and state
//! (DESIGN §2). Every path dayshift touches is derived here, so the layout lives in one place.

use std::fs;
use std::path::{Path, PathBuf};

pub mod guard;
mod task_state;

pub use task_state::TaskState;

use crate::fsx;
use crate::problem::{IoContext, IoError};

/// Why a home could not be opened or made.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// The folder is not a home: the command line pointed at the wrong place.
    #[error("{0}")]
    NotAHome(String),
    /// `init` found a home already there and changed nothing.
    #[error("{0}")]
    AlreadyAHome(String),
    #[error(transparent)]
    Io(#[from] IoError),
}

type Result<T, E = HomeError> = std::result::Result<T, E>;

/// A dayshift home on disk.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

/// The files `dayshift init` writes, taken from this repository's own example home.
const TEMPLATES: [(&str, &str); 9] = [
    ("VISION.md", include_str!("../VISION.md")),
    ("config/target.yaml", include_str!("../config/target.yaml")),
    ("config/agents.yaml", include_str!("../config/agents.yaml")),
    (
        "config/schedules.yaml",
        include_str!("../config/schedules.yaml"),
    ),
    ("config/policy.yaml", include_str!("../config/policy.yaml")),
    (
        "config/.env.example",
        include_str!("../config/.env.example"),
    ),
    ("config/notify.yaml", include_str!("../config/notify.yaml")),
    ("config/scan.yaml", include_str!("../config/scan.yaml")),
    (
        ".gitignore",
        "workspace/\n.dayshift/\nconfig/.env\nSTOP\nPAUSED\nlogs/*\n!logs/.gitkeep\n",
    ),
];

/// Folders every home has; created on open when missing.
const FOLDERS: [&str; 10] = [
    "config",
    "tasks/backlog",
    "tasks/in_progress",
    "tasks/in_review",
    "tasks/completed",
    "tasks/failed",
    "reports/daily",
    "reports/research",
    "reports/scan",
    "logs",
];

impl Home {
    /// Open an existing home, creating any missing runtime folder.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = absolute(root.into())?;
        if !root.join("VISION.md").is_file() && !root.join("config").is_dir() {
            return Err(HomeError::NotAHome(format!(
                "{} is not a dayshift home (no VISION.md, no config/); create one with `dayshift init {}` or point --home at one",
                root.display(),
                root.display()
            )));
        }
        let home = Self { root };
        home.ensure_folders()?;
        Ok(home)
    }

    /// Create a fresh home in `root` with commented example files. Refuses to touch an
    /// existing home. `timezone` replaces the example's zone (the machine's, normally).
    pub fn init(root: impl Into<PathBuf>, timezone: &str) -> Result<Self> {
        let root = absolute(root.into())?;
        for (file, _) in TEMPLATES.iter().take(5) {
            if root.join(file).exists() {
                return Err(HomeError::AlreadyAHome(format!(
                    "{} already exists: {} is already a home, nothing was changed",
                    root.join(file).display(),
                    root.display()
                )));
            }
        }
        fs::create_dir_all(&root).at_path(&root)?;
        let home = Self { root };
        home.ensure_folders()?;
        for (file, text) in TEMPLATES {
            let text = if file == "config/schedules.yaml" {
                text.replace("timezone: UTC", &format!("timezone: {timezone}"))
            } else {
                text.to_string()
            };
            let path = home.root.join(file);
            fsx::write_atomic(&path, text.as_bytes()).at_path(&path)?;
        }
        for folder in FOLDERS.iter().filter(|f| **f != "config") {
            let keep = home.root.join(folder).join(".gitkeep");
            fs::write(&keep, "").at_path(&keep)?;
        }
        Ok(home)
    }

    fn ensure_folders(&self) -> Result<()> {
        for folder in FOLDERS.iter().chain([".dayshift/snapshots"].iter()) {
            let path = self.root.join(folder);
            fs::create_dir_all(&path).at_path(&path)?;
        }
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn vision(&self) -> PathBuf {
        self.root.join("VISION.md")
    }
    pub fn progress(&self) -> PathBuf {
        self.root.join("PROGRESS.md")
    }
    pub fn daily_plan(&self) -> PathBuf {
        self.root.join("DAILY_PLAN.md")
    }
    pub fn config_file(&self, name: &str) -> PathBuf {
        self.root.join("config").join(name)
    }
    pub fn env_file(&self) -> PathBuf {
        self.config_file(".env")
    }
    pub fn tasks_dir(&self) -> PathBuf {
        self.root.join("tasks")
    }
    pub fn task_state_dir(&self, state: TaskState) -> PathBuf {
        self.tasks_dir().join(state.folder())
    }
    /// `reports/research/YYYY-MM-DD-<slug>.md`.
    pub fn research_report(&self, day: chrono::NaiveDate, slug: &str) -> PathBuf {
        self.root
            .join("reports/research")
            .join(format!("{day}-{slug}.md"))
    }
    /// The day's scan of the target (`dayshift scan` in the home).
    pub fn scan_report(&self, day: chrono::NaiveDate) -> PathBuf {
        self.root.join("reports/scan").join(format!("{day}.md"))
    }
    pub fn daily_report(&self, day: chrono::NaiveDate) -> PathBuf {
        self.root.join("reports/daily").join(format!("{day}.md"))
    }
    /// The daily report's 14-day chart, next to it (the report links it by file name).
    pub fn daily_chart(&self, day: chrono::NaiveDate) -> PathBuf {
        self.daily_report(day).with_extension("svg")
    }
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }
    pub fn audit_log(&self) -> PathBuf {
        self.logs_dir().join("audit.jsonl")
    }
    pub fn workspace(&self) -> PathBuf {
        self.root.join("workspace")
    }
    /// The clone of the target (made by `dayshift setup`).
    pub fn target_clone(&self) -> PathBuf {
        self.workspace().join("target")
    }
    /// The planner's answers of a day, one JSON file per goal, kept until its tasks exist.
    pub fn planner_answers(&self, day: chrono::NaiveDate) -> PathBuf {
        self.state_dir().join("planner").join(day.to_string())
    }
    /// `.dayshift/`: machine state, git-ignored.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".dayshift")
    }
    pub fn db_path(&self) -> PathBuf {
        self.state_dir().join("state.db")
    }
    pub fn snapshots_dir(&self) -> PathBuf {
        self.state_dir().join("snapshots")
    }
    /// Held (flock) by the daemon for its whole life.
    pub fn daemon_lock(&self) -> PathBuf {
        self.state_dir().join("lock")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.state_dir().join("pid")
    }
    /// Held (flock) by whoever runs a job, so two jobs never overlap.
    pub fn job_lock(&self) -> PathBuf {
        self.state_dir().join("job.lock")
    }
    /// Held (flock) by the one process sending the outbox's notifications.
    pub fn notify_lock(&self) -> PathBuf {
        self.state_dir().join("notify.lock")
    }
    /// Held (flock) briefly around each change to the queue.
    pub fn queue_lock(&self) -> PathBuf {
        self.state_dir().join("queue.lock")
    }
    /// The highest task number ever handed out.
    pub fn task_counter(&self) -> PathBuf {
        self.state_dir().join("last-task-id")
    }
    /// While this file exists every job pauses.
    pub fn stop_file(&self) -> PathBuf {
        self.root.join("STOP")
    }
    /// The pause dayshift made itself (emergency protocol; `dayshift resume` clears it).
    pub fn pause_file(&self) -> PathBuf {
        self.root.join("PAUSED")
    }

    /// Remove temp files a crash may have left in the folders dayshift writes.
    pub fn sweep_temp_files(&self) -> usize {
        let mut dirs = vec![
            self.root.clone(),
            self.snapshots_dir(),
            self.state_dir(),
            self.root.join("reports/daily"),
        ];
        dirs.extend(TaskState::ALL.iter().map(|s| self.task_state_dir(*s)));
        dirs.iter().map(|d| fsx::sweep_temp_files(d)).sum()
    }

    /// A path shown relative to the home when it is inside it.
    pub fn display_path<'a>(&self, path: &'a Path) -> std::path::Display<'a> {
        path.strip_prefix(&self.root).unwrap_or(path).display()
    }
}

/// `root` made absolute against the current directory, so paths handed to programs that
/// run elsewhere (git in `workspace/`, a coding tool in a work tree) still point here.
pub fn absolute(root: PathBuf) -> Result<PathBuf, IoError> {
    std::path::absolute(&root).at_path(&root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_writes_the_layout_and_refuses_twice() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("h"), "Asia/Dhaka").unwrap();
        assert!(home.vision().is_file());
        assert!(home.task_state_dir(TaskState::Backlog).is_dir());
        assert!(home.snapshots_dir().is_dir());
        let schedules = fs::read_to_string(home.config_file("schedules.yaml")).unwrap();
        assert!(schedules.contains("timezone: Asia/Dhaka"));
        let before = fs::read_to_string(home.vision()).unwrap();
        assert!(Home::init(home.root(), "UTC").is_err());
        assert_eq!(fs::read_to_string(home.vision()).unwrap(), before);
    }

    #[test]
    fn open_refuses_a_folder_that_is_not_a_home() {
        let dir = tempfile::tempdir().unwrap();
        let err = crate::Error::from(Home::open(dir.path()).unwrap_err());
        assert!(err.to_string().contains("dayshift init"));
        assert_eq!(err.exit_code(), 2);
    }
}
