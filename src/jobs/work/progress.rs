//! What the work loop is doing right now, for the people watching: a spinner line on a
//! terminal (task, attempt, what runs, elapsed time), plain lines when stderr is not a
//! terminal (a pipe, the daemon), the same lines in the job's log, and
//! `.dayshift/work-now.json` for `dayshift status` in another terminal.
//!
//! The file is written before each step and removed when the run ends; a file left by a
//! killed run is ignored by `status` (it shows the work only while the job lock is held).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::home::Home;
use crate::logging::FILES_ONLY;
use crate::tasks::Task;

/// What `status` reads: the task being worked and the step it is at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkNow {
    pub task: String,
    pub title: String,
    pub attempt: u32,
    pub attempts: u32,
    /// `running aider`, `running the tests`, …
    pub step: String,
    /// When the attempt started (RFC 3339).
    pub since: String,
}

impl WorkNow {
    /// The file that holds it in `home`.
    pub fn path(home: &Home) -> PathBuf {
        home.state_dir().join("work-now.json")
    }

    /// What a work run is doing now, when one is running (the job lock is held).
    pub fn read(home: &Home) -> Option<Self> {
        if !crate::lockfile::is_held(&home.job_lock()) {
            return None;
        }
        let text = std::fs::read_to_string(Self::path(home)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// `T-0007 attempt 2/3 · running aider · Fix the login redirect`.
    pub fn line(&self) -> String {
        format!(
            "{} attempt {}/{} · {} · {}",
            self.task, self.attempt, self.attempts, self.step, self.title
        )
    }
}

/// Shows the work loop's steps; one per work run.
pub(super) struct Progress {
    file: PathBuf,
    spinner: Option<ProgressBar>,
    now: Option<WorkNow>,
    attempt_started: Instant,
    task_started: Instant,
}

impl Progress {
    pub(super) fn new(home: &Home) -> Self {
        let spinner = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} · {elapsed}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            file: WorkNow::path(home),
            spinner,
            now: None,
            attempt_started: Instant::now(),
            task_started: Instant::now(),
        }
    }

    /// Attempt `attempt` of `attempts` at `task` starts.
    pub(super) fn attempt(&mut self, task: &Task, attempt: u32, attempts: u32, step: &str) {
        self.attempt_started = Instant::now();
        if self.now.is_none() {
            self.task_started = self.attempt_started;
        }
        if let Some(bar) = &self.spinner {
            bar.reset_elapsed();
        }
        self.now = Some(WorkNow {
            task: task.meta.id.to_string(),
            title: task.meta.title.clone(),
            attempt,
            attempts,
            step: step.to_string(),
            since: chrono::Utc::now().to_rfc3339(),
        });
        self.show();
    }

    /// The attempt moves on to `step` (`running the tests`, `committing`, …).
    pub(super) fn step(&mut self, step: &str) {
        if let Some(now) = &mut self.now {
            now.step = step.to_string();
        }
        self.show();
    }

    /// How the task ended, as one line that stays on the terminal.
    /// One line for the people watching (and the log), above the spinner.
    pub(super) fn say(&self, line: &str) {
        tracing::info!(target: FILES_ONLY, "{line}");
        match &self.spinner {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub(super) fn ended(&mut self, outcome: &str) {
        let Some(now) = self.now.take() else {
            return;
        };
        let line = format!(
            "{} {} after {} attempt(s), {}",
            now.task,
            outcome,
            now.attempt,
            elapsed(self.task_started.elapsed())
        );
        self.say(&line);
        let _ = std::fs::remove_file(&self.file);
    }

    fn show(&self) {
        let Some(now) = &self.now else {
            return;
        };
        let line = now.line();
        tracing::info!(target: FILES_ONLY, "{line}");
        match &self.spinner {
            Some(bar) => bar.set_message(line),
            None => eprintln!("{line} · {}", elapsed(self.attempt_started.elapsed())),
        }
        if let Ok(json) = serde_json::to_vec(now) {
            let _ = crate::fsx::write_atomic(&self.file, &json);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.spinner {
            bar.finish_and_clear();
        }
        let _ = std::fs::remove_file(&self.file);
    }
}

/// `42s`, `3m05s`.
fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_task_attempt_step_and_title() {
        let now = WorkNow {
            task: "T-0007".into(),
            title: "Fix the login redirect".into(),
            attempt: 2,
            attempts: 3,
            step: "running aider".into(),
            since: "2026-11-27T10:00:00Z".into(),
        };
        assert_eq!(
            now.line(),
            "T-0007 attempt 2/3 · running aider · Fix the login redirect"
        );
        assert_eq!(elapsed(Duration::from_secs(185)), "3m05s");
        assert_eq!(elapsed(Duration::from_secs(9)), "9s");
    }
}
