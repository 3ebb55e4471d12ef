//! The jobs of the day (DESIGN §1) and the runner that records each run.
//!
//! `morning` writes DAILY_PLAN.md, `plan` turns it into task files, `wrapup` writes the
//! daily report and PROGRESS.md; [`day`] runs them in order. Each job is idempotent: run it
//! twice (or again after a crash) and it converges on the same files.

pub mod daily_plan;
mod day_facts;
pub mod decompose;
pub mod deploy;
pub mod history_chart;
pub mod issues;
pub mod monitor;
mod morning;
pub mod orchestrate;
mod outcome;
pub mod pause;
mod plan;
pub mod research;
pub mod rollback;
mod runner;
pub mod summary;
mod work;
mod wrapup;

use chrono::NaiveDate;

pub use crate::config::JobName;
pub use crate::vision::files_named;
pub use morning::budget_line;
pub use outcome::JobOutcome;
pub use runner::{draft_change, refusal, run_job};
pub use work::{WorkNow, merges_without_a_person, notes_and_rules, task_description};

use crate::context::Ctx;
use crate::error::{Error, Result};

/// The jobs `dayshift day` runs, in order; each agent says what it did or why it was
/// skipped.
pub const DAY: [JobName; 7] = [
    JobName::Monitor,
    JobName::Morning,
    JobName::Research,
    JobName::Plan,
    JobName::Work,
    JobName::Deploy,
    JobName::Wrapup,
];

/// A step of the day: the job ran, or it was skipped (with the reason).
#[derive(Debug)]
pub enum DayStep {
    Ran(JobOutcome),
    Skipped(JobName, String),
    /// It ran and failed (or stopped the day): the error, in words.
    Failed(JobName, String),
}

/// Run the whole day now, in order. A job that is not built yet is skipped and said so; a
/// job that fails stops the day (the next jobs would build on its output) but for the
/// wrap-up, which still writes the report saying what failed. Every skip is recorded
/// ([`runner::record_skip`]).
pub fn day(
    ctx: &mut Ctx,
    day: NaiveDate,
    mut on_step: impl FnMut(&DayStep),
) -> Result<Vec<DayStep>> {
    let mut steps = Vec::new();
    let mut stopped: Option<Error> = None;
    for job in DAY {
        let left_out = (job == JobName::Monitor)
            .then(|| monitor::not_in_the_day(ctx))
            .flatten();
        let step = if let Some(why) = left_out.or_else(|| refusal(ctx, job)) {
            // not built, or not possible here (e.g. `work` before `dayshift setup`)
            runner::record_skip(ctx, job, day, &why, runner::needs_fix(ctx, job))?;
            DayStep::Skipped(job, why)
        } else if let Some(why) = &stopped {
            // a job failed, the budget is spent or the provider is down: the jobs that
            // would build on it wait, and the wrap-up runs to say so in the day's report
            if job != JobName::Wrapup {
                let why = format!("the day stopped: {why}");
                runner::record_skip(ctx, job, day, &why, false)?;
                DayStep::Skipped(job, why)
            } else {
                DayStep::Ran(run_job(ctx, job, day)?)
            }
        } else {
            match run_job(ctx, job, day) {
                Ok(outcome) => DayStep::Ran(outcome),
                // Ctrl-C or `dayshift stop`: nothing more runs, the wrap-up neither
                Err(e) if crate::process::cancelled() => return Err(e),
                Err(e) => {
                    let step = DayStep::Failed(job, e.to_string());
                    // research unanswered or a scan that failed holds nothing up: the
                    // plan and the work go on
                    if !matches!(job, JobName::Research | JobName::Monitor) {
                        stopped = Some(e);
                    }
                    step
                }
            }
        };
        on_step(&step);
        steps.push(step);
    }
    match stopped {
        Some(e) => Err(e),
        None => Ok(steps),
    }
}

/// Whether an error stops the day but leaves the wrap-up to report it: the daily budget
/// running out, or work halted because the model provider is down or the coding tool's
/// setup needs a fix (a refused key, a missing model).
pub fn stops_the_day(e: &Error) -> bool {
    use crate::llm::LlmError;
    use crate::llm::structured::StructuredError;
    matches!(
        e,
        Error::Llm(LlmError::Budget(_))
            | Error::Model(StructuredError::Llm(LlmError::Budget(_)))
            | Error::Halted(_)
    )
}
