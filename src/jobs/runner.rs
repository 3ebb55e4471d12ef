//! Running one job: refuse while paused, take the job lock (jobs never overlap, across
//! processes too), close runs a crash left open, sync the mirror, record the run and its
//! outcome, and audit it.

use chrono::NaiveDate;
use tracing::{error, info, info_span};

use super::orchestrate::Model;
use super::{JobName, JobOutcome, morning, plan, research, work, wrapup};
use crate::config::AgentName;
use crate::context::Ctx;
use crate::error::{Error, IoContext, Result};
use crate::lockfile::FileLock;
use crate::store::{Event, RunOutcome};

/// Why a job did not start.
pub fn refusal(ctx: &Ctx, job: JobName) -> Option<String> {
    if ctx.home.stop_file().exists() {
        return Some(format!(
            "paused: {} exists; every job waits until it is removed",
            ctx.home.display_path(&ctx.home.stop_file())
        ));
    }
    if let Some(pause) = super::pause::Pause::read(&ctx.home).filter(|p| p.blocks(job)) {
        return Some(pause.refusal(&ctx.home));
    }
    if job == JobName::Research
        && let Some(why) = research::not_ready(ctx)
    {
        return Some(why);
    }
    if job == JobName::Deploy
        && let Some(why) = super::deploy::not_ready(ctx)
    {
        return Some(why);
    }
    if job == JobName::Monitor
        && let Some(why) = super::monitor::not_ready(ctx)
    {
        return Some(why);
    }
    if job == JobName::Work {
        if !ctx.home.target_clone().join(".git").exists() {
            return Some("the target is not cloned yet; set `repo` in config/target.yaml and run `dayshift setup`".into());
        }
        match crate::engine::build::coder_engine(&ctx.home, &ctx.config)
            .and_then(|e| e.check_installed())
        {
            Ok(()) => {}
            Err(e) => return Some(format!("no coding engine: {e}")),
        }
    }
    None
}

/// Whether `job` was refused because the setup needs a person (the target not cloned, no
/// coding engine) rather than a pause or a job not built: told to the people as urgent.
///
/// An optional agent left unconfigured (no search provider for the researcher, nothing to
/// deploy with) is a choice, not a fault: its skip is reported, never paged.
pub fn needs_fix(ctx: &Ctx, job: JobName) -> bool {
    let required = match job {
        JobName::Work => true,
        JobName::Deploy => super::deploy::configured(&ctx.config.target),
        _ => false,
    };
    required
        && !ctx.home.stop_file().exists()
        && !ctx.home.pause_file().exists()
        && refusal(ctx, job).is_some()
}

/// A job that did not run, and why: a run of outcome `skipped` (the report's Jobs section
/// lists it), a `job.skipped` audit event and a line in the job's log. `needs_fix`: the
/// setup needs a person ([`needs_fix`]).
pub fn record_skip(
    ctx: &Ctx,
    job: JobName,
    day: NaiveDate,
    why: &str,
    needs_fix: bool,
) -> Result<()> {
    let span = info_span!("orchestrator", job = %job, %day);
    let _enter = span.enter();
    info!("{job} skipped: {why}");
    let now = ctx.now();
    let run = ctx.store.start_run(job.as_str(), day, now)?;
    ctx.store
        .finish_run(run, RunOutcome::Skipped, "", Some(&ctx.redact(why)), now)?;
    ctx.audit(
        Event::new(now, job.agent(), "job.skipped").detail(
            serde_json::json!({"job": job, "day": day, "why": why, "needs_fix": needs_fix}),
        ),
    )?;
    note_a_stale_pause(ctx)?;
    ctx.deliver_notices(crate::notify::Patience::Full);
    Ok(())
}

