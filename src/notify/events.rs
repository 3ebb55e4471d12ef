//! From the audit trail to notices. Everything a person must hear about is already an
//! audit event — a task waiting for a person or failed for good, a budget alert, the work
//! loop stopped by the setup or the budget (a failed job), a STOP file left for a day,
//! the daemon's life — so the notifier reads the trail from its cursor ([`collect`]) and
//! turns those events into notices. No job calls a channel; a new kind of alert is a new
//! arm here.
//!
//! The cursor moves in the same transaction as the notices it produced: an event is told
//! once, however the process ends. Text from the events (a task's title, a tool's or a
//! model's reason) is escaped: it can neither format nor ping.

use super::discord::escape::markdown;
use super::outbox::{Outgoing, enqueue};
use super::{Notice, NoticeKind};
use crate::config::Config;
use crate::store::{Event, Store, StoreError, TaskRow};
use chrono::{DateTime, FixedOffset};

/// Events read per transaction.
const BATCH: u32 = 500;
/// The longest reason quoted in a notice; the rest is in the file the link names.
const REASON_MAX: usize = 1500;

/// Start the cursor at the newest event if it has none: what happened before the first
/// run with a channel configured is history, not news. Called when a run opens its home.
pub fn begin(store: &Store) -> Result<(), StoreError> {
    if store.notify_cursor()?.is_none() {
        store.outbox_enqueue(&[], Some(store.last_event_id()?))?;
    }
    Ok(())
}

/// Turn the audit events recorded since the cursor into notices in the outbox. Nothing
/// happens while no channel is configured. Returns the messages written.
pub fn collect(config: &Config, store: &Store) -> Result<usize, StoreError> {
    if !config.notify.is_on() {
        return Ok(0);
    }
    let Some(mut cursor) = store.notify_cursor()? else {
        begin(store)?;
        return Ok(0);
    };
    let oldest =
        chrono::Utc::now() - chrono::Duration::hours(i64::from(config.notify.max_age_hours));
    let mut tasks: Option<Vec<TaskRow>> = None;
    let mut written = 0;
    loop {
        let batch = store.events_after(cursor, BATCH)?;
        let Some((last, _)) = batch.last() else {
            return Ok(written);
        };
        let last = *last;
        let mut outgoing = Vec::new();
        for (_, event) in &batch {
            if event.at < oldest {
                continue;
            }
            if needs_tasks(event) && tasks.is_none() {
                tasks = Some(store.tasks()?);
            }
            if let Some(out) = notice_for(event, tasks.as_deref().unwrap_or_default()) {
                outgoing.push(out);
            }
        }
        written += enqueue(config, store, &outgoing, Some(last))?;
        cursor = last;
        if batch.len() < BATCH as usize {
            return Ok(written);
        }
    }
}

fn needs_tasks(event: &Event) -> bool {
    event.action == "task.escalated"
}

/// The notice an audit event calls for, if any.
pub fn notice_for(event: &Event, tasks: &[TaskRow]) -> Option<Outgoing> {
    let day = event.at.date_naive();
    let text = |key: &str| event.detail[key].as_str().unwrap_or_default().to_string();
    match event.action.as_str() {
        "task.escalated" => Some(task_notice(event, tasks)?.into()),
        "budget.alert" => Some(Outgoing {
            notice: budget_alert(event),
            dedupe: Some(format!("budget-alert:{day}")),
        }),
        "job.failed" => job_failed(event),
        "job.skipped" if event.detail["needs_fix"] == true => {
            let job = text("job");
            Some(Outgoing {
                notice: Notice {
                    urgent: true,
                    ..notice(
                        event.at,
                        NoticeKind::Stopped,
                        format!("The {job} job cannot run: the setup needs a person"),
                        format!(
                            "{}\n\n`dayshift doctor` checks the setup and says what to fix.",
                            quote(&text("why"))
                        ),
                    )
                },
                dedupe: Some(format!("job-skipped:{day}:{job}")),
            })
        }
        "pause.set" => {
            let everything = event.detail["scope"] == "all";
            Some(Outgoing {
                notice: Notice {
                    urgent: true,
                    link: Some("PAUSED".into()),
                    ..notice(
                        event.at,
                        NoticeKind::Stopped,
                        if everything {
                            "dayshift paused everything".to_string()
                        } else {
                            "dayshift paused the work loop".to_string()
                        },
                        format!(
                            "{}\n\nLook at what went wrong, then `dayshift resume`.",
                            quote(&text("reason"))
                        ),
                    )
                },
                dedupe: None,
            })
        }
        "pause.stale" => Some(Outgoing {
            notice: Notice {
                urgent: true,
                link: Some("STOP".into()),
                ..notice(
                    event.at,
                    NoticeKind::Stopped,
                    "dayshift has been paused by the STOP file for a day".to_string(),
                    format!(
                        "STOP exists since {}; every job waits. Remove the file to let the agents work again.",
                        text("since")
                    ),
                )
            },
            dedupe: Some(format!("pause-stale:{day}")),
        }),
        "deploy.reverted" | "deploy.revert_failed" | "deploy.unhealthy" => {
            Some(super::release::notice(event).into())
        }
        "daemon.started" | "daemon.stopped" | "daemon.recovered" => {
            let what = match event.action.as_str() {
                "daemon.started" => "The dayshift daemon started",
                "daemon.stopped" => "The dayshift daemon stopped",
                _ => "The dayshift daemon recovered from a crash",
            };
            Some(
                notice(
                    event.at,
                    NoticeKind::Daemon,
                    what.to_string(),
                    quote(&text("why")),
                )
                .into(),
            )
        }
        _ => None,
    }
}

