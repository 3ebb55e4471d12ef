//! `outbox`: every notification is written here before it is sent, one row per message
//! per channel (a long notice is several Discord messages), and marked `sent` only after
//! the channel confirmed it. A row is `pending` until a sender claims it (`sending`);
//! a row still `sending` when the next sender starts is one a crash interrupted between the
//! send and the mark: it is sent again (the one duplicate the docs allow). `dropped` rows
//! grew older than the age limit unsent; `failed` ones were refused for good (a 400).
//!
//! `notify_cursor` is the id of the last audit event the notifier turned into notices;
//! it moves in the same transaction as the rows it produced, so an event is notified
//! once, crash or not.

use chrono::{DateTime, FixedOffset};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::{Store, StoreError};

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Written, not sent yet (the channel was down, rate limited, or quiet hours hold it).
    Pending,
    /// Claimed by a sender; still so after a crash between the send and the mark.
    Sending,
    /// The channel confirmed it (2xx).
    Sent,
    /// Older than the age limit, never sent.
    Dropped,
    /// Refused for good (the channel said the message itself is wrong).
    Failed,
}

impl OutboxState {
    fn word(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Dropped => "dropped",
            OutboxState::Failed => "failed",
        }
    }

    fn from_word(word: &str) -> OutboxState {
        match word {
            "sending" => OutboxState::Sending,
            "sent" => OutboxState::Sent,
            "dropped" => OutboxState::Dropped,
            "failed" => OutboxState::Failed,
            _ => OutboxState::Pending,
        }
    }
}

impl std::fmt::Display for OutboxState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

/// A message to write to the outbox (already rendered for its channel and redacted).
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxItem {
    pub channel: String,
    /// The notice kind's stable name.
    pub kind: String,
    pub task: Option<String>,
    pub title: String,
    pub urgent: bool,
    /// Notices with the same key on the same channel are written once (a stopped loop
    /// retried hourly is told once a day).
    pub dedupe: Option<String>,
    pub created: DateTime<FixedOffset>,
    /// This message's place in its notice (0-based) and the notice's message count.
    pub part: u32,
    pub parts: u32,
    /// The body to POST, JSON.
    pub payload: String,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub channel: String,
    pub kind: String,
    pub task: Option<String>,
    pub title: String,
    pub urgent: bool,
    pub created: DateTime<FixedOffset>,
    pub part: u32,
    pub parts: u32,
    #[serde(skip)]
    pub payload: String,
    pub state: OutboxState,
    /// Sends tried that did not end in a confirmation.
    pub attempts: u32,
    pub last_error: Option<String>,
    /// When it was sent, dropped or failed.
    pub done_at: Option<DateTime<FixedOffset>>,
}

const COLUMNS: &str = "id, channel, kind, task_id, title, urgent, created, part, parts, payload, state, attempts, last_error, done_at";

impl Store {
    /// Write `items` (skipping any whose dedupe key its channel already has) and, when
    /// given, move the notifier's cursor to `cursor` — in one transaction. Returns how
    /// many rows were written.
    pub fn outbox_enqueue(
        &self,
        items: &[NewOutboxItem],
        cursor: Option<i64>,
    ) -> Result<usize, StoreError> {
        let result = (|| {
            let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            let mut written = 0;
            for item in items {
                written += tx.execute(
                    "INSERT OR IGNORE INTO outbox (channel, kind, task_id, title, urgent, dedupe, created, part, parts, payload, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending')",
                    params![
                        item.channel,
                        item.kind,
                        item.task,
                        item.title,
                        item.urgent,
                        item.dedupe,
                        item.created.to_rfc3339(),
                        item.part,
                        item.parts,
                        item.payload,
                    ],
                )?;
            }
            if let Some(cursor) = cursor {
                tx.execute(
                    "INSERT INTO notify_cursor (id, event_id) VALUES (1, ?1)
                     ON CONFLICT(id) DO UPDATE SET event_id = excluded.event_id",
                    [cursor],
                )?;
            }
            tx.commit()?;
            Ok(written)
        })();
        self.q(result)
    }

