//! Where a reviewed change lands: the one seam between the work loop and the place the
//! target's history lives.
//!
//! The work loop commits, reviews and judges a change the same way in every mode; then it
//! asks its [`Forge`] to *offer* the change where people see it and to *land* it when
//! policy allows. Two implementations:
//!
//! - [`local::LocalOnly`] (no `github:` in target.yaml): nothing to offer; landing merges
//!   the task branch into the base branch of the clone and pushes it to origin when origin
//!   takes it ([`crate::target::merge_into_base`]).
//! - [`github::GitHubForge`]: offering pushes the branch and opens (or updates) one pull
//!   request per task; landing merges it through the API only when every required check is
//!   green on the exact head that was tested; what people say on the PR (an approving
//!   review, a close, a request for changes) comes back as [`Decision`]s.
//!
//! Nothing here decides whether a change *may* merge: policy and the reviewer did that
//! before [`Forge::land`] is called. A forge can only add reasons to wait.

pub mod github;
pub mod local;

use crate::context::Ctx;
use crate::error::Result;
use crate::review::Review;
use crate::tasks::Task;

/// What [`Forge::land`] came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landing {
    /// Merged: the base branch's new commit, and where it went, in words.
    Merged {
        head: String,
        /// Pushed to a remote (or merged on it), not only kept in the clone.
        pushed: bool,
        note: Option<String>,
    },
    /// Not yet: checks are still running on the head. The task waits in review (`checks:
    /// pending`) and a later pass lands it.
    Pending(String),
    /// A required check failed on the head: its name, conclusion and output, for the
    /// coder's next attempt.
    ChecksFailed(String),
    /// The base moved since the change was made and conflicts with it: the task is done
    /// again on the new base (an attempt), saying why.
    Conflict(String),
    /// A person has to decide: a diverged base, checks pending too long, a head someone
    /// else pushed to.
    NeedsPerson(String),
    /// The remote or the API could not be reached (network, credentials): nothing changed,
    /// the loop stops and the next run lands it again.
    Unreachable(String),
    /// A person closed the change where it was offered: the task is rejected.
    Closed(String),
}

/// What a person decided about a task waiting in review, where the change was offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// An approving review from someone with write access: like `dayshift tasks approve`.
    Approve { by: String },
    /// The change was closed without merging: the task fails with who closed it.
    Close { by: String },
    /// Changes were asked for (a review, or a comment addressed to the bot): back to the
    /// coder with this text as the next attempt's feedback.
    RequestChanges { by: String, text: String },
    /// Said by someone without write access: recorded in the audit, changes nothing.
    Ignored { by: String, what: String },
}

/// An open issue labelled for the agents (`issue_label`): its text is data for the models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub url: String,
}

/// Where changes land; the work loop's only view of the target's hosting.
pub trait Forge {
    /// One sentence for logs and `status`: where changes go.
    fn describe(&self) -> String;

    /// Show the committed change where people look before it merges (GitHub: push the
    /// branch, open or update its pull request with the review). Called once per commit,
    /// whether the change then merges or waits. Local-only: nothing to do.
    fn offer(&self, ctx: &Ctx, task: &mut Task, branch: &str, review: &Review) -> Result<()>;

    /// Merge the task's change now, if it can; `title` is the merge's subject.
    fn land(&self, ctx: &Ctx, task: &mut Task, branch: &str, title: &str) -> Result<Landing>;

    /// What people decided about `task` (waiting in review) where it was offered, since
    /// the last look. Local-only: nothing (decisions are `dayshift tasks approve|reject`).
    fn decisions(&self, ctx: &Ctx, task: &mut Task) -> Result<Vec<Decision>>;

    /// The decisions [`Forge::decisions`] returned for `task` were applied: they are not
    /// returned again. (Until then a crash re-reads them; applying one twice changes
    /// nothing.)
    fn acted_on(&self, _ctx: &Ctx, _task: &Task) -> Result<()> {
        Ok(())
    }

    /// Open issues labelled for the agents (pull requests left out). Local-only: none.
    fn labelled_issues(&self) -> Result<Vec<Issue>> {
        Ok(Vec::new())
    }

    /// Whether issue `number` is still open (`None`: this forge has no issues).
    fn issue_open(&self, _number: u64) -> Result<Option<bool>> {
        Ok(None)
    }

    /// Why no new change may be offered now (GitHub: `pr_hourly_limit` or
    /// `pr_concurrent_limit` reached), or `None`. Local-only: never held.
    fn held(&self, _ctx: &Ctx) -> Result<Option<String>> {
        Ok(None)
    }

    /// Keep the dashboard people read where they work current (GitHub with `dashboard:
    /// true`: one issue, like Renovate's Dependency Dashboard). Returns where it is, when
    /// there is one.
    fn update_dashboard(&self, _ctx: &Ctx, _day: chrono::NaiveDate) -> Result<Option<String>> {
        Ok(None)
    }
}

/// The forge target.yaml asks for: GitHub when `github:` is set, else local-only.
pub fn from_config(ctx: &Ctx) -> Result<Box<dyn Forge>> {
    match github::GitHubForge::from_config(ctx)? {
        Some(forge) => Ok(Box::new(forge)),
        None => Ok(Box::new(local::LocalOnly)),
    }
}