/// A STOP file older than a day is likely forgotten: audited as `pause.stale` (told to
/// the people once a day).
fn note_a_stale_pause(ctx: &Ctx) -> Result<()> {
    let stop = ctx.home.stop_file();
    let Some(since) = std::fs::metadata(&stop).and_then(|m| m.modified()).ok() else {
        return Ok(());
    };
    let age = std::time::SystemTime::now()
        .duration_since(since)
        .unwrap_or_default();
    let told_today = ctx
        .store
        .last_event("pause.stale")?
        .is_some_and(|e| e.at.date_naive() == ctx.now().date_naive());
    if age < STALE_PAUSE || told_today {
        return Ok(());
    }
    let since: chrono::DateTime<chrono::Utc> = since.into();
    let since = since.with_timezone(&ctx.clock.tz).format("%Y-%m-%d %H:%M");
    ctx.audit(
        Event::new(ctx.now(), "dayshift", "pause.stale")
            .detail(serde_json::json!({"since": since.to_string(), "hours": age.as_secs() / 3600})),
    )
}

/// How old a STOP file is before the people are reminded of it.
const STALE_PAUSE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Run `job` for `day` now. Waits for a job already running in another process.
pub fn run_job(ctx: &mut Ctx, job: JobName, day: NaiveDate) -> Result<JobOutcome> {
    if let Some(why) = refusal(ctx, job) {
        record_skip(ctx, job, day, &why, needs_fix(ctx, job))?;
        return Err(Error::Refused(why));
    }
    let lock_path = ctx.home.job_lock();
    let _lock = FileLock::acquire(&lock_path).at_path(&lock_path)?;
    let span = match job.agent() {
        "planner" => info_span!("planner", job = %job, %day),
        _ => info_span!("orchestrator", job = %job, %day),
    };
    let _enter = span.enter();
    let interrupted = ctx.store.close_interrupted_runs(ctx.now())?;
    if interrupted > 0 {
        info!(interrupted, "closed runs a crash left open");
    }
    ctx.reconcile()?;
    let run = ctx.store.start_run(job.as_str(), day, ctx.now())?;
    ctx.audit(
        Event::new(ctx.now(), job.agent(), "job.started")
            .detail(serde_json::json!({"job": job, "day": day})),
    )?;
    info!("{job} started");
    let result = match job {
        JobName::Morning => with_model(ctx, AgentName::Orchestrator, |ctx, model| {
            morning::run(ctx, day, model)
        }),
        JobName::Plan => with_model(ctx, AgentName::Planner, |ctx, model| {
            plan::run(ctx, day, model)
        }),
        JobName::Wrapup => wrapup::run(ctx, day),
        JobName::Research => with_model(ctx, AgentName::Researcher, |ctx, model| {
            research::run(ctx, day, model)
        }),
        JobName::Work => with_model(ctx, AgentName::Coder, |ctx, model| {
            work_with_engine(ctx, day, model)
        }),
        JobName::Deploy => super::deploy::run(ctx, day),
        JobName::Monitor => super::monitor::run(ctx, day),
    };
    // the run used the config read at its start; a change made meanwhile is reported
    if let Err(e) = ctx.report_config_changes() {
        tracing::warn!("could not compare the config with the run's start: {e}");
    }
    let now = ctx.now();
    match &result {
        Ok(outcome) => {
            info!(summary = %outcome.summary, "{job} finished");
            ctx.store.finish_run(
                run,
                RunOutcome::Ok,
                &ctx.redact(&outcome.summary),
                None,
                now,
            )?;
            let detail = serde_json::json!({"job": job, "day": day, "summary": outcome.summary});
            ctx.audit(Event::new(now, job.agent(), "job.finished").detail(detail))?;
        }
        Err(e) => {
            let message = ctx.config.secrets.redact(&e.to_string());
            // the command line prints the error itself; the log files get it here
            error!(target: crate::logging::FILES_ONLY, error = %message, "{job} failed");
            ctx.store
                .finish_run(run, RunOutcome::Failed, "", Some(&message), now)?;
            let detail =
                serde_json::json!({"job": job, "day": day, "error": message, "stop": stop_kind(e)});
            ctx.audit(Event::new(now, job.agent(), "job.failed").detail(detail))?;
        }
    }
    tell_the_people(ctx, job, day, result.is_ok());
    result
}

