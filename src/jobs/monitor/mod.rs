//! The scanner's monitor (DESIGN §1 `monitor`, issue 15): scan the base branch as it is now,
//! keep the day's scan report, turn findings into backlog tasks by policy and close the
//! tasks of findings that went away.
//!
//! - **What is scanned.** A clean checkout of the base's newest commit (origin's when it is
//!   ahead) in `workspace/scan/` — never a task's branch, never a half-made change. The
//!   checkout is the same place every time, so every scan compares with the last one.
//! - **Performance.** When target.yaml has a `bench_command`, it runs in the checkout after
//!   the analyzers ([`bench`]); a bench that got slower is a finding like any.
//! - **What it writes.** `reports/scan/YYYY-MM-DD.md`, a `scan.done` event (counts by
//!   severity, new, fixed: the daily report's Scan section), and tasks ([`tasks`]).
//! - **What it never does.** Change the target (the checkout is deleted after the scan),
//!   read a suppression from the target, or open a second task for a finding that already
//!   had one.
//!
//! `dayshift scan` in a home runs [`scan_base`] too, without the tasks.

pub mod bench;
pub mod propose;
pub mod report;
pub mod tasks;

use chrono::NaiveDate;

use super::{JobName, JobOutcome};
use crate::context::Ctx;
use crate::error::{Error, IoContext, Result};
use crate::lockfile::FileLock;
use crate::scan::Finding;
use crate::scan::analyze::TreeCode;
use crate::scan::config::ScanConfig;
use crate::scan::run::{AnalyzerRun, ScanReport};
use crate::scan::tree::{self, Options};
use crate::store::Event;

/// Who the monitor's events and task moves are by.
pub const ACTOR: &str = "scanner";

/// Why the monitor cannot run here, if so.
pub fn not_ready(ctx: &Ctx) -> Option<String> {
    (!ctx.home.target_clone().join(".git").exists()).then(|| {
        "the target is not cloned yet; set `repo` in config/target.yaml and run `dayshift setup`"
            .to_string()
    })
}

/// Why `dayshift day` leaves the monitor out, if it does: it runs in a day when
/// schedules.yaml gives it a time (scanning is opted into, like deploying).
pub fn not_in_the_day(ctx: &Ctx) -> Option<String> {
    (!ctx.config.schedules.jobs.contains_key(&JobName::Monitor)).then(|| {
        "not scheduled: give `monitor` a time in config/schedules.yaml (e.g. `monitor: \"30 6 * * *\"`), or run `dayshift run monitor`".to_string()
    })
}

/// A scan of the base, and the commit it was of.
pub struct BaseScan {
    pub report: ScanReport,
    pub commit: String,
    /// The day's report, relative to the home.
    pub report_path: std::path::PathBuf,
    /// The home's config/scan.yaml, as the scan read it.
    pub config: ScanConfig,
}

/// What a scan of the base may write besides its own memory of the last scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The day's report and a `scan.done` event.
    Report,
    /// Nothing (a dry run).
    Nothing,
}

