//! `init`, `setup`, `run` and `day` (the demo is in [`super::demo`]).

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;

use super::print_json;
use crate::config::schedules::local_timezone;
use crate::context::Ctx;
use crate::error::Result;
use crate::home::Home;
use crate::jobs::{self, DayStep, JobName};
use crate::lockfile;

pub fn init(dir: PathBuf) -> Result<ExitCode> {
    let zone = local_timezone();
    let home = Home::init(&dir, zone.name())?;
    let shown = home.root().display();
    let me = program_name();
    println!("created a dayshift home in {shown} (time zone {zone})");
    println!("next: edit {shown}/VISION.md and {shown}/config/target.yaml (set `repo`), then");
    println!("  {me} --home {shown} setup     # clone the target, install Aider");
    println!("  {me} --home {shown} doctor    # every problem on one line, with its fix");
    println!("  {me} --home {shown} day       # run the whole day now");
    if me != "dayshift" {
        println!(
            "(dayshift is not on your PATH: `cargo install --path .` in the source checkout puts it there)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// How a person runs this binary: `dayshift` when that is on PATH, else its path.
fn program_name() -> String {
    let exe = std::env::current_exe().ok();
    let on_path = std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|dir| {
            let found = dir.join("dayshift");
            found.is_file()
                && found.canonicalize().ok() == exe.as_ref().and_then(|e| e.canonicalize().ok())
        })
    });
    match exe {
        Some(exe) if !on_path => exe.display().to_string(),
        _ => "dayshift".into(),
    }
}

/// What `run` and `day` share.
#[derive(Debug, Default, clap::Args)]
pub struct RunOptions {
    /// The day to run for (default: today in the configured zone).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
    /// Record every model exchange to this cassette (JSON lines) for a later replay.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Print what each job did as JSON for scripts.
    #[arg(long)]
    pub json: bool,
}

/// Logging to the job files, and the context with the day and recording asked for.
pub(super) fn open_for_jobs(
    home: Home,
    options: &RunOptions,
    verbose: bool,
) -> Result<(crate::logging::LogGuard, Ctx)> {
    let logs = crate::logging::init_jobs_to_files(&home, verbose);
    let record = match &options.record {
        Some(path) => Some(
            std::path::absolute(path).map_err(|source| crate::error::IoError {
                path: path.clone(),
                source,
            })?,
        ),
        None => None,
    };
    let mut ctx = Ctx::open(home, options.date)?;
    ctx.model_options.record = record;
    say_if_waiting(&ctx);
    Ok((logs, ctx))
}

/// `dayshift setup`: the target's clone, and Aider.
pub fn setup(home: Home, no_aider: bool) -> Result<ExitCode> {
    let config = crate::config::Config::load(&home)?;
    let Some(repo) = config.target.repo() else {
        return Err(crate::error::Error::Refused(format!(
            "{}: no `repo` is set; set it to the target's git URL or local path, then run `dayshift setup` again",
            home.config_file("target.yaml").display()
        )));
    };
    eprintln!(
        "cloning or updating {repo} into {} …",
        home.display_path(&home.target_clone())
    );
    // a private repository on GitHub clones with the token of `github:` (askpass)
    if let Ok(Some(github)) = crate::github::GithubSettings::from_config(&config) {
        crate::forge::github::hand_token_to_git(&github);
    }
    let done = crate::target::setup(&home, &config.target)?;
    let verb = if done.cloned { "cloned" } else { "up to date" };
    println!(
        "target {verb}: {} on {} at {}",
        home.display_path(&done.path),
        config.target.base_branch,
        done.base_commit
    );
    let aider = home.root().join(".venv/bin/aider");
    if no_aider || aider.is_file() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "installing Aider into {} (about a minute) …",
        home.display_path(&home.root().join(".venv"))
    );
    let venv = home.root().join(".venv");
    let venv_arg = venv.display().to_string();
    super::scanners::install("python3", &["-m", "venv", &venv_arg]).map_err(|why| {
        crate::error::Error::Refused(format!(
            "{why}; install python3 (with venv) or pass --no-aider"
        ))
    })?;
    let pip = venv.join("bin/pip").display().to_string();
    super::scanners::install(&pip, &["install", "--quiet", "aider-chat"]).map_err(|why| {
        crate::error::Error::Refused(format!(
            "installing Aider failed: {why}; fix it and run `dayshift setup` again, or pass --no-aider"
        ))
    })?;
    println!("Aider installed: {}", home.display_path(&aider));
    Ok(ExitCode::SUCCESS)
}