/// How a failed job stopped, for the notifier: `budget` (the cap; told as a budget notice),
/// `cancelled` (a signal or `dayshift stop`; not told), else `error` (told as urgent).
fn stop_kind(e: &Error) -> &'static str {
    match e {
        Error::Llm(crate::llm::LlmError::Budget(_)) => "budget",
        _ if crate::process::cancelled() => "cancelled",
        _ => "error",
    }
}

/// After a job: its summary for the people (the morning's and the wrap-up's), then the
/// audit events since the last time as notices, and everything due sent. Never fails the job.
fn tell_the_people(ctx: &Ctx, job: JobName, day: NaiveDate, ok: bool) {
    if !ctx.config.notify.is_on() {
        return;
    }
    let summary: Option<Result<crate::notify::Notice>> = match (job, ok) {
        (JobName::Morning, true) => Some(super::summary::morning(ctx, day)),
        (JobName::Wrapup, true) => Some(super::summary::nightly(ctx, day)),
        _ => None,
    };
    match summary {
        Some(Ok(notice)) => ctx.notify(notice),
        Some(Err(e)) => tracing::warn!("the {job} summary could not be made: {e}"),
        None => {}
    }
    ctx.deliver_notices(crate::notify::Patience::Full);
}

/// Run `job` with the agent's model when agents.yaml gives it one, model-free otherwise.
fn with_model(
    ctx: &mut Ctx,
    agent: AgentName,
    job: impl FnOnce(&mut Ctx, Option<&Model>) -> Result<JobOutcome>,
) -> Result<JobOutcome> {
    let models = ctx.models(&[agent])?;
    models.with_model(agent, |model| job(ctx, model))
}

/// The work loop with the coder's configured engine.
fn work_with_engine(ctx: &mut Ctx, day: NaiveDate, model: Option<&Model>) -> Result<JobOutcome> {
    with_coder_engine(ctx, model, |ctx, engine| {
        work::run(ctx, day, engine, &super::deploy::after_merges)
    })
}

/// Run `job` with the coder's configured engine (the native one uses the coder's model).
fn with_coder_engine<T>(
    ctx: &mut Ctx,
    model: Option<&Model>,
    job: impl FnOnce(&mut Ctx, &dyn crate::engine::Engine) -> Result<T>,
) -> Result<T> {
    use crate::engine::build::{CoderEngine, coder_engine};
    match coder_engine(&ctx.home, &ctx.config).map_err(|e| Error::Refused(e.to_string()))? {
        CoderEngine::Aider(engine) => job(ctx, &engine),
        CoderEngine::Command(engine) => job(ctx, &engine),
        CoderEngine::Native => {
            let model = model.ok_or_else(|| {
                Error::Refused("the native engine needs a model: give agents.coder a `provider` (or set default_provider)".into())
            })?;
            let engine = crate::engine::native::NativeEngine {
                call: model.call,
                prompts: model.prompts,
                max_tokens: model.max_tokens,
            };
            job(ctx, &engine)
        }
    }
}

/// The coder's change for `task` (not in the queue), drafted by its configured engine and
/// judged by the guardrails and the reviewer's deterministic layers, never committed
/// ([`work::draft`]): the patch and the review, or why none could be made.
pub fn draft_change(
    ctx: &mut Ctx,
    task: &crate::tasks::Task,
) -> Result<std::result::Result<(String, crate::review::Review), String>> {
    if let Some(why) = refusal(ctx, JobName::Work) {
        return Err(Error::Refused(why));
    }
    let models = ctx.models(&[AgentName::Coder])?;
    models.with_model(AgentName::Coder, |model| {
        with_coder_engine(ctx, model, |ctx, engine| work::draft(ctx, engine, task))
    })
}
