//! config/schedules.yaml: the time zone and a cron expression per job.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::JobName;
use super::yaml::{self, at};
use crate::problem::FileProblem;

/// The validated schedule of the daemon.
#[derive(Debug, Clone)]
pub struct Schedules {
    /// Every cron expression is read in this zone; "today" is a date in this zone.
    pub timezone: Tz,
    /// Jobs with a schedule; a job not listed here only runs on demand.
    pub jobs: BTreeMap<JobName, CronSchedule>,
    /// When the work loop takes no new task or attempt.
    pub work_until: WorkUntil,
}

/// `work_until` in schedules.yaml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkUntil {
    /// Not set: the wrap-up's time, or the end of the day when the wrap-up is not scheduled.
    #[default]
    Wrapup,
    /// `"HH:MM"`: this local time.
    At(NaiveTime),
    /// `"24:00"`: midnight, whenever the wrap-up runs.
    EndOfDay,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedules {
    #[serde(default)]
    timezone: Option<Spanned<String>>,
    #[serde(default)]
    jobs: Option<BTreeMap<JobName, Spanned<String>>>,
    #[serde(default)]
    work_until: Option<Spanned<String>>,
}

/// The default day of DESIGN §1.
pub const DEFAULT_JOBS: [(JobName, &str); 5] = [
    (JobName::Morning, "0 7 * * *"),
    (JobName::Research, "15 7 * * *"),
    (JobName::Plan, "45 7 * * *"),
    (JobName::Work, "0 8-22 * * *"),
    (JobName::Wrapup, "0 23 * * *"),
];

