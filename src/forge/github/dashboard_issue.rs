//! The dashboard issue on GitHub: finding it, writing it at wrap-up, and reading the boxes
//! people ticked.
//!
//! The issue is found by the number kept in `.dayshift/github-dashboard.json`; when that is
//! missing or closed, among the open issues labelled `dayshift` that the token's account
//! opened and that carry [`MARKER`]; else a new one is opened. The same file keeps, per task
//! listed as waiting, the commit shown: a tick approves that change and no later one (a
//! task sent back and changed since waits for a new tick).
//!
//! Why a tick is a person's act: the bot opened the issue, and GitHub lets only people
//! with write access edit the body of an issue someone else opened; so a `- [x]` in the
//! bot's own dashboard was written by such a person (dayshift only ever writes the ticks
//! it read there). An issue anyone else opened is never the dashboard: its ticks are not
//! read, and it is never rewritten.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::dashboard::{self, MARKER};
use super::{GitHubForge, github_error};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::github::Issue;
use crate::tasks::{Task, TaskId};

/// The label the dashboard carries (the one on dayshift's pull requests).
const LABEL: &str = "dayshift";

/// What `.dayshift/github-dashboard.json` keeps between passes.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Kept {
    #[serde(default)]
    number: Option<u64>,
    /// Task id → the commit that waited for a person when the dashboard was written.
    #[serde(default)]
    offered: BTreeMap<String, String>,
}

impl Kept {
    /// The file as saved; missing or unreadable: nothing kept (the issue is looked up, and
    /// no tick counts until the dashboard is written again).
    fn load(path: &Path) -> Self {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("plain data serializes");
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| crate::fsx::write_atomic(path, text.as_bytes()));
        written.map_err(|e| {
            Error::Refused(format!(
                "{}: {e}; check that the home's .dayshift/ is writable",
                path.display()
            ))
        })
    }

    /// The ticked tasks whose shown change is still `commit_of` theirs now.
    fn still_offered(
        &self,
        ticked: &BTreeSet<TaskId>,
        commit_of: impl Fn(TaskId) -> Option<String>,
    ) -> BTreeMap<TaskId, String> {
        ticked
            .iter()
            .filter_map(|id| {
                let shown = self.offered.get(&id.to_string())?;
                (commit_of(*id).as_deref() == Some(shown.as_str())).then(|| (*id, shown.clone()))
            })
            .collect()
    }
}

fn kept_file(ctx: &Ctx) -> PathBuf {
    ctx.home.state_dir().join("github-dashboard.json")
}

/// Whether `issue` is dayshift's dashboard: open, opened by the token's account `bot`,
/// with the marker.
fn is_dashboard(issue: &Issue, bot: &str) -> bool {
    issue.state == "open" && issue.author.eq_ignore_ascii_case(bot) && issue.body.contains(MARKER)
}

/// The tasks ticked on `issue`; none unless it is dayshift's own dashboard (see the
/// module's doc: only then is a tick a person's act).
fn trusted_ticks(issue: &Issue, bot: &str) -> BTreeSet<TaskId> {
    if !is_dashboard(issue, bot) {
        return BTreeSet::new();
    }
    dashboard::ticks(&issue.body)
}

impl GitHubForge {
    /// The dashboard issue as it is now, if there is one.
    fn find_dashboard(&self, kept: &Kept, bot: &str) -> Result<Option<Issue>> {
        if let Some(number) = kept.number {
            match self.api.issue(number) {
                Ok(issue) if is_dashboard(&issue, bot) => return Ok(Some(issue)),
                Ok(_) => {}
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(github_error(e)),
            }
        }
        let open = self.api.labelled_issues(LABEL).map_err(github_error)?;
        Ok(open.into_iter().find(|issue| is_dashboard(issue, bot)))
    }

    /// Write the dashboard for `day` (`dashboard: true` only); its URL.
    pub(super) fn write_dashboard(&self, ctx: &Ctx, day: NaiveDate) -> Result<Option<String>> {
        if !self.dashboard {
            return Ok(None);
        }
        let bot = self.bot()?.to_string();
        let path = kept_file(ctx);
        let kept = Kept::load(&path);
        let found = self.find_dashboard(&kept, &bot)?;
        let board = dashboard::gather(ctx, day)?;
        // ticks made since the last pass stay, for tasks still waiting with the same change
        let ticked = found
            .as_ref()
            .map(|issue| trusted_ticks(issue, &bot))
            .unwrap_or_default();
        let commit_of = |id: TaskId| {
            let task = board.waiting.iter().find(|w| w.id == id)?;
            Some(task.commit.clone())
        };
        let still: BTreeSet<TaskId> = kept.still_offered(&ticked, commit_of).into_keys().collect();
        let updated = crate::markdown::stamp(ctx.now());
        let body = dashboard::render(&board, &still, &updated, &|text| ctx.redact(text));
        let (number, url) = match found {
            Some(issue) => {
                self.api
                    .update_issue_body(issue.number, &body)
                    .map_err(github_error)?;
                (issue.number, issue.html_url)
            }
            None => {
                let issue = self
                    .api
                    .create_issue(dashboard::TITLE, &body, &[LABEL.to_string()])
                    .map_err(github_error)?;
                (issue.number, issue.html_url)
            }
        };
        let offered = board
            .waiting
            .iter()
            .map(|w| (w.id.to_string(), w.commit.clone()))
            .collect();
        Kept {
            number: Some(number),
            offered,
        }
        .save(&path)?;
        Ok(Some(url))
    }