/// Scan the base's newest commit: check it out, scan it, keep the day's report and a
/// `scan.done` event (as `keep` says), and remove the checkout. `security_only`: without
/// the code-health analyzer.
pub fn scan_base(ctx: &Ctx, day: NaiveDate, keep: Keep, security_only: bool) -> Result<BaseScan> {
    if let Some(why) = not_ready(ctx) {
        return Err(Error::Refused(why));
    }
    let lock_path = ctx.home.state_dir().join("scan.lock");
    let _lock = FileLock::acquire(&lock_path).at_path(&lock_path)?;
    let clone = ctx.home.target_clone();
    let commit = super::deploy::newest_base(ctx)?;
    let dir = ctx.home.workspace().join("scan");
    let mut config = ScanConfig::load(
        &ctx.home.config_file(crate::scan::config::SCAN_CONFIG),
        ctx.home.root(),
        false,
    )?;
    if security_only {
        config
            .analyzers
            .retain(|a| *a != crate::scan::analyzers::Analyzer::Health);
    }
    // the target's bench runs in a full scan that is kept (a left-out analyzer's findings
    // are carried, not fixed)
    let bench_too = keep == Keep::Report && !security_only;
    let reference = bench::last_reference(ctx)?;
    crate::deploy::checkout_at(&clone, &dir, &commit)?;
    let mut bench_run = None;
    let scanned = scan_checkout(ctx, &dir, config.clone(), |root| {
        let threshold = config.performance.threshold;
        if bench_too {
            bench_run = bench::run(ctx, root, day, reference.as_deref(), threshold);
        }
        bench_run.iter().map(bench::BenchRun::analyzer).collect()
    });
    if let Err(e) = crate::deploy::remove(&clone, &dir) {
        tracing::warn!(
            "could not remove the scan's checkout {}: {e}",
            dir.display()
        );
    }
    let mut report = scanned?;
    // the checkout is gone: the report names what was scanned
    let short = commit.get(..12).unwrap_or(&commit);
    report.root = format!("{} at {short}", ctx.config.target.base_branch).into();
    if let Some(bench_run) = &bench_run {
        bench::record(ctx, &commit, bench_run)?;
    }
    let path = ctx.home.scan_report(day);
    if keep == Keep::Nothing {
        return Ok(BaseScan {
            report,
            commit,
            report_path: ctx.home.display_path(&path).to_string().into(),
            config,
        });
    }
    tree::write_report(&path, &report).at_path(&path)?;
    let counts = report::Counts::of(&report);
    ctx.audit(
        Event::new(ctx.now(), ACTOR, "scan.done")
            .commit(&commit)
            .detail(serde_json::json!({
                "counts": counts,
                "report": ctx.home.display_path(&path).to_string(),
                "analyzers": report.analyzers.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })),
    )?;
    Ok(BaseScan {
        report,
        commit,
        report_path: ctx.home.display_path(&path).to_string().into(),
        config,
    })
}

/// Scan the checkout `dir`; `extra` (the bench) runs in it once the analyzers have read it.
fn scan_checkout(
    ctx: &Ctx,
    dir: &std::path::Path,
    config: ScanConfig,
    extra: impl FnOnce(&std::path::Path) -> Vec<(AnalyzerRun, Vec<Finding>)>,
) -> Result<ScanReport> {
    let ignore = ctx.home.config_file(crate::config::SCAN_IGNORE);
    let root = std::fs::canonicalize(dir).at_path(dir)?;
    // clippy and eslint run the target's code: confined as its tests are, by policy
    let (policy, home, clone) = (
        ctx.config.policy.sandbox.clone(),
        ctx.home.root().to_path_buf(),
        ctx.home.target_clone(),
    );
    let confined = root.clone();
    let tree_code = TreeCode::when_needed(move || {
        crate::sandbox::Sandbox::new(&policy, &home)
            .map(|sandbox| sandbox.for_task(&confined, &clone))
            .map_err(|e| e.to_string())
    });
    let options = Options {
        config,
        state_dir: ctx.home.state_dir().join("scan"),
        extra_dirs: vec![ctx.home.root().join(".venv/bin")],
        suppressions: tree::suppressions(&ignore, false)?,
        tree_code,
    };
    let now = chrono::Utc::now();
    tree::scan_tree_with(&root, &options, now, ctx.today(), || extra(&root)).map_err(|e| {
        Error::Refused(format!(
            "the scan could not be kept in {}: {e}; check that the folder is writable",
            ctx.home.display_path(&options.state_dir)
        ))
    })
}

/// The `monitor` job: scan the base, close the tasks of fixed findings, open tasks for new
/// ones by policy.
pub fn run(ctx: &Ctx, day: NaiveDate) -> Result<JobOutcome> {
    let scan = scan_base(ctx, day, Keep::Report, false)?;
    let closed = tasks::close_fixed(ctx, &scan.report)?;
    let policy = &scan.config.findings_to_tasks;
    let opened = tasks::open_for_findings(ctx, &scan.report, policy, day)?;
    let counts = report::Counts::of(&scan.report);
    let mut summary = format!(
        "scanned {} of the base: {} finding(s), {} new, {} fixed",
        &scan.commit[..scan.commit.len().min(10)],
        counts.open,
        counts.new,
        counts.fixed
    );
    if !opened.is_empty() {
        let ids: Vec<String> = opened.iter().map(ToString::to_string).collect();
        summary.push_str(&format!("; task(s) {} opened", ids.join(", ")));
    }
    if !closed.is_empty() {
        let ids: Vec<String> = closed.iter().map(ToString::to_string).collect();
        summary.push_str(&format!("; task(s) {} closed (fixed)", ids.join(", ")));
    }
    Ok(JobOutcome {
        job: JobName::Monitor,
        day,
        summary,
        wrote: vec![scan.report_path],
    })
}
