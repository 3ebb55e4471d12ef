//! Working one task: its work tree, the base branch's checks, and up to `attempts`
//! engine runs — each judged by the guardrails and QA, never by the engine's word.

use std::cell::{Cell, RefCell};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod output;
mod spend;

use super::meter::Meter;
use super::progress::Progress;
use super::review::Reviewer;
use super::{ACTOR, Ended, Limits, Stop};
use super::{commit, finish, recover};
use crate::context::Ctx;
use crate::engine::failure::{self, FailureClass};
use crate::engine::{Assignment, Engine, EngineError};
use crate::error::{Error, Result};
use crate::home::guard::{HomeGuard, Tampered};
use crate::llm::LlmError;
use crate::process;
use crate::qa::{self, Baseline, QaCommands};
use crate::review::Review;
use crate::sandbox::{Confinement, Sandbox};
use crate::target::{self, ChangeSet, Snapshot, Violation, Worktree};
use crate::tasks::{Stage, Task, TaskState};

/// How long the target's checks may run.
const QA_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// A failed attempt: why (fed to the next attempt), a reason to fail the task at once (an
/// agent wrote into the home, or its change carries a known secret: not retried), or a
/// reason to stop the whole loop.
enum Miss {
    Retry(String),
    Fail(String),
    Stop(Stop),
}

pub(super) fn work_task(
    ctx: &Ctx,
    limits: &Limits,
    reviewer: &Reviewer,
    engine: &dyn Engine,
    task: &mut Task,
    progress: &mut Progress,
) -> Result<Ended> {
    let started = Instant::now();
    let mut meter = Meter::default();
    let ended = work(ctx, limits, reviewer, engine, task, &mut meter, progress)?;
    progress.ended(&ended.to_string());
    finish::record_worked(ctx, task, &ended, &meter, started.elapsed())?;
    Ok(ended)
}

/// A change drafted for `task`, which is not in the queue: one engine run in a work tree
/// of its own, judged by the guardrails and the reviewer's deterministic layers exactly as
/// an attempt is (the tests are not run), its patch kept, then the work tree and its branch
/// removed. Nothing is committed, merged, moved or written to the queue; what the engine
/// spent is billed. `Err` inside: why no change could be drafted.
pub(super) fn draft(
    ctx: &Ctx,
    limits: &Limits,
    reviewer: &Reviewer,
    engine: &dyn Engine,
    task: &Task,
) -> Result<std::result::Result<(String, Review), String>> {
    let sandbox = Sandbox::new(&ctx.config.policy.sandbox, ctx.home.root())
        .map_err(|e| crate::Error::Refused(e.to_string()))?;
    let clone = ctx.home.target_clone();
    let base = &ctx.config.target.base_branch;
    let slug = crate::tasks::id::slugify(&task.meta.title);
    let worktree = target::start_task(&clone, base, task.meta.id, &slug)
        .map_err(|e| Error::Refused(format!("could not make a work tree for the draft: {e}")))?;
    let confine = sandbox.for_task(&worktree.path, &clone);
    let drafted = HomeGuard::new(&ctx.home, confine.is_active())
        .map_err(|e| {
            Error::Refused(format!(
                "cannot record the home before the engine runs: {e}"
            ))
        })
        .map(|home_guard| {
            let mut progress = Progress::new(&ctx.home);
            let crew = Crew {
                ctx,
                limits,
                engine,
                reviewer,
            };
            let at = Place {
                worktree: &worktree,
                confine: &confine,
                sandbox: &sandbox,
            };
            let run = TaskRun::new(crew, task, at, home_guard, &mut progress);
            let mut meter = Meter::default();
            match run.once(task, None, 1, &mut meter) {
                Ok((changes, review)) => target::patch(&worktree, &changes)
                    .map(|patch| (ctx.redact(&patch), review))
                    .map_err(|e| e.to_string()),
                Err(Miss::Retry(why) | Miss::Fail(why)) => Err(ctx.redact(&why)),
                Err(Miss::Stop(stop)) => Err(stop.to_string()),
            }
        });
    let _ = target::rollback(&worktree);
    if let Err(e) = target::prune_branches(&clone, &[task.meta.id]) {
        tracing::warn!("could not remove the draft's work tree and branch: {e}");
    }
    drafted
}

