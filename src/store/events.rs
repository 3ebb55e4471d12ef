//! `events`: the audit trail — who did what, to which task, with which commit. Each event
//! is appended to logs/audit.jsonl first (one line, O_APPEND, fsync'd), then stored.

use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::params;

use super::{Store, StoreError};
use crate::fsx;
use crate::problem::{IoContext, IoError};
use crate::tasks::TaskId;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    pub at: DateTime<FixedOffset>,
    /// An agent (`planner`), `dayshift` itself, or `human`.
    pub actor: String,
    /// Dotted verb: `task.created`, `task.moved`, `job.finished`, `plan.written` …
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub task: Option<TaskId>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub commit: Option<String>,
    #[serde(default)]
    pub detail: serde_json::Value,
}

impl Event {
    pub fn new(at: DateTime<FixedOffset>, actor: &str, action: &str) -> Self {
        Self {
            at,
            actor: actor.into(),
            action: action.into(),
            task: None,
            commit: None,
            detail: serde_json::Value::Null,
        }
    }

    pub fn task(mut self, id: TaskId) -> Self {
        self.task = Some(id);
        self
    }

    pub fn commit(mut self, sha: &str) -> Self {
        self.commit = Some(sha.to_string());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Which events [`Store::events_matching`] lets through; `None` lets all through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Events of this day (in the zone they were recorded in) and later.
    pub since: Option<NaiveDate>,
    pub task: Option<TaskId>,
    /// An action (`task.moved`) or a family of them (`task`, `scan`).
    pub kind: Option<String>,
    /// `human`, `dayshift` or an agent.
    pub actor: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Append the event to `audit_log` and store it. `line` is the already-redacted JSON.
    pub fn record_event(
        &self,
        audit_log: &Path,
        event: &Event,
        day: NaiveDate,
        line: &str,
    ) -> Result<(), RecordError> {
        fsx::append_line(audit_log, line).at_path(audit_log)?;
        self.q(self.conn.execute(
            "INSERT INTO events (at, day, actor, action, task_id, commit_sha, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                event.at.to_rfc3339(),
                day.to_string(),
                event.actor,
                event.action,
                event.task.map(|t| t.to_string()),
                event.commit,
                event.detail.to_string(),
            ],
        ))?;
        Ok(())
    }

    /// Events of one day (in the zone they were recorded in), oldest first.
    pub fn events_on(&self, day: NaiveDate) -> Result<Vec<Event>, StoreError> {
        self.select_events("WHERE day = ?1 ORDER BY id", params![day.to_string()])
    }

    /// The events of `day` with `action`, oldest first, with their ids.
    pub fn numbered_events_on(
        &self,
        day: NaiveDate,
        action: &str,
    ) -> Result<Vec<(i64, Event)>, StoreError> {
        self.select_numbered_events(
            "WHERE day = ?1 AND action = ?2 ORDER BY id",
            params![day.to_string(), action],
        )
    }

    /// The event numbered `id`, if there is one.
    pub fn event_numbered(&self, id: i64) -> Result<Option<Event>, StoreError> {
        Ok(self.select_events("WHERE id = ?1", params![id])?.pop())
    }

    /// The newest `approval.granted` event of `task` for `commit`: a person's approval of
    /// exactly that commit, or (`None`) of the task before it had one (see
    /// [`crate::context::Verdict`]).
    pub fn approval_of(
        &self,
        task: TaskId,
        commit: Option<&str>,
    ) -> Result<Option<Event>, StoreError> {
        Ok(self
            .select_events(
                "WHERE task_id = ?1 AND action = 'approval.granted' AND commit_sha IS ?2 ORDER BY id DESC LIMIT 1",
                params![task.to_string(), commit],
            )?
            .pop())
    }

    /// Every event of `task` with `action`, oldest first.
    pub fn task_events(&self, task: TaskId, action: &str) -> Result<Vec<Event>, StoreError> {
        self.select_events(
            "WHERE task_id = ?1 AND action = ?2 ORDER BY id",
            params![task.to_string(), action],
        )
    }

