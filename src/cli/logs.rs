//! `dayshift logs`: today's log files (daemon and one per job), or follow them.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::error::Result;
use crate::home::Home;
use crate::jobs::JobName;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  dayshift logs\n  dayshift logs -f --job morning\n  dayshift logs --agent planner --lines 200"
)]
pub struct LogsArgs {
    /// Keep printing what is appended.
    #[arg(short, long)]
    follow: bool,
    /// Only this job's log.
    #[arg(long)]
    job: Option<JobName>,
    /// Only the logs of this agent's jobs (orchestrator, planner, …).
    #[arg(long)]
    agent: Option<String>,
    /// Lines to show from the end of each file.
    #[arg(long, default_value_t = 40)]
    lines: usize,
}

pub fn logs(home: &Home, args: LogsArgs) -> Result<ExitCode> {
    let names: Vec<String> = match (&args.job, &args.agent) {
        (Some(job), _) => vec![job.to_string()],
        (None, Some(agent)) => JobName::ALL
            .iter()
            .filter(|j| j.agent() == agent)
            .map(|j| j.to_string())
            .collect(),
        (None, None) => std::iter::once("daemon".to_string())
            .chain(JobName::ALL.iter().map(|j| j.to_string()))
            .collect(),
    };
    let files: Vec<PathBuf> = names.iter().filter_map(|n| latest_log(home, n)).collect();
    if files.is_empty() {
        eprintln!(
            "no log files yet in {} (they appear once a job has run)",
            home.logs_dir().display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut offsets = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        println!("==> {} <==", home.display_path(file));
        for line in &lines[lines.len().saturating_sub(args.lines)..] {
            println!("{line}");
        }
        offsets.push(text.len() as u64);
    }
    if !args.follow {
        return Ok(ExitCode::SUCCESS);
    }
    loop {
        std::thread::sleep(Duration::from_millis(500));
        for (file, offset) in files.iter().zip(offsets.iter_mut()) {
            let Ok(mut f) = File::open(file) else {
                continue;
            };
            let len = f.metadata().map_or(0, |m| m.len());
            if len < *offset {
                *offset = 0; // rotated or truncated
            }
            if len > *offset && f.seek(SeekFrom::Start(*offset)).is_ok() {
                let mut new = String::new();
                let _ = f.read_to_string(&mut new);
                print!("{new}");
                *offset = len;
            }
        }
    }
}

/// The newest `logs/<name>.YYYY-MM-DD.log`.
fn latest_log(home: &Home, name: &str) -> Option<PathBuf> {
    let prefix = format!("{name}.");
    fs::read_dir(home.logs_dir())
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(&prefix)
                    && n.ends_with(".log")
                    && n[prefix.len()..].starts_with(|c: char| c.is_ascii_digit())
            })
        })
        .max()
}