fn work(
    ctx: &Ctx,
    limits: &Limits,
    reviewer: &Reviewer,
    engine: &dyn Engine,
    task: &mut Task,
    meter: &mut Meter,
    progress: &mut Progress,
) -> Result<Ended> {
    let attempts = super::coder_attempts(ctx);
    // `sandbox.mode: required` without a working sandbox refuses before the task is taken
    let sandbox = Sandbox::new(&ctx.config.policy.sandbox, ctx.home.root())
        .map_err(|e| crate::Error::Refused(e.to_string()))?;
    // before anything runs in the clone: what a killed run's tool left there goes
    if let Some(line) = finish::recover_git(ctx).map_err(Error::Refused)? {
        task.log(ctx.now(), ACTOR, &line);
    }
    if task.state == TaskState::InProgress
        && let Some(ended) = recover::committed_in_progress(ctx, reviewer, task)?
    {
        return Ok(ended);
    }
    let first = if task.state == TaskState::InProgress {
        // what the interrupted attempt left running must not write on into the worktree
        let killed = process::kill_orphans();
        if killed > 0 {
            tracing::warn!("killed {killed} process(es) left by an interrupted run");
        }
        // each round the reviewer sent it back adds an attempt
        let first = finish::resumes_at(task).clamp(1, attempts + task.meta.review_rounds);
        let why = if task.meta.review_rounds > 0 && task.meta.stage.is_none() {
            "taken up again after the reviewer's comments"
        } else {
            "resumed after an interruption"
        };
        task.log(ctx.now(), ACTOR, &format!("{why}, at attempt {first}"));
        ctx.save_task(task, ACTOR, "task.resumed", serde_json::Value::Null)?;
        first
    } else {
        let why = format!("taken by the coder (engine {})", engine.name());
        ctx.move_task(task, TaskState::InProgress, ACTOR, &why)?;
        1
    };
    let base = &ctx.config.target.base_branch;
    let slug = crate::tasks::id::slugify(&task.meta.title);
    let worktree = match target::start_task(&ctx.home.target_clone(), base, task.meta.id, &slug) {
        Ok(w) => w,
        Err(e) => return finish::fail(ctx, task, &format!("could not make its work tree: {e}")),
    };
    let confine = sandbox.for_task(&worktree.path, &ctx.home.target_clone());
    // unconfined, what the agents' runs change in the home is put back (one guard per task)
    let home_guard = match HomeGuard::new(&ctx.home, confine.is_active()) {
        Ok(guard) => guard,
        Err(e) => {
            let why = format!("cannot record the home before the agents run: {e}");
            return finish::fail(ctx, task, &why);
        }
    };
    let commands = QaCommands::from_target(&ctx.config.target);
    let baseline = if commands.lint.is_some() || commands.test.is_some() {
        progress.attempt(task, first, attempts, "running the base branch's checks");
        let cache = ctx.home.state_dir().join("qa");
        let clock = Instant::now();
        // the base's tests may be code an earlier task merged: they are held like a tool
        let held = target::meta::Held::take(&worktree, &finish::git_record(ctx));
        let mut home_tampered = None;
        let base_run = Baseline::get_or_run(&cache, &worktree.base_commit, &commands, || {
            let run = qa::run_checks_confined(&worktree.path, &commands, QA_TIMEOUT, &confine);
            home_tampered = home_guard.verify(&ctx.home).err();
            run
        });
        meter.checks += clock.elapsed();
        if let Some(what) = home_tampered {
            let Miss::Fail(why) = tampered(ctx, task, &what) else {
                unreachable!("tampered() fails the task")
            };
            return finish::fail(ctx, task, &format!("the base branch's checks: {why}"));
        }
        if let Err(v) = held.and_then(|held| held.verify()) {
            return finish::fail(ctx, task, &format!("the base branch's checks {v}"));
        }
        match base_run {
            Ok(b) => Some(b),
            Err(e) => {
                let why = format!("the base branch's checks could not run: {e}");
                return finish::fail(ctx, task, &why);
            }
        }
    } else {
        None
    };
    let crew = Crew {
        ctx,
        limits,
        engine,
        reviewer,
    };
    let at = Place {
        worktree: &worktree,
        confine: &confine,
        sandbox: &sandbox,
    };
    let run = TaskRun {
        commands: &commands,
        baseline: baseline.as_ref(),
        ..TaskRun::new(crew, task, at, home_guard, progress)
    };
    let ended = run.attempts(task, first..=attempts + task.meta.review_rounds, meter);
    if !matches!(ended, Ok(Ended::Interrupted(_))) {
        let _ = std::fs::remove_file(&run.feedback_file);
    }
    ended
}

