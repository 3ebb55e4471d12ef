//! The daemon's life: lock, logging, runtime, timers, pid file, watcher, catch-up, and a
//! graceful stop on SIGTERM, SIGINT or SIGHUP.
//!
//! Start order matters to `dayshift start`, which returns once the pid file names the new
//! process: the lock is taken first, then the config is read, the timers are set and the
//! task folders watched, and only then is the pid file written. A config error therefore ends the daemon before
//! `start` reports success, and `start` shows it. Stop order: no new job starts, the timers
//! and the watcher go, the job in flight finishes (never aborted mid-write), the pid file
//! is removed, the lock is released by the exit.

use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tracing::{error, info, warn};

use super::fire::Daemon;
use super::process::{already_running, remove_own_pid, write_pid};
use super::{DaemonError, catchup, schedule, tell, watch};
use crate::context::Ctx;
use crate::error::{IoContext, Result};
use crate::home::Home;
use crate::lockfile::FileLock;
use crate::logging;

/// Worker threads of the runtime: timers, signals and the watcher need little; jobs run on
/// the blocking pool.
const WORKERS: usize = 2;
/// At most this many blocking threads (one job at a time, plus syncs and start-up reads).
const MAX_BLOCKING: usize = 4;

pub fn run_foreground(home: Home) -> Result<()> {
    let lock_path = home.daemon_lock();
    let Some(lock) = take_lock(&lock_path)? else {
        return Err(already_running(&home).into());
    };
    // Holding the lock, any pid file is a dead daemon's: it must not name us-to-be to `stop`.
    let _ = std::fs::remove_file(home.pid_file());
    let _logs = logging::init_daemon(&home);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .max_blocking_threads(MAX_BLOCKING)
        .thread_name("dayshift")
        .enable_all()
        .build()
        .map_err(|e| DaemonError::Failed(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(serve(home.clone()));
    runtime.shutdown_timeout(Duration::from_secs(5));
    remove_own_pid(&home);
    if let Err(e) = &result {
        // Not on stderr: the command prints the error there itself.
        error!(target: logging::FILES_ONLY, "the daemon ended: {e}");
    }
    drop(lock);
    result
}

/// Take the daemon lock. A `dayshift status` probing the lock holds it for an instant, so
/// a busy lock is retried briefly before it counts as another daemon.
fn take_lock(path: &std::path::Path) -> Result<Option<FileLock>> {
    for _ in 0..10 {
        if let Some(lock) = FileLock::try_acquire(path).at_path(path)? {
            return Ok(Some(lock));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(None)
}

async fn serve(home: Home) -> Result<()> {
    let mut signals = Signals::listen()?;

    let opened = home.clone();
    let schedules = tokio::task::spawn_blocking(move || {
        Ctx::open(opened, None).map(|ctx| ctx.config.schedules)
    })
    .await
    .map_err(|e| DaemonError::Failed(format!("reading the config failed: {e}")))??;
    super::release_memory();

    let daemon = Arc::new(Daemon::new(home.clone()));
    watch::sync(&daemon).await;
    let scheduler = schedule::arm(&daemon, &schedules).await?;
    let (stop_timers, stopped) = tokio::sync::oneshot::channel();
    let timers = tokio::spawn(schedule::keep_armed(
        daemon.clone(),
        scheduler,
        schedules,
        stopped,
    ));
    let watcher = match watch::start(daemon.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            warn!(
                "task folders are not watched ({e}); the mirror is synced before each job and by `dayshift status`"
            );
            None
        }
    };
    write_pid(&home)?;
    info!(
        "daemon started (pid {}) for {}; `dayshift stop` stops it",
        std::process::id(),
        home.root().display()
    );
    if home.stop_file().exists() {
        info!("paused: STOP file present; jobs are skipped until it is removed");
    }
    tokio::spawn(catchup::catch_up(daemon.clone()));
    tell::announce_start(&home).await;
    let delivering = tokio::spawn(tell::keep_delivering(home.clone()));

    let signal = signals.next().await;
    daemon.begin_stop();
    // a running job's children (a coding tool, the tests) are stopped now; the work loop
    // leaves its task in progress, to resume at the next start
    crate::process::cancel_all();
    let running = daemon.active_jobs();
    if running.is_empty() {
        info!("{signal}: stopping");
    } else {
        let names: Vec<&str> = running.iter().map(|j| j.as_str()).collect();
        info!(
            "{signal}: stopping once {} finishes (no new job starts)",
            names.join(", ")
        );
    }
    let _ = stop_timers.send(());
    if let Ok(mut scheduler) = timers.await {
        let _ = scheduler.shutdown().await;
    }
    drop(watcher);
    loop {
        tokio::select! {
            _ = daemon.idle() => break,
            _ = signals.next() => say_still_finishing(&daemon),
        }
    }
    delivering.abort();
    tell::announce(
        &home,
        Some(("daemon.stopped", format!("stopped by {signal}"))),
    )
    .await;
    info!("stopped");
    Ok(())
}

fn say_still_finishing(daemon: &Daemon) {
    let names: Vec<&str> = daemon.active_jobs().iter().map(|j| j.as_str()).collect();
    warn!(
        "still finishing {} so that no file is left half-written; `kill -9 {}` ends it now",
        names.join(", "),
        std::process::id()
    );
}

/// The signals that stop the daemon: SIGTERM (`dayshift stop`, systemd), SIGINT (Ctrl-C)
/// and SIGHUP (the terminal of a foreground daemon closing).
struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    fn listen() -> Result<Self, DaemonError> {
        let on = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|e| DaemonError::Failed(format!("cannot listen for {name}: {e}")))
        };
        Ok(Self {
            term: on(SignalKind::terminate(), "SIGTERM")?,
            int: on(SignalKind::interrupt(), "SIGINT")?,
            hup: on(SignalKind::hangup(), "SIGHUP")?,
        })
    }

    /// The name of the next signal that arrives.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
            _ = self.hup.recv() => "SIGHUP",
        }
    }
}
