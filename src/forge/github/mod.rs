//! GitHub: every change goes through one pull request per task, and merges through the API
//! only when policy allows its risk and every required check is green on the tested head.
//!
//! - [`Forge::offer`]: push the task branch (the git command; the token reaches git only
//!   through dayshift's askpass), find the task's open PR by its head or open one (a crash
//!   between the push and the create, or a rerun, finds the first), update its body,
//!   label it (`dayshift`, `risk:<level>`) and post the review as a COMMENT review.
//! - [`Forge::land`]: the PR's head must be the commit dayshift tested; the required
//!   checks ([`gate`]) green → merge with `sha` = that head (compare-and-swap) and
//!   `merge_method`; pending → wait in review (`checks: pending`), escalated after
//!   `checks_timeout_minutes`; failed → the coder's next attempt gets the failure. After
//!   the merge the clone's base is fetched and the remote branch deleted.
//! - [`Forge::decisions`]: reviews and comments from people with write access
//!   ([`people`]), a PR a person closed, and a box a person ticked on the dashboard.
//! - [`Forge::update_dashboard`] (`dashboard: true`): one issue kept current at wrap-up
//!   ([`dashboard`], [`dashboard_issue`]).

pub mod body;
pub mod dashboard;
pub mod dashboard_issue;
pub mod gate;
mod land;
pub mod limits;
pub mod people;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, OnceLock};

use super::{Decision, Forge, Landing};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::github::{Api, GithubError, GithubSettings, MergeMethod, NewPull, Pull};
use crate::review::Review;
use crate::target::Git;
use crate::tasks::{Task, TaskId};

/// Pull requests on one repository.
pub struct GitHubForge {
    api: Api,
    merge_method: MergeMethod,
    required: Vec<String>,
    checks_timeout: chrono::Duration,
    draft: bool,
    issue_label: String,
    hourly_limit: u32,
    concurrent_limit: u32,
    /// The token's own login (its reviews and comments are not a person's), asked once.
    bot: OnceLock<String>,
    /// The pull request each task was just offered on, for the landing that follows.
    offered: Mutex<BTreeMap<TaskId, Pull>>,
    /// The base branch's required checks, asked once per run.
    protection: OnceLock<BTreeSet<String>>,
    /// Review and comment ids read by [`Forge::decisions`], saved by [`Forge::acted_on`].
    read: Mutex<BTreeMap<String, people::SeenIds>>,
    /// `dashboard: true`: keep the dashboard issue and read its ticks.
    dashboard: bool,
    /// The boxes ticked on the dashboard (task → the commit shown beside it), read once.
    ticks: OnceLock<BTreeMap<TaskId, String>>,
}

impl GitHubForge {
    /// `None` when target.yaml has no `github:`.
    pub fn from_config(ctx: &Ctx) -> Result<Option<Self>> {
        let Some(github) = &ctx.config.target.github else {
            return Ok(None);
        };
        let settings = GithubSettings::from_config(&ctx.config)
            .map_err(|e| Error::Refused(e.to_string()))?
            .expect("`github:` is set");
        hand_token_to_git(&settings);
        let api = Api::new(settings).map_err(github_error)?;
        Ok(Some(Self {
            api,
            merge_method: github.merge_method,
            required: github.required_checks.clone(),
            checks_timeout: chrono::Duration::minutes(i64::from(github.checks_timeout_minutes)),
            draft: github.draft,
            issue_label: github.issue_label.clone(),
            hourly_limit: github.pr_hourly_limit,
            concurrent_limit: github.pr_concurrent_limit,
            bot: OnceLock::new(),
            read: Mutex::default(),
            offered: Mutex::default(),
            protection: OnceLock::new(),
            dashboard: github.dashboard,
            ticks: OnceLock::new(),
        }))
    }

    /// Requests sent so far (the benchmark's calls per task).
    pub fn calls(&self) -> u32 {
        self.api.calls()
    }

    fn bot(&self) -> Result<&str> {
        if let Some(login) = self.bot.get() {
            return Ok(login);
        }
        let login = self.api.user().map_err(github_error)?.login;
        Ok(self.bot.get_or_init(|| login))
    }

