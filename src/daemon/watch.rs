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
//!
//! The watcher is also how a person's hand edit of `approval: approved` counts: when the
//! event arrives while no job holds the job lock (no agent process runs), the sync records
//! the approval as given by `hand edit` ([`Ctx::grant_approval`]); when it arrives while a
//! job holds it, an agent may have written it, so it is flagged `approval.unverified` and
//! set back to pending. Either way the work loop merges only on a record
//! ([`Ctx::verify_approval`]), so an edit the watcher never saw is never taken for a
//! person's.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::fire::Daemon;
use crate::context::{Ctx, Verdict};
use crate::error::{IoContext, Result};
use crate::fsx::TMP_MARKER;
use crate::lockfile::{self, FileLock};
use crate::store::Reconciled;
use crate::tasks::{Approval, TaskId};

/// A sync waits until the folders have been quiet this long…
const QUIET: Duration = Duration::from_millis(300);
/// …but no longer than this after the first event.
const MAX_DELAY: Duration = Duration::from_secs(2);
/// Retry delay while another process runs a job.
const RETRY: Duration = Duration::from_secs(1);

/// Task files (by file name: a move keeps it) the watcher saw change, split by whether a
/// job held the job lock at that moment.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// Changed while no job ran: an approval in them is a person's hand edit.
    free: HashSet<String>,
    /// Changed while a job ran: an approval in them may be an agent's.
    during_job: HashSet<String>,
}

impl Seen {
    fn note(&mut self, event: &Event, job_running: bool) {
        for path in event.paths.iter().filter(|p| !is_temp(p)) {
            if let Some(name) = path.file_name() {
                let name = name.to_string_lossy().into_owned();
                if job_running {
                    self.during_job.insert(name);
                } else {
                    self.free.insert(name);
                }
            }
        }
    }
}

/// Watch `tasks/` recursively; the returned watcher stops watching when dropped.
pub(super) fn start(daemon: Arc<Daemon>) -> notify::Result<RecommendedWatcher> {
    let (tx, rx) = mpsc::channel::<()>(1);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let noted = seen.clone();
    let job_lock = daemon.home.job_lock();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<Event>| match event {
            Ok(event) if relevant(&event) => {
                let job_running = lockfile::is_held(&job_lock);
                noted
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .note(&event, job_running);
                let _ = tx.try_send(()); // full: a sync is already pending
            }
            Ok(_) => {}
            Err(e) => warn!("task folder watcher: {e}"),
        })?;
    watcher.watch(&daemon.home.tasks_dir(), RecursiveMode::Recursive)?;
    tokio::spawn(debounce(daemon, rx, seen));
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

async fn debounce(daemon: Arc<Daemon>, mut rx: mpsc::Receiver<()>, seen: Arc<Mutex<Seen>>) {
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
        while !sync_seen(&daemon, &seen).await && !daemon.stopping() {
            tokio::time::sleep(RETRY).await;
        }
    }
}

/// Sync the task mirror with the folders now. False when a job of another process holds
/// the job lock (try again later); problems are logged, not returned.
pub(super) async fn sync(daemon: &Arc<Daemon>) -> bool {
    sync_seen(daemon, &Arc::new(Mutex::new(Seen::default()))).await
}

/// [`sync`], judging the approvals in the files the watcher saw change ([`judge_approvals`]).
async fn sync_seen(daemon: &Arc<Daemon>, seen: &Arc<Mutex<Seen>>) -> bool {
    if daemon.stopping() {
        return true;
    }
    let _busy = daemon.busy();
    let _turn = daemon.turn.lock().await;
    let home = daemon.home.clone();
    let seen = seen.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<Option<Reconciled>> {
        let path = home.job_lock();
        let Some(_lock) = FileLock::try_acquire(&path).at_path(&path)? else {
            return Ok(None);
        };
        let mut ctx = Ctx::open(home, None)?;
        let before: HashMap<TaskId, Option<Approval>> = ctx
            .store
            .tasks()?
            .into_iter()
            .map(|t| (t.id, t.approval))
            .collect();
        let found = ctx.reconcile()?;
        let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
        judge_approvals(&ctx, &before, &seen)?;
        Ok(Some(found))
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

/// The approvals in task files the watcher saw change (call holding the job lock, after
/// the reconcile): a file changed while a job ran that claims `approved` with no record is
/// flagged; one a person changed to `approved` while no job ran is recorded as a hand
/// edit. Files the watcher did not see are left to the work loop's check.
pub(super) fn judge_approvals(
    ctx: &Ctx,
    before: &HashMap<TaskId, Option<Approval>>,
    seen: &Seen,
) -> Result<()> {
    for row in ctx.store.tasks()? {
        if row.approval != Some(Approval::Approved) || !row.state.is_open() {
            continue;
        }
        let name = Path::new(&row.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let during_job = seen.during_job.contains(&name);
        let by_hand = seen.free.contains(&name)
            && before.get(&row.id).copied().flatten() != Some(Approval::Approved);
        if !during_job && !by_hand {
            continue;
        }
        let mut task = ctx.queue.find(row.id)?;
        if let Verdict::Granted { .. } = ctx.verify_approval(&task)? {
            continue;
        }
        if during_job {
            warn!(
                "{}: `approval: approved` was written while a job ran; not taken as a person's approval",
                row.path
            );
            ctx.flag_unverified(
                &mut task,
                "dayshift",
                "the approval was written into the file while a job (and its agents) ran",
            )?;
        } else {
            info!("{}: approved by hand; recorded", row.path);
            ctx.grant_approval(&mut task, "hand edit", "watcher")?;
        }
    }
    Ok(())
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
