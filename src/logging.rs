//! Logging: where the `tracing` events of a command or of the daemon end up.
//!
//! Three sinks, each a `fmt` layer with its own filter on one registry:
//! - **stderr**, for the person at the terminal (warn by default, info with `-v`,
//!   `RUST_LOG` wins when set);
//! - **`logs/daemon.YYYY-MM-DD.log`**, everything the daemon does (info, or `RUST_LOG`);
//! - **`logs/<job>.YYYY-MM-DD.log`**, one file per job: the events under the job runner's
//!   span, whose `job` field names the job (see [`by_job`]).
//!
//! Files rotate daily (the date in the name is the UTC date, as `tracing-appender` names
//! them) and the last 14 of each are kept. Lines are written synchronously: a line logged
//! just before a crash is on disk. A job's file is created on its first line, so jobs that
//! never ran leave no empty files. Timestamps are in the configured time zone. Every line
//! passes the process-wide secret redactor first ([`redacting`]).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::Utc;
use chrono_tz::Tz;
use tracing::Subscriber;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::filter::{EnvFilter, FilterExt, LevelFilter, filter_fn};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::writer::{EitherWriter, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

use crate::config::JobName;
use crate::config::Schedules;
use crate::config::schedules::local_timezone;
use crate::home::Home;

mod by_job;
mod redacting;
use by_job::{JobTagger, OnlyJob};
use redacting::Redacting;

/// Log files of each kind that are kept (one per day).
pub const KEEP_DAYS: usize = 14;

/// Events with this target go to the log files, never to stderr (for a message the
/// command prints on stderr itself).
pub const FILES_ONLY: &str = "dayshift::files_only";

/// Keep it alive for as long as the command logs. Every line is written synchronously, so
/// nothing waits in a buffer when it drops; it exists so that callers hold logging for the
/// life of the command and a buffered writer could be added without touching them.
#[must_use = "logging stays set up only while the guard is alive"]
#[derive(Debug)]
pub struct LogGuard(());

/// A plain command: stderr only, warn by default, info with `verbose`; `RUST_LOG` wins.
pub fn init_cli(verbose: bool) {
    let _ = tracing_subscriber::registry()
        .with(stderr_layer(verbose, local_timezone()))
        .try_init();
}

/// A command that runs jobs (`run`, `day`): stderr as [`init_cli`], plus one file per job.
pub fn init_jobs_to_files(home: &Home, verbose: bool) -> LogGuard {
    let tz = zone_of(home);
    let _ = tracing_subscriber::registry()
        .with(JobTagger)
        .with(stderr_layer(verbose, tz))
        .with(job_layers(&home.logs_dir(), tz))
        .try_init();
    LogGuard(())
}

/// The daemon: everything to `logs/daemon.*.log`, each job also to its own file, and
/// warnings to stderr (which `dayshift start` sends to `logs/daemon.out`).
pub fn init_daemon(home: &Home) -> LogGuard {
    let tz = zone_of(home);
    let dir = home.logs_dir();
    let daemon_file = file_layer(LazyAppender::new(&dir, "daemon"), tz)
        .with_filter(env_filter(LevelFilter::INFO));
    let _ = tracing_subscriber::registry()
        .with(JobTagger)
        .with(stderr_layer(false, tz))
        .with(daemon_file)
        .with(job_layers(&dir, tz))
        .try_init();
    LogGuard(())
}

/// The per-job file layers, one per job name, each passing only its job's events.
fn job_layers<S>(dir: &Path, tz: Tz) -> Vec<Box<dyn Layer<S> + Send + Sync>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    JobName::ALL
        .iter()
        .map(|job| {
            let only = OnlyJob {
                job: *job,
                max: LevelFilter::INFO,
            };
            file_layer(LazyAppender::new(dir, job.as_str()), tz)
                .with_filter(only)
                .boxed()
        })
        .collect()
}

fn stderr_layer<S>(verbose: bool, tz: Tz) -> impl Layer<S> + Send + Sync
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let level = if verbose {
        LevelFilter::INFO
    } else {
        LevelFilter::WARN
    };
    fmt::layer()
        .with_writer(Redacting(std::io::stderr))
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_timer(ZoneTime(tz))
        .with_filter(env_filter(level).and(filter_fn(|meta| meta.target() != FILES_ONLY)))
}

fn file_layer<S, W>(
    writer: W,
    tz: Tz,
) -> fmt::Layer<
    S,
    fmt::format::DefaultFields,
    fmt::format::Format<fmt::format::Full, ZoneTime>,
    Redacting<W>,
>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fmt::layer()
        .with_writer(Redacting(writer))
        .with_ansi(false)
        .with_target(false)
        .with_timer(ZoneTime(tz))
}

/// `RUST_LOG` when it is set and valid, else `default` (with the scheduler's chatter muted).
fn env_filter(default: LevelFilter) -> EnvFilter {
    match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(&spec).unwrap_or_else(|_| EnvFilter::new(default.to_string()))
        }
        _ => EnvFilter::new(format!("{default},tokio_cron_scheduler=warn")),
    }
}

/// The configured zone when config/schedules.yaml reads, else the machine's.
fn zone_of(home: &Home) -> Tz {
    let path = home.config_file("schedules.yaml");
    std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| Schedules::parse(&path, &text).ok())
        .map_or_else(local_timezone, |s| s.timezone)
}

/// Timestamps like `2026-11-22T07:00:00.123+06:00`.
#[derive(Debug, Clone, Copy)]
struct ZoneTime(Tz);

impl FormatTime for ZoneTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(
            w,
            "{}",
            Utc::now()
                .with_timezone(&self.0)
                .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        )
    }
}

/// A daily rolling file, opened on its first line. When it cannot be opened the lines go
/// nowhere, and the reason is said once on stderr.
struct LazyAppender {
    dir: PathBuf,
    prefix: &'static str,
    appender: OnceLock<Option<RollingFileAppender>>,
}

impl LazyAppender {
    fn new(dir: &Path, prefix: &'static str) -> Self {
        Self {
            dir: dir.to_path_buf(),
            prefix,
            appender: OnceLock::new(),
        }
    }

    fn appender(&self) -> Option<&RollingFileAppender> {
        self.appender
            .get_or_init(|| {
                RollingFileAppender::builder()
                    .rotation(Rotation::DAILY)
                    .filename_prefix(self.prefix)
                    .filename_suffix("log")
                    .max_log_files(KEEP_DAYS)
                    .build(&self.dir)
                    .map_err(|e| {
                        eprintln!(
                            "warning: cannot write logs to {}: {e}; check the folder's permissions",
                            self.dir.display()
                        )
                    })
                    .ok()
            })
            .as_ref()
    }
}

impl<'a> MakeWriter<'a> for LazyAppender {
    type Writer = EitherWriter<<RollingFileAppender as MakeWriter<'a>>::Writer, std::io::Sink>;

    fn make_writer(&'a self) -> Self::Writer {
        match self.appender() {
            Some(appender) => EitherWriter::A(appender.make_writer()),
            None => EitherWriter::B(std::io::sink()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zone_comes_from_schedules_yaml() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("h"), "Asia/Dhaka").unwrap();
        assert_eq!(zone_of(&home), chrono_tz::Asia::Dhaka);
    }
}
