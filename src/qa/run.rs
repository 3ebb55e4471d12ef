//! Running the QA commands: `sh -c <line>` through [`crate::process::run`], in the
//! worktree, with a small explicit environment and a fresh JUnit directory per test run,
//! confined when the work run is ([`crate::sandbox`]: the test code the coding tool wrote
//! is as hostile as the tool; it writes only the worktree and the JUnit directory, and gets
//! no network unless `sandbox.network: true`).
//!
//! The JUnit directory lives in the system temp dir, not the worktree, so reports never
//! end up in the task's commit, and it is new for every run, so a stale report from an
//! earlier run can never be read as this run's. It is removed when the run ends.

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::report::{ReportSource, TestReport};
use super::{CommandRun, Outcome, QaCommands, QaError, QaRun, coverage, junit, lint, parse};
use crate::problem::IoContext;
use crate::process::{self, Spec};
use crate::sandbox::{Confinement, Scratch};

/// The variable that tells a test command where to write JUnit XML (any `*.xml` inside,
/// subfolders included, is read), e.g. `pytest --junitxml=$DAYSHIFT_JUNIT_DIR/report.xml`.
pub const JUNIT_DIR_ENV: &str = "DAYSHIFT_JUNIT_DIR";

/// Bytes kept of each of stdout and stderr.
const OUTPUT_CAP: usize = 4 << 20;
/// Bytes read of one JUnit file (larger ones are read up to here: the scanner copes).
const XML_CAP: usize = 32 << 20;

/// Run the lint command, then the test command, then the coverage command (each that is
/// set) in `dir`, each with its own `timeout`, unconfined. See the module docs of
/// [`crate::qa`]; the work loop uses [`run_checks_confined`].
pub fn run_checks(dir: &Path, commands: &QaCommands, timeout: Duration) -> Result<QaRun, QaError> {
    run_checks_confined(dir, commands, timeout, &Confinement::none())
}

/// [`run_checks`] with every command run under `confine`.
pub fn run_checks_confined(
    dir: &Path,
    commands: &QaCommands,
    timeout: Duration,
    confine: &Confinement,
) -> Result<QaRun, QaError> {
    if !dir.is_dir() {
        return Err(QaError::NoWorktree {
            dir: dir.to_path_buf(),
        });
    }
    if commands.lint.is_none() && commands.test.is_none() {
        return Err(QaError::NothingToRun);
    }
    let lint = commands.lint.as_deref().map(|c| {
        let mut run = run_one(dir, c, timeout, confine, None);
        // the base and the change run in different worktrees: compare relative paths
        run.output = lint::relative_paths(&run.output, dir);
        run
    });
    let (test, report) = match commands.test.as_deref() {
        Some(command) => {
            let junit_dir = Scratch::create("junit")
                .at_path(&std::env::temp_dir())
                .map_err(|source| QaError::Io {
                    what: "creating the JUnit directory",
                    source,
                })?;
            let run = run_one(dir, command, timeout, confine, Some(junit_dir.path()));
            let report = report_for(&run, junit_dir.path());
            (Some(run), report)
        }
        None => (None, TestReport::empty(ReportSource::ExitCode)),
    };
    let coverage_run = commands
        .coverage
        .as_deref()
        .map(|c| run_one(dir, c, timeout, confine, None));
    let coverage = coverage_run
        .as_ref()
        .filter(|r| r.outcome.completed())
        .and_then(|r| coverage::parse_total_percent(&r.output));
    Ok(QaRun {
        lint,
        test,
        report,
        coverage_run,
        coverage,
    })
}

/// One of the target's own commands in `dir`, run the way QA runs its commands: `sh -c`,
/// the small environment (no TMPDIR: a confined run gets a private /tmp), under `confine`,
/// stopped with its process group at `timeout`, stdout then stderr kept. The performance
/// monitor runs `bench_command` through it.
pub fn run_command(
    dir: &Path,
    command: &str,
    timeout: Duration,
    confine: &Confinement,
) -> CommandRun {
    run_one(dir, command, timeout, confine, None)
}

fn run_one(
    dir: &Path,
    command: &str,
    timeout: Duration,
    confine: &Confinement,
    junit_dir: Option<&Path>,
) -> CommandRun {
    let mut spec = Spec::new("sh", &["-c", command]).cwd(dir).timeout(timeout);
    spec.output_cap = OUTPUT_CAP;
    // TMPDIR is not passed: the commands get a private /tmp of their own
    spec.env = ["PATH", "HOME", "LANG", "LC_ALL", "TZ"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect();
    spec.env.insert("CI".into(), "1".into());
    // no bytecode caches in the work tree (they would show up as the change's files)
    spec.env
        .insert("PYTHONDONTWRITEBYTECODE".into(), "1".into());
    if let Some(junit_dir) = junit_dir {
        spec.env.insert(
            JUNIT_DIR_ENV.into(),
            junit_dir.to_string_lossy().into_owned(),
        );
    }
    let spec = match junit_dir {
        Some(junit_dir) => confine.clone().with_write(junit_dir).wrap(spec),
        None => confine.wrap(spec),
    };
    match process::run(&spec) {
        Err(err) => CommandRun {
            command: command.to_string(),
            outcome: Outcome::CouldNotStart(err.to_string()),
            output: String::new(),
            truncated: false,
            elapsed: Duration::ZERO,
        },
        Ok(out) => {
            let outcome = match out.status {
                None => Outcome::TimedOut(timeout),
                Some(status) => match (status.code(), status.signal()) {
                    (Some(127), _) => Outcome::NotFound,
                    (Some(code), _) => Outcome::Exited(code),
                    (None, signal) => Outcome::Killed(signal.unwrap_or(0)),
                },
            };
            let mut output = out.stdout;
            if !output.is_empty() && !output.ends_with('\n') && !out.stderr.is_empty() {
                output.push('\n');
            }
            output.push_str(&out.stderr);
            CommandRun {
                command: command.to_string(),
                outcome,
                output,
                truncated: out.truncated,
                elapsed: out.elapsed,
            }
        }
    }
}

/// JUnit XML if any was written, else the runner's summary, else the exit code.
fn report_for(run: &CommandRun, junit_dir: &Path) -> TestReport {
    if !run.outcome.completed() {
        return TestReport::from_exit(&run.command, false);
    }
    let success = run.outcome.success();
    let mut xml_reports = Vec::new();
    collect_xml(junit_dir, 4, &mut xml_reports);
    let parsed = xml_reports
        .into_iter()
        .filter_map(|xml| junit::parse_junit(&xml))
        .reduce(|mut all, one| {
            all.passed += one.passed;
            all.failed += one.failed;
            all.skipped += one.skipped;
            all.failures.extend(one.failures);
            all.tests.extend(one.tests);
            all.details.extend(one.details);
            all
        })
        .or_else(|| parse::parse_output(&run.output));
    match parsed {
        Some(report) => report.reconcile(&run.command, success),
        None => TestReport::from_exit(&run.command, success),
    }
}

/// The text of every `*.xml` under `dir` (to `depth` levels), each cut at [`XML_CAP`].
fn collect_xml(dir: &Path, depth: u32, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() && depth > 0 {
            collect_xml(&path, depth - 1, out);
        } else if path.extension().is_some_and(|e| e == "xml")
            && let Ok(bytes) = fs::read(&path)
        {
            let kept = &bytes[..bytes.len().min(XML_CAP)];
            out.push(String::from_utf8_lossy(kept).into_owned());
        }
    }
}