    /// Whether a person ticked `task`'s box on the dashboard for the change it waits with
    /// now. The dashboard is read once per forge (once per work run).
    pub(super) fn ticked_on_dashboard(&self, ctx: &Ctx, task: &Task) -> Result<bool> {
        if !self.dashboard || task.meta.approval != Some(crate::tasks::Approval::Pending) {
            return Ok(false);
        }
        let ticked = match self.ticks.get() {
            Some(ticked) => ticked,
            None => {
                let read = self.read_ticks(ctx)?;
                self.ticks.get_or_init(|| read)
            }
        };
        let now = task.meta.commit.clone().unwrap_or_default();
        Ok(ticked.get(&task.meta.id) == Some(&now))
    }

    /// Ticked task → the commit shown beside its box.
    fn read_ticks(&self, ctx: &Ctx) -> Result<BTreeMap<TaskId, String>> {
        let kept = Kept::load(&kept_file(ctx));
        if kept.offered.is_empty() {
            return Ok(BTreeMap::new());
        }
        let bot = self.bot()?.to_string();
        let Some(issue) = self.find_dashboard(&kept, &bot)? else {
            return Ok(BTreeMap::new());
        };
        Ok(trusted_ticks(&issue, &bot)
            .into_iter()
            .filter_map(|id| Some((id, kept.offered.get(&id.to_string())?.clone())))
            .collect())
    }

    /// A tick is acted on once: `task` is no longer offered on the dashboard until the next
    /// wrap-up lists it again (unticked), so a merge that fails after the approval does not
    /// approve the task again at every pass.
    pub(super) fn dashboard_acted_on(&self, ctx: &Ctx, task: &Task) -> Result<()> {
        if !self
            .ticks
            .get()
            .is_some_and(|ticked| ticked.contains_key(&task.meta.id))
        {
            return Ok(());
        }
        let path = kept_file(ctx);
        let mut kept = Kept::load(&path);
        if kept.offered.remove(&task.meta.id.to_string()).is_some() {
            kept.save(&path)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(author: &str, state: &str, body: &str) -> Issue {
        Issue {
            number: 9,
            state: state.into(),
            title: dashboard::TITLE.into(),
            body: body.into(),
            labels: vec![LABEL.into()],
            closed_by: None,
            is_pull: false,
            html_url: "https://github.com/acme/calc/issues/9".into(),
            author: author.into(),
        }
    }

    #[test]
    fn only_the_bots_open_dashboard_is_read() {
        let body = format!("{MARKER}\n- [x] T-0003 Turn on debug — #7 — why\n");
        let ticked = BTreeSet::from([TaskId::new(3)]);
        assert_eq!(
            trusted_ticks(&issue("dayshift-bot", "open", &body), "dayshift-bot"),
            ticked
        );
        for (author, state, text) in [
            ("alice", "open", body.as_str()),
            ("dayshift-bot", "closed", body.as_str()),
            ("dayshift-bot", "open", "- [x] T-0003 no marker"),
        ] {
            assert!(
                trusted_ticks(&issue(author, state, text), "dayshift-bot").is_empty(),
                "{author} {state} {text}"
            );
        }
    }

    #[test]
    fn a_tick_counts_only_for_the_change_it_was_shown_beside() {
        let kept = Kept {
            number: Some(9),
            offered: BTreeMap::from([
                ("T-0003".to_string(), "aaa".to_string()),
                ("T-0004".to_string(), "bbb".to_string()),
            ]),
        };
        let ticked = BTreeSet::from([TaskId::new(3), TaskId::new(4), TaskId::new(5)]);
        let now = |id: TaskId| match id.number() {
            3 => Some("aaa".to_string()),
            4 => Some("a later commit".to_string()),
            _ => Some("ccc".to_string()),
        };
        assert_eq!(
            kept.still_offered(&ticked, now),
            BTreeMap::from([(TaskId::new(3), "aaa".to_string())])
        );
    }

    #[test]
    fn the_kept_file_round_trips_and_a_broken_one_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".dayshift/github-dashboard.json");
        assert_eq!(Kept::load(&path), Kept::default());
        let kept = Kept {
            number: Some(4),
            offered: BTreeMap::from([("T-0001".to_string(), "abc".to_string())]),
        };
        kept.save(&path).unwrap();
        assert_eq!(Kept::load(&path), kept);
        std::fs::write(&path, "{broken").unwrap();
        assert_eq!(Kept::load(&path), Kept::default());
    }
}
