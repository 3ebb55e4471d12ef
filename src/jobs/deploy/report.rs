//! The daily report's Deploys section: every release of the day (`release.done`) with what
//! it found, and what devops did about the bad ones (`deploy.reverted`,
//! `deploy.revert_failed`, `deploy.unhealthy`).

use crate::markdown::table;
use crate::store::Event;

/// The section, empty when nothing was released that day.
pub fn section(events: &[Event]) -> String {
    let rows: Vec<Vec<String>> = events
        .iter()
        .filter(|e| e.action == "release.done")
        .map(|e| {
            let d = &e.detail;
            let text = |key: &str| d[key].as_str().unwrap_or_default().to_string();
            let commit: String = e.commit.as_deref().unwrap_or("").chars().take(10).collect();
            let first_line = text("evidence").lines().next().unwrap_or("").to_string();
            vec![
                e.at.format("%H:%M").to_string(),
                commit,
                e.task.map(|t| t.to_string()).unwrap_or_else(|| "—".into()),
                text("verdict").replace('_', " "),
                text("why"),
                first_line,
                format!("`{}`", text("log")),
            ]
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "## Deploys\n\n{} release(s): {} healthy, {} bad.\n\n{}\n",
        rows.len(),
        rows.iter().filter(|r| r[3] == "healthy").count(),
        rows.iter()
            .filter(|r| matches!(r[3].as_str(), "unhealthy" | "failed" | "tests broken"))
            .count(),
        table(
            &["at", "commit", "after", "verdict", "why", "evidence", "log"],
            &rows
        )
    );
    for e in events.iter().filter(|e| e.action.starts_with("deploy.")) {
        let task = e.task.map(|t| t.to_string()).unwrap_or_default();
        let line = match e.action.as_str() {
            "deploy.reverted" => format!(
                "- {task} was reverted by {} ({})",
                e.detail["revert_task"].as_str().unwrap_or("?"),
                e.detail["outcome"].as_str().unwrap_or("?")
            ),
            "deploy.revert_failed" => {
                format!("- reverting {task} FAILED: everything is paused (see PAUSED)")
            }
            _ => "- a bad release with no merge of dayshift's to revert".to_string(),
        };
        out.push_str(&line);
        if let Some(restored) = e.detail["restored"].as_object() {
            let commit: String = restored["commit"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(10)
                .collect();
            out.push_str(&format!(
                "; the previous version {commit} was deployed again: {}",
                restored["verdict"].as_str().unwrap_or("?")
            ));
        }
        out.push('\n');
    }
    out.push('\n');
    out
}
