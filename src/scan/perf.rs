//! The performance monitor (seed 002): the target's own `bench_command` is run (confined
//! like QA's test runs), the timings it prints are read as [`Measure`]s, and a measure
//! slower than its reference by more than a threshold is a `perf/regression` finding. The
//! reference is the last run's timing, except that a regressed measure keeps the timing it
//! regressed from ([`next_reference`]), so a bench that stays slow stays reported. The
//! caller keeps the history; this module measures, compares and judges ([`Bench::judge`]).
//!
//! Timings are read from lines like `name ... 123.4 ms` and `name: 12 µs`, criterion's
//! `name  time: [1.2 ms 1.3 ms 1.4 ms]` (the middle estimate; the name may be on the line
//! before) and libtest's `test bench_x ... bench: 1,234 ns/iter (+/- 56)`. When the
//! command prints none of them, its wall time is the one measure, `wall`.
//!
//! A regression is reported at the pseudo-file [`BENCH_FILE`] (line 1, 2 … for each
//! regression of a run): no file of the tree holds a timing, and
//! [`crate::scan::fingerprint`] reads a finding's text from its line — for a file that does
//! not exist, from its message. So the message names the measure and nothing that changes
//! from run to run: the fingerprint is decided by the rule and the measure's name alone,
//! and a benchmark that stays slow stays one finding. The numbers are in [`regressions`]
//! and the analyzer's line of the report.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::run::{AnalyzerRun, FAILED, RAN};
use super::{Finding, Severity};
use crate::qa::{CommandRun, Outcome};
use crate::sandbox::Confinement;

/// The analyzer name of a regression.
pub const ANALYZER: &str = "perf";

/// Where a regression is reported: a path no tree has (see the module doc).
pub const BENCH_FILE: &str = ".dayshift-bench";

/// Characters of the command's output an error quotes.
const OUTPUT_TAIL: usize = 2000;

/// One timing, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    pub name: String,
    pub seconds: f64,
}

/// Why the bench command gave no measures.
#[derive(Debug, thiserror::Error)]
pub enum PerfError {
    #[error(
        "the bench command `{command}` could not start: {why}; check bench_command in config/target.yaml"
    )]
    CannotStart { command: String, why: String },
    #[error("the bench command `{command}` failed ({how}); its output ends: {output}")]
    Failed {
        command: String,
        /// `exit code 2`, `killed by signal 9`, `command not found …`.
        how: String,
        output: String,
    },
    #[error(
        "the bench command `{command}` did not finish in {seconds:.1} s and was stopped; make it faster or raise bench_timeout_minutes in config/target.yaml"
    )]
    TimedOut { command: String, seconds: f64 },
}

/// One run of the bench command: the run itself (its whole output, for the log) and what
/// it measured.
#[derive(Debug)]
pub struct Bench {
    pub run: CommandRun,
    pub measures: Result<Vec<Measure>, PerfError>,
}

/// Run `command` in `root` the way QA runs the target's tests ([`crate::qa::run_command`]:
/// `sh -c`, a small environment, under `confine`, stopped at `timeout`) and read its
/// measures.
pub fn measure(root: &Path, command: &str, timeout: Duration, confine: &Confinement) -> Bench {
    let run = crate::qa::run_command(root, command, timeout, confine);
    let measures = measures_of(&run);
    Bench { run, measures }
}

impl Bench {
    /// A bench that could not be started at all (policy requires a sandbox this machine
    /// lacks), and why.
    pub fn not_started(command: &str, why: String) -> Self {
        let outcome = Outcome::CouldNotStart(why);
        let run = CommandRun {
            command: command.to_string(),
            outcome,
            output: String::new(),
            truncated: false,
            elapsed: Duration::ZERO,
        };
        let measures = measures_of(&run);
        Self { run, measures }
    }
}

