//! What the coder hears after QA failed its change: what *this* change broke first, within
//! a budget.
//!
//! A test suite's raw output is mostly about other things — on a real project the base
//! often fails tests of its own, and they may print after the new failures — so the
//! feedback is built from the parsed report, never from the output's end:
//!
//! ```text
//! $ <command>
//! [exit code 1]
//! new test failures (N): a, b            ← never cut
//! also failing on the base, not yours: 16 tests
//!
//! --- a ---
//! <a's own block: traceback, assertion, captured output>   ← the budget goes here first,
//! --- b ---                                                   split fairly, each cut to keep
//! <b's block>                                                 its head and assertion lines
//! removed tests (K): …
//! summary:
//! Ran 51 tests in 0.3s / FAILED (failures=20)
//! ```
//!
//! A failure without a block of its own (a runner without sections) gets the output lines
//! that name it, with some context. Only when something stays unexplained (the command
//! itself failed with no test named, or a failure is named nowhere in the output) does the
//! rest of the budget go to the output itself, cut to its head, its error lines and its
//! end. The base's own failures are counted in one line, never shown.
//!
//! Lint's feedback leads with the warnings the base does not have (when both outputs could
//! be read, [`super::lint`]), then the lines naming a file the change touched, then the rest.

use std::collections::BTreeSet;

use super::CommandRun;
use super::block;
use super::parse::summary_lines;
use super::report::TestReport;

/// Bytes of feedback for one failed QA pass, all failing commands together. Big enough for
/// a few tracebacks, small enough to leave the coder's context for the code.
pub const FEEDBACK_BUDGET: usize = 12 * 1024;

/// A failure's block gets at least this much, or is left out (and counted): many slivers
/// of tracebacks help nobody.
const MIN_SHARE: usize = 600;

/// Summary lines kept (the last ones: the run's totals come at the end).
const SUMMARY_LINES: usize = 6;

/// Lines of context around an output line that names a failure without a block.
const CONTEXT_BEFORE: usize = 2;
const CONTEXT_AFTER: usize = 8;

/// The parts of a failed test run the feedback is built from.
pub(crate) struct TestFailures<'a> {
    pub run: &'a CommandRun,
    pub report: &'a TestReport,
    /// Failing ids that do not fail on the base.
    pub new: &'a BTreeSet<String>,
    /// Tests of the base the change no longer runs.
    pub removed: &'a BTreeSet<String>,
    /// How many of the change's failures already fail on the base.
    pub on_base: usize,
}

