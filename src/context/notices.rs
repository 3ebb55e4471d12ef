//! Telling the people, from any job: a notice a job built goes to the outbox, the audit
//! events since the last time become notices, and what is due is sent — audited as
//! `notify.sent`, `notify.dropped` and `notify.failed`. A notification that cannot be sent
//! never fails the job that asked; it waits in the outbox and the reason is logged.

use crate::notify::{self, Delivery, Outgoing, Patience};
use crate::store::Event;

use super::Ctx;

impl Ctx {
    /// Post `notice` (a summary a job built): written to the outbox, then what is due is
    /// sent, briefly (what fails waits for the next flush).
    pub fn notify(&self, notice: impl Into<Outgoing>) {
        if !self.config.notify.is_on() {
            return;
        }
        if let Err(e) = notify::outbox::enqueue(&self.config, &self.store, &[notice.into()], None) {
            tracing::warn!("a notification could not be written to the outbox: {e}");
        }
        self.deliver_notices(Patience::Brief);
    }

    /// Turn the audit events recorded since the last time into notices, send what is due
    /// and audit what happened. `None` when no channel is configured.
    pub fn deliver_notices(&self, patience: Patience) -> Option<Delivery> {
        if !self.config.notify.is_on() {
            return None;
        }
        if let Err(e) = notify::events::collect(&self.config, &self.store) {
            tracing::warn!("the audit events could not be turned into notifications: {e}");
        }
        let delivery =
            notify::outbox::flush(&self.home, &self.config, &self.store, self.now(), patience);
        match delivery {
            Ok(delivery) => {
                self.audit_delivery(&delivery);
                Some(delivery)
            }
            Err(e) => {
                tracing::warn!("the outbox could not be read: {e}");
                None
            }
        }
    }

    fn audit_delivery(&self, delivery: &Delivery) {
        let rows = delivery
            .sent
            .iter()
            .map(|row| ("notify.sent", row, None))
            .chain(
                delivery
                    .dropped
                    .iter()
                    .map(|row| ("notify.dropped", row, row.last_error.as_deref())),
            )
            .chain(
                delivery
                    .failed
                    .iter()
                    .map(|(row, why)| ("notify.failed", row, Some(why.as_str()))),
            );
        for (action, row, why) in rows {
            let detail = serde_json::json!({
                "outbox_id": row.id,
                "channel": row.channel,
                "kind": row.kind,
                "part": row.part + 1,
                "parts": row.parts,
                "why": why,
            });
            let mut event = Event::new(self.now(), "dayshift", action).detail(detail);
            event.task = row.task.as_deref().and_then(|t| t.parse().ok());
            if let Err(e) = self.audit(event) {
                tracing::warn!("{action} could not be audited: {e}");
            }
        }
        for problem in &delivery.problems {
            tracing::warn!("notifications wait: {problem}");
        }
    }
}