fn measures_of(run: &CommandRun) -> Result<Vec<Measure>, PerfError> {
    let command = run.command.clone();
    match &run.outcome {
        Outcome::Exited(0) => {}
        Outcome::TimedOut(after) => {
            return Err(PerfError::TimedOut {
                command,
                seconds: after.as_secs_f64(),
            });
        }
        Outcome::CouldNotStart(why) => {
            return Err(PerfError::CannotStart {
                command,
                why: why.clone(),
            });
        }
        failed => {
            let output = match crate::engine::tail(run.output.trim(), OUTPUT_TAIL) {
                "" => "(nothing)".to_string(),
                tail => tail.to_string(),
            };
            return Err(PerfError::Failed {
                command,
                how: failed.describe(),
                output,
            });
        }
    }
    let mut measures = parse(&run.output);
    if measures.is_empty() {
        measures.push(Measure {
            name: "wall".into(),
            seconds: run.elapsed.as_secs_f64(),
        });
    }
    Ok(measures)
}

/// The measures printed in `output`, in the order printed; a name printed twice keeps
/// its last timing.
pub fn parse(output: &str) -> Vec<Measure> {
    let mut measures: Vec<Measure> = Vec::new();
    let mut previous = "";
    for line in output.lines() {
        let line = line.trim();
        let found = libtest(line)
            .or_else(|| criterion(line, previous))
            .or_else(|| plain(line));
        if !line.is_empty() {
            previous = line;
        }
        let Some(found) = found else {
            continue;
        };
        match measures.iter_mut().find(|m| m.name == found.name) {
            Some(known) => known.seconds = found.seconds,
            None => measures.push(found),
        }
    }
    measures
}

/// `test bench_x ... bench:       1,234 ns/iter (+/- 56)`
fn libtest(line: &str) -> Option<Measure> {
    let (name, rest) = line.strip_prefix("test ")?.split_once(" ... bench:")?;
    let mut words = rest.split_whitespace();
    let number = words.next()?.replace(',', "");
    let unit = words.next()?.strip_suffix("/iter")?;
    timed(name, &number, unit)
}

/// `name  time:   [1.2 ms 1.3 ms 1.4 ms]`, the name on this line or the one before.
fn criterion(line: &str, previous: &str) -> Option<Measure> {
    let at = line.find("time:")?;
    let estimates = line[at + "time:".len()..]
        .trim()
        .strip_prefix('[')?
        .strip_suffix(']')?;
    let words: Vec<&str> = estimates.split_whitespace().collect();
    let [_, _, middle, unit, _, _] = words.as_slice() else {
        return None;
    };
    let name = match line[..at].trim() {
        "" => previous,
        own => own,
    };
    timed(name, middle, unit)
}

/// `name ... 123.4 ms` or `name: 12 µs`.
fn plain(line: &str) -> Option<Measure> {
    if line.starts_with("Benchmarking ") {
        // criterion's progress lines: "Benchmarking x: Warming up for 3.0000 s"
        return None;
    }
    let (name, rest) = line
        .rsplit_once(" ... ")
        .or_else(|| line.rsplit_once(": "))?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let [number, unit] = words.as_slice() else {
        return None;
    };
    timed(name, number, unit)
}

fn timed(name: &str, number: &str, unit: &str) -> Option<Measure> {
    let name = name.trim();
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)?;
    let scale = match unit {
        "ps" => 1e-12,
        "ns" => 1e-9,
        "µs" | "μs" | "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        _ => return None,
    };
    (!name.is_empty()).then(|| Measure {
        name: name.to_string(),
        seconds: value * scale,
    })
}

/// A measure that got slower.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    pub name: String,
    pub before: f64,
    pub now: f64,
    /// `now / before - 1`: 0.25 is 25 % slower.
    pub slower_by: f64,
}

/// The measures of `now` slower than the same-named one of `previous` by more than
/// `threshold` (0.10 = 10 %), in the order of `now`. New and vanished measures are not
/// compared.
pub fn regressions(previous: &[Measure], now: &[Measure], threshold: f64) -> Vec<Regression> {
    now.iter()
        .filter_map(|m| {
            let before = previous.iter().find(|p| p.name == m.name)?.seconds;
            let slower_by = m.seconds / before - 1.0;
            (before > 0.0 && slower_by > threshold).then(|| Regression {
                name: m.name.clone(),
                before,
                now: m.seconds,
                slower_by,
            })
        })
        .collect()
}