/// The feedback for a failed test run, in at most `budget` bytes (the header excepted,
/// which is never cut).
pub(crate) fn tests(failed: &TestFailures, budget: usize) -> String {
    let TestFailures {
        run,
        report,
        new,
        removed,
        on_base,
    } = failed;
    let mut out = command_head(run);
    if !new.is_empty() {
        out.push_str(&list("new test failures", new.iter(), budget / 4));
        out.push('\n');
    }
    if *on_base > 0 {
        let s = if *on_base == 1 { "" } else { "s" };
        out.push_str(&format!(
            "also failing on the base, not yours: {on_base} test{s}\n"
        ));
    }
    let mut trailer = String::new();
    if !removed.is_empty() {
        trailer.push_str(&list("removed tests", removed.iter(), budget / 8));
        trailer.push('\n');
    }
    let summary = summary_lines(&run.output, SUMMARY_LINES);
    if !summary.is_empty() {
        trailer.push_str("summary:\n");
        trailer.push_str(block::clip(&summary.join("\n"), budget / 8));
        trailer.push('\n');
    }
    let mut room = budget.saturating_sub(out.len() + trailer.len());

    // each new failure's block: its own, else the lines naming it
    let mut unexplained = false;
    let mut blocks: Vec<(&str, String)> = Vec::new();
    let fit = room / MIN_SHARE;
    let mut left_out = 0;
    for id in new.iter() {
        if *id == run.command {
            unexplained = true;
            continue;
        }
        if blocks.len() >= fit {
            left_out += 1;
            continue;
        }
        match report.details.get(id).filter(|b| !b.trim().is_empty()) {
            Some(own) => blocks.push((id, own.clone())),
            None => match mentions(&run.output, id) {
                Some(lines) => blocks.push((id, lines)),
                None => unexplained = true,
            },
        }
    }
    let framed: Vec<(String, &str)> = blocks
        .iter()
        .map(|(id, body)| (format!("\n--- {id} ---\n"), body.as_str()))
        .collect();
    let shares = fair_shares(
        &framed
            .iter()
            .map(|(frame, body)| frame.len() + body.len() + 1)
            .collect::<Vec<_>>(),
        room,
    );
    for ((frame, body), share) in framed.iter().zip(shares) {
        let body = block::cut(body, share.saturating_sub(frame.len() + 1));
        out.push_str(frame);
        out.push_str(&body);
        out.push('\n');
        room = room.saturating_sub(frame.len() + body.len() + 1);
    }
    if left_out > 0 {
        let note = format!("[the blocks of {left_out} more new failure(s) did not fit]\n");
        room = room.saturating_sub(note.len());
        out.push_str(&note);
    }
    out.push_str(&trailer);
    if unexplained {
        out.push_str(&raw(run, room));
    }
    out
}

/// The feedback for a failed lint command: its new warnings (`new`, located), then the
/// lines naming a file the change touched, then the rest of its output, in at most `budget`
/// bytes.
pub(crate) fn lint(run: &CommandRun, new: &[String], touched: &[String], budget: usize) -> String {
    let mut out = command_head(run);
    if !new.is_empty() {
        let head = format!("new lint warnings, not on the base ({}):\n", new.len());
        let room = (budget / 2).saturating_sub(out.len() + head.len());
        out.push_str(&head);
        out.push_str(&block::cut(&new.join("\n"), room));
        out.push('\n');
    }
    let names_touched = |line: &str| touched.iter().any(|p| !p.is_empty() && line.contains(p));
    let (mine, rest): (Vec<&str>, Vec<&str>) = run.output.lines().partition(|l| names_touched(l));
    let room = budget.saturating_sub(out.len());
    let mine = block::cut(&mine.join("\n"), room);
    if !mine.is_empty() {
        out.push_str("about the files this change touched:\n");
        out.push_str(&mine);
        out.push('\n');
    }
    let room = budget.saturating_sub(out.len());
    let label = if mine.is_empty() { "" } else { "the rest:\n" };
    let rest = block::cut(&rest.join("\n"), room.saturating_sub(label.len() + 1));
    if !rest.trim().is_empty() {
        out.push_str(label);
        out.push_str(&rest);
        out.push('\n');
    }
    out
}

/// `$ command`, how it ended, and whether the capture cut its output.
fn command_head(run: &CommandRun) -> String {
    let mut out = format!("$ {}\n[{}]\n", run.command, run.outcome.describe());
    if run.truncated {
        out.push_str("[output was cut at the capture limit; its end may be missing]\n");
    }
    out
}

/// `label (N): a, b, …` in about `max` bytes; the ids that do not fit are counted.
pub fn list<'a>(label: &str, ids: impl ExactSizeIterator<Item = &'a String>, max: usize) -> String {
    let total = ids.len();
    let mut out = format!("{label} ({total}): ");
    let mut shown = 0;
    for id in ids {
        if shown > 0 && out.len() + id.len() + 2 > max {
            break;
        }
        if shown > 0 {
            out.push_str(", ");
        }
        out.push_str(block::clip(id, max.max(80)));
        shown += 1;
    }
    if shown < total {
        out.push_str(&format!(", … and {} more", total - shown));
    }
    out
}

