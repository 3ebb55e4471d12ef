//! `work` (coder + QA): take the highest-priority ready task, work it on its own branch and
//! work tree, test it, and commit — or fail it with the reason.
//!
//! One attempt ([`attempt`]): snapshot `workspace/` → run the engine → record what an
//! external tool spent → refuse writes outside the work tree and changes policy forbids
//! (then roll back) → QA against the base branch (only new failures count) → on success
//! commit with a `Task:` trailer. A failed attempt is rolled back and its reason (the
//! engine's words, the guardrail, the failing tests' output) is fed to the next attempt.
//! After the last attempt the task moves to failed with that reason and an escalation event
//! ([`finish`]). A committed task goes to in_review and is offered through the forge
//! ([`crate::forge`]: with GitHub its pull request); when policy's `auto_merge` allows the
//! risk the reviewer computed, it is landed — merged into the base branch (pushed when the
//! target has a remote), or on GitHub merged through its pull request on green checks —
//! and completed, otherwise it waits for a person (`approval: pending`); once approved
//! (`dayshift tasks approve`, or a review on the pull request), a later pass lands it
//! ([`landing`]).
//!
//! The loop stops when no task is ready, a STOP file appears, the daily budget is spent or
//! the work window ends ([`crate::config::Schedules::work_ends`]). Those are checked before
//! every task and every attempt; a task stopped between attempts stays in progress and the
//! next run resumes it where it stopped (`next_attempt` in its front matter). It also stops
//! at once when an attempt shows the setup needs a fix (a refused key, a missing model or
//! binary) or the model provider is down ([`crate::engine::failure`]), or a tool claims more
//! than a run may cost: none of these fails the task or burns its attempt.
//!
//! Every run starts by putting right what a crash left between the commit, the verdict,
//! the merge and the move ([`recover`]).

mod attempt;
mod commit;
mod finish;
mod message;
mod meter;
mod progress;
pub use finish::merges_without_a_person;
pub use progress::WorkNow;
mod landing;
pub use landing::land_now;
mod people;
mod recover;
mod review;
pub use review::{description as task_description, notes_and_rules};

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::JobName;
use super::outcome::JobOutcome;
use crate::config::AgentName;
use crate::context::Ctx;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::llm::LlmError;
use crate::llm::budget::Budget;
use crate::process;
use crate::target;
use crate::tasks::deps;
use crate::tasks::{Task, TaskKind, TaskState};

const ACTOR: &str = "coder";
/// Attempts per task when agents.yaml does not say.
pub const DEFAULT_ATTEMPTS: u32 = 3;

/// Attempts per task: agents.yaml's `coder.attempts`, else [`DEFAULT_ATTEMPTS`].
fn coder_attempts(ctx: &Ctx) -> u32 {
    ctx.config
        .agents
        .agents
        .get(&AgentName::Coder)
        .and_then(|c| c.attempts)
        .unwrap_or(DEFAULT_ATTEMPTS)
}

/// How one task ended.
#[derive(Debug, Clone, PartialEq)]
enum Ended {
    Completed,
    WaitingForPerson,
    Failed,
    /// The reviewer, a person on the PR or a failed check asked for changes: back in
    /// progress, with this feedback for the coder.
    SentBack(String),
    /// Committed and allowed to merge, but the pull request's checks still run: it waits
    /// in review and a later pass lands it.
    ChecksPending,
    /// Left in progress to resume (its attempt rolled back): the loop has to stop.
    Interrupted(Stop),
}

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ended::Completed => write!(f, "completed"),
            Ended::WaitingForPerson => write!(f, "waits for a person"),
            Ended::Failed => write!(f, "failed"),
            Ended::SentBack(_) => write!(f, "sent back to the coder"),
            Ended::ChecksPending => write!(f, "waits for its pull request's checks"),
            Ended::Interrupted(stop) => write!(f, "stopped ({stop})"),
        }
    }
}