    /// The task's PR: the number in its file, else the open one whose head is its branch.
    fn pull_of(&self, task: &Task, branch: &str) -> Result<Option<Pull>> {
        let offered = self
            .offered
            .lock()
            .expect("not poisoned")
            .remove(&task.meta.id);
        match (task.meta.pr, offered) {
            // just opened or updated by this process: nothing changed since
            (Some(number), Some(pull)) if pull.number == number => Ok(Some(pull)),
            (Some(number), _) => Ok(Some(self.api.pull(number).map_err(github_error)?)),
            (None, _) => self.api.open_pull_for_head(branch).map_err(github_error),
        }
    }

    /// Push the task branch; `true` when the push created it on GitHub (then no pull
    /// request can have it as its head yet: the lookup before creating one is skipped).
    fn push(&self, ctx: &Ctx, branch: &str) -> Result<bool> {
        let spec = format!("+refs/heads/{branch}:refs/heads/{branch}");
        let out = Git::new(ctx.home.target_clone())
            .network(
                &["push", "--porcelain", "origin", &spec],
                "check that the token may push to the repository (docs/github.md)",
            )
            .map_err(|e| Error::Halted(format!("the task branch could not be pushed: {e}")))?;
        // porcelain: `<flag>\t<from>:<to>\t<summary>`, flag `*` for a new ref
        Ok(out.lines().any(|l| l.starts_with("*\t")))
    }

    /// Required checks: `required_checks` of target.yaml, else the base branch's
    /// protection and rulesets (asked once per run).
    fn required_checks(&self, base: &str) -> Result<BTreeSet<String>> {
        if !self.required.is_empty() {
            return Ok(self.required.iter().cloned().collect());
        }
        if let Some(names) = self.protection.get() {
            return Ok(names.clone());
        }
        let names = self.api.required_checks(base).map_err(github_error)?.names;
        Ok(self.protection.get_or_init(|| names).clone())
    }

    /// After a merge: the clone's base fetched, the PR's branch gone from GitHub.
    fn tidy_after_merge(&self, ctx: &Ctx, branch: &str) {
        let fetched = Git::new(ctx.home.target_clone())
            .network(&["fetch", "--quiet", "--prune", "origin"], "");
        if let Err(e) = fetched {
            tracing::warn!("fetching the base after the merge: {e}");
        }
        if let Err(e) = self.api.delete_branch(branch) {
            tracing::warn!("deleting {branch} on GitHub after the merge: {e}");
        }
    }

    /// Whether pending checks have waited past `checks_timeout_minutes`.
    fn waited_too_long(&self, ctx: &Ctx, task: &mut Task) -> bool {
        let since = *task.meta.checks_since.get_or_insert_with(|| ctx.now());
        ctx.now() - since > self.checks_timeout
    }
}

impl Forge for GitHubForge {
    fn describe(&self) -> String {
        "GitHub: one pull request per task, merged through the API on green checks".into()
    }

    fn offer(&self, ctx: &Ctx, task: &mut Task, branch: &str, review: &Review) -> Result<()> {
        let created = self.push(ctx, branch)?;
        let base = ctx.config.target.base_branch.clone();
        let diffstat = Git::new(ctx.home.target_clone())
            .run(&["diff", "--stat", &format!("{base}...{branch}")], "")
            .unwrap_or_default();
        let title = body::title(task);
        let text = body::body(ctx, task, review, &diffstat);
        let existing = if created && task.meta.pr.is_none() {
            None
        } else {
            self.pull_of(task, branch)?.filter(|p| p.state == "open")
        };
        let pull = match existing {
            Some(open) => self.api.update_pull(open.number, &title, &text),
            None => self.api.create_pull(&NewPull {
                title: title.clone(),
                head: branch.to_string(),
                base,
                body: text,
                draft: self.draft,
            }),
        }
        .map_err(github_error)?;
        let new = task.meta.pr != Some(pull.number);
        task.meta.pr = Some(pull.number);
        self.offered
            .lock()
            .expect("not poisoned")
            .insert(task.meta.id, pull.clone());
        task.meta.checks = None;
        task.meta.checks_since = None;
        self.api
            .set_labels(pull.number, &body::labels(task))
            .map_err(github_error)?;
        self.api
            .comment_review(
                pull.number,
                &pull.head_sha,
                &body::review_comment(ctx, review),
            )
            .map_err(github_error)?;
        let line = if new {
            format!("pull request #{} opened: {}", pull.number, pull.html_url)
        } else {
            format!("pull request #{} updated: {}", pull.number, pull.html_url)
        };
        ctx.save_task(
            task,
            "coder",
            "github.pr",
            serde_json::json!({"pr": pull.number, "url": pull.html_url, "head": pull.head_sha, "new": new}),
        )?;
        task.log(ctx.now(), "coder", &line);
        Ok(())
    }

