//! The performance monitor's part of a scan of the base (issue 15): the target's
//! `bench_command` run in the scan's checkout — confined like QA's runs of the target's
//! tests (policy.yaml's sandbox), stopped at `bench_timeout_minutes` — its whole output kept
//! in `logs/monitor/<day>-bench.log` (secrets redacted), and its timings judged against the
//! reference the last `bench.measured` event kept ([`crate::scan::perf`]). Once the scan is
//! kept, the run's measures become a new `bench.measured` event (actor `scanner`, the
//! scanned commit): the history is the audit trail.

use std::path::Path;

use chrono::NaiveDate;
use serde_json::json;

use super::ACTOR;
use crate::context::Ctx;
use crate::error::Result;
use crate::scan::Finding;
use crate::scan::perf::{self, Bench, Judged, Measure};
use crate::scan::run::AnalyzerRun;
use crate::store::Event;

/// The event that keeps a bench run's measures.
pub const MEASURED: &str = "bench.measured";

/// One bench run of a scan: what it measured and how it was judged.
pub struct BenchRun {
    pub bench: Bench,
    pub judged: Judged,
}

impl BenchRun {
    /// The perf analyzer's line and findings, for the scan.
    pub fn analyzer(&self) -> (AnalyzerRun, Vec<Finding>) {
        (self.judged.run.clone(), self.judged.findings.clone())
    }
}

/// What the last recorded bench run left to compare with: its reference (its measures,
/// for an event that has none); `None` before the first run.
pub fn last_reference(ctx: &Ctx) -> Result<Option<Vec<Measure>>> {
    let Some(last) = ctx.store.last_event(MEASURED)? else {
        return Ok(None);
    };
    let kept = match last.detail.get("reference") {
        Some(reference) => reference.clone(),
        None => last.detail["measures"].clone(),
    };
    Ok(Some(serde_json::from_value(kept).unwrap_or_else(|e| {
        tracing::warn!(
            "the last {MEASURED} event's measures cannot be read ({e}); this bench run counts as the first"
        );
        Vec::new()
    })))
}

/// Run the bench command of config/target.yaml, if one is set, in `dir` (the scan's
/// checkout) and judge it against `reference`. A sandbox that policy requires and this
/// machine lacks fails the bench, not the scan.
pub fn run(
    ctx: &Ctx,
    dir: &Path,
    day: NaiveDate,
    reference: Option<&[Measure]>,
    threshold: f64,
) -> Option<BenchRun> {
    let target = &ctx.config.target;
    let command = target.bench_command.as_deref()?;
    let bench = match crate::sandbox::Sandbox::new(&ctx.config.policy.sandbox, ctx.home.root()) {
        Ok(sandbox) => {
            let confine = sandbox.for_task(dir, &ctx.home.target_clone());
            perf::measure(dir, command, target.bench_timeout(), &confine)
        }
        Err(e) => Bench::not_started(command, e.to_string()),
    };
    keep_log(ctx, day, &bench);
    let judged = bench.judge(reference, threshold);
    Some(BenchRun { bench, judged })
}

/// The run's whole output in `logs/monitor/<day>-bench.log`, secrets redacted; a log that
/// cannot be written is a warning (the scan goes on).
fn keep_log(ctx: &Ctx, day: NaiveDate, bench: &Bench) {
    let dir = ctx.home.logs_dir().join("monitor");
    let path = dir.join(format!("{day}-bench.log"));
    let run = &bench.run;
    let mut text = format!(
        "$ {}\n# {}, {:.1} s\n{}",
        run.command,
        run.outcome.describe(),
        run.elapsed.as_secs_f64(),
        run.output
    );
    if run.truncated {
        text.push_str("\n# (the output was cut here)\n");
    }
    let written = std::fs::create_dir_all(&dir)
        .map_err(|e| e.to_string())
        .and_then(|()| ctx.write_redacted(&path, &text).map_err(|e| e.to_string()));
    if let Err(e) = written {
        tracing::warn!(
            "could not keep the bench's output in {}: {e}",
            path.display()
        );
    }
}

/// Keep a bench run that measured as a `bench.measured` event about `commit`: its
/// measures, the reference the next run compares with, and what regressed by how much.
pub fn record(ctx: &Ctx, commit: &str, run: &BenchRun) -> Result<()> {
    let (Ok(measures), Some(reference)) = (&run.bench.measures, &run.judged.reference) else {
        return Ok(());
    };
    let regressions: Vec<serde_json::Value> = run
        .judged
        .regressions
        .iter()
        .map(
            |r| json!({"name": r.name, "before": r.before, "now": r.now, "slower_by": r.slower_by}),
        )
        .collect();
    ctx.audit(
        Event::new(ctx.now(), ACTOR, MEASURED)
            .commit(commit)
            .detail(json!({
                "command": run.bench.run.command,
                "measures": measures,
                "reference": reference,
                "regressions": regressions,
            })),
    )
}