/// Why the loop stops taking work.
#[derive(Debug, Clone, PartialEq)]
enum Stop {
    NothingReady,
    Paused,
    WindowEnded(DateTime<FixedOffset>),
    Budget(String),
    /// The model provider is down, refusing or its circuit is open: no task can be worked,
    /// and none is failed for it ([`crate::engine::failure`]).
    ProviderDown(String),
    /// A merge could not be pushed (or origin fetched): every later merge would fail the
    /// same way, so no more work starts; the task waits in review, untouched.
    PublishFailed(String),
    /// The setup needs a person (a key refused, a model or binary missing): the why names
    /// the fix; no task is failed for it.
    Environment(String),
    /// A signal, or the daemon stopping.
    Cancelled,
    /// No new task is taken: a pull request limit of target.yaml is reached (the why).
    Held(String),
    /// dayshift paused itself (emergency protocol): the refusal, with the reason.
    PausedByDayshift(String),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::NothingReady => write!(f, "no task is ready"),
            Stop::Paused => write!(f, "paused by the STOP file"),
            Stop::WindowEnded(at) => write!(f, "the work window ended at {}", at.format("%H:%M")),
            Stop::Budget(why) => write!(f, "the daily budget is spent ({why})"),
            Stop::ProviderDown(why) => write!(f, "{PROVIDER_DOWN} ({why})"),
            Stop::PublishFailed(why) => write!(f, "{why}"),
            Stop::Environment(why) => write!(f, "{SETUP_NEEDS_FIX}: {why}"),
            Stop::Cancelled => write!(f, "dayshift is stopping (a signal, or `dayshift stop`)"),
            Stop::Held(why) | Stop::PausedByDayshift(why) => write!(f, "{why}"),
        }
    }
}

/// How a provider outage reads in a run's error (the wrap-up looks for it).
pub const PROVIDER_DOWN: &str = "the model provider is unavailable";

/// How an environment stop reads in a run's error (the wrap-up looks for it).
pub const SETUP_NEEDS_FIX: &str = "the setup needs a fix";

#[derive(Debug, Default)]
struct Tally {
    completed: usize,
    waiting: usize,
    failed: usize,
    /// Tasks whose pull request's checks are still running when last looked at (a task
    /// looked at again on each pass counts once).
    checks: std::collections::BTreeSet<crate::tasks::TaskId>,
}

impl Tally {
    fn count(&mut self, task: crate::tasks::TaskId, ended: &Ended) {
        if !matches!(ended, Ended::ChecksPending) {
            self.checks.remove(&task);
        }
        match ended {
            Ended::Completed => self.completed += 1,
            Ended::WaitingForPerson => self.waiting += 1,
            Ended::Failed => self.failed += 1,
            Ended::ChecksPending => {
                self.checks.insert(task);
            }
            Ended::SentBack(_) | Ended::Interrupted(_) => {}
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} task(s) completed, {} waiting for a person, {} failed",
            self.completed, self.waiting, self.failed
        )?;
        if !self.checks.is_empty() {
            write!(f, ", {} waiting for their checks", self.checks.len())?;
        }
        Ok(())
    }
}

/// What the loop checks before each task and attempt.
struct Limits {
    budget: Budget,
    /// `None` for a run of another day than today (`--date`): a person asked for it now.
    ends: Option<DateTime<FixedOffset>>,
}

impl Limits {
    fn new(ctx: &Ctx, day: NaiveDate) -> Result<Self> {
        let budget = ctx.budget()?;
        let today = ctx.now().date_naive();
        let ends = (today == day)
            .then(|| ctx.config.schedules.work_ends(day))
            .flatten()
            .map(|t| t.fixed_offset());
        Ok(Self { budget, ends })
    }

    /// Why no more work may start now, if so.
    fn stop(&self, ctx: &Ctx) -> Result<Option<Stop>> {
        if process::cancelled() {
            return Ok(Some(Stop::Cancelled));
        }
        if ctx.home.stop_file().exists() {
            return Ok(Some(Stop::Paused));
        }
        if let Some(pause) =
            crate::jobs::pause::Pause::read(&ctx.home).filter(|p| p.blocks(JobName::Work))
        {
            return Ok(Some(Stop::PausedByDayshift(pause.refusal(&ctx.home))));
        }
        if let Some(end) = self.ends
            && ctx.now() >= end
        {
            return Ok(Some(Stop::WindowEnded(end)));
        }
        let left = self.budget.remaining()?;
        if left.exhausted() {
            let why = match (left.left_usd, left.left_tokens) {
                (Some(_), _) => format!("${:.4} spent today", left.spent_usd),
                _ => format!("{} tokens spent today", left.spent_tokens),
            };
            return Ok(Some(Stop::Budget(why)));
        }
        Ok(None)
    }
}