    fn land(&self, ctx: &Ctx, task: &mut Task, branch: &str, title: &str) -> Result<Landing> {
        land::land(self, ctx, task, branch, title)
    }

    fn decisions(&self, ctx: &Ctx, task: &mut Task) -> Result<Vec<Decision>> {
        let mut decisions = self.pull_decisions(ctx, task)?;
        if self.ticked_on_dashboard(ctx, task)? {
            decisions.push(Decision::Approve {
                by: dashboard::TICKED_BY.into(),
            });
        }
        Ok(decisions)
    }

    fn held(&self, ctx: &Ctx) -> Result<Option<String>> {
        limits::held(ctx, self.hourly_limit, self.concurrent_limit)
    }

    fn labelled_issues(&self) -> Result<Vec<super::Issue>> {
        let issues = self
            .api
            .labelled_issues(&self.issue_label)
            .map_err(github_error)?;
        Ok(issues
            .into_iter()
            // the dashboard carries the `dayshift` label too: it is no work
            .filter(|i| !i.is_pull && !i.body.contains(dashboard::MARKER))
            .map(|i| super::Issue {
                number: i.number,
                title: i.title,
                body: i.body,
                url: i.html_url,
            })
            .collect())
    }

    fn issue_open(&self, number: u64) -> Result<Option<bool>> {
        let issue = self.api.issue(number).map_err(github_error)?;
        Ok(Some(issue.state == "open"))
    }

    fn acted_on(&self, ctx: &Ctx, task: &Task) -> Result<()> {
        self.dashboard_acted_on(ctx, task)?;
        let key = task.meta.id.to_string();
        let Some(now) = self.read.lock().expect("not poisoned").remove(&key) else {
            return Ok(());
        };
        let path = seen_file(ctx);
        let mut seen = people::Seen::load(&path);
        seen.tasks.insert(key, now);
        seen.save(&path)
            .map_err(|e| Error::Refused(format!("{}: {e}", path.display())))
    }

    fn update_dashboard(&self, ctx: &Ctx, day: chrono::NaiveDate) -> Result<Option<String>> {
        self.write_dashboard(ctx, day)
    }
}

impl GitHubForge {
    /// What people did on the task's pull request: closed it, reviewed it, commented.
    fn pull_decisions(&self, ctx: &Ctx, task: &Task) -> Result<Vec<Decision>> {
        let Some(number) = task.meta.pr else {
            return Ok(Vec::new());
        };
        let pull = self.api.pull(number).map_err(github_error)?;
        if pull.merged {
            // merged by hand on GitHub, which only someone with write access can do
            let by = "a person who merged it on GitHub".to_string();
            return Ok(vec![Decision::Approve { by }]);
        }
        if pull.state != "open" {
            let by = self
                .api
                .issue(number)
                .ok()
                .and_then(|i| i.closed_by)
                .map_or("someone".into(), |l| format!("@{l}"));
            return Ok(vec![Decision::Close { by }]);
        }
        let bot = self.bot()?.to_string();
        let reviews = self.api.reviews(number).map_err(github_error)?;
        let comments = self.api.comments(number).map_err(github_error)?;
        let key = task.meta.id.to_string();
        let before = people::Seen::load(&seen_file(ctx))
            .tasks
            .get(&key)
            .copied()
            .unwrap_or_default();
        let (decisions, now) = people::decisions(&bot, &reviews, &comments, before);
        if now != before {
            self.read.lock().expect("not poisoned").insert(key, now);
        }
        Ok(decisions)
    }
}

/// Let git's network commands (clone, fetch, push) answer an HTTPS password prompt with
/// the GitHub token, through dayshift's askpass ([`crate::target::git::use_token`]).
pub fn hand_token_to_git(settings: &GithubSettings) {
    crate::target::git::use_token(&settings.token_env, &settings.token);
}

/// Where the review and comment ids already acted on are kept.
fn seen_file(ctx: &Ctx) -> std::path::PathBuf {
    ctx.home.state_dir().join("github-seen.json")
}

/// A GitHub error as the work loop's: the network or a refusal stops the loop (nothing
/// changed; the next run goes on where this one stopped).
fn github_error(e: GithubError) -> Error {
    Error::Halted(format!("GitHub: {e}"))
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}