    /// The newest event with `action` (any task), if any.
    pub fn last_event(&self, action: &str) -> Result<Option<Event>, StoreError> {
        Ok(self
            .select_events(
                "WHERE action = ?1 ORDER BY id DESC LIMIT 1",
                params![action],
            )?
            .pop())
    }

    /// The newest event with `action` whose detail has `key` = `value`, if any.
    pub fn last_event_with(
        &self,
        action: &str,
        key: &str,
        value: impl rusqlite::ToSql,
    ) -> Result<Option<Event>, StoreError> {
        Ok(self
            .select_events(
                "WHERE action = ?1 AND json_extract(detail, '$.' || ?2) = ?3 ORDER BY id DESC LIMIT 1",
                params![action, key, value],
            )?
            .pop())
    }

    /// The newest event with `action` and its id, if any.
    pub fn last_numbered_event(&self, action: &str) -> Result<Option<(i64, Event)>, StoreError> {
        Ok(self
            .select_numbered_events(
                "WHERE action = ?1 ORDER BY id DESC LIMIT 1",
                params![action],
            )?
            .pop())
    }

    /// The newest event with `action` about `commit`, if any.
    pub fn last_event_of_commit(
        &self,
        action: &str,
        commit: &str,
    ) -> Result<Option<Event>, StoreError> {
        Ok(self
            .select_events(
                "WHERE action = ?1 AND commit_sha = ?2 ORDER BY id DESC LIMIT 1",
                params![action, commit],
            )?
            .pop())
    }

    /// Every event with `action` recorded after the event `id`, oldest first.
    pub fn events_of_after(&self, action: &str, id: i64) -> Result<Vec<Event>, StoreError> {
        self.select_events(
            "WHERE action = ?1 AND id > ?2 ORDER BY id",
            params![action, id],
        )
    }