/// What the loop calls after each pass that may have merged, before the next task builds
/// on the base: devops' release (the runner passes [`crate::jobs::deploy::after_merges`];
/// the loop does not know what a release is). A line for the log when it did something.
pub type AfterMerges<'a> = &'a dyn Fn(&Ctx) -> Result<Option<String>>;

pub fn run(
    ctx: &mut Ctx,
    day: NaiveDate,
    engine: &dyn Engine,
    after_merges: AfterMerges,
) -> Result<JobOutcome> {
    let clone = ctx.home.target_clone();
    if !clone.join(".git").exists() {
        return Err(Error::Refused(
            "the target is not cloned yet; run `dayshift setup` first".into(),
        ));
    }
    // the job lock is ours, so no git of ours runs in the clone: a lock there is a killed
    // git's, and would fail every later fetch or commit
    for stale in target::locks::clear_stale(&clone)? {
        tracing::warn!("removed {} that an interrupted git left", stale.display());
    }
    // worktrees of tasks no longer in progress (finished, or moved by a person) go; the
    // branches stay
    ctx.reconcile()?;
    let in_progress: Vec<_> = ctx
        .store
        .tasks()?
        .iter()
        .filter(|t| t.state == TaskState::InProgress)
        .map(|t| t.id)
        .collect();
    if let Ok(removed) = target::clean_orphans(&clone, &in_progress)
        && !removed.is_empty()
    {
        tracing::info!("removed {} orphan work tree(s)", removed.len());
    }
    let limits = Limits::new(ctx, day)?;
    let models = ctx.models(&[AgentName::Reviewer])?;
    let (notes, note_rules) = review::notes_and_rules(ctx);
    let forge = crate::forge::from_config(ctx)?;
    models.with_model(AgentName::Reviewer, |model| {
        let reviewer = review::Reviewer {
            model,
            notes,
            note_rules,
            rounds: review::Reviewer::rounds(ctx),
            forge: forge.as_ref(),
        };
        work_loop(ctx, day, engine, &limits, &reviewer, after_merges)
    })
}

/// A change drafted for `task` (not in the queue) by `engine`, judged by the guardrails
/// and the reviewer's deterministic layers — not the tests, not the model — as an attempt
/// would be: the patch and the review, or why none could be drafted. Nothing is committed
/// or moved; the engine's spend is billed (to the task's id). Takes the job lock.
pub fn draft(
    ctx: &Ctx,
    engine: &dyn Engine,
    task: &Task,
) -> Result<std::result::Result<(String, crate::review::Review), String>> {
    let lock_path = ctx.home.job_lock();
    let _lock = crate::lockfile::FileLock::acquire(&lock_path)
        .map_err(|e| Error::Refused(format!("{}: {e}", lock_path.display())))?;
    let limits = Limits::new(ctx, ctx.today())?;
    if let Some(stop) = limits.stop(ctx)? {
        return Ok(Err(stop.to_string()));
    }
    let (notes, note_rules) = review::notes_and_rules(ctx);
    let forge = crate::forge::from_config(ctx)?;
    let reviewer = review::Reviewer {
        model: None,
        notes,
        note_rules,
        rounds: 0,
        forge: forge.as_ref(),
    };
    attempt::draft(ctx, &limits, &reviewer, engine, task)
}

/// Whether `task` was opened by the scan for a finding no longer in the base, as the clone
/// last saw it ([`crate::scan::recheck`]).
fn finding_gone(ctx: &Ctx, task: &Task) -> bool {
    let Some(print) = crate::scan::recheck::task_fingerprint(task.meta.source.as_deref()) else {
        return false;
    };
    let base = &ctx.config.target.base_branch;
    let git = crate::target::Git::new(ctx.home.target_clone());
    let base = match git.has_remote("origin") {
        Ok(true) => format!("origin/{base}"),
        _ => base.clone(),
    };
    crate::scan::recheck::still_found(&ctx.home, print, &base) == Some(false)
}