pub fn job(home: Home, job: JobName, options: RunOptions, verbose: bool) -> Result<ExitCode> {
    let (_logs, mut ctx) = open_for_jobs(home, &options, verbose)?;
    let day = ctx.today();
    let json = options.json;
    let outcome = jobs::run_job(&mut ctx, job, day)?;
    if json {
        print_json(&outcome);
    } else {
        println!("{job} ({day}): {}", outcome.summary);
        for path in &outcome.wrote {
            println!("  wrote {}", ctx.home.display_path(path));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn day(home: Home, options: RunOptions, verbose: bool) -> Result<ExitCode> {
    let (_logs, ctx, steps) = run_day(home, &options, verbose)?;
    if options.json {
        let value: Vec<_> = steps
            .iter()
            .map(|s| match s {
                DayStep::Ran(o) => serde_json::json!({"job": o.job, "ran": true, "summary": o.summary, "wrote": o.wrote}),
                DayStep::Skipped(job, why) => serde_json::json!({"job": job, "ran": false, "skipped": why}),
                DayStep::Failed(job, why) => serde_json::json!({"job": job, "ran": true, "failed": why}),
            })
            .collect();
        print_json(&value);
    } else {
        print_where(&ctx, ctx.today());
    }
    Ok(ExitCode::SUCCESS)
}

/// Run the whole day with `[i/n] job: summary` progress on stderr (`day` and `demo`).
pub(super) fn run_day(
    home: Home,
    options: &RunOptions,
    verbose: bool,
) -> Result<(crate::logging::LogGuard, Ctx, Vec<DayStep>)> {
    let (logs, mut ctx) = open_for_jobs(home, options, verbose)?;
    let day = ctx.today();
    if let Some(why) = jobs::refusal(&ctx, JobName::Morning) {
        return Err(crate::error::Error::Refused(why));
    }
    eprintln!(
        "running the day {day} now: {}",
        jobs::DAY.map(|j| j.as_str()).join(" → ")
    );
    let total = jobs::DAY.len();
    let mut index = 0;
    let steps = jobs::day(&mut ctx, day, |step| {
        index += 1;
        match step {
            DayStep::Ran(o) => eprintln!("[{index}/{total}] {}: {}", o.job, o.summary),
            DayStep::Skipped(job, why) => eprintln!("[{index}/{total}] {job}: skipped — {why}"),
            DayStep::Failed(job, why) => eprintln!("[{index}/{total}] {job}: FAILED — {why}"),
        }
    })?;
    Ok((logs, ctx, steps))
}

fn print_where(ctx: &Ctx, day: NaiveDate) {
    let show = |p: PathBuf| ctx.home.display_path(&p).to_string();
    println!("the day {day} is done:");
    println!("  plan      {}", show(ctx.home.daily_plan()));
    println!(
        "  tasks     {}/ (dayshift tasks list)",
        show(ctx.home.tasks_dir())
    );
    println!("  report    {}", show(ctx.home.daily_report(day)));
    println!("  progress  {}", show(ctx.home.progress()));
}

fn say_if_waiting(ctx: &Ctx) {
    if lockfile::is_held(&ctx.home.job_lock()) {
        eprintln!("another job is running for this home; waiting for it to finish…");
    }
}

/// `dayshift resume`: clear the pause dayshift made, as `by`'s act.
pub fn resume(home: Home, by: Option<String>) -> Result<ExitCode> {
    let by = by
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "a person".into());
    let ctx = Ctx::open(home, None)?;
    match crate::jobs::pause::resume(&ctx, &by)? {
        Some(pause) => println!(
            "resumed by {by}: the pause since {} is cleared ({}); the next run works again",
            pause.since.format("%Y-%m-%d %H:%M"),
            pause.reason
        ),
        None => println!("nothing to resume: dayshift has not paused itself"),
    }
    if ctx.home.stop_file().exists() {
        println!(
            "{} is still there: it is a person's pause; remove it to let the jobs run",
            ctx.home.display_path(&ctx.home.stop_file())
        );
    }
    Ok(ExitCode::SUCCESS)
}
