//! The timers and the next runs.
//!
//! Timers are tokio-cron-scheduler jobs, one per scheduled job that this build can run.
//! [`keep_armed`] re-creates them when config/schedules.yaml is edited, and when the
//! zone's UTC offset moves: tokio-cron-scheduler turns the zone into a fixed offset when a
//! job is created, so a daylight saving change would otherwise shift every timer by an hour.
//!
//! tokio-cron-scheduler also reads day-of-month and day-of-week together (both must
//! match) where dayshift, like classic cron, takes either; [`timer_expr`] bridges the two
//! so the daemon fires exactly when [`next_runs`] says.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use tokio_cron_scheduler::{Job, JobScheduler};
use tracing::{info, warn};

use super::DaemonError;
use super::NextRun;
use super::fire::{Daemon, Trigger};
use crate::config::Schedules;
use crate::config::schedules::CronSchedule;
use crate::error::{At, FileProblem};

pub fn next_runs(schedules: &Schedules, after: DateTime<Utc>) -> Vec<NextRun> {
    let after = after.with_timezone(&schedules.timezone);
    schedules
        .jobs
        .iter()
        .map(|(job, cron)| NextRun {
            job: *job,
            cron: cron.as_str().to_string(),
            next: cron.next_after(&after).map(|t| t.fixed_offset()),
        })
        .collect()
}

/// Create and start a timer for every scheduled job this build can run.
pub(super) async fn arm(
    daemon: &Arc<Daemon>,
    schedules: &Schedules,
) -> Result<JobScheduler, DaemonError> {
    let failed = |e: tokio_cron_scheduler::JobSchedulerError| {
        DaemonError::Failed(format!("the scheduler could not start: {e}"))
    };
    let scheduler = JobScheduler::new().await.map_err(failed)?;
    for (job, cron) in &schedules.jobs {
        let (job, d, tz) = (*job, daemon.clone(), schedules.timezone);
        let (expr, recheck) = timer_expr(cron);
        let own = cron.clone();
        let timer = Job::new_async_tz(expr, tz, move |_id, _scheduler| {
            let (d, on_time) = (d.clone(), !recheck || is_occurrence(&own, tz));
            Box::pin(async move {
                if on_time {
                    d.fire(job, None, Trigger::Scheduled).await;
                }
            })
        })
        .map_err(|e| {
            DaemonError::Failed(format!(
                "config/schedules.yaml: job `{job}`: the scheduler cannot read cron `{}` ({e}); write 5 fields such as \"0 7 * * *\"",
                cron.as_str()
            ))
        })?;
        scheduler
            .add(timer)
            .await
            .map_err(|e| DaemonError::Failed(format!("the scheduler refused job `{job}`: {e}")))?;
        info!(
            "{job} scheduled: \"{}\" in {}",
            cron.as_str(),
            schedules.timezone
        );
    }
    scheduler.start().await.map_err(failed)?;
    Ok(scheduler)
}

/// The expression for tokio-cron-scheduler, and whether each of its fires must be checked
/// against dayshift's reading. It wants day-of-month *and* day-of-week to match; classic
/// cron (and dayshift) takes either. When an expression restricts both, the timer fires
/// on every day at the expression's times and the fire is kept only on the right days.
fn timer_expr(cron: &CronSchedule) -> (String, bool) {
    let expr = cron.with_seconds();
    let mut fields: Vec<&str> = expr.split(' ').collect();
    let restricted = |f: &str| f != "*" && f != "?";
    if fields.len() == 6 && restricted(fields[3]) && restricted(fields[5]) {
        fields[3] = "*";
        fields[5] = "*";
        return (fields.join(" "), true);
    }
    (expr, false)
}

/// Whether `cron` (dayshift's reading) has an occurrence in the last minute.
fn is_occurrence(cron: &CronSchedule, tz: Tz) -> bool {
    let now = Utc::now().with_timezone(&tz);
    cron.previous_at_or_before(&now)
        .is_some_and(|t| now.signed_duration_since(t) < chrono::Duration::seconds(60))
}

fn offset_now(tz: Tz) -> i32 {
    tz.offset_from_utc_datetime(&Utc::now().naive_utc())
        .fix()
        .local_minus_utc()
}