/// Take ready tasks one by one until something stops the loop.
fn work_loop(
    ctx: &mut Ctx,
    day: NaiveDate,
    engine: &dyn Engine,
    limits: &Limits,
    reviewer: &review::Reviewer,
    after_merges: AfterMerges,
) -> Result<JobOutcome> {
    let clone = ctx.home.target_clone();
    let mut tally = Tally::default();
    // what a crash left between the commit, the verdict, the merge and the move
    let recovered = recover::recover(ctx, reviewer, &mut tally)?;
    let mut progress = progress::Progress::new(&ctx.home);
    // what people decided on the forge is read once per run for each task in review
    let mut asked = std::collections::BTreeSet::new();
    let stop = loop {
        if let Some(stop) = limits.stop(ctx)? {
            break stop;
        }
        if let Some(stop) = recovered.clone() {
            break stop;
        }
        ctx.reconcile()?;
        if let Some(stop) = landing::land_reviewed(ctx, reviewer, &mut tally, &mut asked)? {
            break stop;
        }
        // what the last pass merged is released (tested, deployed) before more builds on
        // it; a release may pause (a goal, or everything): the limits are looked at again
        match release_merges(ctx, after_merges) {
            Released::Stop(stop) => break stop,
            Released::Done => continue,
            Released::Nothing => {}
        }
        let Some(mut task) = next_ready(ctx)? else {
            break Stop::NothingReady;
        };
        // a finding an earlier change fixed on the way is not worked again
        if task.state == TaskState::Backlog && finding_gone(ctx, &task) {
            let why =
                "closed: its finding is no longer in the base (fixed since the scan opened it)";
            ctx.move_task(&mut task, TaskState::Failed, "scanner", why)?;
            progress.say(&format!("{} {why}", task.meta.id));
            continue;
        }
        // a new task is taken only when its pull request could be opened
        if task.state == TaskState::Backlog
            && let Some(why) = reviewer.forge.held(ctx)?
        {
            break Stop::Held(why);
        }
        match attempt::work_task(ctx, limits, reviewer, engine, &mut task, &mut progress)? {
            Ended::Interrupted(stop) => break stop,
            // back in progress (SentBack): the next pass takes it first
            ended => {
                tally.count(task.meta.id, &ended);
                if matches!(ended, Ended::Failed) {
                    // too many in a row: the loop pauses itself (seen at the next pass)
                    crate::jobs::pause::after_a_failure(ctx)?;
                }
            }
        }
        // a task waiting for a person or failed for good is told now, not at the end
        ctx.deliver_notices(crate::notify::Patience::Brief);
    };
    if !matches!(
        stop,
        Stop::Cancelled | Stop::Paused | Stop::PausedByDayshift(_)
    ) && let Released::Stop(late) = release_merges(ctx, after_merges)
    {
        tracing::error!("{late}");
    }
    if let Err(e) = prune_finished(ctx) {
        tracing::warn!("pruning the branches of finished tasks: {e}");
    }
    if let Err(e) = target::Git::new(&clone).housekeeping() {
        tracing::warn!("git housekeeping in the clone: {e}");
    }
    let resumes = "a task in progress resumes at the next work run";
    if stop == Stop::Cancelled {
        return Err(Error::Refused(format!(
            "work stopped: {stop}; {tally}; {resumes}"
        )));
    }
    if let Stop::ProviderDown(_) | Stop::PublishFailed(_) | Stop::Environment(_) = &stop {
        return Err(Error::Halted(format!(
            "work stopped: {stop}; {tally}; {resumes}"
        )));
    }
    if let Stop::Budget(_) = &stop {
        // the day's budget stop: `day` still runs the wrap-up, which says so in the report
        return Err(Error::Llm(LlmError::Budget(format!(
            "the coder stopped: {stop}; {tally}; the rest waits for tomorrow"
        ))));
    }
    Ok(JobOutcome {
        job: JobName::Work,
        day,
        summary: format!("{tally}; stopped: {stop}"),
        wrote: vec![],
    })
}

