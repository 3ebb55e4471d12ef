//! Where a coding-tool run's whole output is kept: `logs/runs/<ID>/attempt-<N>.log`,
//! redacted.

use std::path::PathBuf;

use super::TaskRun;
use crate::fsx;
use crate::tasks::Task;

impl TaskRun<'_> {
    /// Where attempt `attempt`'s whole tool output is kept: `logs/runs/<ID>/attempt-<N>.log`.
    pub(super) fn run_log(&self, task: &Task, attempt: u32) -> PathBuf {
        self.ctx
            .home
            .logs_dir()
            .join("runs")
            .join(task.meta.id.to_string())
            .join(format!("attempt-{attempt}.log"))
    }

    /// Keep a run's output, redacted (a tool may echo a key), written atomically. A failure
    /// to keep it is warned about, never fatal to the attempt.
    pub(super) fn keep_output(&self, path: &std::path::Path, output: &str) {
        let clean = self.ctx.redact(output);
        let kept = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| fsx::write_atomic(path, clean.as_bytes()));
        if let Err(e) = kept {
            tracing::warn!("cannot keep the tool's output in {}: {e}", path.display());
        }
    }
}
