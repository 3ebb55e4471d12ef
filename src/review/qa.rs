//! Layer 5, QA deltas: what the target's own checks say about the change against the base
//! branch — new test failures and removed tests (the work loop sends those back before the
//! review; here they are recorded), new lint warnings, and a coverage drop beyond
//! `policy.max_coverage_drop`.

use super::{Finding, Layer};
use crate::qa::QaVerdict;
use crate::tasks::Risk;

/// The QA layer's findings and its one-line summary (for the layer's row).
/// `removes_tests`: the task declares it removes tests, so a removal is a person's call
/// (high risk) instead of a block.
pub fn check(
    verdict: &QaVerdict,
    max_coverage_drop: Option<f64>,
    removes_tests: bool,
) -> (Vec<Finding>, String) {
    let mut found = Vec::new();
    if !verdict.new_failures.is_empty() {
        found.push(Finding::block(
            Layer::Qa,
            "qa.new_failures",
            Risk::High,
            crate::qa::name_list("new test failures", verdict.new_failures.iter(), 300),
        ));
    }
    if !verdict.removed.is_empty() {
        let list = crate::qa::name_list(
            "tests the base ran and the change does not",
            verdict.removed.iter(),
            300,
        );
        found.push(if removes_tests {
            Finding::warn(
                Layer::Qa,
                "qa.removed_tests",
                Risk::High,
                format!("it removes tests, as the task says it may (removes_tests): {list}"),
            )
        } else {
            Finding::block(Layer::Qa, "qa.removed_tests", Risk::High, list)
        });
    }
    if !verdict.lint_ok {
        let what = if verdict.new_lint.is_empty() {
            "lint fails on the change".to_string()
        } else {
            crate::qa::name_list(
                "lint warnings the base does not have",
                verdict.new_lint.iter(),
                300,
            )
        };
        found.push(Finding::block(Layer::Qa, "qa.lint", Risk::Medium, what));
    }
    if let (Some(delta), Some(max)) = (verdict.coverage_delta, max_coverage_drop)
        && -delta > max
    {
        found.push(Finding::block(
            Layer::Qa,
            "qa.coverage_drop",
            Risk::Medium,
            format!(
                "coverage drops {:.1} points ({:.1}% → {:.1}%), more than policy.yaml's max_coverage_drop of {max:.1}: add tests for the new code",
                -delta,
                verdict.coverage.unwrap_or(0.0) - delta,
                verdict.coverage.unwrap_or(0.0),
            ),
        ));
    }
    let report = &verdict.report;
    let mut summary = format!(
        "{} passed, {} failed ({} new)",
        report.passed,
        report.failed,
        verdict.new_failures.len()
    );
    if let Some(delta) = verdict.coverage_delta {
        summary.push_str(&format!(", coverage {delta:+.1} points"));
    }
    (found, summary)
}