/// What releasing the merges of a pass came to.
enum Released {
    Nothing,
    /// Released (and undone if bad, which may have paused): look at the limits again.
    Done,
    /// The release could not run: the loop stops, so merges do not pile up unreleased.
    Stop(Stop),
}

/// Release the base after the merges of this run.
fn release_merges(ctx: &Ctx, after_merges: AfterMerges) -> Released {
    match after_merges(ctx) {
        Ok(Some(line)) => {
            tracing::info!("{line}");
            ctx.deliver_notices(crate::notify::Patience::Brief);
            Released::Done
        }
        Ok(None) => Released::Nothing,
        Err(e) => Released::Stop(Stop::Environment(format!(
            "the release after a merge could not run: {e}"
        ))),
    }
}

/// Delete the branches of tasks completed or failed more than `keep_branches_days` ago
/// (config/target.yaml), counted from their task file's last write (its last move).
fn prune_finished(ctx: &Ctx) -> Result<()> {
    let keep =
        std::time::Duration::from_secs(u64::from(ctx.config.target.keep_branches_days) * 24 * 3600);
    let now = std::time::SystemTime::from(ctx.now());
    let old: Vec<_> = ctx
        .store
        .tasks()?
        .into_iter()
        .filter(|t| matches!(t.state, TaskState::Completed | TaskState::Failed))
        .filter(|t| {
            std::fs::metadata(ctx.home.root().join(&t.path))
                .and_then(|m| m.modified())
                .is_ok_and(|at| now.duration_since(at).is_ok_and(|age| age >= keep))
        })
        .map(|t| t.id)
        .collect();
    if old.is_empty() {
        return Ok(());
    }
    let deleted = target::prune_branches(&ctx.home.target_clone(), &old)?;
    if !deleted.is_empty() {
        tracing::info!(
            "deleted {} branch(es) of tasks finished over {} day(s) ago",
            deleted.len(),
            ctx.config.target.keep_branches_days
        );
        ctx.audit(
            crate::store::Event::new(ctx.now(), ACTOR, "branches.pruned")
                .detail(serde_json::json!({"branches": deleted})),
        )?;
    }
    Ok(())
}

/// The tasks in review that have a branch, each with it (read from their files).
fn in_review(ctx: &Ctx) -> Result<Vec<(Task, String)>> {
    let mut found = Vec::new();
    for row in ctx
        .store
        .tasks()?
        .iter()
        .filter(|t| t.state == TaskState::InReview)
    {
        let task = ctx.queue.find(row.id)?;
        if let Some(branch) = task.meta.branch.clone() {
            found.push((task, branch));
        }
    }
    Ok(found)
}

/// A task a crash left in progress (resumed first: it holds no lock, we hold the job lock),
/// else the most urgent ready backlog task the coder can do (research waits for the
/// researcher; the tasks of a goal devops paused wait for `dayshift resume`).
fn next_ready(ctx: &Ctx) -> Result<Option<Task>> {
    let pause = crate::jobs::pause::Pause::read(&ctx.home);
    let held = |goal: &Option<String>| {
        goal.as_deref()
            .is_some_and(|g| pause.as_ref().is_some_and(|p| p.holds_goal(g)))
    };
    let rows = ctx.store.tasks()?;
    if let Some(interrupted) = rows
        .iter()
        .filter(|t| t.state == TaskState::InProgress)
        .min_by_key(|t| (t.priority, t.id))
    {
        return Ok(Some(ctx.queue.find(interrupted.id)?));
    }
    let report = deps::analyze(
        rows.iter()
            .map(|t| (t.id, t.state, t.depends_on.as_slice())),
    );
    let next = rows
        .iter()
        .filter(|t| report.ready.contains(&t.id) && t.kind != TaskKind::Research && !held(&t.goal))
        .min_by_key(|t| (t.priority, t.id));
    Ok(match next {
        Some(row) => Some(ctx.queue.find(row.id)?),
        None => None,
    })
}
