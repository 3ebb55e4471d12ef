//! `dayshift scan [PATH]`: the analyzers on any tree (the home's target clone by default),
//! findings new since the last scan of that tree first, by severity, with file:line and a
//! one-line why; `--json` for scripts. Exit 0 when nothing new at or above `--fail-on`
//! (default high), 1 when something is, 2 for a bad command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{print_json, table};
use crate::error::{Error, Result};
use crate::home::Home;
use crate::scan::Severity;
use crate::scan::analyze::TreeCode;
use crate::scan::config::{SCAN_CONFIG, ScanConfig};
use crate::scan::run::ScanReport;
use crate::scan::tree::{self, Options};

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The tree to scan (default: the home's target clone).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// JSON for scripts: every finding with its fingerprint and whether it is new, what
    /// was fixed, and how each analyzer ran.
    #[arg(long)]
    pub json: bool,
    /// Also write the scan as a SARIF 2.1.0 log (what GitHub code scanning uploads).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Suppressions to apply (default: the home's config/scan-ignore.yaml); never read
    /// from the scanned tree.
    #[arg(long, value_name = "FILE")]
    pub ignore: Option<PathBuf>,
    /// The scan's settings (default: the home's config/scan.yaml): which analyzers, other
    /// SARIF tools, semgrep's rules.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Exit 1 when a finding new since the last scan is at least this severe.
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    pub fail_on: Severity,
    /// List every finding in the terminal, not only the first 40 (new and most severe
    /// first).
    #[arg(long)]
    pub all: bool,
}

/// Findings listed in the terminal unless `--all`: the rest are counted, and are in
/// `--json`, `--sarif` and the day's report.
const SHOWN: usize = 40;

/// `dayshift security-scan`'s options: the scan's, and what to do about the findings.
#[derive(Debug, clap::Args)]
pub struct SecurityScanArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    /// In a home: a task per finding the policy takes (config/scan.yaml's
    /// `findings_to_tasks`), worked now through the coder, QA and the reviewer.
    #[arg(long)]
    pub fix: bool,
    /// With --fix: print the proposals (finding, planned change, risk, verdict); change
    /// nothing.
    #[arg(long, requires = "fix")]
    pub dry_run: bool,
}

/// `dayshift security-scan`: the scan without the code-health analyzer, and with `--fix`
/// the findings worked like `improve` does.
pub fn security_scan(home_dir: &Path, args: SecurityScanArgs, verbose: bool) -> Result<ExitCode> {
    if !args.fix {
        return scan_with(home_dir, args.scan, true);
    }
    if args.scan.path.is_some() || args.scan.sarif.is_some() {
        return Err(Error::Usage(
            "--fix works on a home's target (tasks, the coder, merges): run it in the home without PATH or --sarif".into(),
        ));
    }
    let home = Home::open(home_dir)?;
    super::improve::fix(home, args.dry_run, args.scan.json, true, verbose)
}

pub fn scan(home_dir: &Path, args: ScanArgs) -> Result<ExitCode> {
    scan_with(home_dir, args, false)
}

