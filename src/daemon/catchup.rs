//! Catch-up (DESIGN §1): jobs missed while the daemon was not running, run at its start.
//!
//! A missing report for yesterday (yesterday has a plan, reports/daily/ has no file for it)
//! runs `wrapup` for yesterday, first, because the morning reads it. Then `morning`, and
//! `plan` after a successful morning, run for today when their time today has passed and
//! today has no successful run of them. Only jobs with a schedule are caught up; the STOP
//! file and a stop pause the catch-up like any fire.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use tracing::{info, warn};

use super::fire::{Daemon, Fired, Trigger};
use crate::config::schedules::CronSchedule;
use crate::context::Ctx;
use crate::jobs::JobName;

/// What a start should catch up: jobs and the day each runs for, in order.
pub(super) fn missed(
    ctx: &Ctx,
    now: DateTime<Tz>,
) -> crate::error::Result<Vec<(JobName, NaiveDate)>> {
    let jobs = &ctx.config.schedules.jobs;
    let today = now.date_naive();
    let mut out = Vec::new();
    if let Some(yesterday) = today.pred_opt()
        && jobs.contains_key(&JobName::Wrapup)
        && ctx.store.load_plan(yesterday)?.is_some()
        && !ctx.home.daily_report(yesterday).exists()
    {
        out.push((JobName::Wrapup, yesterday));
    }
    for job in [JobName::Morning, JobName::Plan] {
        if due_today(jobs, job, &now) && !ctx.store.ran_ok(job.as_str(), today)? {
            out.push((job, today));
        }
    }
    Ok(out)
}

/// Whether `job` is scheduled and its time today has already come.
fn due_today(jobs: &BTreeMap<JobName, CronSchedule>, job: JobName, now: &DateTime<Tz>) -> bool {
    jobs.get(&job)
        .and_then(|cron| cron.previous_at_or_before(now))
        .is_some_and(|t| t.date_naive() == now.date_naive())
}

/// Run what [`missed`] finds; `plan` only after a successful `morning`.
pub(super) async fn catch_up(daemon: Arc<Daemon>) {
    let home = daemon.home.clone();
    let found = tokio::task::spawn_blocking(move || {
        let ctx = Ctx::open(home, None)?;
        missed(&ctx, Utc::now().with_timezone(&ctx.clock.tz))
    })
    .await;
    super::release_memory();
    let todo = match found {
        Ok(Ok(todo)) => todo,
        Ok(Err(e)) => return warn!("catch-up skipped: {e}"),
        Err(e) => return warn!("catch-up skipped: {e}"),
    };
    if todo.is_empty() {
        return info!("catch-up: nothing missed");
    }
    let list: Vec<String> = todo
        .iter()
        .map(|(job, day)| format!("{job} for {day}"))
        .collect();
    info!(
        "catch-up: missed while the daemon was not running: {}",
        list.join(", ")
    );
    let mut morning_failed = false;
    for (job, day) in todo {
        if job == JobName::Plan && morning_failed {
            info!("catch-up: plan not run, the morning did not run successfully");
            continue;
        }
        let fired = daemon.fire(job, Some(day), Trigger::CatchUp).await;
        morning_failed |= job == JobName::Morning && fired != Fired::Ok;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::home::Home;
    use chrono::TimeZone;

    fn ctx_with(yaml: &str) -> (tempfile::TempDir, Ctx) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("h"), "Asia/Dhaka").unwrap();
        std::fs::write(home.config_file("schedules.yaml"), yaml).unwrap();
        let ctx = Ctx::open(home, None).unwrap();
        (dir, ctx)
    }

    #[test]
    fn a_passed_morning_and_plan_are_caught_up_a_future_one_is_not() {
        let (_dir, ctx) = ctx_with(
            "timezone: Asia/Dhaka\njobs: {morning: \"0 7 * * *\", plan: \"45 7 * * *\", wrapup: \"0 23 * * *\"}\n",
        );
        let tz = chrono_tz::Asia::Dhaka;
        let early = tz.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap();
        assert!(
            missed(&ctx, early).unwrap().is_empty(),
            "nothing is due before 07:00"
        );
        let between = tz.with_ymd_and_hms(2026, 11, 22, 7, 30, 0).unwrap();
        let day = between.date_naive();
        assert_eq!(
            missed(&ctx, between).unwrap(),
            vec![(JobName::Morning, day)]
        );
        let late = tz.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
        assert_eq!(
            missed(&ctx, late).unwrap(),
            vec![(JobName::Morning, day), (JobName::Plan, day)]
        );
        let run = ctx
            .store
            .start_run("morning", day, late.fixed_offset())
            .unwrap();
        ctx.store
            .finish_run(
                run,
                crate::store::RunOutcome::Ok,
                "",
                None,
                late.fixed_offset(),
            )
            .unwrap();
        assert_eq!(
            missed(&ctx, late).unwrap(),
            vec![(JobName::Plan, day)],
            "a morning that ran is not run again"
        );
    }

    #[test]
    fn yesterday_with_a_plan_and_no_report_gets_its_wrapup_first() {
        let (_dir, ctx) = ctx_with(
            "timezone: Asia/Dhaka\njobs: {morning: \"0 7 * * *\", wrapup: \"0 23 * * *\"}\n",
        );
        let tz = chrono_tz::Asia::Dhaka;
        let now = tz.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap();
        let yesterday = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        ctx.store
            .save_plan(yesterday, "{}", now.fixed_offset())
            .unwrap();
        let todo = missed(&ctx, now).unwrap();
        assert_eq!(
            todo,
            vec![
                (JobName::Wrapup, yesterday),
                (JobName::Morning, now.date_naive())
            ]
        );
        std::fs::write(ctx.home.daily_report(yesterday), "# report\n").unwrap();
        assert_eq!(
            missed(&ctx, now).unwrap(),
            vec![(JobName::Morning, now.date_naive())]
        );
    }

    #[test]
    fn jobs_without_a_schedule_are_never_caught_up() {
        let (_dir, ctx) = ctx_with("timezone: Asia/Dhaka\njobs: {plan: \"45 7 * * *\"}\n");
        let now = chrono_tz::Asia::Dhaka
            .with_ymd_and_hms(2026, 11, 22, 23, 0, 0)
            .unwrap();
        ctx.store
            .save_plan(
                now.date_naive().pred_opt().unwrap(),
                "{}",
                now.fixed_offset(),
            )
            .unwrap();
        assert_eq!(
            missed(&ctx, now).unwrap(),
            vec![(JobName::Plan, now.date_naive())]
        );
    }
}
