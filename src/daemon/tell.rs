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

/// Audit one of the daemon's moments (`daemon.started` …) and send what is due.
pub async fn announce(home: &Home, action: &'static str, why: String) {
    let home = home.clone();
    let done = tokio::task::spawn_blocking(move || {
        let ctx = Ctx::open(home, None)?;
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
        Ok(Err(e)) => warn!("{action} could not be recorded: {e}"),
        Err(e) => warn!("{action} could not be recorded: {e}"),
    }
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
