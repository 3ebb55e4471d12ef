//! The task folders, watched: a person moving or editing a task file is mirrored into the
//! store within a second, without waiting for the next job.
//!
//! notify's callback (on its own thread) only drops a token into a one-slot channel, so a
//! burst of events costs one sync. The sync waits for a quiet period ([`QUIET`], at most
//! [`MAX_DELAY`] after the first event), then runs on a blocking thread. It takes the
//! daemon's turn and the cross-process job lock, because a job moves a file and then
//! mirrors it: a sync in between would take dayshift's own move for a person's. When a job
//! of another process holds the lock, the sync retries after it (that job syncs too).
//! Reads (inotify `OPEN`/`CLOSE` events, caused by the sync itself) and dayshift's temp
//! files are ignored.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::fire::Daemon;
use crate::context::Ctx;
use crate::error::{IoContext, Result};
use crate::fsx::TMP_MARKER;
use crate::lockfile::FileLock;
use crate::store::Reconciled;

/// A sync waits until the folders have been quiet this long…
const QUIET: Duration = Duration::from_millis(300);
/// …but no longer than this after the first event.
const MAX_DELAY: Duration = Duration::from_secs(2);
/// Retry delay while another process runs a job.
const RETRY: Duration = Duration::from_secs(1);

/// Watch `tasks/` recursively; the returned watcher stops watching when dropped.
pub(super) fn start(daemon: Arc<Daemon>) -> notify::Result<RecommendedWatcher> {
    let (tx, rx) = mpsc::channel::<()>(1);
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<Event>| match event {
            Ok(event) if relevant(&event) => {
                let _ = tx.try_send(()); // full: a sync is already pending
            }
            Ok(_) => {}
            Err(e) => warn!("task folder watcher: {e}"),
        })?;
    watcher.watch(&daemon.home.tasks_dir(), RecursiveMode::Recursive)?;
    tokio::spawn(debounce(daemon, rx));
    Ok(watcher)
}

fn relevant(event: &Event) -> bool {
    if matches!(event.kind, EventKind::Access(_)) {
        return false;
    }
    event.need_rescan() || event.paths.is_empty() || event.paths.iter().any(|p| !is_temp(p))
}

fn is_temp(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().contains(TMP_MARKER))
}

async fn debounce(daemon: Arc<Daemon>, mut rx: mpsc::Receiver<()>) {
    while rx.recv().await.is_some() {
        let latest = Instant::now() + MAX_DELAY;
        loop {
            let wait = QUIET.min(latest.saturating_duration_since(Instant::now()));
            match tokio::time::timeout(wait, rx.recv()).await {
                Ok(Some(())) if Instant::now() < latest => continue,
                Ok(None) => return,
                _ => break,
            }
        }
        while !sync(&daemon).await && !daemon.stopping() {
            tokio::time::sleep(RETRY).await;
        }
    }
}

/// Sync the task mirror with the folders now. False when a job of another process holds
/// the job lock (try again later); problems are logged, not returned.
pub(super) async fn sync(daemon: &Arc<Daemon>) -> bool {
    if daemon.stopping() {
        return true;
    }
    let _busy = daemon.busy();
    let _turn = daemon.turn.lock().await;
    let home = daemon.home.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<Option<Reconciled>> {
        let path = home.job_lock();
        let Some(_lock) = FileLock::try_acquire(&path).at_path(&path)? else {
            return Ok(None);
        };
        let mut ctx = Ctx::open(home, None)?;
        ctx.reconcile().map(Some)
    })
    .await;
    super::release_memory();
    match result {
        Ok(Ok(Some(found))) => {
            for (id, from, to) in &found.moved_by_hand {
                info!("task {id} moved by hand: {from} → {to}");
            }
            if found.reread > 0 || found.removed > 0 {
                info!(
                    "task mirror synced: {} file(s) re-read, {} gone",
                    found.reread, found.removed
                );
            }
            daemon.report_problems(&found.problems);
            true
        }
        Ok(Ok(None)) => {
            debug!("a job of another process is running; the task mirror syncs after it");
            false
        }
        Ok(Err(e)) => {
            warn!("task mirror sync failed: {e}");
            true
        }
        Err(e) => {
            warn!("task mirror sync crashed: {e}");
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
    use std::path::PathBuf;

    fn event(kind: EventKind, path: &str) -> Event {
        Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn reads_and_temp_files_are_ignored_moves_and_writes_are_not() {
        let tmp = format!("tasks/backlog/.T-0001.md{TMP_MARKER}12.0");
        assert!(!relevant(&event(
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            "tasks/backlog/T-0001.md"
        )));
        assert!(!relevant(&event(
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            "tasks/backlog/T-0001.md"
        )));
        assert!(!relevant(&event(EventKind::Create(CreateKind::File), &tmp)));
        assert!(relevant(&event(
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            "tasks/failed/T-0001.md"
        )));
        assert!(relevant(&event(
            EventKind::Create(CreateKind::File),
            "tasks/backlog/T-0002.md"
        )));
        let renamed = event(EventKind::Modify(ModifyKind::Name(RenameMode::Both)), &tmp)
            .add_path(PathBuf::from("tasks/backlog/T-0001.md"));
        assert!(
            relevant(&renamed),
            "a temp file renamed into place is a change"
        );
    }
}
