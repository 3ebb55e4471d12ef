//! The performance monitor (seed 002): the target's own `bench_command` is run, the
//! timings it prints are read as [`Measure`]s, and a measure slower than the last recorded
//! run by more than a threshold is a `perf/regression` finding. The caller keeps the
//! history; this module only measures and compares.
//!
//! Timings are read from lines like `name ... 123.4 ms` and `name: 12 µs`, criterion's
//! `name  time: [1.2 ms 1.3 ms 1.4 ms]` (the middle estimate; the name may be on the line
//! before) and libtest's `test bench_x ... bench: 1,234 ns/iter (+/- 56)`. When the
//! command prints none of them, its wall time is the one measure, `wall`.
//!
//! A regression is reported at the pseudo-file [`BENCH_FILE`], line 1: no file of the tree
//! holds a timing, and [`crate::scan::fingerprint`] reads a finding's text from its line —
//! for a file that does not exist, from its message. So the message names the measure and
//! nothing that changes from run to run: the fingerprint is decided by the rule and the
//! measure's name alone, and a benchmark that stays slow stays one finding. The numbers
//! are in [`regressions`].

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Finding, Severity};
use crate::process::{self, Spec};

/// The analyzer name of a regression.
pub const ANALYZER: &str = "perf";

/// Where a regression is reported: a path no tree has (see the module doc).
pub const BENCH_FILE: &str = ".dayshift-bench";

/// Output kept of the command, each of stdout and stderr.
const OUTPUT_CAP: usize = 4 << 20;

/// Characters of the command's error output an error quotes.
const STDERR_TAIL: usize = 2000;

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
        "the bench command `{command}` could not start: {source}; check bench_command in target.yaml"
    )]
    CannotStart {
        command: String,
        #[source]
        source: process::SpawnError,
    },
    #[error("the bench command `{command}` failed ({how}); its error output ends: {stderr}")]
    Failed {
        command: String,
        /// `exit 2`, `killed by a signal`.
        how: String,
        stderr: String,
    },
    #[error(
        "the bench command `{command}` did not finish in {seconds} s and was stopped; make it faster or give it more time"
    )]
    TimedOut { command: String, seconds: u64 },
    #[error("the bench command `{command}` was cancelled")]
    Cancelled { command: String },
}

/// Run `command` (`sh -c`, in `root`, with only PATH, HOME, LANG, LC_ALL, TZ and TMPDIR
/// from this process and `CI=1`) and read its measures.
pub fn measure(root: &Path, command: &str, timeout: Duration) -> Result<Vec<Measure>, PerfError> {
    let mut spec = Spec::new("sh", &["-c", command]).cwd(root).timeout(timeout);
    spec.output_cap = OUTPUT_CAP;
    spec.env.insert("CI".into(), "1".into());
    let out = process::run(&spec).map_err(|source| PerfError::CannotStart {
        command: command.to_string(),
        source,
    })?;
    if out.cancelled {
        return Err(PerfError::Cancelled {
            command: command.to_string(),
        });
    }
    let Some(status) = out.status else {
        return Err(PerfError::TimedOut {
            command: command.to_string(),
            seconds: timeout.as_secs(),
        });
    };
    if !status.success() {
        let how = status
            .code()
            .map_or_else(|| "killed by a signal".to_string(), |c| format!("exit {c}"));
        let stderr = match crate::engine::tail(out.stderr.trim(), STDERR_TAIL) {
            "" => "(nothing)".to_string(),
            tail => tail.to_string(),
        };
        return Err(PerfError::Failed {
            command: command.to_string(),
            how,
            stderr,
        });
    }
    let mut measures = parse(&out.stdout);
    measures.extend(parse(&out.stderr));
    if measures.is_empty() {
        measures.push(Measure {
            name: "wall".into(),
            seconds: out.elapsed.as_secs_f64(),
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
/// the module doc).
pub fn compare(previous: &[Measure], now: &[Measure], threshold: f64) -> Vec<Finding> {
    regressions(previous, now, threshold)
        .into_iter()
        .map(|r| {
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
                1,
                format!(
                    "benchmark `{}` is slower than in the last recorded run of bench_command",
                    r.name
                ),
            )
        })
        .collect()
}

#[cfg(test)]
#[path = "perf_tests.rs"]
mod tests;
