//! What happens when a job is due (on its timer or as a catch-up).
//!
//! In order: nothing while the daemon is stopping; nothing while the STOP file exists
//! (logged as `paused: STOP file present`); nothing when the same job is still queued or
//! running — a job never runs on top of itself. Then the job waits for its turn (one job at
//! a time in this daemon: waiting jobs hold no blocking thread, and a stop drops the ones
//! not yet started), checks STOP and stopping again, and runs on a blocking thread
//! with a fresh [`Ctx`] through [`jobs::run_job`], which records the run, takes the
//! cross-process job lock and audits. A failed or panicking job is logged; the daemon goes on.
//!
//! Every job and every mirror sync holds a [`Busy`] token; a graceful stop waits until the
//! last one is dropped, so a job is never cut off mid-write.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::NaiveDate;
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::context::Ctx;
use crate::home::Home;
use crate::jobs::{self, JobName};

/// Why a job is being run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    Scheduled,
    CatchUp,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Scheduled => "scheduled",
            Trigger::CatchUp => "catch-up",
        }
    }
}

/// How a fire ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fired {
    Ok,
    Failed,
    Skipped,
}

/// The state every timer, the catch-up and the watcher share.
pub(super) struct Daemon {
    pub home: Home,
    /// Set by the first stop signal: nothing new starts after it.
    stopping: AtomicBool,
    /// Jobs queued for their turn or running; a job in here is not fired again.
    active: Mutex<BTreeSet<JobName>>,
    /// One job (or mirror sync) at a time in this daemon.
    pub turn: tokio::sync::Mutex<()>,
    /// How many jobs and syncs are in flight; a stop waits for zero.
    busy: watch::Sender<usize>,
    /// Task-file problems already logged, so each is logged once, not on every sync.
    reported: Mutex<HashSet<String>>,
}