/// One task's attempts and what they work with.
struct TaskRun<'a> {
    ctx: &'a Ctx,
    limits: &'a Limits,
    engine: &'a dyn Engine,
    worktree: &'a Worktree,
    commands: &'a QaCommands,
    baseline: Option<&'a Baseline>,
    /// How the engine and QA run, and that in words for the audit.
    confine: &'a Confinement,
    /// What no agent may change in the home, recorded before each run (unconfined runs).
    home_guard: RefCell<HomeGuard>,
    sandbox: String,
    /// What failed last (`.dayshift/feedback/<ID>.txt`), so a resumed task still hears it.
    feedback_file: PathBuf,
    /// An attempt was refused for a never-touch path already ([`TaskRun::refused`]).
    never_touch_refused: Cell<bool>,
    /// What the people watching see.
    progress: RefCell<&'a mut Progress>,
    /// The reviewer's layers, notes and model.
    reviewer: &'a Reviewer<'a>,
}

/// Who works a task: the same for its attempts and for a draft.
struct Crew<'a> {
    ctx: &'a Ctx,
    limits: &'a Limits,
    engine: &'a dyn Engine,
    reviewer: &'a Reviewer<'a>,
}

/// Where a task's runs happen, and how they are confined.
struct Place<'a> {
    worktree: &'a Worktree,
    confine: &'a Confinement,
    sandbox: &'a Sandbox,
}

/// No checks: a draft is judged by the guardrails and the reviewer's deterministic layers
/// only.
static NO_CHECKS: QaCommands = QaCommands {
    lint: None,
    test: None,
    coverage: None,
};

impl<'a> TaskRun<'a> {
    /// `task`'s run by `crew` at `at`, with no checks (a draft's); the work loop's
    /// attempts set `commands` and `baseline`.
    fn new(
        crew: Crew<'a>,
        task: &Task,
        at: Place<'a>,
        home_guard: HomeGuard,
        progress: &'a mut Progress,
    ) -> Self {
        Self {
            ctx: crew.ctx,
            limits: crew.limits,
            engine: crew.engine,
            reviewer: crew.reviewer,
            worktree: at.worktree,
            confine: at.confine,
            sandbox: at.sandbox.state().describe(),
            home_guard: RefCell::new(home_guard),
            commands: &NO_CHECKS,
            baseline: None,
            feedback_file: finish::feedback_file(crew.ctx, task),
            never_touch_refused: Cell::new(false),
            progress: RefCell::new(progress),
        }
    }
}

