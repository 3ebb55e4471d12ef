//! The notice of a bad release (DevOps: `deploy.reverted`, `deploy.revert_failed`,
//! `deploy.unhealthy` audit events): what was seen, what was done, where the whole output
//! is. Text from the service's answers is escaped like every other reason.

use super::discord::escape::markdown;
use super::events::{self, quote};
use super::{Notice, NoticeKind};
use crate::store::Event;

/// A bad release (DevOps): what was seen, and what was done about it. Urgent: what runs
/// may have been broken.
pub(super) fn notice(event: &Event) -> Notice {
    let commit: String = event.detail["commit"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(10)
        .collect();
    let task = event.task.map(|t| t.to_string());
    let id = task.clone().unwrap_or_default();
    let title = match event.action.as_str() {
        "deploy.reverted" => format!("{id} was reverted: its release {commit} was bad"),
        "deploy.revert_failed" => format!("The release {commit} was bad and reverting {id} failed"),
        _ => format!("The release {commit} was bad (no merge of dayshift's to revert)"),
    };
    let mut summary = quote(event.detail["evidence"].as_str().unwrap_or_default());
    if let Some(revert) = event.detail["revert_task"].as_str() {
        summary.push_str(&format!(
            "\n\nReverted by {revert} ({}).",
            markdown(event.detail["outcome"].as_str().unwrap_or_default())
        ));
    }
    if let Some(restored) = event.detail["restored"].as_object() {
        let restored_commit: String = restored["commit"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(10)
            .collect();
        summary.push_str(&format!(
            "\n\nThe previous version {restored_commit} was deployed again: {}.",
            restored["verdict"].as_str().unwrap_or_default()
        ));
    }
    if let Some(error) = event.detail["error"].as_str() {
        summary.push_str(&format!("\n\nThe revert failed: {}", quote(error)));
    }
    Notice {
        urgent: true,
        link: event.detail["log"].as_str().map(str::to_string),
        task,
        ..events::notice(event.at, NoticeKind::NeedsPerson, title, summary)
    }
}