    /// The id of the last audit event turned into notices; `None` before the first time.
    pub fn notify_cursor(&self) -> Result<Option<i64>, StoreError> {
        self.q(self
            .conn
            .query_row("SELECT event_id FROM notify_cursor WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional())
    }

    /// The messages of `channel` not sent yet (pending, or claimed by a sender that
    /// died), in the order they were written.
    pub fn outbox_unsent(&self, channel: &str) -> Result<Vec<OutboxRow>, StoreError> {
        self.select_outbox(
            "WHERE channel = ?1 AND state IN ('pending', 'sending') ORDER BY id",
            params![channel],
        )
    }

    /// Every unsent message, of any channel (configured or not), oldest first.
    pub fn outbox_all_unsent(&self) -> Result<Vec<OutboxRow>, StoreError> {
        self.select_outbox(
            "WHERE state IN ('pending', 'sending') ORDER BY id",
            params![],
        )
    }

    /// The newest `limit` messages, oldest first (for `notify list`).
    pub fn outbox_recent(&self, limit: u32) -> Result<Vec<OutboxRow>, StoreError> {
        let mut rows = self.select_outbox("ORDER BY id DESC LIMIT ?1", params![limit])?;
        rows.reverse();
        Ok(rows)
    }

    /// The message `id`.
    pub fn outbox_row(&self, id: i64) -> Result<Option<OutboxRow>, StoreError> {
        Ok(self.select_outbox("WHERE id = ?1", params![id])?.pop())
    }

    /// Mark message `id` as being sent (before the request goes out).
    pub fn outbox_claim(&self, id: i64) -> Result<(), StoreError> {
        self.q(self
            .conn
            .execute("UPDATE outbox SET state = 'sending' WHERE id = ?1", [id]))?;
        Ok(())
    }

    /// Mark message `id` as `state` (sent, dropped or failed) at `at`, with the error that
    /// ended it, if any.
    pub fn outbox_finish(
        &self,
        id: i64,
        state: OutboxState,
        error: Option<&str>,
        at: DateTime<FixedOffset>,
    ) -> Result<(), StoreError> {
        self.q(self.conn.execute(
            "UPDATE outbox SET state = ?2, last_error = COALESCE(?3, last_error), done_at = ?4 WHERE id = ?1",
            params![id, state.word(), error, at.to_rfc3339()],
        ))?;
        Ok(())
    }

    /// Put message `id` back to pending after a send that did not succeed, noting why.
    pub fn outbox_retry_later(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.q(self.conn.execute(
            "UPDATE outbox SET state = 'pending', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            params![id, error],
        ))?;
        Ok(())
    }

    fn select_outbox(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox {filter}");
        let mut stmt = self.q(self.conn.prepare(&sql))?;
        let rows = stmt.query_map(args, |r| {
            let created: String = r.get(6)?;
            let done_at: Option<String> = r.get(13)?;
            let state: String = r.get(10)?;
            Ok(OutboxRow {
                id: r.get(0)?,
                channel: r.get(1)?,
                kind: r.get(2)?,
                task: r.get(3)?,
                title: r.get(4)?,
                urgent: r.get(5)?,
                created: DateTime::parse_from_rfc3339(&created).unwrap_or_default(),
                part: r.get(7)?,
                parts: r.get(8)?,
                payload: r.get(9)?,
                state: OutboxState::from_word(&state),
                attempts: r.get(11)?,
                last_error: r.get(12)?,
                done_at: done_at.and_then(|d| DateTime::parse_from_rfc3339(&d).ok()),
            })
        });
        self.q(rows.and_then(|rows| rows.collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(channel: &str, title: &str, dedupe: Option<&str>, part: u32) -> NewOutboxItem {
        NewOutboxItem {
            channel: channel.into(),
            kind: "stopped".into(),
            task: None,
            title: title.into(),
            urgent: false,
            dedupe: dedupe.map(str::to_string),
            created: DateTime::parse_from_rfc3339("2026-12-06T09:00:00+06:00").unwrap(),
            part,
            parts: 2,
            payload: format!("{{\"part\": {part}}}"),
        }
    }

    #[test]
    fn rows_keep_their_order_their_dedupe_and_the_cursor_moves_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.db")).unwrap();
        assert_eq!(store.notify_cursor().unwrap(), None);
        let written = store
            .outbox_enqueue(
                &[
                    item("discord", "a", Some("k"), 0),
                    item("discord", "a", Some("k"), 1),
                    item("webhook", "a", Some("k"), 0),
                ],
                Some(7),
            )
            .unwrap();
        assert_eq!(written, 3);
        assert_eq!(store.notify_cursor().unwrap(), Some(7));
        let again = store
            .outbox_enqueue(&[item("discord", "a", Some("k"), 0)], Some(9))
            .unwrap();
        assert_eq!(again, 0, "the same key on the same channel is written once");
        assert_eq!(store.notify_cursor().unwrap(), Some(9));

        let unsent = store.outbox_unsent("discord").unwrap();
        assert_eq!(unsent.iter().map(|r| r.part).collect::<Vec<_>>(), [0, 1]);
        store.outbox_claim(unsent[0].id).unwrap();
        assert_eq!(
            store.outbox_unsent("discord").unwrap()[0].state,
            OutboxState::Sending,
            "a claimed row a crash left is still unsent"
        );
        let at = unsent[0].created;
        store
            .outbox_finish(unsent[0].id, OutboxState::Sent, None, at)
            .unwrap();
        store.outbox_retry_later(unsent[1].id, "503").unwrap();
        let left = store.outbox_unsent("discord").unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(
            (left[0].attempts, left[0].last_error.as_deref()),
            (1, Some("503"))
        );
        assert_eq!(store.outbox_all_unsent().unwrap().len(), 2);
        let recent = store.outbox_recent(10).unwrap();
        assert_eq!(recent.len(), 3);
        assert_eq!(recent[0].state, OutboxState::Sent);
        assert_eq!(recent[0].done_at, Some(at));
    }
}
