//! The outbox, not fire-and-forget: a notice is rendered for each channel that wants it,
//! redacted, and written to the store ([`enqueue`]) before anything is sent; [`flush`]
//! then sends what is due, channel by channel, in the order it was written, and marks each
//! message sent only after the channel confirmed it.
//!
//! What cannot be sent now (the channel down, no network, rate limited past the wait)
//! stays and is sent by a later flush — the next job, the next run, the daemon — still in
//! order: a channel stops at its first message that must wait. Quiet hours hold the
//! messages that are not urgent (urgent ones go, and may so pass older quiet ones).
//! A message older than `max_age_hours` is dropped with a log line.
//!
//! Delivery is at-least-once only where the channel gave no answer: a message is claimed
//! (`sending`) before its request and marked `sent` after the 2xx; a crash between the two
//! leaves it claimed, and the next flush sends it again — one duplicate at most, and only
//! of the message the crash interrupted. One process flushes at a time (a lock file).

use chrono::{DateTime, FixedOffset};

use super::channel::{FailureKind, Outlet, Patience, render};
use super::{Notice, NoticeKind};
use crate::config::Config;
use crate::home::Home;
use crate::lockfile::FileLock;
use crate::store::{NewOutboxItem, OutboxRow, OutboxState, Store, StoreError};

/// A notice and, when it must be told once only, its key (e.g. `stopped:2026-12-06:…`).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub notice: Notice,
    pub dedupe: Option<String>,
}

impl From<Notice> for Outgoing {
    fn from(notice: Notice) -> Self {
        Self {
            notice,
            dedupe: None,
        }
    }
}

/// Write each notice, rendered for each channel that wants it and redacted, to the outbox
/// (and move the event cursor to `cursor` in the same transaction). Returns the messages
/// written.
pub fn enqueue(
    config: &Config,
    store: &Store,
    outgoing: &[Outgoing],
    cursor: Option<i64>,
) -> Result<usize, StoreError> {
    let mut items = Vec::new();
    for out in outgoing {
        let notice = &out.notice;
        for channel in config
            .notify
            .channels
            .iter()
            .filter(|c| c.wants(notice.kind))
        {
            let bodies = render(channel, notice);
            let parts = bodies.len() as u32;
            for (part, mut body) in bodies.into_iter().enumerate() {
                config.secrets.redactor().redact_json(&mut body);
                items.push(NewOutboxItem {
                    channel: channel.name.to_string(),
                    kind: notice.kind.kind().to_string(),
                    task: notice.task.clone(),
                    title: config.secrets.redact(&notice.title),
                    urgent: notice.urgent,
                    dedupe: out.dedupe.clone(),
                    created: notice.at,
                    part: part as u32,
                    parts,
                    payload: body.to_string(),
                });
            }
        }
    }
    if items.is_empty() && cursor.is_none() {
        return Ok(0);
    }
    store.outbox_enqueue(&items, cursor)
}

/// What one flush did.
#[derive(Debug, Default)]
pub struct Delivery {
    /// Confirmed by their channel now.
    pub sent: Vec<OutboxRow>,
    /// Older than the age limit, given up.
    pub dropped: Vec<OutboxRow>,
    /// Refused for good by their channel, with why.
    pub failed: Vec<(OutboxRow, String)>,
    /// Left for a later flush (a channel down or unusable, quiet hours).
    pub waiting: usize,
    /// Of those, held by the quiet hours.
    pub quiet: usize,
    /// Why channels stopped (one line each, never holding a URL).
    pub problems: Vec<String>,
    /// Another process is flushing; this one sent nothing.
    pub busy: bool,
}

/// Send what is due, as the module says. `now` is in the schedule's time zone.
pub fn flush(
    home: &Home,
    config: &Config,
    store: &Store,
    now: DateTime<FixedOffset>,
    patience: Patience,
) -> Result<Delivery, StoreError> {
    let mut delivery = Delivery::default();
    let lock_path = home.notify_lock();
    let _lock = match FileLock::try_acquire(&lock_path) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            delivery.busy = true;
            return Ok(delivery);
        }
        Err(e) => {
            delivery
                .problems
                .push(format!("{}: cannot lock: {e}", lock_path.display()));
            return Ok(delivery);
        }
    };
    let oldest = now - chrono::Duration::hours(i64::from(config.notify.max_age_hours));
    for row in store.outbox_all_unsent()? {
        if row.created < oldest {
            tracing::warn!(
                "dropped notification #{} ({} on {}, \"{}\"): not sent for {} hours{}",
                row.id,
                row.kind,
                row.channel,
                row.title,
                config.notify.max_age_hours,
                row.last_error
                    .as_deref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default()
            );
            store.outbox_finish(row.id, OutboxState::Dropped, None, now)?;
            delivery.dropped.push(row);
        }
    }
    let quiet = config
        .notify
        .quiet_hours
        .is_some_and(|q| q.contains(now.time()));
    for channel in &config.notify.channels {
        let rows = store.outbox_unsent(channel.name)?;
        if rows.is_empty() {
            continue;
        }
        let outlet = match Outlet::open(channel, &config.secrets, patience) {
            Ok(outlet) => outlet,
            Err(failure) => {
                delivery.waiting += rows.len();
                delivery.problems.push(failure.message);
                continue;
            }
        };
        for (n, row) in rows.iter().enumerate() {
            if quiet && !row.urgent && row.kind != NoticeKind::Test.kind() {
                delivery.waiting += 1;
                delivery.quiet += 1;
                continue;
            }
            let Ok(body) = serde_json::from_str::<serde_json::Value>(&row.payload) else {
                // written by dayshift as JSON: only a damaged store gets here; never send null
                let why = "the stored message is not JSON (the store was damaged); it was not sent";
                tracing::error!("notification #{}: {why}", row.id);
                store.outbox_finish(row.id, OutboxState::Failed, Some(why), now)?;
                delivery.failed.push((row.clone(), why.to_string()));
                continue;
            };
            store.outbox_claim(row.id)?;
            match outlet.send(&body) {
                Ok(()) => {
                    store.outbox_finish(row.id, OutboxState::Sent, None, now)?;
                    delivery.sent.push(row.clone());
                }
                Err(failure) if failure.kind == FailureKind::Refused => {
                    tracing::error!("notification #{} was refused: {failure}", row.id);
                    store.outbox_finish(
                        row.id,
                        OutboxState::Failed,
                        Some(&failure.message),
                        now,
                    )?;
                    delivery.failed.push((row.clone(), failure.message));
                }
                Err(failure) => {
                    store.outbox_retry_later(row.id, &failure.message)?;
                    delivery.waiting += rows.len() - n;
                    delivery.problems.push(failure.message);
                    break;
                }
            }
        }
    }
    Ok(delivery)
}