/// A unit of work in flight; dropping it lets a waiting stop go on.
pub(super) struct Busy<'a>(&'a watch::Sender<usize>);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Releases a job's place in `active`, whatever way its run ends.
struct Claim<'a> {
    daemon: &'a Daemon,
    job: JobName,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        lock(&self.daemon.active).remove(&self.job);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Daemon {
    pub fn new(home: Home) -> Self {
        Self {
            home,
            stopping: AtomicBool::new(false),
            active: Mutex::new(BTreeSet::new()),
            turn: tokio::sync::Mutex::new(()),
            busy: watch::Sender::new(0),
            reported: Mutex::new(HashSet::new()),
        }
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    pub fn begin_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub fn busy(&self) -> Busy<'_> {
        self.busy.send_modify(|n| *n += 1);
        Busy(&self.busy)
    }

    /// Resolves once no job or sync is in flight.
    pub async fn idle(&self) {
        let mut rx = self.busy.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// The jobs running or waiting for their turn.
    pub fn active_jobs(&self) -> Vec<JobName> {
        lock(&self.active).iter().copied().collect()
    }

    fn paused(&self, job: JobName, trigger: Trigger) -> bool {
        let paused = self.home.stop_file().exists();
        if paused {
            info!(
                "{job} skipped ({}): paused: STOP file present; remove {} to resume",
                trigger.as_str(),
                self.home.stop_file().display()
            );
        }
        paused
    }

    /// Run `job` for `day` (today in the configured zone when `None`), unless something
    /// above says no.
    pub async fn fire(&self, job: JobName, day: Option<NaiveDate>, trigger: Trigger) -> Fired {
        if self.stopping() || self.paused(job, trigger) {
            return Fired::Skipped;
        }
        if !lock(&self.active).insert(job) {
            info!(
                "{job} skipped ({}): the previous {job} run is still going (a job never runs on top of itself)",
                trigger.as_str()
            );
            return Fired::Skipped;
        }
        let _claim = Claim { daemon: self, job };
        let _busy = self.busy();
        info!("{job} due ({})", trigger.as_str());
        let _turn = self.turn.lock().await;
        if self.stopping() {
            info!("{job} not started: the daemon is stopping");
            return Fired::Skipped;
        }
        if self.paused(job, trigger) {
            return Fired::Skipped;
        }
        let home = self.home.clone();
        let run = tokio::task::spawn_blocking(move || run_now(home, job, day)).await;
        super::release_memory();
        match run {
            Ok(Ok(day)) => {
                info!("{job} ({day}) ok");
                Fired::Ok
            }
            Ok(Err(message)) => {
                error!("{job} failed: {message}");
                Fired::Failed
            }
            Err(e) => {
                error!(
                    "{job} crashed ({e}); the daemon goes on, the run is closed as interrupted at the next job"
                );
                Fired::Failed
            }
        }
    }

    /// Log each task-file problem once (and again if it comes back after a fix).
    pub fn report_problems(&self, problems: &[crate::error::FileProblem]) {
        let mut reported = lock(&self.reported);
        let now: HashSet<String> = problems.iter().map(ToString::to_string).collect();
        for problem in problems {
            if !reported.contains(&problem.to_string()) {
                warn!("task file cannot be read: {problem} (the file was left where it is)");
            }
        }
        *reported = now;
    }
}

/// The blocking part: open a fresh context and run the job (which logs its own summary).
/// Errors come back as text with secrets redacted.
fn run_now(home: Home, job: JobName, day: Option<NaiveDate>) -> Result<NaiveDate, String> {
    let mut ctx = Ctx::open(home, None).map_err(|e| e.to_string())?;
    let day = day.unwrap_or_else(|| ctx.today());
    match jobs::run_job(&mut ctx, job, day) {
        Ok(_) => Ok(day),
        Err(e) => Err(ctx.config.secrets.redact(&e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn daemon() -> (tempfile::TempDir, Arc<Daemon>) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("h"), "UTC").unwrap();
        (dir, Arc::new(Daemon::new(home)))
    }

    #[tokio::test]
    async fn a_job_runs_and_is_recorded() {
        let (_dir, d) = daemon();
        assert_eq!(
            d.fire(JobName::Morning, None, Trigger::Scheduled).await,
            Fired::Ok
        );
        let ctx = Ctx::open(d.home.clone(), None).unwrap();
        assert!(ctx.store.ran_ok("morning", ctx.today()).unwrap());
        assert!(d.active_jobs().is_empty(), "the claim is released");
        tokio::time::timeout(std::time::Duration::from_secs(1), d.idle())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_stop_file_skips_a_job_without_recording_a_run() {
        let (_dir, d) = daemon();
        std::fs::write(d.home.stop_file(), "").unwrap();
        assert_eq!(
            d.fire(JobName::Morning, None, Trigger::Scheduled).await,
            Fired::Skipped
        );
        let ctx = Ctx::open(d.home.clone(), None).unwrap();
        assert!(ctx.store.last_run("morning").unwrap().is_none());
    }

    #[tokio::test]
    async fn a_job_is_not_fired_on_top_of_itself_nor_after_stop() {
        let (_dir, d) = daemon();
        let turn = d.turn.lock().await; // another job holds the turn
        let first = tokio::spawn({
            let d = d.clone();
            async move { d.fire(JobName::Morning, None, Trigger::Scheduled).await }
        });
        while d.active_jobs().is_empty() {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            d.fire(JobName::Morning, None, Trigger::Scheduled).await,
            Fired::Skipped
        );
        d.begin_stop();
        drop(turn);
        assert_eq!(
            first.await.unwrap(),
            Fired::Skipped,
            "a job still waiting for its turn does not start after a stop"
        );
        assert_eq!(
            d.fire(JobName::Wrapup, None, Trigger::Scheduled).await,
            Fired::Skipped
        );
        let ctx = Ctx::open(d.home.clone(), None).unwrap();
        assert!(ctx.store.last_run("morning").unwrap().is_none());
    }

    #[tokio::test]
    async fn a_failing_job_is_reported_not_fatal() {
        let (_dir, d) = daemon();
        std::fs::write(d.home.vision(), "no headings at all\n").unwrap();
        let fired = d.fire(JobName::Plan, None, Trigger::CatchUp).await;
        assert_eq!(fired, Fired::Failed);
        assert_eq!(
            d.fire(JobName::Morning, None, Trigger::Scheduled).await,
            Fired::Failed,
            "the daemon keeps firing"
        );
    }
}