impl TaskRun<'_> {
    fn attempts(
        &self,
        task: &mut Task,
        range: RangeInclusive<u32>,
        meter: &mut Meter,
    ) -> Result<Ended> {
        let ctx = self.ctx;
        let (first, mut last) = (*range.start(), *range.end());
        let mut feedback = if first > 1 {
            std::fs::read_to_string(&self.feedback_file).ok()
        } else {
            None
        };
        let mut attempt = first;
        while attempt <= last {
            if attempt > first
                && let Some(stop) = self.limits.stop(ctx)?
            {
                return finish::pause(ctx, task, attempt, stop);
            }
            task.meta.attempts = attempt;
            task.meta.next_attempt = None;
            task.meta.stage = Some(Stage::Engine);
            let engine = self.engine.name();
            task.log(
                ctx.now(),
                ACTOR,
                &format!("attempt {attempt} started (engine {engine})"),
            );
            ctx.save_task(
                task,
                ACTOR,
                "task.attempt",
                serde_json::json!({"attempt": attempt, "engine": engine, "sandbox": self.sandbox}),
            )?;
            self.progress
                .borrow_mut()
                .attempt(task, attempt, last, &format!("running {engine}"));
            let result = self.once(task, feedback.as_deref(), attempt, meter);
            let kept = self.run_log(task, attempt);
            if kept.is_file() {
                let shown = kept.strip_prefix(ctx.home.root()).unwrap_or(&kept);
                task.log(
                    ctx.now(),
                    ACTOR,
                    &format!(
                        "attempt {attempt}: the tool's whole output is in {}",
                        shown.display()
                    ),
                );
            }
            match result {
                Ok((changes, review)) => {
                    if self.reviewer.model.is_some() {
                        self.progress
                            .borrow_mut()
                            .step("asking the reviewer's model");
                    }
                    let ended =
                        commit::commit(ctx, self.reviewer, task, self.worktree, &changes, review)?;
                    let Ended::SentBack(comments) = ended else {
                        return Ok(ended);
                    };
                    // a round of review: one more attempt, with the comments
                    last += 1;
                    feedback = Some(comments);
                }
                Err(Miss::Stop(stop)) => {
                    let _ = target::rollback(self.worktree);
                    return finish::pause(ctx, task, attempt, stop);
                }
                Err(Miss::Fail(why)) => {
                    let _ = target::rollback(self.worktree);
                    let why = ctx.redact(&format!("attempt {attempt}: {why}"));
                    return finish::fail(ctx, task, &why);
                }
                Err(Miss::Retry(why)) => {
                    // a tool's output may quote a key: never into the log, file or next prompt
                    let why = ctx.redact(&why);
                    let _ = target::rollback(self.worktree);
                    let line = why.lines().next().unwrap_or("").to_string();
                    task.log(
                        ctx.now(),
                        ACTOR,
                        &format!("attempt {attempt} failed: {line}"),
                    );
                    ctx.save_task(
                        task,
                        ACTOR,
                        "task.attempt_failed",
                        serde_json::json!({"attempt": attempt, "why": line}),
                    )?;
                    finish::save_feedback(&self.feedback_file, &why);
                    feedback = Some(why);
                }
            }
            attempt += 1;
        }
        let why = feedback
            .as_deref()
            .and_then(|f| f.lines().next())
            .unwrap_or("every attempt failed")
            .to_string();
        finish::fail(
            ctx,
            task,
            &format!("{last} attempt(s) failed; the last: {why}"),
        )
    }
    /// One attempt; `Ok(what changed)` when the change is good, with the reason a person
    /// must still look at it, if there is one.
    fn once(
        &self,
        task: &Task,
        feedback: Option<&str>,
        attempt: u32,
        meter: &mut Meter,
    ) -> std::result::Result<(ChangeSet, Review), Miss> {
        let retry = |e: &dyn std::fmt::Display| Miss::Retry(e.to_string());
        let (ctx, worktree) = (self.ctx, self.worktree);
        let before = Snapshot::around(worktree, &ctx.home.workspace()).map_err(|e| retry(&e))?;
        let git_meta =
            target::meta::Held::take(worktree, &finish::git_record(ctx)).map_err(|e| retry(&e))?;
        // take in dayshift's own writes since the last run (the task file, the QA cache)
        self.home_guard
            .borrow_mut()
            .record(&ctx.home)
            .map_err(|e| retry(&e))?;
        let home_guard = self.home_guard.borrow();
        let job = Assignment {
            task: &task.meta,
            description: super::review::description(task),
            workdir: &worktree.path,
            feedback,
            attempt,
            notes: &self.reviewer.notes,
            confine: Some(self.confine),
        };
        let clock = Instant::now();
        let run_log = self.run_log(task, attempt);
        // an earlier run of the same attempt (resumed after a stop) left its own
        let _ = std::fs::remove_file(&run_log);
        let ran = self.engine.run(&job);
        meter.engine += clock.elapsed();
        let output = match &ran {
            Ok(report) => Some(report.output.as_str()),
            Err(e) => e.output(),
        };
        if let Some(output) = output {
            self.keep_output(&run_log, output);
        }
        // whatever the tool wrote into the clone's git metadata or the home is put back now,
        // however it ended
        let git_intact = git_meta.verify();
        let home_intact = home_guard.verify(&ctx.home);
        let spent = match &ran {
            Ok(report) => report.spent,
            Err(e) => e.spent(),
        };
        // what it spent is billed even when it is about to fail for what it wrote
        let billed = self.bill(task, spent, meter);
        home_intact.map_err(|t| tampered(ctx, task, &t))?;
        if let Some(overrun) = billed.map_err(|e| retry(&e))? {
            let left = self.limits.budget.remaining().map_err(|e| retry(&e))?;
            return Err(if left.exhausted() {
                Miss::Stop(Stop::Budget(overrun))
            } else {
                Miss::Retry(overrun)
            });
        }
        let report = match ran {
            Ok(report) => report,
            Err(EngineError::Model(LlmError::Budget(why))) => {
                return Err(Miss::Stop(Stop::Budget(why)));
            }
            Err(EngineError::Cancelled { .. } | EngineError::Model(LlmError::Cancelled { .. })) => {
                return Err(Miss::Stop(Stop::Cancelled));
            }
            Err(e) => {
                if process::cancelled() {
                    return Err(Miss::Stop(Stop::Cancelled));
                }
                git_intact.map_err(|v| retry(&v))?;
                // a setup problem or an outage fails every attempt at every task alike:
                // stop, burning nothing; only a task's own failure is retried
                return Err(
                    match failure::classify(&e, self.engine.provider().as_ref()) {
                        FailureClass::Environment(why) => {
                            Miss::Stop(Stop::Environment(ctx.redact(&why)))
                        }
                        FailureClass::ProviderDown(why) => {
                            Miss::Stop(Stop::ProviderDown(ctx.redact(&why)))
                        }
                        FailureClass::Task => Miss::Retry(engine_reason(&e)),
                    },
                );
            }
        };
        git_intact.map_err(|v| retry(&v))?;
        target::escaped(worktree, &before).map_err(|v| retry(&v))?;
        let changes =
            target::inspect(worktree, &ctx.config.policy).map_err(|v| self.refused(task, &v))?;
        let patch = target::patch(worktree, &changes).map_err(|v| retry(&v))?;
        if let Some(name) = ctx.find_added_secret(&patch) {
            return Err(Miss::Fail(format!(
                "the change adds the value of {name}, a secret dayshift knows; it was discarded and is never retried"
            )));
        }
        if changes.files.is_empty() {
            return Err(Miss::Retry(format!(
                "{} finished but changed nothing ({})",
                self.engine.name(),
                report.summary
            )));
        }
        // the reviewer's deterministic layers, before the tests: a secret, a note's path or
        // a change that cannot parse never runs
        let mut review = super::review::deterministic(
            ctx,
            self.reviewer,
            task,
            &worktree.path,
            &worktree.base_commit,
            &changes.tree,
            &patch,
        )
        .map_err(Miss::Retry)?;
        if let Some(block) = review.final_block() {
            return Err(Miss::Fail(format!(
                "the {} layer: {}; no attempt may add this: a person does this change, or changes the task",
                block.layer.name(),
                block.located()
            )));
        }
        if review.blocked() {
            return Err(Miss::Retry(format!(
                "{}\n{}",
                review.headline(),
                review.feedback()
            )));
        }
        if self.baseline.is_some() {
            let clock = Instant::now();
            self.progress.borrow_mut().step("running the tests");
            let run =
                qa::run_checks_confined(&worktree.path, self.commands, QA_TIMEOUT, self.confine);
            meter.checks += clock.elapsed();
            // the checks ran the tool's test code: the same holds for it
            let git_intact = git_meta.verify();
            home_guard
                .verify(&ctx.home)
                .map_err(|t| tampered(ctx, task, &t))?;
            if process::cancelled() {
                return Err(Miss::Stop(Stop::Cancelled));
            }
            git_intact.map_err(|v| retry(&v))?;
            target::escaped(worktree, &before).map_err(|v| retry(&v))?;
            target::unchanged_since(worktree, &changes).map_err(|v| retry(&v))?;
            let touched: Vec<String> = changes.files.iter().map(|f| f.path.clone()).collect();
            let verdict = qa::verdict_for(self.baseline, &run.map_err(|e| retry(&e))?, &touched);
            let removed: Vec<&str> = verdict.removed.iter().map(String::as_str).collect();
            let declared = task.meta.removes_tests && !removed.is_empty();
            // a declared removal is the one failure a person may accept
            let only_declared = declared && verdict.lint_ok && verdict.new_failures.is_empty();
            if !verdict.passed && !only_declared {
                let broken: Vec<String> = verdict
                    .new_failures
                    .iter()
                    .chain(&verdict.removed)
                    .cloned()
                    .collect();
                // one line for the task log: a change that breaks 160 tests names a few
                let head = if verdict.lint_ok {
                    qa::name_list("new test failures", broken.iter(), 300)
                } else if !verdict.new_lint.is_empty() {
                    qa::name_list("new lint warnings", verdict.new_lint.iter(), 300)
                } else {
                    "lint failed".to_string()
                };
                return Err(Miss::Retry(format!("{head}\n{}", verdict.feedback)));
            }
            super::review::add_qa(ctx, task, &mut review, Some(&verdict));
        } else {
            super::review::add_qa(ctx, task, &mut review, None);
        }
        if review.blocked() {
            return Err(Miss::Retry(format!(
                "{}\n{}",
                review.headline(),
                review.feedback()
            )));
        }
        Ok((changes, review))
    }

    /// What a policy refusal of the change means for the task. A never-touch path cannot be
    /// changed by any attempt: when the task itself names it (`files`), or an attempt was
    /// already refused for one, the task fails at once with the rule quoted; the first time
    /// a tool strays there on its own, it is retried once, told the rule and to work around
    /// it. Everything else is retried.
    fn refused(&self, task: &Task, violation: &Violation) -> Miss {
        let Violation::NeverTouch { path, rule } = violation else {
            return Miss::Retry(violation.to_string());
        };
        let named = task.meta.files.iter().any(|f| {
            f == path || self.ctx.config.policy.never_touch.matching(f) == Some(rule.as_str())
        });
        if named || self.never_touch_refused.replace(true) {
            let whose = if named {
                "the task names it"
            } else {
                "a second attempt went there too"
            };
            return Miss::Fail(format!(
                "{violation}; {whose}, and no attempt may change it: a person does this change, or changes the task"
            ));
        }
        Miss::Retry(format!(
            "{violation}. Make the change without touching `{path}` or anything matching `{rule}`; if the task cannot be done without it, change nothing."
        ))
    }
}

/// A failed run's reason for the task log and the next attempt: its whole message on the
/// first line ([`failure::headline`]), then the rest of what it said when there is more.
fn engine_reason(error: &EngineError) -> String {
    let head = failure::headline(error);
    let said = error.to_string();
    if failure::one_line(&said) == head {
        head
    } else {
        format!("{head}\n{said}")
    }
}

/// An agent's process wrote into the home: audit it (with every path) and fail the task.
fn tampered(ctx: &Ctx, task: &Task, what: &Tampered) -> Miss {
    let event = crate::store::Event::new(ctx.now(), ACTOR, "home.tampered")
        .task(task.meta.id)
        .detail(serde_json::json!({
            "paths": what.paths,
            "kept_in": what.kept_in,
            "unrestored": what.unrestored,
        }));
    if let Err(e) = ctx.audit(event) {
        tracing::warn!("cannot audit home.tampered: {e}");
    }
    tracing::warn!("{}: {what}", task.meta.id);
    Miss::Fail(what.to_string())
}
