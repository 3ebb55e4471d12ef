//! The daemon and the people: its start, stop and recovery from a crash are audited
//! (`daemon.started`, `daemon.stopped`, `daemon.recovered`: told to the channels whose
//! `events` include `daemon`), and the outbox is flushed every few minutes, so what
//! could not be sent during a job (Discord down, no network) goes out once it can.

use std::time::Duration;

use tracing::warn;

use crate::context::Ctx;
use crate::home::Home;
use crate::notify::Patience;
use crate::store::Event;

/// How often the daemon sends what waits in the outbox.
const FLUSH_EVERY: Duration = Duration::from_secs(300);

/// Audit the start: `daemon.recovered` when the last daemon started and never recorded its
/// stop (it crashed or was killed), else `daemon.started`; then send what is due.
pub async fn announce_start(home: &Home) {
    announce(home, None).await;
}

/// Audit `action` (`daemon.stopped` …, or the start when `None`) and send what is due.
pub async fn announce(home: &Home, action: Option<(&'static str, String)>) {
    let home = home.clone();
    let done = tokio::task::spawn_blocking(move || {
        let ctx = Ctx::open(home, None)?;
        let (action, why) = match action {
            Some(given) => given,
            None => start_kind(&ctx)?,
        };
        ctx.audit(
            Event::new(ctx.now(), "dayshift", action)
                .detail(serde_json::json!({"why": why, "pid": std::process::id()})),
        )?;
        ctx.deliver_notices(Patience::Full);
        Ok::<(), crate::error::Error>(())
    })
    .await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => warn!("the daemon's start or stop could not be recorded: {e}"),
        Err(e) => warn!("the daemon's start or stop could not be recorded: {e}"),
    }
}

/// Whether this start follows a clean stop (`daemon.started`) or a daemon that never
/// recorded its stop (`daemon.recovered`).
fn start_kind(ctx: &Ctx) -> crate::error::Result<(&'static str, String)> {
    let last_start = [
        ctx.store.last_event("daemon.started")?,
        ctx.store.last_event("daemon.recovered")?,
    ]
    .into_iter()
    .flatten()
    .map(|e| e.at)
    .max();
    let last_stop = ctx.store.last_event("daemon.stopped")?.map(|e| e.at);
    Ok(match (last_start, last_stop) {
        (Some(started), stopped) if stopped.is_none_or(|s| s < started) => (
            "daemon.recovered",
            "the last daemon ended without stopping (a crash or a kill); runs it left open are closed and its tasks resume".into(),
        ),
        _ => ("daemon.started", "started".into()),
    })
}

/// Send what waits in the outbox every [`FLUSH_EVERY`], until the task is aborted.
pub async fn keep_delivering(home: Home) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.tick().await;
    loop {
        tick.tick().await;
        let home = home.clone();
        let flushed = tokio::task::spawn_blocking(move || {
            let ctx = Ctx::open(home, None)?;
            ctx.deliver_notices(Patience::Full);
            Ok::<(), crate::error::Error>(())
        })
        .await;
        if let Ok(Err(e)) = flushed {
            warn!("the outbox could not be sent: {e}");
        }
    }
}