/// A job that failed: the budget's cap (told as a budget notice), a cancellation (not
/// told), or anything else — a key refused, a tool missing, the provider down — urgent.
fn job_failed(event: &Event) -> Option<Outgoing> {
    let day = event.at.date_naive();
    let job = event.detail["job"].as_str().unwrap_or("a");
    let error = quote(event.detail["error"].as_str().unwrap_or_default());
    match event.detail["stop"].as_str() {
        Some("cancelled") => None,
        Some("budget") => Some(Outgoing {
            notice: notice(
                event.at,
                NoticeKind::Budget,
                "The daily budget is spent: the agents pause until tomorrow".into(),
                format!(
                    "{error}\n\nNothing was failed for it; tomorrow's work picks up where this stopped. `dayshift budget` shows the spend."
                ),
            ),
            dedupe: Some(format!("budget-cap:{day}")),
        }),
        _ => Some(Outgoing {
            notice: Notice {
                urgent: true,
                ..notice(
                    event.at,
                    NoticeKind::Stopped,
                    format!("The {job} job stopped and needs a person"),
                    format!(
                        "{error}\n\nNo task was failed for it. Fix what the message says (`dayshift doctor` checks the setup; `dayshift logs` has the details); the next run resumes."
                    ),
                )
            },
            dedupe: Some(format!("job-failed:{day}:{job}")),
        }),
    }
}

fn task_notice(event: &Event, tasks: &[TaskRow]) -> Option<Notice> {
    let id = event.task?;
    let row = tasks.iter().find(|t| t.id == id);
    let title = row.map(|t| markdown(&t.title)).unwrap_or_default();
    let why = event.detail["why"].as_str().unwrap_or_default();
    let failed = event.detail["outcome"] == "failed";
    let (headline, next) = if failed {
        (
            format!("{id} failed after its last attempt"),
            format!("To try again: `dayshift tasks retry {id}`."),
        )
    } else {
        (
            format!("{id} waits for a person"),
            format!(
                "Decide: `dayshift tasks approve {id}` or `dayshift tasks reject {id}` (or on its pull request when GitHub is on)."
            ),
        )
    };
    let mut out = notice(
        event.at,
        NoticeKind::NeedsPerson,
        if title.is_empty() {
            headline
        } else {
            format!("{headline}: {title}")
        },
        format!("**Why:** {}\n\n{next}", quote(why)),
    );
    out.task = Some(id.to_string());
    out.link = row.map(|t| t.path.clone());
    if let Some(risk) = row.and_then(|t| t.risk) {
        out.fields
            .push(("Risk".into(), format!("{risk:?}").to_lowercase()));
    }
    if let Some(row) = row {
        out.fields
            .push(("Attempts".into(), row.attempts.to_string()));
    }
    Some(out)
}