/// The scan; `security_only`: without the code-health analyzer.
fn scan_with(home_dir: &Path, args: ScanArgs, security_only: bool) -> Result<ExitCode> {
    let home = Home::open(home_dir).ok();
    let report = match (&args.path, home) {
        (Some(path), home) => scan_path(path, home.as_ref(), &args, security_only)?,
        (None, Some(home)) => {
            if args.ignore.is_some() || args.config.is_some() {
                return Err(Error::Usage(
                    "a home's scan of its target uses config/scan.yaml and config/scan-ignore.yaml; `--config FILE` and `--ignore FILE` go with `dayshift scan PATH`".into(),
                ));
            }
            // the base as it is now, as the monitor scans it (without opening tasks)
            let ctx = crate::context::Ctx::open(home, None)?;
            let scan = crate::jobs::monitor::scan_base(
                &ctx,
                ctx.today(),
                crate::jobs::monitor::Keep::Report,
                security_only,
            )?;
            eprintln!("the report: {}", scan.report_path.display());
            scan.report
        }
        (None, None) => {
            return Err(Error::Usage(
                "give the tree to scan (`dayshift scan PATH`), or run it in a home to scan its target".into(),
            ));
        }
    };
    if let Some(path) = &args.sarif {
        let log = serde_json::to_vec_pretty(&crate::scan::sarif_log::log(&report))
            .map_err(|e| Error::Refused(format!("the SARIF log could not be made: {e}")))?;
        crate::fsx::write_atomic(path, &log).map_err(|e| {
            Error::Refused(format!(
                "{}: {e}; check the folder exists and is writable",
                path.display()
            ))
        })?;
    }
    if args.json {
        print_json(&report);
    } else {
        let shown = if args.all { usize::MAX } else { SHOWN };
        print!("{}", render(&report, shown));
    }
    let failing = report
        .new_findings()
        .any(|f| f.finding.severity >= args.fail_on);
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Scan any folder; its last scan is kept in the home when there is one, else in the
/// user's cache.
fn scan_path(
    path: &Path,
    home: Option<&Home>,
    args: &ScanArgs,
    security_only: bool,
) -> Result<ScanReport> {
    if !path.is_dir() {
        return Err(Error::Usage(format!(
            "{} is not a folder; give the tree to scan",
            path.display()
        )));
    }
    // the tools run in the root: every path they get is absolute
    let root = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let ignore = match (&args.ignore, home) {
        (Some(file), _) => Some((file.clone(), true)),
        (None, Some(home)) => Some((home.config_file(crate::config::SCAN_IGNORE), false)),
        (None, None) => None,
    };
    // a bad suppression file stops the scan before it runs: hiding too much is worse
    let suppressions = match ignore {
        Some((file, required)) => tree::suppressions(&file, required)?,
        None => Vec::new(),
    };
    let mut config = match (&args.config, home) {
        (Some(file), _) => {
            let base = file.parent().unwrap_or(Path::new("."));
            ScanConfig::load(file, base, true)?
        }
        (None, Some(home)) => ScanConfig::load(&home.config_file(SCAN_CONFIG), home.root(), false)?,
        (None, None) => ScanConfig::default(),
    };
    if security_only {
        config
            .analyzers
            .retain(|a| *a != crate::scan::analyzers::Analyzer::Health);
    }
    let state_dir = match home {
        Some(home) => home.state_dir().join("scan"),
        None => user_cache().join("dayshift").join("scan"),
    };
    // what a tool that runs the tree's code must not see: the home (its keys), else
    // dayshift's own scan state
    let hidden = home.map_or(state_dir.clone(), |h| h.root().to_path_buf());
    let _ = std::fs::create_dir_all(&hidden);
    let options = Options {
        config,
        tree_code: {
            let root = root.clone();
            TreeCode::when_needed(move || Ok(tree::default_confinement(&root, &hidden)))
        },
        state_dir,
        extra_dirs: home
            .map(|h| vec![h.root().join(".venv/bin")])
            .unwrap_or_default(),
        suppressions,
    };
    tree::scan_tree(
        &root,
        &options,
        chrono::Utc::now(),
        chrono::Local::now().date_naive(),
    )
    .map_err(|e| {
        Error::Refused(format!(
            "the scan could not be kept in {}: {e}; check that the folder is writable",
            options.state_dir.display()
        ))
    })
}

/// `$XDG_CACHE_HOME`, else `~/.cache`, else the temp folder.
fn user_cache() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
}

/// The scan for a person: the counts, then the findings (new first, by severity), then
/// what was fixed, then how each analyzer ran.
/// The scan for a person: a line of counts, the first `shown` findings (new and most severe
/// first), what was fixed, and how each analyzer ran.
fn render(report: &ScanReport, shown: usize) -> String {
    let new = report.new_findings().count();
    let since = report
        .since
        .map(|at| format!(" since the last scan ({})", at.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_else(|| " (first scan of this tree)".into());
    let hidden = match report.suppressed.len() {
        0 => String::new(),
        n => format!(", {n} suppressed"),
    };
    let mut out = format!(
        "{}: {} finding(s), {new} new{since}, {} fixed{hidden}\n",
        report.root.display(),
        report.findings.len(),
        report.fixed.len()
    );
    if !report.findings.is_empty() {
        let rows: Vec<Vec<String>> = report
            .findings
            .iter()
            .take(shown)
            .map(|f| {
                vec![
                    if f.new { "new".into() } else { String::new() },
                    f.finding.severity.to_string(),
                    f.finding.located(),
                    format!("{}/{}", f.finding.analyzer, f.finding.rule),
                    f.finding.message.clone(),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&table::render(
            &["", "SEVERITY", "WHERE", "RULE", "WHY"],
            &rows,
            70,
        ));
        let more = report.findings.len().saturating_sub(shown);
        if more > 0 {
            out.push_str(&format!(
                "… and {more} more: `--all` lists them here; `--json` and `--sarif` give them all\n"
            ));
        }
    }
    if !report.fixed.is_empty() {
        out.push_str("\nfixed since the last scan:\n");
        for f in &report.fixed {
            out.push_str(&format!("  {} {}/{}\n", f.located(), f.analyzer, f.rule));
        }
    }
    for a in &report.analyzers {
        out.push_str(&format!("\n{a}"));
    }
    out.push('\n');
    out
}