    /// How many `review.done` events each outcome has (merge, waiting, escalated,
    /// sent_back), over every day.
    pub fn review_outcomes(&self) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
        let mut stmt = self.q(self.conn.prepare(
            "SELECT json_extract(detail, '$.outcome'), COUNT(*) FROM events WHERE action = 'review.done' GROUP BY 1",
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                r.get::<_, u64>(1)?,
            ))
        });
        self.q(rows.and_then(|rows| rows.collect()))
    }

    /// The newest `limit` events, oldest first.
    pub fn recent_events(&self, limit: u32) -> Result<Vec<Event>, StoreError> {
        self.events_matching(&EventFilter::default(), limit)
    }

    /// The newest `limit` events `filter` lets through, oldest first.
    pub fn events_matching(
        &self,
        filter: &EventFilter,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        let task = filter.task.map(|t| t.to_string());
        let since = filter.since.map(|d| d.to_string());
        let mut events = self.select_events(
            "WHERE (?1 IS NULL OR day >= ?1) AND (?2 IS NULL OR task_id = ?2) \
             AND (?3 IS NULL OR action = ?3 OR substr(action, 1, length(?3) + 1) = ?3 || '.') \
             AND (?4 IS NULL OR actor = ?4) ORDER BY id DESC LIMIT ?5",
            params![since, task, filter.kind, filter.actor, limit],
        )?;
        events.reverse();
        Ok(events)
    }

    /// Up to `limit` events recorded after the event `id`, oldest first, with their ids
    /// (the notifier reads the trail this way, from its cursor).
    pub fn events_after(&self, id: i64, limit: u32) -> Result<Vec<(i64, Event)>, StoreError> {
        self.select_numbered_events("WHERE id > ?1 ORDER BY id LIMIT ?2", params![id, limit])
    }

    /// How the latest `limit` tasks dayshift finished ended, newest first: the task and the
    /// folder it was moved to (`completed` or `failed`). A person's moves do not count.
    pub fn last_task_ends(&self, limit: u32) -> Result<Vec<(TaskId, String)>, StoreError> {
        let events = self.select_events(
            "WHERE action = 'task.moved' AND actor != 'human' \
             AND json_extract(detail, '$.to') IN ('completed', 'failed') ORDER BY id DESC LIMIT ?1",
            params![limit],
        )?;
        Ok(events
            .into_iter()
            .filter_map(|e| Some((e.task?, e.detail["to"].as_str()?.to_string())))
            .collect())
    }

    /// The id of the newest event (0 when there is none).
    pub fn last_event_id(&self) -> Result<i64, StoreError> {
        self.q(self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0)))
    }

    fn select_events(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<Event>, StoreError> {
        let events = self.select_numbered_events(filter, args)?;
        Ok(events.into_iter().map(|(_, event)| event).collect())
    }

    fn select_numbered_events(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<(i64, Event)>, StoreError> {
        let sql = format!(
            "SELECT at, actor, action, task_id, commit_sha, detail, id FROM events {filter}"
        );
        let mut stmt = self.q(self.conn.prepare(&sql))?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
            ))
        });
        let rows = self.q(rows.and_then(|rows| rows.collect::<Result<Vec<_>, _>>()))?;
        Ok(rows
            .into_iter()
            .filter_map(|(at, actor, action, task, commit, detail, id)| {
                let event = Event {
                    at: DateTime::parse_from_rfc3339(&at).ok()?,
                    actor,
                    action,
                    task: task.and_then(|t| t.parse().ok()),
                    commit,
                    detail: serde_json::from_str(&detail).unwrap_or_default(),
                };
                Some((id, event))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn the_filter_takes_a_day_a_task_an_action_family_and_an_actor() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.db")).unwrap();
        let audit = dir.path().join("audit.jsonl");
        let record = |day: u32, actor: &str, action: &str, task: Option<u32>| {
            let on = NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
            let at = Utc
                .from_utc_datetime(&on.and_hms_opt(9, 0, 0).unwrap())
                .fixed_offset();
            let mut event = Event::new(at, actor, action);
            event.task = task.map(TaskId::new);
            let line = serde_json::to_string(&event).unwrap();
            store.record_event(&audit, &event, on, &line).unwrap();
        };
        record(1, "scanner", "scan.done", None);
        record(1, "scanner", "task.created", Some(1));
        record(2, "coder", "task.moved", Some(1));
        record(2, "human", "task.approved", Some(2));
        record(3, "dayshift", "tasks.synced", None);
        let actions = |filter: EventFilter, limit: u32| -> Vec<String> {
            store
                .events_matching(&filter, limit)
                .unwrap()
                .into_iter()
                .map(|e| e.action)
                .collect()
        };
        assert_eq!(
            actions(EventFilter::default(), 2),
            ["task.approved", "tasks.synced"]
        );
        let since = NaiveDate::from_ymd_opt(2026, 12, 2);
        let after_the_first = EventFilter {
            since,
            ..Default::default()
        };
        assert_eq!(
            actions(after_the_first, 50),
            ["task.moved", "task.approved", "tasks.synced"]
        );
        let task = EventFilter {
            task: Some(TaskId::new(1)),
            ..Default::default()
        };
        assert_eq!(actions(task, 50), ["task.created", "task.moved"]);
        // a family is the action's first part: `task` is not `tasks.synced`
        let family = EventFilter {
            kind: Some("task".into()),
            ..Default::default()
        };
        assert_eq!(
            actions(family, 50),
            ["task.created", "task.moved", "task.approved"]
        );
        let exact = EventFilter {
            kind: Some("scan.done".into()),
            ..Default::default()
        };
        assert_eq!(actions(exact, 50), ["scan.done"]);
        let person = EventFilter {
            actor: Some("human".into()),
            kind: Some("task".into()),
            ..Default::default()
        };
        assert_eq!(actions(person, 50), ["task.approved"]);
    }
}