impl Schedules {
    pub fn parse(file: &Path, text: &str) -> Result<Self, FileProblem> {
        let raw: RawSchedules = yaml::parse(file, text, 0)?;
        let timezone = match raw.timezone {
            None => local_timezone(),
            Some(tz) => tz.value.trim().parse::<Tz>().map_err(|_| {
                FileProblem::new(
                    at(file, &tz.referenced),
                    format!("unknown time zone `{}`", tz.value),
                    "use an IANA zone name such as UTC, Europe/Berlin or Asia/Dhaka",
                )
            })?,
        };
        let jobs = match raw.jobs {
            None => DEFAULT_JOBS
                .iter()
                .map(|(job, expr)| (*job, CronSchedule::parse(expr).expect("default cron is valid")))
                .collect(),
            Some(jobs) => jobs
                .into_iter()
                .map(|(job, expr)| {
                    CronSchedule::parse(&expr.value)
                        .map(|c| (job, c))
                        .map_err(|problem| {
                            FileProblem::new(
                                at(file, &expr.referenced),
                                format!("job `{job}`: {problem}"),
                                "write 5 fields: minute hour day-of-month month day-of-week, e.g. \"0 7 * * *\" (6 with a leading seconds field)",
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let work_until = match raw.work_until {
            None => WorkUntil::Wrapup,
            Some(t) if t.value.trim() == "24:00" => WorkUntil::EndOfDay,
            Some(t) => WorkUntil::At(
                NaiveTime::parse_from_str(t.value.trim(), "%H:%M").map_err(|_| {
                    FileProblem::new(
                        at(file, &t.referenced),
                        format!("`work_until: {}` is not a time of day", t.value),
                        "write it as HH:MM on a 24-hour clock, e.g. work_until: \"22:00\" (\"24:00\": until midnight)",
                    )
                })?,
            ),
        };
        Ok(Self {
            timezone,
            jobs,
            work_until,
        })
    }

    /// When the work loop started on `day` stops taking work: `work_until` on that day,
    /// else the wrap-up's first time that day, else midnight after it — in the home's zone.
    /// `work_until: "24:00"` is midnight whatever the wrap-up.
    pub fn work_ends(&self, day: NaiveDate) -> Option<DateTime<Tz>> {
        let tz = self.timezone;
        let start = tz
            .from_local_datetime(&day.and_time(NaiveTime::MIN))
            .earliest()?;
        let midnight = tz
            .from_local_datetime(&(day + chrono::Days::new(1)).and_time(NaiveTime::MIN))
            .earliest()?;
        let end = match self.work_until {
            WorkUntil::At(until) => tz.from_local_datetime(&day.and_time(until)).earliest()?,
            WorkUntil::EndOfDay => midnight,
            WorkUntil::Wrapup => self
                .jobs
                .get(&JobName::Wrapup)
                .and_then(|cron| cron.next_after(&(start - chrono::Duration::seconds(1))))
                .filter(|t| *t < midnight)
                .unwrap_or(midnight),
        };
        Some(end)
    }
}

impl Default for Schedules {
    fn default() -> Self {
        Self::parse(Path::new("config/schedules.yaml"), "").expect("defaults are valid")
    }
}

/// A 5-field cron expression (or 6 with leading seconds), checked and ready to evaluate.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    expr: String,
    cron: Cron,
}

impl CronSchedule {
    pub fn parse(expr: &str) -> Result<Self, String> {
        let written = expr.split_whitespace().collect::<Vec<_>>().join(" ");
        let expr = match macro_expansion(&written) {
            Some(Ok(expanded)) => expanded.to_string(),
            Some(Err(e)) => return Err(e),
            None => written,
        };
        let fields: Vec<&str> = expr.split(' ').filter(|f| !f.is_empty()).collect();
        if fields.len() != 5 && fields.len() != 6 {
            return Err(format!(
                "cron `{expr}` has {} fields; dayshift takes 5 (or 6 with seconds)",
                fields.len()
            ));
        }
        check_ranges(&expr, &fields)?;
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .dom_and_dow(false)
            .build()
            .parse(&expr)
            .map_err(|e| format!("cron `{expr}` is not valid: {e}"))?;
        Ok(Self { expr, cron })
    }

    /// The expression as written (normalised spaces).
    pub fn as_str(&self) -> &str {
        &self.expr
    }

    /// The expression with an explicit seconds field, as tokio-cron-scheduler wants it.
    pub fn with_seconds(&self) -> String {
        if self.expr.split(' ').count() == 5 {
            format!("0 {}", self.expr)
        } else {
            self.expr.clone()
        }
    }

    /// The first time strictly after `after`, on a whole second.
    pub fn next_after<Z: TimeZone>(&self, after: &DateTime<Z>) -> Option<DateTime<Z>> {
        let whole = after
            .clone()
            .with_nanosecond(0)
            .unwrap_or_else(|| after.clone());
        self.cron.find_next_occurrence(&whole, false).ok()
    }

    /// The last time at or before `at`.
    pub fn previous_at_or_before<Z: TimeZone>(&self, at: &DateTime<Z>) -> Option<DateTime<Z>> {
        self.cron.find_previous_occurrence(at, true).ok()
    }
}

/// `@daily` and friends as the 5 fields they stand for; an unknown `@word` is an error.
fn macro_expansion(expr: &str) -> Option<Result<&'static str, String>> {
    let name = expr.strip_prefix('@')?;
    const MACROS: [(&str, &str); 7] = [
        ("yearly", "0 0 1 1 *"),
        ("annually", "0 0 1 1 *"),
        ("monthly", "0 0 1 * *"),
        ("weekly", "0 0 * * 0"),
        ("daily", "0 0 * * *"),
        ("midnight", "0 0 * * *"),
        ("hourly", "0 * * * *"),
    ];
    Some(
        MACROS
            .iter()
            .find(|(n, _)| *n == name.to_lowercase())
            .map(|(_, fields)| *fields)
            .ok_or_else(|| {
                let names: Vec<&str> = MACROS.iter().map(|(n, _)| *n).collect();
                format!(
                    "cron `{expr}` is not a macro dayshift knows{} (it takes @{})",
                    crate::suggest::hint(name, names.iter().copied()),
                    names.join(", @")
                )
            }),
    )
}

/// Every number in each field within that field's range, so a mistake names its field
/// (the parser says only "Number out of bounds").
fn check_ranges(expr: &str, fields: &[&str]) -> Result<(), String> {
    const FIVE: [(&str, u32, u32); 5] = [
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("day-of-month", 1, 31),
        ("month", 1, 12),
        ("day-of-week", 0, 7),
    ];
    let seconds = [("second", 0, 59)];
    let names: Vec<(&str, u32, u32)> = if fields.len() == 6 {
        seconds.iter().chain(FIVE.iter()).copied().collect()
    } else {
        FIVE.to_vec()
    };
    for (field, (name, low, high)) in fields.iter().zip(names) {
        for part in field.split(',') {
            // `a-b/step`: the step is a count, not a value of the field
            let values = part.split('/').next().unwrap_or("");
            for number in values.split('-').filter_map(|n| n.parse::<u32>().ok()) {
                if number < low || number > high {
                    return Err(format!(
                        "cron `{expr}`: {number} in the {name} field `{field}` is out of range ({name}s are {low}–{high})"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The machine's zone: `TZ`, else the target of /etc/localtime, else UTC.
pub fn local_timezone() -> Tz {
    let from_env = std::env::var("TZ")
        .ok()
        .and_then(|s| s.trim_start_matches(':').parse().ok());
    let from_link = || {
        let target = std::fs::read_link("/etc/localtime").ok()?;
        let s = target.to_string_lossy();
        s.split("zoneinfo/").nth(1)?.parse().ok()
    };
    from_env.or_else(from_link).unwrap_or(Tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Schedules, FileProblem> {
        Schedules::parse(Path::new("config/schedules.yaml"), text)
    }

    #[test]
    fn five_and_six_fields_are_accepted() {
        let s = parse(
            "timezone: Asia/Dhaka\njobs: {morning: \"0 7 * * *\", plan: \"*/5 * * * * *\"}\n",
        )
        .unwrap();
        assert_eq!(s.timezone, chrono_tz::Asia::Dhaka);
        assert_eq!(s.jobs[&JobName::Morning].with_seconds(), "0 0 7 * * *");
        assert_eq!(s.jobs[&JobName::Plan].with_seconds(), "*/5 * * * * *");
    }

    #[test]
    fn macros_are_taken_and_a_value_out_of_range_names_its_field() {
        assert_eq!(CronSchedule::parse("@daily").unwrap().as_str(), "0 0 * * *");
        assert_eq!(
            CronSchedule::parse("@Hourly").unwrap().as_str(),
            "0 * * * *"
        );
        let err = CronSchedule::parse("@dayly").unwrap_err();
        assert!(err.contains("did you mean `daily`?"), "{err}");
        let err = CronSchedule::parse("0 77 * * *").unwrap_err();
        assert!(
            err.contains("77 in the hour field `77` is out of range (hours are 0–23)"),
            "{err}"
        );
        let err = CronSchedule::parse("0 7 * 1-13 *").unwrap_err();
        assert!(err.contains("month field"), "{err}");
        CronSchedule::parse("*/15 8-22 * * 1-5").unwrap();
        CronSchedule::parse("30 0 7 * * *").unwrap();
    }

    #[test]
    fn seven_field_cron_is_refused_with_its_line() {
        let err = parse("timezone: UTC\njobs:\n  morning: \"0 0 7 * * * 2026\"\n").unwrap_err();
        assert_eq!(err.at.line, Some(3));
        assert!(err.problem.contains("has 7 fields"), "{err}");
        assert!(err.fix.contains("5 fields"));
    }

    #[test]
    fn unknown_zone_is_refused_with_its_line() {
        let err = parse("jobs: {}\ntimezone: Mars/Olympus\n").unwrap_err();
        assert_eq!(err.at.line, Some(2));
        assert!(err.problem.contains("Mars/Olympus"));
    }

    #[test]
    fn the_work_window_ends_at_work_until_else_at_the_wrapup_else_at_midnight() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let end = |yaml: &str| parse(yaml).unwrap().work_ends(day).unwrap().to_rfc3339();
        assert_eq!(
            end("timezone: Asia/Dhaka\nwork_until: \"21:30\"\n"),
            "2026-11-22T21:30:00+06:00"
        );
        assert_eq!(end("timezone: Asia/Dhaka\n"), "2026-11-22T23:00:00+06:00");
        assert_eq!(
            end("timezone: Asia/Dhaka\nwork_until: \"24:00\"\n"),
            "2026-11-23T00:00:00+06:00"
        );
        assert_eq!(
            end("timezone: UTC\njobs: {work: \"0 8-22 * * *\"}\n"),
            "2026-11-23T00:00:00+00:00"
        );
        let err = parse("timezone: UTC\nwork_until: 10pm\n").unwrap_err();
        assert_eq!(err.at.line, Some(2));
        assert!(err.fix.contains("HH:MM"), "{err}");
    }

    #[test]
    fn unknown_job_name_is_refused() {
        let err = parse("jobs: {breakfast: \"0 7 * * *\"}\n").unwrap_err();
        assert!(err.problem.contains("breakfast"), "{err}");
    }

    #[test]
    fn next_run_is_in_the_zone() {
        let s = CronSchedule::parse("0 7 * * *").unwrap();
        let tz = chrono_tz::Asia::Dhaka;
        let now = tz.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap();
        let next = s
            .next_after(&(now + chrono::Duration::nanoseconds(123)))
            .unwrap();
        assert_eq!(next.to_rfc3339(), "2026-11-23T07:00:00+06:00");
    }
}
