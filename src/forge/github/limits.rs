//! `pr_hourly_limit` and `pr_concurrent_limit` (as Renovate's prHourlyLimit and
//! prConcurrentLimit): while either is reached, no new task is taken — the work a pull
//! request could not be opened for is not started. Tasks already in progress or in review
//! go on (their pull requests exist or are about to). Both are read from dayshift's own
//! records, with no call to GitHub: pull requests opened (`github.pr` events with `new`)
//! and tasks in review that have one.

use chrono::Duration;

use crate::context::Ctx;
use crate::error::Result;
use crate::tasks::TaskState;

/// Why no new pull request may be opened now, or `None`. A limit of 0 is no limit.
pub fn held(ctx: &Ctx, hourly: u32, concurrent: u32) -> Result<Option<String>> {
    if hourly > 0 {
        let opened = opened_in_the_last_hour(ctx)?;
        if opened >= hourly as usize {
            return Ok(Some(format!(
                "pr_hourly_limit: {opened} pull request(s) opened in the last hour, the most target.yaml allows is {hourly}; new tasks wait"
            )));
        }
    }
    if concurrent > 0 {
        let open = open_pull_requests(ctx)?;
        if open >= concurrent as usize {
            return Ok(Some(format!(
                "pr_concurrent_limit: {open} pull request(s) open, the most target.yaml allows is {concurrent}; new tasks wait until one is merged or closed"
            )));
        }
    }
    Ok(None)
}

fn opened_in_the_last_hour(ctx: &Ctx) -> Result<usize> {
    let now = ctx.now();
    let since = now - Duration::hours(1);
    let mut count = 0;
    for day in [since.date_naive(), now.date_naive()] {
        count += ctx
            .store
            .events_on(day)?
            .iter()
            .filter(|e| e.action == "github.pr" && e.detail["new"] == true && e.at >= since)
            .count();
        if since.date_naive() == now.date_naive() {
            break;
        }
    }
    Ok(count)
}

fn open_pull_requests(ctx: &Ctx) -> Result<usize> {
    let mut open = 0;
    for row in ctx
        .store
        .tasks()?
        .iter()
        .filter(|t| t.state == TaskState::InReview)
    {
        if ctx.queue.find(row.id)?.meta.pr.is_some() {
            open += 1;
        }
    }
    Ok(open)
}
