//! Approvals come from people, not from files an agent could touch.
//!
//! `approval: approved` in a task file is only a claim: a coding tool running in the
//! home can write it as easily as a person. What counts is a record of a person's act in
//! the store — an `approval.granted` event with who, when and the commit approved — made
//! by `dayshift tasks approve` (or by the daemon's watcher for a hand edit it saw while no
//! job ran). The work loop merges a task only when such a record exists for the commit its
//! branch points at now ([`Verdict::Granted`]); a claim with no record is flagged
//! (`approval.unverified`, a line in the task's log) and set back to pending.

use super::Ctx;
use crate::error::Result;
use crate::store::Event;
use crate::target::Git;
use crate::tasks::{Approval, Task};

/// The log line written when a task file claims an approval no person gave.
pub const UNVERIFIED: &str = "approval: approved was written into the file, not given through `dayshift tasks approve`; run it to approve";

/// What the store says of a task's `approval: approved`.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// A person approved the commit the task's branch points at: who, and when.
    Granted { by: String, at: String },
    /// No record of a person's approval for this commit.
    Unverified,
}

impl Ctx {
    /// The commit an approval of `task` is for: its branch head in the target clone (`None`
    /// when it has no branch or the branch does not exist).
    pub fn approval_commit(&self, task: &Task) -> Option<String> {
        let branch = task.meta.branch.as_deref()?;
        let git = Git::new(self.home.target_clone());
        git.commit_of(&format!("refs/heads/{branch}"))
            .ok()
            .flatten()
    }

    /// Record a person's approval of `task` at its current commit: the file says
    /// `approved`, its log says by whom, and the store and audit.jsonl hold an
    /// `approval.granted` event with who, when, the commit and how (`via`: `cli`, `watcher`).
    pub fn grant_approval(&self, task: &mut Task, by: &str, via: &str) -> Result<Event> {
        let commit = self.approval_commit(task);
        task.meta.approval = Some(Approval::Approved);
        task.log(self.now(), "human", &format!("approved by {by}"));
        self.save_task(
            task,
            "human",
            "task.approved",
            serde_json::json!({"by": by, "via": via}),
        )?;
        let mut event = Event::new(self.now(), "human", "approval.granted")
            .task(task.meta.id)
            .detail(serde_json::json!({"by": by, "via": via, "branch": task.meta.branch}));
        event.commit = commit;
        self.audit(event.clone())?;
        Ok(event)
    }

    /// Whether a person's approval of `task` is on record for the commit its branch points
    /// at now (or, before it has one, for the task itself). A branch moved since the
    /// approval (by a tool writing refs) is unverified.
    pub fn verify_approval(&self, task: &Task) -> Result<Verdict> {
        let commit = self.approval_commit(task);
        Ok(
            match self.store.approval_of(task.meta.id, commit.as_deref())? {
                Some(event) => Verdict::Granted {
                    by: event.detail["by"]
                        .as_str()
                        .unwrap_or("an unnamed person")
                        .to_string(),
                    at: event.at.format("%Y-%m-%d %H:%M:%S%:z").to_string(),
                },
                None => Verdict::Unverified,
            },
        )
    }

    /// Flag a task whose file claims an approval no person gave: back to pending, the
    /// [`UNVERIFIED`] line in its log, and an `approval.unverified` event saying `why`.
    pub fn flag_unverified(&self, task: &mut Task, actor: &str, why: &str) -> Result<()> {
        task.meta.approval = Some(Approval::Pending);
        task.log(self.now(), actor, UNVERIFIED);
        let mut event = Event::new(self.now(), actor, "approval.unverified")
            .task(task.meta.id)
            .detail(serde_json::json!({"why": why}));
        event.commit = self.approval_commit(task);
        self.save_task(
            task,
            actor,
            "task.approval_reset",
            serde_json::json!({"why": why}),
        )?;
        self.audit(event)
    }
}