/// How often the daemon looks at config/schedules.yaml and at the zone's UTC offset.
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// Keep the timers in line with config/schedules.yaml (an edit is picked up within
/// [`CHECK_EVERY`]; a broken edit is reported and the current timers stay) and with the
/// zone's UTC offset (daylight saving time). Returns the scheduler in use when `stop`
/// fires, for the caller to shut down.
pub(super) async fn keep_armed(
    daemon: Arc<Daemon>,
    mut scheduler: JobScheduler,
    mut schedules: Schedules,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> JobScheduler {
    let path = daemon.home.config_file("schedules.yaml");
    let mut armed_stamp = stamp(&path);
    let mut armed_offset = offset_now(schedules.timezone);
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return scheduler,
            _ = tick.tick() => {}
        }
        if daemon.stopping() {
            continue;
        }
        let now_stamp = stamp(&path);
        let reason = if now_stamp != armed_stamp {
            armed_stamp = now_stamp;
            match read_schedules(&path) {
                Ok(fresh) => {
                    schedules = fresh;
                    "config/schedules.yaml changed".to_string()
                }
                Err(problem) => {
                    warn!("{problem}; the daemon keeps its current timers until the file is fixed");
                    continue;
                }
            }
        } else if offset_now(schedules.timezone) != armed_offset {
            format!("the UTC offset of {} changed", schedules.timezone)
        } else {
            continue;
        };
        match arm(&daemon, &schedules).await {
            Ok(fresh) => {
                let _ = scheduler.shutdown().await;
                scheduler = fresh;
                armed_offset = offset_now(schedules.timezone);
                info!("{reason}: timers re-armed");
            }
            Err(e) => {
                warn!("{reason}, and re-arming the timers failed: {e}; the previous timers stay")
            }
        }
    }
}

/// What tells an edit of `path`: its modification time and size.
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// config/schedules.yaml as `Config::load` reads it: a missing file means the defaults.
fn read_schedules(path: &Path) -> Result<Schedules, FileProblem> {
    match std::fs::read_to_string(path) {
        Ok(text) => Schedules::parse(path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Schedules::default()),
        Err(e) => Err(FileProblem::new(
            At::file(path),
            format!("cannot read: {e}"),
            "check the file's permissions",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobName;
    use std::path::Path;

    fn schedules(yaml: &str) -> Schedules {
        Schedules::parse(Path::new("config/schedules.yaml"), yaml).unwrap()
    }

    #[test]
    fn day_of_month_or_day_of_week_fires_as_classic_cron() {
        let both = CronSchedule::parse("0 7 1 * MON").unwrap();
        assert_eq!(timer_expr(&both), ("0 0 7 * * *".to_string(), true));
        let one = CronSchedule::parse("0 7 * * MON").unwrap();
        assert_eq!(timer_expr(&one), ("0 0 7 * * MON".to_string(), false));
        let every = CronSchedule::parse("*/2 * * * * *").unwrap();
        assert_eq!(timer_expr(&every), ("*/2 * * * * *".to_string(), false));
        assert!(is_occurrence(&every, chrono_tz::Asia::Dhaka));
        let half_an_hour_away = (chrono::Timelike::minute(&Utc::now()) + 30) % 60;
        let elsewhen = CronSchedule::parse(&format!("{half_an_hour_away} * * * *")).unwrap();
        assert!(!is_occurrence(&elsewhen, chrono_tz::UTC));
    }

    #[test]
    fn next_runs_are_in_the_configured_zone_for_scheduled_jobs_only() {
        let s = schedules(
            "timezone: Asia/Dhaka\njobs: {morning: \"0 7 * * *\", wrapup: \"0 23 * * *\"}\n",
        );
        let after = Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).unwrap(); // 08:00 in Dhaka
        let runs = next_runs(&s, after);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].job, JobName::Morning);
        assert_eq!(runs[0].cron, "0 7 * * *");
        assert_eq!(
            runs[0].next.unwrap().to_rfc3339(),
            "2026-11-23T07:00:00+06:00"
        );
        assert_eq!(
            runs[1].next.unwrap().to_rfc3339(),
            "2026-11-22T23:00:00+06:00"
        );
    }
}