/// One `perf/regression` finding per [`regressions`]: medium, high when slower by more
/// than three times the threshold. The message is the same each run for a measure (see
/// the module doc); each regression has a line of its own (1, 2, …) so that two are never
/// taken for one finding at one place.
pub fn compare(previous: &[Measure], now: &[Measure], threshold: f64) -> Vec<Finding> {
    regressions(previous, now, threshold)
        .into_iter()
        .zip(1..)
        .map(|(r, line)| {
            let severity = if r.slower_by > 3.0 * threshold {
                Severity::High
            } else {
                Severity::Medium
            };
            Finding::at(
                ANALYZER,
                "regression",
                severity,
                BENCH_FILE,
                line,
                format!(
                    "benchmark `{}` is slower than in the last recorded run of bench_command",
                    r.name
                ),
            )
        })
        .collect()
}

/// What the next run is compared with: `now`'s timings, except that a measure that
/// regressed keeps its `reference` timing — a bench that stays slow stays a regression
/// until it is fast again, or a person suppresses it — and a measure not printed this time
/// keeps its reference.
pub fn next_reference(reference: &[Measure], now: &[Measure], threshold: f64) -> Vec<Measure> {
    let regressed = regressions(reference, now, threshold);
    let mut next: Vec<Measure> = now
        .iter()
        .map(|m| match regressed.iter().find(|r| r.name == m.name) {
            Some(r) => Measure {
                name: m.name.clone(),
                seconds: r.before,
            },
            None => m.clone(),
        })
        .collect();
    for kept in reference {
        if !now.iter().any(|m| m.name == kept.name) {
            next.push(kept.clone());
        }
    }
    next
}

/// A bench run judged against the reference of the last one.
#[derive(Debug)]
pub struct Judged {
    /// The `perf` line of the scan's analyzers.
    pub run: AnalyzerRun,
    pub findings: Vec<Finding>,
    pub regressions: Vec<Regression>,
    /// What the next run compares with; `None` when the command failed (the reference of
    /// the last run stands).
    pub reference: Option<Vec<Measure>>,
}

impl Bench {
    /// The findings of this run against `reference` (the last run's [`next_reference`];
    /// `None` before the first run): none on a first run or when the command failed — a
    /// failed bench says nothing, so the scan carries the regressions it reported before.
    pub fn judge(&self, reference: Option<&[Measure]>, threshold: f64) -> Judged {
        let measures = match &self.measures {
            Ok(measures) => measures,
            Err(e) => {
                return Judged {
                    run: analyzer_run(FAILED, e.to_string(), 0),
                    findings: Vec::new(),
                    regressions: Vec::new(),
                    reference: None,
                };
            }
        };
        let ran = format!(
            "{} measure(s), {:.1} s",
            measures.len(),
            self.run.elapsed.as_secs_f64()
        );
        let Some(reference) = reference else {
            return Judged {
                run: analyzer_run(RAN, format!("first measures recorded: {ran}"), 0),
                findings: Vec::new(),
                regressions: Vec::new(),
                reference: Some(measures.clone()),
            };
        };
        let findings = compare(reference, measures, threshold);
        let regressions = regressions(reference, measures, threshold);
        let mut detail = ran;
        for r in &regressions {
            detail.push_str(&format!(
                "; `{}` {} → {} (+{:.0} %)",
                r.name,
                timing(r.before),
                timing(r.now),
                r.slower_by * 100.0
            ));
        }
        Judged {
            run: analyzer_run(RAN, detail, findings.len()),
            findings,
            regressions,
            reference: Some(next_reference(reference, measures, threshold)),
        }
    }
}

fn analyzer_run(status: &str, detail: String, findings: usize) -> AnalyzerRun {
    AnalyzerRun {
        name: ANALYZER.into(),
        status: status.into(),
        detail: Some(detail),
        findings,
    }
}

/// `12.3 ms`, `1.50 s`: a timing in the unit that reads best.
pub fn timing(seconds: f64) -> String {
    match seconds {
        s if s >= 1.0 => format!("{s:.2} s"),
        s if s >= 1e-3 => format!("{:.2} ms", s * 1e3),
        s if s >= 1e-6 => format!("{:.2} µs", s * 1e6),
        s => format!("{:.0} ns", s * 1e9),
    }
}

#[cfg(test)]
#[path = "perf_tests.rs"]
mod tests;
