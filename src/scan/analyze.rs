//! Running the analyzers of one scan side by side: the built-in layers in process, and
//! each installed tool (ruff, bandit) as a program, each on its own thread, each with a
//! timeout and its whole output kept in a log. A tool that is not installed is said so
//! (with how to install it); one that fails is said so; neither stops the others.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::analyzers::{self, Analyzer};
use super::run::AnalyzerRun;
use super::{Finding, ScanError, builtin};

/// How long one tool may take on a tree.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Where the scan looks for tools besides PATH (a home's `.venv/bin`), and keeps their logs.
#[derive(Debug, Clone)]
pub struct Setup {
    pub extra_dirs: Vec<PathBuf>,
    pub log_dir: PathBuf,
}

/// Every analyzer on `root`: how each ran, and all their findings (not yet deduplicated).
pub fn analyze(root: &Path, setup: &Setup) -> (Vec<AnalyzerRun>, Vec<Finding>) {
    let tools = [Analyzer::Ruff, Analyzer::Bandit];
    std::thread::scope(|scope| {
        let builtin = scope.spawn(|| {
            let started = Instant::now();
            let files = builtin::files_under(root);
            let found = builtin::scan(root, &files);
            let run = AnalyzerRun {
                name: "builtin".into(),
                status: "ran".into(),
                detail: Some(format!(
                    "{} file(s) read in {:.2} s",
                    files.len(),
                    started.elapsed().as_secs_f64()
                )),
                findings: found.len(),
            };
            (run, found)
        });
        let others: Vec<_> = tools
            .iter()
            .map(|tool| scope.spawn(move || run_tool(tool, root, setup)))
            .collect();
        let mut runs = Vec::new();
        let mut found = Vec::new();
        for handle in std::iter::once(builtin).chain(others) {
            let (run, findings) = handle.join().unwrap_or_else(|_| {
                (
                    AnalyzerRun {
                        name: "an analyzer".into(),
                        status: "failed".into(),
                        detail: Some("it panicked; this is a bug in dayshift".into()),
                        findings: 0,
                    },
                    Vec::new(),
                )
            });
            runs.push(run);
            found.extend(findings);
        }
        (runs, found)
    })
}

fn run_tool(tool: &Analyzer, root: &Path, setup: &Setup) -> (AnalyzerRun, Vec<Finding>) {
    let name = tool.name().to_string();
    let Some(program) = analyzers::find_program(&name, &setup.extra_dirs) else {
        let hint = match tool {
            Analyzer::Ruff => {
                "not installed: `pip install ruff` (or `dayshift setup` in a home) adds its rules"
            }
            _ => "not installed: `pip install bandit` adds its rules",
        };
        return (skipped(&name, "not installed", hint.into()), Vec::new());
    };
    let version = analyzers::version(&program).unwrap_or_else(|| "version unknown".into());
    let log = setup.log_dir.join(format!("{name}.log"));
    let started = Instant::now();
    match analyzers::run(tool, &program, root, None, TOOL_TIMEOUT, &log) {
        Ok(found) => (
            AnalyzerRun {
                name,
                status: "ran".into(),
                detail: Some(format!(
                    "{version}, {:.2} s",
                    started.elapsed().as_secs_f64()
                )),
                findings: found.len(),
            },
            found,
        ),
        Err(ScanError::NotInstalled { hint, .. }) => {
            (skipped(&name, "not installed", hint), Vec::new())
        }
        Err(e) => (skipped(&name, "failed", e.to_string()), Vec::new()),
    }
}

fn skipped(name: &str, status: &str, detail: String) -> AnalyzerRun {
    AnalyzerRun {
        name: name.to_string(),
        status: status.to_string(),
        detail: Some(detail),
        findings: 0,
    }
}