/// Split `budget` over parts wanting `wants` bytes: a part that wants less than an equal
/// share gets what it wants, and what it leaves goes to the others.
fn fair_shares(wants: &[usize], budget: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..wants.len()).collect();
    order.sort_by_key(|&i| wants[i]);
    let mut shares = vec![0; wants.len()];
    let mut left = budget;
    for (done, &i) in order.iter().enumerate() {
        let share = left / (wants.len() - done);
        shares[i] = wants[i].min(share);
        left -= shares[i];
    }
    shares
}

/// The output lines that name `id` (or, failing that, its last part: `test_x` of
/// `mod.Class.test_x`), with a few lines of context; `None` when none does.
fn mentions(output: &str, id: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().collect();
    let short = id
        .rsplit(['.', ':', '/', ' '])
        .next()
        .filter(|s| s.len() >= 4 && *s != id);
    let hits = |needle: &str| -> Vec<usize> {
        (0..lines.len())
            .filter(|&i| lines[i].contains(needle))
            .collect()
    };
    let mut at = hits(id);
    if at.is_empty()
        && let Some(short) = short
    {
        at = hits(short);
    }
    if at.is_empty() {
        return None;
    }
    let mut keep = vec![false; lines.len()];
    for i in at {
        let from = i.saturating_sub(CONTEXT_BEFORE);
        let to = (i + CONTEXT_AFTER + 1).min(lines.len());
        keep[from..to].iter_mut().for_each(|k| *k = true);
    }
    let mut out: Vec<&str> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if keep[i] {
            out.push(line);
        } else if i > 0 && keep[i - 1] {
            out.push("[…]");
        }
    }
    Some(block::join(&out))
}

