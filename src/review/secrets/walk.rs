//! The one pass over a whole text that finds the lines worth scanning
//! ([`Scanner::scan_text`]): those that name a rule's keyword or hold a run of
//! [`entropy::MIN_LEN`] token characters. Every byte of every file a scan reads goes
//! through it, so it is built for speed:
//!
//! - the keyword automaton (a DFA, flat: [`super::table`]) is stepped by hand, a table
//!   lookup per byte, and a match state names the rules of every keyword ending there, so a
//!   line is never searched again for its keywords;
//! - the text is cut in two at a line end and both halves are walked side by side: each
//!   step waits on the previous step of its own half only, so the two halves' lookups
//!   overlap instead of queueing. No keyword holds a line end, so a half starting at a
//!   line start finds just what one walk of the whole would.

use super::table::{Steps, Table};
use super::{Scanner, TOKEN_BYTES, entropy};

/// A line the walk keeps; its rules are a range of the walk's rule list.
pub(super) struct Walked<'t> {
    pub number: u32,
    pub text: &'t str,
    pub rules: std::ops::Range<usize>,
    pub long_run: bool,
}

impl Scanner {
    /// The lines of `text` (numbered from 1, without their line ends) that name a keyword
    /// or hold a run of [`entropy::MIN_LEN`] token characters, with the rules of the
    /// keywords each names (sorted, once each) as a range of the second vector.
    pub(super) fn lines_to_scan<'t>(&self, text: &'t str) -> (Vec<Walked<'t>>, Vec<usize>) {
        let (first, second) = halves(text);
        let (mut first, mut second) = (Walk::new(first), Walk::new(second));
        let (table, steps) = (&self.table, self.table.steps());
        // each half's automaton state and run: plain values, so they stay in registers
        let (mut state_a, mut state_b) = (steps.start, steps.start);
        let (mut run_a, mut run_b) = (Run::NONE, Run::NONE);
        let (a, b) = (first.text.as_bytes(), second.text.as_bytes());
        for (at, (&byte_a, &byte_b)) in a.iter().zip(b).enumerate() {
            (state_a, run_a) = first.take(table, steps, (state_a, run_a), at, byte_a);
            (state_b, run_b) = second.take(table, steps, (state_b, run_b), at, byte_b);
        }
        let both = a.len().min(b.len());
        for (at, &byte) in a.iter().enumerate().skip(both) {
            (state_a, run_a) = first.take(table, steps, (state_a, run_a), at, byte);
        }
        for (at, &byte) in b.iter().enumerate().skip(both) {
            (state_b, run_b) = second.take(table, steps, (state_b, run_b), at, byte);
        }
        let (mut lines, mut rules, lines_before) = first.finish(run_a);
        let (more_lines, more_rules, _) = second.finish(run_b);
        let rules_before = rules.len();
        lines.extend(more_lines.into_iter().map(|line| Walked {
            number: line.number + lines_before,
            rules: line.rules.start + rules_before..line.rules.end + rules_before,
            ..line
        }));
        rules.extend(more_rules);
        (lines, rules)
    }
}

/// `text` cut in two at the first line end past its middle (the second half may be empty).
fn halves(text: &str) -> (&str, &str) {
    let middle = text.len() / 2;
    let cut = text.as_bytes()[middle..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |at| middle + at + 1);
    text.split_at(cut)
}

/// The token characters in a row so far on a line, and (its top bit) whether the line had
/// [`entropy::MIN_LEN`] of them: one word, one register.
#[derive(Clone, Copy)]
struct Run(u32);

impl Run {
    const NONE: Self = Self(0);
    const LONG: u32 = 1 << 31;

    #[inline(always)]
    fn after(self, byte: u8) -> Self {
        let mut run = if TOKEN_BYTES[usize::from(byte)] {
            self.0 + 1
        } else {
            self.0 & Self::LONG
        };
        if run & !Self::LONG >= entropy::MIN_LEN as u32 {
            // stop counting: the line has its long run
            run = Self::LONG;
        }
        Self(run)
    }

    fn long(self) -> bool {
        self.0 & Self::LONG != 0
    }
}

/// The walk of one part of a text that starts at a line start: the lines it keeps.
struct Walk<'t> {
    text: &'t str,
    /// The line walked (from 1), where it starts, where its rules start in `rules`.
    number: u32,
    line_start: usize,
    line_rules: usize,
    lines: Vec<Walked<'t>>,
    rules: Vec<usize>,
}