fn budget_alert(event: &Event) -> Notice {
    let detail = &event.detail;
    let share = detail["alert_at"].as_f64().unwrap_or(0.8) * 100.0;
    let (spent, cap) = match detail["cap_usd"].as_f64() {
        Some(cap) => (
            format!("${:.2}", detail["spent_usd"].as_f64().unwrap_or_default()),
            format!("${cap:.2}"),
        ),
        None => (
            format!(
                "{} tokens",
                detail["spent_tokens"].as_u64().unwrap_or_default()
            ),
            format!(
                "{} tokens",
                detail["cap_tokens"].as_u64().unwrap_or_default()
            ),
        ),
    };
    let mut out = notice(
        event.at,
        NoticeKind::Budget,
        format!("Budget alert: {share:.0} % of today's cap is spent"),
        "At the cap every agent pauses until tomorrow. `dayshift budget` shows the spend per agent; agents.yaml `budget:` sets the cap.".into(),
    );
    out.fields = vec![("Spent".into(), spent), ("Cap".into(), cap)];
    out
}

pub(super) fn notice(
    at: DateTime<FixedOffset>,
    kind: NoticeKind,
    title: String,
    summary: String,
) -> Notice {
    Notice {
        kind,
        title,
        summary,
        fields: Vec::new(),
        link: None,
        task: None,
        urgent: false,
        at,
    }
}

/// A reason from a tool, a model or the repository: escaped, cut to [`REASON_MAX`] at a
/// word with "…" (the whole is in the task file or the log).
pub(super) fn quote(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= REASON_MAX {
        return markdown(text);
    }
    let cut: String = text.chars().take(REASON_MAX).collect();
    let cut = cut
        .rsplit_once(char::is_whitespace)
        .map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", markdown(cut))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn detail(pairs: &[(&str, &str)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect(),
        )
    }

    fn event(action: &str, pairs: &[(&str, &str)]) -> Event {
        Event::new(
            DateTime::parse_from_rfc3339("2026-12-06T10:00:00+06:00").unwrap(),
            "dayshift",
            action,
        )
        .detail(detail(pairs))
    }

    #[test]
    fn a_failed_task_and_a_waiting_one_need_a_person() {
        let mut failed = event(
            "task.escalated",
            &[
                ("why", "tests failed: @everyone look"),
                ("outcome", "failed"),
            ],
        );
        failed.task = Some("T-0007".parse().unwrap());
        let out = notice_for(&failed, &[]).unwrap();
        assert_eq!(out.notice.kind, NoticeKind::NeedsPerson);
        assert!(out.notice.title.starts_with("T-0007 failed"));
        assert!(out.notice.summary.contains("dayshift tasks retry T-0007"));
        assert!(
            !out.notice.summary.contains("@everyone"),
            "{}",
            out.notice.summary
        );
        let mut waiting = event("task.escalated", &[("why", "protected path: Dockerfile")]);
        waiting.task = Some("T-0008".parse().unwrap());
        let out = notice_for(&waiting, &[]).unwrap();
        assert!(out.notice.title.starts_with("T-0008 waits for a person"));
        assert!(out.notice.summary.contains("tasks approve T-0008"));
    }

    #[test]
    fn a_stopped_loop_is_urgent_and_told_once_a_day_the_budget_is_not_urgent() {
        let env = notice_for(
            &event(
                "job.failed",
                &[
                    ("job", "work"),
                    ("stop", "error"),
                    ("error", "401 from the provider"),
                ],
            ),
            &[],
        )
        .unwrap();
        assert_eq!(env.notice.kind, NoticeKind::Stopped);
        assert!(env.notice.urgent);
        assert!(env.notice.summary.contains("401 from the provider"));
        assert_eq!(env.dedupe.as_deref(), Some("job-failed:2026-12-06:work"));
        let cap = notice_for(
            &event(
                "job.failed",
                &[
                    ("job", "work"),
                    ("stop", "budget"),
                    ("error", "$5.00 spent"),
                ],
            ),
            &[],
        )
        .unwrap();
        assert_eq!(cap.notice.kind, NoticeKind::Budget);
        assert!(!cap.notice.urgent);
        let stopping = event("job.failed", &[("job", "work"), ("stop", "cancelled")]);
        assert!(notice_for(&stopping, &[]).is_none(), "a signal is not news");
        assert!(notice_for(&event("task.created", &[]), &[]).is_none());
    }

    #[test]
    fn a_long_reason_is_cut_at_a_word() {
        let long = "word ".repeat(3000);
        let quoted = quote(&long);
        assert!(quoted.chars().count() <= REASON_MAX + 1);
        assert!(
            quoted.ends_with("word…"),
            "{}",
            &quoted[quoted.len() - 20..]
        );
    }
}