/// The command's own output in `room` bytes: its head, error lines and end.
fn raw(run: &CommandRun, room: usize) -> String {
    const LABEL: &str = "output:\n";
    if run.output.trim().is_empty() || room <= LABEL.len() + 1 {
        return String::new();
    }
    let text = block::cut(run.output.trim(), room - LABEL.len() - 1);
    format!("{LABEL}{text}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qa::Outcome;
    use crate::qa::report::ReportSource;
    use std::time::Duration;

    fn run(command: &str, output: &str) -> CommandRun {
        CommandRun {
            command: command.into(),
            outcome: Outcome::Exited(1),
            output: output.into(),
            truncated: false,
            elapsed: Duration::ZERO,
        }
    }

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fair_shares_give_small_parts_what_they_want() {
        assert_eq!(fair_shares(&[100, 5000, 5000], 3000), [100, 1450, 1450]);
        assert_eq!(fair_shares(&[10, 20], 1000), [10, 20]);
        assert_eq!(fair_shares(&[], 10), Vec::<usize>::new());
    }

    #[test]
    fn a_runner_without_sections_gets_the_lines_naming_the_failure() {
        let mut output = String::new();
        for i in 0..300 {
            output.push_str(&format!("old failure {i}: trace trace trace\n"));
        }
        output.insert_str(0, "check widget_size ... broken\n  want 3, got 4\n");
        let r = run("make check", &output);
        let mut report = TestReport::empty(ReportSource::Unittest);
        report.failures = set(&["suite.widget_size"]);
        let new = set(&["suite.widget_size"]);
        let text = tests(
            &TestFailures {
                run: &r,
                report: &report,
                new: &new,
                removed: &BTreeSet::new(),
                on_base: 300,
            },
            2000,
        );
        assert!(
            text.contains("new test failures (1): suite.widget_size"),
            "{text}"
        );
        assert!(text.contains("want 3, got 4"), "{text}");
        assert!(
            !text.contains("old failure 299"),
            "never the raw tail: {text}"
        );
        assert!(
            text.contains("also failing on the base, not yours: 300 tests"),
            "{text}"
        );
    }

    #[test]
    fn a_failure_named_nowhere_falls_back_to_the_output_head_errors_and_end() {
        let mut output = String::from("compiling…\n");
        for i in 0..500 {
            output.push_str(&format!("noise {i}\n"));
        }
        output.push_str("SyntaxError: invalid syntax\n");
        for i in 0..500 {
            output.push_str(&format!("more {i}\n"));
        }
        let r = run("python3 -m unittest", &output);
        let report = TestReport::from_exit("python3 -m unittest", false);
        let new = set(&["python3 -m unittest"]);
        let f = TestFailures {
            run: &r,
            report: &report,
            new: &new,
            removed: &BTreeSet::new(),
            on_base: 0,
        };
        let text = tests(&f, 3000);
        assert!(text.len() <= 3000 + 200, "{}", text.len());
        assert!(text.contains("compiling…") && text.contains("SyntaxError: invalid syntax"));
        assert!(text.trim_end().ends_with("more 499"), "{text}");
    }

    #[test]
    fn many_new_failures_keep_the_header_and_count_what_did_not_fit() {
        let ids: Vec<String> = (0..100).map(|i| format!("t.T.test_{i:03}")).collect();
        let new: BTreeSet<String> = ids.iter().cloned().collect();
        let mut report = TestReport::empty(ReportSource::Unittest);
        for id in &ids {
            report.details.insert(
                id.clone(),
                format!("FAIL: {id}\n{}\nAssertionError: no", "x".repeat(3000)),
            );
        }
        let r = run(
            "python3 -m unittest",
            "Ran 100 tests in 1s\n\nFAILED (failures=100)\n",
        );
        let f = TestFailures {
            run: &r,
            report: &report,
            new: &new,
            removed: &set(&["t.T.test_gone"]),
            on_base: 0,
        };
        let text = tests(&f, FEEDBACK_BUDGET);
        assert!(text.len() <= FEEDBACK_BUDGET, "{}", text.len());
        assert!(text.contains("new test failures (100): t.T.test_000, t.T.test_001"));
        assert!(text.contains("more new failure(s) did not fit"), "{text}");
        assert!(
            text.contains("--- t.T.test_000 ---\nFAIL: t.T.test_000\n"),
            "{text}"
        );
        assert!(text.matches("AssertionError: no").count() >= 10, "{text}");
        assert!(text.contains("removed tests (1): t.T.test_gone"));
        assert!(
            text.ends_with("summary:\nRan 100 tests in 1s\nFAILED (failures=100)\n"),
            "{text}"
        );
    }

    #[test]
    fn lint_leads_with_the_touched_files() {
        let mut output = String::new();
        for i in 0..400 {
            output.push_str(&format!(
                "legacy/old_{i}.py:1:1: E302 expected 2 blank lines\n"
            ));
        }
        output.push_str("app/views.py:12:80: E501 line too long (91 > 79 characters)\n");
        let r = run("flake8", &output);
        let text = lint(&r, &[], &["app/views.py".to_string()], 1500);
        assert!(text.len() <= 1500, "{}", text.len());
        assert!(
            text.starts_with("$ flake8\n[exit code 1]\nabout the files this change touched:\napp/views.py:12:80: E501"),
            "{text}"
        );
        assert!(text.contains("the rest:\nlegacy/old_0.py"), "{text}");
        let text = lint(&r, &[], &[], 1500);
        assert!(
            text.starts_with("$ flake8\n[exit code 1]\nlegacy/old_0.py"),
            "{text}"
        );
        let new = ["app/views.py:12: E501 line too long (91 > 79 characters)".to_string()];
        let text = lint(&r, &new, &["app/views.py".to_string()], 1500);
        assert!(text.len() <= 1500, "{}", text.len());
        assert!(
            text.starts_with("$ flake8\n[exit code 1]\nnew lint warnings, not on the base (1):\napp/views.py:12: E501 line too long (91 > 79 characters)\nabout the files this change touched:\n"),
            "{text}"
        );
    }
}