impl<'t> Walk<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            number: 1,
            line_start: 0,
            line_rules: 0,
            lines: Vec::new(),
            rules: Vec::new(),
        }
    }

    /// Take the byte at `at`, after `state` and `run`.
    #[inline(always)]
    fn take(
        &mut self,
        table: &Table,
        steps: Steps,
        (state, run): (u32, Run),
        at: usize,
        byte: u8,
    ) -> (u32, Run) {
        if byte == b'\n' {
            self.line_end(at, run.long());
            // no keyword holds a line end: every line starts the automaton afresh
            return (steps.start, Run::NONE);
        }
        let state = steps.after(state, byte);
        if steps.is_match(state) {
            self.matched(table, state);
        }
        (state, run.after(byte))
    }

    /// Note the rules of every keyword that ends in the match state `state` (overlapping
    /// ones too).
    #[inline(never)]
    fn matched(&mut self, table: &Table, state: u32) {
        self.rules.extend_from_slice(table.rules_at(state));
    }

    /// The line ends at `at`: keep it, and start the next.
    #[inline(never)]
    fn line_end(&mut self, at: usize, long_run: bool) {
        self.keep(&self.text[self.line_start..at], long_run);
        (self.number, self.line_start) = (self.number + 1, at + 1);
        self.line_rules = self.rules.len();
    }

    /// The lines kept, their rules, and how many line ends the part held.
    fn finish(mut self, run: Run) -> (Vec<Walked<'t>>, Vec<usize>, u32) {
        self.keep(&self.text[self.line_start..], run.long());
        (self.lines, self.rules, self.number - 1)
    }

    /// Keep `line`, the one just walked, when it names a keyword (its rules,
    /// `rules[line_rules..]`, are then sorted and made unique) or `long_run`.
    fn keep(&mut self, line: &'t str, long_run: bool) {
        if self.rules.len() > self.line_rules || long_run {
            sort_and_dedup_from(&mut self.rules, self.line_rules);
            self.lines.push(Walked {
                number: self.number,
                text: line.strip_suffix('\r').unwrap_or(line),
                rules: self.line_rules..self.rules.len(),
                long_run,
            });
        }
    }
}

/// Sort `list[from..]` and drop its repeats.
fn sort_and_dedup_from(list: &mut Vec<usize>, from: usize) {
    list[from..].sort_unstable();
    let mut kept = from;
    for at in from..list.len() {
        if kept == from || list[at] != list[kept - 1] {
            list[kept] = list[at];
            kept += 1;
        }
    }
    list.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_are_cut_after_a_line_end_and_join_to_the_text() {
        for text in [
            "",
            "a",
            "ab\n",
            "\n\n\n",
            "one\ntwo\nthree",
            "no line end at all",
        ] {
            let (first, second) = halves(text);
            assert_eq!(format!("{first}{second}"), text);
            assert!(second.is_empty() || first.ends_with('\n'), "{text:?}");
        }
        assert_eq!(
            halves("one\ntwo\nthree\nfour\n"),
            ("one\ntwo\nthree\n", "four\n")
        );
    }

    #[test]
    fn a_run_is_long_from_its_24th_token_character_to_the_line_end() {
        let after = |text: &str| text.bytes().fold(Run::NONE, Run::after);
        let token = "aZ9_-+/".repeat(10);
        assert!(!after(&token[..entropy::MIN_LEN - 1]).long());
        assert!(after(&token[..entropy::MIN_LEN]).long());
        // a break after it, or a second run, leaves it long
        assert!(after(&format!("{} x {}", &token[..entropy::MIN_LEN], "ab")).long());
        assert!(after(&format!("{}.{}", &token[..40], &token[..40])).long());
        // two short runs are not one long one
        assert!(!after(&format!("{}.{}", &token[..20], &token[..20])).long());
    }

    #[test]
    fn lines_found_in_two_halves_are_those_of_one_walk_numbered_alike() {
        let scanner = Scanner::shared();
        let token = "Zx9".repeat(10);
        let text =
            format!("x = 1\r\napi_key = compute()\n\nplain\nsecret = '{token}'\n{token}\nlast key");
        let (lines, rules) = scanner.lines_to_scan(&text);
        let found: Vec<(u32, &str, bool)> = lines
            .iter()
            .map(|l| (l.number, l.text, l.long_run))
            .collect();
        assert_eq!(
            found,
            [
                (2, "api_key = compute()", false),
                (5, format!("secret = '{token}'").as_str(), true),
                (6, token.as_str(), true),
                (7, "last key", false),
            ]
        );
        // each line's rules are those its keywords name, sorted and once each
        for line in &lines {
            assert_eq!(
                rules[line.rules.clone()],
                scanner.rules_named_on(line.text)[..],
                "{}",
                line.text
            );
        }
    }
}
