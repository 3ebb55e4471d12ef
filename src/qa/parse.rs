//! Test runners' human output → [`TestReport`], when no JUnit XML was written.
//!
//! Each runner has a small line-based parser in its own file. A parser *recognises* the
//! output when it finds the runner's summary line or at least one of its failure lines; the
//! first that does wins, in a fixed order from the most to the least distinctive format
//! (cargo, go, jest, pytest, unittest). Parsers never index blindly: truncated, garbled or
//! non-UTF-8 output (already lossily decoded) gives `None` or a partial report, not a panic.

mod cargo;
mod go;
mod jest;
mod pytest;
mod unittest;

use super::report::TestReport;

/// Parse a test command's combined output; `None` when no known format is recognised.
pub fn parse_output(text: &str) -> Option<TestReport> {
    let clean = strip_ansi(text);
    let lines: Vec<&str> = clean.lines().map(|l| l.trim_end_matches('\r')).collect();
    cargo::parse(&lines)
        .or_else(|| go::parse(&lines))
        .or_else(|| jest::parse(&lines))
        .or_else(|| pytest::parse(&lines))
        .or_else(|| unittest::parse(&lines))
}

/// The runners' summary lines in `text` (pytest's `== 4 failed, 47 passed in 1s ==`,
/// unittest's `Ran 51 tests` and `FAILED (failures=4)`, cargo's `test result:`, go's
/// package lines, jest's `Tests:`), at most the last `max`, in order.
pub(crate) fn summary_lines(text: &str, max: usize) -> Vec<String> {
    let clean = strip_ansi(text);
    let found: Vec<&str> = clean
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| {
            cargo::is_summary(l)
                || go::is_summary(l)
                || jest::is_summary(l)
                || pytest::is_summary(l)
                || unittest::is_summary(l)
        })
        .collect();
    found[found.len().saturating_sub(max)..]
        .iter()
        .map(|l| l.trim().to_string())
        .collect()
}

/// Remove ANSI escape sequences (`ESC [ … letter`), which colourful runners emit.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        }
    }
    out
}

/// `"2 failed, 10 passed"` → `[(2, "failed"), (10, "passed")]`; pieces that are not
/// `<number> <word>` are skipped. Splits on `,` and `;`.
fn counts(text: &str) -> Vec<(u64, &str)> {
    text.split([',', ';'])
        .filter_map(|piece| {
            let mut words = piece.split_whitespace();
            let n = words.next()?.parse().ok()?;
            let word = words.next()?;
            Some((n, word.trim_end_matches(['.', ','])))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qa::ReportSource;

    #[test]
    fn ansi_colours_do_not_hide_a_summary() {
        let text = "\u{1b}[31m\u{1b}[1m===== 1 failed, 2 passed in 0.10s =====\u{1b}[0m\n";
        let report = parse_output(text).unwrap();
        assert_eq!((report.passed, report.failed), (2, 1));
        assert_eq!(report.source, ReportSource::Pytest);
    }

    #[test]
    fn unknown_or_broken_output_is_not_recognised_and_never_panics() {
        for text in [
            "",
            "make: *** [Makefile:3: test] Error 1\n",
            "\u{1b}[",
            "test result: ",
            "=== in s ===",
            "Ran  tests",
            "Tests: ,,,; total",
            "--- FAIL:",
            "FAILED",
            "\u{fffd}\u{fffd}\0\0 ✕",
        ] {
            let _ = parse_output(text);
        }
        assert!(parse_output("make: *** Error 1\nsomething broke\n").is_none());
    }

    #[test]
    fn summary_lines_of_each_runner() {
        let text = "x\n\u{1b}[31m===== 4 failed, 47 passed in 1.20s =====\u{1b}[0m\nRan 51 tests in 0.3s\n\nFAILED (failures=4, errors=1)\ntest result: FAILED. 1 passed; 1 failed\nok  \tpkg\t0.1s\nTests:       1 failed, 1 total\nFAILED tests/a.py::t - x\nOK then\n";
        assert_eq!(
            summary_lines(text, 10),
            [
                "===== 4 failed, 47 passed in 1.20s =====",
                "Ran 51 tests in 0.3s",
                "FAILED (failures=4, errors=1)",
                "test result: FAILED. 1 passed; 1 failed",
                "ok  \tpkg\t0.1s",
                "Tests:       1 failed, 1 total"
            ]
        );
        assert_eq!(summary_lines(text, 1), ["Tests:       1 failed, 1 total"]);
    }

    #[test]
    fn counts_reads_number_word_pairs() {
        assert_eq!(
            counts("3 passed; 1 failed; x; 0 ignored"),
            vec![(3, "passed"), (1, "failed"), (0, "ignored")]
        );
    }
}
