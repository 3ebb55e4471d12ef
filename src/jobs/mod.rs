//! The jobs of the day (DESIGN §1) and the runner that records each run.
//!
//! `morning` writes DAILY_PLAN.md, `plan` turns it into task files, `wrapup` writes the
//! daily report and PROGRESS.md; [`day`] runs them in order. Each job is idempotent: run it
//! twice (or again after a crash) and it converges on the same files.

pub mod daily_plan;
mod morning;
mod name;
mod plan;
mod runner;
mod wrapup;

use chrono::NaiveDate;

pub use morning::budget_line;
pub use name::JobName;
pub use runner::{JobOutcome, refusal, run_job};

use crate::context::Ctx;
use crate::error::Result;

/// The jobs `dayshift day` runs, in order.
pub const DAY: [JobName; 5] = [
    JobName::Morning,
    JobName::Research,
    JobName::Plan,
    JobName::Work,
    JobName::Wrapup,
];

/// A step of the day: the job ran, or it was skipped (with the reason).
#[derive(Debug)]
pub enum DayStep {
    Ran(JobOutcome),
    Skipped(JobName, String),
}

/// Run the whole day now, in order. A job that is not built yet is skipped and said so; a
/// job that fails stops the day (the next jobs would build on its output).
pub fn day(
    ctx: &mut Ctx,
    day: NaiveDate,
    mut on_step: impl FnMut(&DayStep),
) -> Result<Vec<DayStep>> {
    let mut steps = Vec::new();
    for job in DAY {
        let step = if job.is_built() {
            DayStep::Ran(run_job(ctx, job, day)?)
        } else {
            DayStep::Skipped(job, refusal(ctx, job).unwrap_or_default())
        };
        on_step(&step);
        steps.push(step);
    }
    Ok(steps)
}
